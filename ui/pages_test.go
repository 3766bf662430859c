package ui_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/ai/fakeclaude"
	"github.com/crmleads/crm/ui"
)

func TestNewParsesEverything(t *testing.T) {
	if _, err := ui.New(ui.Deps{}); err != nil {
		t.Fatal(err)
	}
}

// transferredLead makes, through the service, a lead of u that is analyzed
// and transferred, and returns it with its sale.
func transferredLead(t *testing.T, u *crm.User, svc *crm.Services) (*crm.Lead, *crm.Sale) {
	t.Helper()
	ctx := as(u)
	l, err := svc.Leads.CreateLead(ctx, crm.LeadInput{Source: crm.SourcePartner, BusinessDomain: "first", MessagesCount: 4,
		Name: "Olena Kovalenko", Company: "Kvitka LLC", Email: "olena@kvitka.example"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []crm.LeadStage{crm.LeadContacted, crm.LeadQualified} {
		if _, err := svc.Leads.MoveLead(ctx, l.ID, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Analyses.Analyze(ctx, l.ID); err != nil {
		t.Fatal(err)
	}
	sale, err := svc.Leads.Transfer(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	return l, sale
}

func TestEveryPageRendersForAnAdmin(t *testing.T) {
	b := setup(t)
	done, sale := transferredLead(t, b.admin, b.svc)
	open, err := b.svc.Leads.CreateLead(as(b.admin), crm.LeadInput{Source: crm.SourceScanner, Name: "Open lead"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Analyses.Analyze(as(b.admin), open.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Leads.IncrementMessages(as(b.admin), open.ID); err != nil { // makes the analysis stale
		t.Fatal(err)
	}
	paths := []string{"/app/leads", "/app/leads?stage=qualified&source=partner&owner=me&q=olena", "/app/board",
		"/app/leads/new", "/app/leads/" + done.ID, "/app/leads/" + open.ID, "/app/sales", "/app/sales/board",
		"/app/sales/" + sale.ID, "/app/admin/users", "/app/admin/settings", "/app/audit", "/app/ai",
		"/app/audit?actor=" + b.admin.ID + "&action=lead.transferred&since=2020-01-01&until=2099-12-31"}
	for _, lang := range []string{"en", "uk"} {
		c := b.client(t)
		c.lang = lang
		checkPage(t, c.get("/app/login"), http.StatusOK)
		c.login(b.admin.Email)
		for _, p := range paths {
			t.Run(lang+p, func(t *testing.T) {
				pg := c.get(p)
				checkPage(t, pg, http.StatusOK)
				if !strings.Contains(pg.body, `<html lang="`+lang+`">`) {
					t.Errorf("page is not in %s", lang)
				}
				if ct := pg.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
			})
		}
	}
	c := b.client(t)
	c.login(b.admin.Email)
	pg := c.get("/app/leads/" + open.ID)
	for _, want := range []string{`id="analysis-stale"`, `data-blocker="stage_not_qualified"`, `data-blocker="analysis_stale"`,
		`disabled aria-disabled="true" id="transfer"`} {
		if !strings.Contains(pg.body, want) {
			t.Errorf("lead page lacks %s", want)
		}
	}
}

func TestRootAndAssets(t *testing.T) {
	b := setup(t)
	c := b.client(t)
	if p := c.get("/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/" {
		t.Fatalf("GET / = %d %s", p.status, p.header.Get("Location"))
	}
	// Not signed in: to the sign-in page, and back afterwards.
	p := c.get("/app/board")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/login?next=%2Fapp%2Fboard" {
		t.Fatalf("GET /app/board signed out = %d %s", p.status, p.header.Get("Location"))
	}
	p = c.post("/app/login", url.Values{"email": {b.alice.Email}, "password": {password}, "next": {"/app/board"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/board" {
		t.Fatalf("sign in = %d %s", p.status, p.header.Get("Location"))
	}
	page := c.get("/app/board")
	checkPage(t, page, http.StatusOK)
	var css string
	for f := range strings.FieldsSeq(page.body) {
		if strings.HasPrefix(f, `href="/static/app.`) && strings.HasSuffix(f, `.css">`) {
			css = strings.TrimSuffix(strings.TrimPrefix(f, `href="`), `">`)
		}
	}
	if css == "" {
		t.Fatal("no hashed stylesheet link in the page")
	}
	a := c.get(css)
	if a.status != 200 || !strings.Contains(a.header.Get("Cache-Control"), "immutable") ||
		!strings.HasPrefix(a.header.Get("Content-Type"), "text/css") {
		t.Fatalf("GET %s = %d %v", css, a.status, a.header)
	}
	if a := c.get("/static/app.css"); a.status != 404 {
		t.Errorf("unhashed asset name served: %d", a.status)
	}
	if p := c.get("/app/nothing-here"); p.status != 404 || !strings.Contains(p.body, `id="error-page"`) {
		t.Errorf("unknown page = %d", p.status)
	}
	// The API is untouched.
	if p := c.get("/healthz"); p.status != 200 {
		t.Errorf("/healthz = %d", p.status)
	}
}

func TestCSRF(t *testing.T) {
	b := setup(t)
	c := b.client(t)
	csrf := c.csrf()

	p := c.post("/app/login", url.Values{"email": {b.alice.Email}, "password": {password}, "csrf": {""}})
	checkPage(t, p, http.StatusForbidden)
	if !strings.Contains(p.body, "This form has expired") {
		t.Errorf("no friendly CSRF message:\n%s", p.body)
	}
	p = c.post("/app/login", url.Values{"email": {b.alice.Email}, "password": {password}, "csrf": {csrf + "x"}})
	checkPage(t, p, http.StatusForbidden)

	c.login(b.alice.Email)
	p = c.post("/app/leads", url.Values{"source": {"manual"}, "name": {"Forged"}, "csrf": {"forged"}})
	checkPage(t, p, http.StatusForbidden)
	// A cross-site form post is refused even with the right token.
	req, _ := http.NewRequest("POST", c.base+"/app/leads", strings.NewReader(url.Values{"source": {"manual"},
		"name": {"Forged"}, "csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	checkPage(t, c.do(req), http.StatusForbidden)
	leads, _, err := b.svc.Leads.Leads(as(b.alice), crm.LeadFilter{})
	if err != nil || len(leads) != 0 {
		t.Fatalf("a forged form created leads: %v %v", leads, err)
	}
	// The right token works.
	p = c.post("/app/leads", url.Values{"source": {"manual"}, "name": {"Real"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("create with token = %d\n%s", p.status, p.body)
	}
}

func TestSessionCookie(t *testing.T) {
	b := setup(t)
	for _, tlsOn := range []bool{false, true} {
		form := url.Values{"email": {b.alice.Email}, "password": {password}, "csrf": {"tok"}}
		r := httptest.NewRequest("POST", "/app/login", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(&http.Cookie{Name: "crm_csrf", Value: "tok"})
		if tlsOn {
			r.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		b.handler.ServeHTTP(w, r)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("sign in = %d %s", w.Code, w.Body)
		}
		var session *http.Cookie
		for _, ck := range w.Result().Cookies() {
			if ck.Name == "crm_session" {
				session = ck
			}
		}
		if session == nil {
			t.Fatal("no session cookie")
		}
		if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" ||
			session.Secure != tlsOn || session.MaxAge != 3600 || session.Value == "" {
			t.Errorf("TLS %v: session cookie %+v", tlsOn, session)
		}
	}
	// A wrong password keeps you on the page, with a message and the email.
	c := b.client(t)
	p := c.post("/app/login", url.Values{"email": {b.alice.Email}, "password": {"wrong password!"}})
	checkPage(t, p, http.StatusUnauthorized)
	if !strings.Contains(p.body, "Wrong email or password") || !strings.Contains(p.body, `value="alice@example.com"`) {
		t.Errorf("wrong password page:\n%s", p.body)
	}
	// A bad or expired token sends you back to sign in.
	c.http.Jar.SetCookies(mustURL(c.base), []*http.Cookie{{Name: "crm_session", Value: "not-a-token", Path: "/"}})
	if p := c.get("/app/leads"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/app/login") {
		t.Errorf("bad token = %d %s", p.status, p.header.Get("Location"))
	}
	// Sign out clears the cookie and ends the session's token, and every
	// other one of the user (a second browser's, an API client's).
	c.login(b.alice.Email)
	other := b.client(t)
	other.login(b.alice.Email)
	token := c.session()
	p = c.post("/app/logout", url.Values{})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/login" {
		t.Fatalf("logout = %d %s", p.status, p.header.Get("Location"))
	}
	if c.session() != "" {
		t.Error("the session cookie survived sign out")
	}
	if p := c.get("/app/login"); !strings.Contains(p.body, "You have signed out on every device.") {
		t.Errorf("sign-in page after sign out has no notice:\n%s", p.body)
	}
	if p := c.get("/app/leads"); p.status != http.StatusSeeOther {
		t.Errorf("after sign out /app/leads = %d", p.status)
	}
	c.http.Jar.SetCookies(mustURL(c.base), []*http.Cookie{{Name: "crm_session", Value: token, Path: "/"}})
	if p := c.get("/app/leads"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/app/login") {
		t.Errorf("the signed-out token kept back: /app/leads = %d %s", p.status, p.header.Get("Location"))
	}
	req, _ := http.NewRequest("GET", c.base+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if p := c.do(req); p.status != http.StatusUnauthorized {
		t.Errorf("the signed-out token at the API: GET /me = %d", p.status)
	}
	if p := other.get("/app/leads"); p.status != http.StatusSeeOther {
		t.Errorf("another browser after sign out: /app/leads = %d", p.status)
	}
	// Signing out with a session that is already over just forgets it.
	if p := c.post("/app/logout", url.Values{}); p.status != http.StatusSeeOther {
		t.Errorf("second sign out = %d", p.status)
	}
	c.login(b.alice.Email)
	if p := c.get("/app/leads"); p.status != http.StatusOK {
		t.Errorf("signed in again: /app/leads = %d", p.status)
	}
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }

func TestLanguage(t *testing.T) {
	b := setup(t)
	c := b.client(t)
	c.lang = "uk-UA,uk;q=0.9,en;q=0.5"
	p := c.get("/app/login")
	checkPage(t, p, http.StatusOK)
	if !strings.Contains(p.body, `<html lang="uk">`) || !strings.Contains(p.body, "Увійти") {
		t.Fatalf("Accept-Language uk did not give Ukrainian:\n%s", p.body)
	}
	// The switch wins over Accept-Language, and comes back to the page.
	p = c.post("/app/lang", url.Values{"lang": {"en"}, "next": {"/app/login"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/login" {
		t.Fatalf("switch = %d %s", p.status, p.header.Get("Location"))
	}
	if p := c.get("/app/login"); !strings.Contains(p.body, `<html lang="en">`) {
		t.Error("the language switch did not stick")
	}
	// No open redirect through the switch.
	if p := c.post("/app/lang", url.Values{"lang": {"uk"}, "next": {"https://evil.example/"}}); p.header.Get("Location") != "/app/" {
		t.Errorf("switch redirected to %s", p.header.Get("Location"))
	}
}

func TestValidationErrorsShowNextToTheFields(t *testing.T) {
	b := setup(t)
	c := b.client(t)
	c.login(b.alice.Email)
	p := c.post("/app/leads", url.Values{"source": {"manual"}, "name": {"Taras"}, "email": {"not-an-email"},
		"messages_count": {"-3"}})
	checkPage(t, p, http.StatusUnprocessableEntity)
	for _, want := range []string{
		`<p class="field-error" id="email-error">Enter an email address like name@example.com.</p>`,
		`<p class="field-error" id="messages_count-error">Enter a number from 0 to 1,000,000.</p>`,
		`value="Taras"`, `value="not-an-email"`, `value="-3"`, `aria-describedby="email-error"`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("form lacks %s", want)
		}
	}
	// A count that is not a number is caught before the service, with the others.
	c.lang = "uk"
	p = c.post("/app/leads", url.Values{"source": {"manual"}, "email": {"x@"}, "messages_count": {"many"}})
	checkPage(t, p, http.StatusUnprocessableEntity)
	for _, want := range []string{"Введіть ціле число.", "Введіть адресу на кшталт name@example.com."} {
		if !strings.Contains(p.body, want) {
			t.Errorf("form lacks %s", want)
		}
	}
	leads, _, _ := b.svc.Leads.Leads(as(b.alice), crm.LeadFilter{})
	if len(leads) != 0 {
		t.Errorf("invalid forms created %d leads", len(leads))
	}
}

func TestFriendlyErrors(t *testing.T) {
	b := setup(t)
	l, err := b.svc.Leads.CreateLead(as(b.alice), crm.LeadInput{Source: crm.SourcePartner, BusinessDomain: "first"})
	if err != nil {
		t.Fatal(err)
	}
	bob := b.client(t)
	bob.login(b.bob.Email)
	for _, path := range []string{"/app/leads/" + l.ID, "/app/leads/not-an-id", "/app/sales/" + l.ID} {
		p := bob.get(path)
		checkPage(t, p, http.StatusNotFound)
		if !strings.Contains(p.body, "There is no such page, or it is not yours to see.") {
			t.Errorf("%s: no friendly 404", path)
		}
	}
	p := bob.post("/app/leads/"+l.ID+"/stage", url.Values{"stage": {"contacted"}})
	checkPage(t, p, http.StatusNotFound)
	p = bob.get("/app/admin/users")
	checkPage(t, p, http.StatusForbidden)
	if strings.Contains(p.body, `href="/app/admin/users"`) {
		t.Error("a manager sees the Admin link")
	}

	alice := b.client(t)
	alice.login(b.alice.Email)
	// An illegal move (skipping a stage) comes back as a message.
	p = alice.post("/app/leads/"+l.ID+"/stage", url.Values{"stage": {"qualified"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("move = %d", p.status)
	}
	p = alice.get("/app/leads/" + l.ID)
	if !strings.Contains(p.body, "That stage change is not allowed") {
		t.Errorf("no conflict message:\n%s", p.body)
	}
	// The AI failing is a message too, and nothing is stored.
	b.fake.Enqueue(fakeclaude.Error(529))
	alice.post("/app/leads/"+l.ID+"/analyze", url.Values{})
	p = alice.get("/app/leads/" + l.ID)
	checkPage(t, p, http.StatusOK)
	if !strings.Contains(p.body, "The AI is unavailable right now") || !strings.Contains(p.body, `id="analysis-none"`) {
		t.Errorf("no AI outage message:\n%s", p.body)
	}
	b.fake.Enqueue(fakeclaude.Text(`{"score": 7, "recommendation": "buy", "reason": ""}`))
	alice.post("/app/leads/"+l.ID+"/analyze", url.Values{})
	p = alice.get("/app/leads/" + l.ID)
	if !strings.Contains(p.body, "The AI gave an answer we could not use") {
		t.Errorf("no AI bad-answer message:\n%s", p.body)
	}
	// A blocked transfer explains every blocker.
	p = alice.post("/app/leads/"+l.ID+"/transfer", url.Values{})
	p = alice.get("/app/leads/" + l.ID)
	for _, want := range []string{"The lead cannot be transferred yet.", "The lead must be at the Qualified stage.",
		"Analyze the lead with AI first."} {
		if !strings.Contains(p.body, want) {
			t.Errorf("blocked transfer lacks %q", want)
		}
	}
}

func TestAdminManagesUsers(t *testing.T) {
	b := setup(t)
	c := b.client(t)
	c.login(b.admin.Email)
	p := c.post("/app/admin/users", url.Values{"email": {"bad"}, "name": {"New"}, "role": {"manager"}, "password": {"short"}})
	checkPage(t, p, http.StatusUnprocessableEntity)
	if !strings.Contains(p.body, "Use 10 to 200 characters.") || !strings.Contains(p.body, `value="New"`) {
		t.Errorf("user form errors:\n%s", p.body)
	}
	p = c.post("/app/admin/users", url.Values{"email": {"new@example.com"}, "name": {"New"}, "role": {"manager"}, "password": {password}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("create user = %d\n%s", p.status, p.body)
	}
	p = c.post("/app/admin/users", url.Values{"email": {"new@example.com"}, "name": {"Again"}, "role": {"manager"}, "password": {password}})
	checkPage(t, p, http.StatusConflict)
	if !strings.Contains(p.body, "A user with this email already exists.") {
		t.Error("no email-taken message")
	}
	c.post("/app/admin/users/"+b.bob.ID, url.Values{"role": {"senior_manager"}})
	c.post("/app/admin/users/"+b.alice.ID, url.Values{"active": {"false"}})
	us, _ := b.svc.Users.Users(as(b.admin))
	for _, u := range us {
		if u.ID == b.bob.ID && u.Role != crm.RoleSeniorManager {
			t.Errorf("bob's role = %s", u.Role)
		}
		if u.ID == b.alice.ID && u.Active {
			t.Error("alice still active")
		}
	}
	// The last admin cannot demote themself: a message, not an error page.
	c.post("/app/admin/users/"+b.admin.ID, url.Values{"role": {"manager"}})
	if p := c.get("/app/admin/users"); !strings.Contains(p.body, "This is the last active admin") {
		t.Error("no last-admin message")
	}
}

func TestLeadListPagesWithACursor(t *testing.T) {
	b := setup(t)
	for i := range 27 {
		if _, err := b.svc.Leads.CreateLead(as(b.alice), crm.LeadInput{Source: crm.SourceScanner, Name: "Lead " + string(rune('A'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	c := b.client(t)
	c.login(b.alice.Email)
	p := c.get("/app/leads?source=scanner")
	checkPage(t, p, http.StatusOK)
	_, rest, ok := strings.Cut(p.body, `<a class="button" href="`)
	if !ok {
		t.Fatal("no Next link on a full page")
	}
	next, _, _ := strings.Cut(rest, `"`)
	next = strings.ReplaceAll(next, "&amp;", "&")
	if !strings.Contains(next, "source=scanner") || !strings.Contains(next, "cursor=") {
		t.Fatalf("Next link %q loses the filter or the cursor", next)
	}
	p = c.get(next)
	checkPage(t, p, http.StatusOK)
	if n := strings.Count(p.body, `<tr class="lead-row">`); n != 2 {
		t.Errorf("second page has %d leads, want 2", n)
	}
	if strings.Contains(p.body, `rel="next"`) {
		t.Error("the last page has a Next link")
	}
	// A cursor nobody gave out is a message, not an error page.
	checkPage(t, c.get("/app/leads?cursor=bogus"), http.StatusOK)
}

// TestClosedLeadPages: the pages show a transferred and a lost lead as the API
// does (web's TestClosedLeadAnalysis): the analysis is current, not marked
// stale, and the transfer panel names lead_closed alone.
func TestClosedLeadPages(t *testing.T) {
	b := setup(t)
	done, _ := transferredLead(t, b.alice, b.svc)
	ctx := as(b.alice)
	lost, err := b.svc.Leads.CreateLead(ctx, crm.LeadInput{Source: crm.SourceScanner, Name: "Lost lead"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Analyses.Analyze(ctx, lost.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Leads.MoveLead(ctx, lost.ID, crm.LeadLost); err != nil {
		t.Fatal(err)
	}
	c := b.client(t)
	c.login(b.alice.Email)
	for name, id := range map[string]string{"transferred": done.ID, "lost": lost.ID} {
		p := c.get("/app/leads/" + id)
		checkPage(t, p, http.StatusOK)
		if strings.Contains(p.body, `id="analysis-stale"`) {
			t.Errorf("%s lead page marks the analysis stale", name)
		}
		if !strings.Contains(p.body, `id="analysis-score"`) {
			t.Errorf("%s lead page shows no analysis", name)
		}
		for _, other := range []string{"stage_not_qualified", "analysis_stale", "score_below_threshold", "not_analyzed"} {
			if strings.Contains(p.body, `data-blocker="`+other+`"`) {
				t.Errorf("%s lead page lists blocker %s", name, other)
			}
		}
	}
	p := c.get("/app/leads/" + lost.ID)
	if !strings.Contains(p.body, `data-blocker="lead_closed"`) {
		t.Errorf("lost lead page does not list the lead_closed blocker")
	}
	// An id typed in capitals opens the page, as it does on the API.
	checkPage(t, c.get("/app/leads/"+strings.ToUpper(lost.ID)), http.StatusOK)
}
