package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/crmleads/crm"
)

func userID(u *crm.User) string { return u.ID }

func pw(u *crm.User) string { return "password-" + u.Email }

var userTests = []test{
	{"RoundTrip", func(t *testing.T, b *bundle) {
		bg := context.Background()
		got, err := b.st.User(bg, b.mgr.ID)
		must(t, err)
		diff(t, "User", b.mgr, got)
		wantUTC(t, "user CreatedAt", got.CreatedAt)
		if got.PasswordHash != "h:"+pw(b.mgr) || !got.Active || got.Role != crm.RoleManager {
			t.Errorf("user = %+v", got)
		}
		byEmail, err := b.st.UserByEmail(bg, "manager@example.com")
		must(t, err)
		diff(t, "UserByEmail", b.mgr, byEmail)
		all, err := b.svc.Users.Users(as(b.admin))
		must(t, err)
		want := []*crm.User{b.admin, b.senior, b.mgr, b.mgr2}
		byID := func(a, b *crm.User) int {
			if a.ID < b.ID {
				return -1
			}
			if a.ID > b.ID {
				return 1
			}
			return 0
		}
		slices.SortFunc(want, byID)
		slices.SortFunc(all, byID)
		diff(t, "Users", want, all)
		n, err := b.st.CountUsers(bg)
		must(t, err)
		if n != 4 {
			t.Errorf("CountUsers = %d, want 4", n)
		}
		_, err = b.svc.Users.Users(as(b.senior))
		wantErr(t, err, crm.EFORBIDDEN, crm.CodeForbidden)

		name, role, pass := "Renamed Person", crm.RoleSeniorManager, "a new password"
		up, err := b.svc.Users.UpdateUser(as(b.admin), b.mgr.ID, crm.UserUpdate{Name: &name, Role: &role, Password: &pass})
		must(t, err)
		got, err = b.st.User(bg, b.mgr.ID)
		must(t, err)
		diff(t, "updated user", up, got)
		if got.Name != name || got.Role != role || got.PasswordHash != "h:"+pass || !got.UpdatedAt.After(got.CreatedAt) {
			t.Errorf("updated user = %+v", got)
		}
		if _, err := b.svc.Users.Authenticate(bg, b.mgr.Email, pass); err != nil {
			t.Errorf("Authenticate with the new password: %v", err)
		}
	}},
	{"EmailUnique", func(t *testing.T, b *bundle) {
		ctx := sys()
		u, err := b.svc.Users.CreateUser(ctx, crm.UserInput{Email: "New.Person@Example.com", Role: crm.RoleManager, Password: "long enough pw"})
		must(t, err)
		if u.Email != "new.person@example.com" {
			t.Errorf("email = %q, want lower case", u.Email)
		}
		_, err = b.svc.Users.CreateUser(ctx, crm.UserInput{Email: "NEW.PERSON@example.COM", Role: crm.RoleAdmin, Password: "long enough pw"})
		wantErr(t, err, crm.ECONFLICT, crm.CodeEmailTaken)
		// The store itself refuses the duplicate, whatever the service checks.
		now := time.Now().UTC().Truncate(time.Microsecond)
		err = b.st.InTx(context.Background(), func(tx crm.Tx) error {
			return tx.InsertUser(context.Background(), &crm.User{ID: crm.NewID(), Email: "new.person@example.com", Role: crm.RoleManager,
				Active: true, PasswordHash: "h:x", CreatedAt: now, UpdatedAt: now})
		})
		wantErr(t, err, crm.ECONFLICT, crm.CodeEmailTaken)
		n, err := b.st.CountUsers(context.Background())
		must(t, err)
		if n != 5 {
			t.Errorf("CountUsers = %d, want 5", n)
		}
		if _, err := b.svc.Users.Authenticate(context.Background(), "  NEW.Person@example.com ", "long enough pw"); err != nil {
			t.Errorf("Authenticate with another case: %v", err)
		}
	}},
	{"LastAdmin", func(t *testing.T, b *bundle) {
		ctx := as(b.admin)
		mgr, adm, no, yes := crm.RoleManager, crm.RoleAdmin, false, true
		_, err := b.svc.Users.UpdateUser(ctx, b.admin.ID, crm.UserUpdate{Role: &mgr})
		wantErr(t, err, crm.ECONFLICT, crm.CodeLastAdmin)
		_, err = b.svc.Users.UpdateUser(ctx, b.admin.ID, crm.UserUpdate{Active: &no})
		wantErr(t, err, crm.ECONFLICT, crm.CodeLastAdmin)
		got, err := b.st.User(context.Background(), b.admin.ID)
		must(t, err)
		diff(t, "last admin after refused changes", b.admin, got)
		// Setting what is already there is no change.
		_, err = b.svc.Users.UpdateUser(ctx, b.admin.ID, crm.UserUpdate{Role: &adm, Active: &yes})
		must(t, err)

		// An inactive admin does not count.
		third, err := b.svc.Users.CreateUser(ctx, crm.UserInput{Email: "third@example.com", Role: crm.RoleAdmin, Password: "long enough pw"})
		must(t, err)
		_, err = b.svc.Users.UpdateUser(ctx, third.ID, crm.UserUpdate{Active: &no})
		must(t, err)
		_, err = b.svc.Users.UpdateUser(ctx, b.admin.ID, crm.UserUpdate{Role: &mgr})
		wantErr(t, err, crm.ECONFLICT, crm.CodeLastAdmin)

		// With a second active admin, the first may step down; then the second is the last.
		_, err = b.svc.Users.UpdateUser(ctx, b.senior.ID, crm.UserUpdate{Role: &adm})
		must(t, err)
		_, err = b.svc.Users.UpdateUser(ctx, b.admin.ID, crm.UserUpdate{Role: &mgr})
		must(t, err)
		_, err = b.svc.Users.UpdateUser(sys(), b.senior.ID, crm.UserUpdate{Active: &no})
		wantErr(t, err, crm.ECONFLICT, crm.CodeLastAdmin)
		n := 0
		all, err := b.st.Users(context.Background())
		must(t, err)
		for _, u := range all {
			if u.Role == crm.RoleAdmin && u.Active {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d active admins, want 1", n)
		}
	}},
	{"Deactivated", func(t *testing.T, b *bundle) {
		bg := context.Background()
		no, yes := false, true
		if _, err := b.svc.Users.ActiveUser(bg, b.mgr.ID); err != nil {
			t.Fatalf("ActiveUser: %v", err)
		}
		_, err := b.svc.Users.UpdateUser(as(b.admin), b.mgr.ID, crm.UserUpdate{Active: &no})
		must(t, err)
		_, err = b.svc.Users.ActiveUser(bg, b.mgr.ID)
		wantErr(t, err, crm.EUNAUTHORIZED, crm.CodeUnauthorized)
		_, err = b.svc.Users.Authenticate(bg, b.mgr.Email, pw(b.mgr))
		wantErr(t, err, crm.EUNAUTHORIZED, crm.CodeUnauthorized)
		_, err = b.svc.Users.ActiveUser(bg, crm.NewID())
		wantErr(t, err, crm.EUNAUTHORIZED, crm.CodeUnauthorized)
		_, err = b.svc.Users.ActiveUser(bg, "not-an-id")
		wantErr(t, err, crm.EUNAUTHORIZED, crm.CodeUnauthorized)
		// A deactivated user cannot be given a lead.
		_, err = b.svc.Leads.CreateLead(as(b.senior), crm.LeadInput{Source: crm.SourceManual, OwnerID: b.mgr.ID})
		wantErr(t, err, crm.EINVALID, crm.CodeValidation)
		_, err = b.svc.Users.UpdateUser(as(b.admin), b.mgr.ID, crm.UserUpdate{Active: &yes})
		must(t, err)
		u, err := b.svc.Users.ActiveUser(bg, b.mgr.ID)
		must(t, err)
		if u.ID != b.mgr.ID || !u.Active {
			t.Errorf("ActiveUser = %+v", u)
		}
	}},
	{"LoginFailures", func(t *testing.T, b *bundle) {
		bg := context.Background()
		at := Start // not UTC: the store must compare instants, not texts in two zones
		for i := range 3 {
			must(t, b.st.RecordLoginFailure(bg, "a@example.com", at.Add(time.Duration(i)*time.Minute)))
		}
		must(t, b.st.RecordLoginFailure(bg, "b@example.com", at))
		count := func(email string, since time.Time) int {
			t.Helper()
			n, err := b.st.LoginFailures(bg, email, since)
			must(t, err)
			return n
		}
		for _, tc := range []struct {
			email string
			since time.Time
			want  int
		}{
			{"a@example.com", at.Add(-time.Hour), 3},
			{"a@example.com", at.Add(30 * time.Second), 2},
			{"a@example.com", at.Add(30 * time.Second).UTC(), 2},
			{"a@example.com", at.Add(90 * time.Second).In(time.FixedZone("W", -7*3600)), 1},
			{"a@example.com", at.Add(3 * time.Minute), 0},
			{"b@example.com", at.Add(-time.Hour), 1},
			{"c@example.com", at.Add(-time.Hour), 0},
		} {
			if got := count(tc.email, tc.since); got != tc.want {
				t.Errorf("LoginFailures(%s, %v) = %d, want %d", tc.email, tc.since, got, tc.want)
			}
		}
		must(t, b.st.ClearLoginFailures(bg, "a@example.com"))
		if n := count("a@example.com", at.Add(-time.Hour)); n != 0 {
			t.Errorf("after clear: %d failures", n)
		}
		if n := count("b@example.com", at.Add(-time.Hour)); n != 1 {
			t.Errorf("clearing a@ cleared b@: %d failures left", n)
		}
	}},
	{"AuthenticateThrottle", func(t *testing.T, b *bundle) {
		bg := context.Background()
		u, err := b.svc.Users.Authenticate(bg, b.mgr.Email, pw(b.mgr))
		must(t, err)
		diff(t, "authenticated user", b.mgr, u)

		// Two failures, then a success clears them.
		for range 2 {
			_, err := b.svc.Users.Authenticate(bg, b.mgr.Email, "wrong password")
			wantErr(t, err, crm.EUNAUTHORIZED, crm.CodeUnauthorized)
		}
		if n, _ := b.st.LoginFailures(bg, b.mgr.Email, Start.Add(-time.Hour)); n != 2 {
			t.Errorf("%d failures recorded, want 2", n)
		}
		_, err = b.svc.Users.Authenticate(bg, b.mgr.Email, pw(b.mgr))
		must(t, err)
		if n, _ := b.st.LoginFailures(bg, b.mgr.Email, Start.Add(-time.Hour)); n != 0 {
			t.Errorf("%d failures after a success, want 0", n)
		}

		// Five failures lock the email out, even with the right password.
		for range crm.MaxLoginFailures {
			_, err := b.svc.Users.Authenticate(bg, b.mgr.Email, "wrong password")
			wantErr(t, err, crm.EUNAUTHORIZED, crm.CodeUnauthorized)
		}
		_, err = b.svc.Users.Authenticate(bg, "MANAGER@example.com", pw(b.mgr))
		e := wantErr(t, err, crm.ETOOMANY, crm.CodeTooManyAttempts)
		if e.RetryAfter <= 0 {
			t.Errorf("RetryAfter = %v", e.RetryAfter)
		}
		// Another email is not affected.
		_, err = b.svc.Users.Authenticate(bg, b.mgr2.Email, pw(b.mgr2))
		must(t, err)
		// Unknown emails are throttled too.
		for range crm.MaxLoginFailures {
			_, err := b.svc.Users.Authenticate(bg, "ghost@example.com", "whatever it is")
			wantErr(t, err, crm.EUNAUTHORIZED, crm.CodeUnauthorized)
		}
		_, err = b.svc.Users.Authenticate(bg, "ghost@example.com", "whatever it is")
		wantErr(t, err, crm.ETOOMANY, crm.CodeTooManyAttempts)

		// Once the window has passed, the right password works again.
		b.clock.Advance(crm.LoginWindow + time.Minute)
		_, err = b.svc.Users.Authenticate(bg, b.mgr.Email, pw(b.mgr))
		must(t, err)
	}},
}
