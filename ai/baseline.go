package ai

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/crmleads/crm"
)

// BaselineModel names the rules of Baseline in every result; change it when
// the rules change, as a prompt change gets a new prompt version.
const BaselineModel = "baseline-v1"

// Baseline is the offline scorer: fixed, documented rules over the same four
// facts, so the product works without an API key. Every result says provider
// "baseline", so nobody mistakes it for Claude's opinion.
//
// The score adds up:
//
//	stage:    new 0.10, contacted 0.25, qualified 0.45 (lost 0, transferred 0.45)
//	source:   partner +0.20, manual +0.10, scanner +0
//	domain:   known business domain +0.15
//	activity: +0.02 per message, at most +0.20 (10 messages)
//
// clamped to [0, 1] and rounded to two decimals. The recommendation is
// transfer_to_sales for a qualified lead with a known domain and a score of at
// least 0.6, mark_as_lost for a lost lead or one past the new stage scoring
// under 0.3 (contacted, yet nothing else speaks for it), and
// continue_nurturing otherwise. Having no prompt, a result records the rules'
// version, BaselineModel, as its model and its prompt version.
type Baseline struct{}

// Score scores f by the rules above. It never fails and costs nothing.
func (Baseline) Score(ctx context.Context, f crm.Facts) (crm.Score, crm.Call, error) {
	start := time.Now()
	s := baselineScore(f)
	s.Factors = Factors(f)
	return s, crm.Call{Provider: ProviderBaseline, Model: BaselineModel, PromptVersion: BaselineModel,
		RawOutput: fmt.Sprintf(`{"score":%v,"recommendation":%q,"reason":%q,"reason_uk":%q}`, s.Score, s.Recommendation, s.Reason, s.ReasonUK),
		Latency:   time.Since(start)}, nil
}

// The baseline's words for the facts in Ukrainian, as the app's labels have
// them; its reason is written in both of the app's languages.
var (
	ukStage  = map[crm.LeadStage]string{crm.LeadNew: "новий", crm.LeadContacted: "контакт встановлено", crm.LeadQualified: "кваліфікований", crm.LeadTransferred: "передано в продажі", crm.LeadLost: "втрачений"}
	ukSource = map[crm.Source]string{crm.SourcePartner: "партнер", crm.SourceManual: "вручну", crm.SourceScanner: "сканер"}
)

// ukMessages writes "n повідомлень" with the noun in the form Ukrainian
// gives n: 1 повідомлення, 2 повідомлення, 5 повідомлень, 21 повідомлення.
func ukMessages(n int) string {
	word := "повідомлень"
	if n%100 < 11 || n%100 > 14 {
		switch n % 10 {
		case 1, 2, 3, 4:
			word = "повідомлення"
		}
	}
	return fmt.Sprintf("%d %s", n, word)
}

func baselineScore(f crm.Facts) crm.Score {
	var score float64
	var why, whyUK []string
	switch f.Stage {
	case crm.LeadNew:
		score += 0.10
	case crm.LeadContacted:
		score += 0.25
	case crm.LeadQualified, crm.LeadTransferred:
		score += 0.45
	}
	why = append(why, string(f.Stage)+" stage")
	whyUK = append(whyUK, "етап «"+cmp.Or(ukStage[f.Stage], string(f.Stage))+"»")
	switch f.Source {
	case crm.SourcePartner:
		score += 0.20
		why = append(why, "partner source")
	case crm.SourceManual:
		score += 0.10
		why = append(why, "manual source")
	default:
		why = append(why, string(f.Source)+" source")
	}
	whyUK = append(whyUK, "джерело «"+cmp.Or(ukSource[f.Source], string(f.Source))+"»")
	if f.HasBusinessDomain {
		score += 0.15
		why = append(why, "known business domain")
		whyUK = append(whyUK, "відомий бізнес-домен")
	} else {
		why = append(why, "no business domain")
		whyUK = append(whyUK, "бізнес-домен невідомий")
	}
	score += 0.02 * float64(min(max(f.MessagesCount, 0), 10))
	why = append(why, fmt.Sprintf("%d messages", max(f.MessagesCount, 0)))
	whyUK = append(whyUK, ukMessages(max(f.MessagesCount, 0)))
	if f.Stage == crm.LeadLost {
		score = 0
	}
	score = math.Round(min(max(score, 0), 1)*100) / 100

	rec := crm.RecommendNurture
	switch {
	case f.Stage == crm.LeadLost || f.Stage != crm.LeadNew && score < 0.3:
		rec = crm.RecommendLost
	case f.Stage == crm.LeadQualified && f.HasBusinessDomain && score >= 0.6:
		rec = crm.RecommendTransfer
	}
	return crm.Score{Score: score, Recommendation: rec,
		Reason:   "Baseline rules (not AI): " + strings.Join(why, ", ") + ".",
		ReasonUK: "Базові правила (не ШІ): " + strings.Join(whyUK, ", ") + "."}
}
