package ui_test

import (
	"context"
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
	width     int64
	reminder  string // the bell's line for the task, up to its title
	illegal   string // the board's refusal, up to the stages
	qualified string // the flash after the drag
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
// lead with an amount and see the sales board's column total.
func dayWork(t *testing.T, d dayText) {
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
	lead, err := b.svc.Leads.CreateLead(actx, crm.LeadInput{Source: crm.SourcePartner, Name: "Taras Hnatyuk", MessagesCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Leads.MoveLead(actx, lead.ID, crm.LeadContacted); err != nil {
		t.Fatal(err)
	}
	eligible, err := b.svc.Leads.CreateLead(actx, crm.LeadInput{Source: crm.SourcePartner, BusinessDomain: "first", MessagesCount: 4, Name: "Maria Ivanenko"})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []crm.LeadStage{crm.LeadContacted, crm.LeadQualified} {
		if _, err := b.svc.Leads.MoveLead(actx, eligible.ID, st); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.svc.Analyses.Analyze(actx, eligible.ID); err != nil {
		t.Fatal(err)
	}

	s := &steps{t: t, ctx: ctx, url: b.baseURL, audit: newAudit(t)}
	s.resize(d.width, 844, d.width < 600)
	s.open("/app/login")
	if d.lang != "en" {
		s.click(`.lang button[value="` + d.lang + `"]`)
	}
	s.signIn(b.alice.Email)

	// A call moves the count.
	leadURL := "/app/leads/" + lead.ID
	s.open(leadURL)
	s.wantText("#messages-count", "2")
	s.do("log a call", chromedp.SetValue(chromedp.CSS("#activity-kind"), "call"),
		chromedp.SendKeys(chromedp.CSS("#activity-text"), "Asked for the price list"))
	s.click("#log-activity")
	s.wantText("#messages-count", "3")
	s.wantText("#timeline", "Asked for the price list")

	// A task due in a few seconds: its reminder reaches the bell.
	due := time.Now().UTC().Add(3 * time.Second).Format("2006-01-02T15:04:05")
	s.do("fill the task", chromedp.SendKeys(chromedp.CSS("#task-title"), "Send the price list"),
		chromedp.SetValue(chromedp.CSS("#task-due"), due))
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
	if d.lang == "en" {
		s.shot("notifications")
	}

	// The board: a refused drop snaps back and says why; a legal one moves.
	s.open("/app/board")
	card := `.tile[data-id="` + lead.ID + `"]`
	if d.width >= 600 {
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
	if d.lang == "en" {
		s.shot("board-drag")
	}

	// A transfer with an amount shows in the sales board's total.
	s.open("/app/leads/" + eligible.ID)
	s.do("fill the amount", chromedp.SendKeys(chromedp.CSS("#amount"), "1250.50"))
	s.click("#transfer")
	s.open("/app/sales/board")
	want := "1250.50"
	if d.lang == "uk" {
		want = "1250,50"
	}
	s.wantText("#stotal-new", want)
	s.wantText("#scount-new", "1")
	if d.lang == "en" {
		s.shot("sales-board")
	}
	s.open("/app/tasks")
	if d.lang == "en" {
		s.shot("my-tasks")
	}
}

// TestBrowserDay is the day's work in English on a desktop.
func TestBrowserDay(t *testing.T) {
	t.Parallel()
	dayWork(t, dayText{lang: "en", width: 1280, reminder: "Task due: ", illegal: "A card cannot move from Contacted to New.",
		qualified: "Moved to Qualified."})
}

// TestBrowserDayPhone is the day's work in Ukrainian on a phone.
func TestBrowserDayPhone(t *testing.T) {
	t.Parallel()
	dayWork(t, dayText{lang: "uk", width: 390, reminder: "Час виконати завдання: ",
		illegal: "Картку не можна перемістити з «Контакт встановлено» у «Новий».", qualified: "Переведено в етап «Кваліфікований»."})
}
