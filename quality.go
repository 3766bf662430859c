package crm

import (
	"cmp"
	"slices"
	"time"
)

// ---- the quality of the AI's scores, judged by outcomes ----

// ScoreCount is a histogram bin of outcomes: how many outcomes of one
// provider, model and prompt version had exactly this score, and how many of
// them were positive (a paid sale). Stores return these rather than one row
// per outcome, so a report on a million outcomes moves a few hundred rows;
// every figure of the report is exact from them.
type ScoreCount struct {
	Provider      string
	Model         string
	PromptVersion string
	Score         float64
	N             int
	Positives     int
}

// OutcomeFilter selects outcomes for a report: decided in [From, To) (zero
// = unbounded) and, when set, of one prompt version.
type OutcomeFilter struct {
	From, To      time.Time
	PromptVersion string
}

// MinTrustworthyOutcomes is the number of outcomes below which a group's
// figures are shown but flagged as untrustworthy (Salesforce's own minimum
// for its scoring models), and below which no calibration is fitted.
const MinTrustworthyOutcomes = 120

// Warnings of a quality group.
const (
	WarningTooFewOutcomes = "too_few_outcomes" // fewer than MinTrustworthyOutcomes
	WarningPoorRanking    = "poor_ranking"     // AUC < 0.6: the model ranks leads badly
	WarningSuspectLeakage = "suspect_leakage"  // AUC > 0.95: too good to be true
)

// BandBounds are the bounds of the five reliability bands: band i holds the
// scores s with BandBounds[i] <= s < BandBounds[i+1], except the last, which
// includes 1.0.
var BandBounds = [6]float64{0, 0.2, 0.4, 0.6, 0.8, 1.0}

// Band is one row of a reliability table.
type Band struct {
	From, To      float64
	Count         int
	MeanPredicted *float64 // nil when the band is empty
	ObservedRate  *float64 // nil when the band is empty
}

// QualityGroup is the report on the outcomes of one provider, model and
// prompt version.
type QualityGroup struct {
	Provider      string
	Model         string
	PromptVersion string
	Count         int
	Positives     int
	Brier         float64
	AUC           *float64 // nil when one class is missing
	Bands         []Band
	Trustworthy   bool
	Warnings      []string
}

// BandOf returns the index of the band score belongs to, by comparison with
// the bounds. floor(score/0.2) would put 0.6 in band 2: 0.6/0.2 is
// 2.9999999999999996 in floating point.
func BandOf(score float64) int {
	for i := 1; i < len(BandBounds)-1; i++ {
		if score < BandBounds[i] {
			return i - 1
		}
	}
	return len(BandBounds) - 2
}

// Brier returns the mean squared difference between the score and the outcome
// (1 for a positive, 0 for a negative); 0 when there are no outcomes.
func Brier(points []ScoreCount) float64 {
	var sum float64
	n := 0
	for _, p := range points {
		neg := p.N - p.Positives
		sum += float64(p.Positives)*(1-p.Score)*(1-p.Score) + float64(neg)*p.Score*p.Score
		n += p.N
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// AUC returns the area under the ROC curve: the probability that a random
// positive outcome had a higher score than a random negative one, a tie
// counting as half. nil when there is no positive or no negative outcome.
func AUC(points []ScoreCount) *float64 {
	// Merge equal scores (across groups, if any) and walk them upwards: each
	// positive beats every negative with a lower score and ties with those
	// of its own score.
	byScore := map[float64][2]int{}
	for _, p := range points {
		c := byScore[p.Score]
		byScore[p.Score] = [2]int{c[0] + p.Positives, c[1] + p.N - p.Positives}
	}
	scores := make([]float64, 0, len(byScore))
	for s := range byScore {
		scores = append(scores, s)
	}
	slices.Sort(scores)
	var pairs float64 // positive-over-negative pairs, ties as half
	pos, neg := 0, 0  // totals
	for _, s := range scores {
		c := byScore[s]
		pairs += float64(c[0])*float64(neg) + 0.5*float64(c[0])*float64(c[1])
		pos += c[0]
		neg += c[1]
	}
	if pos == 0 || neg == 0 {
		return nil
	}
	auc := pairs / (float64(pos) * float64(neg))
	return &auc
}

// Bands returns the five reliability bands of the outcomes.
func Bands(points []ScoreCount) []Band {
	bands := make([]Band, len(BandBounds)-1)
	sums := make([]float64, len(bands))
	pos := make([]int, len(bands))
	for i := range bands {
		bands[i].From, bands[i].To = BandBounds[i], BandBounds[i+1]
	}
	for _, p := range points {
		i := BandOf(p.Score)
		bands[i].Count += p.N
		sums[i] += p.Score * float64(p.N)
		pos[i] += p.Positives
	}
	for i := range bands {
		if n := bands[i].Count; n > 0 {
			mean, rate := sums[i]/float64(n), float64(pos[i])/float64(n)
			bands[i].MeanPredicted, bands[i].ObservedRate = &mean, &rate
		}
	}
	return bands
}

// Assess returns the quality report of one group's outcomes.
func Assess(provider, model, promptVersion string, points []ScoreCount) QualityGroup {
	g := QualityGroup{Provider: provider, Model: model, PromptVersion: promptVersion,
		Brier: Brier(points), AUC: AUC(points), Bands: Bands(points), Warnings: []string{}}
	for _, p := range points {
		g.Count += p.N
		g.Positives += p.Positives
	}
	g.Trustworthy = g.Count >= MinTrustworthyOutcomes
	if !g.Trustworthy {
		g.Warnings = append(g.Warnings, WarningTooFewOutcomes)
	}
	if g.AUC != nil && *g.AUC < 0.6 {
		g.Warnings = append(g.Warnings, WarningPoorRanking)
	}
	if g.AUC != nil && *g.AUC > 0.95 {
		g.Warnings = append(g.Warnings, WarningSuspectLeakage)
	}
	return g
}

// groupKey names a provider, model and prompt version.
type groupKey struct{ provider, model, promptVersion string }

// splitGroups splits histogram bins by provider, model and prompt version, in
// a stable order (prompt version, then provider, then model).
func splitGroups(points []ScoreCount) ([]groupKey, map[groupKey][]ScoreCount) {
	m := map[groupKey][]ScoreCount{}
	var keys []groupKey
	for _, p := range points {
		k := groupKey{p.Provider, p.Model, p.PromptVersion}
		if _, ok := m[k]; !ok {
			keys = append(keys, k)
		}
		m[k] = append(m[k], p)
	}
	slices.SortFunc(keys, func(a, b groupKey) int {
		return cmp.Or(cmp.Compare(a.promptVersion, b.promptVersion), cmp.Compare(a.provider, b.provider),
			cmp.Compare(a.model, b.model))
	})
	return keys, m
}
