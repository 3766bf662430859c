package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/auth"
	"github.com/crmleads/crm/web"
)

// TestRateLimit: with CRM_RATE_LIMIT=5, a user gets 5 requests a minute from
// anywhere and a client address 5 from anyone; the next is 429 with
// Retry-After and a problem body; health checks are not counted; pages are
// limited too. Both stores.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		svc := crm.NewServices(crm.Config{Store: e.store, Hasher: auth.Bcrypt{Cost: 4}, Domains: []string{"first"}, RateLimit: 5})
		srv := httptest.NewServer(web.NewServer(web.Deps{Services: svc, Tokens: e.tokens,
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")},
			Pages: func(mux *http.ServeMux) {
				mux.HandleFunc("GET /app/page", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
			}}))
		t.Cleanup(srv.Close)
		get := func(path, token, client string) response {
			return doReq(t, srv, "GET", path, token, nil, http.Header{"X-Forwarded-For": {client}})
		}
		for i := range 5 {
			if r := get("/leads", e.mgr.Token, "203.0.113.1"); r.Status != http.StatusOK {
				t.Fatalf("request %d: %s", i+1, r)
			}
		}
		r := get("/leads", e.mgr.Token, "203.0.113.1")
		p := problemOf(t, r, http.StatusTooManyRequests)
		if p.code() != crm.CodeRateLimited {
			t.Errorf("code %q, want %s", p.code(), crm.CodeRateLimited)
		}
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
			t.Errorf("Retry-After %q, want 1..60 s", r.Header.Get("Retry-After"))
		}
		problemOf(t, get("/leads", e.other.Token, "203.0.113.1"), http.StatusTooManyRequests) // the client's bucket
		problemOf(t, get("/leads", e.mgr.Token, "198.51.100.9"), http.StatusTooManyRequests)  // the user's bucket
		if r := get("/leads", e.other.Token, "198.51.100.7"); r.Status != http.StatusOK {
			t.Errorf("another user from another address: %s", r)
		}
		for range 10 {
			if r := get("/healthz", "", "203.0.113.1"); r.Status != http.StatusOK {
				t.Fatalf("health check limited: %s", r)
			}
		}
		for range 5 {
			if r := get("/app/page", "", "192.0.2.44"); r.Status != http.StatusOK {
				t.Fatalf("page: %s", r)
			}
		}
		problemOf(t, get("/app/page", "", "192.0.2.44"), http.StatusTooManyRequests)
	})
}

// TestAIQuota: the daily quota answers 429 quota_exceeded through the API.
func TestAIQuota(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	svc := crm.NewServices(crm.Config{Store: e.store, Scorer: e.scorer, Hasher: auth.Bcrypt{Cost: 4}, Domains: []string{"first"}, AIDailyQuota: 2})
	srv := httptest.NewServer(web.NewServer(web.Deps{Services: svc, Tokens: e.tokens}))
	t.Cleanup(srv.Close)
	l := e.createLead(e.mgr, map[string]any{"source": "partner"})
	for range 2 {
		if r := doReq(t, srv, "POST", "/leads/"+l.ID+"/analyze", e.mgr.Token, nil, nil); r.Status != http.StatusOK {
			t.Fatalf("analyze: %s", r)
		}
	}
	r := doReq(t, srv, "POST", "/leads/"+l.ID+"/analyze", e.mgr.Token, nil, nil)
	if p := problemOf(t, r, http.StatusTooManyRequests); p.code() != crm.CodeQuotaExceeded {
		t.Errorf("code %q, want %s", p.code(), crm.CodeQuotaExceeded)
	}
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

// TestFieldLimitsDocumented: every free-text string a request body takes
// (not an enum, a format, a pattern or an id) states its maxLength in
// /openapi.json, and the lead fields' limits are the domain's, enforced alike
// through the API (here) and the pages (ui.TestPageFieldLimits), both by
// crm's validation.
func TestFieldLimitsDocumented(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(web.NewServer(web.Deps{}))
	t.Cleanup(srv.Close)
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Ref string `json:"$ref"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Type      any      `json:"type"`
					Enum      []any    `json:"enum"`
					Format    string   `json:"format"`
					Pattern   string   `json:"pattern"`
					MaxLength *int     `json:"maxLength"`
					Items     struct{} `json:"items"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	doReq(t, srv, "GET", "/openapi.json", "", nil, nil).decode(t, &doc)
	seen := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			ref := op.RequestBody.Content["application/json"].Schema.Ref
			if ref == "" {
				continue
			}
			name := ref[len("#/components/schemas/"):]
			for prop, s := range doc.Components.Schemas[name].Properties {
				isString := s.Type == "string"
				if l, ok := s.Type.([]any); ok && len(l) > 0 && l[0] == "string" {
					isString = true
				}
				if !isString || s.Enum != nil || s.Format != "" || s.Pattern != "" || strings.HasSuffix(prop, "_id") {
					continue
				}
				seen++
				if s.MaxLength == nil {
					t.Errorf("%s %s: body member %s states no maxLength", method, path, prop)
				}
			}
		}
	}
	if seen < 10 {
		t.Fatalf("only %d free-text members found: the walk is broken", seen)
	}
	// The API refuses one character past each lead limit, as the domain does.
	e := newEnv(t, "sqlite")
	for field, limit := range map[string]int{"name": crm.MaxShortText, "company": crm.MaxShortText, "phone": crm.MaxShortText, "note": crm.MaxNoteText} {
		e.must(201, "POST", "/leads", e.mgr.Token, map[string]any{"source": "manual", field: strings.Repeat("я", limit)})
		problemOf(t, e.do("POST", "/leads", e.mgr.Token, map[string]any{"source": "manual", field: strings.Repeat("я", limit+1)}),
			http.StatusUnprocessableEntity)
	}
}
