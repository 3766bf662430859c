package ui_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/crmleads/crm"
)

var savedLink = regexp.MustCompile(`<a href="([^"]+)" class="saved-filter"( aria-current="page")?>([^<]+)</a>`)

// TestSavedFilters: the list's sidebar saves the current query under a name
// (kept as the API's query, so GET /me/filters lists it), links to the list
// with it, marks it when shown, and deletes it; another user's filter is the
// 404 page and stays.
func TestSavedFilters(t *testing.T) {
	b := setup(t)
	for _, in := range []crm.LeadInput{{Source: crm.SourcePartner, Name: "Partner Lead"}, {Source: crm.SourceScanner, Name: "Scanner Lead"}} {
		if _, err := b.svc.Leads.CreateLead(as(b.senior), in); err != nil {
			t.Fatal(err)
		}
	}
	c := b.client(t)
	c.login(b.senior.Email)

	// Nothing filtered: nothing to save, and a hint.
	p := c.get("/app/leads")
	checkPage(t, p, http.StatusOK)
	if strings.Contains(p.body, `id="save-filter-form"`) || !strings.Contains(p.body, `id="no-saved-filters"`) {
		t.Error("the unfiltered list offers to save a filter, or no hint")
	}

	// Filtered: the form carries the query as the API says it.
	p = c.get("/app/leads?source=partner&owner=me&no_next_step=1&sort=-messages_count")
	checkPage(t, p, http.StatusOK)
	apiQuery := "no_next_step=true&owner_id=" + b.senior.ID + "&sort=-messages_count&source=partner"
	if want := `<input type="hidden" name="query" value="` + html.EscapeString(apiQuery) + `">`; !strings.Contains(p.body, want) {
		t.Fatalf("the save form lacks %s", want)
	}
	p = c.post("/app/filters", url.Values{"name": {"My partner leads"}, "query": {apiQuery}})
	listURL := "/app/leads?no_next_step=1&owner=me&sort=-messages_count&source=partner"
	if p.status != http.StatusSeeOther || p.header.Get("Location") != listURL {
		t.Fatalf("save: status %d to %q", p.status, p.header.Get("Location"))
	}
	fs, err := b.svc.Leads.SavedFilters(as(b.senior))
	if err != nil || len(fs) != 1 || fs[0].Query != apiQuery {
		t.Fatalf("saved filters %v, %v", fs, err)
	}
	id := fs[0].ID

	// The sidebar links to it, marked on its own list, with the flash.
	p = c.get(listURL)
	m := savedLink.FindStringSubmatch(p.body)
	if m == nil || html.UnescapeString(m[1]) != listURL || m[2] == "" || m[3] != "My partner leads" {
		t.Fatalf("the sidebar shows %q", m)
	}
	if !strings.Contains(p.body, "Filter “My partner leads” saved.") || !strings.Contains(p.body, "Partner Lead") || strings.Contains(p.body, "Scanner Lead") {
		t.Error("the saved filter's list is not the filtered one, or no flash")
	}
	if m := savedLink.FindStringSubmatch(c.get("/app/leads").body); m == nil || m[2] != "" {
		t.Errorf("on the whole list the sidebar shows %q", m)
	}

	// A bad name is said in the user's language, nothing saved.
	c.lang = "uk"
	p = c.post("/app/filters", url.Values{"name": {"  "}, "query": {"source=partner"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/leads?source=partner" {
		t.Fatalf("an empty name: status %d to %q", p.status, p.header.Get("Location"))
	}
	if p = c.get("/app/leads?source=partner"); !strings.Contains(p.body, "Від 1 до 100 символів.") {
		t.Error("an empty name is not explained in Ukrainian")
	}
	c.lang = ""

	// Own only: Alice cannot see or delete it (404), and it stays.
	alice := b.client(t)
	alice.login(b.alice.Email)
	if p := alice.get("/app/leads"); strings.Contains(p.body, "My partner leads") {
		t.Error("another user's sidebar shows the filter")
	}
	p = alice.post("/app/filters/"+id+"/delete", url.Values{})
	checkPage(t, p, http.StatusNotFound)
	if fs, _ := b.svc.Leads.SavedFilters(as(b.senior)); len(fs) != 1 {
		t.Fatal("another user deleted the filter")
	}

	// Deleted by its owner: back to the list, gone from the sidebar.
	p = c.post("/app/filters/"+id+"/delete", url.Values{"back": {listURL}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != listURL {
		t.Fatalf("delete: status %d to %q", p.status, p.header.Get("Location"))
	}
	if p = c.get(listURL); savedLink.MatchString(p.body) || !strings.Contains(p.body, "Filter deleted.") {
		t.Error("the deleted filter still shows, or no flash")
	}
	if p = c.post("/app/filters/"+id+"/delete", url.Values{}); p.status != http.StatusNotFound {
		t.Errorf("deleting it again: status %d", p.status)
	}
}
