package ai_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/ai"
)

func TestBaselineIsDeterministicAndInRange(t *testing.T) {
	t.Parallel()
	var b ai.Baseline
	for _, src := range crm.Sources {
		for _, stage := range crm.LeadStages {
			for _, domain := range []bool{false, true} {
				for _, n := range []int{-1, 0, 1, 3, 10, 1000} {
					f := crm.Facts{Source: src, Stage: stage, MessagesCount: n, HasBusinessDomain: domain}
					s, call, err := b.Score(context.Background(), f)
					if err != nil {
						t.Fatal(err)
					}
					again, _, _ := b.Score(context.Background(), f)
					if !reflect.DeepEqual(s, again) {
						t.Errorf("%+v: %+v then %+v", f, s, again)
					}
					if s.Score < 0 || s.Score > 1 || !s.Recommendation.Valid() || s.Reason == "" || utf8.RuneCountInString(s.Reason) > crm.MaxReasonLength {
						t.Errorf("%+v: %+v is not a valid score", f, s)
					}
					if s.Recommendation == crm.RecommendTransfer && (stage != crm.LeadQualified || !domain) {
						t.Errorf("%+v: recommends a transfer the rules would block", f)
					}
					if call.Provider != "baseline" || call.Model != ai.BaselineModel || call.PromptVersion != ai.BaselineModel || call.CostUSD != 0 || call.InputTokens != 0 {
						t.Errorf("call = %+v, want a free baseline call", call)
					}
				}
			}
		}
	}
}

func TestBaselineRules(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		f     crm.Facts
		score float64
		rec   crm.Recommendation
	}{
		{crm.Facts{Source: crm.SourcePartner, Stage: crm.LeadQualified, MessagesCount: 5, HasBusinessDomain: true}, 0.90, crm.RecommendTransfer},
		{crm.Facts{Source: crm.SourceScanner, Stage: crm.LeadQualified, MessagesCount: 0, HasBusinessDomain: true}, 0.60, crm.RecommendTransfer},
		{crm.Facts{Source: crm.SourceScanner, Stage: crm.LeadQualified, MessagesCount: 0, HasBusinessDomain: false}, 0.45, crm.RecommendNurture},
		{crm.Facts{Source: crm.SourceScanner, Stage: crm.LeadNew, MessagesCount: 0}, 0.10, crm.RecommendNurture},
		{crm.Facts{Source: crm.SourceScanner, Stage: crm.LeadContacted, MessagesCount: 1}, 0.27, crm.RecommendLost},
		{crm.Facts{Source: crm.SourceManual, Stage: crm.LeadContacted, MessagesCount: 2, HasBusinessDomain: true}, 0.54, crm.RecommendNurture},
		{crm.Facts{Source: crm.SourcePartner, Stage: crm.LeadLost, MessagesCount: 9, HasBusinessDomain: true}, 0, crm.RecommendLost},
		{crm.Facts{Source: crm.SourcePartner, Stage: crm.LeadQualified, MessagesCount: 50, HasBusinessDomain: true}, 1, crm.RecommendTransfer},
	} {
		s, _, _ := ai.Baseline{}.Score(context.Background(), tt.f)
		if s.Score != tt.score || s.Recommendation != tt.rec {
			t.Errorf("%+v: got %v %s, want %v %s", tt.f, s.Score, s.Recommendation, tt.score, tt.rec)
		}
	}
}

// TestBaselineReasonInBothLanguages: the baseline writes its own reason in
// English and in Ukrainian, naming the same facts, with the noun after a
// number in the form Ukrainian gives it.
func TestBaselineReasonInBothLanguages(t *testing.T) {
	for _, c := range []struct {
		f      crm.Facts
		en, uk string
	}{
		{crm.Facts{Source: crm.SourcePartner, Stage: crm.LeadQualified, MessagesCount: 4, HasBusinessDomain: true},
			"Baseline rules (not AI): qualified stage, partner source, known business domain, 4 messages.",
			"Базові правила (не ШІ): етап «кваліфікований», джерело «партнер», відомий бізнес-домен, 4 повідомлення."},
		{crm.Facts{Source: crm.SourceScanner, Stage: crm.LeadContacted, MessagesCount: 11},
			"Baseline rules (not AI): contacted stage, scanner source, no business domain, 11 messages.",
			"Базові правила (не ШІ): етап «контакт встановлено», джерело «сканер», бізнес-домен невідомий, 11 повідомлень."},
		{crm.Facts{Source: crm.SourceManual, Stage: crm.LeadNew, MessagesCount: 21},
			"Baseline rules (not AI): new stage, manual source, no business domain, 21 messages.",
			"Базові правила (не ШІ): етап «новий», джерело «вручну», бізнес-домен невідомий, 21 повідомлення."},
	} {
		s, call, err := ai.Baseline{}.Score(context.Background(), c.f)
		if err != nil {
			t.Fatal(err)
		}
		if s.Reason != c.en || s.ReasonUK != c.uk {
			t.Errorf("%+v: reasons\n%q\n%q\nwant\n%q\n%q", c.f, s.Reason, s.ReasonUK, c.en, c.uk)
		}
		if !strings.Contains(call.RawOutput, `"reason_uk":`) {
			t.Errorf("raw output %s lacks reason_uk", call.RawOutput)
		}
	}
}
