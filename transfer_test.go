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
		{"all not analyzed", with(0.1, func(l *Lead) { l.Stage = LeadContacted; l.BusinessDomain = ""; l.AI = nil }), 0.6,
			[]string{BlockerStageNotQualified, BlockerNoBusinessDomain, BlockerNotAnalyzed}},
		// A closed lead answers lead_closed alone, whatever else holds.
		{"transferred", with(0.8, func(l *Lead) { l.Stage = LeadTransferred }), 0.6, []string{BlockerLeadClosed}},
		{"lost, low, not analyzed", with(0.1, func(l *Lead) { l.Stage = LeadLost; l.BusinessDomain = ""; l.AI = nil }), 0.6,
			[]string{BlockerLeadClosed}},
		{"lost after analysis", with(0.3, func(l *Lead) { l.Stage = LeadLost }), 0.6, []string{BlockerLeadClosed}},
	} {
		got := TransferBlockers(tc.lead, tc.minScore)
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s: blockers (-want +got):\n%s", tc.name, d)
		}
	}
}

func TestMeetsThreshold(t *testing.T) {
	for _, tc := range []struct {
		score, min float64
		want       bool
	}{
		{0.6, 0.6, true}, {0.59, 0.6, false}, {0.6 - 1e-12, 0.6, true}, {0.6 - 1e-6, 0.6, false},
		{0.1 + 0.2 + 0.3, 0.6, true}, {1, 0.6, true}, {0, 0.6, false}, {0, 0, true}, {0.8, 0.9, false},
	} {
		if got := MeetsThreshold(tc.score, tc.min); got != tc.want {
			t.Errorf("MeetsThreshold(%v, %v) = %v, want %v", tc.score, tc.min, got, tc.want)
		}
	}
}

func TestAnalysisStale(t *testing.T) {
	analyzed := func(stage LeadStage, change func(l *Lead)) *Lead {
		l := &Lead{Source: SourceScanner, Stage: LeadQualified, BusinessDomain: "first", MessagesCount: 4}
		l.AI = &LeadAnalysis{Score: 0.7, Facts: l.Facts()}
		l.Stage = stage
		if change != nil {
			change(l)
		}
		return l
	}
	for _, tc := range []struct {
		name string
		lead *Lead
		want bool
	}{
		{"never analyzed", &Lead{Stage: LeadNew, Source: SourceManual}, false},
		{"as analyzed", analyzed(LeadQualified, nil), false},
		{"messages since", analyzed(LeadQualified, func(l *Lead) { l.MessagesCount++ }), true},
		{"source since", analyzed(LeadQualified, func(l *Lead) { l.Source = SourcePartner }), true},
		{"domain cleared since", analyzed(LeadQualified, func(l *Lead) { l.BusinessDomain = "" }), true},
		{"domain changed, still set", analyzed(LeadQualified, func(l *Lead) { l.BusinessDomain = "second" }), false},
		{"stage moved back in time (contacted)", analyzed(LeadContacted, nil), true},
		// Closed: the record of what the decision relied on, never stale.
		{"transferred", analyzed(LeadTransferred, nil), false},
		{"lost", analyzed(LeadLost, nil), false},
		{"lost with other facts changed", analyzed(LeadLost, func(l *Lead) { l.MessagesCount = 99 }), false},
	} {
		if got := tc.lead.AnalysisStale(); got != tc.want {
			t.Errorf("%s: AnalysisStale() = %v, want %v", tc.name, got, tc.want)
		}
	}
}
