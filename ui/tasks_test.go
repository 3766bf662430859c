package ui_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm"
)

// TestTasksAndBellWithoutJS works next steps with plain forms: a task added
// on the lead page shows there and in My tasks, under its group, with the
// count in the navigation; done from My tasks, it leaves the count; a due
// reminder shows on the bell and is read on its page. The timeline has the
// call, the task and the stage change, newest first.
func TestTasksAndBellWithoutJS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	l, err := b.svc.Leads.CreateLead(as(b.alice), crm.LeadInput{Source: crm.SourcePartner, Name: "Iryna"})
	if err != nil {
		t.Fatal(err)
	}
	c := b.client(t)
	c.login(b.alice.Email)
	path := "/app/leads/" + l.ID
	if !strings.Contains(c.get(path).body, `id="no-next-step"`) {
		t.Error("a lead without tasks is not marked as having no next step")
	}
	c.post(path+"/activities", url.Values{"kind": {"call"}, "text": {"First call"}})
	overdue := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")
	if p := c.post(path+"/tasks", url.Values{"title": {"Send the offer"}, "due_at": {overdue}}); p.status != 303 {
		t.Fatalf("add a task: %d", p.status)
	}
	later := time.Now().UTC().Add(72 * time.Hour).Format("2006-01-02T15:04")
	c.post(path+"/tasks", url.Values{"title": {"Call in three days"}, "due_at": {later}})
	page := c.get(path)
	for _, want := range []string{"Send the offer", "Call in three days", `id="task-list"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the lead page lacks %q", want)
		}
	}
	tl := page.body[strings.Index(page.body, `id="timeline"`):]
	iTask, iCall := strings.Index(tl, "added the task “Call in three days”"), strings.Index(tl, "First call")
	if iTask < 0 || iCall < 0 || iTask > iCall {
		t.Errorf("timeline: task at %d, call at %d; want both, newest first", iTask, iCall)
	}

	tasks := c.get("/app/tasks")
	checkPage(t, tasks, 200)
	ov := strings.Index(tasks.body, `id="tasks-overdue"`)
	lt := strings.Index(tasks.body, `id="tasks-later"`)
	if ov < 0 || lt < 0 || ov > lt || !strings.Contains(tasks.body[ov:lt], "Send the offer") {
		t.Fatalf("My tasks does not list the overdue task first")
	}
	if !strings.Contains(tasks.body, `id="nav-tasks-count">1<`) {
		t.Error("the navigation does not count one task overdue or due today")
	}
	mine, err := b.svc.Leads.Tasks(as(b.alice), crm.TaskFilter{})
	if err != nil || len(mine) != 2 {
		t.Fatalf("tasks: %v %v", mine, err)
	}
	first := mine[0] // soonest due: the overdue one
	if p := c.post("/app/tasks/"+first.ID+"/done", url.Values{"done": {"1"}, "next": {"/app/tasks"}}); p.status != 303 {
		t.Fatalf("done: %d", p.status)
	}
	if body := c.get("/app/tasks").body; strings.Contains(body, `id="nav-tasks-count"`) || strings.Contains(body, `id="tasks-overdue"`) {
		t.Error("a done task still counts, or still shows in My tasks")
	}
	// Another manager cannot complete Alice's task: the page is a 404.
	other := b.client(t)
	other.login(b.bob.Email)
	if p := other.post("/app/tasks/"+mine[1].ID+"/done", url.Values{"done": {"1"}}); p.status != 404 {
		t.Errorf("another manager's done: %d, want 404", p.status)
	}

	// The reminder, as the job writes it.
	if err := b.svc.Leads.RemindTask(t.Context(), crm.TaskDueJob{TaskID: mine[1].ID, DueAt: mine[1].DueAt}); err != nil {
		t.Fatal(err)
	}
	page = c.get("/app/leads")
	if !strings.Contains(page.body, `id="bell-count">1<`) {
		t.Error("the bell does not count the unread reminder")
	}
	bell := c.get("/app/notifications")
	checkPage(t, bell, 200)
	if !strings.Contains(bell.body, "Task due: Call in three days") || !strings.Contains(bell.body, `class="notification kind-task_due unread"`) {
		t.Error("the bell's page does not show the reminder as unread")
	}
	c.post("/app/notifications/read", url.Values{})
	if strings.Contains(c.get("/app/notifications").body, `id="bell-count"`) {
		t.Error("the bell still counts after marking all read")
	}
	c.lang = "uk"
	if body := c.get("/app/notifications").body; !strings.Contains(body, "Час виконати завдання: Call in three days") {
		t.Error("the reminder is not in Ukrainian")
	}
}
