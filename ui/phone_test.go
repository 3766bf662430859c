package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crmleads/crm"
)

// fits reports, for the page the browser shows, how far the document is wider
// than the window ("" when it fits), and for the lists (leads, sales, users,
// the audit) whether they show as cards: the cards visible, the table's header not, nothing
// scrolled sideways inside the list.
const fits = `(() => {
	const out = [];
	const de = document.documentElement;
	if (de.scrollWidth > window.innerWidth)
		out.push("the document is " + de.scrollWidth + " px wide in a " + window.innerWidth + " px window");
	for (const id of ["leads-table", "sales-table", "users-table", "audit-table"]) {
		const t = document.getElementById(id);
		if (!t) continue;
		const head = t.querySelector("thead");
		if (head && head.getBoundingClientRect().height > 0 && getComputedStyle(head).display !== "none")
			out.push(id + ": the table header shows");
		const rows = [...t.querySelectorAll("tbody tr")];
		const cards = rows.filter(r => getComputedStyle(r).display === "grid" && r.getBoundingClientRect().width <= window.innerWidth);
		if (rows.length === 0 || cards.length !== rows.length)
			out.push(id + ": " + cards.length + " of " + rows.length + " rows show as cards");
		const wrap = t.parentElement;
		if (wrap.scrollWidth > wrap.clientWidth + 1)
			out.push(id + ": the list scrolls sideways (" + wrap.scrollWidth + " px in " + wrap.clientWidth + " px)");
	}
	return out.join("; ");
})()`

// TestBrowserPhone visits every page at 390 px, as a phone in one hand: no
// page is wider than the window, and the lead and sale lists are cards (name,
// stage, score, owner, next step; for sales name, stage, value, owner), as
// are the users and the audit trail, not a table scrolled sideways. As an admin (every page) and as a manager (the
// lists without bulk actions), in English and Ukrainian.
func TestBrowserPhone(t *testing.T) {
	ctx := browser(t, 4*time.Minute)
	b := setup(t)
	s := &steps{t: t, ctx: ctx, url: b.baseURL}

	done, sale := transferredLead(t, b.alice, b.svc)
	actx := as(b.alice)
	lead, err := b.svc.Leads.CreateLead(actx, crm.LeadInput{Source: crm.SourcePartner, Name: "Iryna Bondar-Shevchenko",
		Company: "Bondar & Sons International Trading", Email: "iryna.bondar-shevchenko@bondar-international.example"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Leads.CreateTask(actx, lead.ID, crm.TaskInput{Title: "Call back about the second-quarter budget",
		DueAt: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Leads.CreateLead(actx, crm.LeadInput{Source: crm.SourceScanner, Name: "Petro"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Leads.SetSaleValue(actx, sale.ID, crm.DealValue{Amount: "1250000.00", Currency: "UAH"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.svc.Webhooks.CreateSubscription(as(b.admin), crm.SubscriptionInput{Kind: "webhook",
		URL: "https://erp.example.com/a/rather/long/path/for/the/hooks", Events: []string{"lead.transferred", "sale.paid"}, Language: "en"}); err != nil {
		t.Fatal(err)
	}

	s.resize(390, 844, true)
	visit := func(who string, paths ...string) {
		t.Helper()
		for _, p := range paths {
			s.open(p)
			if msg := s.eval(fits); msg != "" {
				t.Errorf("%s at 390 px, %s: %s", who, p, msg)
			}
		}
	}
	admin := []string{"/app/leads", "/app/leads?sort=-messages_count", "/app/board", "/app/leads/new", "/app/leads/" + lead.ID,
		"/app/leads/" + done.ID, "/app/leads/" + lead.ID + "/lose", "/app/sales", "/app/sales/board", "/app/sales/" + sale.ID,
		"/app/tasks", "/app/notifications", "/app/audit", "/app/ai", "/app/ai/batches", "/app/admin/users",
		"/app/nowhere", "/app/admin/settings", "/app/admin/webhooks"}
	for _, lang := range []string{"en", "uk"} {
		s.open("/app/login")
		s.click(`.lang button[value="` + lang + `"]`)
		s.signIn(b.admin.Email)
		visit("the admin ("+lang+")", admin...)
		s.click("#logout")
		s.signIn(b.alice.Email)
		visit("a manager ("+lang+")", "/app/leads", "/app/sales", "/app/tasks")
		if lang == "en" {
			s.open("/app/leads")
			s.shot("leads-phone")
		}
		s.click("#logout")
	}
	// The card shows what the brief names, each with its label.
	s.open("/app/login")
	s.click(`.lang button[value="en"]`)
	s.signIn(b.alice.Email)
	s.open("/app/leads")
	card := s.eval(`[...document.querySelectorAll("#leads-table tbody tr")].filter(r => r.innerText.includes("Iryna"))
		.map(r => [...r.cells].filter(c => getComputedStyle(c).display !== "none")
			.map(c => getComputedStyle(c, "::before").content.replace(/^"|"$/g, "").replace(/^none$/, "") + c.innerText).join(" | ")).join("")`)
	want := "Iryna Bondar-Shevchenko · Bondar & Sons International Trading\niryna.bondar-shevchenko@bondar-international.example | " +
		"Stage: New | Score: — | Owner: You | Next step: Call back about the second-quarter budget "
	if !strings.HasPrefix(card, want) {
		t.Errorf("the lead's card reads\n%q, want it to start\n%q", card, want)
	}

	// On the phone too, "select all on this page" ticks every card (app.js),
	// unticking one unticks it, and the advance lists every lead's outcome.
	s.click("#logout")
	s.signIn(b.admin.Email)
	s.open("/app/leads")
	ticked := `[...document.querySelectorAll('input[name="ids"]')].map(c => c.checked ? "x" : "o").join("") + (document.getElementById("bulk-all").checked ? " all" : "")`
	s.do("select all", chromedp.Click(chromedp.CSS("#bulk-all")))
	if got := s.eval(ticked); got != "xxx all" {
		t.Errorf("after select all the boxes read %q", got)
	}
	s.do("untick one", chromedp.Click(chromedp.CSS(`input[name="ids"]`)))
	if got := s.eval(ticked); got != "oxx" {
		t.Errorf("after unticking one the boxes read %q", got)
	}
	s.do("select all again", chromedp.Click(chromedp.CSS("#bulk-all")))
	s.click("#bulk-advance")
	if got := s.eval(`document.querySelectorAll("#bulk-results tbody tr").length + " " + document.querySelectorAll("#bulk-results .bulk-ok").length`); got != "3 2" {
		t.Errorf("the advance of all three lists %q (outcomes, done), want 3 2 (the transferred one refused)", got)
	}
	if msg := s.eval(fits); msg != "" {
		t.Errorf("the bulk outcome at 390 px: %s", msg)
	}
}
