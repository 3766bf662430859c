package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/crmleads/crm"
)

// ---- tasks ----

const taskCols = `t.id, t.lead_id, t.title, t.due_at, t.assignee_id, t.done_at, t.created_by, t.created_at, t.updated_at`

const (
	// A task's lead owner and name are read through the join.
	taskSelect = `SELECT ` + taskCols + `, l.owner_id, l.name, l.company FROM tasks t JOIN leads l ON l.id = t.lead_id`
	qTask      = taskSelect + ` WHERE t.id = ?`
	qTaskLock  = `SELECT ` + taskCols + `, NULL, '', '' FROM tasks t WHERE t.id = ?`
	qTaskIns   = `INSERT INTO tasks (id, lead_id, title, due_at, assignee_id, done_at, created_by, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qTaskUpd = `UPDATE tasks SET title = ?, due_at = ?, assignee_id = ?, done_at = ?, updated_at = ? WHERE id = ?`
	qTaskDel = `DELETE FROM tasks WHERE id = ?`
)

func scanTask(r scanner) (*crm.Task, error) {
	var (
		t                     crm.Task
		due, created, updated string
		done, by, owner       sql.NullString
		leadName, leadCompany string
	)
	if err := r.Scan(&t.ID, &t.LeadID, &t.Title, &due, &t.AssigneeID, &done, &by, &created, &updated,
		&owner, &leadName, &leadCompany); err != nil {
		return nil, err
	}
	t.CreatedBy, t.LeadOwnerID = by.String, owner.String
	t.LeadName = leadName
	if t.LeadName == "" {
		t.LeadName = leadCompany
	}
	var err error
	for _, p := range []struct {
		dst *time.Time
		src string
	}{{&t.DueAt, due}, {&t.CreatedAt, created}, {&t.UpdatedAt, updated}, {&t.DoneAt, done.String}} {
		if p.src == "" {
			continue
		}
		if *p.dst, err = parseTime(p.src); err != nil {
			return nil, err
		}
	}
	return &t, nil
}

func optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}

// Task returns a task with its lead's owner and name.
func (db *DB) Task(ctx context.Context, id string) (*crm.Task, error) {
	row, err := db.queryRow(ctx, qTask, id)
	if err != nil {
		return nil, mapErr("task", "task", err)
	}
	t, err := scanTask(row)
	return t, mapErr("task", "task", err)
}

// taskWhere is the WHERE clause of a task filter.
func taskWhere(f crm.TaskFilter) ([]string, []any) {
	var (
		where []string
		args  []any
	)
	if f.AssigneeID != "" {
		where, args = append(where, "t.assignee_id = ?"), append(args, f.AssigneeID)
	}
	if f.LeadID != "" {
		where, args = append(where, "t.lead_id = ?"), append(args, f.LeadID)
	}
	if !f.DueBefore.IsZero() {
		where, args = append(where, "t.due_at < ?"), append(args, fmtTime(f.DueBefore))
	}
	if f.Done != nil {
		if *f.Done {
			where = append(where, "t.done_at IS NOT NULL")
		} else {
			where = append(where, "t.done_at IS NULL")
		}
	}
	return where, args
}

// Tasks returns up to f.Limit tasks, soonest due first.
func (db *DB) Tasks(ctx context.Context, f crm.TaskFilter) ([]*crm.Task, error) {
	where, args := taskWhere(f)
	query := taskSelect + whereSQL(where) + ` ORDER BY t.due_at, t.id LIMIT ?`
	return queryAll(ctx, db, "tasks", scanTask, query, append(args, f.Limit)...)
}

// CountTasks counts the tasks matching f.
func (db *DB) CountTasks(ctx context.Context, f crm.TaskFilter) (int, error) {
	where, args := taskWhere(f)
	return db.count(ctx, "count tasks", `SELECT count(*) FROM tasks t`+whereSQL(where), args...)
}

// LockTask reads a task inside the write transaction.
func (t *tx) LockTask(ctx context.Context, id string) (*crm.Task, error) {
	task, err := scanTask(t.queryRow(ctx, qTaskLock, id))
	return task, mapErr("lock task", "task", err)
}

// InsertTask adds a task.
func (t *tx) InsertTask(ctx context.Context, task *crm.Task) error {
	return mapErr("insert task", "", t.exec(ctx, qTaskIns, task.ID, task.LeadID, task.Title, fmtTime(task.DueAt),
		task.AssigneeID, optTime(task.DoneAt), nullStr(task.CreatedBy), fmtTime(task.CreatedAt), fmtTime(task.UpdatedAt)))
}

// UpdateTask writes the mutable columns of a task.
func (t *tx) UpdateTask(ctx context.Context, task *crm.Task) error {
	return mapErr("update task", "task", t.execOne(ctx, qTaskUpd, task.Title, fmtTime(task.DueAt), task.AssigneeID,
		optTime(task.DoneAt), fmtTime(task.UpdatedAt), task.ID))
}

// DeleteTask removes a task.
func (t *tx) DeleteTask(ctx context.Context, id string) error {
	return mapErr("delete task", "task", t.execOne(ctx, qTaskDel, id))
}

// ReassignTasks gives a lead's open tasks of one assignee to another.
func (t *tx) ReassignTasks(ctx context.Context, leadID, from, to string, at time.Time) error {
	return mapErr("reassign tasks", "", t.exec(ctx, `UPDATE tasks SET assignee_id = ?, updated_at = ?
		WHERE lead_id = ? AND assignee_id = ? AND done_at IS NULL`, to, fmtTime(at), leadID, from))
}

// ---- activities ----

const activityCols = `id, lead_id, kind, text, at, actor_id, created_at`

func scanActivity(r scanner) (*crm.Activity, error) {
	var (
		a           crm.Activity
		at, created string
		actor       sql.NullString
	)
	if err := r.Scan(&a.ID, &a.LeadID, &a.Kind, &a.Text, &at, &actor, &created); err != nil {
		return nil, err
	}
	a.ActorID = actor.String
	var err error
	if a.At, err = parseTime(at); err != nil {
		return nil, err
	}
	if a.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	return &a, nil
}

// Activities returns a lead's activities, newest first.
func (db *DB) Activities(ctx context.Context, leadID string, limit int) ([]*crm.Activity, error) {
	return queryAll(ctx, db, "activities", scanActivity,
		`SELECT `+activityCols+` FROM activities WHERE lead_id = ? ORDER BY at DESC, id DESC LIMIT ?`, leadID, limit)
}

// InsertActivity adds an activity.
func (t *tx) InsertActivity(ctx context.Context, a *crm.Activity) error {
	return mapErr("insert activity", "", t.exec(ctx, `INSERT INTO activities (`+activityCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.LeadID, string(a.Kind), a.Text, fmtTime(a.At), nullStr(a.ActorID), fmtTime(a.CreatedAt)))
}

// ---- notifications ----

const notificationCols = `id, user_id, kind, lead_id, sale_id, task_id, subject, text, actor_id, created_at, read_at`

func scanNotification(r scanner) (*crm.Notification, error) {
	var (
		n                       crm.Notification
		lead, sale, task, actor sql.NullString
		created                 string
		read                    sql.NullString
	)
	if err := r.Scan(&n.ID, &n.UserID, &n.Kind, &lead, &sale, &task, &n.Subject, &n.Text, &actor, &created, &read); err != nil {
		return nil, err
	}
	n.LeadID, n.SaleID, n.TaskID, n.ActorID = lead.String, sale.String, task.String, actor.String
	var err error
	if n.Created, err = parseTime(created); err != nil {
		return nil, err
	}
	if read.Valid {
		if n.ReadAt, err = parseTime(read.String); err != nil {
			return nil, err
		}
	}
	return &n, nil
}

// Notifications returns a user's notifications, newest first.
func (db *DB) Notifications(ctx context.Context, userID string, f crm.NotificationFilter) ([]*crm.Notification, error) {
	where, args := []string{"user_id = ?", "created_at >= ?"}, []any{userID, fmtTime(f.Since)}
	if f.UnreadOnly {
		where = append(where, "read_at IS NULL")
	}
	return queryAll(ctx, db, "notifications", scanNotification,
		`SELECT `+notificationCols+` FROM notifications`+whereSQL(where)+` ORDER BY id DESC LIMIT ?`, append(args, f.Limit)...)
}

// CountUnread counts a user's unread notifications since a time.
func (db *DB) CountUnread(ctx context.Context, userID string, since time.Time) (int, error) {
	return db.count(ctx, "count unread", `SELECT count(*) FROM notifications WHERE user_id = ? AND read_at IS NULL AND created_at >= ?`,
		userID, fmtTime(since))
}

// MarkRead marks a user's notifications read.
func (db *DB) MarkRead(ctx context.Context, userID string, ids []string, at time.Time) error {
	query := `UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL`
	args := []any{fmtTime(at), userID}
	if ids != nil {
		query += ` AND id IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	// Not prepared: the statement text varies with the number of ids.
	_, err := db.w.ExecContext(ctx, query, args...)
	return mapErr("mark read", "", err)
}

// InsertNotification adds a notification and prunes the user's expired ones.
func (t *tx) InsertNotification(ctx context.Context, n *crm.Notification) error {
	if err := t.exec(ctx, `DELETE FROM notifications WHERE user_id = ? AND created_at < ?`,
		n.UserID, fmtTime(n.Created.Add(-crm.NotificationRetention))); err != nil {
		return mapErr("prune notifications", "", err)
	}
	return mapErr("insert notification", "", t.exec(ctx, `INSERT INTO notifications (`+notificationCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, n.ID, n.UserID, n.Kind, nullStr(n.LeadID), nullStr(n.SaleID),
		nullStr(n.TaskID), n.Subject, n.Text, nullStr(n.ActorID), fmtTime(n.Created), optTime(n.ReadAt)))
}

// ---- saved filters ----

// SavedFilters returns a user's filters by name.
func (db *DB) SavedFilters(ctx context.Context, userID string) ([]*crm.SavedFilter, error) {
	out, err := queryAll(ctx, db, "saved filters", func(r scanner) (*crm.SavedFilter, error) {
		var (
			f       crm.SavedFilter
			created string
		)
		if err := r.Scan(&f.ID, &f.UserID, &f.Name, &f.Query, &created); err != nil {
			return nil, err
		}
		var err error
		f.CreatedAt, err = parseTime(created)
		return &f, err
	}, `SELECT id, user_id, name, query, created_at FROM saved_filters WHERE user_id = ? ORDER BY name, id`, userID)
	if out == nil && err == nil {
		out = []*crm.SavedFilter{}
	}
	return out, err
}

// InsertSavedFilter adds a filter.
func (t *tx) InsertSavedFilter(ctx context.Context, f *crm.SavedFilter) error {
	return mapErr("insert saved filter", "", t.exec(ctx, `INSERT INTO saved_filters (id, user_id, name, query, created_at)
		VALUES (?, ?, ?, ?, ?)`, f.ID, f.UserID, f.Name, f.Query, fmtTime(f.CreatedAt)))
}

// DeleteSavedFilter removes one of a user's filters.
func (t *tx) DeleteSavedFilter(ctx context.Context, userID, id string) error {
	return mapErr("delete saved filter", "filter", t.execOne(ctx, `DELETE FROM saved_filters WHERE id = ? AND user_id = ?`, id, userID))
}

// ---- boards ----

// ownerCond limits a summary to one owner's leads ("" is everybody's).
func ownerCond(col, ownerID string) ([]string, []any) {
	if ownerID == "" {
		return nil, nil
	}
	return []string{col + " = ?"}, []any{ownerID}
}

// LeadCounts reads the summary the triggers of migration 00013 keep: no scan
// of leads.
func (db *DB) LeadCounts(ctx context.Context, ownerID string) ([]crm.LeadCount, error) {
	where, args := ownerCond("owner_id", ownerID)
	return queryAll(ctx, db, "lead counts", func(r scanner) (crm.LeadCount, error) {
		var c crm.LeadCount
		err := r.Scan(&c.Stage, &c.NoNextStep, &c.Count)
		return c, err
	}, `SELECT stage, no_next_step, sum(n) FROM lead_counts`+whereSQL(where)+` GROUP BY 1, 2 HAVING sum(n) > 0`, args...)
}

// SaleTotals reads the summary of migration 00013. Its totals are STRICT
// INTEGERs and SUM over INTEGER is exact in SQLite, failing rather than
// rounding on overflow.
func (db *DB) SaleTotals(ctx context.Context, ownerID string) ([]crm.SaleTotal, error) {
	where, args := ownerCond("owner_id", ownerID)
	return queryAll(ctx, db, "sale totals", func(r scanner) (crm.SaleTotal, error) {
		var t crm.SaleTotal
		err := r.Scan(&t.Stage, &t.Currency, &t.Count, &t.Sum)
		return t, err
	}, `SELECT stage, currency, sum(n), sum(total) FROM sale_totals`+whereSQL(where)+
		` GROUP BY 1, 2 HAVING sum(n) > 0`, args...)
}

// SaleScores stays a query over the open sales: its groups are each lead's
// score and calibrated score, which change with every analysis and
// calibration, so a summary would be rewritten more often than read.
// SaleScores sums the open sales' values by currency and their lead's raw and
// calibrated score.
func (db *DB) SaleScores(ctx context.Context, ownerID string) ([]crm.SaleScore, error) {
	where, args := ownerCond("l.owner_id", ownerID)
	where = append(where, "s.stage IN ('new', 'kyc', 'agreement')", "s.amount IS NOT NULL", "l.ai_score IS NOT NULL")
	return queryAll(ctx, db, "sale scores", func(r scanner) (crm.SaleScore, error) {
		var (
			g   crm.SaleScore
			cal sql.NullFloat64
		)
		err := r.Scan(&g.Currency, &g.Score, &cal, &g.Count, &g.Sum)
		if cal.Valid {
			g.Calibrated = &cal.Float64
		}
		return g, err
	}, `SELECT s.currency, l.ai_score, l.ai_score_calibrated, count(*), sum(s.amount)
		FROM sales s JOIN leads l ON l.id = s.lead_id`+whereSQL(where)+` GROUP BY 1, 2, 3`, args...)
}

// LostReasons counts lost leads by reason, most first.
func (db *DB) LostReasons(ctx context.Context, ownerID string) ([]crm.ReasonCount, error) {
	where, args := ownerCond("owner_id", ownerID)
	where = append(where, "stage = 'lost'")
	out, err := queryAll(ctx, db, "lost reasons", func(r scanner) (crm.ReasonCount, error) {
		var c crm.ReasonCount
		err := r.Scan(&c.Reason, &c.Count)
		return c, err
	}, `SELECT lost_reason, count(*) FROM leads`+whereSQL(where)+` GROUP BY 1 ORDER BY 2 DESC, 1`, args...)
	if out == nil && err == nil {
		out = []crm.ReasonCount{}
	}
	return out, err
}
