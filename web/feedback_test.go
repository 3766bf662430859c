package web_test

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmleads/crm/ai/fakeclaude"
)

// The costs add up to the token counts in the analysis log, at the list
// price of the default model ($0.10 / $0.50 per million input / output
// tokens, written out here rather than read from the code's table), and a
// bad answer counts as a billed call.
func TestCostsAddUpToTheLog(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		var ids []string
		for range 3 {
			ids = append(ids, e.eligibleLead(e.mgr, 0.7, "transfer_to_sales").ID)
		}
		e.fake.Enqueue(fakeclaude.Text("not json"))
		e.must(502, "POST", "/leads/"+ids[0]+"/analyze", e.mgr.Token, nil)

		var in, out, calls int64
		var want float64
		for _, id := range ids {
			var rows []struct {
				Model        string  `json:"model"`
				InputTokens  int64   `json:"input_tokens"`
				OutputTokens int64   `json:"output_tokens"`
				CostUSD      float64 `json:"cost_usd"`
			}
			e.must(200, "GET", "/leads/"+id+"/analyses", e.mgr.Token, nil).decode(t, &rows)
			for _, r := range rows {
				if r.Model != "claude-haiku-5-5" || r.InputTokens == 0 || r.OutputTokens == 0 {
					t.Fatalf("log row %+v: want a billed call of the default model", r)
				}
				calls++
				in += r.InputTokens
				out += r.OutputTokens
				want += (float64(r.InputTokens)*0.10 + float64(r.OutputTokens)*0.50) / 1e6
			}
		}
		if calls != 4 {
			t.Fatalf("%d log rows, want 4", calls)
		}
		e.must(403, "GET", "/ai/costs", e.mgr.Token, nil)
		var got struct {
			Analyses     int64   `json:"analyses"`
			InputTokens  int64   `json:"input_tokens"`
			OutputTokens int64   `json:"output_tokens"`
			CostUSD      float64 `json:"cost_usd"`
			CostPer1K    float64 `json:"cost_per_1k_usd"`
			ByModel      []struct {
				Model    string  `json:"model"`
				Analyses int64   `json:"analyses"`
				CostUSD  float64 `json:"cost_usd"`
			} `json:"by_model"`
			Budget      *float64 `json:"monthly_budget_usd"`
			BatchPaused bool     `json:"batch_paused"`
		}
		e.must(200, "GET", "/ai/costs", e.senior.Token, nil).decode(t, &got)
		if got.Analyses != 4 || got.InputTokens != in || got.OutputTokens != out ||
			math.Abs(got.CostUSD-want) > 1e-12 || math.Abs(got.CostPer1K-want/4*1000) > 1e-9 {
			t.Errorf("costs = %+v; the log says %d calls, %d in, %d out, $%v", got, calls, in, out, want)
		}
		if len(got.ByModel) != 1 || got.ByModel[0].Model != "claude-haiku-5-5" || got.ByModel[0].Analyses != 4 ||
			got.Budget != nil || got.BatchPaused {
			t.Errorf("by model, budget: %+v", got)
		}
		// A window after everything holds nothing.
		e.must(200, "GET", "/ai/costs?from=2999-01-01T00:00:00Z", e.admin.Token, nil).decode(t, &got)
		if got.Analyses != 0 || got.CostUSD != 0 || len(got.ByModel) != 0 {
			t.Errorf("costs in the future = %+v", got)
		}
		e.must(422, "GET", "/ai/costs?from=yesterday", e.admin.Token, nil)
	})
}

// The quality report as JSON: null where the figures do not exist.
func TestQualityJSON(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		l := e.eligibleLead(e.mgr, 0.7, "transfer_to_sales")
		var s saleJSON
		e.must(201, "POST", "/leads/"+l.ID+"/transfer", e.mgr.Token, nil).decode(t, &s)
		for _, st := range []string{"kyc", "agreement", "paid"} {
			e.must(200, "PATCH", "/sales/"+s.ID+"/stage", e.mgr.Token, map[string]any{"stage": st})
		}
		e.must(403, "GET", "/ai/quality", e.mgr.Token, nil)
		var got map[string]any
		e.must(200, "GET", "/ai/quality", e.senior.Token, nil).decode(t, &got)
		want := map[string]any{"groups": []any{map[string]any{
			"provider": "claude", "model": "claude-haiku-5-5", "prompt_version": "v2", "count": 1.0, "positives": 1.0,
			"brier": 0.09, "auc": nil, "trustworthy": false, "warnings": []any{"too_few_outcomes"},
			"bands": []any{
				map[string]any{"from": 0.0, "to": 0.2, "count": 0.0, "mean_predicted": nil, "observed_rate": nil},
				map[string]any{"from": 0.2, "to": 0.4, "count": 0.0, "mean_predicted": nil, "observed_rate": nil},
				map[string]any{"from": 0.4, "to": 0.6, "count": 0.0, "mean_predicted": nil, "observed_rate": nil},
				map[string]any{"from": 0.6, "to": 0.8, "count": 1.0, "mean_predicted": 0.7, "observed_rate": 1.0},
				map[string]any{"from": 0.8, "to": 1.0, "count": 0.0, "mean_predicted": nil, "observed_rate": nil},
			},
		}}}
		if d := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-12 })); d != "" {
			t.Errorf("GET /ai/quality (-want +got):\n%s", d)
		}
		e.must(200, "GET", "/ai/quality?prompt_version=v9&from=2020-01-01T00:00:00Z", e.admin.Token, nil).decode(t, &got)
		if d := cmp.Diff(map[string]any{"groups": []any{}}, got); d != "" {
			t.Errorf("another prompt version: %s", d)
		}
		e.must(422, "GET", "/ai/quality?to=soon", e.admin.Token, nil)

		// The analysis carries its factors, and the lead too.
		var lead map[string]any
		e.must(200, "GET", "/leads/"+l.ID, e.mgr.Token, nil).decode(t, &lead)
		fs, _ := lead["ai_factors"].([]any)
		if len(fs) != 4 || lead["ai_score_calibrated"] != nil {
			t.Errorf("lead factors %v, calibrated %v", lead["ai_factors"], lead["ai_score_calibrated"])
		}
	})
}

func TestTransferGateSetting(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		var got struct {
			Domains []string `json:"business_domains"`
			Gate    string   `json:"transfer_gate"`
		}
		e.must(200, "GET", "/settings", e.mgr.Token, nil).decode(t, &got)
		if got.Gate != "raw" {
			t.Errorf("default gate %q", got.Gate)
		}
		e.must(403, "PATCH", "/settings", e.senior.Token, map[string]any{"transfer_gate": "calibrated"})
		e.must(422, "PATCH", "/settings", e.admin.Token, map[string]any{"transfer_gate": "cooked"})
		e.must(422, "PATCH", "/settings", e.admin.Token, map[string]any{})
		e.must(200, "PATCH", "/settings", e.admin.Token, map[string]any{"transfer_gate": "calibrated"}).decode(t, &got)
		if got.Gate != "calibrated" || len(got.Domains) != 3 {
			t.Errorf("after the switch: %+v", got)
		}
		var audit []struct {
			Action string         `json:"action"`
			Data   map[string]any `json:"data"`
		}
		e.must(200, "GET", "/audit?action=settings.updated", e.admin.Token, nil).decode(t, &audit)
		if len(audit) != 1 || !cmp.Equal(audit[0].Data["changes"], map[string]any{"transfer_gate": map[string]any{"from": "raw", "to": "calibrated"}}) {
			t.Errorf("audit = %+v", audit)
		}
	})
}
