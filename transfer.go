package crm

// Transfer blockers: every unmet condition of a transfer, in this order.
const (
	BlockerStageNotQualified   = "stage_not_qualified"
	BlockerNoBusinessDomain    = "no_business_domain"
	BlockerNotAnalyzed         = "not_analyzed"
	BlockerAnalysisStale       = "analysis_stale"
	BlockerScoreBelowThreshold = "score_below_threshold"
	// BlockerLeadClosed stands alone: a transferred or lost lead is not
	// judged against the other conditions, which a closing move changes.
	BlockerLeadClosed = CodeLeadClosed
)

// DefaultMinScore is the default transfer threshold.
const DefaultMinScore = 0.6

// Transfer gates: which score the threshold applies to.
const (
	GateRaw        = "raw"        // the AI's own score (the default)
	GateCalibrated = "calibrated" // the calibrated score, where one exists
)

// TransferBlockers returns every condition that stops l from being transferred
// with the threshold minScore on the raw score; none means the transfer is
// allowed. The AI's recommendation plays no part: a person decides, the rules
// gate.
func TransferBlockers(l *Lead, minScore float64) []string {
	return TransferBlockersGate(l, minScore, GateRaw)
}

// TransferBlockersGate is TransferBlockers with the threshold applied to the
// score gate selects (LeadAnalysis.GateScore).
func TransferBlockersGate(l *Lead, minScore float64, gate string) []string {
	if l.Stage.Final() {
		return []string{BlockerLeadClosed}
	}
	b := []string{}
	if l.Stage != LeadQualified {
		b = append(b, BlockerStageNotQualified)
	}
	if !l.HasBusinessDomain() {
		b = append(b, BlockerNoBusinessDomain)
	}
	switch {
	case l.AI == nil:
		b = append(b, BlockerNotAnalyzed)
	default:
		if l.AnalysisStale() {
			b = append(b, BlockerAnalysisStale)
		}
		if score, _ := l.AI.GateScore(gate); !MeetsThreshold(score, minScore) {
			b = append(b, BlockerScoreBelowThreshold)
		}
	}
	return b
}

// MeetsThreshold reports whether score passes the transfer threshold min. It
// compares with a tolerance of 1e-9 so that a score stored as 0.6 passes a 0.6
// threshold whatever the float rounding on the way; the pages colour a score
// with it too, so the gauge and the gate never disagree.
func MeetsThreshold(score, min float64) bool { return score >= min-1e-9 }
