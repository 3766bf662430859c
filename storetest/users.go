package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/crmleads/crm"
)

func pw(u *crm.User) string { return "password-" + u.Email }

// ignoreHash compares what the service returns (never a hash) with stored rows.
var ignoreHash = cmpopts.IgnoreFields(crm.User{}, "PasswordHash")

var userTests = []test{
	{"NoHashLeaves", func(t *testing.T, b *bundle) {
		// Every user the user service returns comes without the password hash.
		check := func(what string, us ...*crm.User) {
			t.Helper()
			for _, u := range us {
				if u == nil || u.PasswordHash != "" {
					t.Errorf("%s returned %+v, want a user without a hash", what, u)
				}
			}
		}
		admin, bg := as(b.admin), context.Background()
		u, err := b.svc.Users.CreateUser(admin, crm.UserInput{Email: "nohash@example.com", Role: crm.RoleManager, Password: "long enough pw"})
		must(t, err)
		check("CreateUser", u)
		all, err := b.svc.Users.Users(admin)
		must(t, err)
		check("Users", all...)
		team, err := b.svc.Users.Colleagues(as(b.senior))
		must(t, err)
		check("Colleagues", team...)
		me, err := b.svc.Users.Me(as(b.mgr))
		must(t, err)
		check("Me", me)
		name := "No Hash"
		up, err := b.svc.Users.UpdateUser(admin, u.ID, crm.UserUpdate{Name: &name})
		must(t, err)
		check("UpdateUser", up)
		signedIn, err := b.svc.Users.Authenticate(bg, "nohash@example.com", "long enough pw")
		must(t, err)
		check("Authenticate", signedIn)
		active, err := b.svc.Users.ActiveUser(bg, u.ID, signedIn.TokenVersion)
		must(t, err)
		check("ActiveUser", active)
		reset, err := b.svc.Users.SetPassword(sys(), "NoHash@example.com", "another long pw")
		must(t, err)
		check("SetPassword", reset)
		stored, err := b.st.User(bg, u.ID)
		must(t, err)
		if stored.PasswordHash != "h:another long pw" {
			t.Errorf("stored hash %q after SetPassword", stored.PasswordHash)
		}
	}},
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
		diff(t, "Users", want, all, ignoreHash)
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
		diff(t, "updated user", up, got, ignoreHash)
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
		if _, err := b.svc.Users.ActiveUser(bg, b.mgr.ID, 0); err != nil {
			t.Fatalf("ActiveUser: %v", err)
		}
		_, err := b.svc.Users.UpdateUser(as(b.admin), b.mgr.ID, crm.UserUpdate{Active: &no})
		must(t, err)
		_, err = b.svc.Users.ActiveUser(bg, b.mgr.ID, 1)
		wantErr(t, err, crm.EUNAUTHORIZED, crm.CodeUnauthorized)
		_, err = b.svc.Users.Authenticate(bg, b.mgr.Email, pw(b.mgr))
		wantErr(t, err, crm.EUNAUTHORIZED, crm.CodeUnauthorized)
		_, err = b.svc.Users.ActiveUser(bg, crm.NewID(), 0)
		wantErr(t, err, crm.EUNAUTHORIZED, crm.CodeUnauthorized)
		_, err = b.svc.Users.ActiveUser(bg, "not-an-id", 0)
		wantErr(t, err, crm.EUNAUTHORIZED, crm.CodeUnauthorized)
		// A deactivated user cannot be given a lead.
		_, err = b.svc.Leads.CreateLead(as(b.senior), crm.LeadInput{Source: crm.SourceManual, OwnerID: b.mgr.ID})
		wantErr(t, err, crm.EINVALID, crm.CodeValidation)
		_, err = b.svc.Users.UpdateUser(as(b.admin), b.mgr.ID, crm.UserUpdate{Active: &yes})
		must(t, err)
		u, err := b.svc.Users.ActiveUser(bg, b.mgr.ID, 1)
		must(t, err)
		if u.ID != b.mgr.ID || !u.Active {
			t.Errorf("ActiveUser = %+v", u)
		}
	}},
	{"TokenVersion", func(t *testing.T, b *bundle) {
		// Each step either ends the older tokens (raises the version) or
		// not; ActiveUser then takes only the current version.
		bg := context.Background()
		no, yes := false, true
		name, role, pass := "New Name", crm.RoleSeniorManager, "another password"
		version := 0
		for _, step := range []struct {
			name string
			do   func() error
			ends bool
		}{
			{"rename and promote", func() error {
				_, err := b.svc.Users.UpdateUser(as(b.admin), b.mgr.ID, crm.UserUpdate{Name: &name, Role: &role})
				return err
			}, false},
			{"password reset", func() error {
				_, err := b.svc.Users.UpdateUser(as(b.admin), b.mgr.ID, crm.UserUpdate{Password: &pass})
				return err
			}, true},
			{"deactivate", func() error {
				_, err := b.svc.Users.UpdateUser(as(b.admin), b.mgr.ID, crm.UserUpdate{Active: &no})
				return err
			}, true},
			{"deactivate again (no change)", func() error {
				_, err := b.svc.Users.UpdateUser(as(b.admin), b.mgr.ID, crm.UserUpdate{Active: &no})
				return err
			}, false},
			{"reactivate", func() error {
				_, err := b.svc.Users.UpdateUser(as(b.admin), b.mgr.ID, crm.UserUpdate{Active: &yes})
				return err
			}, false},
			{"sign out everywhere", func() error { return b.svc.Users.EndSessions(as(b.mgr)) }, true},
		} {
			must(t, step.do())
			got, err := b.st.User(bg, b.mgr.ID)
			must(t, err)
			if step.ends {
				version++
			}
			if got.TokenVersion != version {
				t.Fatalf("after %s: token version %d, want %d", step.name, got.TokenVersion, version)
			}
			if !got.Active {
				continue
			}
			if _, err := b.svc.Users.ActiveUser(bg, b.mgr.ID, version); err != nil {
				t.Errorf("after %s: the current version: %v", step.name, err)
			}
			if version > 0 {
				_, err := b.svc.Users.ActiveUser(bg, b.mgr.ID, version-1)
				wantErr(t, err, crm.EUNAUTHORIZED, crm.CodeUnauthorized)
			}
		}
		// Signing in gives the current version, for the new token.
		u, err := b.svc.Users.Authenticate(bg, b.mgr.Email, pass)
		must(t, err)
		if u.TokenVersion != version {
			t.Errorf("Authenticate: token version %d, want %d", u.TokenVersion, version)
		}
		// Other users keep their tokens; the system actor has none to end.
		if _, err := b.svc.Users.ActiveUser(bg, b.mgr2.ID, 0); err != nil {
			t.Errorf("another user: %v", err)
		}
		wantErr(t, b.svc.Users.EndSessions(sys()), crm.ENOTFOUND, crm.CodeNotFound)
		wantErr(t, b.svc.Users.EndSessions(bg), crm.EUNAUTHORIZED, crm.CodeUnauthorized)
	}},
	{"LoginAttempts", func(t *testing.T, b *bundle) {
		bg := context.Background()
		at := Start // not UTC: the store must compare instants, not texts in two zones
		var a []*crm.LoginAttempt
		for i := range 3 {
			a = append(a, &crm.LoginAttempt{ID: crm.NewID(), Email: "a@example.com", At: at.Add(time.Duration(i) * time.Minute)})
		}
		other := &crm.LoginAttempt{ID: crm.NewID(), Email: "b@example.com", At: at}
		must(t, b.st.InTx(bg, func(tx crm.Tx) error {
			for _, x := range append(a, other) {
				if err := tx.InsertLoginAttempt(bg, x); err != nil {
					return err
				}
			}
			return nil
		}))
		must(t, b.st.FailLoginAttempt(bg, a[1].ID))
		utc := func(xs ...*crm.LoginAttempt) []*crm.LoginAttempt {
			var out []*crm.LoginAttempt
			for _, x := range xs {
				c := *x
				c.At = c.At.UTC().Truncate(time.Microsecond)
				out = append(out, &c)
			}
			return out
		}
		failed := *a[1]
		failed.Failed = true
		for _, tc := range []struct {
			email string
			since time.Time
			want  []*crm.LoginAttempt
		}{
			{"a@example.com", at.Add(-time.Hour), utc(a[0], &failed, a[2])},
			{"a@example.com", at.Add(30 * time.Second), utc(&failed, a[2])},
			{"a@example.com", at.Add(30 * time.Second).UTC(), utc(&failed, a[2])},
			{"a@example.com", at.Add(90 * time.Second).In(time.FixedZone("W", -7*3600)), utc(a[2])},
			{"a@example.com", at.Add(3 * time.Minute), nil},
			{"b@example.com", at.Add(-time.Hour), utc(other)},
			{"c@example.com", at.Add(-time.Hour), nil},
		} {
			diff(t, fmt.Sprintf("LockLoginAttempts(%s, %v)", tc.email, tc.since), tc.want, b.attempts(t, tc.email, tc.since),
				cmpopts.EquateEmpty())
		}
		must(t, b.st.DeleteLoginAttempts(bg, []string{a[0].ID, a[2].ID, crm.NewID()}))
		diff(t, "after delete", utc(&failed), b.attempts(t, "a@example.com", at.Add(-time.Hour)))
		diff(t, "another email after delete", utc(other), b.attempts(t, "b@example.com", at.Add(-time.Hour)))
		// Attempts older than a day are forgotten when the email makes another.
		late := &crm.LoginAttempt{ID: crm.NewID(), Email: "a@example.com", At: at.Add(25 * time.Hour)}
		must(t, b.st.InTx(bg, func(tx crm.Tx) error { return tx.InsertLoginAttempt(bg, late) }))
		diff(t, "after a day", utc(late), b.attempts(t, "a@example.com", at.Add(-time.Hour)))
	}},
	{"AuthenticateThrottle", func(t *testing.T, b *bundle) {
		bg := context.Background()
		u, err := b.svc.Users.Authenticate(bg, b.mgr.Email, pw(b.mgr))
		must(t, err)
		diff(t, "authenticated user", b.mgr, u, ignoreHash)

		// Two failures, then a success clears them.
		for range 2 {
			_, err := b.svc.Users.Authenticate(bg, b.mgr.Email, "wrong password")
			wantErr(t, err, crm.EUNAUTHORIZED, crm.CodeUnauthorized)
		}
		if n := len(b.attempts(t, b.mgr.Email, Start.Add(-time.Hour))); n != 2 {
			t.Errorf("%d failures recorded, want 2", n)
		}
		_, err = b.svc.Users.Authenticate(bg, b.mgr.Email, pw(b.mgr))
		must(t, err)
		if n := len(b.attempts(t, b.mgr.Email, Start.Add(-time.Hour))); n != 0 {
			t.Errorf("%d attempts after a success, want 0", n)
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
	{"ChangePasswordThrottle", func(t *testing.T, b *bundle) {
		// A wrong current password is a failed sign-in at the user's email:
		// an open session cannot be used to guess the password faster than
		// the sign-in form allows.
		bg := context.Background()
		for range crm.MaxLoginFailures {
			err := b.svc.Users.ChangePassword(as(b.mgr), "not the password", "a new long password")
			wantErr(t, err, crm.EFORBIDDEN, crm.CodeWrongPassword)
		}
		err := b.svc.Users.ChangePassword(as(b.mgr), pw(b.mgr), "a new long password")
		e := wantErr(t, err, crm.ETOOMANY, crm.CodeTooManyAttempts)
		if e.RetryAfter <= 0 {
			t.Errorf("RetryAfter = %v", e.RetryAfter)
		}
		// The lock is the email's: signing in is locked too, and nothing changed.
		_, err = b.svc.Users.Authenticate(bg, b.mgr.Email, pw(b.mgr))
		wantErr(t, err, crm.ETOOMANY, crm.CodeTooManyAttempts)
		b.clock.Advance(crm.FirstLockout + time.Second)
		_, err = b.svc.Users.Authenticate(bg, b.mgr.Email, pw(b.mgr))
		must(t, err)

		// A too short new password is refused before anything is counted.
		for range crm.MaxLoginFailures + 1 {
			err := b.svc.Users.ChangePassword(as(b.mgr), "not the password", "x")
			wantErr(t, err, crm.EINVALID, "")
		}
		// A wrong guess counts, the right password clears it, as at sign-in.
		err = b.svc.Users.ChangePassword(as(b.mgr), "not the password", "a new long password")
		wantErr(t, err, crm.EFORBIDDEN, crm.CodeWrongPassword)
		if n := len(b.attempts(t, b.mgr.Email, Start.Add(-time.Hour))); n != 1 {
			t.Errorf("%d attempts after one wrong current password, want 1", n)
		}
		must(t, b.svc.Users.ChangePassword(as(b.mgr), pw(b.mgr), "a new long password"))
		if n := len(b.attempts(t, b.mgr.Email, Start.Add(-time.Hour))); n != 0 {
			t.Errorf("%d attempts after the change, want 0", n)
		}
	}},
	{"ThrottleBurstWrong", func(t *testing.T, b *bundle) {
		// 100 parallel wrong guesses: 5 are checked, 95 refused unchecked.
		b.clock.SetStep(time.Millisecond) // they arrive together
		g := newGate(100)
		svc := b.usersWith(g)
		errs := parallel(g.n, func(int) error {
			defer g.settle()
			_, err := svc.Authenticate(context.Background(), b.mgr.Email, "a wrong guess")
			return err
		})
		if g.compares != crm.MaxLoginFailures {
			t.Errorf("%d passwords compared in a burst of %d, want %d", g.compares, g.n, crm.MaxLoginFailures)
		}
		diff(t, "outcomes", map[string]int{crm.EUNAUTHORIZED: crm.MaxLoginFailures, crm.ETOOMANY: g.n - crm.MaxLoginFailures}, kinds(errs))
		_, err := b.svc.Users.Authenticate(context.Background(), b.mgr.Email, pw(b.mgr))
		wantErr(t, err, crm.ETOOMANY, crm.CodeTooManyAttempts)
	}},
	{"ThrottleBurstWithRightPassword", func(t *testing.T, b *bundle) {
		// The right password is checked first, and is still being checked
		// while 99 wrong guesses arrive: 4 of them are checked with it, 95
		// are refused, and its success forgives none of the 4 (they were
		// running when it began).
		b.clock.SetStep(time.Millisecond) // they arrive together
		g := newGate(100)
		svc := b.usersWith(g)
		right := make(chan error, 1)
		go func() {
			defer g.settle()
			_, err := svc.Authenticate(context.Background(), b.mgr.Email, pw(b.mgr))
			right <- err
		}()
		<-g.entered // the right password is being checked
		errs := parallel(g.n-1, func(int) error {
			defer g.settle()
			_, err := svc.Authenticate(context.Background(), b.mgr.Email, "a wrong guess")
			return err
		})
		must(t, <-right)
		if g.compares != crm.MaxLoginFailures {
			t.Errorf("%d passwords compared in a burst of %d, want %d", g.compares, g.n, crm.MaxLoginFailures)
		}
		diff(t, "outcomes of the wrong guesses",
			map[string]int{crm.EUNAUTHORIZED: crm.MaxLoginFailures - 1, crm.ETOOMANY: g.n - crm.MaxLoginFailures}, kinds(errs))
		got := b.attempts(t, b.mgr.Email, Start.Add(-time.Hour))
		if len(got) != crm.MaxLoginFailures-1 {
			t.Errorf("%d attempts counted after the burst, want the %d failures", len(got), crm.MaxLoginFailures-1)
		}
		for _, a := range got {
			if !a.Failed {
				t.Errorf("attempt %+v not marked failed", a)
			}
		}
	}},
}
