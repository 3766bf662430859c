// Package ai gives the CRM an independent opinion on a lead: a crm.Scorer
// backed by Claude through the official Go SDK, or, without an API key, by
// Baseline, a small set of fixed rules clearly labelled as such.
//
// # What leaves the system
//
// Exactly the four crm.Facts: source, stage, messages_count and
// has_business_domain (a boolean, never the domain itself), as a small JSON
// object that is the whole user message, after a versioned system prompt
// (prompts/v1.md, …). No id, name, contact, note, date or earlier score is
// ever sent; the wire struct is spelled out in this package so a field added
// to crm.Facts does not leak by accident.
//
// # The request
//
// Structured output (output_config.format with a JSON schema) makes the answer
// JSON by construction; thinking is disabled, because it is billed as output
// and a four-fact classification gains nothing from it; max_tokens is small.
// No temperature and no forced tool_choice are sent: recent models refuse
// some of them and structured output needs neither.
//
// # The answer
//
// It is validated strictly (see parseAnswer): an object with exactly score (a
// number in [0, 1]), recommendation (one of the three) and reason (non-empty,
// at most crm.MaxReasonLength characters), ending with stop_reason end_turn.
// Anything else is EBADGATEWAY / ai_bad_answer; there is no repair and no
// fallback score.
//
// # Failures
//
// The SDK's own retry loop does the retrying (408, 409, 429, 5xx and 529, and
// connection errors, honouring retry-after-ms and retry-after), bounded by
// Config.MaxRetries, with Config.Timeout per attempt and Config.CallTimeout
// for the whole call. What still fails maps to a *crm.Error: overload, rate
// limit, 5xx, timeouts and network errors to EUNAVAILABLE / ai_unavailable
// with a RetryAfter (the provider's, else 5 s); a refused request (400, 401,
// 403, 404, 413…) to EBADGATEWAY / ai_rejected, so the provider's 401 is
// never mistaken for the user's. The crm.Call returned with every result,
// failed or not, carries provider, model, prompt version, raw output, tokens,
// latency and an estimated cost for the analysis log.
//
// Package fakeclaude is the local fake of the Messages API these tests, and
// those of other packages, run the real SDK against. docs/AI.md is the
// reader's guide.
package ai
