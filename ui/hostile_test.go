package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/auth"
	"github.com/crmleads/crm/internal/testdb"
	"github.com/crmleads/crm/sqlite"
	"github.com/crmleads/crm/ui"
	"github.com/crmleads/crm/web"
)

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

// goneStore begins its transactions only once the request's context has
// ended, as when a client hangs up while the store works.
type goneStore struct{ crm.Store }

func (s goneStore) InTx(ctx context.Context, fn func(crm.Tx) error) error {
	<-ctx.Done()
	return s.Store.InTx(ctx, fn)
}

// TestPageClientGone: a sign-in form whose client hangs up while the store
// works is logged at INFO as 499 by the access log, not at ERROR by the page.
func TestPageClientGone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, "up", io.Discard); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	svc := crm.NewServices(crm.Config{Store: goneStore{db}, Hasher: auth.Bcrypt{Cost: 4}, Domains: []string{"first"}})
	tokens := auth.NewTokens([]byte("test-key-0123456789abcdef0123456789"), time.Hour)
	app, err := ui.New(ui.Deps{Services: svc, Tokens: tokens, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.NewServer(web.Deps{Services: svc, Tokens: tokens, Pages: app.Mount, Logger: log}))
	t.Cleanup(srv.Close)
	c := (&bundle{baseURL: srv.URL}).client(t)
	csrf := c.csrf()
	form := url.Values{"email": {"alice@example.com"}, "password": {password}, "csrf": {csrf}}.Encode()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	fmt.Fprintf(conn, "POST /app/login HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nSec-Fetch-Site: same-origin\r\nCookie: crm_csrf=%s\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", host, srv.URL, csrf, len(form), form)
	conn.Close()
	for i := 0; !strings.Contains(logs.String(), `"route":"POST /app/login"`); i++ {
		if i == 1000 {
			t.Fatalf("no access-log line for the sign-in:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := logs.String()
	if strings.Contains(out, `"level":"ERROR"`) || !strings.Contains(out, `"status":499`) {
		t.Errorf("want one INFO line with status 499 and no ERROR:\n%s", out)
	}
}

// TestSignInRotates: signing in gives a fresh session and a fresh CSRF
// token; a session cookie planted before (session fixation) is replaced and
// never honoured, and the CSRF token from before sign-in no longer passes.
func TestSignInRotates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client(t)
	before := c.csrf()
	u := mustURL(b.baseURL)
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "crm_session", Value: "planted-by-an-attacker", Path: "/"}})
	if p := c.get("/app/leads"); p.status != http.StatusSeeOther {
		t.Fatalf("a planted session opened the app: %d", p.status)
	}
	c.login(b.alice.Email)
	if s := c.session(); s == "" || s == "planted-by-an-attacker" {
		t.Errorf("session after sign-in = %q, want a fresh token", s)
	}
	after := c.csrf()
	if after == before || after == "" {
		t.Fatalf("CSRF token not rotated at sign-in: %q", after)
	}
	// The old token, replayed with the old cookie, is refused.
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "crm_csrf", Value: before, Path: "/"}})
	old := c.csrf()
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "crm_csrf", Value: after, Path: "/"}})
	checkPage(t, c.post("/app/leads", url.Values{"csrf": {old}, "source": {"manual"}}), http.StatusForbidden)
}

// TestPageBadText: the pages refuse NUL and invalid UTF-8 with 422 as the API
// does, in the search q too (not zero matches, not every lead), and in forms.
func TestPageBadText(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client(t)
	c.login(b.alice.Email)
	for _, q := range []string{"%00", "a%00", "%FF"} {
		if p := c.get("/app/leads?q=" + q); p.status != http.StatusUnprocessableEntity {
			t.Errorf("GET /app/leads?q=%s: %d, want 422", q, p.status)
		}
	}
	for _, name := range []string{"a\x00b", "caf\xe9"} {
		p := c.post("/app/leads", url.Values{"source": {"manual"}, "name": {name}})
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("POST /app/leads name %q: %d, want 422", name, p.status)
		}
	}
	leads, _, err := b.svc.Leads.Leads(as(b.alice), crm.LeadFilter{})
	if err != nil || len(leads) != 0 {
		t.Errorf("leads after refused forms: %d, %v", len(leads), err)
	}
}

// TestPageFieldLimits: the lead form holds the API's limits (the domain's):
// 200 characters of a name pass, 201 are 422, as POST /leads answers.
func TestPageFieldLimits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client(t)
	c.login(b.alice.Email)
	if p := c.post("/app/leads", url.Values{"source": {"manual"}, "name": {strings.Repeat("я", crm.MaxShortText)}}); p.status != http.StatusSeeOther {
		t.Errorf("a name of %d characters: %d, want 303", crm.MaxShortText, p.status)
	}
	for field, limit := range map[string]int{"name": crm.MaxShortText, "company": crm.MaxShortText, "note": crm.MaxNoteText} {
		p := c.post("/app/leads", url.Values{"source": {"manual"}, "name": {"x"}, field: {strings.Repeat("я", limit+1)}})
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("%s of %d characters: %d, want 422", field, limit+1, p.status)
		}
	}
	if p := c.get("/app/leads?q=" + strings.Repeat("q", crm.MaxShortText+1)); p.status != http.StatusUnprocessableEntity {
		t.Errorf("a q of %d characters: %d, want 422 (the API's maxLength)", crm.MaxShortText+1, p.status)
	}
}

// TestExportButtons: each list offers an export of what it shows; the file
// is the API's CSV (with a BOM for Excel, semicolons in Ukrainian), in the
// user's visibility.
func TestExportButtons(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.svc.Leads.CreateLead(as(b.alice), crm.LeadInput{Source: crm.SourcePartner, Name: "=Alice's lead", Phone: "+380501234567"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Leads.CreateLead(as(b.bob), crm.LeadInput{Source: crm.SourceManual, Name: "Bob's lead"}); err != nil {
		t.Fatal(err)
	}
	c := b.client(t)
	c.login(b.alice.Email)
	list := c.get("/app/leads?source=partner")
	checkPage(t, list, http.StatusOK)
	if !strings.Contains(list.body, `href="/app/leads/export?source=partner"`) {
		t.Fatalf("the lead list offers no export of its filter:\n%s", list.body)
	}
	p := c.get("/app/leads/export?source=partner")
	if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/csv") || !strings.HasPrefix(p.body, "\ufeff") {
		t.Fatalf("export: %d %q %q", p.status, p.header.Get("Content-Type"), p.body)
	}
	if !strings.Contains(p.body, "'=Alice's lead") || !strings.Contains(p.body, "'+380501234567") || strings.Contains(p.body, "Bob's lead") {
		t.Errorf("export body:\n%s", p.body)
	}
	c.lang = "uk"
	if p := c.get("/app/leads/export"); !strings.Contains(p.body, "id;source;stage") {
		t.Errorf("Ukrainian export is not semicolon-separated:\n%.200s", p.body)
	}
	sales := c.get("/app/sales")
	checkPage(t, sales, http.StatusOK)
	if !strings.Contains(sales.body, `href="/app/sales/export?"`) {
		t.Errorf("the sales list offers no export")
	}
	if p := c.get("/app/sales/export"); p.status != http.StatusOK || !strings.Contains(p.body, "id;lead_id;stage") {
		t.Errorf("sales export: %d %.200s", p.status, p.body)
	}
	if p := (&client{t: t, base: b.baseURL, http: &http.Client{CheckRedirect: c.http.CheckRedirect}}).get("/app/leads/export"); p.status != http.StatusSeeOther {
		t.Errorf("export without a session: %d, want 303 to the sign-in", p.status)
	}
}
