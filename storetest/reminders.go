package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/crmleads/crm"
)

// JobLister is implemented by the stores under test: it lists the job
// engine's jobs of a kind, whatever their state.
type JobLister interface {
	QueuedJobs(ctx context.Context, kind string) ([]crm.QueuedJob, error)
}

// reminders returns the task's reminder jobs in the queue, oldest first, and
// checks that each is scheduled at the due time it carries.
func (b *bundle) reminders(t *testing.T, taskID string) []crm.TaskDueJob {
	t.Helper()
	lister, ok := b.st.(JobLister)
	if !ok {
		t.Fatalf("%T does not implement storetest.JobLister", b.st)
	}
	queued, err := lister.QueuedJobs(context.Background(), crm.TaskDueJob{}.Kind())
	must(t, err)
	var out []crm.TaskDueJob
	for _, q := range queued {
		var j crm.TaskDueJob
		if err := json.Unmarshal([]byte(q.Args), &j); err != nil {
			t.Fatalf("job args %s: %v", q.Args, err)
		}
		if j.TaskID != taskID {
			continue
		}
		// River's SQLite driver keeps milliseconds: the job may wake up to
		// a millisecond off; it compares the due time it carries, exact.
		if d := q.ScheduledAt.Sub(j.DueAt); d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("reminder of %s is scheduled at %s, want its due time", j.DueAt, q.ScheduledAt)
		}
		out = append(out, j)
	}
	return out
}

// dueNotes returns u's task_due notifications of a task.
func (b *bundle) dueNotes(t *testing.T, u *crm.User, taskID string) []*crm.Notification {
	t.Helper()
	ns, _, err := b.svc.Leads.Notifications(as(u), false, 0)
	must(t, err)
	var out []*crm.Notification
	for _, n := range ns {
		if n.Kind == crm.NotifyTaskDue && n.TaskID == taskID {
			out = append(out, n)
		}
	}
	return out
}

// remind runs each job as the engine's worker does (the suite runs no
// engine; the jobs package's test does, on both stores).
func (b *bundle) remind(t *testing.T, jobs ...crm.TaskDueJob) {
	t.Helper()
	for _, j := range jobs {
		if err := b.svc.Leads.RemindTask(context.Background(), j); err != nil {
			t.Fatalf("RemindTask(%+v): %v", j, err)
		}
	}
}

// A task's reminder is a job scheduled at its due time, enqueued with the
// change; when it runs it tells the current assignee once, and a job the task
// has moved away from (or that finds it done or deleted) tells nobody.
func testTaskReminders(t *testing.T, b *bundle) {
	ctx := as(b.mgr)
	l := b.leadAt(t, crm.LeadContacted)
	due := b.clock.Peek().Add(time.Hour)
	create := func(title string, due time.Time) *crm.Task {
		t.Helper()
		task, err := b.svc.Leads.CreateTask(ctx, l.ID, crm.TaskInput{Title: title, DueAt: due})
		must(t, err)
		return task
	}

	t.Run("DueOnce", func(t *testing.T) {
		task := create("Call back", due)
		jobs := b.reminders(t, task.ID)
		diff(t, "jobs of a new task", []crm.TaskDueJob{{TaskID: task.ID, DueAt: task.DueAt}}, jobs)
		if n := b.dueNotes(t, b.mgr, task.ID); len(n) != 0 {
			t.Fatalf("%d reminders before the job ran", len(n))
		}
		b.remind(t, jobs...)
		b.remind(t, jobs...) // River runs a job at least once
		got := b.dueNotes(t, b.mgr, task.ID)
		if len(got) != 1 {
			t.Fatalf("%d reminders after the job ran twice, want 1", len(got))
		}
		n := got[0]
		if n.LeadID != l.ID || n.Subject != "Call back" || n.Text != "Task due: Call back" || n.ActorID != "" || !n.Unread() {
			t.Errorf("reminder = %+v", n)
		}
		// A title change schedules nothing new.
		title := "Call back soon"
		_, err := b.svc.Leads.UpdateTask(ctx, task.ID, crm.TaskUpdate{Title: &title})
		must(t, err)
		if n := len(b.reminders(t, task.ID)); n != 1 {
			t.Errorf("%d jobs after a title change, want 1", n)
		}
	})

	t.Run("MovedLeavesNoStaleReminder", func(t *testing.T) {
		task := create("Send offer", due)
		later := due.Add(24 * time.Hour).Truncate(time.Microsecond)
		_, err := b.svc.Leads.UpdateTask(ctx, task.ID, crm.TaskUpdate{DueAt: &later})
		must(t, err)
		jobs := b.reminders(t, task.ID)
		if len(jobs) != 2 || !jobs[0].DueAt.Equal(task.DueAt) || !jobs[1].DueAt.Equal(later) {
			t.Fatalf("jobs after a move = %+v, want the old time's and the new one's", jobs)
		}
		b.remind(t, jobs[0])
		if n := b.dueNotes(t, b.mgr, task.ID); len(n) != 0 {
			t.Fatalf("the old time's job reminded of a moved task: %+v", n[0])
		}
		// Moved back: the old time's job is due again, and both its runs
		// (the first job and the new one) make one reminder.
		_, err = b.svc.Leads.UpdateTask(ctx, task.ID, crm.TaskUpdate{DueAt: &due})
		must(t, err)
		jobs = b.reminders(t, task.ID)
		b.remind(t, jobs...)
		if n := b.dueNotes(t, b.mgr, task.ID); len(n) != 1 {
			t.Errorf("%d reminders after a move there and back, want 1", len(n))
		}
	})

	t.Run("DoneOrDeletedTellsNobody", func(t *testing.T) {
		done := create("Done already", due)
		yes := true
		_, err := b.svc.Leads.UpdateTask(ctx, done.ID, crm.TaskUpdate{Done: &yes})
		must(t, err)
		b.remind(t, b.reminders(t, done.ID)...)
		if n := b.dueNotes(t, b.mgr, done.ID); len(n) != 0 {
			t.Error("a done task was reminded")
		}
		// Reopened before its time: the job still scheduled reminds.
		no := false
		_, err = b.svc.Leads.UpdateTask(ctx, done.ID, crm.TaskUpdate{Done: &no})
		must(t, err)
		jobs := b.reminders(t, done.ID)
		if len(jobs) != 1 {
			t.Errorf("%d jobs after reopening, want the first one only", len(jobs))
		}
		b.remind(t, jobs...)
		if n := b.dueNotes(t, b.mgr, done.ID); len(n) != 1 {
			t.Errorf("%d reminders of a reopened task, want 1", len(n))
		}

		gone := create("Deleted", due)
		jobs = b.reminders(t, gone.ID)
		must(t, b.svc.Leads.DeleteTask(ctx, gone.ID))
		b.remind(t, jobs...) // no error: nothing to do
		if n := b.dueNotes(t, b.mgr, gone.ID); len(n) != 0 {
			t.Error("a deleted task was reminded")
		}
	})

	t.Run("ToTheCurrentAssignee", func(t *testing.T) {
		task := create("Hand over", due)
		senior := b.senior.ID
		_, err := b.svc.Leads.UpdateTask(ctx, task.ID, crm.TaskUpdate{AssigneeID: &senior})
		must(t, err)
		b.remind(t, b.reminders(t, task.ID)...)
		if n := b.dueNotes(t, b.senior, task.ID); len(n) != 1 {
			t.Errorf("%d reminders for the new assignee, want 1", len(n))
		}
		if n := b.dueNotes(t, b.mgr, task.ID); len(n) != 0 {
			t.Error("the former assignee was reminded")
		}
		// Nobody else sees it: a reminder is its assignee's own.
		if n := b.dueNotes(t, b.mgr2, task.ID); len(n) != 0 {
			t.Error("another manager sees the reminder")
		}
	})
}
