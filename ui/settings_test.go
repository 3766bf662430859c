package ui_test

import (
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/crmleads/crm"
)

func TestAdminEditsDomains(t *testing.T) {
	b := setup(t)
	kept, err := b.svc.Leads.CreateLead(as(b.alice), crm.LeadInput{Source: crm.SourcePartner, BusinessDomain: "second"})
	if err != nil {
		t.Fatal(err)
	}
	c := b.client(t)
	c.login(b.admin.Email)
	if p := c.get("/app/admin/users"); !strings.Contains(p.body, `href="/app/admin/settings"`) {
		t.Error("the admin page does not link to the settings")
	}
	p := c.get("/app/admin/settings")
	checkPage(t, p, http.StatusOK)
	for _, want := range []string{`id="settings-form"`, "first\nsecond\nthird</textarea>", `id="transfer-min-score"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("settings page lacks %q:\n%s", want, p.body)
		}
	}

	// Saving: blank lines are skipped, spaces trimmed; post/redirect/get.
	p = c.post("/app/admin/settings", url.Values{"business_domains": {"first\r\n  fourth \r\n\r\nп'ятий\r\n"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/admin/settings" {
		t.Fatalf("save = %d %s\n%s", p.status, p.header.Get("Location"), p.body)
	}
	want := []string{"first", "fourth", "п'ятий"}
	got, err := b.svc.Leads.Domains(as(b.admin))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("catalog = %q, want %q", got, want)
	}
	p = c.get("/app/admin/settings")
	checkPage(t, p, http.StatusOK)
	if !strings.Contains(p.body, "Business domains saved.") || !strings.Contains(html.UnescapeString(p.body), "first\nfourth\nп'ятий</textarea>") {
		t.Errorf("after saving:\n%s", p.body)
	}

	// The new-lead form offers the new catalog.
	p = c.get("/app/leads/new")
	checkPage(t, p, http.StatusOK)
	if !strings.Contains(p.body, `<option value="fourth">fourth</option>`) || strings.Contains(p.body, `<option value="second">`) {
		t.Errorf("new-lead form does not offer the new catalog:\n%s", p.body)
	}
	alice := b.client(t)
	alice.login(b.alice.Email)
	p = alice.post("/app/leads", url.Values{"source": {"manual"}, "name": {"Fourth"}, "business_domain": {"fourth"}, "messages_count": {"0"}})
	if p.status != http.StatusSeeOther {
		t.Errorf("create with a new domain = %d\n%s", p.status, p.body)
	}
	p = alice.post("/app/leads", url.Values{"source": {"manual"}, "name": {"Second"}, "business_domain": {"second"}, "messages_count": {"0"}})
	checkPage(t, p, http.StatusUnprocessableEntity)
	if !strings.Contains(p.body, "Choose one of the listed domains.") {
		t.Errorf("no domain error for a removed domain:\n%s", p.body)
	}
	if l, err := b.svc.Leads.Lead(as(b.admin), kept.ID); err != nil || l.BusinessDomain != "second" {
		t.Errorf("existing lead = %+v, %v; want its removed domain kept", l, err)
	}

	// The change is in the audit trail, in words.
	p = c.get("/app/audit?action=settings.updated")
	checkPage(t, p, http.StatusOK)
	if !strings.Contains(html.UnescapeString(p.body), "changed the business domains from first, second, third to first, fourth, п'ятий") {
		t.Errorf("audit page lacks the change:\n%s", p.body)
	}
}

func TestSettingsInvalidInput(t *testing.T) {
	b := setup(t)
	c := b.client(t)
	c.login(b.admin.Email)
	cases := []struct{ name, text, msg string }{
		{"empty", "", "List 1 to 100 domains."},
		{"blank lines only", "\r\n  \r\n", "List 1 to 100 domains."},
		{"duplicate", "first\nsecond\n first ", `"first" is listed twice.`},
		{"overlong", "first\n" + strings.Repeat("d", 65), "Each domain must be 1 to 64 characters."},
		{"too many", manyLines(101), "List 1 to 100 domains."},
		{"control character", "fi\x01rst", "A domain must be plain printable text."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := c.post("/app/admin/settings", url.Values{"business_domains": {tc.text}})
			checkPage(t, p, http.StatusUnprocessableEntity)
			body := html.UnescapeString(p.body)
			if !strings.Contains(body, `<p class="field-error" id="business_domains-error">`+tc.msg+`</p>`) ||
				!strings.Contains(p.body, `aria-invalid="true"`) || !strings.Contains(body, "Please correct the fields marked below.") {
				t.Errorf("no message %q next to the field:\n%s", tc.msg, p.body)
			}
			if got, _ := b.svc.Leads.Domains(as(b.admin)); !slices.Equal(got, []string{"first", "second", "third"}) {
				t.Errorf("catalog changed to %q", got)
			}
		})
	}
	// What was typed stays in the textarea.
	p := c.post("/app/admin/settings", url.Values{"business_domains": {"alpha\nalpha"}})
	if !strings.Contains(p.body, "alpha\nalpha</textarea>") {
		t.Errorf("the textarea lost the input:\n%s", p.body)
	}
	// In Ukrainian too.
	c.lang = "uk"
	p = c.post("/app/admin/settings", url.Values{"business_domains": {""}})
	checkPage(t, p, http.StatusUnprocessableEntity)
	if !strings.Contains(p.body, "Вкажіть від 1 до 100 доменів.") {
		t.Errorf("no Ukrainian message:\n%s", p.body)
	}
}

func manyLines(n int) string {
	var sb strings.Builder
	for i := range n {
		sb.WriteString("domain-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "\n")
	}
	return sb.String()
}

func TestSettingsForbiddenToOthers(t *testing.T) {
	b := setup(t)
	for _, u := range []*crm.User{b.alice, b.senior} {
		c := b.client(t)
		c.login(u.Email)
		p := c.get("/app/admin/settings")
		checkPage(t, p, http.StatusForbidden)
		if strings.Contains(p.body, `id="settings-form"`) || !strings.Contains(p.body, "Your role does not allow this page or action.") {
			t.Errorf("%s: not the friendly 403:\n%s", u.Email, p.body)
		}
		p = c.post("/app/admin/settings", url.Values{"business_domains": {"mine"}})
		checkPage(t, p, http.StatusForbidden)
		if got, _ := b.svc.Leads.Domains(as(u)); !slices.Equal(got, []string{"first", "second", "third"}) {
			t.Errorf("%s changed the catalog to %q", u.Email, got)
		}
	}
}
