package ui

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crmleads/crm"
)

// Times typed in forms are the app's times: UTC, as every page shows them
// (Locale.Date). A datetime-local field has no zone.
const formTime = "2006-01-02T15:04"

// navCounts are the figures in the navigation of every signed-in page.
type navCounts struct {
	Overdue, Today, Unread int
}

// Tasks is the number beside "My tasks": what is overdue or due today.
func (c navCounts) Tasks() int { return c.Overdue + c.Today }

// endOfDay is the end of t's day, in UTC.
func endOfDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// counts reads the navigation's figures. They are a courtesy: a failure
// leaves them at zero and the page still renders (the page's own reads
// report the outage).
func (a *App) counts(r *http.Request) navCounts {
	var c navCounts
	ctx := r.Context()
	if tc, err := a.deps.Leads.MyTaskCounts(ctx, endOfDay(time.Now())); err == nil {
		c.Overdue, c.Today = tc.Overdue, tc.Today
	}
	c.Unread, _ = a.deps.Leads.UnreadCount(ctx)
	return c
}

// taskView is one task in a list.
type taskView struct {
	Task     *crm.Task
	Lead     string // the lead's label, for a link
	Assignee string
	Overdue  bool
}

type tasksData struct {
	Overdue, Today, Later, Done []taskView
}

// tasksPage is "My tasks": the actor's open tasks, overdue first, then due
// today, then later; the last few done below.
func (a *App) tasksPage(w http.ResponseWriter, r *http.Request, v *view) {
	open := false
	tasks, err := a.deps.Leads.Tasks(r.Context(), crm.TaskFilter{AssigneeID: v.User.ID, Done: &open})
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	now := time.Now()
	eod := endOfDay(now)
	var d tasksData
	for _, t := range tasks {
		tv := taskView{Task: t, Lead: t.LeadName, Overdue: t.DueAt.Before(now)}
		switch {
		case tv.Overdue:
			d.Overdue = append(d.Overdue, tv)
		case t.DueAt.Before(eod):
			d.Today = append(d.Today, tv)
		default:
			d.Later = append(d.Later, tv)
		}
	}
	v.Title, v.Nav, v.Data = v.L.T("tasks.title"), "tasks", d
	a.render(w, r, v, "tasks", http.StatusOK)
}

// parseDue reads a due time from a form: a datetime-local value (UTC), or
// RFC 3339. It returns the zero time for an empty or unreadable value, which
// the service refuses as a missing due time.
func parseDue(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{formTime, formTime + ":05"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	return time.Time{}
}

// leadTaskCreate adds a task to the lead from its page.
func (a *App) leadTaskCreate(w http.ResponseWriter, r *http.Request, v *view) {
	in := crm.TaskInput{Title: r.PostFormValue("title"), DueAt: parseDue(r.PostFormValue("due_at")),
		AssigneeID: r.PostFormValue("assignee_id")}
	_, err := a.deps.Leads.CreateTask(r.Context(), r.PathValue("id"), in)
	a.afterLeadAction(w, r, v, err, v.L.T("flash.task_added"))
}

// taskDone marks a task done or open again, and goes back where it came from
// (the lead page or My tasks).
func (a *App) taskDone(w http.ResponseWriter, r *http.Request, v *view) {
	done := r.PostFormValue("done") != "0"
	t, err := a.deps.Leads.UpdateTask(r.Context(), r.PathValue("id"), crm.TaskUpdate{Done: &done})
	if crm.IsKind(err, crm.ENOTFOUND) || crm.IsKind(err, crm.EINTERNAL) {
		a.fail(w, r, v, err)
		return
	}
	back := r.PostFormValue("next")
	if !localPath(back) {
		back = "/app/tasks"
	}
	if err != nil {
		a.redirect(w, r, back, bad(a.explain(v.L, err)))
		return
	}
	msg := v.L.T("flash.task_reopened", t.Title)
	if done {
		msg = v.L.T("flash.task_done", t.Title)
	}
	a.redirect(w, r, back, ok(msg))
}

// notificationView is one line of the bell's page.
type notificationView struct {
	N    *crm.Notification
	Text string
	Link string
}

// notificationText writes a notification in the user's language from its
// kind and subject (the stored text is English).
func notificationText(l *Locale, n *crm.Notification) string {
	if k := "notify." + n.Kind; l.Has(k) {
		return l.T(k, n.Subject)
	}
	return n.Text
}

// notificationsPage lists the actor's notifications, newest first, unread
// ones marked.
func (a *App) notificationsPage(w http.ResponseWriter, r *http.Request, v *view) {
	ns, _, err := a.deps.Leads.Notifications(r.Context(), false, 0)
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	var d []notificationView
	for _, n := range ns {
		nv := notificationView{N: n, Text: notificationText(v.L, n)}
		switch {
		case n.SaleID != "":
			nv.Link = "/app/sales/" + url.PathEscape(n.SaleID)
		case n.LeadID != "":
			nv.Link = "/app/leads/" + url.PathEscape(n.LeadID)
		case n.Kind == crm.NotifyBatchFinished:
			nv.Link = "/app/ai/batches"
		}
		d = append(d, nv)
	}
	v.Title, v.Nav, v.Data = v.L.T("notify.title"), "notifications", d
	a.render(w, r, v, "notifications", http.StatusOK)
}

// notificationsRead marks all of the actor's notifications read.
func (a *App) notificationsRead(w http.ResponseWriter, r *http.Request, v *view) {
	if err := a.deps.Leads.MarkRead(r.Context(), nil); err != nil {
		a.fail(w, r, v, err)
		return
	}
	a.redirect(w, r, "/app/notifications", ok(v.L.T("flash.notifications_read")))
}

// timelineItem is one line of the lead's timeline.
type timelineItem struct {
	When      time.Time
	Who, Text string
	Kind      string // activity kind, or "event"
	Badge     string
}

// timeline writes the lead's timeline: activities and the audit trail
// (stage changes, analyses, tasks, the transfer), newest first.
func timeline(v *view, people map[string]*crm.User, entries []crm.TimelineEntry) []timelineItem {
	out := make([]timelineItem, 0, len(entries))
	for _, e := range entries {
		it := timelineItem{When: e.At, Who: actorName(v, people, e.ActorID)}
		if act := e.Activity; act != nil {
			it.Kind, it.Badge, it.Text = string(act.Kind), v.L.T("activity."+string(act.Kind)), act.Text
		} else {
			it.Kind, it.Text = "event", describeEvent(v.L, e.Event, namer(v, people))
		}
		out = append(out, it)
	}
	return out
}

// leadTasks lays out the lead's tasks for its page, open ones first.
func leadTasks(v *view, people map[string]*crm.User, tasks []*crm.Task) []taskView {
	now := time.Now()
	var open, done []taskView
	for _, t := range tasks {
		tv := taskView{Task: t, Assignee: ownerName(v, people, t.AssigneeID), Overdue: !t.Done() && t.DueAt.Before(now)}
		if t.Done() {
			done = append(done, tv)
		} else {
			open = append(open, tv)
		}
	}
	return append(open, done...)
}
