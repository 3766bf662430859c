package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/crmleads/crm"
)

// hostileTests are the holes an outside review found (issue 13 §4), closed
// alike on both stores.
var hostileTests = []test{
	{"SignInLockoutDoubles", func(t *testing.T, b *bundle) {
		bg := context.Background()
		fail := func(want string) *crm.Error {
			t.Helper()
			_, err := b.svc.Users.Authenticate(bg, b.mgr.Email, "wrong password")
			if want == crm.EUNAUTHORIZED {
				return wantErr(t, err, crm.EUNAUTHORIZED, crm.CodeUnauthorized)
			}
			return wantErr(t, err, crm.ETOOMANY, crm.CodeTooManyAttempts)
		}
		for range crm.MaxLoginFailures {
			fail(crm.EUNAUTHORIZED)
		}
		// Each further failure doubles the lock: 30 s, 60 s, 120 s, ... up
		// to 15 minutes, and nothing is compared while it holds.
		lock := crm.FirstLockout
		for round := range 8 {
			e := fail(crm.ETOOMANY)
			// The clock gives one second per reading: the last failure was
			// one second before this refusal.
			if want := lock - time.Second; e.RetryAfter != want {
				t.Fatalf("round %d: RetryAfter = %v, want %v", round, e.RetryAfter, want)
			}
			b.clock.Advance(e.RetryAfter - time.Second) // the next reading is the lock's end
			fail(crm.EUNAUTHORIZED)
			lock = min(2*lock, crm.LoginWindow)
		}
		if lock != crm.LoginWindow {
			t.Fatalf("the lock grew to %v, want it capped at %v", lock, crm.LoginWindow)
		}
		// The right password is refused while locked, too.
		_, err := b.svc.Users.Authenticate(bg, b.mgr.Email, pw(b.mgr))
		wantErr(t, err, crm.ETOOMANY, crm.CodeTooManyAttempts)
		// A quiet window ends the streak: the owner gets in.
		b.clock.Advance(crm.LoginWindow + time.Second)
		_, err = b.svc.Users.Authenticate(bg, b.mgr.Email, pw(b.mgr))
		must(t, err)
	}},
	{"SignInLimitPerClient", func(t *testing.T, b *bundle) {
		// A sprayer tries one password on many emails from one address: at
		// most MaxClientFailures attempts in 15 minutes, then 429 for every
		// email, known or not, until the oldest leaves the window.
		bg := context.Background()
		from := crm.WithClient(bg, "203.0.113.7")
		first := b.clock.Peek()
		for i := range crm.MaxClientFailures {
			email := []string{"ghost", "spray"}[i%2] + string(rune('a'+i)) + "@example.com"
			_, err := b.svc.Users.Authenticate(from, email, "Winter2026!")
			wantErr(t, err, crm.EUNAUTHORIZED, crm.CodeUnauthorized)
		}
		_, err := b.svc.Users.Authenticate(from, b.mgr.Email, "Winter2026!")
		e := wantErr(t, err, crm.ETOOMANY, crm.CodeTooManyAttempts)
		now := first.Add(time.Duration(crm.MaxClientFailures) * time.Second)
		if want := first.Add(crm.LoginWindow).Sub(now); e.RetryAfter != want {
			t.Errorf("RetryAfter = %v, want %v (when the first attempt leaves the window)", e.RetryAfter, want)
		}
		// The right password from that address is refused too; from another
		// address (or with none) it works: the limit is per client.
		_, err = b.svc.Users.Authenticate(from, b.mgr2.Email, pw(b.mgr2))
		wantErr(t, err, crm.ETOOMANY, crm.CodeTooManyAttempts)
		_, err = b.svc.Users.Authenticate(crm.WithClient(bg, "198.51.100.1"), b.mgr2.Email, pw(b.mgr2))
		must(t, err)
		// Once the window has passed, the client may try again.
		b.clock.Advance(crm.LoginWindow)
		_, err = b.svc.Users.Authenticate(from, b.mgr.Email, pw(b.mgr))
		must(t, err)
	}},
	{"SignInSuccessesDoNotCount", func(t *testing.T, b *bundle) {
		// An office behind one address signs in all day: successes leave no
		// attempt behind, so they never reach the client's limit.
		from := crm.WithClient(context.Background(), "192.0.2.10")
		for range 3 * crm.MaxClientFailures {
			_, err := b.svc.Users.Authenticate(from, b.mgr.Email, pw(b.mgr))
			must(t, err)
		}
		var n int
		must(t, b.st.InTx(context.Background(), func(tx crm.Tx) error {
			got, err := tx.LockClientAttempts(context.Background(), "192.0.2.10", Start.Add(-time.Hour))
			n = len(got)
			return err
		}))
		if n != 0 {
			t.Errorf("%d attempts kept for the client after successes only, want 0", n)
		}
	}},
	{"BadTextRefused", func(t *testing.T, b *bundle) {
		// NUL and invalid UTF-8 are refused by the domain before either
		// store sees them (SQLite would store them, PostgreSQL would fail).
		ctx := as(b.mgr)
		l := b.newLead(t, ctx, crm.LeadInput{Source: crm.SourceManual, Name: "Olena"})
		for _, bad := range []string{"a\x00b", "caf\xe9", "\xff", "ok\x00"} {
			_, err := b.svc.Leads.CreateLead(ctx, crm.LeadInput{Source: crm.SourceManual, Name: bad})
			e := wantErr(t, err, crm.EINVALID, crm.CodeValidation)
			diff(t, "fields", []crm.FieldError{{Field: "name", Message: crm.MsgBadText}}, e.Fields)
			_, err = b.svc.Leads.CreateLead(ctx, crm.LeadInput{Source: crm.SourceManual, Note: bad})
			wantErr(t, err, crm.EINVALID, crm.CodeValidation)
			_, err = b.svc.Leads.UpdateLead(ctx, l.ID, crm.LeadUpdate{Company: &bad})
			wantErr(t, err, crm.EINVALID, crm.CodeValidation)
			_, _, err = b.svc.Leads.Leads(ctx, crm.LeadFilter{Q: bad})
			e = wantErr(t, err, crm.EINVALID, crm.CodeValidation)
			diff(t, "q fields", []crm.FieldError{{Field: "q", Message: crm.MsgBadText}}, e.Fields)
			_, err = b.svc.Leads.LogActivity(ctx, l.ID, crm.ActivityInput{Kind: crm.ActivityNote, Text: bad})
			wantErr(t, err, crm.EINVALID, crm.CodeValidation)
			_, err = b.svc.Leads.CreateTask(ctx, l.ID, crm.TaskInput{Title: bad, DueAt: Start.Add(time.Hour)})
			wantErr(t, err, crm.EINVALID, crm.CodeValidation)
			_, err = b.svc.Leads.ChangeStage(ctx, l.ID, crm.StageChange{Stage: crm.LeadLost, LostReason: bad})
			wantErr(t, err, crm.EINVALID, crm.CodeValidation)
			_, err = b.svc.Leads.SaveFilter(ctx, bad, "stage=new")
			wantErr(t, err, crm.EINVALID, crm.CodeValidation)
			_, err = b.svc.Users.CreateUser(sys(), crm.UserInput{Email: "x@example.com", Name: bad, Role: crm.RoleManager, Password: "long enough pw"})
			wantErr(t, err, crm.EINVALID, crm.CodeValidation)
			_, err = b.svc.Users.Authenticate(context.Background(), b.mgr.Email, bad)
			wantErr(t, err, crm.EINVALID, crm.CodeValidation)
		}
		// Nothing was written: the lead is as created, and alone.
		got, _, err := b.svc.Leads.Leads(ctx, crm.LeadFilter{})
		must(t, err)
		if len(got) != 1 || got[0].Company != "" || got[0].Stage != crm.LeadNew {
			t.Errorf("leads after refused input = %+v, want the one lead unchanged", got)
		}
	}},
}
