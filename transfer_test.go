package crm

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTransferBlockers(t *testing.T) {
	// eligible returns a lead that may be transferred with a 0.6 threshold,
	// analyzed with the given score as it is now.
	eligible := func(score float64) *Lead {
		l := &Lead{ID: NewID(), Source: SourceScanner, Stage: LeadQualified, BusinessDomain: "first", MessagesCount: 4}
		l.AI = &LeadAnalysis{Score: score, Recommendation: RecommendTransfer, AnalyzedAt: time.Now(), Facts: l.Facts()}
		return l
	}
	with := func(score float64, change func(l *Lead)) *Lead {
		l := eligible(score)
		change(l)
		return l
	}
	for _, tc := range []struct {
		name     string
		lead     *Lead
		minScore float64
		want     []string
	}{
		{"eligible", eligible(0.8), 0.6, []string{}},
		{"exactly the threshold", eligible(0.6), 0.6, []string{}},
		{"just above", eligible(0.6000000001), 0.6, []string{}},
		{"0.59", eligible(0.59), 0.6, []string{BlockerScoreBelowThreshold}},
		{"0.5999", eligible(0.5999), 0.6, []string{BlockerScoreBelowThreshold}},
		{"0.1+0.2+0.3", eligible(0.1 + 0.2 + 0.3), 0.6, []string{}},
		{"0.6 less a rounding error", eligible(0.6 - 1e-12), 0.6, []string{}},
		{"zero", eligible(0), 0.6, []string{BlockerScoreBelowThreshold}},
		{"one", eligible(1), 0.6, []string{}},
		{"other threshold passes", eligible(0.5), 0.5, []string{}},
		{"other threshold blocks", eligible(0.8), 0.9, []string{BlockerScoreBelowThreshold}},
		{"recommendation is ignored", with(0.9, func(l *Lead) { l.AI.Recommendation = RecommendLost }), 0.6, []string{}},
		{"stage", with(0.8, func(l *Lead) { l.Stage = LeadContacted; l.AI.Facts.Stage = LeadContacted }), 0.6,
			[]string{BlockerStageNotQualified}},
		{"no domain", with(0.8, func(l *Lead) { l.BusinessDomain = ""; l.AI.Facts.HasBusinessDomain = false }), 0.6,
			[]string{BlockerNoBusinessDomain}},
		{"not analyzed", with(0.8, func(l *Lead) { l.AI = nil }), 0.6, []string{BlockerNotAnalyzed}},
		{"stale: stage", with(0.8, func(l *Lead) { l.AI.Facts.Stage = LeadContacted }), 0.6, []string{BlockerAnalysisStale}},
		{"stale: source", with(0.8, func(l *Lead) { l.AI.Facts.Source = SourcePartner }), 0.6, []string{BlockerAnalysisStale}},
		{"stale: messages", with(0.8, func(l *Lead) { l.MessagesCount++ }), 0.6, []string{BlockerAnalysisStale}},
		{"stale: domain set since", with(0.8, func(l *Lead) { l.AI.Facts.HasBusinessDomain = false }), 0.6, []string{BlockerAnalysisStale}},
		{"stale: domain cleared since", with(0.8, func(l *Lead) { l.BusinessDomain = "" }), 0.6,
			[]string{BlockerNoBusinessDomain, BlockerAnalysisStale}},
		{"domain changed is not stale", with(0.8, func(l *Lead) { l.BusinessDomain = "second" }), 0.6, []string{}},
		{"contacts are not facts", with(0.8, func(l *Lead) { l.Name, l.Email, l.OwnerID = "X", "x@example.com", NewID() }), 0.6, []string{}},
		{"stale and low", with(0.59, func(l *Lead) { l.MessagesCount = 0 }), 0.6,
			[]string{BlockerAnalysisStale, BlockerScoreBelowThreshold}},
		{"all analyzed", with(0.1, func(l *Lead) { l.Stage = LeadNew; l.BusinessDomain = "" }), 0.6,
			[]string{BlockerStageNotQualified, BlockerNoBusinessDomain, BlockerAnalysisStale, BlockerScoreBelowThreshold}},
		{"all not analyzed", with(0.1, func(l *Lead) { l.Stage = LeadLost; l.BusinessDomain = ""; l.AI = nil }), 0.6,
			[]string{BlockerStageNotQualified, BlockerNoBusinessDomain, BlockerNotAnalyzed}},
		{"transferred", with(0.8, func(l *Lead) { l.Stage = LeadTransferred }), 0.6,
			[]string{BlockerStageNotQualified, BlockerAnalysisStale}},
	} {
		got := TransferBlockers(tc.lead, tc.minScore)
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s: blockers (-want +got):\n%s", tc.name, d)
		}
	}
}
