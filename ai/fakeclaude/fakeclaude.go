// Package fakeclaude is a local fake of the Anthropic Messages API for tests:
// an httptest.Server speaking the real wire format, so that tests drive the
// official SDK over real HTTP instead of mocking it.
//
// It serves POST /v1/messages, and the Message Batches API (batches.go). A request without an x-api-key (or bearer)
// header gets the API's 401 authentication_error, one without
// anthropic-version a 400. Otherwise the next scripted Response is sent, in the
// order they were queued; with the queue empty, the default responder answers:
// a valid analysis computed deterministically from the four facts in the last
// user message, so end-to-end tests need no script. Every request is recorded,
// headers and raw body, for assertions on exactly what left the program.
//
// Usage (input_tokens, output_tokens) is an estimate, one token per four bytes
// of system prompt and messages, rounded up: the real tokenizer is not public,
// and tests need plausible, stable numbers, not exact ones.
package fakeclaude

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Response is one scripted reply.
type Response struct {
	Status int           // 0 = 200
	Header http.Header   // extra headers, e.g. retry-after
	Delay  time.Duration // wait before answering (ends early if the client goes away)

	// Body, when set, is sent verbatim. Otherwise a 2xx status sends a message
	// whose only content block holds Text, ending with StopReason ("" =
	// "end_turn"), and any other status sends the API's error body for it.
	Body       string
	Text       string
	StopReason string
}

// Text is a 200 message answering text.
func Text(text string) Response { return Response{Text: text} }

// Stop is a 200 message answering text that ended with stopReason, e.g.
// "refusal" or "max_tokens".
func Stop(text, stopReason string) Response { return Response{Text: text, StopReason: stopReason} }

// Error is an error response with the API's body for status (529
// overloaded_error, 429 rate_limit_error, 401 authentication_error…).
func Error(status int) Response { return Response{Status: status} }

// With returns r with a header added, e.g. With("retry-after-ms", "1").
func (r Response) With(key, value string) Response {
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Add(key, value)
	r.Header = h
	return r
}

// After returns r delayed by d.
func (r Response) After(d time.Duration) Response { r.Delay = d; return r }

// Request is one request the server received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r Request) JSON(v any) error { return json.Unmarshal(r.Body, v) }

// AsksFor reports whether the request's structured output (its
// output_config.format schema) has the property key.
func (r Request) AsksFor(key string) bool {
	var body struct {
		OutputConfig struct {
			Format struct {
				Schema struct {
					Properties map[string]json.RawMessage `json:"properties"`
				} `json:"schema"`
			} `json:"format"`
		} `json:"output_config"`
	}
	if json.Unmarshal(r.Body, &body) != nil {
		return false
	}
	_, ok := body.OutputConfig.Format.Schema.Properties[key]
	return ok
}

// UserText returns the text of the last user message, "" if there is none.
func (r Request) UserText() string {
	var body struct {
		Messages []message `json:"messages"`
	}
	if json.Unmarshal(r.Body, &body) != nil {
		return ""
	}
	for i := len(body.Messages) - 1; i >= 0; i-- {
		if body.Messages[i].Role == "user" {
			return body.Messages[i].text()
		}
	}
	return ""
}

// Server is the fake API. It is safe for concurrent use.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	queue    []Response
	requests []Request
	respond  func(Request) Response

	batches      map[string]*batch
	batchOrder   []string
	batchPolls   int                // retrieves a batch stays in_progress for
	batchOutcome func(i int) string // result type of a batch's i-th request
}

// New starts a server; Close it when done.
func New() *Server {
	s := &Server{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the base URL to give the SDK (option.WithBaseURL, ANTHROPIC_BASE_URL).
func (s *Server) URL() string { return s.srv.URL }

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// Enqueue adds scripted responses, sent in order, one per request.
func (s *Server) Enqueue(rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, rs...)
}

// SetDefault replaces the responder used when the queue is empty (for
// example, to be overloaded for good); nil restores the computed answer.
func (s *Server) SetDefault(respond func(Request) Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respond = respond
}

// Requests returns a copy of every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = Request{Method: r.Method, Path: r.Path, Header: r.Header.Clone(), Body: bytes.Clone(r.Body)}
	}
	return out
}

// Reset forgets the queue, the recorded requests and any SetDefault.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue, s.requests, s.respond = nil, nil, nil
	s.batches, s.batchOrder, s.batchPolls, s.batchOutcome = nil, nil, 0, nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()

	batches := strings.HasPrefix(r.URL.Path, "/v1/messages/batches")
	if !batches && (r.Method != http.MethodPost || r.URL.Path != "/v1/messages") {
		writeError(w, http.StatusNotFound, "not_found_error", "Not found")
		return
	}
	if r.Header.Get("X-Api-Key") == "" && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		writeError(w, http.StatusUnauthorized, "authentication_error", "x-api-key header is required")
		return
	}
	if r.Header.Get("Anthropic-Version") == "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version: header is required")
		return
	}
	if batches {
		s.serveBatches(w, r, body)
		return
	}
	var params params
	if err := json.Unmarshal(body, &params); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "The request body is not valid JSON: "+err.Error())
		return
	}
	if msg := params.invalid(); msg != "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", msg)
		return
	}

	s.mu.Lock()
	var resp Response
	switch {
	case len(s.queue) > 0:
		resp, s.queue = s.queue[0], s.queue[1:]
	case s.respond != nil:
		respond := s.respond
		s.mu.Unlock()
		resp = respond(req)
		s.mu.Lock()
	default:
		resp = Text(defaultAnswer(req.UserText(), req.AsksFor("reason_uk")))
	}
	s.mu.Unlock()

	if resp.Delay > 0 && !sleep(r.Context(), resp.Delay) {
		return // the client gave up; nobody reads an answer now
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case resp.Body != "":
		w.Header().Set("Request-Id", newID("req_"))
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, resp.Body)
	case status < 300:
		writeMessage(w, status, params, resp)
	default:
		typ, msg := errorType(status)
		writeError(w, status, typ, msg)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// params is the part of a Messages request the fake reads.
type params struct {
	Model     string          `json:"model"`
	MaxTokens *int            `json:"max_tokens"`
	System    json.RawMessage `json:"system"`
	Messages  []message       `json:"messages"`
}

// invalid returns the API's complaint about a request it would refuse, "" if
// none: only the checks a request of ours could plausibly fail.
func (p params) invalid() string {
	switch {
	case p.Model == "":
		return "model: Field required"
	case p.MaxTokens == nil:
		return "max_tokens: Field required"
	case *p.MaxTokens < 1:
		return "max_tokens: Input should be greater than or equal to 1"
	case len(p.Messages) == 0:
		return "messages: at least one message is required"
	}
	return ""
}

type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// text joins the text of a message whose content is a string or an array of
// blocks.
func (m message) text() string {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var blocks []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	json.Unmarshal(m.Content, &blocks)
	var b strings.Builder
	for _, bl := range blocks {
		if bl.Type == "text" {
			b.WriteString(bl.Text)
		}
	}
	return b.String()
}

func writeMessage(w http.ResponseWriter, status int, p params, r Response) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", newID("req_"))
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(messageBody(p, r, "standard"))
}

// messageBody is the message the API answers p with, its only text r.Text,
// served in tier ("standard", or "batch" in a batch's results).
func messageBody(p params, r Response, tier string) map[string]any {
	stop := r.StopReason
	if stop == "" {
		stop = "end_turn"
	}
	in := len(p.System)
	for _, m := range p.Messages {
		in += len(m.Content)
	}
	return map[string]any{
		"id":            newID("msg_"),
		"type":          "message",
		"role":          "assistant",
		"model":         p.Model,
		"content":       []map[string]any{{"type": "text", "text": r.Text}},
		"stop_reason":   stop,
		"stop_sequence": nil,
		"usage": map[string]any{
			"input_tokens":                estimateTokens(in),
			"output_tokens":               estimateTokens(len(r.Text)),
			"cache_creation_input_tokens": 0,
			"cache_read_input_tokens":     0,
			"service_tier":                tier,
		},
	}
}

// estimateTokens is the fake's token count: a byte count over four, rounded up.
func estimateTokens(bytes int) int { return int(math.Ceil(float64(bytes) / 4)) }

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	id := newID("req_")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", id)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"type":       "error",
		"error":      map[string]string{"type": typ, "message": msg},
		"request_id": id,
	})
}

// errorType is the API's error type and message for a status.
func errorType(status int) (string, string) {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error", "Invalid request"
	case http.StatusUnauthorized:
		return "authentication_error", "invalid x-api-key"
	case http.StatusPaymentRequired:
		return "billing_error", "Your credit balance is too low"
	case http.StatusForbidden:
		return "permission_error", "Your API key does not have permission to use the specified resource."
	case http.StatusNotFound:
		return "not_found_error", "The requested resource could not be found."
	case http.StatusRequestEntityTooLarge:
		return "request_too_large", "Request exceeds the maximum allowed number of bytes."
	case http.StatusTooManyRequests:
		return "rate_limit_error", "Number of requests has exceeded your rate limit."
	case http.StatusGatewayTimeout:
		return "timeout_error", "Request timed out"
	case 529:
		return "overloaded_error", "Overloaded"
	default:
		return "api_error", "Internal server error"
	}
}

func newID(prefix string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// facts is what the default responder reads from the user message.
type facts struct {
	Source            string `json:"source"`
	Stage             string `json:"stage"`
	MessagesCount     int    `json:"messages_count"`
	HasBusinessDomain bool   `json:"has_business_domain"`
}

// defaultAnswer is a plausible, deterministic analysis of the facts in text:
// a qualified partner lead with a business domain and some activity scores
// high; anything unreadable gets a middling "continue_nurturing". The reason
// comes in Ukrainian too (reason_uk) when the request's schema asks for it.
func defaultAnswer(text string, uk bool) string {
	var f facts
	if json.Unmarshal([]byte(text), &f) != nil || f.Stage == "" {
		return answer(0.5, "continue_nurturing", "The lead's facts could not be read, so no firm view is possible.",
			ukText(uk, "Факти ліда не вдалося прочитати, тож певної думки немає."))
	}
	score := map[string]float64{"new": 0.15, "contacted": 0.3, "qualified": 0.5}[f.Stage]
	if f.Source == "partner" {
		score += 0.2
	} else if f.Source == "manual" {
		score += 0.1
	}
	if f.HasBusinessDomain {
		score += 0.15
	}
	score += 0.025 * float64(min(max(f.MessagesCount, 0), 6))
	if f.Stage == "lost" {
		score = 0.02
	}
	score = math.Round(min(score, 0.98)*100) / 100
	rec := "continue_nurturing"
	switch {
	case f.Stage == "lost" || score < 0.25:
		rec = "mark_as_lost"
	case f.Stage == "qualified" && f.HasBusinessDomain && score >= 0.7:
		rec = "transfer_to_sales"
	}
	domain, domainUK := "no known business domain", "бізнес-домен невідомий"
	if f.HasBusinessDomain {
		domain, domainUK = "a known business domain", "бізнес-домен відомий"
	}
	return answer(score, rec, fmt.Sprintf("A %s lead from %s with %d messages and %s.", f.Stage, f.Source, f.MessagesCount, domain),
		ukText(uk, fmt.Sprintf("Лід на етапі %s із джерела %s, повідомлень: %d, %s.", f.Stage, f.Source, f.MessagesCount, domainUK)))
}

// ukText is s when the request asked for a Ukrainian reason, else "".
func ukText(uk bool, s string) string {
	if uk {
		return s
	}
	return ""
}

// answer is the JSON of an analysis; reasonUK "" leaves reason_uk out.
func answer(score float64, rec, reason, reasonUK string) string {
	m := map[string]any{"score": score, "recommendation": rec, "reason": reason}
	if reasonUK != "" {
		m["reason_uk"] = reasonUK
	}
	b, _ := json.Marshal(m)
	return string(b)
}
