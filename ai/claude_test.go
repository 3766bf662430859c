package ai_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/ai"
	"github.com/crmleads/crm/ai/fakeclaude"
)

// These tests run the real SDK client against fakeclaude over real HTTP: the
// SDK's retries, timeouts and decoding are part of what is tested.

var goodFacts = crm.Facts{Source: crm.SourcePartner, Stage: crm.LeadQualified, MessagesCount: 4, HasBusinessDomain: true}

// setup starts a fake and a Claude scorer pointed at it. Retries are fast
// because every scripted error says retry-after-ms: 1.
// latestPrompt is the default prompt version.
func latestPrompt() string { vs := ai.PromptVersions(); return vs[len(vs)-1] }

func setup(t *testing.T, cfg ai.Config) (*fakeclaude.Server, crm.Scorer) {
	t.Helper()
	fake := fakeclaude.New()
	t.Cleanup(fake.Close)
	cfg.Provider, cfg.APIKey, cfg.BaseURL = ai.ProviderClaude, "sk-test", fake.URL()
	sc, err := ai.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fake, sc
}

// overloaded is a 529 that asks for an immediate retry, to keep tests fast.
func overloaded() fakeclaude.Response { return fakeclaude.Error(529).With("retry-after-ms", "1") }

func asError(t *testing.T, err error, kind, code string) *crm.Error {
	t.Helper()
	var e *crm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want a *crm.Error", err, err)
	}
	if e.Kind != kind || e.Code != code {
		t.Fatalf("error = %s/%s (%v), want %s/%s", e.Kind, e.Code, e, kind, code)
	}
	if e.Cause == nil {
		t.Errorf("error %v has no Cause for the logs", e)
	}
	return e
}

func TestClaudeSuccess(t *testing.T) {
	t.Parallel()
	fake, sc := setup(t, ai.Config{})
	s, call, err := sc.Score(context.Background(), goodFacts)
	if err != nil {
		t.Fatal(err)
	}
	if s.Score < 0.7 || s.Score > 1 || s.Recommendation != crm.RecommendTransfer || s.Reason == "" {
		t.Errorf("score = %+v, want a high score recommending transfer_to_sales", s)
	}
	// The latest prompt asks for the reason in Ukrainian too; the fake
	// answers both, as the real API does for the schema sent.
	if !strings.HasPrefix(s.ReasonUK, "Лід на етапі") || s.ReasonUK == s.Reason {
		t.Errorf("reason_uk = %q, want the fake's Ukrainian reason", s.ReasonUK)
	}
	if call.Provider != "claude" || call.Model != ai.DefaultModel || call.PromptVersion != latestPrompt() {
		t.Errorf("call = %+v, want claude / %s / %s", call, ai.DefaultModel, latestPrompt())
	}
	if call.InputTokens <= 0 || call.OutputTokens <= 0 || call.Latency <= 0 {
		t.Errorf("call = %+v, want tokens and latency", call)
	}
	want := (float64(call.InputTokens)*0.10 + float64(call.OutputTokens)*0.50) / 1e6
	if math.Abs(call.CostUSD-want) > 1e-12 {
		t.Errorf("cost = %v, want %v", call.CostUSD, want)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(call.RawOutput), &raw); err != nil || raw["score"] != s.Score {
		t.Errorf("raw output = %q, want the answer's JSON", call.RawOutput)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	t.Logf("tokens in/out %d/%d, cost %.8f USD, %.4f USD per 1,000", call.InputTokens, call.OutputTokens, call.CostUSD, call.CostUSD*1000)
}

func TestClaudeModelAndPromptVersionAreRecorded(t *testing.T) {
	t.Parallel()
	fake, sc := setup(t, ai.Config{Model: "claude-opus-4-6", PromptVersion: "v1"})
	_, call, err := sc.Score(context.Background(), goodFacts)
	if err != nil {
		t.Fatal(err)
	}
	if call.Model != "claude-opus-4-6" || call.PromptVersion != "v1" {
		t.Errorf("call = %+v", call)
	}
	if want := (float64(call.InputTokens)*5 + float64(call.OutputTokens)*25) / 1e6; math.Abs(call.CostUSD-want) > 1e-12 {
		t.Errorf("cost = %v, want %v", call.CostUSD, want)
	}
	var body struct{ Model string }
	fake.Requests()[0].JSON(&body)
	if body.Model != "claude-opus-4-6" {
		t.Errorf("model sent = %q", body.Model)
	}
}

func TestClaudeUnknownModelCostsZero(t *testing.T) {
	t.Parallel()
	_, sc := setup(t, ai.Config{Model: "claude-unknown-9"})
	_, call, err := sc.Score(context.Background(), goodFacts)
	if err != nil {
		t.Fatal(err)
	}
	if call.CostUSD != 0 || call.InputTokens == 0 {
		t.Errorf("call = %+v, want tokens but no cost for an unpriced model", call)
	}
}

// TestClaudeBadAnswers runs under v1, whose answer has one reason: each
// answer is wrong in the one way its name says. TestClaudeBilingualAnswers
// holds the later prompts' reason_uk to the same rules.
func TestClaudeBadAnswers(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", crm.MaxReasonLength+1)
	valid := `{"score":0.7,"recommendation":"continue_nurturing","reason":"Some reason."}`
	for name, resp := range map[string]fakeclaude.Response{
		"not JSON":                fakeclaude.Text("Sure! The lead looks promising, score 0.8."),
		"empty text":              fakeclaude.Text(""),
		"JSON array":              fakeclaude.Text(`[0.7,"continue_nurturing","x"]`),
		"JSON null":               fakeclaude.Text(`null`),
		"trailing data":           fakeclaude.Text(valid + ` {"score":1}`),
		"score above 1":           fakeclaude.Text(`{"score":1.5,"recommendation":"continue_nurturing","reason":"x"}`),
		"score below 0":           fakeclaude.Text(`{"score":-0.1,"recommendation":"continue_nurturing","reason":"x"}`),
		"score as string":         fakeclaude.Text(`{"score":"0.7","recommendation":"continue_nurturing","reason":"x"}`),
		"score null":              fakeclaude.Text(`{"score":null,"recommendation":"continue_nurturing","reason":"x"}`),
		"score boolean":           fakeclaude.Text(`{"score":true,"recommendation":"continue_nurturing","reason":"x"}`),
		"unknown recommendation":  fakeclaude.Text(`{"score":0.7,"recommendation":"call_them","reason":"x"}`),
		"recommendation not text": fakeclaude.Text(`{"score":0.7,"recommendation":1,"reason":"x"}`),
		"empty reason":            fakeclaude.Text(`{"score":0.7,"recommendation":"continue_nurturing","reason":""}`),
		"blank reason":            fakeclaude.Text(`{"score":0.7,"recommendation":"continue_nurturing","reason":"  \n"}`),
		"null reason":             fakeclaude.Text(`{"score":0.7,"recommendation":"continue_nurturing","reason":null}`),
		"overlong reason":         fakeclaude.Text(`{"score":0.7,"recommendation":"continue_nurturing","reason":"` + long + `"}`),
		"missing field":           fakeclaude.Text(`{"score":0.7,"recommendation":"continue_nurturing"}`),
		"extra field":             fakeclaude.Text(`{"score":0.7,"recommendation":"continue_nurturing","reason":"x","confidence":"high"}`),
		"repeated key":            fakeclaude.Text(`{"score":0.1,"score":0.9,"recommendation":"continue_nurturing","reason":"x"}`),
		"stop refusal":            fakeclaude.Stop(valid, "refusal"),
		"stop max_tokens":         fakeclaude.Stop(`{"score":0.7,"recommendation":"continue_nurturing","reason":"Some`, "max_tokens"),
		"stop max_tokens, whole":  fakeclaude.Stop(valid, "max_tokens"),
		"body not JSON":           {Body: "<html>Bad gateway</html>", Header: map[string][]string{"Content-Type": {"text/html"}}},
		"body broken JSON":        {Body: `{"id":"msg_1","type":"message","content":[`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake, sc := setup(t, ai.Config{PromptVersion: "v1"})
			fake.Enqueue(resp)
			s, call, err := sc.Score(context.Background(), goodFacts)
			asError(t, err, crm.EBADGATEWAY, crm.CodeAIBadAnswer)
			if !reflect.DeepEqual(s, crm.Score{}) {
				t.Errorf("score = %+v, want none", s)
			}
			if call.Provider != "claude" || call.Model == "" || call.PromptVersion != "v1" || call.Latency <= 0 {
				t.Errorf("call = %+v, want it filled as far as known", call)
			}
			if resp.Body == "" && resp.Text != "" && call.RawOutput != resp.Text {
				t.Errorf("raw output = %q, want the answer %q", call.RawOutput, resp.Text)
			}
			if resp.Body == "" && call.InputTokens == 0 {
				t.Errorf("call = %+v, want the tokens billed for a bad answer", call)
			}
			if n := len(fake.Requests()); n != 1 {
				t.Errorf("%d requests, want 1: a bad answer is not retried", n)
			}
		})
	}
}

func TestClaudeTransientOverload(t *testing.T) {
	t.Parallel()
	fake, sc := setup(t, ai.Config{})
	fake.Enqueue(overloaded())
	s, _, err := sc.Score(context.Background(), goodFacts)
	if err != nil || !s.Recommendation.Valid() {
		t.Fatalf("Score = %+v, %v; want success after one retry", s, err)
	}
	if n := len(fake.Requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestClaudePersistentOverload(t *testing.T) {
	t.Parallel()
	for _, retries := range []int{-1, 1, 3} {
		t.Run(fmt.Sprint(retries), func(t *testing.T) {
			t.Parallel()
			fake, sc := setup(t, ai.Config{MaxRetries: retries})
			fake.SetDefault(func(fakeclaude.Request) fakeclaude.Response { return overloaded() })
			_, call, err := sc.Score(context.Background(), goodFacts)
			e := asError(t, err, crm.EUNAVAILABLE, crm.CodeAIUnavailable)
			// retry-after-ms: 1, rounded up to the whole second an HTTP
			// Retry-After can say (the default when the header is absent is 5s).
			if e.RetryAfter != time.Second {
				t.Errorf("RetryAfter = %v, want 1s from the header", e.RetryAfter)
			}
			if want := 1 + max(retries, 0); len(fake.Requests()) != want {
				t.Errorf("%d requests, want %d", len(fake.Requests()), want)
			}
			if !strings.Contains(call.RawOutput, "overloaded_error") {
				t.Errorf("raw output = %q, want the provider's error body", call.RawOutput)
			}
		})
	}
}

func TestClaudeDefaultRetries(t *testing.T) {
	t.Parallel()
	fake, sc := setup(t, ai.Config{})
	fake.SetDefault(func(fakeclaude.Request) fakeclaude.Response { return overloaded() })
	_, _, err := sc.Score(context.Background(), goodFacts)
	asError(t, err, crm.EUNAVAILABLE, crm.CodeAIUnavailable)
	if n := len(fake.Requests()); n != 1+ai.DefaultMaxRetries {
		t.Errorf("%d requests, want %d", n, 1+ai.DefaultMaxRetries)
	}
}

func TestClaudeOverloadWithoutRetryAfter(t *testing.T) {
	t.Parallel()
	fake, sc := setup(t, ai.Config{MaxRetries: -1})
	fake.Enqueue(fakeclaude.Error(500))
	_, _, err := sc.Score(context.Background(), goodFacts)
	e := asError(t, err, crm.EUNAVAILABLE, crm.CodeAIUnavailable)
	if e.RetryAfter != 5*time.Second {
		t.Errorf("RetryAfter = %v, want the 5s default", e.RetryAfter)
	}
}

func TestClaudeRateLimitHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	fake, sc := setup(t, ai.Config{})
	fake.Enqueue(fakeclaude.Error(429).With("retry-after", "1"))
	start := time.Now()
	if _, _, err := sc.Score(context.Background(), goodFacts); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("the call took %v; the SDK should have waited the 1s retry-after", d)
	}
	if n := len(fake.Requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestClaudeRateLimitLongerThanTheCall(t *testing.T) {
	t.Parallel()
	// Waiting 30s would outlast the 2s the call may take: give up at once and
	// pass the wait on to the client.
	fake, sc := setup(t, ai.Config{CallTimeout: 2 * time.Second})
	fake.Enqueue(fakeclaude.Error(429).With("retry-after", "30"))
	start := time.Now()
	_, _, err := sc.Score(context.Background(), goodFacts)
	e := asError(t, err, crm.EUNAVAILABLE, crm.CodeAIUnavailable)
	if e.RetryAfter != 30*time.Second {
		t.Errorf("RetryAfter = %v, want 30s", e.RetryAfter)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the call took %v, want an immediate failure", d)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestClaudeAttemptTimeout(t *testing.T) {
	t.Parallel()
	fake, sc := setup(t, ai.Config{Timeout: 100 * time.Millisecond, MaxRetries: 1})
	fake.SetDefault(func(fakeclaude.Request) fakeclaude.Response {
		return fakeclaude.Text(`{"score":0.5,"recommendation":"continue_nurturing","reason":"late"}`).After(5 * time.Second)
	})
	start := time.Now()
	_, call, err := sc.Score(context.Background(), goodFacts)
	e := asError(t, err, crm.EUNAVAILABLE, crm.CodeAIUnavailable)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the call took %v; each attempt should stop after 100ms", d)
	}
	if e.RetryAfter <= 0 {
		t.Errorf("RetryAfter = %v, want a wait", e.RetryAfter)
	}
	if n := len(fake.Requests()); n != 2 {
		t.Errorf("%d requests, want 2 (a timed-out attempt is retried)", n)
	}
	if call.Latency < 200*time.Millisecond {
		t.Errorf("latency = %v, want both attempts counted", call.Latency)
	}
}

func TestClaudeCallTimeout(t *testing.T) {
	t.Parallel()
	fake, sc := setup(t, ai.Config{Timeout: 10 * time.Second, CallTimeout: 200 * time.Millisecond})
	fake.SetDefault(func(fakeclaude.Request) fakeclaude.Response { return fakeclaude.Text("{}").After(5 * time.Second) })
	start := time.Now()
	_, _, err := sc.Score(context.Background(), goodFacts)
	asError(t, err, crm.EUNAVAILABLE, crm.CodeAIUnavailable)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the call took %v, want it bounded by the 200ms call timeout", d)
	}
}

func TestClaudeCallerCancels(t *testing.T) {
	t.Parallel()
	fake, sc := setup(t, ai.Config{})
	fake.SetDefault(func(fakeclaude.Request) fakeclaude.Response { return fakeclaude.Text("{}").After(5 * time.Second) })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, _, err := sc.Score(ctx, goodFacts)
	asError(t, err, crm.EUNAVAILABLE, crm.CodeAIUnavailable)
}

func TestClaudeUnreachable(t *testing.T) {
	t.Parallel()
	fake := fakeclaude.New()
	url := fake.URL()
	fake.Close() // nothing listens there any more
	sc, err := ai.New(ai.Config{Provider: "claude", APIKey: "sk-test", BaseURL: url, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = sc.Score(context.Background(), goodFacts)
	asError(t, err, crm.EUNAVAILABLE, crm.CodeAIUnavailable)
}

func TestClaudeRejected(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 401, 403, 404, 413} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			fake, sc := setup(t, ai.Config{})
			fake.Enqueue(fakeclaude.Error(status))
			_, call, err := sc.Score(context.Background(), goodFacts)
			e := asError(t, err, crm.EBADGATEWAY, crm.CodeAIRejected)
			if e.RetryAfter != 0 {
				t.Errorf("RetryAfter = %v, want none", e.RetryAfter)
			}
			if n := len(fake.Requests()); n != 1 {
				t.Errorf("%d requests, want 1: a rejection is not retried", n)
			}
			if !strings.Contains(call.RawOutput, `"type":"error"`) {
				t.Errorf("raw output = %q, want the provider's error body", call.RawOutput)
			}
		})
	}
}

func TestClaudeMissingKeyIsRejected(t *testing.T) {
	// Not parallel: it clears the SDK's environment fallbacks.
	t.Setenv("ANTHROPIC_API_KEY", "")
	t.Setenv("ANTHROPIC_AUTH_TOKEN", "")
	t.Setenv("ANTHROPIC_PROFILE", "")
	t.Setenv("ANTHROPIC_CONFIG_DIR", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	fake := fakeclaude.New()
	defer fake.Close()
	t.Setenv("ANTHROPIC_BASE_URL", fake.URL())
	sc, err := ai.New(ai.Config{Provider: "claude"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = sc.Score(context.Background(), goodFacts)
	asError(t, err, crm.EBADGATEWAY, crm.CodeAIRejected)
	t.Logf("%v; %d requests reached the provider", err, len(fake.Requests()))
}

func TestClaudeHonoursEnvironment(t *testing.T) {
	// Not parallel: it sets the environment.
	fake := fakeclaude.New()
	defer fake.Close()
	t.Setenv("ANTHROPIC_API_KEY", "sk-from-env")
	t.Setenv("ANTHROPIC_BASE_URL", fake.URL())
	sc, err := ai.New(ai.Config{Provider: "claude"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sc.Score(context.Background(), goodFacts); err != nil {
		t.Fatal(err)
	}
	if got := fake.Requests()[0].Header.Get("X-Api-Key"); got != "sk-from-env" {
		t.Errorf("x-api-key = %q, want the environment's key", got)
	}
}

// TestClaudeSendsOnlyTheFourFacts is the privacy guarantee: the exact body the
// provider receives holds the four facts and nothing else about the lead.
func TestClaudeSendsOnlyTheFourFacts(t *testing.T) {
	t.Parallel()
	fake, sc := setup(t, ai.Config{})
	lead := &crm.Lead{ID: "lead-7f3a9c", Source: crm.SourcePartner, Stage: crm.LeadContacted,
		BusinessDomain: "secretdomain", MessagesCount: 3, Name: "Olena Kovalenko", Email: "olena@example.com",
		Phone: "+380501234567", Company: "Kovalenko Trading", Note: "met at the fair", OwnerID: "user-42",
		AI:        &crm.LeadAnalysis{Score: 0.91, Reason: "earlier reason", Recommendation: crm.RecommendTransfer},
		CreatedAt: time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC), UpdatedAt: time.Date(2032, 1, 2, 3, 4, 5, 0, time.UTC)}
	if _, _, err := sc.Score(context.Background(), lead.Facts()); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	body := reqs[0].Body

	// The user content is exactly the four facts.
	if got, want := reqs[0].UserText(), `{"source":"partner","stage":"contacted","messages_count":3,"has_business_domain":true}`; got != want {
		t.Errorf("user content = %s\nwant           %s", got, want)
	}
	// And the whole request has no other place for lead data to hide.
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	if got, want := slices.Sorted(maps.Keys(req)), []string{"max_tokens", "messages", "model", "output_config", "system", "thinking"}; !slices.Equal(got, want) {
		t.Errorf("request keys = %v, want %v", got, want)
	}
	var msgs []struct {
		Role    string
		Content []map[string]any
	}
	json.Unmarshal(req["messages"], &msgs)
	if len(msgs) != 1 || msgs[0].Role != "user" || len(msgs[0].Content) != 1 || len(msgs[0].Content[0]) != 2 {
		t.Errorf("messages = %s, want one user message with one text block", req["messages"])
	}
	var system []map[string]any
	json.Unmarshal(req["system"], &system)
	prompt, err := os.ReadFile("prompts/" + latestPrompt() + ".md")
	if err != nil {
		t.Fatal(err)
	}
	if len(system) != 1 || len(system[0]) != 2 || system[0]["text"] != strings.TrimSpace(string(prompt)) {
		t.Errorf("system = %s, want the prompt alone", req["system"])
	}
	for _, secret := range []string{lead.ID, "secretdomain", "Olena", "Kovalenko", "olena@example.com", "380501234567",
		"fair", "user-42", "0.91", "earlier reason", "2031", "2032"} {
		if strings.Contains(string(body), secret) {
			t.Errorf("the request body contains %q", secret)
		}
	}
}

func TestClaudeRequestShape(t *testing.T) {
	t.Parallel()
	fake, sc := setup(t, ai.Config{})
	if _, _, err := sc.Score(context.Background(), goodFacts); err != nil {
		t.Fatal(err)
	}
	r := fake.Requests()[0]
	if r.Method != "POST" || r.Path != "/v1/messages" || r.Header.Get("X-Api-Key") != "sk-test" || r.Header.Get("Anthropic-Version") == "" {
		t.Errorf("request = %s %s %v", r.Method, r.Path, r.Header)
	}
	var body struct {
		Model        string
		MaxTokens    int `json:"max_tokens"`
		Thinking     map[string]any
		OutputConfig struct {
			Format struct {
				Type   string
				Schema map[string]any
			}
		} `json:"output_config"`
	}
	if err := r.JSON(&body); err != nil {
		t.Fatal(err)
	}
	if len(body.Thinking) != 1 || body.Thinking["type"] != "disabled" {
		t.Errorf("thinking = %v, want {type: disabled}", body.Thinking)
	}
	if body.MaxTokens <= 0 || body.MaxTokens > 1024 {
		t.Errorf("max_tokens = %d, want a small bound", body.MaxTokens)
	}
	f := body.OutputConfig.Format
	props, _ := f.Schema["properties"].(map[string]any)
	if f.Type != "json_schema" || f.Schema["type"] != "object" || f.Schema["additionalProperties"] != false || len(props) != 4 || props["reason_uk"] == nil {
		t.Errorf("output_config.format = %+v, want the answer's JSON schema", f)
	}
	if rec, _ := props["recommendation"].(map[string]any); fmt.Sprint(rec["enum"]) != "[transfer_to_sales continue_nurturing mark_as_lost]" {
		t.Errorf("recommendation schema = %v", props["recommendation"])
	}
}

func TestClaudeConcurrent(t *testing.T) {
	t.Parallel()
	fake, sc := setup(t, ai.Config{})
	fake.Enqueue(overloaded(), overloaded())
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			f := goodFacts
			f.MessagesCount = i
			if _, _, err := sc.Score(context.Background(), f); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(fake.Requests()); n != 10 {
		t.Errorf("%d requests, want 10 (8 calls, 2 retried)", n)
	}
}

// TestClaudeBilingualAnswers: a prompt after v1 asks for reason_uk beside
// reason (in the schema too), and its answer must carry both, each non-empty
// and within crm.MaxReasonLength; v1 asks for one reason and refuses a second.
func TestClaudeBilingualAnswers(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("є", crm.MaxReasonLength+1)
	const head = `{"score":0.7,"recommendation":"continue_nurturing","reason":"Some reason."`
	for name, c := range map[string]struct {
		version, text string
		ok            bool
	}{
		"both":                  {"", head + `,"reason_uk":"  Якась причина. "}`, true},
		"no reason_uk":          {"", head + `}`, false},
		"empty reason_uk":       {"", head + `,"reason_uk":" "}`, false},
		"null reason_uk":        {"", head + `,"reason_uk":null}`, false},
		"overlong reason_uk":    {"", head + `,"reason_uk":"` + long + `"}`, false},
		"v1, one reason":        {"v1", head + `}`, true},
		"v1, reason_uk as well": {"v1", head + `,"reason_uk":"Якась причина."}`, false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake, sc := setup(t, ai.Config{PromptVersion: c.version})
			fake.Enqueue(fakeclaude.Text(c.text))
			s, _, err := sc.Score(context.Background(), goodFacts)
			if !c.ok {
				asError(t, err, crm.EBADGATEWAY, crm.CodeAIBadAnswer)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := "Якась причина."
			if c.version == "v1" {
				want = ""
			}
			if s.Reason != "Some reason." || s.ReasonUK != want {
				t.Errorf("reasons = %q, %q; want %q, %q", s.Reason, s.ReasonUK, "Some reason.", want)
			}
			var body struct {
				OutputConfig struct {
					Format struct{ Schema map[string]any }
				} `json:"output_config"`
			}
			if err := fake.Requests()[0].JSON(&body); err != nil {
				t.Fatal(err)
			}
			props, _ := body.OutputConfig.Format.Schema["properties"].(map[string]any)
			if _, asked := props["reason_uk"]; asked != (c.version == "") {
				t.Errorf("prompt %q: reason_uk in the schema is %v", c.version, asked)
			}
		})
	}
}
