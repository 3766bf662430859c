package ai

import (
	"math"

	"github.com/crmleads/crm"
)

// Factors explains a score by the four facts: for each fact, how much the
// baseline rules' score of the lead differs from the mean of its scores with
// that one fact changed to each of its alternatives, the other three kept.
// The alternatives are the other two sources; the other two open stages
// (new, contacted, qualified); the other value of has_business_domain; and,
// for messages_count, 0 and 10 messages (the ends of the range the rules
// count). A positive difference is "up", a negative one "down" (0 counts as
// "up" with weight 0); the weight is its size, rounded to three decimals.
//
// They are the baseline's view, whichever scorer gave the score: Claude's
// reasons are not decomposable, and re-asking it four times per analysis
// would cost four analyses. docs/AI.md says what they do not mean.
func Factors(f crm.Facts) []crm.Factor {
	score := func(f crm.Facts) float64 { return baselineScore(f).Score }
	base := score(f)
	mean := func(alts []crm.Facts) float64 {
		var sum float64
		for _, a := range alts {
			sum += score(a)
		}
		return sum / float64(len(alts))
	}
	var sources, stages []crm.Facts
	for _, s := range crm.Sources {
		if s != f.Source {
			g := f
			g.Source = s
			sources = append(sources, g)
		}
	}
	for _, s := range []crm.LeadStage{crm.LeadNew, crm.LeadContacted, crm.LeadQualified} {
		if s != f.Stage {
			g := f
			g.Stage = s
			stages = append(stages, g)
		}
	}
	none, ten := f, f
	none.MessagesCount, ten.MessagesCount = 0, 10
	flip := f
	flip.HasBusinessDomain = !f.HasBusinessDomain

	factor := func(fact string, alts []crm.Facts) crm.Factor {
		d := base - mean(alts)
		out := crm.Factor{Fact: fact, Direction: crm.FactorUp, Weight: math.Round(math.Abs(d)*1000) / 1000}
		if d < 0 && out.Weight > 0 {
			out.Direction = crm.FactorDown
		}
		return out
	}
	return []crm.Factor{
		factor("source", sources),
		factor("stage", stages),
		factor("messages_count", []crm.Facts{none, ten}),
		factor("has_business_domain", []crm.Facts{flip}),
	}
}
