package ai

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/crmleads/crm"
)

// TestPromptBudget estimates what one analysis costs at the default model and
// fails when a prompt outgrows the target of $0.05 per 1,000 analyses, or
// $0.07 for a prompt that asks for the reason in Ukrainian too: that second
// sentence is output, five times the price of input, and Cyrillic takes two
// bytes a letter (docs/AI.md, "Size and cost"). The
// Claude tokenizer is not public, so sizes are estimated at one token per four
// bytes (English prose; JSON runs denser, hence the second, pessimistic
// figure at one per three). docs/AI.md quotes the logged figures.
func TestPromptBudget(t *testing.T) {
	user, _ := json.Marshal(wireFacts(crm.Facts{Source: crm.SourcePartner, Stage: crm.LeadContacted, MessagesCount: 12, HasBusinessDomain: true}))
	for _, v := range PromptVersions() {
		p, err := loadPrompt(v)
		if err != nil {
			t.Fatal(err)
		}
		schema, _ := json.Marshal(map[string]any{"type": "json_schema", "schema": answerSchema(p.Bilingual)})
		// A typical answer: the prompt asks for a reason of at most 20 words
		// (in two languages after v1; Cyrillic takes two bytes a letter).
		answer := `{"score":0.62,"recommendation":"continue_nurturing","reason":"Partner lead with a known domain and steady activity, but not yet qualified by a manager."`
		if p.Bilingual {
			answer += `,"reason_uk":"Партнерський лід із відомим доменом і сталою активністю, але менеджер його ще не кваліфікував."`
		}
		answer += "}"
		for _, bytesPerToken := range []float64{4, 3} {
			tokens := func(n int) int { return int(math.Ceil(float64(n) / bytesPerToken)) }
			// A few tokens frame each message and the system prompt.
			const framing = 10
			in := tokens(len(p.System)) + tokens(len(user)) + framing
			out := tokens(len(answer))
			per1000 := cost(DefaultModel, in, out) * 1000
			withSchema := cost(DefaultModel, in+tokens(len(schema)), out) * 1000
			t.Logf("prompt %s at %.0f bytes/token: system %d B, facts %d B, schema %d B -> %d input + %d output tokens: $%.4f per 1,000 analyses ($%.4f if the schema is billed as input)",
				v, bytesPerToken, len(p.System), len(user), len(schema), in, out, per1000, withSchema)
			target := 0.05
			if p.Bilingual {
				target = 0.07
			}
			if bytesPerToken == 4 && per1000 > target {
				t.Errorf("prompt %s: an estimated $%.4f per 1,000 analyses is over the $%.2f target", v, per1000, target)
			}
		}
	}
}
