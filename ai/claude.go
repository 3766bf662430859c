package ai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"

	"github.com/crmleads/crm"
)

// maxTokens bounds the answer. A typical answer is about 100 tokens (the
// reason in English and in Ukrainian); 1024 leaves room for two reasons of the
// full crm.MaxReasonLength while capping what a runaway answer can cost (1024
// output tokens of the default model: $0.00051).
// An answer cut at this bound ends with stop_reason "max_tokens" and is
// rejected, never repaired.
const maxTokens = 1024

// defaultRetryAfter is what a client is told to wait when the provider is
// unavailable and said nothing about when to come back.
const defaultRetryAfter = 5 * time.Second

// maxRawOutput bounds what a failed call keeps of the provider's reply for the
// analysis log.
const maxRawOutput = 4000

// claude scores with Claude through the official SDK.
type claude struct {
	client      anthropic.Client
	model       string
	prompt      prompt
	callTimeout time.Duration
}

func newClaude(cfg Config) (*claude, error) {
	p, err := loadPrompt(cfg.PromptVersion)
	if err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	retries := cfg.MaxRetries
	switch {
	case retries == 0:
		retries = DefaultMaxRetries
	case retries < 0:
		retries = 0
	}
	callTimeout := cfg.CallTimeout
	if callTimeout <= 0 {
		// Room for every attempt to run out its own timeout, plus the SDK's
		// backoff between attempts (0.5 s, 1 s, … when the provider names no wait).
		callTimeout = time.Duration(retries+1)*timeout + 5*time.Second
	}
	model := cfg.Model
	if model == "" {
		model = DefaultModel
	}

	// The SDK's own retry loop is the one we want: it retries 408, 409, 429
	// and 5xx (529 included) and connection errors, waits what retry-after-ms
	// or retry-after says (else an exponential backoff with jitter), and
	// applies the per-attempt timeout. We only bound it and watch it.
	opts := []option.RequestOption{
		option.WithMaxRetries(retries),
		option.WithRequestTimeout(timeout),
		option.WithMiddleware(watchAttempt),
	}
	// Explicit values win; without them anthropic.NewClient falls back to
	// ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL (and the SDK's other sources).
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	if cfg.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(cfg.BaseURL))
	}
	return &claude{client: anthropic.NewClient(opts...), model: model, prompt: p, callTimeout: callTimeout}, nil
}

// Score asks Claude for its opinion on f. Errors: EBADGATEWAY with
// CodeAIBadAnswer (an answer that fails validation) or CodeAIRejected (the
// provider refused the request: 400, 401, 403, 404…); EUNAVAILABLE with
// CodeAIUnavailable (overload, rate limit, 5xx, timeout, network) and a
// RetryAfter. The Call is filled as far as the call got.
func (c *claude) Score(ctx context.Context, f crm.Facts) (crm.Score, crm.Call, error) {
	call := crm.Call{Provider: ProviderClaude, Model: c.model, PromptVersion: c.prompt.Version}
	user, err := json.Marshal(wireFacts(f))
	if err != nil { // cannot happen: four plain fields
		return crm.Score{}, call, fmt.Errorf("ai: encode facts: %w", err)
	}
	params := c.params(user)

	ctx, cancel := context.WithTimeout(ctx, c.callTimeout)
	defer cancel()
	w := &watch{}
	w.deadline, _ = ctx.Deadline()
	start := time.Now()
	msg, err := c.client.Messages.New(context.WithValue(ctx, watchKey{}, w), params)
	call.Latency = time.Since(start)
	if err != nil {
		return crm.Score{}, call, failure(err, w, &call)
	}

	s, err := c.judge(msg, f, &call, cost)
	return s, call, err
}

// params is the request that scores the facts user (their wire JSON).
func (c *claude) params(user []byte) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model:     c.model,
		MaxTokens: maxTokens,
		System:    []anthropic.TextBlockParam{{Text: c.prompt.System}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(string(user)))},
		// Thinking is billed as output and a four-fact classification gains
		// nothing from it; the default model would otherwise think adaptively.
		Thinking: anthropic.ThinkingConfigParamUnion{OfDisabled: &anthropic.ThinkingConfigDisabledParam{}},
		// The answer is JSON of the prompt's answerSchema by construction. No temperature
		// and no forced tool_choice: recent models refuse some of them, and
		// structured output needs neither.
		OutputConfig: anthropic.OutputConfigParam{Format: anthropic.JSONOutputFormatParam{Schema: answerSchema(c.prompt.Bilingual)}},
	}
}

// judge reads a message answering the facts f into a validated score, and
// fills call with its model, usage, cost (priced by price) and raw answer.
func (c *claude) judge(msg *anthropic.Message, f crm.Facts, call *crm.Call, price func(string, int, int) float64) (crm.Score, error) {
	if msg.Model != "" {
		call.Model = msg.Model
	}
	call.InputTokens = int(msg.Usage.InputTokens + msg.Usage.CacheCreationInputTokens + msg.Usage.CacheReadInputTokens)
	call.OutputTokens = int(msg.Usage.OutputTokens)
	call.CostUSD = price(call.Model, call.InputTokens, call.OutputTokens)
	if call.CostUSD == 0 && call.Model != c.model { // a dated id for the alias we asked for
		call.CostUSD = price(c.model, call.InputTokens, call.OutputTokens)
	}

	// The answer is in whichever block holds text: with thinking disabled
	// there should be just one, but a thinking block first must not hide it.
	var text strings.Builder
	for _, b := range msg.Content {
		if b.Type == "text" {
			text.WriteString(b.Text)
		}
	}
	call.RawOutput = text.String()
	if call.RawOutput == "" {
		call.RawOutput = truncate(msg.RawJSON())
	}
	if msg.StopReason != anthropic.StopReasonEndTurn {
		return crm.Score{}, badAnswer(fmt.Errorf("stop_reason %q", msg.StopReason))
	}
	s, err := parseAnswer(text.String(), c.prompt.Bilingual)
	if err != nil {
		return crm.Score{}, badAnswer(err)
	}
	s.Factors = Factors(f)
	return s, nil
}

func badAnswer(cause error) *crm.Error {
	return &crm.Error{Kind: crm.EBADGATEWAY, Code: crm.CodeAIBadAnswer,
		Message: "the AI answered with something other than a valid analysis", Cause: cause}
}

// failure turns an error of the SDK into a *crm.Error. The provider's own
// status never reaches our client: its 401 is our misconfiguration, not the
// user's, so it becomes a 502 ai_rejected.
func failure(err error, w *watch, call *crm.Call) *crm.Error {
	var apiErr *anthropic.Error
	if errors.As(err, &apiErr) {
		call.RawOutput = truncate(apiErr.RawJSON())
		status := apiErr.StatusCode
		if retryable(status) {
			var ra time.Duration
			ok := false
			if apiErr.Response != nil {
				ra, ok = retryAfter(apiErr.Response.Header)
			}
			if !ok {
				ra = w.retryAfter()
			}
			return crm.Unavailable(crm.CodeAIUnavailable, unavailableMessage(status), clientRetryAfter(ra), err)
		}
		return &crm.Error{Kind: crm.EBADGATEWAY, Code: crm.CodeAIRejected,
			Message: fmt.Sprintf("the AI provider rejected the request (HTTP %d %s)", status, apiErr.Type()), Cause: err}
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return crm.Unavailable(crm.CodeAIUnavailable, "the AI provider did not answer in time", clientRetryAfter(w.retryAfter()), err)
	case errors.Is(err, context.Canceled):
		return crm.Unavailable(crm.CodeAIUnavailable, "the analysis was cancelled", clientRetryAfter(w.retryAfter()), err)
	case errors.As(err, &netErr), errors.As(err, new(*readError)):
		return crm.Unavailable(crm.CodeAIUnavailable, "the AI provider cannot be reached", clientRetryAfter(w.retryAfter()), err)
	}
	// What is left never left (no credentials: our configuration) or came
	// back whole, since watchAttempt read every body, but could not be
	// decoded as a message (a body that is not JSON, say).
	if w.attempts() == 0 {
		return &crm.Error{Kind: crm.EBADGATEWAY, Code: crm.CodeAIRejected, Message: "the AI request could not be sent", Cause: err}
	}
	return badAnswer(err)
}

func unavailableMessage(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "the AI provider's rate limit is reached; try again later"
	case 529:
		return "the AI provider is overloaded; try again later"
	default:
		return fmt.Sprintf("the AI provider is unavailable (HTTP %d); try again later", status)
	}
}

// retryable reports whether a status means "not now" rather than "never":
// the statuses the SDK retries, which are still failing once retries run out.
func retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusConflict ||
		status == http.StatusTooManyRequests || status >= 500
}

// retryAfter reads the provider's wait, preferring retry-after-ms as the SDK
// does; retry-after is seconds or an HTTP date.
func retryAfter(h http.Header) (time.Duration, bool) {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
			return time.Duration(s * float64(time.Second)), true
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(time.Until(t), 0), true
		}
	}
	return 0, false
}

// clientRetryAfter is the wait to tell our own client: it goes out in an HTTP
// Retry-After header, which counts whole seconds, so round up, at least 1 s;
// unknown (0) becomes defaultRetryAfter.
func clientRetryAfter(d time.Duration) time.Duration {
	if d <= 0 {
		return defaultRetryAfter
	}
	return time.Duration(math.Ceil(d.Seconds())) * time.Second
}

func truncate(s string) string {
	if len(s) <= maxRawOutput {
		return s
	}
	return strings.ToValidUTF8(s[:maxRawOutput], "") // a cut may split a character
}

// readError is a response body that could not be read in full.
type readError struct{ err error }

func (e *readError) Error() string { return "read the response: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// watch records what the attempts of one call saw, for the error a failed
// call returns: when the caller's deadline ends the call during a wait, the
// SDK returns only the context's error, and the provider's retry-after would
// be lost.
type watch struct {
	deadline time.Time // of the whole call

	mu    sync.Mutex
	n     int
	after time.Duration
}

type watchKey struct{}

func (w *watch) retryAfter() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.after
}

func (w *watch) attempts() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// watchAttempt is an SDK middleware: it runs once per attempt, retries
// included.
func watchAttempt(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	w, _ := req.Context().Value(watchKey{}).(*watch)
	if w == nil {
		return next(req)
	}
	w.mu.Lock()
	w.n++
	w.mu.Unlock()
	res, err := next(req)
	if err != nil || res == nil {
		return res, err
	}
	// Read the body here, within the attempt, so that a connection dropped
	// half-way is an attempt without a response (retried, then reported as
	// unavailable) and a decoding error later can only mean a bad answer.
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, &readError{err}
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	if ra, ok := retryAfter(res.Header); ok && retryable(res.StatusCode) {
		w.mu.Lock()
		w.after = ra
		w.mu.Unlock()
		// A wait past the end of the call would end in the same outage, only
		// later: stop now (the SDK obeys x-should-retry) and hand the wait on
		// to our client instead.
		if !w.deadline.IsZero() && time.Now().Add(ra).After(w.deadline) {
			res.Header.Set("X-Should-Retry", "false")
		}
	}
	return res, err
}
