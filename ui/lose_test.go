package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/crmleads/crm"
)

// TestLoseConfirmWithoutJS loses a lead the way the page asks, without
// JavaScript, in both languages: the lead page's and the board's "lost" open a
// confirmation page (nothing is lost by that click) offering the reasons an
// admin configured plus free text; confirming without a reason comes back
// 422; a chosen reason and words are kept together on the lead; a lost lead's
// confirmation page goes back to the lead; another manager gets 404.
func TestLoseConfirmWithoutJS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := b.svc.Leads.SetPipelineSettings(as(b.admin), crm.PipelineSettings{LostReasons: []string{"Too expensive", "Went quiet"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, title, need, flash string }{
		{"en", "Lose the lead Iryna Bondar?", "Choose a reason or write one.", "Moved to Lost."},
		{"uk", "Втратити лід Iryna Bondar?", "Виберіть причину або напишіть її.", "Переведено в етап «Втрачений»."},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			l, err := b.svc.Leads.CreateLead(as(b.alice), crm.LeadInput{Source: crm.SourcePartner, Name: "Iryna Bondar"})
			if err != nil {
				t.Fatal(err)
			}
			stage := func() (crm.LeadStage, string) {
				t.Helper()
				got, err := b.svc.Leads.Lead(as(b.alice), l.ID)
				if err != nil {
					t.Fatal(err)
				}
				return got.Stage, got.LostReason
			}
			c := b.client(t)
			c.lang = tc.lang
			c.login(b.alice.Email)
			lead, lose := "/app/leads/"+l.ID, "/app/leads/"+l.ID+"/lose"
			p := c.get(lead)
			if !strings.Contains(p.body, `href="`+lose+`" id="move-lost"`) || strings.Contains(p.body, `value="lost"`) {
				t.Errorf("the lead page loses in one click, or does not link to the confirmation\n%s", p.body)
			}
			if p := c.get("/app/board"); !strings.Contains(p.body, `href="`+lose+`" data-move="lost"`) {
				t.Errorf("the board's lost move does not open the confirmation")
			}
			p = c.get(lose)
			checkPage(t, p, http.StatusOK)
			for _, want := range []string{tc.title, `value="Too expensive"`, `value="Went quiet"`, `id="reason-other" checked`,
				`name="other"`, `id="confirm-lose"`, `href="` + lead + `" class="button ghost"`} {
				if !strings.Contains(p.body, want) {
					t.Errorf("the confirmation lacks %s", want)
				}
			}
			if strings.Contains(p.body, "No budget") {
				t.Error("the confirmation offers the default reasons, not the configured ones")
			}
			if st, _ := stage(); st != crm.LeadNew {
				t.Fatalf("opening the confirmation moved the lead to %s", st)
			}

			p = c.post(lose, url.Values{"reason": {""}, "other": {"  "}})
			checkPage(t, p, http.StatusUnprocessableEntity)
			if !strings.Contains(p.body, `<p class="field-error" id="lose-error">`+tc.need+`</p>`) {
				t.Errorf("no reason: the page lacks its error\n%s", p.body)
			}
			if st, _ := stage(); st != crm.LeadNew {
				t.Fatalf("a loss without a reason moved the lead to %s", st)
			}
			p = c.post(lose, url.Values{"reason": {"Went quiet"}, "other": {strings.Repeat("я", 500)}})
			checkPage(t, p, http.StatusUnprocessableEntity)
			if !strings.Contains(p.body, `value="Went quiet" id="reason-1" checked`) {
				t.Errorf("an overlong reason: the choice is not kept\n%s", p.body)
			}

			if p := c.post(lose, url.Values{"reason": {"Too expensive"}, "other": {"Took the rival's offer"}}); p.status != http.StatusSeeOther ||
				p.header.Get("Location") != lead {
				t.Fatalf("confirm: %d to %s", p.status, p.header.Get("Location"))
			}
			if st, why := stage(); st != crm.LeadLost || why != "Too expensive — Took the rival's offer" {
				t.Errorf("after confirming: %s, %q", st, why)
			}
			p = c.get(lead)
			if !strings.Contains(p.body, "Too expensive — Took the rival&#39;s offer") || !strings.Contains(p.body, tc.flash) {
				t.Errorf("the lost lead's page lacks the reason or the flash\n%s", p.body)
			}
			if p := c.get(lose); p.status != http.StatusSeeOther || p.header.Get("Location") != lead {
				t.Errorf("a lost lead's confirmation: %d to %s", p.status, p.header.Get("Location"))
			}

			bob := b.client(t)
			bob.login(b.bob.Email)
			checkPage(t, bob.get(lose), http.StatusNotFound)
		})
	}
}
