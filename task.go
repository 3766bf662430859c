package crm

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Event actions of tasks, recorded on the task's lead.
const (
	ActionTaskCreated = "task.created"
	ActionTaskUpdated = "task.updated"
	ActionTaskDone    = "task.done"
	ActionTaskReopen  = "task.reopened"
	ActionTaskDeleted = "task.deleted"
)

// MaxTasks bounds one list of tasks.
const MaxTasks = 500

// Task is a next step on a lead, due at a time, for one person.
type Task struct {
	ID         string
	LeadID     string
	Title      string
	DueAt      time.Time
	AssigneeID string
	DoneAt     time.Time // zero while open
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Read through the lead, not stored on the task.
	LeadOwnerID string
	LeadName    string
}

// Done reports whether the task is done.
func (t *Task) Done() bool { return !t.DoneAt.IsZero() }

// TaskInput creates a task; AssigneeID "" means the lead's owner.
type TaskInput struct {
	Title      string
	DueAt      time.Time
	AssigneeID string
}

// TaskUpdate is a partial edit of a task; nil fields stay as they are.
type TaskUpdate struct {
	Title      *string
	DueAt      *time.Time
	AssigneeID *string
	Done       *bool
}

// TaskFilter selects tasks, soonest due first. Done nil lists both.
type TaskFilter struct {
	AssigneeID string
	LeadID     string
	DueBefore  time.Time // zero: no bound
	Done       *bool
	Limit      int
}

func checkTitle(fe []FieldError, title string) []FieldError {
	if !ValidText(title) {
		fe = checkText(fe, "title", &title)
	} else if n := utf8.RuneCountInString(title); n == 0 || n > MaxShortText {
		fe = append(fe, FieldError{Field: "title", Message: "must be 1 to 200 characters"})
	}
	return fe
}

// checkAssignee returns EINVALID unless id is an active user who may see the
// lead: its owner, or a senior manager or admin. A task never points anybody
// at a lead they cannot open.
func checkAssignee(ctx context.Context, tx Tx, l *Lead, id string) error {
	bad := Invalid(FieldError{Field: "assignee_id", Message: "must be an active user who can see the lead (its owner, a senior manager or an admin)"})
	if !ValidID(id) {
		return bad
	}
	u, err := tx.LockUser(ctx, id)
	if IsKind(err, ENOTFOUND) || (err == nil && (!u.Active || (u.ID != l.OwnerID && !u.Role.SeesAll()))) {
		return bad
	}
	return err
}

func taskData(t *Task) map[string]any {
	return map[string]any{"task_id": t.ID, "title": t.Title, "due_at": t.DueAt.Format(time.RFC3339),
		"assignee_id": t.AssigneeID}
}

// CreateTask adds a task to a lead the actor may see, assigned to in.AssigneeID
// or to the lead's owner (the actor when it has none), and schedules its
// reminder (a TaskDueJob at the due time) in the same transaction.
// Errors: ENOTFOUND, EINVALID.
func (s *LeadService) CreateTask(ctx context.Context, leadID string, in TaskInput) (*Task, error) {
	in.Title, in.AssigneeID = strings.TrimSpace(in.Title), NormalizeID(in.AssigneeID)
	var fe []FieldError
	fe = checkTitle(fe, in.Title)
	if in.DueAt.IsZero() {
		fe = append(fe, FieldError{Field: "due_at", Message: "is required (RFC 3339)"})
	}
	if fe != nil {
		return nil, Invalid(fe...)
	}
	var task *Task
	_, err := s.changeLead(ctx, leadID, func(tx Tx, a Actor, l *Lead) (*Event, error) {
		assignee := in.AssigneeID
		if assignee == "" {
			assignee = l.OwnerID
		}
		if assignee == "" {
			assignee = a.UserID
		}
		if assignee != a.UserID || a.UserID == "" {
			if err := checkAssignee(ctx, tx, l, assignee); err != nil {
				return nil, err
			}
		}
		now := s.timestamp()
		task = &Task{ID: NewID(), LeadID: l.ID, Title: in.Title, DueAt: in.DueAt.UTC().Truncate(time.Microsecond),
			AssigneeID: assignee, CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now,
			LeadOwnerID: l.OwnerID, LeadName: l.Label()}
		if err := tx.InsertTask(ctx, task); err != nil {
			return nil, err
		}
		if err := tx.Enqueue(ctx, TaskDueJob{TaskID: task.ID, DueAt: task.DueAt}); err != nil {
			return nil, err
		}
		l.OpenTasks++
		e := s.event(a, ActionTaskCreated, l)
		e.Data = taskData(task)
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return task, nil
}

// changeTask runs change on a task the actor may see (one on a lead they may
// see), with its lead and the task locked, in that order (the order every
// writer of tasks takes them). change returns the event to record, or nil when
// nothing changed.
func (s *LeadService) changeTask(ctx context.Context, id string, change func(tx Tx, a Actor, l *Lead, t *Task) (*Event, error)) (*Task, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	id = NormalizeID(id)
	if !ValidID(id) {
		return nil, NotFound("task")
	}
	cur, err := s.store.Task(ctx, id)
	if err != nil {
		return nil, err
	}
	if !a.CanSeeOwner(cur.LeadOwnerID) {
		return nil, NotFound("task")
	}
	var out *Task
	_, err = s.changeLead(ctx, cur.LeadID, func(tx Tx, a Actor, l *Lead) (*Event, error) {
		t, err := tx.LockTask(ctx, id)
		if err != nil {
			return nil, err
		}
		t.LeadOwnerID, t.LeadName = l.OwnerID, l.Label()
		e, err := change(tx, a, l, t)
		out = t
		return e, err
	})
	if IsKind(err, ENOTFOUND) {
		return nil, NotFound("task") // the lead went out of sight meanwhile, or the task is gone
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Task returns a task the actor may see: one on a lead they may see.
// Errors: ENOTFOUND (an unknown id, or a task out of sight, alike).
func (s *LeadService) Task(ctx context.Context, id string) (*Task, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	id = NormalizeID(id)
	if !ValidID(id) {
		return nil, NotFound("task")
	}
	t, err := s.store.Task(ctx, id)
	if err != nil {
		return nil, err
	}
	if !a.CanSeeOwner(t.LeadOwnerID) {
		return nil, NotFound("task")
	}
	return t, nil
}

// UpdateTask edits a task: title, due time, assignee, done or not. Moving
// the due time schedules the reminder of the new one.
// Errors: ENOTFOUND, EINVALID.
func (s *LeadService) UpdateTask(ctx context.Context, id string, u TaskUpdate) (*Task, error) {
	var fe []FieldError
	if u.Title != nil {
		t := strings.TrimSpace(*u.Title)
		u.Title = &t
		fe = checkTitle(fe, t)
	}
	if u.AssigneeID != nil {
		id := NormalizeID(*u.AssigneeID)
		u.AssigneeID = &id
	}
	if u.DueAt != nil && u.DueAt.IsZero() {
		fe = append(fe, FieldError{Field: "due_at", Message: "must be a time (RFC 3339)"})
	}
	if fe != nil {
		return nil, Invalid(fe...)
	}
	return s.changeTask(ctx, id, func(tx Tx, a Actor, l *Lead, t *Task) (*Event, error) {
		action := ActionTaskUpdated
		changed, moved := false, false
		if u.Title != nil && *u.Title != t.Title {
			t.Title, changed = *u.Title, true
		}
		if u.DueAt != nil {
			// Stored to the microsecond: the same time sent again is no move.
			if due := u.DueAt.UTC().Truncate(time.Microsecond); !due.Equal(t.DueAt) {
				t.DueAt, changed, moved = due, true, true
			}
		}
		if u.AssigneeID != nil && *u.AssigneeID != t.AssigneeID {
			if err := checkAssignee(ctx, tx, l, *u.AssigneeID); err != nil {
				return nil, err
			}
			t.AssigneeID, changed = *u.AssigneeID, true
		}
		if u.Done != nil && *u.Done != t.Done() {
			changed = true
			if *u.Done {
				t.DoneAt, action = s.timestamp(), ActionTaskDone
				l.OpenTasks--
			} else {
				t.DoneAt, action = time.Time{}, ActionTaskReopen
				l.OpenTasks++
			}
		}
		if !changed {
			return nil, nil
		}
		t.UpdatedAt = s.timestamp()
		if err := tx.UpdateTask(ctx, t); err != nil {
			return nil, err
		}
		// A new due time gets its own reminder; the old one finds itself
		// stale when it runs. Reopening needs none: a reminder still ahead
		// is still scheduled, and one whose time passed while the task was
		// done is not sent late (the task shows as overdue instead).
		if moved {
			if err := tx.Enqueue(ctx, TaskDueJob{TaskID: t.ID, DueAt: t.DueAt}); err != nil {
				return nil, err
			}
		}
		e := s.event(a, action, l)
		e.Data = taskData(t)
		return e, nil
	})
}

// DeleteTask removes a task. Errors: ENOTFOUND.
func (s *LeadService) DeleteTask(ctx context.Context, id string) error {
	_, err := s.changeTask(ctx, id, func(tx Tx, a Actor, l *Lead, t *Task) (*Event, error) {
		if err := tx.DeleteTask(ctx, t.ID); err != nil {
			return nil, err
		}
		if !t.Done() {
			l.OpenTasks--
		}
		e := s.event(a, ActionTaskDeleted, l)
		e.Data = taskData(t)
		return e, nil
	})
	return err
}

// Tasks lists tasks, soonest due first: a manager gets only their own (a
// filter naming somebody else finds nothing), senior managers and admins
// everyone's, filterable by assignee.
func (s *LeadService) Tasks(ctx context.Context, f TaskFilter) ([]*Task, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	f.AssigneeID = NormalizeID(f.AssigneeID)
	if !a.Role.SeesAll() {
		if f.AssigneeID != "" && f.AssigneeID != a.UserID {
			return []*Task{}, nil
		}
		f.AssigneeID = a.UserID
	}
	if f.AssigneeID != "" && !ValidID(f.AssigneeID) {
		return []*Task{}, nil
	}
	f.LeadID = ""
	if f.Limit <= 0 || f.Limit > MaxTasks {
		f.Limit = MaxTasks
	}
	return s.store.Tasks(ctx, f)
}

// LeadTasks lists the tasks of a lead the actor may see, soonest due first.
// Errors: ENOTFOUND.
func (s *LeadService) LeadTasks(ctx context.Context, leadID string) ([]*Task, error) {
	if _, err := s.Lead(ctx, leadID); err != nil {
		return nil, err
	}
	return s.store.Tasks(ctx, TaskFilter{LeadID: leadID, Limit: MaxTasks})
}

// TaskCounts are the actor's open tasks by when they are due.
type TaskCounts struct {
	Overdue int // due before now
	Today   int // due from now to the end of the day
}

// MyTaskCounts counts the actor's open tasks overdue and due later today
// (the day ending at endOfDay, in the user's time zone).
func (s *LeadService) MyTaskCounts(ctx context.Context, endOfDay time.Time) (TaskCounts, error) {
	a, err := actor(ctx)
	if err != nil {
		return TaskCounts{}, err
	}
	open := false
	now := s.now()
	overdue, err := s.store.CountTasks(ctx, TaskFilter{AssigneeID: a.UserID, Done: &open, DueBefore: now})
	if err != nil {
		return TaskCounts{}, err
	}
	today, err := s.store.CountTasks(ctx, TaskFilter{AssigneeID: a.UserID, Done: &open, DueBefore: endOfDay})
	if err != nil {
		return TaskCounts{}, err
	}
	return TaskCounts{Overdue: overdue, Today: today - overdue}, nil
}
