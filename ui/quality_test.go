package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/crmleads/crm"
)

// The AI quality page: senior managers and admins only; the figures of the
// report and a reliability diagram with one dot per non-empty band; factors
// on the lead's AI panel; the gate switch on the settings page.
func TestQualityPage(t *testing.T) {
	b := setup(t)
	l, sale := transferredLead(t, b.alice, b.svc)
	for _, st := range []crm.SaleStage{crm.SaleKYC, crm.SaleAgreement, crm.SalePaid} {
		if _, err := b.svc.Leads.MoveSale(as(b.alice), sale.ID, st); err != nil {
			t.Fatal(err)
		}
	}

	c := b.client(t)
	c.login(b.alice.Email)
	checkPage(t, c.get("/app/ai"), http.StatusForbidden)
	pg := c.get("/app/leads/" + l.ID)
	if n := strings.Count(pg.body, `class="factor factor-`); n != 4 {
		t.Errorf("lead page shows %d factors, want 4", n)
	}
	if strings.Contains(pg.body, `href="/app/ai"`) {
		t.Error("a manager sees the AI quality link")
	}

	for _, lang := range []string{"en", "uk"} {
		c := b.client(t)
		c.lang = lang
		c.login(b.senior.Email)
		pg := c.get("/app/ai")
		checkPage(t, pg, http.StatusOK)
		for _, want := range []string{`<svg viewBox=`, `class="diagonal"`, `class="q-count">1<`, `id="costs-analyses">1<`} {
			if !strings.Contains(pg.body, want) {
				t.Errorf("%s: the quality page lacks %s", lang, want)
			}
		}
		if n := len(regexp.MustCompile(`<circle class="point"`).FindAllString(pg.body, -1)); n != 1 {
			t.Errorf("%s: %d dots, want 1 (one non-empty band)", lang, n)
		}
	}

	a := b.client(t)
	a.login(b.admin.Email)
	pg = a.post("/app/admin/settings/gate", url.Values{"transfer_gate": {"calibrated"}})
	checkPage(t, pg, http.StatusSeeOther)
	pg = a.get("/app/admin/settings")
	if !strings.Contains(pg.body, `<option value="calibrated" selected>`) {
		t.Error("the settings page does not show the calibrated gate after the switch")
	}
	pg = a.get("/app/audit?action=settings.updated")
	if !strings.Contains(pg.body, "switched the transfer gate from the AI&#39;s raw score to the calibrated score") {
		t.Errorf("the audit page does not show the switch")
	}
}
