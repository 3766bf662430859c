// Package demo generates demo data with a known ground truth: leads, their
// analyses, sales and outcomes drawn from the documented model below, so
// that the AI quality report on it has a right answer (docs/AI.md, "Demo
// data"). `crmleads demo seed --leads N` loads it through a crm.BulkLoader
// (COPY on PostgreSQL).
//
// # The model
//
// Each lead, independently:
//
//   - source: scanner 50%, manual 30%, partner 20%;
//   - business domain: set for 60% (first, second or third, alike);
//   - messages: ⌊4·E⌋ for E exponential with mean 1 (mean about 3.5), at most 40;
//   - the stage it reached: new 35%, contacted 35%, qualified 30%;
//   - analyzed at that stage with probability 80%, by the baseline rules
//     (ai.Baseline): the score s is the baseline's score of its facts;
//   - a qualified, analyzed lead with a domain (its score is then ≥ 0.6) is
//     transferred with probability 70%, lost 10%, and stays open 20%; any
//     other lead is lost with probability 40% and stays open otherwise;
//   - a transferred lead's sale is decided with probability 85%: paid with
//     probability TruePaid(s) = 1 / (1 + e^(−8·(s − 0.75))), else lost; an
//     undecided sale is at new, kyc or agreement alike.
//
// Outcomes are then exactly what the service records: a paid sale is a
// positive, a lost sale or a lost analyzed lead a negative, against the
// lead's one analysis. The baseline's scores are thus miscalibrated on
// purpose (a lead scored 0.75 is paid half the time, one scored 0.95 83%),
// which a calibration fitted on the data should correct.
package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/ai"
)

// TruePaid is the probability that the sale of a transferred lead whose
// analysis scored s ends paid: the model's ground truth.
func TruePaid(s float64) float64 { return 1 / (1 + math.Exp(-8*(s-0.75))) }

// Config says what to generate.
type Config struct {
	Leads     int
	Seed      uint64
	Owners    []string  // user ids the leads are spread over (round robin)
	Now       time.Time // leads are created over the year before it
	BatchSize int       // leads per Bulk; 0 = 20,000
}

// Summary counts what was generated.
type Summary struct {
	Leads, Analyses, Sales, Outcomes, Positives int
}

// Generate draws cfg.Leads leads and hands them to emit in batches.
func Generate(cfg Config, emit func(*crm.Bulk) error) (Summary, error) {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 20000
	}
	if len(cfg.Owners) == 0 {
		return Summary{}, fmt.Errorf("demo: no owners")
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	var sum Summary
	b := &crm.Bulk{}
	domains := []string{"first", "second", "third"}
	for i := range cfg.Leads {
		created := cfg.Now.Add(-time.Duration(rng.Float64() * float64(365*24*time.Hour))).UTC().Truncate(time.Microsecond)
		at := func(after time.Duration) time.Time {
			return created.Add(time.Duration(rng.Float64() * float64(after))).Truncate(time.Microsecond)
		}
		l := &crm.Lead{ID: crm.NewID(), OwnerID: cfg.Owners[i%len(cfg.Owners)], CreatedAt: created}
		switch u := rng.Float64(); {
		case u < 0.5:
			l.Source = crm.SourceScanner
		case u < 0.8:
			l.Source = crm.SourceManual
		default:
			l.Source = crm.SourcePartner
		}
		if rng.Float64() < 0.6 {
			l.BusinessDomain = domains[rng.IntN(len(domains))]
		}
		l.MessagesCount = min(int(4*rng.ExpFloat64()), 40)
		switch u := rng.Float64(); {
		case u < 0.35:
			l.Stage = crm.LeadNew
		case u < 0.70:
			l.Stage = crm.LeadContacted
		default:
			l.Stage = crm.LeadQualified
		}
		token := randomToken(rng)
		l.Name = fmt.Sprintf("Demo Lead %d", i+1)
		l.Email = fmt.Sprintf("lead%d.%s@demo.example", i+1, token)
		l.Company = fmt.Sprintf("Company %d", rng.IntN(5000)+1)
		l.UpdatedAt = created

		var rec *crm.AnalysisRecord
		if rng.Float64() < 0.8 {
			f := l.Facts()
			s, call, _ := ai.Baseline{}.Score(context.Background(), f)
			analyzed := at(30 * 24 * time.Hour)
			sc := s.Score
			rec = &crm.AnalysisRecord{ID: crm.NewID(), LeadID: l.ID, ActorID: l.OwnerID, Facts: f, Provider: call.Provider,
				Model: call.Model, PromptVersion: call.PromptVersion, Score: &sc, Recommendation: s.Recommendation,
				Reason: s.Reason, ReasonUK: s.ReasonUK, RawOutput: call.RawOutput, Factors: s.Factors, CreatedAt: analyzed}
			l.AI = &crm.LeadAnalysis{Score: sc, Recommendation: s.Recommendation, Reason: s.Reason, ReasonUK: s.ReasonUK, AnalyzedAt: analyzed,
				Provider: call.Provider, Model: call.Model, PromptVersion: call.PromptVersion, Facts: f,
				AnalysisID: rec.ID, Factors: s.Factors}
			l.UpdatedAt = analyzed
			b.Analyses = append(b.Analyses, rec)
			sum.Analyses++
		}
		eligible := l.Stage == crm.LeadQualified && l.HasBusinessDomain() && l.AI != nil
		u := rng.Float64()
		decidedAt := l.UpdatedAt.Add(time.Duration(1+rng.IntN(60*24)) * time.Minute)
		switch {
		case eligible && u < 0.7:
			l.Stage = crm.LeadTransferred
			l.UpdatedAt = decidedAt
			s := &crm.Sale{ID: crm.NewID(), LeadID: l.ID, Stage: crm.SaleNew, TransferredBy: l.OwnerID,
				OwnerID: l.OwnerID, CreatedAt: decidedAt, UpdatedAt: decidedAt}
			if rng.Float64() < 0.85 {
				paid := rng.Float64() < TruePaid(l.AI.Score)
				s.Stage, s.UpdatedAt = crm.SaleLost, decidedAt.Add(time.Duration(1+rng.IntN(90*24))*time.Hour)
				if paid {
					s.Stage = crm.SalePaid
					sum.Positives++
				}
				b.Outcomes = append(b.Outcomes, outcome(l, paid, s.UpdatedAt))
			} else {
				s.Stage = []crm.SaleStage{crm.SaleNew, crm.SaleKYC, crm.SaleAgreement}[rng.IntN(3)]
			}
			b.Sales = append(b.Sales, s)
			sum.Sales++
		case eligible && u < 0.8, !eligible && u < 0.4:
			l.Stage = crm.LeadLost
			l.UpdatedAt = decidedAt
			if l.AI != nil {
				b.Outcomes = append(b.Outcomes, outcome(l, false, decidedAt))
			}
		}
		b.Leads = append(b.Leads, l)
		sum.Leads++
		if len(b.Leads) >= cfg.BatchSize {
			if err := emit(b); err != nil {
				return sum, err
			}
			sum.Outcomes += len(b.Outcomes)
			b = &crm.Bulk{}
		}
	}
	if len(b.Leads) > 0 {
		if err := emit(b); err != nil {
			return sum, err
		}
		sum.Outcomes += len(b.Outcomes)
	}
	return sum, nil
}

func outcome(l *crm.Lead, positive bool, at time.Time) *crm.Outcome {
	return &crm.Outcome{LeadID: l.ID, AnalysisID: l.AI.AnalysisID, Provider: l.AI.Provider, Model: l.AI.Model,
		PromptVersion: l.AI.PromptVersion, Score: l.AI.Score, Positive: positive, DecidedAt: at}
}

// randomToken is six lower-case letters, so that an email holds a fragment
// unique enough to search for.
func randomToken(rng *rand.Rand) string {
	b := make([]byte, 6)
	for i := range b {
		b[i] = byte('a' + rng.IntN(26))
	}
	return string(b)
}
