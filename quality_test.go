package crm_test

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/crmleads/crm"
)

// handMade is a set of eight outcomes worked through by hand below: ties at
// 0.1 and at 0.6 (each with a positive and a negative), nothing in [0.4, 0.6),
// a score of exactly 0.6 (which floor(score/0.2) would put in the wrong band)
// and one of exactly 1.0 (which the last band includes).
//
//	score  outcomes
//	0.1    0 0 1
//	0.3    0
//	0.6    1 0
//	0.9    1
//	1.0    1
var handMade = []crm.ScoreCount{
	{Score: 0.1, N: 3, Positives: 1},
	{Score: 0.3, N: 1, Positives: 0},
	{Score: 0.6, N: 2, Positives: 1},
	{Score: 0.9, N: 1, Positives: 1},
	{Score: 1.0, N: 1, Positives: 1},
}

func ptr(v float64) *float64 { return &v }

var approx = cmpopts.EquateApprox(0, 1e-12)

func TestQualityByHand(t *testing.T) {
	t.Parallel()
	// Brier: 2×0.1² + 0.9² + 0.3² + 0.4² + 0.6² + 0.1² + 0² = 0.02 + 0.81 + 0.09 + 0.16 + 0.36 + 0.01 = 1.45; / 8.
	if got := crm.Brier(handMade); math.Abs(got-1.45/8) > 1e-12 {
		t.Errorf("Brier = %v, want %v", got, 1.45/8)
	}
	// AUC: 4 positives × 4 negatives = 16 pairs. The positive at 0.1 ties
	// with two negatives (2 × ½); the one at 0.6 beats three and ties one
	// (3½); those at 0.9 and 1.0 beat all four. (1 + 3.5 + 4 + 4) / 16.
	auc := crm.AUC(handMade)
	if auc == nil || math.Abs(*auc-12.5/16) > 1e-12 {
		t.Errorf("AUC = %v, want %v", auc, 12.5/16)
	}
	want := []crm.Band{
		{From: 0, To: 0.2, Count: 3, MeanPredicted: ptr(0.1), ObservedRate: ptr(1.0 / 3)},
		{From: 0.2, To: 0.4, Count: 1, MeanPredicted: ptr(0.3), ObservedRate: ptr(0)},
		{From: 0.4, To: 0.6, Count: 0}, // empty: no mean, no rate
		{From: 0.6, To: 0.8, Count: 2, MeanPredicted: ptr(0.6), ObservedRate: ptr(0.5)},
		{From: 0.8, To: 1.0, Count: 2, MeanPredicted: ptr(0.95), ObservedRate: ptr(1)},
	}
	if d := cmp.Diff(want, crm.Bands(handMade), approx); d != "" {
		t.Errorf("Bands (-want +got):\n%s", d)
	}
	g := crm.Assess("p", "m", "v", handMade)
	if g.Count != 8 || g.Positives != 4 || g.Trustworthy || !cmp.Equal(g.Warnings, []string{crm.WarningTooFewOutcomes}) {
		t.Errorf("Assess = %+v", g)
	}
}

func TestQualityOneClassMissing(t *testing.T) {
	t.Parallel()
	only := []crm.ScoreCount{{Score: 0.2, N: 1, Positives: 1}, {Score: 0.7, N: 1, Positives: 1}}
	if auc := crm.AUC(only); auc != nil {
		t.Errorf("AUC with no negative = %v, want nil", *auc)
	}
	if auc := crm.AUC([]crm.ScoreCount{{Score: 0.5, N: 3}}); auc != nil {
		t.Errorf("AUC with no positive = %v, want nil", *auc)
	}
	// (1−0.2)² + (1−0.7)² = 0.64 + 0.09, over 2.
	if got := crm.Brier(only); math.Abs(got-0.365) > 1e-12 {
		t.Errorf("Brier = %v, want 0.365", got)
	}
	b := crm.Bands(only)
	if b[0].Count != 0 || b[1].Count != 1 || b[3].Count != 1 { // 0.2 is the first score of the second band
		t.Errorf("Bands = %+v", b)
	}
}

func TestBandOfBounds(t *testing.T) {
	t.Parallel()
	for score, want := range map[float64]int{0: 0, 0.19999: 0, 0.2: 1, 0.4: 2, 0.6: 3, 0.7999: 3, 0.8: 4, 1.0: 4} {
		if got := crm.BandOf(score); got != want {
			t.Errorf("BandOf(%v) = %d, want %d", score, got, want)
		}
	}
	six, width := 0.6, 0.2 // variables: Go's constant arithmetic is exact
	if int(math.Floor(six/width)) != 2 {
		t.Fatal("floor(0.6/0.2) is no longer 2: the reason for BandOf is gone")
	}
}

func TestQualityWarnings(t *testing.T) {
	t.Parallel()
	// 150 outcomes, perfectly separated: AUC 1, suspect.
	perfect := []crm.ScoreCount{{Score: 0.1, N: 75}, {Score: 0.9, N: 75, Positives: 75}}
	g := crm.Assess("p", "m", "v", perfect)
	if !g.Trustworthy || !cmp.Equal(g.Warnings, []string{crm.WarningSuspectLeakage}) {
		t.Errorf("perfect: %+v", g)
	}
	// One score for all: AUC ½, a poor ranking.
	flat := []crm.ScoreCount{{Score: 0.5, N: 200, Positives: 100}}
	g = crm.Assess("p", "m", "v", flat)
	if g.AUC == nil || *g.AUC != 0.5 || !cmp.Equal(g.Warnings, []string{crm.WarningPoorRanking}) {
		t.Errorf("flat: %+v", g)
	}
}

func TestFitPlatt(t *testing.T) {
	t.Parallel()
	// Already calibrated: the observed rate at each score is the score. The
	// fit stays near the identity (Platt's smoothed targets move it a little).
	var calibrated []crm.ScoreCount
	for _, s := range []float64{0.2, 0.4, 0.6, 0.8} {
		calibrated = append(calibrated, crm.ScoreCount{Score: s, N: 100, Positives: int(s * 100)})
	}
	a, b, ok := crm.FitPlatt(calibrated)
	if !ok || math.Abs(a-1) > 0.05 || math.Abs(b) > 0.05 {
		t.Errorf("calibrated: a, b = %v, %v, want about 1, 0", a, b)
	}
	// Overconfident: 0.1 comes true 30% of the time, 0.9 70%. Two points fit
	// exactly: b = 0, a = logit(0.7)/logit(0.9) = 0.3856.
	over := []crm.ScoreCount{{Score: 0.1, N: 100, Positives: 30}, {Score: 0.9, N: 100, Positives: 70}}
	a, b, ok = crm.FitPlatt(over)
	if !ok || math.Abs(a-0.3856) > 0.02 || math.Abs(b) > 0.02 {
		t.Errorf("overconfident: a, b = %v, %v, want about 0.386, 0", a, b)
	}
	c := crm.Calibration{A: a, B: b}
	if got := c.Apply(0.9); math.Abs(got-0.7) > 0.01 {
		t.Errorf("calibrated 0.9 = %v, want about 0.7", got)
	}
	if got := c.Apply(0.1); math.Abs(got-0.3) > 0.01 {
		t.Errorf("calibrated 0.1 = %v, want about 0.3", got)
	}
	if _, _, ok := crm.FitPlatt([]crm.ScoreCount{{Score: 0.4, N: 10}}); ok {
		t.Error("a fit without positives succeeded")
	}
}
