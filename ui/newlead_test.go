package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/crmleads/crm"
)

// TestDuplicateWarningWithoutJS creates leads with the plain form, in both
// languages: a lead like an open one comes back 409 with the matches the user
// may see, each with a link to open it, and the form filled in; "create
// anyway" sends the same form with allow_duplicate and creates it. A manager
// is never warned about another's lead. A form without a name, company, email
// or phone is refused next to the name, while the API still takes one.
func TestDuplicateWarningWithoutJS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first, err := b.svc.Leads.CreateLead(as(b.alice), crm.LeadInput{Source: crm.SourcePartner, Name: "Olena Kovalenko",
		Company: "Kvitka LLC", Email: "olena@kvitka.example"})
	if err != nil {
		t.Fatal(err)
	}
	count := func(u *crm.User) int {
		t.Helper()
		ls, _, err := b.svc.Leads.Leads(as(u), crm.LeadFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(ls)
	}
	for _, tc := range []struct{ lang, title, open, anyway, none string }{
		{"en", "This lead may already exist", "Open it", "Create anyway", "Enter a name, a company, an email or a phone."},
		{"uk", "Можливо, цей лід уже є", "Відкрити", "Створити все одно", "Вкажіть ім’я, компанію, пошту або телефон."},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			c := b.client(t)
			c.lang = tc.lang
			c.login(b.alice.Email)
			before := count(b.alice)
			form := url.Values{"source": {"manual"}, "name": {"O. Kovalenko"}, "email": {"  OLENA@Kvitka.Example "},
				"messages_count": {"0"}}
			p := c.post("/app/leads", form)
			checkPage(t, p, http.StatusConflict)
			for _, want := range []string{tc.title, `href="/app/leads/` + first.ID + `"`, tc.open, "Olena Kovalenko · Kvitka LLC",
				`form="lead-new-form" name="allow_duplicate" value="1" id="create-anyway">` + tc.anyway + `<`,
				`value="O. Kovalenko"`, `value="  OLENA@Kvitka.Example "`} {
				if !strings.Contains(p.body, want) {
					t.Errorf("the duplicate warning lacks %s\n%s", want, p.body)
				}
			}
			if n := count(b.alice); n != before {
				t.Fatalf("the warning created a lead: %d → %d", before, n)
			}
			// "Create anyway": the same form with the button's value.
			form.Set("allow_duplicate", "1")
			if p := c.post("/app/leads", form); p.status != http.StatusSeeOther {
				t.Fatalf("create anyway: %d\n%s", p.status, p.body)
			}
			if n := count(b.alice); n != before+1 {
				t.Errorf("create anyway: %d leads, want %d", n, before+1)
			}

			// No one to call: refused on the page, next to the name.
			p = c.post("/app/leads", url.Values{"source": {"scanner"}, "business_domain": {"first"}, "messages_count": {"2"}})
			checkPage(t, p, http.StatusUnprocessableEntity)
			if !strings.Contains(p.body, `<p class="field-error" id="name-error">`+tc.none+`</p>`) {
				t.Errorf("no contact: the form lacks the name error\n%s", p.body)
			}
			if n := count(b.alice); n != before+1 {
				t.Errorf("a form without contacts created a lead")
			}
		})
	}

	// Bob may not see Alice's lead: no warning, the lead is created.
	c := b.client(t)
	c.login(b.bob.Email)
	if p := c.post("/app/leads", url.Values{"source": {"manual"}, "email": {"olena@kvitka.example"}}); p.status != http.StatusSeeOther {
		t.Errorf("another manager's lead warned: %d\n%s", p.status, p.body)
	}
	// The API keeps taking a lead from its source alone.
	if _, err := b.svc.Leads.CreateLead(as(b.bob), crm.LeadInput{Source: crm.SourceScanner}); err != nil {
		t.Errorf("the service refused a lead from its source alone: %v", err)
	}
}
