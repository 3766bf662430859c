package fakeclaude

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// The Message Batches API, as the real one speaks it:
//
//   - POST /v1/messages/batches {requests: [{custom_id, params}]} creates a
//     batch (custom_id unique, ^[a-zA-Z0-9_-]{1,64}$; params checked as a
//     Messages request is) and answers a message_batch "in_progress", every
//     request counted as processing;
//   - GET /v1/messages/batches/{id} retrieves it: in_progress for the first
//     SetBatchPolls retrieves (1 by default), then "ended" with ended_at, its
//     request_counts (succeeded, errored, canceled, expired) and results_url;
//   - GET /v1/messages/batches/{id}/results (results_url) streams one JSONL
//     line per request, {custom_id, result}, the result "succeeded" with the
//     message a single request would get, "errored" with the API's error
//     body, or "canceled" / "expired"; in reverse order of the requests (the
//     real API promises no order). Before the end it answers 400, as the API
//     does.
//
// Each request's result type comes from SetBatchOutcomes (all "succeeded" by
// default).

// batch is one batch the fake holds.
type batch struct {
	id       string
	created  time.Time
	ended    time.Time
	polls    int // retrieves left before it ends
	requests []batchRequest
	results  []string // result type per request, set when it ends
}

type batchRequest struct {
	CustomID string          `json:"custom_id"`
	Params   json.RawMessage `json:"params"`
}

var customIDPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// SetBatchPolls sets how many retrieves a new batch stays in_progress for.
func (s *Server) SetBatchPolls(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batchPolls = n
}

// SetBatchOutcomes sets the result type of each batch request by its
// position in its batch: "succeeded", "errored", "canceled" or "expired".
// nil restores "succeeded" for all.
func (s *Server) SetBatchOutcomes(outcome func(i int) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batchOutcome = outcome
}

// BatchRequests returns the requests of every batch created, in order: what
// left the program through the batch API.
func (s *Server) BatchRequests() [][]json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]json.RawMessage
	for _, id := range s.batchOrder {
		var rs []json.RawMessage
		for _, r := range s.batches[id].requests {
			b, _ := json.Marshal(r)
			rs = append(rs, b)
		}
		out = append(out, rs)
	}
	return out
}

func (s *Server) serveBatches(w http.ResponseWriter, r *http.Request, body []byte) {
	rest := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/v1/messages/batches"), "/")
	id, results := strings.CutSuffix(rest, "/results")
	switch {
	case r.Method == http.MethodPost && rest == "":
		s.createBatch(w, body)
	case r.Method == http.MethodGet && id != "" && !strings.Contains(id, "/") && results:
		s.batchResults(w, id)
	case r.Method == http.MethodGet && id != "" && !strings.Contains(id, "/"):
		s.retrieveBatch(w, id)
	default:
		writeError(w, http.StatusNotFound, "not_found_error", "Not found")
	}
}

func (s *Server) createBatch(w http.ResponseWriter, body []byte) {
	var in struct {
		Requests []batchRequest `json:"requests"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "The request body is not valid JSON: "+err.Error())
		return
	}
	if len(in.Requests) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "requests: at least one request is required")
		return
	}
	seen := map[string]bool{}
	for i, req := range in.Requests {
		if !customIDPattern.MatchString(req.CustomID) {
			writeError(w, http.StatusBadRequest, "invalid_request_error",
				fmt.Sprintf("requests.%d.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'", i))
			return
		}
		if seen[req.CustomID] {
			writeError(w, http.StatusBadRequest, "invalid_request_error",
				fmt.Sprintf("requests.%d.custom_id: Duplicate custom_id %q", i, req.CustomID))
			return
		}
		seen[req.CustomID] = true
		var p params
		if err := json.Unmarshal(req.Params, &p); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("requests.%d.params: %v", i, err))
			return
		}
		if msg := p.invalid(); msg != "" {
			writeError(w, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("requests.%d.params.%s", i, msg))
			return
		}
	}
	s.mu.Lock()
	polls := s.batchPolls
	if polls <= 0 {
		polls = 1
	}
	b := &batch{id: newID("msgbatch_"), created: time.Now().UTC(), polls: polls, requests: in.Requests}
	if s.batches == nil {
		s.batches = map[string]*batch{}
	}
	s.batches[b.id] = b
	s.batchOrder = append(s.batchOrder, b.id)
	view := s.batchView(b)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, view)
}

func (s *Server) retrieveBatch(w http.ResponseWriter, id string) {
	s.mu.Lock()
	b := s.batches[id]
	if b == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "not_found_error", "The requested resource could not be found.")
		return
	}
	if b.ended.IsZero() {
		if b.polls > 0 {
			b.polls--
		} else {
			b.ended = time.Now().UTC()
			b.results = make([]string, len(b.requests))
			for i := range b.requests {
				b.results[i] = "succeeded"
				if s.batchOutcome != nil {
					b.results[i] = s.batchOutcome(i)
				}
			}
		}
	}
	view := s.batchView(b)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, view)
}

// batchView is the message_batch object of b; s.mu is held.
func (s *Server) batchView(b *batch) map[string]any {
	counts := map[string]int{"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
	var ended, results any
	status := "in_progress"
	if b.ended.IsZero() {
		counts["processing"] = len(b.requests)
	} else {
		status = "ended"
		for _, t := range b.results {
			counts[t]++
		}
		ended = b.ended.Format(time.RFC3339Nano)
		results = s.srv.URL + "/v1/messages/batches/" + b.id + "/results"
	}
	return map[string]any{
		"id":                  b.id,
		"type":                "message_batch",
		"processing_status":   status,
		"request_counts":      counts,
		"created_at":          b.created.Format(time.RFC3339Nano),
		"expires_at":          b.created.Add(24 * time.Hour).Format(time.RFC3339Nano),
		"ended_at":            ended,
		"archived_at":         nil,
		"cancel_initiated_at": nil,
		"results_url":         results,
	}
}

func (s *Server) batchResults(w http.ResponseWriter, id string) {
	s.mu.Lock()
	b := s.batches[id]
	if b == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "not_found_error", "The requested resource could not be found.")
		return
	}
	if b.ended.IsZero() {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "invalid_request_error",
			fmt.Sprintf("Batch %s has not yet ended processing.", id))
		return
	}
	reqs, types := b.requests, b.results
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/binary")
	w.Header().Set("Request-Id", newID("req_"))
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w) // one object per line
	for i := len(reqs) - 1; i >= 0; i-- {
		var result map[string]any
		switch types[i] {
		case "succeeded":
			var p params
			_ = json.Unmarshal(reqs[i].Params, &p)
			req := Request{Body: reqs[i].Params}
			text := defaultAnswer(req.UserText(), req.AsksFor("reason_uk"))
			result = map[string]any{"type": "succeeded", "message": messageBody(p, Response{Text: text}, "batch")}
		case "errored":
			result = map[string]any{"type": "errored", "error": map[string]any{
				"type":       "error",
				"error":      map[string]string{"type": "invalid_request_error", "message": "max_tokens: Input should be greater than or equal to 1"},
				"request_id": newID("req_"),
			}}
		default:
			result = map[string]any{"type": types[i]}
		}
		_ = enc.Encode(map[string]any{"custom_id": reqs[i].CustomID, "result": result})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", newID("req_"))
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
