package ui_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/ai/fakeclaude"
	"github.com/crmleads/crm/internal/testdb"
	"github.com/crmleads/crm/storetest"
	"github.com/crmleads/crm/ui"
	"github.com/crmleads/crm/web"
)

// xss is the payload every free-text field gets, after a marker naming the
// field: a script element, an attribute break-out into an img with onerror,
// a single-quoted break-out into an svg with onload.
func xss(field string) string {
	return field + `<script>alert(1)</script>"><img src=x onerror=alert(1)>'><svg onload=alert(1)>`
}

// injected returns what in the parsed page could run a script: an inline
// script, an event-handler attribute, an element the payload would add.
// Every page's own scripts are external (the CSP allows no other).
func injected(doc *html.Node) []string {
	var bad []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if n.Data == "script" && (attr(n, "src") == "" || n.FirstChild != nil) {
				bad = append(bad, "an inline <script>")
			}
			if n.Data == "svg" || n.Data == "iframe" || n.Data == "object" || n.Data == "embed" {
				bad = append(bad, "an element <"+n.Data+">")
			}
			if n.Data == "img" && attr(n, "src") == "x" {
				bad = append(bad, "the payload's <img>")
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(strings.ToLower(a.Key), "on") {
					bad = append(bad, fmt.Sprintf("an attribute %s=%q on <%s>", a.Key, a.Val, n.Data))
				}
				if v := strings.ToLower(strings.TrimSpace(a.Val)); (a.Key == "href" || a.Key == "src" || a.Key == "action") &&
					strings.HasPrefix(v, "javascript:") {
					bad = append(bad, fmt.Sprintf("a javascript: URL in %s", a.Key))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return bad
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// shown returns the page's text and attribute values, decoded: where an
// escaped payload reads back whole.
func shown(doc *html.Node) string {
	var sb strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			sb.WriteString(n.Data)
			sb.WriteByte('\n')
		case html.ElementNode:
			for _, a := range n.Attr {
				sb.WriteString(a.Val)
				sb.WriteByte('\n')
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return sb.String()
}

// leadLinks returns the text of the page's links to a lead.
func leadLinks(doc *html.Node) []string {
	var out []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" {
			if id, ok := strings.CutPrefix(attr(n, "href"), "/app/leads/"); ok && crm.ValidID(id) {
				out = append(out, strings.TrimSpace(textOf(n)))
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// textOf returns the text inside n.
func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var sb strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		sb.WriteString(textOf(c))
	}
	return sb.String()
}

// TestXSSInNewFields puts a script payload in every free-text field the
// pipeline work added (activities, notes, task titles, lost reasons, saved
// filter names, notifications through a lead's name, user names) and in the
// AI's reason, which comes back from the real Claude client against the fake
// Messages API: the AI's text is untrusted input. Every page that shows them
// must show the payload as text (it reads back whole from the parsed page)
// and nothing the payload could inject.
func TestXSSInNewFields(t *testing.T) {
	b := setup(t)
	ctx := as(b.alice)
	lead, err := b.svc.Leads.CreateLead(as(b.senior), crm.LeadInput{Source: crm.SourcePartner, BusinessDomain: "first",
		Name: xss("name"), Company: xss("company"), Note: xss("note"), OwnerID: b.alice.ID}) // notifies alice
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Leads.LogActivity(ctx, lead.ID, crm.ActivityInput{Kind: crm.ActivityNote, Text: xss("activity")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Leads.LogActivity(ctx, lead.ID, crm.ActivityInput{Kind: crm.ActivityCall, Text: xss("call")}); err != nil {
		t.Fatal(err)
	}
	_, err = b.svc.Leads.CreateTask(ctx, lead.ID, crm.TaskInput{Title: xss("task"), DueAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Leads.SaveFilter(ctx, xss("filter"), "stage=new"); err != nil {
		t.Fatal(err)
	}
	reason, _ := json.Marshal(map[string]any{"score": 0.8, "recommendation": "transfer_to_sales", "reason": xss("aireason"),
		"reason_uk": xss("aireason")}) // the latest prompt asks for both; either may be shown
	b.fake.Enqueue(fakeclaude.Text(string(reason)))
	if a, err := b.svc.Analyses.Analyze(ctx, lead.ID); err != nil || a.Reason != xss("aireason") {
		t.Fatalf("Analyze = %+v, %v; want the payload as the reason", a, err)
	}
	lost, err := b.svc.Leads.CreateLead(ctx, crm.LeadInput{Source: crm.SourceScanner, Name: "Lost one"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Leads.ChangeStage(ctx, lost.ID, crm.StageChange{Stage: crm.LeadLost, LostReason: xss("lostreason")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Users.CreateUser(crm.WithActor(context.Background(), crm.System),
		crm.UserInput{Email: "evil@example.com", Name: xss("username"), Role: crm.RoleManager, Password: password}); err != nil {
		t.Fatal(err)
	}

	// Each page, and the payloads it must show (as text).
	pages := []struct {
		as   *crm.User
		path string
		want []string
	}{
		{b.alice, "/app/leads/" + lead.ID, []string{"name", "company", "note", "activity", "call", "task", "aireason"}},
		{b.alice, "/app/leads/" + lost.ID, []string{"lostreason"}},
		{b.alice, "/app/leads/" + lead.ID + "/lose", []string{"name"}},
		{b.alice, "/app/leads", []string{"name"}},
		{b.alice, "/app/leads?q=" + url.QueryEscape("<script>"), []string{"name"}},
		{b.alice, "/app/board", nil},
		{b.alice, "/app/tasks", []string{"task"}},
		{b.alice, "/app/notifications", []string{"name"}},
		{b.admin, "/app/leads/" + lead.ID, []string{"name", "aireason", "task"}},
		{b.admin, "/app/audit", nil},
		{b.admin, "/app/ai", nil},
		{b.admin, "/app/admin/users", []string{"username"}},
		{b.admin, "/app/admin/settings", nil},
	}
	clients := map[*crm.User]*client{}
	for _, p := range pages {
		c := clients[p.as]
		if c == nil {
			c = b.client(t)
			c.login(p.as.Email)
			clients[p.as] = c
		}
		pg := c.get(p.path)
		checkPage(t, pg, http.StatusOK)
		doc, err := html.Parse(strings.NewReader(pg.body))
		if err != nil {
			t.Fatalf("%s: parse: %v", p.path, err)
		}
		if bad := injected(doc); len(bad) > 0 {
			t.Errorf("%s as %s: the page holds %s", p.path, p.as.Email, strings.Join(bad, "; "))
		}
		text := shown(doc)
		for _, f := range p.want {
			if !strings.Contains(text, xss(f)) {
				t.Errorf("%s as %s: the %s payload is not shown as text", p.path, p.as.Email, f)
			}
		}
		if strings.Contains(pg.body, "<script>alert") || strings.Contains(pg.body, "<img src=x") {
			t.Errorf("%s: the raw payload is in the page's source", p.path)
		}
	}

	// The API answers the same texts as JSON, never as something a
	// browser would render.
	for _, path := range []string{"/leads/" + lead.ID, "/leads/" + lead.ID + "/activities", "/leads/" + lead.ID + "/tasks",
		"/leads/" + lead.ID + "/analyses", "/me/filters", "/notifications", "/tasks", "/reports/lost-reasons", "/leads/" + lead.ID + "/events"} {
		tok, err := b.tokens.IssueUser(b.alice)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", b.baseURL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, res.StatusCode, body)
			continue
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: Content-Type %q, X-Content-Type-Options %q; want JSON, nosniff", path, ct, res.Header.Get("X-Content-Type-Options"))
		}
	}
}

// TestPageSQLInjection is the API's TestSQLInjection for the pages' lists,
// on both stores: every filter, sort key, cursor and search gets every
// payload, and the answer is the page (the search matching literally) or the
// 422 page, never a 5xx; nothing is changed.
func TestPageSQLInjection(t *testing.T) {
	payloads := []string{`' OR 1=1--`, `"; DROP TABLE leads;--`, `'; DROP TABLE leads;--`, `%`, `_`, `\`, `a%b`, `a_b`,
		`ʼ OR ʼ1ʼ=ʼ1`, `’ OR ’1’=’1`, `1; SELECT pg_sleep(10)`, strings.Repeat("a'", 150)}
	targets := []struct{ path, param string }{
		{"/app/leads", "q"}, {"/app/leads", "stage"}, {"/app/leads", "source"}, {"/app/leads", "owner"},
		{"/app/leads", "sort"}, {"/app/leads", "cursor"}, {"/app/leads/export", "q"}, {"/app/leads/export", "sort"},
		{"/app/board", "q"}, {"/app/board", "owner"},
		{"/app/sales", "stage"}, {"/app/sales", "sort"}, {"/app/sales", "cursor"}, {"/app/sales/export", "sort"},
		{"/app/audit", "actor"}, {"/app/audit", "action"}, {"/app/audit", "since"}, {"/app/audit", "cursor"},
	}
	for _, kind := range testdb.Kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			b := setupKind(t, kind)
			names := []string{"zq a%b", "zq aXb", "zq a_b", "zq aYb", `zq back\slash`, "zq O'Brien"}
			for _, n := range names {
				if _, err := b.svc.Leads.CreateLead(as(b.alice), crm.LeadInput{Source: crm.SourceManual, Name: n}); err != nil {
					t.Fatal(err)
				}
			}
			count := func() int {
				ls, err := b.store.Leads(context.Background(), crm.LeadFilter{Limit: crm.MaxPageSize})
				if err != nil {
					t.Fatal(err)
				}
				return len(ls)
			}
			before := count()
			c := b.client(t)
			c.login(b.admin.Email)
			for _, tg := range targets {
				for _, p := range payloads {
					path := tg.path + "?" + url.Values{tg.param: {p}}.Encode()
					pg := c.get(path)
					if pg.status != http.StatusOK && pg.status != http.StatusUnprocessableEntity {
						t.Errorf("%s: status %d, want 200 or 422\n%.300s", path, pg.status, pg.body)
						continue
					}
					if pg.status != http.StatusOK || tg.path != "/app/leads" || tg.param != "q" {
						continue
					}
					doc, err := html.Parse(strings.NewReader(pg.body))
					if err != nil {
						t.Fatal(err)
					}
					listed := leadLinks(doc)
					for _, n := range names {
						want := strings.Contains(strings.ToLower(n), strings.ToLower(p))
						if got := slices.Contains(listed, n); got != want {
							t.Errorf("q=%q: lead %q listed %v, want %v (a literal match)", p, n, got, want)
						}
					}
				}
			}
			if after := count(); after != before {
				t.Errorf("%d leads after the payloads, %d before", after, before)
			}
		})
	}
}

// TestSecurityHeaders checks the headers of pages, the API, the docs and
// errors, and that HSTS goes only with HTTPS: over this server's own TLS, or
// from a trusted proxy saying X-Forwarded-Proto: https; never over plain
// HTTP, nor when an untrusted client claims HTTPS.
func TestSecurityHeaders(t *testing.T) {
	b := setup(t)
	tok, err := b.tokens.IssueUser(b.alice)
	if err != nil {
		t.Fatal(err)
	}
	server := func(tlsOn bool, proxies ...string) *httptest.Server {
		var trusted []netip.Prefix
		for _, p := range proxies {
			trusted = append(trusted, netip.MustParsePrefix(p))
		}
		app, err := ui.New(ui.Deps{Services: b.svc, Tokens: b.tokens})
		if err != nil {
			t.Fatal(err)
		}
		h := web.NewServer(web.Deps{Services: b.svc, Tokens: b.tokens, Pages: app.Mount, TrustedProxies: trusted})
		var srv *httptest.Server
		if tlsOn {
			srv = httptest.NewTLSServer(h)
		} else {
			srv = httptest.NewServer(h)
		}
		t.Cleanup(srv.Close)
		return srv
	}
	type req struct {
		path, session, bearer string
	}
	reqs := []req{
		{path: "/app/login"}, {path: "/app/leads", session: tok}, {path: "/app/nope", session: tok},
		{path: "/leads", bearer: tok}, {path: "/leads/00000000-0000-0000-0000-000000000000", bearer: tok}, {path: "/leads"},
		{path: "/healthz"}, {path: "/openapi.json"}, {path: "/docs"}, {path: "/nope"},
	}
	get := func(srv *httptest.Server, r req, header map[string]string) *http.Response {
		t.Helper()
		rq, _ := http.NewRequest("GET", srv.URL+r.path, nil)
		if r.session != "" {
			rq.AddCookie(&http.Cookie{Name: "crm_session", Value: r.session})
		}
		if r.bearer != "" {
			rq.Header.Set("Authorization", "Bearer "+r.bearer)
		}
		for k, v := range header {
			rq.Header.Set(k, v)
		}
		cl := srv.Client()
		cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		res, err := cl.Do(rq)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	cases := []struct {
		name   string
		srv    *httptest.Server
		header map[string]string
		hsts   bool
	}{
		{"plain HTTP", server(false), nil, false},
		{"plain HTTP, an untrusted client claiming HTTPS", server(false), map[string]string{"X-Forwarded-Proto": "https"}, false},
		{"plain HTTP, proxies trusted but not this peer", server(false, "10.0.0.0/8"), map[string]string{"X-Forwarded-Proto": "https"}, false},
		{"TLS", server(true), nil, true},
		{"a trusted proxy over HTTPS", server(false, "127.0.0.0/8", "::1/128"), map[string]string{"X-Forwarded-Proto": "https"}, true},
		{"a trusted proxy over HTTP", server(false, "127.0.0.0/8", "::1/128"), map[string]string{"X-Forwarded-Proto": "http"}, false},
	}
	for _, c := range cases {
		for _, r := range reqs {
			res := get(c.srv, r, c.header)
			where := fmt.Sprintf("%s: GET %s (%d)", c.name, r.path, res.StatusCode)
			if res.StatusCode >= 500 {
				t.Errorf("%s", where)
			}
			h := res.Header
			csp := map[string][]string{}
			for _, d := range strings.Split(h.Get("Content-Security-Policy"), ";") {
				if f := strings.Fields(d); len(f) > 0 {
					csp[f[0]] = f[1:]
				}
			}
			scripts, ok := csp["script-src"]
			if !ok {
				scripts = csp["default-src"]
			}
			if len(scripts) == 0 || slices.Contains(scripts, "'unsafe-inline'") || slices.Contains(scripts, "'unsafe-eval'") ||
				slices.Contains(scripts, "*") || slices.Contains(scripts, "data:") {
				t.Errorf("%s: scripts allowed from %v (CSP %q), want no inline script", where, scripts, h.Get("Content-Security-Policy"))
			}
			if fa := csp["frame-ancestors"]; !slices.Equal(fa, []string{"'none'"}) {
				t.Errorf("%s: frame-ancestors %v, want 'none'", where, fa)
			}
			for k, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"} {
				if got := h.Get(k); got != want {
					t.Errorf("%s: %s %q, want %q", where, k, got, want)
				}
			}
			hsts := h.Get("Strict-Transport-Security")
			if c.hsts && !strings.HasPrefix(hsts, "max-age=") {
				t.Errorf("%s: Strict-Transport-Security %q, want max-age", where, hsts)
			}
			if !c.hsts && hsts != "" {
				t.Errorf("%s: Strict-Transport-Security %q over plain HTTP", where, hsts)
			}
		}
		// The session cookie is Secure exactly when HSTS is due.
		res := get(c.srv, req{path: "/app/login"}, c.header)
		for _, ck := range res.Cookies() {
			if ck.Secure != c.hsts {
				t.Errorf("%s: cookie %s Secure=%v, want %v", c.name, ck.Name, ck.Secure, c.hsts)
			}
		}
		if len(res.Cookies()) == 0 {
			t.Errorf("%s: the sign-in page set no cookie", c.name)
		}
	}
}

// TestXSSInImportedRows imports a CSV file whose cells are the payload (the
// import's own path: upload, preview, commit) and renders the pages that show
// the imported leads.
func TestXSSInImportedRows(t *testing.T) {
	b := setup(t)
	var file strings.Builder
	w := csv.NewWriter(&file)
	w.Write([]string{"name", "company", "note", "email"})
	w.Write([]string{xss("imported-name"), xss("imported-company"), xss("imported-note"), ""})
	w.Flush()
	im, err := b.svc.Imports.Start(as(b.alice), crm.ImportInput{FileName: "evil.csv", Source: crm.SourcePartner}, strings.NewReader(file.String()))
	if err != nil {
		t.Fatal(err)
	}
	if im = storetest.DriveImport(t, b.svc, b.store, im.ID); im.Status != crm.ImportReady || im.Valid != 1 {
		t.Fatalf("preview: %+v", im)
	}
	if _, err := b.svc.Imports.Commit(as(b.alice), im.ID); err != nil {
		t.Fatal(err)
	}
	if im = storetest.DriveImport(t, b.svc, b.store, im.ID); im.Status != crm.ImportDone || im.Imported != 1 {
		t.Fatalf("commit: %+v", im)
	}
	leads, _, err := b.svc.Leads.Leads(as(b.alice), crm.LeadFilter{})
	if err != nil || len(leads) != 1 {
		t.Fatalf("leads after the import: %v, %v", leads, err)
	}
	c := b.client(t)
	c.login(b.alice.Email)
	for path, want := range map[string][]string{
		"/app/leads":                {"imported-name"},
		"/app/leads/" + leads[0].ID: {"imported-name", "imported-company", "imported-note"},
		"/app/board":                nil,
	} {
		pg := c.get(path)
		checkPage(t, pg, http.StatusOK)
		doc, err := html.Parse(strings.NewReader(pg.body))
		if err != nil {
			t.Fatal(err)
		}
		if bad := injected(doc); len(bad) > 0 {
			t.Errorf("%s: the page holds %s", path, strings.Join(bad, "; "))
		}
		for _, f := range want {
			if !strings.Contains(shown(doc), xss(f)) {
				t.Errorf("%s: the %s payload is not shown as text", path, f)
			}
		}
	}
}
