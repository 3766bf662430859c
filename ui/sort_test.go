package ui_test

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/crmleads/crm"
)

// TestLeadListSorts sorts the lead list by its column headers without JS:
// each header links to the list sorted by it with the filters kept, the
// current one says aria-sort and links to the other direction; the next
// page keeps the order (the cursor carries the sort key) and the two pages
// hold every lead once, in order; the filter form and the export keep the
// sort; an unknown key is the 422 page.
func TestLeadListSorts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 30
	for i := range n {
		if _, err := b.svc.Leads.CreateLead(as(b.alice), crm.LeadInput{Source: crm.SourcePartner,
			Name: fmt.Sprintf("Lead %02d", i), MessagesCount: (i * 7) % n}); err != nil {
			t.Fatal(err)
		}
	}
	c := b.client(t)
	c.login(b.alice.Email)
	p := c.get("/app/leads?source=partner")
	checkPage(t, p, http.StatusOK)
	if !strings.Contains(p.body, `href="/app/leads?sort=-messages_count&amp;source=partner" class="sort-link"`) {
		t.Errorf("the messages header does not link to the list sorted by it, filters kept\n%s", p.body)
	}
	p = c.get("/app/leads?source=partner&sort=-messages_count")
	checkPage(t, p, http.StatusOK)
	for _, want := range []string{`class="num" aria-sort="descending"><a href="/app/leads?sort=messages_count&amp;source=partner"`,
		`<input type="hidden" name="sort" value="-messages_count">`, `href="/app/leads/export?sort=-messages_count&amp;source=partner"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the sorted list lacks %s", want)
		}
	}
	counts := regexp.MustCompile(`<td class="num">(\d+)</td>`)
	var seen []string
	read := func(body string) {
		for _, m := range counts.FindAllStringSubmatch(body, -1) {
			seen = append(seen, m[1])
		}
	}
	read(p.body)
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(p.body)
	if next == nil || !strings.Contains(next[1], "sort=-messages_count") {
		t.Fatalf("the next page does not keep the sort: %v", next)
	}
	read(c.get(html.UnescapeString(next[1])).body)
	if len(seen) != n {
		t.Fatalf("two pages hold %d leads, want %d", len(seen), n)
	}
	for i, s := range seen {
		if want := fmt.Sprint(n - 1 - i); s != want {
			t.Fatalf("row %d has %s messages, want %s (sorted high to low across pages): %v", i, s, want, seen)
		}
	}
	checkPage(t, c.get("/app/leads?sort=password"), http.StatusUnprocessableEntity)
}
