package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/ai/fakeclaude"
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

// TestAIReasonInThePageLanguage: the fake Messages API answers the reason in
// English and in Ukrainian (the latest prompt asks for both); the lead page
// shows the one of its language. An analysis with one reason only (made
// before the Ukrainian one was asked for) shows it in either language, marked
// with its own. The AI's text is untrusted: it is escaped, never markup.
func TestAIReasonInThePageLanguage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	actx := as(b.alice)
	l, err := b.svc.Leads.CreateLead(actx, crm.LeadInput{Source: crm.SourcePartner, BusinessDomain: "first", MessagesCount: 4, Name: "Olha"})
	if err != nil {
		t.Fatal(err)
	}
	c := b.client(t)
	c.login(b.alice.Email)
	path := "/app/leads/" + l.ID
	if p := c.post(path+"/analyze", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("analyze: %d", p.status)
	}
	reason := func(lang string) string {
		t.Helper()
		c.lang = lang
		p := c.get(path)
		checkPage(t, p, http.StatusOK)
		i := strings.Index(p.body, `id="analysis-reason"`)
		if i < 0 {
			t.Fatal("no reason on the page")
		}
		return p.body[i : i+strings.Index(p.body[i:], "</dd>")]
	}
	if got := reason("en"); !strings.Contains(got, `>A new lead from partner with 4 messages`) {
		t.Errorf("English page: %s", got)
	}
	if got := reason("uk"); !strings.Contains(got, `>Лід на етапі new із джерела partner, повідомлень: 4, бізнес-домен відомий.`) {
		t.Errorf("Ukrainian page: %s", got)
	}

	// An analysis from before: the English reason alone, in either page.
	err = b.db.InTx(t.Context(), func(tx crm.Tx) error {
		old, err := tx.LockLead(t.Context(), l.ID)
		if err != nil {
			return err
		}
		old.AI.ReasonUK = ""
		return tx.UpdateLead(t.Context(), old)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := reason("uk"); !strings.Contains(got, `id="analysis-reason" lang="en">A new lead from partner`) {
		t.Errorf("Ukrainian page, an English-only analysis: %s", got)
	}

	// Hostile text from the AI, in both languages.
	b.fake.Enqueue(fakeclaude.Text(`{"score":0.4,"recommendation":"continue_nurturing",` +
		`"reason":"<script>alert(1)</script>","reason_uk":"<img src=x onerror=alert(2)>"}`))
	if p := c.post(path+"/analyze", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("analyze: %d", p.status)
	}
	for lang, want := range map[string]string{"en": "&lt;script&gt;alert(1)&lt;/script&gt;", "uk": "&lt;img src=x onerror=alert(2)&gt;"} {
		got := reason(lang)
		if !strings.Contains(got, want) {
			t.Errorf("%s page: the reason is not escaped: %s", lang, got)
		}
		if p := c.get(path); strings.Contains(p.body, "<script>alert") || strings.Contains(p.body, "<img src=x") {
			t.Errorf("%s page carries the AI's markup", lang)
		}
	}
}
