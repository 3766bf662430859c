package web_test

import (
	"net/http"
	"testing"

	"github.com/crmleads/crm/ai/fakeclaude"
)

// TestAnalysisReasonInUkrainian: reason keeps its meaning of the original
// contract (English), and the Ukrainian one comes beside it as reason_uk, on
// the analysis, the lead (ai_reason_uk) and the log; a lead never analyzed
// has null.
func TestAnalysisReasonInUkrainian(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		l := e.createLead(e.mgr, map[string]any{"source": "partner", "business_domain": "first", "messages_count": 3})
		var fresh struct {
			ReasonUK *string `json:"ai_reason_uk"`
		}
		e.must(http.StatusOK, "GET", "/leads/"+l.ID, e.mgr.Token, nil).decode(t, &fresh)
		if fresh.ReasonUK != nil {
			t.Errorf("a lead never analyzed: ai_reason_uk = %q, want null", *fresh.ReasonUK)
		}
		e.fake.Enqueue(fakeclaude.Text(`{"score":0.6,"recommendation":"continue_nurturing","reason":"Steady partner lead.","reason_uk":"Сталий партнерський лід."}`))
		var an struct {
			Reason   string  `json:"reason"`
			ReasonUK *string `json:"reason_uk"`
		}
		e.must(http.StatusOK, "POST", "/leads/"+l.ID+"/analyze", e.mgr.Token, nil).decode(t, &an)
		if an.Reason != "Steady partner lead." || an.ReasonUK == nil || *an.ReasonUK != "Сталий партнерський лід." {
			t.Errorf("analysis: reason %q, reason_uk %v", an.Reason, an.ReasonUK)
		}
		var lead struct {
			Reason   string `json:"ai_reason"`
			ReasonUK string `json:"ai_reason_uk"`
		}
		e.must(http.StatusOK, "GET", "/leads/"+l.ID, e.mgr.Token, nil).decode(t, &lead)
		if lead.Reason != "Steady partner lead." || lead.ReasonUK != "Сталий партнерський лід." {
			t.Errorf("lead: ai_reason %q, ai_reason_uk %q", lead.Reason, lead.ReasonUK)
		}
		var log []struct {
			ReasonUK *string `json:"reason_uk"`
		}
		e.must(http.StatusOK, "GET", "/leads/"+l.ID+"/analyses", e.mgr.Token, nil).decode(t, &log)
		if len(log) != 1 || log[0].ReasonUK == nil || *log[0].ReasonUK != "Сталий партнерський лід." {
			t.Errorf("analysis log: %+v", log)
		}
	})
}
