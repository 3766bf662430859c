package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/auth"
	"github.com/crmleads/crm/internal/testdb"
	"github.com/crmleads/crm/sqlite"
	"github.com/crmleads/crm/web"
)

// FuzzRequestBodies sends arbitrary bytes as the JSON body of every
// operation that takes one (read from /openapi.json, so a new operation is
// fuzzed without being listed here), as an admin, over SQLite: the answer is
// never a 5xx (but the 503 of an operation needing the AI, which is not configured), and an error is always a problem document. Seeds:
// testdata/fuzz/FuzzRequestBodies and the valid bodies below.
func FuzzRequestBodies(f *testing.F) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, testdb.SQLitePath(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, "up", io.Discard); err != nil {
		f.Fatal(err)
	}
	svc := crm.NewServices(crm.Config{Store: db, Hasher: auth.Bcrypt{Cost: 4}, Domains: []string{"first", "second"}})
	tokens := auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	h := web.NewServer(web.Deps{Services: svc, Tokens: tokens})
	sys := crm.WithActor(ctx, crm.System)
	admin, err := svc.Users.CreateUser(sys, crm.UserInput{Email: "admin@example.com", Name: "A", Role: crm.RoleAdmin, Password: password})
	if err != nil {
		f.Fatal(err)
	}
	tok, _ := tokens.Issue(admin.ID, admin.TokenVersion)
	as := crm.WithActor(ctx, crm.Actor{UserID: admin.ID, Role: admin.Role})
	lead, err := svc.Leads.CreateLead(as, crm.LeadInput{Source: crm.SourcePartner, Name: "Olena"})
	if err != nil {
		f.Fatal(err)
	}

	// The operations with a body, their path's ids filled in.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody *struct{} `json:"requestBody"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		f.Fatal(err)
	}
	type op struct{ method, path string }
	var ops []op
	for path, methods := range doc.Paths {
		for m, o := range methods {
			if o.RequestBody == nil {
				continue
			}
			p := path
			if strings.HasPrefix(p, "/users/") {
				p = strings.Replace(p, "{id}", admin.ID, 1)
			}
			p = strings.NewReplacer("{id}", lead.ID, "{lead_id}", lead.ID).Replace(p)
			ops = append(ops, op{strings.ToUpper(m), p})
		}
	}
	slices.SortFunc(ops, func(a, b op) int { return strings.Compare(a.method+a.path, b.method+b.path) })
	if len(ops) < 10 {
		f.Fatalf("only %d operations with a body in the description", len(ops))
	}
	for i := range ops {
		for _, seed := range []string{`{}`, `{"source":"manual","name":"x"}`, `{"stage":"contacted"}`, `{"messages_count":3}`,
			`{"email":"a@example.com","password":"long enough pw"}`, `null`, `[]`, `{"a":1,"a":2}`, "{\"name\":\"\xff\"}"} {
			f.Add(uint8(i), []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		o := ops[int(which)%len(ops)]
		req := httptest.NewRequest(o.method, o.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		// The fuzz server has no AI provider: an operation that needs one
		// says so with 503 ai_unavailable, which is an answer, not a crash.
		noAI := rec.Code == http.StatusServiceUnavailable && strings.Contains(rec.Body.String(), `"code":"ai_unavailable"`)
		if rec.Code >= 500 && !noAI {
			t.Fatalf("%s %s %q: %d %s", o.method, o.path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
			t.Fatalf("%s %s %q: %d with Content-Type %q", o.method, o.path, body, rec.Code, rec.Header().Get("Content-Type"))
		}
		if rec.Code == http.StatusOK || rec.Code == http.StatusCreated {
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s %s: invalid JSON answer %q", o.method, o.path, rec.Body)
			}
		}
	})
}
