package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/ai"
	"github.com/crmleads/crm/ai/fakeclaude"
	"github.com/crmleads/crm/auth"
	"github.com/crmleads/crm/internal/testdb"
	"github.com/crmleads/crm/postgres"
	"github.com/crmleads/crm/sqlite"
	"github.com/crmleads/crm/ui"
	"github.com/crmleads/crm/web"
)

const password = "correct horse battery"

// bundle is what a test gets from setup: the running server and its parts.
type bundle struct {
	srv     *httptest.Server
	handler http.Handler
	svc     *crm.Services
	fake    *fakeclaude.Server
	admin   *crm.User
	senior  *crm.User
	alice   *crm.User // a manager
	bob     *crm.User // another manager
	baseURL string
	db      *sqlite.DB // nil over PostgreSQL (setupKind)
	store   crm.Store
	tokens  *auth.Tokens
}

// setup starts the whole service in-process: SQLite in a temp file, the real
// Claude client against the fake API, the JSON API with the web app mounted.
func setup(t testing.TB) *bundle {
	t.Helper()
	db, err := sqlite.Open(context.Background(), testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := setupOn(t, db)
	b.db = db
	return b
}

// setupKind is setup over a fresh database of the kind (testdb.Kinds), for
// the tests where the store matters; its bundle's db is nil on PostgreSQL.
func setupKind(t testing.TB, kind string) *bundle {
	t.Helper()
	if kind == "sqlite" {
		return setup(t)
	}
	st, err := postgres.Open(context.Background(), testdb.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return setupOn(t, st)
}

// migrator is what setupOn needs of a store besides crm.Store.
type migrator interface {
	crm.Store
	Migrate(ctx context.Context, dir string, out io.Writer) error
}

func setupOn(t testing.TB, db migrator) *bundle {
	t.Helper()
	ctx := context.Background()
	if err := db.Migrate(ctx, "up", io.Discard); err != nil {
		t.Fatal(err)
	}
	fake := fakeclaude.New()
	t.Cleanup(fake.Close)
	aiCfg := ai.Config{Provider: "claude", APIKey: "test", BaseURL: fake.URL(), MaxRetries: -1, Timeout: 5 * time.Second}
	scorer, err := ai.New(aiCfg)
	if err != nil {
		t.Fatal(err)
	}
	batcher, err := ai.NewBatcher(aiCfg)
	if err != nil {
		t.Fatal(err)
	}
	svc := crm.NewServices(crm.Config{Store: db, Scorer: scorer, Batches: batcher, Hasher: auth.Bcrypt{Cost: 4},
		Domains: []string{"first", "second", "third"}})
	tokens := auth.NewTokens([]byte("test-key-0123456789abcdef0123456789"), time.Hour)
	app, err := ui.New(ui.Deps{Services: svc, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	deps := web.Deps{Services: svc, Tokens: tokens, Pages: app.Mount}
	handler := web.NewServer(deps)
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)

	b := &bundle{srv: srv, handler: handler, svc: svc, fake: fake, baseURL: srv.URL, store: db, tokens: tokens}
	sys := crm.WithActor(ctx, crm.System)
	mk := func(email, name string, role crm.Role) *crm.User {
		u, err := svc.Users.CreateUser(sys, crm.UserInput{Email: email, Name: name, Role: role, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	b.admin = mk("admin@example.com", "Ada Admin", crm.RoleAdmin)
	b.senior = mk("senior@example.com", "Sam Senior", crm.RoleSeniorManager)
	b.alice = mk("alice@example.com", "Alice Manager", crm.RoleManager)
	b.bob = mk("bob@example.com", "Bob Manager", crm.RoleManager)
	return b
}

// as returns the context of a user, for calling the service directly.
func as(u *crm.User) context.Context {
	return crm.WithActor(context.Background(), crm.Actor{UserID: u.ID, Role: u.Role})
}

// client is a browser without JavaScript: a cookie jar, no redirects followed
// unless asked, and helpers to read the CSRF token out of the pages.
type client struct {
	t    testing.TB
	base string
	http *http.Client
	lang string
}

func (b *bundle) client(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: b.baseURL, http: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(req *http.Request) page {
	c.t.Helper()
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (c *client) get(path string) page {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	return c.do(req)
}

// post sends a form; the CSRF token is added from the jar unless form has one.
func (c *client) post(path string, form url.Values) page {
	c.t.Helper()
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf())
	}
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// csrf returns the CSRF cookie, fetching the sign-in page first if needed.
func (c *client) csrf() string {
	c.t.Helper()
	u, _ := url.Parse(c.base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "crm_csrf" {
			return ck.Value
		}
	}
	c.get("/app/login")
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "crm_csrf" {
			return ck.Value
		}
	}
	c.t.Fatal("no CSRF cookie after loading the sign-in page")
	return ""
}

// session returns the session cookie of the jar, "" when there is none.
func (c *client) session() string {
	c.t.Helper()
	for _, ck := range c.http.Jar.Cookies(mustURL(c.base)) {
		if ck.Name == "crm_session" {
			return ck.Value
		}
	}
	return ""
}

func (c *client) login(email string) {
	c.t.Helper()
	p := c.post("/app/login", url.Values{"email": {email}, "password": {password}})
	if p.status != http.StatusSeeOther {
		c.t.Fatalf("sign in as %s: status %d\n%s", email, p.status, p.body)
	}
}

var missingKey = regexp.MustCompile(`⟦[^⟧]*⟧`)

// checkPage fails on a wrong status or an untranslated key in the page.
func checkPage(t testing.TB, p page, status int) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d\n%s", p.status, status, p.body)
	}
	if m := missingKey.FindString(p.body); m != "" {
		t.Errorf("page shows a missing translation %s", m)
	}
}
