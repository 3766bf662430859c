package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/crmleads/crm"
)

// wantOneWinner fails unless exactly one of errs is nil and every other is a
// conflict. An internal error (a raw deadlock or serialization failure, say)
// is a failure: the client would see a 500 for a plain conflict.
func wantOneWinner(t *testing.T, errs []error) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case crm.ErrorKind(err) != crm.ECONFLICT:
			t.Errorf("loser error %v: kind %s, want %s", err, crm.ErrorKind(err), crm.ECONFLICT)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d succeeded, want exactly 1", wins, len(errs))
	}
}

func wantNoErrors(t *testing.T, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v (kind %s)", i, err, crm.ErrorKind(err))
		}
	}
}

var raceTests = []test{
	{"ConcurrentTransfer", func(t *testing.T, b *bundle) {
		for round := range 3 {
			l := b.eligible(t)
			errs := parallel(8, func(i int) error {
				u := []*crm.User{b.mgr, b.senior}[i%2]
				_, err := b.svc.Leads.Transfer(as(u), l.ID)
				return err
			})
			wantOneWinner(t, errs)
			all, _, err := b.svc.Leads.Sales(as(b.admin), crm.SaleFilter{})
			must(t, err)
			n := 0
			for _, s := range all {
				if s.LeadID == l.ID {
					n++
				}
			}
			if n != 1 {
				t.Errorf("round %d: %d sales for the lead, want 1", round, n)
			}
			if got := b.lead(t, l.ID).Stage; got != crm.LeadTransferred {
				t.Errorf("round %d: stage %s", round, got)
			}
			if n := slices.Index(actions(b.trail(t, l.ID)), crm.ActionLeadTransferred); n < 0 {
				t.Errorf("round %d: no transfer event", round)
			}
			tr := 0
			for _, a := range actions(b.trail(t, l.ID)) {
				if a == crm.ActionLeadTransferred {
					tr++
				}
			}
			if tr != 1 {
				t.Errorf("round %d: %d transfer events, want 1", round, tr)
			}
		}
	}},
	{"ConcurrentMoveLead", func(t *testing.T, b *bundle) {
		for round := range 3 {
			l := b.leadAt(t, crm.LeadNew)
			errs := parallel(16, func(int) error {
				_, err := b.svc.Leads.MoveLead(as(b.mgr), l.ID, crm.LeadContacted)
				return err
			})
			wantOneWinner(t, errs)
			if got := b.lead(t, l.ID).Stage; got != crm.LeadContacted {
				t.Errorf("round %d: stage %s", round, got)
			}
			if got := actions(b.trail(t, l.ID)); !sameStrings(got, []string{crm.ActionLeadCreated, crm.ActionLeadStage}) {
				t.Errorf("round %d: trail %v, want one creation and one stage change", round, got)
			}
		}
	}},
	{"ConcurrentIncrementMessages", func(t *testing.T, b *bundle) {
		l := b.leadAt(t, crm.LeadNew) // messages_count 3
		errs := parallel(20, func(i int) error {
			u := []*crm.User{b.mgr, b.senior}[i%2]
			_, err := b.svc.Leads.IncrementMessages(as(u), l.ID)
			return err
		})
		wantNoErrors(t, errs)
		if got := b.lead(t, l.ID).MessagesCount; got != 23 {
			t.Errorf("messages_count = %d after 20 increments of 3, want 23", got)
		}
		var tos []float64
		for _, e := range b.trail(t, l.ID) {
			if e.Action == crm.ActionLeadMessages {
				if e.Data["to"] != e.Data["from"].(float64)+1 {
					t.Errorf("increment event %v", e.Data)
				}
				tos = append(tos, e.Data["to"].(float64))
			}
		}
		slices.Sort(tos)
		var want []float64
		for i := range 20 {
			want = append(want, float64(4+i))
		}
		diff(t, "increment events", want, tos)
	}},
	{"ConcurrentSetAndIncrementMessages", func(t *testing.T, b *bundle) {
		// Sets race with increments. Each change is recorded with what it saw
		// and stamped under the row lock: if no update was lost, in time order
		// each change starts from where the previous one left the count.
		l := b.leadAt(t, crm.LeadNew) // messages_count 3
		errs := parallel(20, func(i int) error {
			var err error
			if i%2 == 0 {
				// Far apart, so that no set is a no-op (which records nothing).
				_, err = b.svc.Leads.SetMessages(as(b.mgr), l.ID, 1000*(i+1))
			} else {
				_, err = b.svc.Leads.IncrementMessages(as(b.mgr), l.ID)
			}
			return err
		})
		wantNoErrors(t, errs)
		final := b.lead(t, l.ID).MessagesCount
		ev := byTime(only(b.trail(t, l.ID), crm.ActionLeadMessages))
		if len(ev) != 20 {
			t.Errorf("%d changes recorded, want 20", len(ev))
		}
		at := 3
		for _, e := range ev {
			from, to := int(e.Data["from"].(float64)), int(e.Data["to"].(float64))
			if from != at {
				t.Errorf("a change from %d to %d followed one that left %d: an update was lost", from, to, at)
			}
			at = to
		}
		if at != final {
			t.Errorf("the changes end at %d, the lead has %d", at, final)
		}
	}},
	{"AdminsDemoteEachOther", func(t *testing.T, b *bundle) {
		// b.admin and b.senior are made the only two active admins, and each
		// demotes the other at the same moment: only one may win, or no admin
		// is left.
		adm, mgr := crm.RoleAdmin, crm.RoleManager
		x, y := b.admin, b.senior
		_, err := b.svc.Users.UpdateUser(as(x), y.ID, crm.UserUpdate{Role: &adm})
		must(t, err)
		for round := range 8 {
			errs := parallel(2, func(i int) error {
				actor, target := []*crm.User{x, y}[i], []*crm.User{y, x}[i]
				_, err := b.svc.Users.UpdateUser(crm.WithActor(context.Background(), crm.Actor{UserID: actor.ID, Role: crm.RoleAdmin}),
					target.ID, crm.UserUpdate{Role: &mgr})
				return err
			})
			wantOneWinner(t, errs)
			// The loser is told why, not handed a deadlock to retry.
			for _, err := range errs {
				var e *crm.Error
				if err != nil && (!errors.As(err, &e) || e.Code != crm.CodeLastAdmin) {
					t.Fatalf("round %d: the losing demotion failed with %v, want %s", round, err, crm.CodeLastAdmin)
				}
			}
			all, err := b.st.Users(context.Background())
			must(t, err)
			var admins []*crm.User
			for _, u := range all {
				if u.Role == crm.RoleAdmin && u.Active {
					admins = append(admins, u)
				}
			}
			if len(admins) != 1 {
				t.Fatalf("round %d: %d active admins after the race, want 1", round, len(admins))
			}
			// The survivor promotes the other again for the next round.
			other := x
			if admins[0].ID == x.ID {
				other = y
			}
			_, err = b.svc.Users.UpdateUser(as(admins[0]), other.ID, crm.UserUpdate{Role: &adm})
			must(t, err)
		}
	}},
	{"ConcurrentMoveSale", func(t *testing.T, b *bundle) {
		s := b.saleAt(t, crm.SaleNew)
		errs := parallel(8, func(i int) error {
			to := []crm.SaleStage{crm.SaleKYC, crm.SaleLost}[i%2]
			_, err := b.svc.Leads.MoveSale(as(b.mgr), s.ID, to)
			return err
		})
		// kyc then lost is a legal sequence, lost then anything is not: one
		// or two succeed, and the stored stage is consistent with the trail.
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
			} else if !crm.IsKind(err, crm.ECONFLICT) {
				t.Errorf("error %v: kind %s", err, crm.ErrorKind(err))
			}
		}
		ev := b.trail(t, s.LeadID)
		var moves []string
		for _, e := range ev {
			if e.Action == crm.ActionSaleStage {
				moves = append(moves, e.From+">"+e.To)
			}
		}
		if len(moves) != wins {
			t.Errorf("%d moves recorded, %d succeeded", len(moves), wins)
		}
		got, err := b.st.Sale(context.Background(), s.ID)
		must(t, err)
		slices.Sort(moves) // the order of the trail is checked elsewhere
		switch {
		case slices.Equal(moves, []string{"new>lost"}) && got.Stage == crm.SaleLost:
		case slices.Equal(moves, []string{"kyc>lost", "new>kyc"}) && got.Stage == crm.SaleLost:
		default:
			t.Errorf("moves %v, stored stage %s", moves, got.Stage)
		}
	}},
}
