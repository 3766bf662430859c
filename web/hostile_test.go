package web_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/auth"
	"github.com/crmleads/crm/internal/metrics"
	"github.com/crmleads/crm/web"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls until cond holds; the bound only keeps a broken server from
// hanging the test, nothing is measured.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// goneStore makes the race of the report certain: its transactions begin
// only once the request's context has ended, as when a client hangs up while
// the store works.
type goneStore struct{ crm.Store }

func (s goneStore) InTx(ctx context.Context, fn func(crm.Tx) error) error {
	<-ctx.Done()
	return s.Store.InTx(ctx, fn)
}

// TestClientGone: a client that hangs up before its answer is not a server
// error, whatever the store made of the cancelled context: the access log
// says 499 at INFO, the metrics count it under status 499, not as 5xx, and
// nothing is logged at ERROR. One client sends its whole body and leaves
// while the store works; one sends less than its Content-Length.
func TestClientGone(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		logs := &syncBuffer{}
		e := newEnv(t, kind)
		svc := crm.NewServices(crm.Config{Store: goneStore{e.store}, Hasher: auth.Bcrypt{Cost: 4}, Domains: []string{"first"}})
		// The server itself, without the tests' exchange check in front
		// (which reads the body first).
		ms := metrics.New()
		srv := httptest.NewServer(web.NewServer(web.Deps{Services: svc, Tokens: e.tokens, Metrics: ms,
			Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}))
		t.Cleanup(srv.Close)
		for _, path := range []string{"/leads", "/auth/login"} {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			body := `{"source":"manual"}`
			if path == "/auth/login" {
				body = `{"email":"manager@example.com","password":"correct horse battery"}`
			}
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
				path, e.mgr.Token, len(body), body)
			conn.Close()
			waitFor(t, "the access-log line of "+path, func() bool {
				return strings.Contains(logs.String(), `"route":"POST `+path+`"`)
			})
		}
		out := logs.String()
		if strings.Contains(out, `"level":"ERROR"`) {
			t.Errorf("a client that went away was logged at ERROR:\n%s", out)
		}
		if n := strings.Count(out, `"status":499`); n != 2 {
			t.Errorf("%d access-log lines with status 499, want 2:\n%s", n, out)
		}
		// Less than the Content-Length: refused as unreadable (4xx) before
		// any store work, still no ERROR.
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /leads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"source\":", e.mgr.Token)
		conn.Close()
		waitFor(t, "the third access-log line", func() bool { return strings.Count(logs.String(), `"route":"POST /leads"`) == 2 })
		if strings.Contains(logs.String(), `"level":"ERROR"`) {
			t.Errorf("a short body was logged at ERROR:\n%s", logs.String())
		}
		rec := httptest.NewRecorder()
		ms.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		scrape := rec.Body.String()
		for _, path := range []string{"/leads", "/auth/login"} {
			if !strings.Contains(scrape, `crm_http_request_duration_seconds_count{method="POST",route="POST `+path+`",status="499"} 1`) {
				t.Errorf("metrics lack the 499 count of %s:\n%s", path, scrape)
			}
		}
		if regexp.MustCompile(`crm_http_request_duration_seconds_count\{[^}]*status="5\d\d"`).MatchString(scrape) {
			t.Errorf("metrics count a 5xx:\n%s", scrape)
		}
	})
}

// TestBadText: NUL and invalid UTF-8 are 422 on both stores, through every
// way in: a \u0000 escape, raw bytes that are not UTF-8, a lone surrogate, a
// NUL in the search q (not zero matches, not every lead).
func TestBadText(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		lead := e.createLead(e.mgr, map[string]any{"source": "manual", "name": "Olena"})
		for _, tc := range []struct{ method, path, body, field string }{
			{"POST", "/leads", `{"source":"manual","name":"a\u0000b"}`, "name"},
			{"POST", "/leads", "{\"source\":\"manual\",\"note\":\"caf\xe9\"}", "body"},
			{"POST", "/leads", `{"source":"manual","company":"\ud800"}`, "body"},
			{"PATCH", "/leads/" + lead.ID, `{"phone":"+380\u0000"}`, "phone"},
			{"PATCH", "/leads/" + lead.ID + "/stage", `{"stage":"lost","lost_reason":"x\u0000"}`, "lost_reason"},
			{"POST", "/auth/login", `{"email":"manager@example.com","password":"\u0000"}`, "password"},
		} {
			p := problemOf(t, e.do(tc.method, tc.path, e.mgr.Token, tc.body), http.StatusUnprocessableEntity)
			if !p.hasField(tc.field) {
				t.Errorf("%s %s %q: errors %+v do not name %s", tc.method, tc.path, tc.body, p.Errors, tc.field)
			}
		}
		for _, q := range []string{"%00", "Ol%00", "%FF", "%C3"} {
			p := problemOf(t, e.do("GET", "/leads?q="+q, e.mgr.Token, nil), http.StatusUnprocessableEntity)
			if !p.hasField("q") {
				t.Errorf("q=%s: errors %+v do not name q", q, p.Errors)
			}
		}
		var got leadJSON
		e.must(200, "GET", "/leads/"+lead.ID, e.mgr.Token, nil).decode(t, &got)
		if got.Stage != "new" {
			t.Errorf("lead after refused edits: %+v", got)
		}
	})
}

// TestStrictJSON: duplicate members and members in another case are 422;
// what a client meant is never guessed.
func TestStrictJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	for _, body := range []string{
		`{"source":"manual","source":"partner"}`,
		`{"source":"manual","name":"a","name":"b"}`,
		`{"SOURCE":"manual"}`,
		`{"source":"manual","Name":"x"}`,
	} {
		problemOf(t, e.do("POST", "/leads", e.mgr.Token, body), http.StatusUnprocessableEntity)
	}
	var list []leadJSON
	e.must(200, "GET", "/leads", e.mgr.Token, nil).decode(t, &list)
	if len(list) != 0 {
		t.Errorf("%d leads made from refused bodies", len(list))
	}
}

// TestNoStore: API answers, reads above all, say Cache-Control: no-store.
func TestNoStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	lead := e.createLead(e.mgr, map[string]any{"source": "manual", "name": "Olena"})
	for _, path := range []string{"/leads", "/leads/" + lead.ID, "/leads/" + lead.ID + "/events", "/sales", "/me", "/settings"} {
		r := e.must(200, "GET", path, e.mgr.Token, nil)
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s: Cache-Control %q, want no-store", path, got)
		}
	}
	r := e.do("GET", "/leads/"+crm.NewID(), e.mgr.Token, nil)
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("a 404 of the API: Cache-Control %q, want no-store", got)
	}
}

// TestNotFoundProblems: a 404 outside the operations (a path under /docs, an
// unknown path) is a problem document too.
func TestNotFoundProblems(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	for _, path := range []string{"/docs/no-such-asset.js", "/no/such/thing", "/leads/x/y/z"} {
		problemOf(t, e.do("GET", path, "", nil), http.StatusNotFound)
	}
}

// TestSignInLimitPerClient: behind a trusted proxy, 20 failed sign-ins from
// one forwarded address (across emails) are answered, the 21st is 429 with
// Retry-After; another address is not held back; an untrusted peer cannot
// pick its address with X-Forwarded-For.
func TestSignInLimitPerClient(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind, func(d *web.Deps) {
			d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
		})
		from := func(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }
		login := func(addr, email, pw string) response {
			return doReq(t, e.srv, "POST", "/auth/login", "", map[string]any{"email": email, "password": pw}, from(addr))
		}
		for i := range crm.MaxClientFailures {
			r := login("203.0.113.5", fmt.Sprintf("user%d@example.com", i), "Spring2026!")
			problemOf(t, r, http.StatusUnauthorized)
		}
		r := login("203.0.113.5", e.mgr.Email, password)
		problemOf(t, r, http.StatusTooManyRequests)
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > int(crm.LoginWindow/time.Second) {
			t.Errorf("Retry-After %q, want 1..900 seconds", r.Header.Get("Retry-After"))
		}
		e.must(200, "POST", "/auth/login", "", map[string]any{"email": e.mgr.Email, "password": password}) // the proxy's own address
		if r := login("198.51.100.8", e.mgr.Email, password); r.Status != http.StatusOK {
			t.Errorf("another client: %s", r)
		}
	})
}
