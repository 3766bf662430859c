package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"runtime"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, as the store uses

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/sqlitesql"
)

// sqliteDirect is the SQLite baseline: the pools of the sqlite store (one
// writer connection whose transactions BEGIN IMMEDIATE, a reader pool of
// max(4, GOMAXPROCS)), the same pragmas (sqlite/db.go), and the store's own
// prepared statements, arguments and row scanning (internal/sqlitesql).
type sqliteDirect struct {
	w, r *sql.DB

	mu     sync.Mutex
	wStmts map[string]*sql.Stmt
	rStmts map[string]*sql.Stmt
}

func openSQLiteDirect(ctx context.Context, path string) (*sqliteDirect, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	wq := url.Values{}
	for k, v := range q {
		wq[k] = append([]string(nil), v...)
	}
	wq.Set("_txlock", "immediate")
	d := &sqliteDirect{wStmts: map[string]*sql.Stmt{}, rStmts: map[string]*sql.Stmt{}}
	var err error
	if d.w, err = sql.Open("sqlite", base+"?"+wq.Encode()); err != nil {
		return nil, err
	}
	d.w.SetMaxOpenConns(1)
	d.w.SetMaxIdleConns(1)
	q.Add("_pragma", "query_only(1)")
	if d.r, err = sql.Open("sqlite", base+"?"+q.Encode()); err != nil {
		d.w.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	d.r.SetMaxOpenConns(n)
	d.r.SetMaxIdleConns(n)
	if err := errors.Join(d.w.PingContext(ctx), d.r.PingContext(ctx)); err != nil {
		d.close()
		return nil, err
	}
	// Prepare the writer's statements now: inside a transaction the only
	// writer connection is taken (the store prepares them ahead too).
	for _, s := range []string{sqlitesql.LeadByID, sqlitesql.LeadInsert, sqlitesql.LeadUpdate, sqlitesql.EventInsert} {
		if _, err := d.stmt(ctx, true, s); err != nil {
			d.close()
			return nil, err
		}
	}
	return d, nil
}

func (d *sqliteDirect) close() {
	d.r.Close()
	d.w.Close()
}

func (d *sqliteDirect) stmt(ctx context.Context, writer bool, query string) (*sql.Stmt, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m, pool := d.rStmts, d.r
	if writer {
		m, pool = d.wStmts, d.w
	}
	if s, ok := m[query]; ok {
		return s, nil
	}
	s, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	m[query] = s
	return s, nil
}

func (d *sqliteDirect) wstmt(query string) *sql.Stmt {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.wStmts[query]
}

// sqliteEventArgs are the store's event arguments; the benchmark's events
// carry no data, so they cannot fail to encode.
func sqliteEventArgs(e *crm.Event) []any {
	args, _ := sqlitesql.EventArgs(e)
	return args
}

func (d *sqliteDirect) createLead(ctx context.Context, l *crm.Lead, e *crm.Event) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	ins := tx.StmtContext(ctx, d.wstmt(sqlitesql.LeadInsert))
	defer ins.Close()
	if _, err := ins.ExecContext(ctx, sqlitesql.LeadInsertArgs(l)...); err != nil {
		return err
	}
	ev := tx.StmtContext(ctx, d.wstmt(sqlitesql.EventInsert))
	defer ev.Close()
	if _, err := ev.ExecContext(ctx, sqliteEventArgs(e)...); err != nil {
		return err
	}
	return tx.Commit()
}

func (d *sqliteDirect) getLead(ctx context.Context, id string) error {
	s, err := d.stmt(ctx, false, sqlitesql.LeadByID)
	if err != nil {
		return err
	}
	_, err = sqlitesql.ScanLead(s.QueryRowContext(ctx, id))
	return err
}

func (d *sqliteDirect) moveLead(ctx context.Context, id string, to crm.LeadStage, actorID string) error {
	tx, err := d.w.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock is the row lock
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	get := tx.StmtContext(ctx, d.wstmt(sqlitesql.LeadByID))
	defer get.Close()
	l, err := sqlitesql.ScanLead(get.QueryRowContext(ctx, id))
	if err != nil {
		return err
	}
	if err := l.Stage.CheckMove(to); err != nil {
		return err
	}
	e := newEvent(crm.ActionLeadStage, l.ID, actorID, l.Stage, to)
	l.Stage, l.UpdatedAt = to, now()
	upd := tx.StmtContext(ctx, d.wstmt(sqlitesql.LeadUpdate))
	defer upd.Close()
	// UPDATE sets every mutable column (stage … ai_* … updated_at), as the store does.
	res, err := upd.ExecContext(ctx, sqlitesql.LeadUpdateArgs(l)...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("update lead: %d rows, %v", n, err)
	}
	ev := tx.StmtContext(ctx, d.wstmt(sqlitesql.EventInsert))
	defer ev.Close()
	if _, err := ev.ExecContext(ctx, sqliteEventArgs(e)...); err != nil {
		return err
	}
	return tx.Commit()
}

func (d *sqliteDirect) listLeads(ctx context.Context, f crm.LeadFilter) (int, error) {
	var (
		where []string
		args  []any
	)
	if f.Stage != "" {
		where, args = append(where, "stage = ?"), append(args, string(f.Stage))
	}
	if f.Source != "" {
		where, args = append(where, "source = ?"), append(args, string(f.Source))
	}
	if f.After != "" {
		where, args = append(where, "id < ?"), append(args, f.After)
	}
	query := sqlitesql.LeadSelect
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	s, err := d.stmt(ctx, false, query)
	if err != nil {
		return 0, err
	}
	rows, err := s.QueryContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if _, err := sqlitesql.ScanLead(rows); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

func (d *sqliteDirect) insertLeads(ctx context.Context, leads iter.Seq[*crm.Lead]) error {
	const batch = 5000
	var (
		tx  *sql.Tx
		ins *sql.Stmt
		n   int
	)
	for l := range leads {
		if tx == nil {
			var err error
			if tx, err = d.w.BeginTx(ctx, nil); err != nil {
				return err
			}
			ins = tx.StmtContext(ctx, d.wstmt(sqlitesql.LeadInsert))
		}
		if _, err := ins.ExecContext(ctx, sqlitesql.LeadInsertArgs(l)...); err != nil {
			tx.Rollback() //nolint:errcheck // already failing
			return err
		}
		if n++; n%batch == 0 {
			if err := tx.Commit(); err != nil {
				return err
			}
			tx = nil
		}
	}
	if tx != nil {
		return tx.Commit()
	}
	return nil
}

func (d *sqliteDirect) leadIDAt(ctx context.Context, offset int) (string, error) {
	var id string
	err := d.r.QueryRowContext(ctx, `SELECT id FROM leads ORDER BY id DESC LIMIT 1 OFFSET ?`, offset).Scan(&id)
	return id, err
}

func (d *sqliteDirect) countLeads(ctx context.Context) (int, error) {
	var n int
	err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM leads`).Scan(&n)
	return n, err
}

func (d *sqliteDirect) sampleEmails(ctx context.Context, n int) ([]string, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT email FROM leads WHERE email <> '' ORDER BY random() LIMIT ?`, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (d *sqliteDirect) countEmailMatches(ctx context.Context, frags []string) (map[string]int, error) {
	out := map[string]int{}
	for _, f := range frags {
		var n int
		if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM leads WHERE instr(email, ?) > 0`, f).Scan(&n); err != nil {
			return nil, err
		}
		out[f] = n
	}
	return out, nil
}

func (d *sqliteDirect) boardGroupBy(ctx context.Context) error {
	for _, q := range []string{
		`SELECT stage, open_tasks = 0 AND stage IN ('new', 'contacted', 'qualified'), count(*) FROM leads GROUP BY 1, 2`,
		`SELECT s.stage, s.currency, count(*), coalesce(sum(s.amount), 0) FROM sales s JOIN leads l ON l.id = s.lead_id GROUP BY 1, 2`,
	} {
		rows, err := d.r.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}
