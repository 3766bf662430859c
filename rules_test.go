package crm

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// One rule, one place: each function below is the only implementation of its
// rule; the API and the pages both reach it through the services.

func TestCheckOpen(t *testing.T) {
	for _, s := range LeadStages {
		err := s.CheckOpen()
		var e *Error
		switch {
		case s.Final() && (!errors.As(err, &e) || e.Kind != ECONFLICT || e.Code != CodeLeadClosed):
			t.Errorf("%s: CheckOpen() = %v, want a lead_closed conflict", s, err)
		case s.Final() && e.Message != "the lead is "+string(s)+": a closed lead can no longer change":
			t.Errorf("%s: message %q", s, e.Message)
		case !s.Final() && err != nil:
			t.Errorf("%s: CheckOpen() = %v, want nil", s, err)
		}
	}
}

func TestNormalizeID(t *testing.T) {
	for in, want := range map[string]string{
		"0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B":     "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
		"  0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\n": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
		"":    "",
		"x y": "x y",
	} {
		if got := NormalizeID(in); got != want {
			t.Errorf("NormalizeID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLeadInputNormalize(t *testing.T) {
	in := LeadInput{Source: SourceManual, Name: "  Ann ", Email: " Ann.Lee@Example.COM\t", Phone: " +380 44 ", Company: " Acme ",
		Note: "  kept as typed  ", BusinessDomain: " first ", OwnerID: " 0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B "}
	in.Normalize()
	want := LeadInput{Source: SourceManual, Name: "Ann", Email: "Ann.Lee@Example.COM", Phone: "+380 44", Company: "Acme",
		Note: "  kept as typed  ", BusinessDomain: "first", OwnerID: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}
	if d := cmp.Diff(want, in); d != "" {
		t.Errorf("Normalize (-want +got):\n%s", d)
	}
	if err := in.Validate([]string{"first"}); err != nil {
		t.Errorf("a trimmed email with capitals must be valid: %v", err)
	}

	email, owner, note := "  x@example.com ", " ABC ", " n "
	u := LeadUpdate{Email: &email, OwnerID: &owner, Note: &note}
	u.Normalize()
	if *u.Email != "x@example.com" || *u.OwnerID != "abc" || *u.Note != " n " || u.Name != nil {
		t.Errorf("LeadUpdate.Normalize: email %q owner %q note %q name %v", *u.Email, *u.OwnerID, *u.Note, u.Name)
	}
}

func TestOwnerScope(t *testing.T) {
	me, other := NewID(), NewID()
	manager := Actor{UserID: me, Role: RoleManager}
	for _, tc := range []struct {
		name      string
		a         Actor
		asked     string
		wantOwner string
		wantOK    bool
	}{
		{"manager, nothing asked: own", manager, "", me, true},
		{"manager asks own", manager, me, me, true},
		{"manager asks own in capitals", manager, " " + upper(me), me, true},
		{"manager asks another's: nothing", manager, other, "", false},
		{"senior, nothing asked: all", Actor{UserID: me, Role: RoleSeniorManager}, "", "", true},
		{"senior asks another's", Actor{UserID: me, Role: RoleSeniorManager}, other, other, true},
		{"admin asks another's", Actor{UserID: me, Role: RoleAdmin}, upper(other), other, true},
	} {
		owner, ok := ownerScope(tc.a, tc.asked)
		if owner != tc.wantOwner || ok != tc.wantOK {
			t.Errorf("%s: ownerScope = %q, %v; want %q, %v", tc.name, owner, ok, tc.wantOwner, tc.wantOK)
		}
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
