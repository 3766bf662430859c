package storetest

import (
	"context"
	"testing"

	"github.com/crmleads/crm"
)

// wantBlocked checks that the lead cannot be transferred for exactly the
// blockers given, in order, and that the refused transfer changed nothing.
func (b *bundle) wantBlocked(t *testing.T, ctx context.Context, id string, blockers ...string) {
	t.Helper()
	before := b.lead(t, id)
	trail := len(b.trail(t, id))
	got, err := b.svc.Leads.TransferCheck(ctx, id)
	must(t, err)
	diff(t, "TransferCheck blockers", blockers, got)
	_, err = b.svc.Leads.Transfer(ctx, id)
	e := wantErr(t, err, crm.ECONFLICT, crm.CodeTransferBlocked)
	diff(t, "Transfer error blockers", blockers, e.Blockers)
	diff(t, "lead after a refused transfer", before, b.lead(t, id))
	if _, err := b.st.SaleByLead(context.Background(), id); !crm.IsKind(err, crm.ENOTFOUND) {
		t.Errorf("SaleByLead after a refused transfer: %v, want not found", err)
	}
	if n := len(b.trail(t, id)); n != trail {
		t.Errorf("a refused transfer wrote %d events", n-trail)
	}
}

// wantAllowed checks that the lead may be transferred (and does not transfer it).
func (b *bundle) wantAllowed(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	got, err := b.svc.Leads.TransferCheck(ctx, id)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("TransferCheck = %v, want no blockers", got)
	}
}

// wantTransfer transfers the lead and checks the sale and the lead.
func (b *bundle) wantTransfer(t *testing.T, ctx context.Context, id string) *crm.Sale {
	t.Helper()
	s, err := b.svc.Leads.Transfer(ctx, id)
	if err != nil {
		t.Fatalf("Transfer: %v", err)
	}
	if got := b.lead(t, id).Stage; got != crm.LeadTransferred {
		t.Errorf("lead stage after transfer = %s", got)
	}
	return s
}

var transferTests = []test{
	{"EachBlockerAlone", func(t *testing.T, b *bundle) {
		ctx := as(b.mgr)
		t.Run("stage_not_qualified", func(t *testing.T) {
			l := b.leadAt(t, crm.LeadContacted)
			b.analyze(t, ctx, l.ID, 0.8, crm.RecommendTransfer)
			b.wantBlocked(t, ctx, l.ID, crm.BlockerStageNotQualified)
		})
		t.Run("no_business_domain", func(t *testing.T) {
			l := b.newLead(t, ctx, crm.LeadInput{Source: crm.SourceScanner})
			for _, s := range []crm.LeadStage{crm.LeadContacted, crm.LeadQualified} {
				_, err := b.svc.Leads.MoveLead(ctx, l.ID, s)
				must(t, err)
			}
			b.analyze(t, ctx, l.ID, 0.8, crm.RecommendTransfer)
			b.wantBlocked(t, ctx, l.ID, crm.BlockerNoBusinessDomain)
		})
		t.Run("not_analyzed", func(t *testing.T) {
			l := b.leadAt(t, crm.LeadQualified)
			b.wantBlocked(t, ctx, l.ID, crm.BlockerNotAnalyzed)
		})
		t.Run("analysis_stale", func(t *testing.T) {
			l := b.eligible(t)
			_, err := b.svc.Leads.SetMessages(ctx, l.ID, 10)
			must(t, err)
			b.wantBlocked(t, ctx, l.ID, crm.BlockerAnalysisStale)
		})
		t.Run("score_below_threshold", func(t *testing.T) {
			l := b.leadAt(t, crm.LeadQualified)
			b.analyze(t, ctx, l.ID, 0.59, crm.RecommendTransfer)
			b.wantBlocked(t, ctx, l.ID, crm.BlockerScoreBelowThreshold)
		})
	}},
	{"AllBlockersTogether", func(t *testing.T, b *bundle) {
		ctx := as(b.mgr)
		l := b.newLead(t, ctx, crm.LeadInput{Source: crm.SourceScanner})
		b.wantBlocked(t, ctx, l.ID, crm.BlockerStageNotQualified, crm.BlockerNoBusinessDomain, crm.BlockerNotAnalyzed)
		b.analyze(t, ctx, l.ID, 0.1, crm.RecommendLost)
		_, err := b.svc.Leads.IncrementMessages(ctx, l.ID)
		must(t, err)
		b.wantBlocked(t, ctx, l.ID, crm.BlockerStageNotQualified, crm.BlockerNoBusinessDomain,
			crm.BlockerAnalysisStale, crm.BlockerScoreBelowThreshold)
	}},
	{"Threshold", func(t *testing.T, b *bundle) {
		ctx := as(b.mgr)
		l := b.leadAt(t, crm.LeadQualified)
		b.analyze(t, ctx, l.ID, 0.59, crm.RecommendTransfer)
		b.wantBlocked(t, ctx, l.ID, crm.BlockerScoreBelowThreshold)
		b.analyze(t, ctx, l.ID, 0.6, crm.RecommendNurture)
		if got := b.lead(t, l.ID).AI.Score; got != 0.6 {
			t.Errorf("stored score = %v, want exactly 0.6", got)
		}
		b.wantAllowed(t, ctx, l.ID)
		b.wantTransfer(t, ctx, l.ID)
	}},
	{"RecommendationDoesNotGate", func(t *testing.T, b *bundle) {
		ctx := as(b.mgr)
		l := b.leadAt(t, crm.LeadQualified)
		b.analyze(t, ctx, l.ID, 0.95, crm.RecommendLost)
		b.wantAllowed(t, ctx, l.ID)
		b.wantTransfer(t, ctx, l.ID)
	}},
	{"Staleness", func(t *testing.T, b *bundle) {
		ctx := as(b.mgr)
		second, first, name := "second", "first", "New Name"
		t.Run("stage", func(t *testing.T) {
			l := b.leadAt(t, crm.LeadContacted)
			b.analyze(t, ctx, l.ID, 0.8, crm.RecommendTransfer)
			_, err := b.svc.Leads.MoveLead(ctx, l.ID, crm.LeadQualified)
			must(t, err)
			b.wantBlocked(t, ctx, l.ID, crm.BlockerAnalysisStale)
			b.analyze(t, ctx, l.ID, 0.8, crm.RecommendTransfer)
			b.wantAllowed(t, ctx, l.ID)
		})
		t.Run("messages_count set", func(t *testing.T) {
			l := b.eligible(t)
			_, err := b.svc.Leads.SetMessages(ctx, l.ID, 4)
			must(t, err)
			b.wantBlocked(t, ctx, l.ID, crm.BlockerAnalysisStale)
		})
		t.Run("messages_count incremented", func(t *testing.T) {
			l := b.eligible(t)
			_, err := b.svc.Leads.IncrementMessages(ctx, l.ID)
			must(t, err)
			b.wantBlocked(t, ctx, l.ID, crm.BlockerAnalysisStale)
		})
		t.Run("business domain cleared", func(t *testing.T) {
			l := b.eligible(t)
			_, err := b.svc.Leads.UpdateLead(ctx, l.ID, crm.LeadUpdate{ClearBusinessDomain: true})
			must(t, err)
			b.wantBlocked(t, ctx, l.ID, crm.BlockerNoBusinessDomain, crm.BlockerAnalysisStale)
		})
		t.Run("business domain set", func(t *testing.T) {
			l := b.newLead(t, ctx, crm.LeadInput{Source: crm.SourceManual})
			for _, s := range []crm.LeadStage{crm.LeadContacted, crm.LeadQualified} {
				_, err := b.svc.Leads.MoveLead(ctx, l.ID, s)
				must(t, err)
			}
			b.analyze(t, ctx, l.ID, 0.8, crm.RecommendTransfer)
			_, err := b.svc.Leads.UpdateLead(ctx, l.ID, crm.LeadUpdate{BusinessDomain: &first})
			must(t, err)
			b.wantBlocked(t, ctx, l.ID, crm.BlockerAnalysisStale)
		})
		t.Run("business domain changed is not stale", func(t *testing.T) {
			l := b.eligible(t)
			got, err := b.svc.Leads.UpdateLead(ctx, l.ID, crm.LeadUpdate{BusinessDomain: &second})
			must(t, err)
			if got.BusinessDomain != "second" || b.lead(t, l.ID).BusinessDomain != "second" {
				t.Errorf("business domain = %q, want second", got.BusinessDomain)
			}
			b.wantAllowed(t, ctx, l.ID)
			b.wantTransfer(t, ctx, l.ID)
		})
		t.Run("contact fields are not facts", func(t *testing.T) {
			l := b.eligible(t)
			_, err := b.svc.Leads.UpdateLead(ctx, l.ID, crm.LeadUpdate{Name: &name, Note: &name})
			must(t, err)
			b.wantAllowed(t, ctx, l.ID)
		})
	}},
	{"Success", func(t *testing.T, b *bundle) {
		ctx := as(b.mgr)
		l := b.eligible(t)
		if calls := b.scorer.Calls(); len(calls) == 0 || calls[len(calls)-1] != l.Facts() {
			t.Errorf("scorer facts = %v, want last %+v", calls, l.Facts())
		}
		s := b.wantTransfer(t, ctx, l.ID)
		if s.Stage != crm.SaleNew || s.LeadID != l.ID || s.TransferredBy != b.mgr.ID || s.OwnerID != b.mgr.ID || !crm.ValidID(s.ID) {
			t.Errorf("sale = %+v", s)
		}
		stored, err := b.st.SaleByLead(context.Background(), l.ID)
		must(t, err)
		diff(t, "stored sale", s, stored)
		all, _, err := b.svc.Leads.Sales(as(b.admin), crm.SaleFilter{})
		must(t, err)
		diff(t, "all sales", []*crm.Sale{s}, all)

		ev := only(b.trail(t, l.ID), crm.ActionLeadTransferred)
		if len(ev) != 1 {
			t.Fatalf("%d transfer events, want 1", len(ev))
		}
		last := ev[0]
		if last.Action != crm.ActionLeadTransferred || last.SaleID != s.ID || last.LeadID != l.ID ||
			last.From != string(crm.LeadQualified) || last.To != string(crm.LeadTransferred) || last.ActorID != b.mgr.ID {
			t.Errorf("transfer event = %+v", last)
		}
		for k, v := range map[string]any{"score": 0.8, "threshold": 0.6, "recommendation": string(crm.RecommendTransfer),
			"sale_id": s.ID, "provider": TestCall.Provider, "model": TestCall.Model, "prompt_version": TestCall.PromptVersion} {
			if last.Data[k] != v {
				t.Errorf("transfer event data[%q] = %#v, want %#v", k, last.Data[k], v)
			}
		}

		// A transferred lead is closed; the second transfer is refused.
		_, err = b.svc.Leads.Transfer(ctx, l.ID)
		wantErr(t, err, crm.ECONFLICT, crm.CodeLeadClosed)
		all, _, err = b.svc.Leads.Sales(as(b.admin), crm.SaleFilter{})
		must(t, err)
		if len(all) != 1 {
			t.Errorf("%d sales after a second transfer, want 1", len(all))
		}
	}},
	{"TransferredBy", func(t *testing.T, b *bundle) {
		l := b.eligible(t)
		s := b.wantTransfer(t, as(b.senior), l.ID)
		got, err := b.st.Sale(context.Background(), s.ID)
		must(t, err)
		if got.TransferredBy != b.senior.ID || got.OwnerID != b.mgr.ID {
			t.Errorf("transferred by %q owner %q, want %q and %q", got.TransferredBy, got.OwnerID, b.senior.ID, b.mgr.ID)
		}
		// The system actor has no user id: the sale records nobody.
		l = b.eligible(t)
		s = b.wantTransfer(t, sys(), l.ID)
		got, err = b.st.Sale(context.Background(), s.ID)
		must(t, err)
		if got.TransferredBy != "" || got.OwnerID != b.mgr.ID {
			t.Errorf("system transfer: transferred by %q owner %q", got.TransferredBy, got.OwnerID)
		}
	}},
}
