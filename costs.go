package crm

import (
	"context"
	"time"
)

// ---- what the AI costs ----

// CostFilter selects analysis-log rows created in [From, To) (zero = unbounded).
type CostFilter struct {
	From, To time.Time
}

// ModelCost sums the billed calls of one model.
type ModelCost struct {
	Model        string
	Analyses     int
	InputTokens  int64
	OutputTokens int64
	CostUSD      float64
}

// CostReport is the report of GET /ai/costs.
type CostReport struct {
	Analyses     int
	InputTokens  int64
	OutputTokens int64
	CostUSD      float64
	CostPer1KUSD float64 // per 1,000 billed calls; 0 when there are none
	ByModel      []ModelCost

	// The monthly budget of batch work (0 = none), what the calendar month
	// (UTC) has cost so far, and whether batch work is paused by it.
	MonthlyBudgetUSD float64
	MonthToDateUSD   float64
	BatchPaused      bool
}

// Costs reports what the billed AI calls created in f's window cost, by model.
// A call counts as billed when the provider reported tokens for it, whether or
// not its answer was valid: a bad answer is paid for too. The costs are the
// estimates logged with each call (batch calls at the batch price).
// Errors: EFORBIDDEN for managers.
func (s *AnalysisService) Costs(ctx context.Context, f CostFilter) (*CostReport, error) {
	if _, err := requireSeesAll(ctx, "read the AI's costs"); err != nil {
		return nil, err
	}
	by, err := s.store.AnalysisCosts(ctx, f)
	if err != nil {
		return nil, err
	}
	r := &CostReport{ByModel: by, MonthlyBudgetUSD: s.monthlyBudget}
	if r.ByModel == nil {
		r.ByModel = []ModelCost{}
	}
	for _, m := range by {
		r.Analyses += m.Analyses
		r.InputTokens += m.InputTokens
		r.OutputTokens += m.OutputTokens
		r.CostUSD += m.CostUSD
	}
	if r.Analyses > 0 {
		r.CostPer1KUSD = r.CostUSD / float64(r.Analyses) * 1000
	}
	r.MonthToDateUSD, r.BatchPaused, err = s.budgetState(ctx)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// budgetState returns what this calendar month (UTC) has cost and whether the
// monthly budget, if any, is reached.
func (s *AnalysisService) budgetState(ctx context.Context) (spent float64, reached bool, err error) {
	now := s.now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	by, err := s.store.AnalysisCosts(ctx, CostFilter{From: month})
	if err != nil {
		return 0, false, err
	}
	for _, m := range by {
		spent += m.CostUSD
	}
	return spent, s.monthlyBudget > 0 && spent >= s.monthlyBudget, nil
}
