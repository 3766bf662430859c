package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/crmleads/crm"
)

// legalLeadMoves is DESIGN §2 written out: one step forward, lost from any
// open stage, transferred never by a stage change.
var legalLeadMoves = map[[2]crm.LeadStage]bool{
	{crm.LeadNew, crm.LeadContacted}:       true,
	{crm.LeadNew, crm.LeadLost}:            true,
	{crm.LeadContacted, crm.LeadQualified}: true,
	{crm.LeadContacted, crm.LeadLost}:      true,
	{crm.LeadQualified, crm.LeadLost}:      true,
}

var legalSaleMoves = map[[2]crm.SaleStage]bool{
	{crm.SaleNew, crm.SaleKYC}:        true,
	{crm.SaleNew, crm.SaleLost}:       true,
	{crm.SaleKYC, crm.SaleAgreement}:  true,
	{crm.SaleKYC, crm.SaleLost}:       true,
	{crm.SaleAgreement, crm.SalePaid}: true,
	{crm.SaleAgreement, crm.SaleLost}: true,
}

var allLeadStages = []crm.LeadStage{crm.LeadNew, crm.LeadContacted, crm.LeadQualified, crm.LeadTransferred, crm.LeadLost}
var allSaleStages = []crm.SaleStage{crm.SaleNew, crm.SaleKYC, crm.SaleAgreement, crm.SalePaid, crm.SaleLost}

var leadStageTests = []test{
	{"EveryPair", func(t *testing.T, b *bundle) {
		ctx := as(b.mgr)
		for _, from := range allLeadStages {
			for _, to := range allLeadStages {
				l := b.leadAt(t, from)
				before := b.trail(t, l.ID)
				got, err := b.svc.Leads.MoveLead(ctx, l.ID, to)
				switch {
				case legalLeadMoves[[2]crm.LeadStage{from, to}]:
					if err != nil {
						t.Errorf("%s → %s: %v, want allowed", from, to, err)
						continue
					}
					if got.Stage != to {
						t.Errorf("%s → %s: returned stage %s", from, to, got.Stage)
					}
					if s := b.lead(t, l.ID).Stage; s != to {
						t.Errorf("%s → %s: stored stage %s", from, to, s)
					}
					ev := added(before, b.trail(t, l.ID))
					if len(ev) != 1 {
						t.Errorf("%s → %s: %d new events, want 1", from, to, len(ev))
						continue
					}
					e := ev[0]
					if e.Action != crm.ActionLeadStage || e.From != string(from) || e.To != string(to) || e.ActorID != b.mgr.ID {
						t.Errorf("%s → %s: last event %+v", from, to, e)
					}
				default:
					code := crm.CodeInvalidTransition
					if from.Final() {
						code = crm.CodeLeadClosed
					}
					var e *crm.Error
					if err == nil || !asErr(err, &e) || e.Kind != crm.ECONFLICT || e.Code != code {
						t.Errorf("%s → %s: error %v, want %s/%s", from, to, err, crm.ECONFLICT, code)
					}
					if s := b.lead(t, l.ID).Stage; s != from {
						t.Errorf("%s → %s refused, but stored stage is %s", from, to, s)
					}
					if n := len(b.trail(t, l.ID)); n != len(before) {
						t.Errorf("%s → %s refused, but %d events were written", from, to, n-len(before))
					}
				}
			}
		}
	}},
	{"UnknownStage", func(t *testing.T, b *bundle) {
		l := b.leadAt(t, crm.LeadNew)
		_, err := b.svc.Leads.MoveLead(as(b.mgr), l.ID, "won")
		wantErr(t, err, crm.EINVALID, crm.CodeValidation)
	}},
	{"TransferredOnlyByTransfer", func(t *testing.T, b *bundle) {
		l := b.eligible(t)
		_, err := b.svc.Leads.MoveLead(as(b.mgr), l.ID, crm.LeadTransferred)
		wantErr(t, err, crm.ECONFLICT, crm.CodeInvalidTransition)
		if got := b.lead(t, l.ID).Stage; got != crm.LeadQualified {
			t.Errorf("stage = %s, want qualified", got)
		}
		if _, err := b.st.SaleByLead(context.Background(), l.ID); !crm.IsKind(err, crm.ENOTFOUND) {
			t.Errorf("SaleByLead after a refused move: %v, want not found", err)
		}
	}},
	{"FrozenWhenFinal", func(t *testing.T, b *bundle) {
		ctx := as(b.mgr)
		for _, stage := range []crm.LeadStage{crm.LeadLost, crm.LeadTransferred} {
			l := b.leadAt(t, stage)
			second, empty, one := "second", "", "Renamed"
			_, err := b.svc.Leads.UpdateLead(ctx, l.ID, crm.LeadUpdate{BusinessDomain: &second})
			wantErr(t, err, crm.ECONFLICT, crm.CodeLeadClosed)
			_, err = b.svc.Leads.UpdateLead(ctx, l.ID, crm.LeadUpdate{ClearBusinessDomain: true})
			wantErr(t, err, crm.ECONFLICT, crm.CodeLeadClosed)
			_, err = b.svc.Leads.UpdateLead(ctx, l.ID, crm.LeadUpdate{BusinessDomain: &empty})
			if err == nil {
				t.Errorf("%s: setting the business domain to \"\" succeeded", stage)
			}
			_, err = b.svc.Leads.SetMessages(ctx, l.ID, 10)
			wantErr(t, err, crm.ECONFLICT, crm.CodeLeadClosed)
			_, err = b.svc.Leads.IncrementMessages(ctx, l.ID)
			wantErr(t, err, crm.ECONFLICT, crm.CodeLeadClosed)
			calls := len(b.scorer.Calls())
			_, err = b.svc.Analyses.Analyze(ctx, l.ID)
			wantErr(t, err, crm.ECONFLICT, crm.CodeLeadClosed)
			if n := len(b.scorer.Calls()); n != calls {
				t.Errorf("%s: the scorer was called for a closed lead", stage)
			}
			got := b.lead(t, l.ID)
			diff(t, string(stage)+" lead after refused changes", l, got)
			// Contact fields are not read by the AI and stay editable.
			up, err := b.svc.Leads.UpdateLead(ctx, l.ID, crm.LeadUpdate{Name: &one})
			if err != nil {
				t.Fatalf("%s: rename: %v", stage, err)
			}
			if got := b.lead(t, l.ID); got.Name != one || got.BusinessDomain != "first" || got.MessagesCount != 3 || got.Stage != stage {
				t.Errorf("%s: after rename: %+v (returned %+v)", stage, got, up)
			}
		}
	}},
}

var saleStageTests = []test{
	{"EveryPair", func(t *testing.T, b *bundle) {
		ctx := as(b.mgr)
		for _, from := range allSaleStages {
			for _, to := range allSaleStages {
				s := b.saleAt(t, from)
				before := b.trail(t, s.LeadID)
				got, err := b.svc.Leads.MoveSale(ctx, s.ID, to)
				stored, rerr := b.st.Sale(context.Background(), s.ID)
				must(t, rerr)
				if legalSaleMoves[[2]crm.SaleStage{from, to}] {
					if err != nil {
						t.Errorf("%s → %s: %v, want allowed", from, to, err)
						continue
					}
					if got.Stage != to || stored.Stage != to {
						t.Errorf("%s → %s: returned %s, stored %s", from, to, got.Stage, stored.Stage)
					}
					ev := added(before, b.trail(t, s.LeadID))
					if len(ev) != 1 || ev[0].Action != crm.ActionSaleStage || ev[0].SaleID != s.ID || ev[0].LeadID != s.LeadID ||
						ev[0].From != string(from) || ev[0].To != string(to) || ev[0].ActorID != b.mgr.ID {
						t.Errorf("%s → %s: new events of the lead %v", from, to, ev)
					}
					continue
				}
				wantErrNoFatal(t, err, crm.ECONFLICT, crm.CodeInvalidTransition, string(from)+" → "+string(to))
				if n := len(added(before, b.trail(t, s.LeadID))); n != 0 {
					t.Errorf("%s → %s refused, but %d events were written", from, to, n)
				}
				if stored.Stage != from {
					t.Errorf("%s → %s refused, but stored stage is %s", from, to, stored.Stage)
				}
			}
		}
	}},
	{"UnknownStage", func(t *testing.T, b *bundle) {
		s := b.saleAt(t, crm.SaleNew)
		_, err := b.svc.Leads.MoveSale(as(b.mgr), s.ID, "won")
		wantErr(t, err, crm.EINVALID, crm.CodeValidation)
	}},
	{"RoundTrip", func(t *testing.T, b *bundle) {
		s := b.saleAt(t, crm.SaleKYC)
		got, err := b.st.Sale(context.Background(), s.ID)
		must(t, err)
		diff(t, "Sale", s, got)
		byLead, err := b.st.SaleByLead(context.Background(), s.LeadID)
		must(t, err)
		diff(t, "SaleByLead", s, byLead)
		wantUTC(t, "CreatedAt", got.CreatedAt)
		wantUTC(t, "UpdatedAt", got.UpdatedAt)
		if !got.UpdatedAt.After(got.CreatedAt) {
			t.Errorf("UpdatedAt %v not after CreatedAt %v", got.UpdatedAt, got.CreatedAt)
		}
		if got.OwnerID != b.mgr.ID || got.TransferredBy != b.mgr.ID {
			t.Errorf("owner %q transferred by %q, want both %q", got.OwnerID, got.TransferredBy, b.mgr.ID)
		}
	}},
}

func asErr(err error, e **crm.Error) bool {
	var x *crm.Error
	ok := errors.As(err, &x)
	*e = x
	return ok
}

func wantErrNoFatal(t *testing.T, err error, kind, code, what string) {
	t.Helper()
	var e *crm.Error
	if err == nil || !asErr(err, &e) || e.Kind != kind || (code != "" && e.Code != code) {
		t.Errorf("%s: error %v, want %s/%s", what, err, kind, code)
	}
}

// sameStrings reports whether a and b hold the same strings, ignoring order.
func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
