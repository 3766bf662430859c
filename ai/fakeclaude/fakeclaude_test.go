package fakeclaude_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/crmleads/crm/ai/fakeclaude"
)

const request = `{"model":"claude-haiku-5-5","max_tokens":100,"messages":[{"role":"user","content":[{"type":"text","text":"{\"source\":\"partner\",\"stage\":\"qualified\",\"messages_count\":5,\"has_business_domain\":true}"}]}]}`

func post(t *testing.T, s *fakeclaude.Server, body string, header map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL()+"/v1/messages", strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("body %q is not JSON: %v", b, err)
	}
	return res, out
}

var auth = map[string]string{"x-api-key": "sk-test", "anthropic-version": "2023-06-01"}

func errorType(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	if body["type"] != "error" || body["request_id"] == nil {
		return ""
	}
	return e["type"].(string)
}

func TestAuthentication(t *testing.T) {
	s := fakeclaude.New()
	defer s.Close()
	res, body := post(t, s, request, map[string]string{"anthropic-version": "2023-06-01"})
	if res.StatusCode != 401 || errorType(body) != "authentication_error" {
		t.Errorf("without a key: %d %v", res.StatusCode, body)
	}
	res, body = post(t, s, request, map[string]string{"x-api-key": "sk-test"})
	if res.StatusCode != 400 || errorType(body) != "invalid_request_error" {
		t.Errorf("without anthropic-version: %d %v", res.StatusCode, body)
	}
	if n := len(s.Requests()); n != 2 {
		t.Errorf("%d requests recorded, want 2", n)
	}
}

func TestDefaultAnswer(t *testing.T) {
	s := fakeclaude.New()
	defer s.Close()
	res, body := post(t, s, request, auth)
	if res.StatusCode != 200 || body["type"] != "message" || body["role"] != "assistant" || body["model"] != "claude-haiku-5-5" ||
		body["stop_reason"] != "end_turn" || !strings.HasPrefix(body["id"].(string), "msg_") {
		t.Fatalf("message = %v", body)
	}
	usage := body["usage"].(map[string]any)
	if usage["input_tokens"].(float64) <= 0 || usage["output_tokens"].(float64) <= 0 {
		t.Errorf("usage = %v", usage)
	}
	text := body["content"].([]any)[0].(map[string]any)["text"].(string)
	var answer struct {
		Score          float64
		Recommendation string
		Reason         string
	}
	if err := json.Unmarshal([]byte(text), &answer); err != nil || answer.Score < 0.7 || answer.Recommendation != "transfer_to_sales" || answer.Reason == "" {
		t.Errorf("answer = %s, want a high score for a qualified partner lead with a domain", text)
	}
	// Deterministic: the same facts, the same answer.
	_, again := post(t, s, request, auth)
	if again["content"].([]any)[0].(map[string]any)["text"] != text {
		t.Errorf("two answers to the same facts differ")
	}
}

func TestScriptedResponses(t *testing.T) {
	s := fakeclaude.New()
	defer s.Close()
	s.Enqueue(fakeclaude.Error(529).With("retry-after", "3"), fakeclaude.Stop("no", "refusal"))
	res, body := post(t, s, request, auth)
	if res.StatusCode != 529 || errorType(body) != "overloaded_error" || res.Header.Get("retry-after") != "3" || res.Header.Get("request-id") == "" {
		t.Errorf("first: %d %v %v", res.StatusCode, res.Header, body)
	}
	if _, body = post(t, s, request, auth); body["stop_reason"] != "refusal" {
		t.Errorf("second: %v", body)
	}
	s.SetDefault(func(fakeclaude.Request) fakeclaude.Response { return fakeclaude.Error(429) })
	if res, body = post(t, s, request, auth); res.StatusCode != 429 || errorType(body) != "rate_limit_error" {
		t.Errorf("SetDefault: %d %v", res.StatusCode, body)
	}
	reqs := s.Requests()
	if len(reqs) != 3 || string(reqs[0].Body) != request || reqs[0].Header.Get("X-Api-Key") != "sk-test" || !strings.Contains(reqs[0].UserText(), `"stage":"qualified"`) {
		t.Errorf("requests = %+v", reqs)
	}
	s.Reset()
	if res, _ = post(t, s, request, auth); res.StatusCode != 200 || len(s.Requests()) != 1 {
		t.Errorf("after Reset: %d, %d requests", res.StatusCode, len(s.Requests()))
	}
}

func TestInvalidRequest(t *testing.T) {
	s := fakeclaude.New()
	defer s.Close()
	for _, body := range []string{`not json`, `{"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, `{"model":"m","max_tokens":10,"messages":[]}`} {
		if res, out := post(t, s, body, auth); res.StatusCode != 400 || errorType(out) != "invalid_request_error" {
			t.Errorf("%s: %d %v", body, res.StatusCode, out)
		}
	}
}
