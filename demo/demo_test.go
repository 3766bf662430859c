package demo_test

import (
	"math"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/demo"
)

// The generated rows follow the documented model: same seed, same data; the
// rules of the product hold on every row; and the paid rate of decided sales
// matches the ground truth TruePaid within four standard errors (a fixed
// seed, so this is deterministic, not flaky).
func TestGenerateFollowsTheModel(t *testing.T) {
	t.Parallel()
	cfg := demo.Config{Leads: 40000, Seed: 42, Owners: []string{crm.NewID(), crm.NewID()},
		Now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), BatchSize: 7000}
	var expected, variance float64
	var decided, paid, batches int
	sum, err := demo.Generate(cfg, func(b *crm.Bulk) error {
		batches++
		leads := map[string]*crm.Lead{}
		for _, l := range b.Leads {
			leads[l.ID] = l
			if l.Stage == crm.LeadTransferred && (l.AI == nil || !l.HasBusinessDomain() || l.AI.Score < 0.6) {
				t.Fatalf("a transferred lead that the rules would have blocked: %+v", l)
			}
		}
		for _, o := range b.Outcomes {
			l := leads[o.LeadID]
			if l == nil || l.AI == nil || o.AnalysisID != l.AI.AnalysisID || o.Score != l.AI.Score {
				t.Fatalf("outcome %+v not against its lead's analysis", o)
			}
			if l.Stage == crm.LeadLost && o.Positive {
				t.Fatal("a lost lead counted as a positive")
			}
		}
		for _, s := range b.Sales {
			l := leads[s.LeadID]
			if s.Stage.Final() {
				p := demo.TruePaid(l.AI.Score)
				expected += p
				variance += p * (1 - p)
				decided++
				if s.Stage == crm.SalePaid {
					paid++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Leads != 40000 || batches != 6 || sum.Positives != paid {
		t.Fatalf("summary %+v, %d batches", sum, batches)
	}
	if d := math.Abs(float64(paid) - expected); d > 4*math.Sqrt(variance) {
		t.Errorf("%d of %d decided sales paid; the model expects %.0f ± %.0f", paid, decided, expected, math.Sqrt(variance))
	}
	again, _ := demo.Generate(cfg, func(*crm.Bulk) error { return nil })
	if again != sum {
		t.Errorf("the same seed gave %+v, then %+v", sum, again)
	}
}
