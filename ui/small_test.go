package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/ai"
	"github.com/crmleads/crm/auth"
	"github.com/crmleads/crm/internal/testdb"
	"github.com/crmleads/crm/sqlite"
	"github.com/crmleads/crm/ui"
	"github.com/crmleads/crm/web"
)

// TestSmallThings covers the reviewer's small findings (issue 12 §8): the
// audit's "About" names the lead; the threshold reads alike in settings and on
// the lead page (0.60, 0,60 in Ukrainian); the baseline's model line says
// "baseline" once; after a wrong password the focus is on the password; the
// Ukrainian trail has no "(-ла)"; the new-lead form asks the contacts first.
func TestSmallThings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	l, err := b.svc.Leads.CreateLead(as(b.alice), crm.LeadInput{Source: crm.SourcePartner, Name: "Iryna Bondar", Company: "Bondar & Sons"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Analyses.Analyze(as(b.alice), l.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, threshold string }{{"en", "0.60"}, {"uk", "0,60"}} {
		c := b.client(t)
		c.lang = tc.lang
		c.login(b.admin.Email)
		p := c.get("/app/audit")
		checkPage(t, p, http.StatusOK)
		if !strings.Contains(p.body, `<a href="/app/leads/`+l.ID+`">Iryna Bondar · Bondar &amp; Sons</a>`) {
			t.Errorf("%s: the audit does not name the lead\n%s", tc.lang, p.body)
		}
		if p := c.get("/app/admin/settings"); !strings.Contains(p.body, `id="transfer-min-score">`+tc.threshold+`<`) {
			t.Errorf("%s: settings do not show the threshold as %s", tc.lang, tc.threshold)
		}
		p = c.get("/app/leads/" + l.ID)
		if !strings.Contains(p.body, tc.threshold+"</span><span>1</span>") {
			t.Errorf("%s: the lead page does not show the threshold as %s", tc.lang, tc.threshold)
		}
		if tc.lang == "uk" && strings.Contains(p.body, "(-ла)") {
			t.Error("the Ukrainian trail still says (-ла)")
		}
		p = c.get("/app/leads/new")
		if n, s := strings.Index(p.body, `id="name"`), strings.Index(p.body, `id="source"`); n < 0 || s < 0 || n > s {
			t.Errorf("%s: the new-lead form asks the source before the name", tc.lang)
		}
	}

	// The model line: the baseline is named once.
	base := setupBaseline(t)
	bl, err := base.svc.Leads.CreateLead(as(base.alice), crm.LeadInput{Source: crm.SourcePartner, Name: "Petro"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := base.svc.Analyses.Analyze(as(base.alice), bl.ID); err != nil {
		t.Fatal(err)
	}
	bc := base.client(t)
	bc.login(base.alice.Email)
	c := b.client(t)
	c.login(b.alice.Email)
	p := bc.get("/app/leads/" + bl.ID)
	i := strings.Index(p.body, `id="analysis-model">`)
	if i < 0 {
		t.Fatalf("no model line\n%s", p.body)
	}
	line := p.body[i : i+strings.Index(p.body[i:], "</dd>")]
	if !strings.Contains(line, "offline baseline, not Claude") || strings.Contains(line, "(baseline") {
		t.Errorf("the model line repeats itself: %s", line)
	}

	// A lead lost after a change since its analysis: its page neither asks
	// to analyze again before transferring nor names any blocker but closed.
	if _, err := b.svc.Leads.IncrementMessages(as(b.alice), l.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Leads.MoveLead(as(b.alice), l.ID, crm.LeadLost); err != nil {
		t.Fatal(err)
	}
	p = c.get("/app/leads/" + l.ID)
	if strings.Contains(p.body, `id="analysis-stale"`) || strings.Count(p.body, "data-blocker=") != 1 ||
		!strings.Contains(p.body, `data-blocker="lead_closed"`) {
		t.Errorf("a lost lead's page asks to analyze again or lists blockers besides closed\n%s", p.body)
	}

	// A wrong password: the focus is on the password, not the email.
	c = b.client(t)
	p = c.post("/app/login", url.Values{"email": {b.alice.Email}, "password": {"wrong password!"}})
	if !strings.Contains(p.body, `autocomplete="current-password" required autofocus`) ||
		strings.Contains(p.body, `autocomplete="username" required value="`+b.alice.Email+`" autofocus`) {
		t.Errorf("after a wrong password the focus is not on the password\n%s", p.body)
	}
}

// setupBaseline is setup with the offline baseline as the scorer.
func setupBaseline(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, "up", io.Discard); err != nil {
		t.Fatal(err)
	}
	scorer, err := ai.New(ai.Config{Provider: ai.ProviderBaseline})
	if err != nil {
		t.Fatal(err)
	}
	svc := crm.NewServices(crm.Config{Store: db, Scorer: scorer, Hasher: auth.Bcrypt{Cost: 4}, Domains: []string{"first"}})
	tokens := auth.NewTokens([]byte("test-key-0123456789abcdef0123456789"), time.Hour)
	app, err := ui.New(ui.Deps{Services: svc, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.NewServer(web.Deps{Services: svc, Tokens: tokens, Pages: app.Mount}))
	t.Cleanup(srv.Close)
	alice, err := svc.Users.CreateUser(crm.WithActor(ctx, crm.System), crm.UserInput{Email: "alice@example.com", Name: "Alice",
		Role: crm.RoleManager, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{srv: srv, svc: svc, alice: alice, baseURL: srv.URL, db: db}
}
