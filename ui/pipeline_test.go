package ui_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/crmleads/crm"
)

// TestConversationAndLossWithoutJS works the lead page with plain forms: a
// logged call moves the count and shows in the conversation; losing the lead
// keeps the reason, and the closed lead takes a note but offers no call.
func TestConversationAndLossWithoutJS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	l, err := b.svc.Leads.CreateLead(as(b.alice), crm.LeadInput{Source: crm.SourcePartner, Name: "Iryna"})
	if err != nil {
		t.Fatal(err)
	}
	c := b.client(t)
	c.login(b.alice.Email)
	path := "/app/leads/" + l.ID
	if p := c.post(path+"/activities", url.Values{"kind": {"call"}, "text": {"Asked for a quote"}}); p.status != 303 {
		t.Fatalf("log a call: %d", p.status)
	}
	page := c.get(path)
	if !strings.Contains(page.body, "Asked for a quote") || !strings.Contains(page.body, `id="messages-count">1<`) {
		t.Errorf("the call is not on the page, or the count did not move")
	}
	if p := c.post(path+"/stage", url.Values{"stage": {"lost"}, "lost_reason": {"No budget"}}); p.status != 303 {
		t.Fatalf("lose: %d", p.status)
	}
	got, err := b.svc.Leads.Lead(as(b.alice), l.ID)
	if err != nil || got.LostReason != "No budget" {
		t.Fatalf("lost_reason = %q (%v)", got.LostReason, err)
	}
	page = c.get(path)
	if !strings.Contains(page.body, "No budget") || strings.Contains(page.body, `<option value="call">`) {
		t.Errorf("a lost lead's page: reason shown %v, call offered %v", strings.Contains(page.body, "No budget"),
			strings.Contains(page.body, `<option value="call">`))
	}
	c.post(path+"/activities", url.Values{"kind": {"note"}, "text": {"Call again in spring"}})
	if !strings.Contains(c.get(path).body, "Call again in spring") {
		t.Error("a closed lead refused a note")
	}
}
