package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/ai"
	"github.com/crmleads/crm/ai/fakeclaude"
	"github.com/crmleads/crm/auth"
	"github.com/crmleads/crm/internal/testdb"
	"github.com/crmleads/crm/postgres"
	"github.com/crmleads/crm/sqlite"
	"github.com/crmleads/crm/web"
)

// routes lists every API operation of DESIGN §4 plus the operational ones, as
// "METHOD /path" with the path template used in the OpenAPI document. The
// OpenAPI test compares it with the document, so a route added to routes.go
// without being listed here (or documented) fails.
var routes = []string{
	"GET /healthz",
	"GET /readyz",
	"POST /auth/login",
	"POST /leads",
	"GET /leads",
	"GET /leads/summary",
	"POST /leads/bulk",
	"GET /leads/export",
	"POST /imports",
	"GET /imports",
	"GET /imports/{id}",
	"PUT /imports/{id}/mapping",
	"POST /imports/{id}/commit",
	"POST /imports/{id}/cancel",
	"GET /leads/{id}",
	"PATCH /leads/{id}",
	"PATCH /leads/{id}/messages",
	"PATCH /leads/{id}/stage",
	"GET /leads/{id}/transfer-check",
	"POST /leads/{id}/transfer",
	"GET /leads/{id}/sale",
	"GET /leads/{id}/events",
	"POST /leads/{id}/analyze",
	"GET /leads/{id}/analyses",
	"GET /ai/quality",
	"GET /ai/costs",
	"POST /ai/batches",
	"GET /ai/batches",
	"GET /ai/batches/{id}",
	"POST /leads/{id}/tasks",
	"GET /leads/{id}/tasks",
	"POST /leads/{id}/activities",
	"GET /leads/{id}/activities",
	"GET /sales",
	"GET /sales/summary",
	"GET /sales/export",
	"GET /sales/{id}",
	"PATCH /sales/{id}",
	"PATCH /sales/{id}/stage",
	"GET /me",
	"POST /me/logout-all",
	"GET /users",
	"POST /users",
	"PATCH /users/{id}",
	"GET /audit",
	"GET /settings",
	"PATCH /settings",
	"PATCH /settings/pipeline",
	"POST /me/password",
	"GET /me/filters",
	"POST /me/filters",
	"DELETE /me/filters/{id}",
	"GET /tasks",
	"PATCH /tasks/{id}",
	"DELETE /tasks/{id}",
	"GET /notifications",
	"POST /notifications/read",
	"GET /reports/lost-reasons",
	"POST /webhooks",
	"GET /webhooks",
	"GET /webhooks/{id}",
	"PATCH /webhooks/{id}",
	"DELETE /webhooks/{id}",
	"POST /webhooks/{id}/test",
	"POST /webhooks/{id}/rotate-secret",
	"GET /webhooks/{id}/deliveries",
	"POST /webhooks/{id}/deliveries/{delivery_id}/replay",
}

// observed collects, per operation ("METHOD /template"), every status an API
// response had in any test; TestMain checks that the OpenAPI document
// declares each of them, so the description cannot drift from the code.
var observed = struct {
	sync.Mutex
	m map[string]map[int]bool
}{m: map[string]map[int]bool{}}

// routeOf returns the operation template a request path belongs to, "" when
// it matches none.
func routeOf(method, path string) string {
	path, _, _ = strings.Cut(path, "?")
	if path == "/leads/" || path == "/sales/" {
		path = strings.TrimSuffix(path, "/")
	}
	segs := strings.Split(path, "/")
	for _, r := range routes {
		m, tmpl, _ := strings.Cut(r, " ")
		if m != method {
			continue
		}
		ts := strings.Split(tmpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		ok := true
		for i := range ts {
			param := strings.HasPrefix(ts[i], "{") && strings.HasSuffix(ts[i], "}")
			if ts[i] != segs[i] && !(param && segs[i] != "") {
				ok = false
				break
			}
		}
		if ok {
			return r
		}
	}
	return ""
}

func observe(method, path string, status int) {
	op := routeOf(method, path)
	if op == "" {
		return
	}
	observed.Lock()
	defer observed.Unlock()
	if observed.m[op] == nil {
		observed.m[op] = map[int]bool{}
	}
	observed.m[op][status] = true
}

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if msgs := undocumentedStatuses(); len(msgs) > 0 {
			fmt.Println("--- FAIL: TestMain: statuses observed in the tests but not documented in /openapi.json:")
			for _, s := range msgs {
				fmt.Println("    " + s)
			}
			fmt.Println("FAIL")
			code = 1
		}
	}
	os.Exit(code)
}

// undocumentedStatuses compares the observed statuses with the responses the
// OpenAPI document declares for each operation.
func undocumentedStatuses() []string {
	srv := httptest.NewServer(web.NewServer(web.Deps{}))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/openapi.json")
	if err != nil {
		return []string{"GET /openapi.json: " + err.Error()}
	}
	defer res.Body.Close()
	var doc openAPIDoc
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		return []string{"decode /openapi.json: " + err.Error()}
	}
	observed.Lock()
	defer observed.Unlock()
	var msgs []string
	for op, statuses := range observed.m {
		documented := doc.responses(op)
		for st := range statuses {
			if documented == nil {
				msgs = append(msgs, fmt.Sprintf("%s: operation not in the document (saw %d)", op, st))
				continue
			}
			if !documented[fmt.Sprint(st)] {
				msgs = append(msgs, fmt.Sprintf("%s: responded %d, documents %v", op, st, sortedKeys(documented)))
			}
		}
	}
	sort.Strings(msgs)
	return msgs
}

type openAPIDoc struct {
	OpenAPI    string                                 `json:"openapi"`
	Paths      map[string]map[string]openAPIOperation `json:"paths"`
	Components struct {
		SecuritySchemes map[string]struct {
			Type         string `json:"type"`
			Scheme       string `json:"scheme"`
			BearerFormat string `json:"bearerFormat"`
		} `json:"securitySchemes"`
	} `json:"components"`
	Security []map[string][]string `json:"security"`
}

type openAPIOperation struct {
	OperationID string                     `json:"operationId"`
	Responses   map[string]json.RawMessage `json:"responses"`
	Security    *[]map[string][]string     `json:"security"`
}

// responses returns the set of documented statuses of "METHOD /path", nil
// when the operation is absent.
func (d openAPIDoc) responses(op string) map[string]bool {
	method, path, _ := strings.Cut(op, " ")
	o, ok := d.Paths[path][strings.ToLower(method)]
	if !ok {
		return nil
	}
	out := map[string]bool{}
	for k := range o.Responses {
		out[k] = true
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// env is one running server over a fresh database, with one user of each role.
type env struct {
	t      *testing.T
	kind   string
	url    string // the database: a SQLite path or a PostgreSQL URL
	svc    *crm.Services
	store  crm.Store
	scorer crm.Scorer
	tokens *auth.Tokens
	srv    *httptest.Server
	fake   *fakeclaude.Server
	check  *exchangeCheck // holds every API exchange against /openapi.json

	admin, senior, mgr, other user // mgr owns the leads of the tests; other is a second manager
}

type user struct {
	ID    string
	Email string
	Token string
}

const password = "correct horse battery"

type envOption func(*web.Deps)

// newEnv starts a server over a fresh database of the kind, scoring with the
// real Claude client against a fake Messages API.
func newEnv(t *testing.T, kind string, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	var store crm.Store
	var url string
	switch kind {
	case "sqlite":
		url = testdb.SQLitePath(t)
		db, err := sqlite.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx, "up", io.Discard); err != nil {
			t.Fatal(err)
		}
		store = db
	case "postgres":
		url = testdb.PostgresURL(t)
		db, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx, "up", io.Discard); err != nil {
			t.Fatal(err)
		}
		store = db
	default:
		t.Fatalf("unknown kind %q", kind)
	}
	t.Cleanup(func() { store.Close() })

	fake := fakeclaude.New()
	t.Cleanup(fake.Close)
	aiCfg := ai.Config{Provider: "claude", APIKey: "test-key", BaseURL: fake.URL(), MaxRetries: -1}
	scorer, err := ai.New(aiCfg)
	if err != nil {
		t.Fatal(err)
	}
	batcher, err := ai.NewBatcher(aiCfg)
	if err != nil {
		t.Fatal(err)
	}
	svc := crm.NewServices(crm.Config{Store: store, Scorer: scorer, Batches: batcher, Hasher: auth.Bcrypt{Cost: 4},
		Domains: []string{"first", "second", "third"}})
	tokens := auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	deps := web.Deps{Services: svc, Tokens: tokens}
	for _, o := range opts {
		o(&deps)
	}
	check := newExchangeCheck(t)
	srv := httptest.NewServer(check.wrap(web.NewServer(deps)))
	t.Cleanup(srv.Close)

	e := &env{t: t, kind: kind, url: url, svc: svc, store: store, scorer: scorer, tokens: tokens, srv: srv, fake: fake, check: check}
	e.admin = e.newUser("admin@example.com", crm.RoleAdmin)
	e.senior = e.newUser("senior@example.com", crm.RoleSeniorManager)
	e.mgr = e.newUser("manager@example.com", crm.RoleManager)
	e.other = e.newUser("other@example.com", crm.RoleManager)
	return e
}

func (e *env) newUser(email string, role crm.Role) user {
	e.t.Helper()
	u, err := e.svc.Users.CreateUser(crm.WithActor(context.Background(), crm.System),
		crm.UserInput{Email: email, Name: string(role), Role: role, Password: password})
	if err != nil {
		e.t.Fatalf("create user %s: %v", email, err)
	}
	tok, err := e.tokens.IssueUser(u)
	if err != nil {
		e.t.Fatal(err)
	}
	return user{ID: u.ID, Email: email, Token: tok}
}

// reissue returns a fresh token of u, as signing in again would.
func (e *env) reissue(u user) string {
	e.t.Helper()
	got, err := e.store.User(context.Background(), u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.tokens.IssueUser(got)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// response is a finished HTTP exchange.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) String() string {
	return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body))
}

// decode unmarshals the body into v, failing the test when it cannot.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r, err)
	}
}

// problem is the JSON form of a problem document, members kept raw enough to
// check their presence.
type problem struct {
	Type   *string `json:"type"`
	Title  *string `json:"title"`
	Status *int    `json:"status"`
	Detail *string `json:"detail"`
	Code   *string `json:"code"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
	Blockers  []string `json:"blockers"`
	RequestID string   `json:"request_id"`
}

// problemOf checks that r is a complete problem document of the status and
// returns it.
func problemOf(t *testing.T, r response, status int) problem {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status: got %s, want %d", r, status)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("Content-Type %q, want application/problem+json (%s)", ct, r)
	}
	var p problem
	r.decode(t, &p)
	if p.Type == nil || *p.Type == "" || p.Title == nil || *p.Title == "" || p.Status == nil ||
		p.Detail == nil || *p.Detail == "" || p.Code == nil || *p.Code == "" {
		t.Errorf("problem lacks a member of type/title/status/detail/code: %s", r)
	}
	if p.Status != nil && *p.Status != status {
		t.Errorf("problem status member %d, want %d", *p.Status, status)
	}
	return p
}

func (p problem) code() string {
	if p.Code == nil {
		return ""
	}
	return *p.Code
}

// do sends a request with the token ("" for none) and a body: nil for none, a
// string or []byte sent verbatim, anything else as JSON.
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	return doReq(e.t, e.srv, method, path, token, body, nil)
}

func doReq(t testing.TB, srv *httptest.Server, method, path, token string, body any, header http.Header) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	observe(method, path, res.StatusCode)
	if res.StatusCode >= 500 && res.StatusCode != http.StatusBadGateway && res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// must sends the request and fails the test unless the status is want.
func (e *env) must(want int, method, path, token string, body any) response {
	e.t.Helper()
	r := e.do(method, path, token, body)
	if r.Status != want {
		e.t.Fatalf("%s %s: got %s, want %d", method, path, r, want)
	}
	return r
}

// leadJSON is the parts of a lead the tests read.
type leadJSON struct {
	ID                string   `json:"id"`
	Source            string   `json:"source"`
	Stage             string   `json:"stage"`
	BusinessDomain    *string  `json:"business_domain"`
	HasBusinessDomain bool     `json:"has_business_domain"`
	MessagesCount     int      `json:"messages_count"`
	Name              string   `json:"name"`
	Email             string   `json:"email"`
	OwnerID           *string  `json:"owner_id"`
	AIScore           *float64 `json:"ai_score"`
	AIRecommendation  *string  `json:"ai_recommendation"`
	AIStale           bool     `json:"ai_stale"`
	CreatedAt         string   `json:"created_at"`
	UpdatedAt         string   `json:"updated_at"`
}

type saleJSON struct {
	ID            string  `json:"id"`
	LeadID        string  `json:"lead_id"`
	Stage         string  `json:"stage"`
	TransferredBy *string `json:"transferred_by"`
}

// createLead creates a lead as the user and returns it.
func (e *env) createLead(u user, body map[string]any) leadJSON {
	e.t.Helper()
	if body == nil {
		body = map[string]any{"source": "partner"}
	}
	var l leadJSON
	e.must(http.StatusCreated, "POST", "/leads", u.Token, body).decode(e.t, &l)
	return l
}

// eligibleLead returns a lead of u that may be transferred: qualified, with a
// domain, analyzed with score (scripted in the fake).
func (e *env) eligibleLead(u user, score float64, rec string) leadJSON {
	e.t.Helper()
	l := e.createLead(u, map[string]any{"source": "partner", "business_domain": "first", "messages_count": 3})
	e.must(200, "PATCH", "/leads/"+l.ID+"/stage", u.Token, map[string]any{"stage": "contacted"})
	e.must(200, "PATCH", "/leads/"+l.ID+"/stage", u.Token, map[string]any{"stage": "qualified"})
	e.fake.Enqueue(fakeclaude.Text(answer(score, rec)))
	e.must(200, "POST", "/leads/"+l.ID+"/analyze", u.Token, nil)
	return l
}

func answer(score float64, rec string) string {
	b, _ := json.Marshal(map[string]any{"score": score, "recommendation": rec, "reason": "scripted by the test",
		"reason_uk": "за сценарієм тесту"})
	return string(b)
}

// forKinds runs f as a parallel subtest on each database kind.
func forKinds(t *testing.T, f func(t *testing.T, kind string)) {
	for _, kind := range testdb.Kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f(t, kind)
		})
	}
}

// with returns a copy of e reporting to t (for subtests sharing one env).
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// hasField reports whether the problem's errors[] names the field.
func (p problem) hasField(field string) bool {
	for _, e := range p.Errors {
		if e.Field == field {
			return true
		}
	}
	return false
}
