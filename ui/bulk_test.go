package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/crmleads/crm"
)

// bulkOutcomes reads the result page: each lead's id and whether it changed.
var bulkOutcome = regexp.MustCompile(`<tr class="bulk-(ok|failed)" data-lead="([^"]+)">\s*<td>(.*?)</td>\s*<td>(.*?)</td>`)

func outcomes(t *testing.T, body string) map[string][2]string {
	t.Helper()
	out := map[string][2]string{}
	for _, m := range bulkOutcome.FindAllStringSubmatch(body, -1) {
		out[m[2]] = [2]string{m[1], m[4]}
	}
	return out
}

// TestBulkActionsInTheList: a senior manager ticks leads in the list and
// advances them with a plain form; the qualified one is refused, in his
// language, while the others move; "select all on this page" reassigns the
// whole page. A manager sees no checkboxes, and his post is the 403 page.
func TestBulkActionsInTheList(t *testing.T) {
	b := setup(t)
	actx := as(b.alice)
	mk := func(name string, stages ...crm.LeadStage) *crm.Lead {
		t.Helper()
		l, err := b.svc.Leads.CreateLead(actx, crm.LeadInput{Source: crm.SourcePartner, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stages {
			if _, err := b.svc.Leads.MoveLead(actx, l.ID, s); err != nil {
				t.Fatal(err)
			}
		}
		return l
	}
	fresh := mk("Fresh Lead")
	contacted := mk("Contacted Lead", crm.LeadContacted)
	qualified := mk("Qualified Lead", crm.LeadContacted, crm.LeadQualified)

	// The manager: no bar, no checkboxes; posting anyway is refused.
	m := b.client(t)
	m.login(b.alice.Email)
	p := m.get("/app/leads")
	checkPage(t, p, http.StatusOK)
	if strings.Contains(p.body, `id="bulk-form"`) || strings.Contains(p.body, `name="ids"`) {
		t.Error("a manager sees the bulk actions")
	}
	p = m.post("/app/leads/bulk", url.Values{"ids": {fresh.ID}, "action": {"advance"}})
	checkPage(t, p, http.StatusForbidden)
	if l, _ := b.svc.Leads.Lead(actx, fresh.ID); l.Stage != crm.LeadNew {
		t.Fatalf("a manager's bulk post moved the lead to %s", l.Stage)
	}

	// The senior manager: a checkbox per lead, in the form, and the bar.
	c := b.client(t)
	c.lang = "uk"
	c.login(b.senior.Email)
	p = c.get("/app/leads?source=partner")
	checkPage(t, p, http.StatusOK)
	for _, l := range []*crm.Lead{fresh, contacted, qualified} {
		for _, want := range []string{`<input type="checkbox" name="ids" value="` + l.ID + `" form="bulk-form"`,
			`<input type="hidden" name="page" value="` + l.ID + `">`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("the list lacks %s", want)
			}
		}
	}
	for _, want := range []string{`<form method="post" action="/app/leads/bulk" id="bulk-form"`, `name="csrf"`,
		`<input type="hidden" name="back" value="/app/leads?source=partner">`, `id="bulk-all" name="all" value="1"`,
		`Вибрати всі на цій сторінці`, `<button name="action" value="advance" id="bulk-advance">`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the bulk bar lacks %s", want)
		}
	}

	// Without the CSRF token nothing happens.
	p = c.post("/app/leads/bulk", url.Values{"csrf": {"forged"}, "ids": {fresh.ID}, "action": {"advance"}})
	if p.status != http.StatusForbidden {
		t.Errorf("a forged bulk post: status %d", p.status)
	}

	// Advance three: two move, the qualified one is refused and says why.
	p = c.post("/app/leads/bulk", url.Values{"ids": {fresh.ID, contacted.ID, qualified.ID}, "action": {"advance"},
		"back": {"/app/leads?source=partner"}})
	checkPage(t, p, http.StatusOK)
	got := outcomes(t, p.body)
	want := map[string][2]string{
		fresh.ID:     {"ok", "Переведено в етап «Контакт встановлено»."},
		contacted.ID: {"ok", "Переведено в етап «Кваліфікований»."},
		qualified.ID: {"failed", "кваліфікований лід іде далі лише передачею в продажі"},
	}
	for id, w := range want {
		if got[id][0] != w[0] || !strings.Contains(got[id][1], w[1]) {
			t.Errorf("lead %s: outcome %q, want %s with %q", id, got[id], w[0], w[1])
		}
	}
	for _, want := range []string{"Змінено лідів: 2 з 3.", `class="flash flash-error"`, `href="/app/leads?source=partner"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the result page lacks %s", want)
		}
	}
	for id, stage := range map[string]crm.LeadStage{fresh.ID: crm.LeadContacted, contacted.ID: crm.LeadQualified, qualified.ID: crm.LeadQualified} {
		if l, _ := b.svc.Leads.Lead(actx, id); l.Stage != stage {
			t.Errorf("lead %s is %s, want %s", id, l.Stage, stage)
		}
	}

	// Select all on this page: every lead of the page goes to Bob, whatever
	// is ticked; each change audited on its own.
	c.lang = "en"
	page := url.Values{"all": {"1"}, "page": {fresh.ID, contacted.ID, qualified.ID}, "ids": {fresh.ID},
		"action": {"reassign"}, "owner_id": {b.bob.ID}}
	p = c.post("/app/leads/bulk", page)
	checkPage(t, p, http.StatusOK)
	got = outcomes(t, p.body)
	for _, l := range []*crm.Lead{fresh, contacted, qualified} {
		if got[l.ID][0] != "ok" || !strings.Contains(got[l.ID][1], "Reassigned to Bob Manager.") {
			t.Errorf("lead %s: outcome %q", l.ID, got[l.ID])
		}
		if n := ownerEvents(t, b, l.ID); n != 1 {
			t.Errorf("lead %s has %d owner events, want 1", l.ID, n)
		}
	}
	if !strings.Contains(p.body, "3 of 3 leads changed.") || !strings.Contains(p.body, "<h1>Reassign to Bob Manager</h1>") {
		t.Errorf("the result page lacks its summary:\n%s", p.body)
	}

	// Nothing ticked, no owner, an unknown lead: said, nothing changed.
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"action": {"advance"}}, "Tick at least one lead"},
		{url.Values{"ids": {fresh.ID}, "action": {"reassign"}}, "Choose who gets the leads."},
	} {
		p = c.post("/app/leads/bulk", tc.form)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/leads" {
			t.Fatalf("%v: status %d to %q", tc.form, p.status, p.header.Get("Location"))
		}
		if p = c.get("/app/leads"); !strings.Contains(p.body, tc.want) {
			t.Errorf("%v: the list does not say %q", tc.form, tc.want)
		}
	}
	unknown := crm.NewID()
	p = c.post("/app/leads/bulk", url.Values{"ids": {unknown}, "action": {"advance"}, "back": {"https://evil.example/"}})
	checkPage(t, p, http.StatusOK)
	if got := outcomes(t, p.body)[unknown]; got[0] != "failed" || got[1] == "" {
		t.Errorf("an unknown lead: outcome %q", got)
	}
	if strings.Contains(p.body, "evil.example") {
		t.Error("the result page links back off the app")
	}
}
