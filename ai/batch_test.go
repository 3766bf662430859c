package ai_test

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/ai"
	"github.com/crmleads/crm/ai/fakeclaude"
)

// TestBatch drives the SDK's Messages.Batches against the fake speaking the
// Message Batches wire format: create, retrieve until ended, results as
// JSONL, with one errored request. It checks what left (our keys as
// custom_ids, the four facts only, the single analysis's request), the
// provider's counts, and that each result is judged as a single answer and
// priced at half.
func TestBatch(t *testing.T) {
	srv := fakeclaude.New()
	t.Cleanup(srv.Close)
	srv.SetBatchPolls(1)
	srv.SetBatchOutcomes(func(i int) string {
		if i == 1 {
			return "errored"
		}
		return "succeeded"
	})
	b, err := ai.NewBatcher(ai.Config{Provider: ai.ProviderClaude, APIKey: "test-key", BaseURL: srv.URL(), MaxRetries: -1})
	if err != nil || b == nil {
		t.Fatalf("NewBatcher: %v, %v", b, err)
	}
	ctx := context.Background()
	other := crm.Facts{Source: crm.SourceManual, Stage: crm.LeadNew}
	reqs := []crm.BatchRequest{{Key: "k1", Facts: goodFacts}, {Key: "k2", Facts: other}, {Key: "k3", Facts: other}}
	id, err := b.SubmitBatch(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}

	sent := srv.BatchRequests()
	if len(sent) != 1 || len(sent[0]) != 3 {
		t.Fatalf("batches sent: %d", len(sent))
	}
	for i, raw := range sent[0] {
		var r struct {
			CustomID string          `json:"custom_id"`
			Params   json.RawMessage `json:"params"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		if r.CustomID != reqs[i].Key {
			t.Errorf("request %d custom_id %q, want our key %q", i, r.CustomID, reqs[i].Key)
		}
		var facts map[string]any
		if err := json.Unmarshal([]byte(fakeclaude.Request{Body: r.Params}.UserText()), &facts); err != nil {
			t.Fatalf("request %d user text: %v", i, err)
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range facts {
				if !yield(k) {
					return
				}
			}
		})
		if !slices.Equal(keys, []string{"has_business_domain", "messages_count", "source", "stage"}) {
			t.Errorf("request %d sent %v, want the four facts only", i, keys)
		}
		var p struct {
			Model     string `json:"model"`
			MaxTokens int    `json:"max_tokens"`
			System    []any  `json:"system"`
			Thinking  struct {
				Type string `json:"type"`
			} `json:"thinking"`
		}
		if err := json.Unmarshal(r.Params, &p); err != nil {
			t.Fatal(err)
		}
		if p.Model != ai.DefaultModel || p.MaxTokens == 0 || len(p.System) != 1 || p.Thinking.Type != "disabled" {
			t.Errorf("request %d params %+v, want the single analysis's request", i, p)
		}
	}

	st, err := b.BatchState(ctx, id)
	if err != nil || st.Ended || st.Processing != 3 {
		t.Fatalf("first poll: %+v, %v; want in progress with 3 processing", st, err)
	}
	st, err = b.BatchState(ctx, id)
	if err != nil || !st.Ended || st.Succeeded != 2 || st.Errored != 1 {
		t.Fatalf("second poll: %+v, %v; want ended, 2 succeeded, 1 errored", st, err)
	}

	facts := map[string]crm.Facts{"k1": goodFacts, "k2": other, "k3": other}
	got := map[string]crm.BatchResult{}
	err = b.BatchResults(ctx, id, facts, func(r crm.BatchResult) error {
		got[r.Key] = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d results, want 3", len(got))
	}
	if r := got["k2"]; r.Err == nil || !crm.IsKind(r.Err, crm.EBADGATEWAY) || r.Call.InputTokens != 0 || r.Call.CostUSD != 0 {
		t.Errorf("errored request: %+v; want an error and nothing billed", r)
	}
	for _, k := range []string{"k1", "k3"} {
		r := got[k]
		if r.Err != nil {
			t.Fatalf("%s: %v", k, r.Err)
		}
		if r.Score.Score < 0 || r.Score.Score > 1 || !r.Score.Recommendation.Valid() || len(r.Score.Factors) != 4 {
			t.Errorf("%s: score %+v", k, r.Score)
		}
		c := r.Call
		if c.InputTokens == 0 || c.OutputTokens == 0 || c.PromptVersion == "" {
			t.Errorf("%s: call %+v", k, c)
		}
		// Half the list price: the fake's default model costs 0.10 / 0.50 per million.
		want := (float64(c.InputTokens)*0.10 + float64(c.OutputTokens)*0.50) / 1e6 / 2
		if math.Abs(c.CostUSD-want) > 1e-15 || c.CostUSD != ai.BatchCost(c.Model, c.InputTokens, c.OutputTokens) {
			t.Errorf("%s: cost %v, want %v (half the list price)", k, c.CostUSD, want)
		}
	}
	if got["k1"].Score.Score <= got["k3"].Score.Score {
		t.Errorf("the qualified partner lead scored %v, no more than the new website lead's %v", got["k1"].Score.Score, got["k3"].Score.Score)
	}
}

// TestBatchBaseline: the baseline has no batch API.
func TestBatchBaseline(t *testing.T) {
	b, err := ai.NewBatcher(ai.Config{Provider: ai.ProviderBaseline})
	if err != nil || b != nil {
		t.Fatalf("NewBatcher(baseline) = %v, %v; want nil, nil", b, err)
	}
}
