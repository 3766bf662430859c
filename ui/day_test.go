package ui_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/jobs"
)

// dayText is what the day's work reads in one language.
type dayText struct {
	lang      string
	reminder  string // the bell's line for the task, up to its title
	illegal   string // the board's refusal, up to the stages
	qualified string // the flash after the drag
	lost      string // the lost stage's badge
	reason    string // the lost reason the admin configured, chosen from the list
	created   string // the flash of a new lead
	// dueLayout is how the task form shows and takes the due time:
	// datetime-local in English, дд.мм.рррр гг:хх typed as text in Ukrainian.
	dueLayout string
	dueShown  *regexp.Regexp // the due field's value as the browser shows it
}

var dayEnglish = dayText{lang: "en", reminder: "Task due: ", illegal: "A card cannot move from Contacted to New.",
	qualified: "Moved to Qualified.", lost: "Lost", reason: "Budget spent", created: "Lead created.",
	dueLayout: "2006-01-02T15:04:05", dueShown: regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$`)}

var dayUkrainian = dayText{lang: "uk", reminder: "Час виконати завдання: ",
	illegal: "Картку не можна перемістити з «Контакт встановлено» у «Новий».", qualified: "Переведено в етап «Кваліфікований».",
	lost: "Втрачений", reason: "Бюджет вичерпано", created: "Лід створено.",
	dueLayout: "02.01.2006 15:04:05", dueShown: regexp.MustCompile(`^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}$`)}

// fill sets the value of the field sel finds once it is visible and
// enabled. A page that has just loaded may still swap the node the query
// found ("could not set value on node" under load), so a failed set is tried
// again on a fresh query, a few times, before the test fails.
func (s *steps) fill(sel, value string) {
	s.t.Helper()
	var err error
	for range 3 {
		ctx, cancel := context.WithTimeout(s.ctx, 20*time.Second)
		err = chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.WaitEnabled(chromedp.CSS(sel)),
			chromedp.SetValue(chromedp.CSS(sel), value))
		cancel()
		if err == nil {
			return
		}
	}
	s.t.Fatalf("fill %s: %v", sel, err)
}

// value is the current value of the field sel finds.
func (s *steps) value(sel string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(`+"`"+sel+"`"+`).value`))
	if err != nil {
		s.t.Fatalf("value of %s: %v", sel, err)
	}
	return v
}

// drag presses on what from finds, moves in steps to the centre of what to
// finds and releases there, as a mouse does; it waits for the load that a
// legal move causes when wantLoad.
func (s *steps) drag(from, to string, wantLoad bool) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	center := func(sel string) (float64, float64) {
		xy, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
			const e = document.querySelector(`+"`"+sel+"`"+`); e.scrollIntoView({block: "center", inline: "center"});
			const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + Math.min(r.height / 2, 20)];
		})()`))
		if err != nil || len(xy) != 2 {
			s.t.Fatalf("where is %s: %v", sel, err)
		}
		return xy[0], xy[1]
	}
	x1, y1 := center(to)
	x0, y0 := center(from) // after scrolling to the target, which may move the card
	acts := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(chromedp.MousePressed, x0, y0, chromedp.ButtonLeft, chromedp.ClickCount(1))}
	for i := 1; i <= 10; i++ {
		f := float64(i) / 10
		acts = append(acts, chromedp.MouseEvent(chromedp.MouseMoved, x0+(x1-x0)*f, y0+(y1-y0)*f, chromedp.ButtonLeft))
	}
	release := chromedp.MouseEvent(chromedp.MouseReleased, x1, y1, chromedp.ButtonLeft, chromedp.ClickCount(1))
	if err := chromedp.Do(ctx, acts...); err != nil {
		s.t.Fatalf("drag %s to %s: %v", from, to, err)
	}
	if wantLoad {
		if _, err := chromedp.Run(ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, release)); err != nil {
			s.t.Fatalf("drop %s on %s: %v", from, to, err)
		}
	} else if err := chromedp.Do(ctx, release); err != nil {
		s.t.Fatalf("drop %s on %s: %v", from, to, err)
	}
	if wantLoad {
		s.check()
	}
}

// dayWork is a manager's day in one language at one width: log a call and
// see the count move; add a task due in a few seconds and see its reminder
// reach the bell (sent by the River job, not by the page); drag a lead from
// contacted to qualified, and try a drop the pipeline refuses; transfer a
// lead with an amount and see the sales board's column total; lose a lead
// with a reason the admin configured; get the duplicate warning for a new
// lead like an existing one, and create it anyway. Every page it reaches is
// audited at both widths.
func dayWork(t *testing.T, d dayText, width int64) {
	ctx := browser(t, 4*time.Minute)
	b := setup(t)
	engine, err := jobs.NewSQLite(b.db.Writer(), jobs.Config{Reminders: b.svc.Leads, PollInterval: 200 * time.Millisecond,
		JobTimeout: 5 * time.Second, RescueAfter: 10 * time.Second, SoftStop: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = engine.Stop(sctx)
	})
	actx := as(b.alice)
	mk := func(in crm.LeadInput, stages ...crm.LeadStage) *crm.Lead {
		t.Helper()
		l, err := b.svc.Leads.CreateLead(actx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range stages {
			if _, err := b.svc.Leads.MoveLead(actx, l.ID, st); err != nil {
				t.Fatal(err)
			}
		}
		return l
	}
	lead := mk(crm.LeadInput{Source: crm.SourcePartner, Name: "Taras Hnatyuk", MessagesCount: 2, Email: "taras@hnatyuk.example"},
		crm.LeadContacted)
	eligible := mk(crm.LeadInput{Source: crm.SourcePartner, BusinessDomain: "first", MessagesCount: 4, Name: "Maria Ivanenko"},
		crm.LeadContacted, crm.LeadQualified)
	if _, err := b.svc.Analyses.Analyze(actx, eligible.ID); err != nil {
		t.Fatal(err)
	}
	cold := mk(crm.LeadInput{Source: crm.SourceScanner, Name: "Oleh Savchuk"}, crm.LeadContacted)
	if err := b.svc.Leads.SetPipelineSettings(as(b.admin), crm.PipelineSettings{LostReasons: []string{"Chose a competitor", d.reason}}); err != nil {
		t.Fatal(err)
	}

	s := &steps{t: t, ctx: ctx, url: b.baseURL, audit: newAudit(t)}
	s.resize(width, 844, width < 600)
	s.open("/app/login")
	if d.lang != "en" {
		s.click(`.lang button[value="` + d.lang + `"]`)
	}
	s.signIn(b.alice.Email)
	// The README's pictures come from the English runs: the desktop's, and
	// the phone's for the lead page and My tasks.
	shot := func(name string, phone bool) {
		switch {
		case d.lang != "en":
		case width >= 600:
			s.shot(name)
		case phone:
			s.shot(name + "-phone")
		}
	}

	// A call moves the count.
	leadURL := "/app/leads/" + lead.ID
	s.open(leadURL)
	s.wantText("#messages-count", "2")
	s.fill("#activity-kind", "call")
	s.fill("#activity-text", "Asked for the price list")
	s.click("#log-activity")
	s.wantText("#messages-count", "3")
	s.wantText("#timeline", "Asked for the price list")

	// A task due in a few seconds: its reminder reaches the bell. The due
	// field shows the language's own format (in Ukrainian дд.мм.рррр гг:хх,
	// whatever the browser's locale) and takes it back.
	if got := s.value("#task-due"); !d.dueShown.MatchString(got) {
		t.Fatalf("the due field shows %q, want the form %s", got, d.dueShown)
	}
	due := time.Now().UTC().Add(3 * time.Second).Format(d.dueLayout)
	s.fill("#task-title", "Send the price list")
	s.fill("#task-due", due)
	s.click("#add-task")
	s.wantText("#task-list", "Send the price list")
	deadline := time.Now().Add(60 * time.Second)
	for {
		s.open("/app/notifications")
		if s.present("#bell-count") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reminder did not reach the bell")
		}
		time.Sleep(500 * time.Millisecond)
	}
	s.wantText("#bell-count", "1")
	s.wantText("#notifications", d.reminder+"Send the price list")
	shot("notifications", false)
	s.open(leadURL)
	s.do("scroll to the next steps", chromedp.Evaluate[chromedp.Void](`document.querySelector("#tasks").scrollIntoView()`))
	shot("lead-timeline", true)

	// The board: a refused drop snaps back and says why; a legal one moves.
	s.open("/app/board")
	card := `.tile[data-id="` + lead.ID + `"]`
	if width >= 600 {
		s.drag(card, ".col-new", false)
		s.wantText("#board-msg", d.illegal)
		if !s.present(".col-contacted " + card) {
			t.Fatal("a refused card did not snap back to its column")
		}
		s.drag(card, ".col-qualified", true)
	} else {
		// On a phone the columns are a screen wide each: the card's move
		// buttons are the way (the same ones a keyboard reaches), and
		// they offer only legal moves.
		if s.present(card + ` [data-move="new"]`) {
			t.Fatal("the card offers an illegal move")
		}
		s.click(card + ` button[data-move="qualified"]`)
	}
	s.wantText(".flash-ok", d.qualified)
	if !s.present(".col-qualified " + card) {
		t.Fatal("the dragged card is not in qualified")
	}
	shot("board-drag", false)

	// A transfer with an amount shows in the sales board's total.
	s.open("/app/leads/" + eligible.ID)
	// The AI's opinion is read before the transfer button, on a phone (one
	// column) as on a desktop.
	above, err := chromedp.Run(s.ctx, chromedp.Evaluate[bool](`document.querySelector("#analysis-panel").getBoundingClientRect().bottom <=
		document.querySelector("#transfer").getBoundingClientRect().top`))
	if err != nil || !above {
		t.Fatalf("at %d px the AI panel is not above the transfer button (%v)", width, err)
	}
	s.fill("#amount", "1250.50")
	s.click("#transfer")
	s.open("/app/sales/board")
	want := "1250.50"
	if d.lang == "uk" {
		want = "1250,50"
	}
	s.wantText("#stotal-new", want)
	s.wantText("#scount-new", "1")
	shot("sales-board", false)

	// Losing a lead asks for a reason: one the admin configured, confirmed.
	s.open("/app/leads/" + cold.ID)
	s.click("#move-lost")
	s.do("choose the reason", chromedp.WaitVisible(chromedp.CSS(`input[name="reason"][value="`+d.reason+`"]`)),
		chromedp.Click(chromedp.CSS(`input[name="reason"][value="`+d.reason+`"]`)))
	s.click("#confirm-lose")
	s.wantText("#lead-stage", d.lost)
	s.wantText("#lead-lost-reason", d.reason)

	// A new lead like Taras's (his email, in other case): the warning offers
	// his lead and "create anyway", which creates it.
	s.open("/app/leads/new")
	s.fill("#name", "T. Hnatyuk")
	s.fill("#email", "Taras@Hnatyuk.example")
	s.click("#create-lead")
	s.wantText("#duplicates", "Taras Hnatyuk")
	if !s.present(`#duplicates a.dup-open[href="/app/leads/` + lead.ID + `"]`) {
		t.Fatal("the warning does not offer to open the existing lead")
	}
	s.click("#create-anyway")
	s.wantText(".flash-ok", d.created)
	s.wantText("#lead-title", "T. Hnatyuk")

	s.open("/app/tasks")
	shot("my-tasks", true)
}

// TestBrowserDay is the day's work in English and in Ukrainian, at a
// desktop's width and a phone's.
func TestBrowserDay(t *testing.T) {
	for _, d := range []dayText{dayEnglish, dayUkrainian} {
		for _, width := range []int64{1280, 390} {
			t.Run(fmt.Sprintf("%s-%d", d.lang, width), func(t *testing.T) {
				t.Parallel()
				dayWork(t, d, width)
			})
		}
	}
}
