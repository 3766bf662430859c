package ai_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/ai"
)

// The expected weights are worked out by hand from the baseline's rules (see
// ai.Baseline): the lead's score minus the mean score with one fact changed.
func TestFactorsByHand(t *testing.T) {
	t.Parallel()
	up := func(fact string, w float64) crm.Factor {
		return crm.Factor{Fact: fact, Direction: crm.FactorUp, Weight: w}
	}
	down := func(fact string, w float64) crm.Factor {
		return crm.Factor{Fact: fact, Direction: crm.FactorDown, Weight: w}
	}
	for _, tc := range []struct {
		facts crm.Facts
		want  []crm.Factor
	}{
		// 0.25 + 0.20 + 0.15 + 3×0.02 = 0.66.
		// source: scanner 0.46, manual 0.56 → mean 0.51 → +0.15
		// stage: new 0.51, qualified 0.86 → mean 0.685 → −0.025
		// messages: 0 → 0.60, 10 → 0.80 → mean 0.70 → −0.04
		// domain: without 0.51 → +0.15
		{crm.Facts{Source: crm.SourcePartner, Stage: crm.LeadContacted, MessagesCount: 3, HasBusinessDomain: true},
			[]crm.Factor{up("source", 0.15), down("stage", 0.025), down("messages_count", 0.04), up("has_business_domain", 0.15)}},
		// 0.10: every fact is at its weakest.
		// source: partner 0.30, manual 0.20 → 0.25 → −0.15; stage: 0.25, 0.45 → 0.35 → −0.25;
		// messages: 0.10, 0.30 → 0.20 → −0.10; domain: 0.25 → −0.15
		{crm.Facts{Source: crm.SourceScanner, Stage: crm.LeadNew},
			[]crm.Factor{down("source", 0.15), down("stage", 0.25), down("messages_count", 0.1), down("has_business_domain", 0.15)}},
		// manual is the middle source: scanner 0.x−0.10, partner 0.x+0.10 → mean equal → weight 0, "up" by convention.
		// 5 messages are the middle of 0 and 10 too.
		{crm.Facts{Source: crm.SourceManual, Stage: crm.LeadQualified, MessagesCount: 5, HasBusinessDomain: false},
			[]crm.Factor{up("source", 0), up("stage", 0.275), up("messages_count", 0), down("has_business_domain", 0.15)}},
	} {
		got := ai.Factors(tc.facts)
		if d := cmp.Diff(tc.want, got, cmpopts.EquateApprox(0, 1e-9)); d != "" {
			t.Errorf("Factors(%+v) (-want +got):\n%s", tc.facts, d)
		}
	}
}
