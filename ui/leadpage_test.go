package ui_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/crmleads/crm"
)

// TestLeadPageAIBeforeTransfer: the AI's opinion is read before the transfer
// button. The page is one column at a phone's width, so what decides is the
// document order, not the grid: the analysis panel comes first.
func TestLeadPageAIBeforeTransfer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	actx := as(b.alice)
	l, err := b.svc.Leads.CreateLead(actx, crm.LeadInput{Source: crm.SourcePartner, BusinessDomain: "first", MessagesCount: 4, Name: "Olha"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []crm.LeadStage{crm.LeadContacted, crm.LeadQualified} {
		if _, err := b.svc.Leads.MoveLead(actx, l.ID, s); err != nil {
			t.Fatal(err)
		}
	}
	c := b.client(t)
	c.login(b.alice.Email)
	for _, when := range []string{"before the analysis", "after it"} {
		p := c.get("/app/leads/" + l.ID)
		checkPage(t, p, http.StatusOK)
		ai, panel, button := strings.Index(p.body, `id="analysis-panel"`), strings.Index(p.body, `id="transfer-panel"`), strings.Index(p.body, `id="transfer"`)
		if ai < 0 || panel < 0 || button < 0 || ai > panel || panel > button {
			t.Errorf("%s: the analysis panel at %d, the transfer panel at %d, its button at %d; want the analysis first", when, ai, panel, button)
		}
		if _, err := b.svc.Analyses.Analyze(actx, l.ID); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSaleProgress: the sale page shows the sale's stages, new → KYC →
// agreement → paid, the ones it passed done and the current one marked for
// assistive technology too; a lost sale ends on lost. The score line says
// what the AI advised in words, not with a label that reads like a button.
func TestSaleProgress(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, sale := transferredLead(t, b.alice, b.svc)
	_, lostSale := transferredLead(t, b.alice, b.svc)
	actx := as(b.alice)
	for _, st := range []crm.SaleStage{crm.SaleKYC, crm.SaleAgreement} {
		if _, err := b.svc.Leads.MoveSale(actx, sale.ID, st); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.svc.Leads.MoveSale(actx, lostSale.ID, crm.SaleKYC); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Leads.MoveSale(actx, lostSale.ID, crm.SaleLost); err != nil {
		t.Fatal(err)
	}
	c := b.client(t)
	c.login(b.alice.Email)
	steps := regexp.MustCompile(`<li class="([a-z ]+)"( aria-current="step")? data-stage="([a-z]+)"`)
	progress := func(id string, lang string) (string, string) {
		t.Helper()
		c.lang = lang
		p := c.get("/app/sales/" + id)
		checkPage(t, p, http.StatusOK)
		i := strings.Index(p.body, `id="sale-progress"`)
		if i < 0 {
			t.Fatal("the sale page has no stage progress")
		}
		ol := p.body[i : i+strings.Index(p.body[i:], "</ol>")]
		var got []string
		for _, m := range steps.FindAllStringSubmatch(ol, -1) {
			s := m[3] + ":" + m[1]
			if m[2] != "" {
				s += ":aria-current"
			}
			got = append(got, s)
		}
		score := p.body[strings.Index(p.body, `id="sale-score"`):]
		return strings.Join(got, " "), score[:strings.Index(score, "</dd>")]
	}
	got, score := progress(sale.ID, "en")
	if want := "new:done kyc:done agreement:current:aria-current paid:todo"; got != want {
		t.Errorf("an agreement's progress: %s, want %s", got, want)
	}
	if !strings.Contains(score, "the AI recommends a transfer to sales") || strings.Contains(score, "Transfer to sales") {
		t.Errorf("the score line reads %q", score)
	}
	got, _ = progress(lostSale.ID, "en")
	if want := "new:done kyc:done agreement:todo paid:todo lost:current lost:aria-current"; got != want {
		t.Errorf("a lost sale's progress: %s, want %s", got, want)
	}
	if _, score = progress(sale.ID, "uk"); !strings.Contains(score, "ШІ радить передати в продажі") {
		t.Errorf("the score line in Ukrainian reads %q", score)
	}
	// The lead page's own strip marks its stage the same way.
	p := c.get("/app/leads/" + sale.LeadID)
	if !strings.Contains(p.body, `<li class="current" aria-current="step">`) {
		t.Error("the lead page's pipeline does not mark the current stage")
	}
}
