package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/ui"
)

// TestReadDateTime: the forms' times are read in the Ukrainian way
// (дд.мм.рррр гг:хх, seconds optional, one-digit day and month too), as a
// datetime-local value and as RFC 3339, all UTC; anything else, a date that
// does not exist included, is unreadable.
func TestReadDateTime(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	for in, want := range map[string]time.Time{
		"25.12.2026 14:30":          at("2026-12-25T14:30:00Z"),
		" 5.1.2027  9:05 ":          at("2027-01-05T09:05:00Z"),
		"05.01.2027 09:05:07":       at("2027-01-05T09:05:07Z"),
		"2026-12-25T14:30":          at("2026-12-25T14:30:00Z"),
		"2026-12-25T14:30:15":       at("2026-12-25T14:30:15Z"),
		"2026-12-25T14:30:00+02:00": at("2026-12-25T12:30:00Z"),
	} {
		got, ok := ui.ReadDateTime(in)
		if !ok || !got.Equal(want) {
			t.Errorf("ReadDateTime(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "tomorrow", "31.02.2027 10:00", "25.12.2026", "12/25/2026 14:30", "25.12.2026 25:00", "25.12.26 14:30"} {
		if got, ok := ui.ReadDateTime(in); ok {
			t.Errorf("ReadDateTime(%q) = %v, want unreadable", in, got)
		}
	}
}

// TestTaskFormsWithoutJS edits and deletes tasks with plain forms: the
// task's page form changes its due time and assignee (the service's PATCH
// /tasks/{id}), a due time that cannot be read comes back with a message and
// nothing written, the deletion asks first, and another manager's task is the
// 404 page for every one of these forms. In Ukrainian the due time is typed
// дд.мм.рррр гг:хх, in English the browser's datetime-local field stays.
func TestTaskFormsWithoutJS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	actx := as(b.alice)
	l, err := b.svc.Leads.CreateLead(actx, crm.LeadInput{Source: crm.SourcePartner, Name: "Iryna"})
	if err != nil {
		t.Fatal(err)
	}
	due := time.Date(2027, 3, 4, 10, 30, 0, 0, time.UTC)
	task, err := b.svc.Leads.CreateTask(actx, l.ID, crm.TaskInput{Title: "Send the offer", DueAt: due})
	if err != nil {
		t.Fatal(err)
	}
	stored := func(id string) *crm.Task {
		t.Helper()
		tk, err := b.svc.Leads.Task(as(b.admin), id)
		if crm.IsKind(err, crm.ENOTFOUND) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	leadPath := "/app/leads/" + l.ID
	edit := "/app/tasks/" + task.ID + "/edit"

	c := b.client(t)
	c.login(b.alice.Email)
	p := c.get(leadPath)
	next := strings.ReplaceAll(leadPath, "/", "%2f") // as the template escapes a query value
	if !strings.Contains(p.body, `href="/app/tasks/`+task.ID+`/edit?next=`+next+`"`) ||
		!strings.Contains(p.body, `href="/app/tasks/`+task.ID+`/delete?next=`+next+`"`) {
		t.Error("the lead page's task offers no edit and delete")
	}
	p = c.get(edit + "?next=" + leadPath)
	checkPage(t, p, http.StatusOK)
	if !strings.Contains(p.body, `id="edit-due" name="due_at" type="datetime-local" step="1" required value="2027-03-04T10:30"`) {
		t.Errorf("the English form does not show the due time in a datetime-local field:\n%s", p.body)
	}

	// A due time that cannot be read: the form again, as typed, nothing written.
	p = c.post(edit, url.Values{"title": {"Send the offer today"}, "due_at": {"tomorrow"}, "assignee_id": {b.alice.ID}, "next": {leadPath}})
	checkPage(t, p, http.StatusUnprocessableEntity)
	for _, want := range []string{`id="edit-due-error">Enter the date and time as yyyy-mm-dd hh:mm`, `value="tomorrow"`, `value="Send the offer today"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the form that came back lacks %s", want)
		}
	}
	if got := stored(task.ID); got.Title != "Send the offer" || !got.DueAt.Equal(due) {
		t.Errorf("an unreadable due time changed the task: %+v", got)
	}

	// Saved: the new due time, back on the lead page.
	p = c.post(edit, url.Values{"title": {"Send the offer"}, "due_at": {"2027-03-05T09:00"}, "assignee_id": {b.alice.ID}, "next": {leadPath}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != leadPath {
		t.Fatalf("save: %d to %s", p.status, p.header.Get("Location"))
	}
	if got := stored(task.ID); !got.DueAt.Equal(time.Date(2027, 3, 5, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("due = %v after the edit", got.DueAt)
	}

	// Another manager: 404 for each form, and nothing changes.
	other := b.client(t)
	other.login(b.bob.Email)
	for _, r := range []struct {
		method, path string
	}{{"GET", edit}, {"POST", edit}, {"GET", "/app/tasks/" + task.ID + "/delete"}, {"POST", "/app/tasks/" + task.ID + "/delete"}} {
		var p page
		if r.method == "GET" {
			p = other.get(r.path)
		} else {
			p = other.post(r.path, url.Values{"title": {"Mine now"}, "due_at": {"2027-01-01T00:00"}, "assignee_id": {b.bob.ID}})
		}
		if p.status != http.StatusNotFound || !strings.Contains(p.body, `id="error-page"`) {
			t.Errorf("another manager's %s %s: %d, want the 404 page", r.method, r.path, p.status)
		}
	}
	if got := stored(task.ID); got == nil || got.Title != "Send the offer" || got.AssigneeID != b.alice.ID {
		t.Errorf("another manager changed the task: %+v", got)
	}

	// A senior manager reassigns it to himself, in Ukrainian: the due time
	// shows and is typed дд.мм.рррр гг:хх.
	senior := b.client(t)
	senior.lang = "uk"
	senior.login(b.senior.Email)
	p = senior.get(edit)
	checkPage(t, p, http.StatusOK)
	for _, want := range []string{`id="edit-due" name="due_at" type="text"`, `placeholder="дд.мм.рррр гг:хх" value="05.03.2027 09:00"`,
		`<option value="` + b.senior.ID + `">Ви</option>`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the Ukrainian form lacks %s", want)
		}
	}
	p = senior.post(edit, url.Values{"title": {"Send the offer"}, "due_at": {"06.03.2027 11:15"}, "assignee_id": {b.senior.ID}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/tasks" {
		t.Fatalf("save in Ukrainian: %d to %s", p.status, p.header.Get("Location"))
	}
	if got := stored(task.ID); got.AssigneeID != b.senior.ID || !got.DueAt.Equal(time.Date(2027, 3, 6, 11, 15, 0, 0, time.UTC)) {
		t.Errorf("after the senior's edit: assignee %s, due %v", got.AssigneeID, got.DueAt)
	}
	p = senior.post(edit, url.Values{"title": {"Send the offer"}, "due_at": {"31.02.2027 10:00"}, "assignee_id": {b.senior.ID}})
	checkPage(t, p, http.StatusUnprocessableEntity)
	if !strings.Contains(p.body, "Введіть дату й час у форматі дд.мм.рррр гг:хх") {
		t.Error("a date that does not exist gets no Ukrainian message")
	}

	// Deleting asks first; confirmed, the task is gone and the trail says so.
	p = c.get("/app/tasks/" + task.ID + "/delete?next=" + leadPath)
	checkPage(t, p, http.StatusOK)
	if !strings.Contains(p.body, `id="confirm-delete-task"`) || stored(task.ID) == nil {
		t.Fatal("the deletion does not ask first")
	}
	p = c.post("/app/tasks/"+task.ID+"/delete", url.Values{"next": {leadPath}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != leadPath {
		t.Fatalf("delete: %d to %s", p.status, p.header.Get("Location"))
	}
	if stored(task.ID) != nil {
		t.Error("the task is still there")
	}
	if body := c.get(leadPath).body; !strings.Contains(body, "Deleted: Send the offer.") || !strings.Contains(body, `id="no-next-step"`) {
		t.Error("the lead page does not confirm the deletion, or still has a next step")
	}
}

// TestTaskDueInUkrainian: the lead page's new-task form types the due time
// дд.мм.рррр гг:хх in Ukrainian and reads it back; a value it cannot read
// brings the page back with the message beside the field and the form as
// typed, and no task is created.
func TestTaskDueInUkrainian(t *testing.T) {
	t.Parallel()
	b := setup(t)
	l, err := b.svc.Leads.CreateLead(as(b.alice), crm.LeadInput{Source: crm.SourcePartner, Name: "Iryna"})
	if err != nil {
		t.Fatal(err)
	}
	c := b.client(t)
	c.lang = "uk"
	c.login(b.alice.Email)
	path := "/app/leads/" + l.ID
	p := c.get(path)
	checkPage(t, p, http.StatusOK)
	for _, want := range []string{`id="task-due" name="due_at" type="text" inputmode="numeric"`, `placeholder="дд.мм.рррр гг:хх"`,
		`pattern="\d{1,2}\.\d{1,2}\.\d{4} \d{1,2}:\d{2}(:\d{2})?"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the Ukrainian task form lacks %s", want)
		}
	}
	if strings.Contains(p.body, `type="datetime-local"`) {
		t.Error("the Ukrainian page still has a datetime-local field, which shows mm/dd/yyyy in an English browser")
	}
	tasks := func() int {
		t.Helper()
		ts, err := b.svc.Leads.LeadTasks(as(b.alice), l.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(ts)
	}
	for _, bad := range []string{"12/25/2026 14:30", "32.01.2027 10:00", ""} {
		p = c.post(path+"/tasks", url.Values{"title": {"Call back"}, "due_at": {bad}})
		checkPage(t, p, http.StatusUnprocessableEntity)
		if !strings.Contains(p.body, `id="task-due-error">Введіть дату й час у форматі дд.мм.рррр гг:хх`) ||
			!strings.Contains(p.body, `value="`+bad+`"`) || !strings.Contains(p.body, `id="task-title" name="title" maxlength="200" required value="Call back"`) {
			t.Errorf("%q: the page did not come back with the message and the form as typed", bad)
		}
		if n := tasks(); n != 0 {
			t.Fatalf("%q created %d tasks", bad, n)
		}
	}
	if p = c.post(path+"/tasks", url.Values{"title": {"Call back"}, "due_at": {"05.01.2027 09:15"}}); p.status != http.StatusSeeOther {
		t.Fatalf("a Ukrainian due time: %d", p.status)
	}
	ts, err := b.svc.Leads.LeadTasks(as(b.alice), l.ID)
	if err != nil || len(ts) != 1 || !ts[0].DueAt.Equal(time.Date(2027, 1, 5, 9, 15, 0, 0, time.UTC)) {
		t.Fatalf("tasks = %v, %v; want one due 2027-01-05 09:15 UTC", ts, err)
	}
	// And the page shows it the Ukrainian way.
	if body := c.get(path).body; !strings.Contains(body, ">05.01.2027 09:15</time>") {
		t.Error("the task's due time is not shown дд.мм.рррр гг:хх")
	}
}

// TestDateFieldsInUkrainian: every other date field follows the page's
// language too. The audit's day filters are type=date in English and
// дд.мм.рррр text in Ukrainian, either form read back (a link made in one
// language works in the other); the webhooks' replay-since time is
// дд.мм.рррр гг:хх in Ukrainian.
func TestDateFieldsInUkrainian(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.svc.Leads.CreateLead(as(b.alice), crm.LeadInput{Source: crm.SourcePartner, Name: "Iryna"}); err != nil {
		t.Fatal(err)
	}
	c := b.client(t)
	c.login(b.admin.Email)
	today := time.Now().UTC()
	p := c.get("/app/audit?since=" + today.Format("2006-01-02"))
	checkPage(t, p, http.StatusOK)
	if !strings.Contains(p.body, `id="f-since" name="since" type="date" value="`+today.Format("2006-01-02")+`"`) || !strings.Contains(p.body, "created the lead") {
		t.Error("the English audit does not keep its date field and filter")
	}
	c.lang = "uk"
	for _, since := range []string{today.Format("02.01.2006"), today.Format("2006-01-02")} {
		p = c.get("/app/audit?since=" + url.QueryEscape(since) + "&until=" + url.QueryEscape(today.Format("2.1.2006")))
		checkPage(t, p, http.StatusOK)
		for _, want := range []string{`id="f-since" name="since" type="text"`, `placeholder="дд.мм.рррр"`, `value="` + today.Format("02.01.2006") + `"`, "створено лід"} {
			if !strings.Contains(p.body, want) {
				t.Errorf("since=%s: the Ukrainian audit lacks %s", since, want)
			}
		}
		if strings.Contains(p.body, "Дата некоректна") {
			t.Errorf("since=%s: a good date is called invalid", since)
		}
	}
	if p = c.get("/app/audit?since=31.02.2026"); !strings.Contains(p.body, "Дата некоректна") {
		t.Error("31.02 is not called invalid")
	}
	p = c.get("/app/admin/webhooks")
	checkPage(t, p, http.StatusOK)
	if strings.Contains(p.body, `type="datetime-local"`) || strings.Contains(p.body, `type="date"`) {
		t.Error("the Ukrainian webhooks page keeps a field that follows the browser's locale")
	}
}
