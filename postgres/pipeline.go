package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/pgsql"
)

// ---- sorting ----

const openStages = "stage IN ('new', 'contacted', 'qualified')"

// Text keys compare by bytes (COLLATE "C"), as SQLite's BINARY does, so both
// stores order a list alike whatever the database's locale.
var leadSortExpr = map[string]string{
	"updated_at": "updated_at", "name": `name COLLATE "C"`, "company": `company COLLATE "C"`,
	"email": `email COLLATE "C"`, "source": `source COLLATE "C"`, "stage": stageRank("stage", crm.LeadStages),
	"messages_count": "messages_count", "ai_score": "coalesce(ai_score, -1)",
}

var saleSortExpr = map[string]string{
	"updated_at": "s.updated_at", "stage": stageRank("s.stage", crm.SaleStages), "amount": "coalesce(s.amount, -1)",
}

// stageRank is the SQL of a stage's place in the pipeline (crm.LeadStageRank).
func stageRank[S ~string](col string, stages []S) string {
	var b strings.Builder
	b.WriteString("CASE " + col)
	for i, s := range stages {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", s, i)
	}
	b.WriteString(" END")
	return b.String()
}

// keyset adds the condition that starts a page after f's cursor and returns
// the ORDER BY clause: by (expr, id) when expr is set, by id alone otherwise.
func (w *where) keyset(expr, id string, srt crm.Sort, after string, afterValue any) string {
	dir, cmp := " ASC", " > "
	if srt.Descending() {
		dir, cmp = " DESC", " < "
	}
	if expr == "" {
		if after != "" {
			w.conds = append(w.conds, id+cmp+w.arg(after))
		}
		return " ORDER BY " + id + dir
	}
	if after != "" {
		v := w.arg(afterValue)
		w.conds = append(w.conds, "("+expr+", "+id+")"+cmp+"("+v+", "+w.arg(after)+")")
	}
	return " ORDER BY " + expr + dir + ", " + id + dir
}

// Duplicates returns open leads matching any of the keys.
func (db *DB) Duplicates(ctx context.Context, k crm.DuplicateKeys, ownerID string, n int) ([]*crm.Lead, error) {
	if ownerID != "" && !crm.ValidID(ownerID) {
		return []*crm.Lead{}, nil
	}
	var (
		w   where
		ors []string
	)
	for i, v := range []string{k.Email, k.Phone, k.Name} {
		col := [...]string{"email_key", "phone_key", "name_key"}[i]
		if v != "" {
			// Each branch repeats its partial index's predicate.
			ors = append(ors, "("+col+" = "+w.arg(v)+" AND "+col+" <> '' AND "+openStages+")")
		}
	}
	if len(ors) == 0 {
		return []*crm.Lead{}, nil
	}
	w.conds = append(w.conds, "("+strings.Join(ors, " OR ")+")")
	if ownerID != "" {
		w.add("owner_id = $", ownerID)
	}
	return collect(ctx, db, "duplicates", pgsql.ScanLead,
		`SELECT `+pgsql.LeadCols+` FROM leads`+w.sql()+` ORDER BY id DESC LIMIT `+w.arg(limit(n)), w.args...)
}

// collect runs a query on the pool and scans every row.
func collect[T any](ctx context.Context, db *DB, op string, scan func(pgx.Row) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := db.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, classify(op, err, "")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
	if err != nil {
		return nil, classify(op, err, "")
	}
	return out, nil
}

// saleAmount is the amount column of a sale: NULL without a value.
func saleAmount(s *crm.Sale) any {
	if !s.HasValue() {
		return nil
	}
	return int64(s.Amount)
}

// ---- tasks ----

const taskCols = `t.id, t.lead_id, t.title, t.due_at, t.assignee_id, t.done_at, t.created_by, t.created_at, t.updated_at`

const taskSelect = `SELECT ` + taskCols + `, l.owner_id, l.name, l.company FROM tasks t JOIN leads l ON l.id = t.lead_id`

func scanTask(r pgx.Row) (*crm.Task, error) {
	var (
		t             crm.Task
		done          *time.Time
		by, owner     *string
		name, company string
	)
	if err := r.Scan(&t.ID, &t.LeadID, &t.Title, &t.DueAt, &t.AssigneeID, &done, &by, &t.CreatedAt, &t.UpdatedAt,
		&owner, &name, &company); err != nil {
		return nil, err
	}
	t.CreatedBy, t.LeadOwnerID, t.LeadName = str(by), str(owner), name
	if name == "" {
		t.LeadName = company
	}
	if done != nil {
		t.DoneAt = done.UTC()
	}
	t.DueAt, t.CreatedAt, t.UpdatedAt = t.DueAt.UTC(), t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return &t, nil
}

func optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func (db *DB) Task(ctx context.Context, id string) (*crm.Task, error) {
	if !crm.ValidID(id) {
		return nil, crm.NotFound("task")
	}
	t, err := scanTask(db.q.QueryRow(ctx, taskSelect+` WHERE t.id = $1`, id))
	if err != nil {
		return nil, classify("get task", err, "task")
	}
	return t, nil
}

func taskWhere(f crm.TaskFilter) *where {
	var w where
	if f.AssigneeID != "" {
		w.add("t.assignee_id = $", f.AssigneeID)
	}
	if f.LeadID != "" {
		w.add("t.lead_id = $", f.LeadID)
	}
	if !f.DueBefore.IsZero() {
		w.add("t.due_at < $", f.DueBefore)
	}
	if f.Done != nil {
		if *f.Done {
			w.conds = append(w.conds, "t.done_at IS NOT NULL")
		} else {
			w.conds = append(w.conds, "t.done_at IS NULL")
		}
	}
	return &w
}

func (db *DB) Tasks(ctx context.Context, f crm.TaskFilter) ([]*crm.Task, error) {
	if !crm.ValidID(f.AssigneeID) && f.AssigneeID != "" || !crm.ValidID(f.LeadID) && f.LeadID != "" {
		return []*crm.Task{}, nil
	}
	w := taskWhere(f)
	return collect(ctx, db, "list tasks", scanTask,
		taskSelect+w.sql()+` ORDER BY t.due_at, t.id LIMIT `+w.arg(limit(f.Limit)), w.args...)
}

func (db *DB) CountTasks(ctx context.Context, f crm.TaskFilter) (int, error) {
	if !crm.ValidID(f.AssigneeID) && f.AssigneeID != "" || !crm.ValidID(f.LeadID) && f.LeadID != "" {
		return 0, nil
	}
	w := taskWhere(f)
	var n int
	if err := db.q.QueryRow(ctx, `SELECT count(*) FROM tasks t`+w.sql(), w.args...).Scan(&n); err != nil {
		return 0, classify("count tasks", err, "")
	}
	return n, nil
}

func (t *tx) LockTask(ctx context.Context, id string) (*crm.Task, error) {
	if !crm.ValidID(id) {
		return nil, crm.NotFound("task")
	}
	q, err := t.conn(ctx)
	if err != nil {
		return nil, err
	}
	task, err := scanTask(q.QueryRow(ctx, `SELECT `+taskCols+`, NULL::uuid, '', '' FROM tasks t WHERE t.id = $1 FOR NO KEY UPDATE`, id))
	if err != nil {
		return nil, classify("lock task", err, "task")
	}
	return task, nil
}

func (t *tx) InsertTask(ctx context.Context, task *crm.Task) error {
	if err := checkIDs("assignee_id", task.ID, task.LeadID, task.AssigneeID, task.CreatedBy); err != nil {
		return err
	}
	t.write("insert task", "", `INSERT INTO tasks (id, lead_id, title, due_at, assignee_id, done_at, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, task.ID, task.LeadID, task.Title, task.DueAt, task.AssigneeID,
		optTime(task.DoneAt), nullID(task.CreatedBy), task.CreatedAt, task.UpdatedAt)
	return nil
}

func (t *tx) UpdateTask(ctx context.Context, task *crm.Task) error {
	if err := checkIDs("assignee_id", task.AssigneeID); err != nil {
		return err
	}
	if !crm.ValidID(task.ID) {
		return crm.NotFound("task")
	}
	t.write("update task", "task", `UPDATE tasks SET title = $2, due_at = $3, assignee_id = $4, done_at = $5, updated_at = $6
		WHERE id = $1`, task.ID, task.Title, task.DueAt, task.AssigneeID, optTime(task.DoneAt), task.UpdatedAt)
	return nil
}

func (t *tx) DeleteTask(ctx context.Context, id string) error {
	if !crm.ValidID(id) {
		return crm.NotFound("task")
	}
	t.write("delete task", "task", `DELETE FROM tasks WHERE id = $1`, id)
	return nil
}

func (t *tx) ReassignTasks(ctx context.Context, leadID, from, to string, at time.Time) error {
	if err := checkIDs("owner_id", leadID, from, to); err != nil {
		return err
	}
	t.write("reassign tasks", "", `UPDATE tasks SET assignee_id = $3, updated_at = $4
		WHERE lead_id = $1 AND assignee_id = $2 AND done_at IS NULL`, leadID, from, to, at)
	return nil
}

// ---- activities ----

const activityCols = `id, lead_id, kind, text, at, actor_id, created_at`

func (db *DB) Activities(ctx context.Context, leadID string, n int) ([]*crm.Activity, error) {
	if !crm.ValidID(leadID) {
		return []*crm.Activity{}, nil
	}
	return collect(ctx, db, "list activities", func(r pgx.Row) (*crm.Activity, error) {
		var a crm.Activity
		var actor *string
		if err := r.Scan(&a.ID, &a.LeadID, &a.Kind, &a.Text, &a.At, &actor, &a.CreatedAt); err != nil {
			return nil, err
		}
		a.ActorID, a.At, a.CreatedAt = str(actor), a.At.UTC(), a.CreatedAt.UTC()
		return &a, nil
	}, `SELECT `+activityCols+` FROM activities WHERE lead_id = $1 ORDER BY at DESC, id DESC LIMIT $2`, leadID, limit(n))
}

func (t *tx) InsertActivity(ctx context.Context, a *crm.Activity) error {
	if err := checkIDs("lead_id", a.ID, a.LeadID, a.ActorID); err != nil {
		return err
	}
	t.write("insert activity", "", `INSERT INTO activities (`+activityCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		a.ID, a.LeadID, string(a.Kind), a.Text, a.At, nullID(a.ActorID), a.CreatedAt)
	return nil
}

// ---- notifications ----

const notificationCols = `id, user_id, kind, lead_id, sale_id, task_id, subject, text, actor_id, created_at, read_at`

func scanNotification(r pgx.Row) (*crm.Notification, error) {
	var (
		n                       crm.Notification
		lead, sale, task, actor *string
		read                    *time.Time
	)
	if err := r.Scan(&n.ID, &n.UserID, &n.Kind, &lead, &sale, &task, &n.Subject, &n.Text, &actor, &n.Created, &read); err != nil {
		return nil, err
	}
	n.LeadID, n.SaleID, n.TaskID, n.ActorID, n.Created = str(lead), str(sale), str(task), str(actor), n.Created.UTC()
	if read != nil {
		n.ReadAt = read.UTC()
	}
	return &n, nil
}

func (db *DB) Notifications(ctx context.Context, userID string, f crm.NotificationFilter) ([]*crm.Notification, error) {
	if !crm.ValidID(userID) {
		return []*crm.Notification{}, nil
	}
	var w where
	w.add("user_id = $", userID)
	w.add("created_at >= $", f.Since)
	if f.UnreadOnly {
		w.conds = append(w.conds, "read_at IS NULL")
	}
	return collect(ctx, db, "list notifications", scanNotification,
		`SELECT `+notificationCols+` FROM notifications`+w.sql()+` ORDER BY id DESC LIMIT `+w.arg(limit(f.Limit)), w.args...)
}

func (db *DB) CountUnread(ctx context.Context, userID string, since time.Time) (int, error) {
	if !crm.ValidID(userID) {
		return 0, nil
	}
	var n int
	err := db.q.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL AND created_at >= $2`,
		userID, since).Scan(&n)
	if err != nil {
		return 0, classify("count unread", err, "")
	}
	return n, nil
}

func (db *DB) MarkRead(ctx context.Context, userID string, ids []string, at time.Time) error {
	if !crm.ValidID(userID) {
		return nil
	}
	var err error
	if ids == nil {
		_, err = db.q.Exec(ctx, `UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL`, userID, at)
	} else {
		_, err = db.q.Exec(ctx, `UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL
			AND id = ANY($3::uuid[])`, userID, at, ids)
	}
	return classify("mark read", err, "")
}

func (t *tx) InsertNotification(ctx context.Context, n *crm.Notification) error {
	if err := checkIDs("user_id", n.ID, n.UserID, n.LeadID, n.SaleID, n.TaskID, n.ActorID); err != nil {
		return err
	}
	t.write("prune notifications", "", `DELETE FROM notifications WHERE user_id = $1 AND created_at < $2`,
		n.UserID, n.Created.Add(-crm.NotificationRetention))
	t.write("insert notification", "", `INSERT INTO notifications (`+notificationCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, n.ID, n.UserID, n.Kind, nullID(n.LeadID),
		nullID(n.SaleID), nullID(n.TaskID), n.Subject, n.Text, nullID(n.ActorID), n.Created, optTime(n.ReadAt))
	return nil
}

// ---- saved filters ----

func (db *DB) SavedFilters(ctx context.Context, userID string) ([]*crm.SavedFilter, error) {
	if !crm.ValidID(userID) {
		return []*crm.SavedFilter{}, nil
	}
	return collect(ctx, db, "list saved filters", func(r pgx.Row) (*crm.SavedFilter, error) {
		var f crm.SavedFilter
		if err := r.Scan(&f.ID, &f.UserID, &f.Name, &f.Query, &f.CreatedAt); err != nil {
			return nil, err
		}
		f.CreatedAt = f.CreatedAt.UTC()
		return &f, nil
	}, `SELECT id, user_id, name, query, created_at FROM saved_filters WHERE user_id = $1 ORDER BY name COLLATE "C", id`, userID)
}

func (t *tx) InsertSavedFilter(ctx context.Context, f *crm.SavedFilter) error {
	if err := checkIDs("user_id", f.ID, f.UserID); err != nil {
		return err
	}
	t.write("insert saved filter", "", `INSERT INTO saved_filters (id, user_id, name, query, created_at)
		VALUES ($1, $2, $3, $4, $5)`, f.ID, f.UserID, f.Name, f.Query, f.CreatedAt)
	return nil
}

func (t *tx) DeleteSavedFilter(ctx context.Context, userID, id string) error {
	if !crm.ValidID(id) || !crm.ValidID(userID) {
		return crm.NotFound("filter")
	}
	t.write("delete saved filter", "filter", `DELETE FROM saved_filters WHERE id = $1 AND user_id = $2`, id, userID)
	return nil
}

// ---- boards ----

func ownerWhere(col, ownerID string) (*where, bool) {
	var w where
	if ownerID == "" {
		return &w, true
	}
	if !crm.ValidID(ownerID) {
		return &w, false
	}
	w.add(col+" = $", ownerID)
	return &w, true
}

// LeadCounts reads the summary the triggers of migration 00013 keep, summing
// its shards: no scan of leads.
func (db *DB) LeadCounts(ctx context.Context, ownerID string) ([]crm.LeadCount, error) {
	w, ok := ownerWhere("owner_id", ownerID)
	if !ok {
		return []crm.LeadCount{}, nil
	}
	return collect(ctx, db, "lead counts", func(r pgx.Row) (crm.LeadCount, error) {
		var c crm.LeadCount
		err := r.Scan(&c.Stage, &c.NoNextStep, &c.Count)
		return c, err
	}, `SELECT stage, no_next_step, sum(n)::bigint FROM lead_counts`+w.sql()+` GROUP BY 1, 2 HAVING sum(n) > 0`, w.args...)
}

// SaleTotals reads the summary of migration 00013. Its totals are numeric,
// which cannot overflow, and are read back as bigint: a total beyond 64 bits
// is an error, never a rounded figure.
func (db *DB) SaleTotals(ctx context.Context, ownerID string) ([]crm.SaleTotal, error) {
	w, ok := ownerWhere("owner_id", ownerID)
	if !ok {
		return []crm.SaleTotal{}, nil
	}
	return collect(ctx, db, "sale totals", func(r pgx.Row) (crm.SaleTotal, error) {
		var (
			t   crm.SaleTotal
			sum int64
		)
		err := r.Scan(&t.Stage, &t.Currency, &t.Count, &sum)
		t.Sum = crm.Amount(sum)
		return t, err
	}, `SELECT stage, currency, sum(n)::bigint, sum(total)::bigint FROM sale_totals`+w.sql()+
		` GROUP BY 1, 2 HAVING sum(n) > 0`, w.args...)
}

// SaleScores stays a query over the open sales: its groups are each lead's
// score and calibrated score, which change with every analysis and
// calibration, so a summary would be rewritten more often than read.
func (db *DB) SaleScores(ctx context.Context, ownerID string) ([]crm.SaleScore, error) {
	w, ok := ownerWhere("l.owner_id", ownerID)
	if !ok {
		return []crm.SaleScore{}, nil
	}
	w.conds = append(w.conds, "s.stage IN ('new', 'kyc', 'agreement')", "s.amount IS NOT NULL", "l.ai_score IS NOT NULL")
	return collect(ctx, db, "sale scores", func(r pgx.Row) (crm.SaleScore, error) {
		var (
			g   crm.SaleScore
			sum int64
		)
		err := r.Scan(&g.Currency, &g.Score, &g.Calibrated, &g.Count, &sum)
		g.Sum = crm.Amount(sum)
		return g, err
	}, `SELECT s.currency, l.ai_score, l.ai_score_calibrated, count(*), sum(s.amount)::bigint
		FROM sales s JOIN leads l ON l.id = s.lead_id`+w.sql()+` GROUP BY 1, 2, 3`, w.args...)
}

func (db *DB) LostReasons(ctx context.Context, ownerID string) ([]crm.ReasonCount, error) {
	w, ok := ownerWhere("owner_id", ownerID)
	if !ok {
		return []crm.ReasonCount{}, nil
	}
	w.conds = append(w.conds, "stage = 'lost'")
	return collect(ctx, db, "lost reasons", func(r pgx.Row) (crm.ReasonCount, error) {
		var c crm.ReasonCount
		err := r.Scan(&c.Reason, &c.Count)
		return c, err
	}, `SELECT lost_reason, count(*) FROM leads`+w.sql()+` GROUP BY 1 ORDER BY 2 DESC, lost_reason COLLATE "C"`, w.args...)
}
