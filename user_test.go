package crm

import (
	"strings"
	"testing"
)

func TestUserInputValidate(t *testing.T) {
	pw := "ten chars!"
	for _, tc := range []struct {
		name string
		in   UserInput
		want []string
	}{
		{"valid", UserInput{Email: "ann@example.com", Name: "Ann", Role: RoleManager, Password: pw}, nil},
		{"each role", UserInput{Email: "a@example.com", Role: RoleSeniorManager, Password: pw}, nil},
		{"admin", UserInput{Email: "a@example.com", Role: RoleAdmin, Password: pw}, nil},
		{"no email", UserInput{Role: RoleAdmin, Password: pw}, []string{"email"}},
		{"bad email", UserInput{Email: "ann", Role: RoleAdmin, Password: pw}, []string{"email"}},
		{"email with name", UserInput{Email: "Ann <ann@example.com>", Role: RoleAdmin, Password: pw}, []string{"email"}},
		{"email too long", UserInput{Email: strings.Repeat("a", 190) + "@example.com", Role: RoleAdmin, Password: pw}, []string{"email"}},
		{"name too long", UserInput{Email: "a@example.com", Name: strings.Repeat("н", 201), Role: RoleAdmin, Password: pw}, []string{"name"}},
		{"no role", UserInput{Email: "a@example.com", Password: pw}, []string{"role"}},
		{"unknown role", UserInput{Email: "a@example.com", Role: "root", Password: pw}, []string{"role"}},
		{"password too short", UserInput{Email: "a@example.com", Role: RoleAdmin, Password: "nine char"}, []string{"password"}},
		{"password of ten runes", UserInput{Email: "a@example.com", Role: RoleAdmin, Password: "пароль1234"}, nil},
		{"password too long", UserInput{Email: "a@example.com", Role: RoleAdmin, Password: strings.Repeat("p", 201)}, []string{"password"}},
		{"everything wrong", UserInput{Email: "x", Name: strings.Repeat("n", 201), Role: "x", Password: ""},
			[]string{"email", "name", "role", "password"}},
	} {
		got := fields(t, tc.in.Validate())
		if !sameSet(got, tc.want) {
			t.Errorf("%s: invalid fields %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestUserUpdateValidate(t *testing.T) {
	s := func(v string) *string { return &v }
	r := func(v Role) *Role { return &v }
	for _, tc := range []struct {
		name string
		up   UserUpdate
		want []string
	}{
		{"nothing", UserUpdate{}, nil},
		{"all valid", UserUpdate{Name: s("Ann"), Role: r(RoleAdmin), Password: s("long enough")}, nil},
		{"bad role", UserUpdate{Role: r("owner")}, []string{"role"}},
		{"short password", UserUpdate{Password: s("short")}, []string{"password"}},
		{"empty password", UserUpdate{Password: s("")}, []string{"password"}},
		{"long name", UserUpdate{Name: s(strings.Repeat("x", 201))}, []string{"name"}},
	} {
		got := fields(t, tc.up.Validate())
		if !sameSet(got, tc.want) {
			t.Errorf("%s: invalid fields %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Ann@Example.COM":    "ann@example.com",
		"  bob@example.com ": "bob@example.com",
		"":                   "",
	} {
		if got := NormalizeEmail(in); got != want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestActorCanSeeOwner(t *testing.T) {
	me, other := NewID(), NewID()
	for _, tc := range []struct {
		name  string
		a     Actor
		owner string
		want  bool
	}{
		{"manager, own", Actor{UserID: me, Role: RoleManager}, me, true},
		{"manager, other's", Actor{UserID: me, Role: RoleManager}, other, false},
		{"manager, nobody's", Actor{UserID: me, Role: RoleManager}, "", false},
		{"manager without id, nobody's", Actor{Role: RoleManager}, "", false},
		{"senior, other's", Actor{UserID: me, Role: RoleSeniorManager}, other, true},
		{"admin, nobody's", Actor{UserID: me, Role: RoleAdmin}, "", true},
		{"system", System, other, true},
		{"unknown role", Actor{UserID: me, Role: "root"}, other, false},
	} {
		if got := tc.a.CanSeeOwner(tc.owner); got != tc.want {
			t.Errorf("%s: CanSeeOwner = %v, want %v", tc.name, got, tc.want)
		}
	}
}
