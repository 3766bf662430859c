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
	counts := regexp.MustCompile(`<td class="num[^"]*">(\d+)</td>`)
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

// TestSaleListSorts: the sale list shows each deal's value and sorts by it
// (and by stage and creation) from its headers, high to low first;
// an unknown key is the 422 page.
func TestSaleListSorts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := as(b.alice)
	amounts := []string{"300", "1250.5", "", "20", "999"}
	for i, amount := range amounts {
		l, err := b.svc.Leads.CreateLead(ctx, crm.LeadInput{Source: crm.SourcePartner, BusinessDomain: "first", MessagesCount: 4,
			Name: fmt.Sprintf("Buyer %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []crm.LeadStage{crm.LeadContacted, crm.LeadQualified} {
			if _, err := b.svc.Leads.MoveLead(ctx, l.ID, s); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := b.svc.Analyses.Analyze(ctx, l.ID); err != nil {
			t.Fatal(err)
		}
		v := crm.DealValue{}
		if amount != "" {
			v = crm.DealValue{Amount: amount, Currency: "EUR"}
		}
		if _, err := b.svc.Leads.TransferDeal(ctx, l.ID, v); err != nil {
			t.Fatal(err)
		}
	}
	c := b.client(t)
	c.login(b.alice.Email)
	p := c.get("/app/sales")
	checkPage(t, p, http.StatusOK)
	if !strings.Contains(p.body, `href="/app/sales?sort=-amount" class="sort-link"`) {
		t.Errorf("the amount header does not sort by it\n%s", p.body)
	}
	p = c.get("/app/sales?sort=-amount")
	checkPage(t, p, http.StatusOK)
	if !strings.Contains(p.body, `aria-sort="descending"><a href="/app/sales?sort=amount"`) {
		t.Errorf("the amount header does not say it sorts, or does not offer the other way")
	}
	var got []string
	for _, m := range regexp.MustCompile(`<span class="money">([^<]+)</span>`).FindAllStringSubmatch(p.body, -1) {
		got = append(got, strings.ReplaceAll(m[1], "\u00a0", " "))
	}
	if want := "1250.50 EUR,999.00 EUR,300.00 EUR,20.00 EUR"; strings.Join(got, ",") != want {
		t.Errorf("sales by amount, high to low: %v, want %s", got, want)
	}
	checkPage(t, c.get("/app/sales?sort=name"), http.StatusUnprocessableEntity)
}
