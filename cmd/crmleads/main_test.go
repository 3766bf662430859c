package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/ai/fakeclaude"
	"github.com/crmleads/crm/internal/testdb"
)

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is a log sink safe for the server goroutine and the test.
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

// program is the real program started by run() with a fake environment.
type program struct {
	base   string
	cancel context.CancelFunc
	done   chan error
	log    *syncBuffer // stderr: the log
	out    *syncBuffer // stdout
}

func start(t *testing.T, env map[string]string) *program {
	t.Helper()
	addr := freeAddr(t)
	env["CRM_ADDR"] = addr
	if env["CRM_BCRYPT_COST"] == "" {
		env["CRM_BCRYPT_COST"] = "4"
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &program{base: "http://" + addr, cancel: cancel, done: make(chan error, 1), log: &syncBuffer{}, out: &syncBuffer{}}
	go func() {
		p.done <- run(ctx, []string{"crmleads"}, func(k string) string { return env[k] }, strings.NewReader(""), p.out, p.log)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			t.Error("the program did not stop within 30 s of its context ending")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("the program stopped before serving: %v\nlog:\n%s", err, p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no /healthz within 30 s; log:\n%s", p.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type client struct {
	t     *testing.T
	base  string
	token string
}

func (c *client) do(method, path string, body any) (*http.Response, []byte) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (c *client) must(status int, method, path string, body any, out any) {
	c.t.Helper()
	resp, b := c.do(method, path, body)
	if resp.StatusCode != status {
		c.t.Fatalf("%s %s = %d, want %d: %s", method, path, resp.StatusCode, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

func login(t *testing.T, base, email, password string) *client {
	c := &client{t: t, base: base}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	c.must(200, "POST", "/auth/login", map[string]string{"email": email, "password": password}, &tok)
	if tok.TokenType != "bearer" || tok.AccessToken == "" {
		t.Fatalf("login answered %+v", tok)
	}
	c.token = tok.AccessToken
	return c
}

// TestCleanStart: with no configuration at all the program creates its
// SQLite file under data/, creates an admin with a password printed once, and
// is ready.
func TestCleanStart(t *testing.T) {
	t.Chdir(t.TempDir())
	p := start(t, map[string]string{})
	resp, err := http.Get(p.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz = %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join("data", "crm-leads.db")); err != nil {
		t.Fatalf("the default SQLite file was not created: %v", err)
	}
	log := p.log.String()
	i := strings.Index(log, "password=")
	if !strings.Contains(log, "email=admin@localhost") || i < 0 {
		t.Fatalf("the generated admin password was not logged:\n%s", log)
	}
	password := strings.Fields(log[i+len("password="):])[0]
	addr := strings.TrimPrefix(p.base, "http://")
	if err := run(context.Background(), []string{"crmleads", "healthcheck"}, func(k string) string {
		if k == "CRM_ADDR" {
			return addr
		}
		return ""
	}, nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("healthcheck of a ready server: %v", err)
	}
	c := login(t, p.base, "admin@localhost", password)
	var me struct{ Role string }
	c.must(200, "GET", "/me", nil, &me)
	if me.Role != "admin" {
		t.Fatalf("first user role = %q", me.Role)
	}
}

// TestBadConfig: invalid configuration stops the start with one line naming
// the variable.
func TestBadConfig(t *testing.T) {
	for key, val := range map[string]string{
		"CRM_TRANSFER_MIN_SCORE": "1.5", "CRM_AI_TIMEOUT": "soon", "DATABASE_URL": "mysql://x",
		"CRM_AI_PROVIDER": "gpt", "CRM_JWT_SECRET": "short", "CRM_LOG_FORMAT": "xml",
		"CRM_AI_MONTHLY_BUDGET_USD": "-5", "CRM_AI_BATCH_POLL_INTERVAL": "often", "CRM_AI_REFIT_INTERVAL": "500ms",
	} {
		err := run(context.Background(), []string{"crmleads"}, func(k string) string {
			if k == key {
				return val
			}
			return ""
		}, nil, io.Discard, io.Discard)
		if err == nil || !strings.HasPrefix(err.Error(), key) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s=%q: run() = %v; want one line starting with the variable", key, val, err)
		}
	}
}

func TestVersionAndMigrate(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"crmleads", "version"}, func(string) string { return "" }, nil, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "crmleads ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	for _, kind := range testdb.Kinds {
		t.Run(kind, func(t *testing.T) {
			env := map[string]string{"DATABASE_URL": testdb.URL(t, kind)}
			getenv := func(k string) string { return env[k] }
			for _, cmd := range []string{"up", "status", "down", "up"} {
				out.Reset()
				if err := run(context.Background(), []string{"crmleads", "migrate", cmd}, getenv, nil, &out, io.Discard); err != nil {
					t.Fatalf("migrate %s: %v", cmd, err)
				}
			}
			out.Reset()
			err := run(context.Background(), []string{"crmleads", "user", "add", "--email", "Ann@Example.com", "--role", "manager"},
				getenv, strings.NewReader("a long password\n"), &out, io.Discard)
			if err != nil || !strings.Contains(out.String(), "ann@example.com") {
				t.Fatalf("user add: %v %q", err, out.String())
			}
		})
	}
}

// TestFlow runs the brief's manager flow through the real program on both
// databases, with the real Claude client against the fake Messages API, and
// checks that a SIGTERM-like stop lets an in-flight request finish.
func TestFlow(t *testing.T) {
	for _, kind := range testdb.Kinds {
		t.Run(kind, func(t *testing.T) {
			fake := fakeclaude.New()
			t.Cleanup(fake.Close)
			p := start(t, map[string]string{
				"DATABASE_URL": testdb.URL(t, kind), "CRM_ADMIN_EMAIL": "boss@example.com",
				"CRM_ADMIN_PASSWORD": "boss password", "ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": fake.URL(),
			})
			admin := login(t, p.base, "boss@example.com", "boss password")
			admin.must(201, "POST", "/users", map[string]string{"email": "m@example.com", "role": "manager", "password": "manager password"}, nil)
			m := login(t, p.base, "m@example.com", "manager password")

			var lead struct {
				ID      string   `json:"id"`
				Stage   string   `json:"stage"`
				AIScore *float64 `json:"ai_score"`
			}
			m.must(201, "POST", "/leads", map[string]any{"source": "partner", "name": "Olena", "email": "olena@example.com"}, &lead)
			id := lead.ID
			m.must(200, "PATCH", "/leads/"+id+"/messages", map[string]int{"messages_count": 7}, nil)
			m.must(200, "PATCH", "/leads/"+id+"/stage", map[string]string{"stage": "contacted"}, nil)
			m.must(200, "PATCH", "/leads/"+id+"/stage", map[string]string{"stage": "qualified"}, nil)
			m.must(200, "PATCH", "/leads/"+id, map[string]string{"business_domain": "second"}, nil)
			fake.Enqueue(fakeclaude.Text(`{"score":0.82,"recommendation":"transfer_to_sales","reason":"active partner lead with a domain","reason_uk":"активний партнерський лід із доменом"}`))
			var an struct {
				Score    float64 `json:"score"`
				Provider string  `json:"provider"`
			}
			m.must(200, "POST", "/leads/"+id+"/analyze", nil, &an)
			if an.Score != 0.82 || an.Provider != "claude" {
				t.Fatalf("analysis = %+v", an)
			}
			if body := string(fake.Requests()[0].Body); strings.Contains(body, "Olena") || strings.Contains(body, "olena@") || strings.Contains(body, id) {
				t.Fatalf("the AI request leaked lead data: %s", body)
			}
			var sale struct {
				ID    string `json:"id"`
				Stage string `json:"stage"`
			}
			m.must(201, "POST", "/leads/"+id+"/transfer", nil, &sale)
			for _, st := range []string{"kyc", "agreement", "paid"} {
				m.must(200, "PATCH", "/sales/"+sale.ID+"/stage", map[string]string{"stage": st}, nil)
			}
			var me struct{ ID string }
			m.must(200, "GET", "/me", nil, &me)
			var events []struct {
				Action  string `json:"action"`
				ActorID string `json:"actor_id"`
			}
			m.must(200, "GET", "/leads/"+id+"/events", nil, &events)
			want := []string{"lead.created", "lead.messages_set", "lead.stage_changed", "lead.stage_changed", "lead.updated",
				"lead.analyzed", "lead.transferred", "sale.stage_changed", "sale.stage_changed", "sale.stage_changed"}
			var got []string
			for _, e := range events {
				got = append(got, e.Action)
				if e.ActorID != me.ID {
					t.Errorf("event %s actor = %q, want the manager %q", e.Action, e.ActorID, me.ID)
				}
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("event trail = %v, want %v", got, want)
			}

			// Graceful stop: a request in flight when the stop comes still
			// gets its answer.
			m.must(201, "POST", "/leads", map[string]any{"source": "manual"}, &lead)
			fake.Enqueue(fakeclaude.Text(`{"score":0.3,"recommendation":"continue_nurturing","reason":"early","reason_uk":"рано"}`).After(700 * time.Millisecond))
			codes := make(chan int, 1)
			go func() {
				resp, _ := m.do("POST", "/leads/"+lead.ID+"/analyze", nil)
				codes <- resp.StatusCode
			}()
			for len(fake.Requests()) < 2 {
				time.Sleep(10 * time.Millisecond)
			}
			p.cancel()
			if code := <-codes; code != 200 {
				t.Fatalf("in-flight analyze during shutdown = %d, want 200", code)
			}
			if err := <-p.done; err != nil {
				t.Fatalf("run() after stop = %v", err)
			}
			p.done <- nil // for the cleanup
		})
	}
}

// proxy is a TCP proxy that can be cut and restored, to simulate a database
// outage without touching the real server.
type proxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target, addr: freeAddr(t)}
	p.up()
	t.Cleanup(p.down)
	return p
}

func (p *proxy) up() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
		}
	}()
}

func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestDatabaseOutage: while PostgreSQL is unreachable the service answers 503
// (with Retry-After), never 500, and it recovers by itself when the database
// returns.
func TestDatabaseOutage(t *testing.T) {
	dbURL := testdb.PostgresURL(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, u.Host)
	u.Host = px.addr
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	p := start(t, map[string]string{"DATABASE_URL": u.String(), "CRM_ADMIN_EMAIL": "boss@example.com",
		"CRM_ADMIN_PASSWORD": "boss password"})
	c := login(t, p.base, "boss@example.com", "boss password")
	c.must(201, "POST", "/leads", map[string]any{"source": "scanner"}, nil)

	px.down()
	for _, path := range []string{"/readyz", "/leads"} {
		resp, body := c.do("GET", path, nil)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("GET %s during the outage = %d (Retry-After %q): %s", path, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	resp, body := c.do("POST", "/leads", map[string]any{"source": "scanner"})
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("POST /leads during the outage = %d: %s", resp.StatusCode, body)
	}

	px.up()
	var leads []json.RawMessage
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, body := c.do("GET", "/leads", nil)
		if resp.StatusCode == 200 {
			if err := json.Unmarshal(body, &leads); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after the database returned: %d %s", resp.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(leads) != 1 {
		t.Fatalf("after recovery %d leads, want 1 (the write during the outage must not have landed)", len(leads))
	}
}

// TestSetPasswordWhileRunning: the way back in when the first admin's printed
// password is lost — `crmleads user set-password` against the database of a
// running service, on both stores; the new password signs in at once.
func TestSetPasswordWhileRunning(t *testing.T) {
	for _, kind := range testdb.Kinds {
		t.Run(kind, func(t *testing.T) {
			env := map[string]string{"DATABASE_URL": testdb.URL(t, kind)}
			p := start(t, env) // no admin configured: admin@localhost with a password we never read
			var out bytes.Buffer
			err := run(context.Background(), []string{"crmleads", "user", "set-password", "--email", " Admin@Localhost "},
				func(k string) string { return env[k] }, strings.NewReader("a new long password\n"), &out, io.Discard)
			if err != nil || !strings.Contains(out.String(), "admin@localhost") {
				t.Fatalf("set-password: %v %q", err, out.String())
			}
			c := login(t, p.base, "admin@localhost", "a new long password")
			c.must(200, "GET", "/me", nil, nil)
			// A second reset ends the sign-in made with the first password.
			err = run(context.Background(), []string{"crmleads", "user", "set-password", "--email", "admin@localhost"},
				func(k string) string { return env[k] }, strings.NewReader("yet another password\n"), &out, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			c.must(401, "GET", "/me", nil, nil)
			login(t, p.base, "admin@localhost", "yet another password")

			err = run(context.Background(), []string{"crmleads", "user", "set-password", "--email", "nobody@example.com"},
				func(k string) string { return env[k] }, strings.NewReader("whatever password\n"), &out, io.Discard)
			if !crm.IsKind(err, crm.ENOTFOUND) {
				t.Errorf("set-password for an unknown email: %v, want not found", err)
			}
			err = run(context.Background(), []string{"crmleads", "user", "set-password", "--email", "admin@localhost"},
				func(k string) string { return env[k] }, strings.NewReader("short\n"), &out, io.Discard)
			if !crm.IsKind(err, crm.EINVALID) {
				t.Errorf("set-password with a short password: %v, want invalid", err)
			}
		})
	}
}

// TestMetricsListener: with CRM_METRICS_ADDR the Prometheus metrics are served
// there — requests by route, method and status, the pool, AI calls with tokens
// and cost — and not on the public port; without it there is no listener.
func TestMetricsListener(t *testing.T) {
	for _, kind := range testdb.Kinds {
		t.Run(kind, func(t *testing.T) {
			maddr := freeAddr(t)
			p := start(t, map[string]string{"DATABASE_URL": testdb.URL(t, kind), "CRM_METRICS_ADDR": maddr,
				"CRM_ADMIN_EMAIL": "boss@example.com", "CRM_ADMIN_PASSWORD": "boss password"})
			admin := login(t, p.base, "boss@example.com", "boss password")
			var lead struct{ ID string }
			admin.must(201, "POST", "/leads", map[string]any{"source": "partner"}, &lead)
			admin.must(200, "POST", "/leads/"+lead.ID+"/analyze", nil, nil) // the baseline scorer
			admin.must(404, "GET", "/leads/"+crm.NewID(), nil, nil)
			if resp, _ := admin.do("GET", "/metrics", nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("public /metrics = %d, want 404", resp.StatusCode)
			}
			resp, err := http.Get("http://" + maddr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := string(b)
			for _, want := range []string{
				`crm_http_request_duration_seconds_count{method="POST",route="POST /leads",status="201"} 1`,
				`crm_http_request_duration_seconds_count{method="GET",route="GET /leads/{id}",status="404"} 1`,
				`crm_ai_call_duration_seconds_count{model="baseline-v1",outcome="ok",provider="baseline"} 1`,
				`crm_ai_tokens_total{direction="input",model="baseline-v1"} 0`,
				`crm_db_connections_open{pool=`,
				`go_goroutines `,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("metrics lack %s", want)
				}
			}
		})
	}
}
