package ui

import (
	"net/http"
	"net/url"
	"time"

	"github.com/crmleads/crm"
)

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

// leadTaskCreate adds a task to the lead from its page. A due time that
// cannot be read, or a task the service refuses, brings the lead page back
// with the form as typed and the message next to its field; nothing is
// written.
func (a *App) leadTaskCreate(w http.ResponseWriter, r *http.Request, v *view) {
	f := taskForm{Title: r.PostFormValue("title"), Due: r.PostFormValue("due_at")}
	errs := map[string]string{}
	due, readable := ReadDateTime(f.Due)
	var err error
	if readable {
		in := crm.TaskInput{Title: f.Title, DueAt: due, AssigneeID: r.PostFormValue("assignee_id")}
		_, err = a.deps.Leads.CreateTask(r.Context(), r.PathValue("id"), in)
		errs, _ = fieldErrors(v.L, err)
	} else {
		errs["due_at"] = v.L.T("fe.bad_datetime")
	}
	if len(errs) > 0 {
		v.Flash = bad(v.L.T("error.form"))
		a.showLeadWith(w, r, v, http.StatusUnprocessableEntity, func(d *leadPageData) {
			d.TaskForm, d.TaskErrors = f, errs
		})
		return
	}
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
	back := backTo(r.PostFormValue("next"))
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

// taskForm is what a task's form shows: as stored, or as typed when it came
// back invalid.
type taskForm struct {
	Title, Due, AssigneeID string
}

type taskEditData struct {
	Task      *crm.Task
	Lead      string // the lead's label
	Next      string // where to go back to: the lead page or My tasks
	Form      taskForm
	Errors    map[string]string
	Assignees []option
}

// backTo is the page a task's form goes back to: next when it is a path of
// the app, else My tasks.
func backTo(next string) string {
	if !localPath(next) {
		return "/app/tasks"
	}
	return next
}

// taskEditPage is the form that edits a task's title, due time and assignee
// (the service's PATCH /tasks/{id}); another manager's task is the 404 page.
func (a *App) taskEditPage(w http.ResponseWriter, r *http.Request, v *view) {
	a.showTaskEdit(w, r, v, nil, nil, http.StatusOK)
}

func (a *App) showTaskEdit(w http.ResponseWriter, r *http.Request, v *view, typed *taskForm, errs map[string]string, status int) {
	t, err := a.deps.Leads.Task(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	d := taskEditData{Task: t, Lead: t.LeadName, Next: backTo(r.FormValue("next")), Errors: errs,
		Form: taskForm{Title: t.Title, Due: v.L.DateTimeValue(t.DueAt), AssigneeID: t.AssigneeID}}
	if typed != nil {
		d.Form = *typed
	}
	// Who may be assigned: the lead's owner, senior managers and admins,
	// active (the service checks it again); a manager sees only himself.
	d.Assignees = userOptions(a.people(r, v), d.Form.AssigneeID, func(u *crm.User) bool {
		return u.ID == d.Form.AssigneeID || u.Active && (u.ID == t.LeadOwnerID || u.Role.SeesAll())
	})
	for i, o := range d.Assignees {
		if o.Value == v.User.ID {
			d.Assignees[i].Label = v.L.T("owner.you")
		}
	}
	v.Title, v.Nav, v.Data = v.L.T("tasks.edit_title", t.Title), "tasks", d
	a.render(w, r, v, "task_edit", status)
}

// taskEdit saves the task's form: a due time that cannot be read, or a
// change the service refuses, brings the form back as typed with the message
// next to its field, and nothing is written.
func (a *App) taskEdit(w http.ResponseWriter, r *http.Request, v *view) {
	f := taskForm{Title: r.PostFormValue("title"), Due: r.PostFormValue("due_at"), AssigneeID: r.PostFormValue("assignee_id")}
	due, readable := ReadDateTime(f.Due)
	if !readable {
		v.Flash = bad(v.L.T("error.form"))
		a.showTaskEdit(w, r, v, &f, map[string]string{"due_at": v.L.T("fe.bad_datetime")}, http.StatusUnprocessableEntity)
		return
	}
	t, err := a.deps.Leads.UpdateTask(r.Context(), r.PathValue("id"), crm.TaskUpdate{Title: &f.Title, DueAt: &due, AssigneeID: &f.AssigneeID})
	if errs, invalid := fieldErrors(v.L, err); invalid {
		v.Flash = bad(v.L.T("error.form"))
		a.showTaskEdit(w, r, v, &f, errs, http.StatusUnprocessableEntity)
		return
	}
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	a.redirect(w, r, backTo(r.PostFormValue("next")), ok(v.L.T("flash.task_saved", t.Title)))
}

// taskDeletePage asks to confirm the deletion of a task.
func (a *App) taskDeletePage(w http.ResponseWriter, r *http.Request, v *view) {
	t, err := a.deps.Leads.Task(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	v.Title, v.Nav = v.L.T("tasks.delete_title", t.Title), "tasks"
	v.Data = taskEditData{Task: t, Lead: t.LeadName, Next: backTo(r.FormValue("next"))}
	a.render(w, r, v, "task_delete", http.StatusOK)
}

// taskDelete deletes the task once confirmed (DELETE /tasks/{id}'s rule).
func (a *App) taskDelete(w http.ResponseWriter, r *http.Request, v *view) {
	t, err := a.deps.Leads.Task(r.Context(), r.PathValue("id"))
	if err == nil {
		err = a.deps.Leads.DeleteTask(r.Context(), t.ID)
	}
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	a.redirect(w, r, backTo(r.PostFormValue("next")), ok(v.L.T("flash.task_deleted", t.Title)))
}
