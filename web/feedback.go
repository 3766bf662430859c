package web

import (
	"context"
	"time"

	"github.com/crmleads/crm"
)

// The feedback loop's reads: how well the AI's scores predicted outcomes, and
// what the AI costs (senior managers and admins).

// Factor is the JSON form of one factor behind a score.
type Factor struct {
	Fact      string  `json:"fact" enum:"source,stage,messages_count,has_business_domain"`
	Direction string  `json:"direction" enum:"up,down"`
	Weight    float64 `json:"weight" minimum:"0" doc:"How much the fact, as it is, moves the baseline's score (0..1 scale)"`
}

func factorsOut(fs []crm.Factor) []Factor {
	out := make([]Factor, len(fs))
	for i, f := range fs {
		out[i] = Factor(f)
	}
	return out
}

// Band is one row of a reliability table.
type Band struct {
	From          float64  `json:"from"`
	To            float64  `json:"to" doc:"Exclusive, except 1.0 in the last band"`
	Count         int      `json:"count"`
	MeanPredicted *float64 `json:"mean_predicted" nullable:"true" doc:"null when the band is empty"`
	ObservedRate  *float64 `json:"observed_rate" nullable:"true" doc:"The share of paid sales; null when the band is empty"`
}

// QualityGroup is the quality of one provider, model and prompt version.
type QualityGroup struct {
	Provider      string   `json:"provider"`
	Model         string   `json:"model"`
	PromptVersion string   `json:"prompt_version"`
	Count         int      `json:"count" doc:"Outcomes: sales paid or lost, and analyzed leads lost"`
	Positives     int      `json:"positives" doc:"Paid sales"`
	Brier         float64  `json:"brier" doc:"Mean squared difference of score and outcome (0 is perfect, 0.25 is a coin)"`
	AUC           *float64 `json:"auc" nullable:"true" doc:"Probability that a paid lead scored higher than a lost one, ties as half; null when one class is missing"`
	Bands         []Band   `json:"bands"`
	Trustworthy   bool     `json:"trustworthy" doc:"false below 120 outcomes"`
	Warnings      []string `json:"warnings" enum:"too_few_outcomes,poor_ranking,suspect_leakage" doc:"too_few_outcomes (< 120), poor_ranking (AUC < 0.6), suspect_leakage (AUC > 0.95)"`
}

func qualityOut(r *crm.QualityReport) []QualityGroup {
	out := make([]QualityGroup, len(r.Groups))
	for i, g := range r.Groups {
		bands := make([]Band, len(g.Bands))
		for j, b := range g.Bands {
			bands[j] = Band(b)
		}
		out[i] = QualityGroup{Provider: g.Provider, Model: g.Model, PromptVersion: g.PromptVersion, Count: g.Count,
			Positives: g.Positives, Brier: g.Brier, AUC: g.AUC, Bands: bands, Trustworthy: g.Trustworthy,
			Warnings: g.Warnings}
	}
	return out
}

type qualityInput struct {
	From          time.Time `query:"from" doc:"RFC 3339; outcomes decided at or after it"`
	To            time.Time `query:"to" doc:"RFC 3339; outcomes decided before it"`
	PromptVersion string    `query:"prompt_version" maxLength:"100"`
}

type qualityResponse struct {
	Body struct {
		Groups []QualityGroup `json:"groups"`
	}
}

func handleQuality(d Deps) func(context.Context, *qualityInput) (*qualityResponse, error) {
	return func(ctx context.Context, in *qualityInput) (*qualityResponse, error) {
		r, err := d.Analyses.Quality(ctx, crm.OutcomeFilter{From: in.From, To: in.To, PromptVersion: in.PromptVersion})
		if err != nil {
			return nil, err
		}
		out := &qualityResponse{}
		out.Body.Groups = qualityOut(r)
		return out, nil
	}
}

// ModelCost sums the billed calls of one model.
type ModelCost struct {
	Model        string  `json:"model"`
	Analyses     int     `json:"analyses"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	CostUSD      float64 `json:"cost_usd"`
}

type costsInput struct {
	From time.Time `query:"from" doc:"RFC 3339; calls made at or after it (all time when left out)"`
	To   time.Time `query:"to" doc:"RFC 3339; calls made before it"`
}

type costsResponse struct {
	Body struct {
		Analyses         int         `json:"analyses" doc:"Calls the provider billed (a bad answer was billed too)"`
		InputTokens      int64       `json:"input_tokens"`
		OutputTokens     int64       `json:"output_tokens"`
		CostUSD          float64     `json:"cost_usd" doc:"Estimated from the price table, unrounded; batch calls at half price"`
		CostPer1KUSD     float64     `json:"cost_per_1k_usd"`
		ByModel          []ModelCost `json:"by_model"`
		MonthlyBudgetUSD *float64    `json:"monthly_budget_usd" nullable:"true" doc:"CRM_AI_MONTHLY_BUDGET_USD; null when unset"`
		MonthToDateUSD   float64     `json:"month_to_date_usd" doc:"What this calendar month (UTC) has cost so far"`
		BatchPaused      bool        `json:"batch_paused" doc:"The monthly budget is reached: batch work waits; single analyses still run"`
	}
}

func handleCosts(d Deps) func(context.Context, *costsInput) (*costsResponse, error) {
	return func(ctx context.Context, in *costsInput) (*costsResponse, error) {
		r, err := d.Analyses.Costs(ctx, crm.CostFilter{From: in.From, To: in.To})
		if err != nil {
			return nil, err
		}
		out := &costsResponse{}
		b := &out.Body
		b.Analyses, b.InputTokens, b.OutputTokens, b.CostUSD, b.CostPer1KUSD = r.Analyses, r.InputTokens,
			r.OutputTokens, r.CostUSD, r.CostPer1KUSD
		b.ByModel = make([]ModelCost, len(r.ByModel))
		for i, m := range r.ByModel {
			b.ByModel[i] = ModelCost(m)
		}
		if r.MonthlyBudgetUSD > 0 {
			b.MonthlyBudgetUSD = &r.MonthlyBudgetUSD
		}
		b.MonthToDateUSD, b.BatchPaused = r.MonthToDateUSD, r.BatchPaused
		return out, nil
	}
}
