package ai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/crmleads/crm"
)

// answerKeys are the only keys an answer may have, all required: v1's
// prompt asks for the reason in English only, later ones for the same reason
// in Ukrainian too (reason_uk), which the app shows on Ukrainian pages.
func answerKeys(bilingual bool) []string {
	if bilingual {
		return []string{"score", "recommendation", "reason", "reason_uk"}
	}
	return []string{"score", "recommendation", "reason"}
}

// answerSchema is sent as output_config.format so that the model's answer is
// JSON of this shape by construction. It uses only the keywords structured
// outputs support: numeric ranges and string lengths are not among them, so
// the prompt states them and parseAnswer enforces them.
func answerSchema(bilingual bool) map[string]any {
	props := map[string]any{
		"score":          map[string]any{"type": "number"},
		"recommendation": map[string]any{"type": "string", "enum": []string{string(crm.RecommendTransfer), string(crm.RecommendNurture), string(crm.RecommendLost)}},
		"reason":         map[string]any{"type": "string"},
	}
	if bilingual {
		props["reason_uk"] = map[string]any{"type": "string"}
	}
	return map[string]any{
		"type":                 "object",
		"properties":           props,
		"required":             answerKeys(bilingual),
		"additionalProperties": false,
	}
}

// parseAnswer validates the model's text strictly. Structured outputs make a
// malformed answer unlikely, not impossible (a proxy, a model change, a
// truncated reply), and a score stored on a lead decides a transfer, so
// anything but exactly the expected object is rejected; there is no repair
// and no fallback score.
// A bilingual answer (the prompt asked for reason_uk) must carry both
// reasons, each held to the same rules.
func parseAnswer(text string, bilingual bool) (crm.Score, error) {
	keys := answerKeys(bilingual)
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		return crm.Score{}, fmt.Errorf("the answer is not a JSON object: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return crm.Score{}, fmt.Errorf("the answer has data after its JSON object")
	}
	if obj == nil {
		return crm.Score{}, fmt.Errorf("the answer is not a JSON object")
	}
	if err := noDuplicateKeys(text); err != nil {
		return crm.Score{}, err
	}
	for k := range obj {
		if !slices.Contains(keys, k) {
			return crm.Score{}, fmt.Errorf("the answer has an unexpected key %q", k)
		}
	}
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			return crm.Score{}, fmt.Errorf("the answer lacks %q", k)
		}
	}

	var s crm.Score
	// Unmarshalling into float64 would also accept nothing but a number, but
	// checking the first byte gives a clearer message for "0.7" or null.
	raw := bytes.TrimSpace(obj["score"])
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return crm.Score{}, fmt.Errorf("score is not a number: %s", raw)
	}
	if err := json.Unmarshal(raw, &s.Score); err != nil {
		return crm.Score{}, fmt.Errorf("score is not a number: %w", err)
	}
	if math.IsNaN(s.Score) || s.Score < 0 || s.Score > 1 {
		return crm.Score{}, fmt.Errorf("score %v is outside [0, 1]", s.Score)
	}

	var rec string
	if err := unmarshalString(obj["recommendation"], &rec); err != nil {
		return crm.Score{}, fmt.Errorf("recommendation: %w", err)
	}
	s.Recommendation = crm.Recommendation(rec)
	if !s.Recommendation.Valid() {
		return crm.Score{}, fmt.Errorf("recommendation %q is not one of %v", rec, crm.Recommendations)
	}
	var err error
	if s.Reason, err = parseReason(obj, "reason"); err != nil {
		return crm.Score{}, err
	}
	if bilingual {
		if s.ReasonUK, err = parseReason(obj, "reason_uk"); err != nil {
			return crm.Score{}, err
		}
	}
	return s, nil
}

// parseReason reads a reason: a non-empty string of at most
// crm.MaxReasonLength characters, trimmed.
func parseReason(obj map[string]json.RawMessage, key string) (string, error) {
	var reason string
	if err := unmarshalString(obj[key], &reason); err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", fmt.Errorf("%s is empty", key)
	}
	if n := utf8.RuneCountInString(reason); n > crm.MaxReasonLength {
		return "", fmt.Errorf("%s has %d characters, more than %d", key, n, crm.MaxReasonLength)
	}
	return reason, nil
}

// unmarshalString accepts only a JSON string: json.Unmarshal would turn null
// into "" silently.
func unmarshalString(raw json.RawMessage, dst *string) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return fmt.Errorf("not a string: %s", raw)
	}
	return json.Unmarshal(raw, dst)
}

// noDuplicateKeys rejects {"score":0.1,"score":0.9}: encoding/json keeps the
// last value, and a doubled key means the answer is not what the schema allows.
func noDuplicateKeys(text string) error {
	dec := json.NewDecoder(strings.NewReader(text))
	if _, err := dec.Token(); err != nil { // the opening brace
		return err
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		k, _ := t.(string)
		if seen[k] {
			return fmt.Errorf("the answer repeats the key %q", k)
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}
