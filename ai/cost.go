package ai

// PricesChecked is the date the price table below was last compared with a
// published list: DESIGN.md §3's prices for claude-haiku-5-5 and
// claude-opus-4-6 (that comparison was made on this date; the live price page
// could not be read from the build machine, so re-check it when you edit).
const PricesChecked = "2026-12-01"

// BatchDiscount is what a call through the Message Batches API costs,
// relative to the list price: half.
const BatchDiscount = 0.5

// price is what a model costs, in US dollars per million tokens.
type price struct{ Input, Output float64 }

// prices are the list prices of the models we expect to run, in USD per million
// input/output tokens. A model missing here costs 0 in the log, which is a known
// gap (see docs/AI.md), not a claim that it is free.
var prices = map[string]price{
	"claude-haiku-5-5":  {Input: 0.10, Output: 0.50},
	"claude-opus-4-6":   {Input: 5, Output: 25},
	"claude-opus-4-5":   {Input: 5, Output: 25},
	"claude-sonnet-4-6": {Input: 3, Output: 15},
	"claude-sonnet-4-5": {Input: 3, Output: 15},
	"claude-haiku-4-5":  {Input: 1, Output: 5},

	"claude-opus-4-5-20251101":   {Input: 5, Output: 25},
	"claude-sonnet-4-5-20250929": {Input: 3, Output: 15},
	"claude-haiku-4-5-20251001":  {Input: 1, Output: 5},
}

// cost estimates the price of a call from its usage; 0 for an unknown model.
func cost(model string, inputTokens, outputTokens int) float64 {
	p, ok := prices[model]
	if !ok {
		return 0
	}
	return (float64(inputTokens)*p.Input + float64(outputTokens)*p.Output) / 1e6
}

// BatchCost is cost for a call made through the Message Batches API.
func BatchCost(model string, inputTokens, outputTokens int) float64 {
	return cost(model, inputTokens, outputTokens) * BatchDiscount
}
