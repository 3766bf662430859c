package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm"
)

// ownerEvents counts a lead's lead.owner_changed events.
func ownerEvents(t *testing.T, b *bundle, id string) int {
	t.Helper()
	events, err := b.svc.Leads.LeadEvents(as(b.admin), id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Action == crm.ActionLeadOwner {
			n++
		}
	}
	return n
}

func TestSeniorSeesOwnerNamesAndReassigns(t *testing.T) {
	b := setup(t)
	l, err := b.svc.Leads.CreateLead(as(b.alice), crm.LeadInput{Source: crm.SourcePartner, Name: "Taras Hnatiuk"})
	if err != nil {
		t.Fatal(err)
	}
	c := b.client(t)
	c.login(b.senior.Email)

	// Names, not "Colleague …", in the list, the board and the lead page.
	for _, path := range []string{"/app/leads", "/app/board", "/app/leads/" + l.ID} {
		p := c.get(path)
		checkPage(t, p, http.StatusOK)
		if !strings.Contains(p.body, "Alice Manager") || strings.Contains(p.body, "Colleague …") {
			t.Errorf("%s does not name the owner", path)
		}
	}
	// The owner filter: Everyone, Mine and every active user by name.
	p := c.get("/app/leads")
	for _, want := range []string{`<option value="">Everyone</option>`, `<option value="me">Mine</option>`,
		`<option value="` + b.alice.ID + `">Alice Manager</option>`, `<option value="` + b.bob.ID + `">Bob Manager</option>`,
		`<option value="` + b.admin.ID + `">Ada Admin</option>`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the owner filter lacks %s", want)
		}
	}
	if p := c.get("/app/leads?owner=" + b.bob.ID); strings.Contains(p.body, "Taras Hnatiuk") {
		t.Error("Bob's leads show Alice's lead")
	}

	// The reassign form, with the current owner selected.
	p = c.get("/app/leads/" + l.ID)
	if !strings.Contains(p.body, `id="owner-form"`) ||
		!strings.Contains(p.body, `<option value="`+b.alice.ID+`" selected>Alice Manager</option>`) {
		t.Fatalf("no reassign form with Alice selected:\n%s", p.body)
	}
	p = c.post("/app/leads/"+l.ID+"/owner", url.Values{"owner_id": {b.bob.ID}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/leads/"+l.ID {
		t.Fatalf("reassign = %d %s\n%s", p.status, p.header.Get("Location"), p.body)
	}
	p = c.get("/app/leads/" + l.ID)
	checkPage(t, p, http.StatusOK)
	for _, want := range []string{"Reassigned to Bob Manager.", "reassigned the lead from Alice Manager to Bob Manager",
		`<option value="` + b.bob.ID + `" selected>Bob Manager</option>`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("after reassigning the lead page lacks %q", want)
		}
	}
	got, err := b.svc.Leads.Lead(as(b.admin), l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.OwnerID != b.bob.ID {
		t.Errorf("owner %s, want Bob", got.OwnerID)
	}
	if n := ownerEvents(t, b, l.ID); n != 1 {
		t.Errorf("%d lead.owner_changed events, want 1", n)
	}
	if p := c.get("/app/leads?owner=" + b.bob.ID); !strings.Contains(p.body, "Taras Hnatiuk") {
		t.Error("Bob's leads lack the reassigned lead")
	}

	// An inactive user is no owner: the service says so, as a message.
	if _, err := b.svc.Users.UpdateUser(as(b.admin), b.alice.ID, crm.UserUpdate{Active: new(false)}); err != nil {
		t.Fatal(err)
	}
	p = c.post("/app/leads/"+l.ID+"/owner", url.Values{"owner_id": {b.alice.ID}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("reassign to an inactive user = %d", p.status)
	}
	p = c.get("/app/leads/" + l.ID)
	if strings.Contains(p.body, `<option value="`+b.alice.ID+`"`) {
		t.Error("an inactive user is offered as owner")
	}
	if !strings.Contains(p.body, "flash-error") {
		t.Error("no error message after reassigning to an inactive user")
	}
	if n := ownerEvents(t, b, l.ID); n != 1 {
		t.Errorf("%d lead.owner_changed events, want 1", n)
	}
}

func TestManagerCannotReassignOrReadTheAudit(t *testing.T) {
	b := setup(t)
	l, err := b.svc.Leads.CreateLead(as(b.alice), crm.LeadInput{Source: crm.SourcePartner, Name: "Taras Hnatiuk"})
	if err != nil {
		t.Fatal(err)
	}
	c := b.client(t)
	c.login(b.alice.Email)
	p := c.get("/app/leads/" + l.ID)
	checkPage(t, p, http.StatusOK)
	if strings.Contains(p.body, `id="owner-form"`) || strings.Contains(p.body, `href="/app/audit"`) {
		t.Error("a manager sees the reassign form or the Audit link")
	}
	p = c.post("/app/leads/"+l.ID+"/owner", url.Values{"owner_id": {b.bob.ID}})
	checkPage(t, p, http.StatusForbidden)
	if !strings.Contains(p.body, `id="error-page"`) {
		t.Errorf("no friendly 403 page:\n%s", p.body)
	}
	got, err := b.svc.Leads.Lead(as(b.admin), l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.OwnerID != b.alice.ID || ownerEvents(t, b, l.ID) != 0 {
		t.Error("a manager's reassign changed the lead")
	}
	for _, lang := range []string{"en", "uk"} {
		c.lang = lang
		p = c.get("/app/audit")
		checkPage(t, p, http.StatusForbidden)
		if !strings.Contains(p.body, `id="error-page"`) {
			t.Errorf("no friendly 403 page for the audit:\n%s", p.body)
		}
	}
}

func TestAuditPage(t *testing.T) {
	b := setup(t)
	l, err := b.svc.Leads.CreateLead(as(b.alice), crm.LeadInput{Source: crm.SourcePartner, Name: "Taras Hnatiuk"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Leads.MoveLead(as(b.alice), l.ID, crm.LeadContacted); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Leads.UpdateLead(as(b.senior), l.ID, crm.LeadUpdate{OwnerID: &b.bob.ID}); err != nil {
		t.Fatal(err)
	}
	c := b.client(t)
	c.login(b.senior.Email)

	p := c.get("/app/audit")
	checkPage(t, p, http.StatusOK)
	for _, want := range []string{`href="/app/audit" aria-current="page"`, "created the lead",
		"moved the lead from New to Contacted", "reassigned the lead from Alice Manager to Bob Manager",
		"created the user Bob Manager as Manager", `href="/app/leads/` + l.ID + `"`, "Alice Manager", "Sam Senior",
		`<option value="lead.owner_changed">Lead reassigned</option>`, `<option value="` + b.bob.ID + `">Bob Manager</option>`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the audit page lacks %q", want)
		}
	}
	// Newest first.
	if i, j := strings.Index(p.body, "reassigned the lead"), strings.Index(p.body, "created the lead"); i < 0 || j < i {
		t.Error("the audit is not newest first")
	}

	// The action filter really filters.
	p = c.get("/app/audit?action=lead.stage_changed")
	checkPage(t, p, http.StatusOK)
	if n := strings.Count(p.body, `data-action="`); n != 1 || !strings.Contains(p.body, `data-action="lead.stage_changed"`) {
		t.Errorf("action filter: %d rows\n%s", n, p.body)
	}
	if !strings.Contains(p.body, `<option value="lead.stage_changed" selected>`) {
		t.Error("the action filter is not kept")
	}
	// The actor filter, and the dates (until is inclusive).
	p = c.get("/app/audit?actor=" + b.alice.ID)
	if n := strings.Count(p.body, `data-action="`); n != 2 || strings.Contains(p.body, "reassigned the lead") {
		t.Errorf("actor filter: %d rows", n)
	}
	today := time.Now().UTC().Format("2006-01-02")
	p = c.get("/app/audit?actor=" + b.alice.ID + "&since=" + today + "&until=" + today)
	if n := strings.Count(p.body, `data-action="`); n != 2 {
		t.Errorf("today's events: %d rows", n)
	}
	p = c.get("/app/audit?since=2099-01-01")
	checkPage(t, p, http.StatusOK)
	if strings.Contains(p.body, `data-action="`) || !strings.Contains(p.body, "No events match these filters.") {
		t.Error("events from the future")
	}
	p = c.get("/app/audit?until=2000-01-01")
	if strings.Contains(p.body, `data-action="`) {
		t.Error("events from the past")
	}
	p = c.get("/app/audit?since=yesterday")
	checkPage(t, p, http.StatusOK)
	if !strings.Contains(p.body, "A date is not valid") {
		t.Error("a bad date is not explained")
	}

	// In Ukrainian, with the locale's dates.
	c.lang = "uk"
	p = c.get("/app/audit")
	checkPage(t, p, http.StatusOK)
	if !strings.Contains(p.body, "Журнал") || !strings.Contains(p.body, time.Now().UTC().Format("02.01.2006")) {
		t.Error("the audit page is not in Ukrainian")
	}
	c.lang = ""

	// Cursor paging: a Next link that keeps the filter and reaches the rest.
	for range 30 {
		if _, err := b.svc.Leads.CreateLead(as(b.bob), crm.LeadInput{Source: crm.SourceScanner}); err != nil {
			t.Fatal(err)
		}
	}
	p = c.get("/app/audit?action=lead.created")
	first := strings.Count(p.body, `data-action="lead.created"`)
	i := strings.Index(p.body, `href="/app/audit?`)
	if first != 25 || i < 0 {
		t.Fatalf("first page: %d rows, next link %v", first, i >= 0)
	}
	next := p.body[i+len(`href="`):]
	next = strings.ReplaceAll(next[:strings.Index(next, `"`)], "&amp;", "&")
	if !strings.Contains(next, "action=lead.created") || !strings.Contains(next, "cursor=") {
		t.Fatalf("next link %s", next)
	}
	p = c.get(next)
	checkPage(t, p, http.StatusOK)
	if n := strings.Count(p.body, `data-action="lead.created"`); n != 6 || strings.Contains(p.body, `rel="next"`) {
		t.Errorf("second page: %d rows", n)
	}
	// A hand-made cursor starts again, with a message.
	p = c.get("/app/audit?cursor=nonsense")
	checkPage(t, p, http.StatusOK)
	if !strings.Contains(p.body, "flash-error") {
		t.Error("a bad cursor is not explained")
	}
}
