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
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, as the store uses

	"github.com/crmleads/crm"
)

// sqliteDirect is the SQLite baseline: the pools of the sqlite store (one
// writer connection whose transactions BEGIN IMMEDIATE, a reader pool of
// max(4, GOMAXPROCS)), the same pragmas (sqlite/db.go), prepared statements.
type sqliteDirect struct {
	w, r *sql.DB

	mu     sync.Mutex
	wStmts map[string]*sql.Stmt
	rStmts map[string]*sql.Stmt
}

const sqliteTime = "2006-01-02T15:04:05.000000Z"

const (
	sqlLeadGet = `SELECT ` + leadCols + ` FROM leads WHERE id = ?`
	sqlLeadIns = `INSERT INTO leads (` + leadCols + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlLeadUpd = `UPDATE leads SET
	stage = ?, business_domain = ?, messages_count = ?, name = ?, email = ?, phone = ?, company = ?, note = ?, owner_id = ?,
	ai_score = ?, ai_recommendation = ?, ai_reason = ?, ai_analyzed_at = ?, ai_provider = ?, ai_model = ?, ai_prompt_version = ?,
	ai_source = ?, ai_stage = ?, ai_messages_count = ?, ai_has_business_domain = ?, updated_at = ?
	WHERE id = ?`
	sqlEventIns = `INSERT INTO events (` + eventCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

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
	for _, s := range []string{sqlLeadGet, sqlLeadIns, sqlLeadUpd, sqlEventIns} {
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

func sqlNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func sqliteLeadArgs(l *crm.Lead) []any {
	// A fresh lead has no analysis: the eleven ai_* columns are NULL.
	return []any{l.ID, string(l.Source), string(l.Stage), sqlNull(l.BusinessDomain), l.MessagesCount, l.Name,
		l.Email, l.Phone, l.Company, l.Note, sqlNull(l.OwnerID), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil,
		l.CreatedAt.Format(sqliteTime), l.UpdatedAt.Format(sqliteTime)}
}

func sqliteEventArgs(e *crm.Event) []any {
	return []any{e.ID, sqlNull(e.LeadID), sqlNull(e.SaleID), sqlNull(e.UserID), e.Action, e.From, e.To,
		sqlNull(e.ActorID), e.RequestID, nil, e.CreatedAt.Format(sqliteTime)}
}

// sqliteLead scans a lead row the way the store does (nullable columns and
// text times parsed).
func sqliteLead(r interface{ Scan(...any) error }) (*crm.Lead, error) {
	var (
		l                                     crm.Lead
		domain, owner                         sql.NullString
		score                                 sql.NullFloat64
		rec, reason, at, prov, model, pv, src sql.NullString
		stage                                 sql.NullString
		aiCount, aiHasDomain                  sql.NullInt64
		created, updated                      string
	)
	err := r.Scan(&l.ID, &l.Source, &l.Stage, &domain, &l.MessagesCount, &l.Name, &l.Email, &l.Phone, &l.Company,
		&l.Note, &owner, &score, &rec, &reason, &at, &prov, &model, &pv, &src, &stage, &aiCount, &aiHasDomain,
		&created, &updated)
	if err != nil {
		return nil, err
	}
	l.BusinessDomain, l.OwnerID = domain.String, owner.String
	if l.CreatedAt, err = parseSQLiteTime(created); err != nil {
		return nil, err
	}
	if l.UpdatedAt, err = parseSQLiteTime(updated); err != nil {
		return nil, err
	}
	return &l, nil
}

func (d *sqliteDirect) createLead(ctx context.Context, l *crm.Lead, e *crm.Event) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	ins := tx.StmtContext(ctx, d.wstmt(sqlLeadIns))
	defer ins.Close()
	if _, err := ins.ExecContext(ctx, sqliteLeadArgs(l)...); err != nil {
		return err
	}
	ev := tx.StmtContext(ctx, d.wstmt(sqlEventIns))
	defer ev.Close()
	if _, err := ev.ExecContext(ctx, sqliteEventArgs(e)...); err != nil {
		return err
	}
	return tx.Commit()
}

func (d *sqliteDirect) getLead(ctx context.Context, id string) error {
	s, err := d.stmt(ctx, false, sqlLeadGet)
	if err != nil {
		return err
	}
	_, err = sqliteLead(s.QueryRowContext(ctx, id))
	return err
}

func (d *sqliteDirect) moveLead(ctx context.Context, id string, to crm.LeadStage, actorID string) error {
	tx, err := d.w.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock is the row lock
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	get := tx.StmtContext(ctx, d.wstmt(sqlLeadGet))
	defer get.Close()
	l, err := sqliteLead(get.QueryRowContext(ctx, id))
	if err != nil {
		return err
	}
	if err := l.Stage.CheckMove(to); err != nil {
		return err
	}
	e := newEvent(crm.ActionLeadStage, l.ID, actorID, l.Stage, to)
	l.Stage, l.UpdatedAt = to, now()
	args := sqliteLeadArgs(l)
	upd := tx.StmtContext(ctx, d.wstmt(sqlLeadUpd))
	defer upd.Close()
	// UPDATE sets every mutable column (stage … ai_* … updated_at), as the store does.
	res, err := upd.ExecContext(ctx, append(append(args[2:22:22], args[23]), l.ID)...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("update lead: %d rows, %v", n, err)
	}
	ev := tx.StmtContext(ctx, d.wstmt(sqlEventIns))
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
	query := `SELECT ` + leadCols + ` FROM leads`
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
		if _, err := sqliteLead(rows); err != nil {
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
			ins = tx.StmtContext(ctx, d.wstmt(sqlLeadIns))
		}
		if _, err := ins.ExecContext(ctx, sqliteLeadArgs(l)...); err != nil {
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

func parseSQLiteTime(s string) (time.Time, error) { return time.Parse(sqliteTime, s) }
