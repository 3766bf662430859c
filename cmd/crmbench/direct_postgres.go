package main

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/pgsql"
)

// pgDirect is the PostgreSQL baseline: a pgx pool configured as the
// postgres store's (it is the store's own pool, from postgres.DB.Pool), with
// pgx's default statement cache, and the store's own statements, arguments
// and row scanning (internal/pgsql), so it cannot drift from the store.
type pgDirect struct{ pool *pgxpool.Pool }

func (d *pgDirect) close() {}

func (d *pgDirect) createLead(ctx context.Context, l *crm.Lead, e *crm.Event) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit
	if _, err := tx.Exec(ctx, pgsql.LeadInsert, pgsql.LeadArgs(l)...); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, pgsql.EventInsert, pgsql.EventArgs(e)...); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// pipelinedCreator is a baseline that can send a lead and its event in one
// round trip, as the PostgreSQL store does.
type pipelinedCreator interface {
	createLeadPipelined(ctx context.Context, l *crm.Lead, e *crm.Event) error
}

// createLeadPipelined sends both INSERTs as one batch: one pipeline ending in
// one Sync, which PostgreSQL runs as one implicit transaction.
func (d *pgDirect) createLeadPipelined(ctx context.Context, l *crm.Lead, e *crm.Event) error {
	b := &pgx.Batch{}
	b.Queue(pgsql.LeadInsert, pgsql.LeadArgs(l)...)
	b.Queue(pgsql.EventInsert, pgsql.EventArgs(e)...)
	return d.pool.SendBatch(ctx, b).Close()
}

func (d *pgDirect) getLead(ctx context.Context, id string) error {
	_, err := pgsql.ScanLead(d.pool.QueryRow(ctx, pgsql.LeadByID, id))
	return err
}

func (d *pgDirect) moveLead(ctx context.Context, id string, to crm.LeadStage, actorID string) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit
	l, err := pgsql.ScanLead(tx.QueryRow(ctx, pgsql.LeadByID+` FOR NO KEY UPDATE`, id))
	if err != nil {
		return err
	}
	if err := l.Stage.CheckMove(to); err != nil {
		return err
	}
	e := newEvent(crm.ActionLeadStage, l.ID, actorID, l.Stage, to)
	l.Stage, l.UpdatedAt = to, now()
	tag, err := tx.Exec(ctx, pgsql.LeadUpdate, pgsql.LeadUpdateArgs(l)...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("update lead: %d rows", tag.RowsAffected())
	}
	if _, err := tx.Exec(ctx, pgsql.EventInsert, pgsql.EventArgs(e)...); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (d *pgDirect) listLeads(ctx context.Context, f crm.LeadFilter) (int, error) {
	var (
		conds []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, cond+strconv.Itoa(len(args)))
	}
	if f.Stage != "" {
		add("stage = $", string(f.Stage))
	}
	if f.Source != "" {
		add("source = $", string(f.Source))
	}
	if f.After != "" {
		add("id < $", f.After)
	}
	query := pgsql.LeadSelect
	if len(conds) > 0 {
		query += ` WHERE ` + strings.Join(conds, " AND ")
	}
	args = append(args, f.Limit)
	query += ` ORDER BY id DESC LIMIT $` + strconv.Itoa(len(args))
	rows, err := d.pool.Query(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*crm.Lead, error) { return pgsql.ScanLead(r) })
	return len(out), err
}

func (d *pgDirect) insertLeads(ctx context.Context, leads iter.Seq[*crm.Lead]) error {
	cols := strings.Split(strings.NewReplacer("\n", "", "\t", "", " ", "").Replace(pgsql.LeadWriteCols), ",")
	next, stop := iter.Pull(leads)
	defer stop()
	_, err := d.pool.CopyFrom(ctx, pgx.Identifier{"leads"}, cols, pgx.CopyFromFunc(func() ([]any, error) {
		l, ok := next()
		if !ok {
			return nil, nil
		}
		return pgsql.LeadArgs(l), nil
	}))
	if err != nil {
		return err
	}
	_, err = d.pool.Exec(ctx, `ANALYZE leads`)
	return err
}

func (d *pgDirect) leadIDAt(ctx context.Context, offset int) (string, error) {
	var id string
	err := d.pool.QueryRow(ctx, `SELECT id::text FROM leads ORDER BY id DESC LIMIT 1 OFFSET $1`, offset).Scan(&id)
	return id, err
}

func (d *pgDirect) countLeads(ctx context.Context) (int, error) {
	var n int
	err := d.pool.QueryRow(ctx, `SELECT count(*) FROM leads`).Scan(&n)
	return n, err
}

func (d *pgDirect) sampleEmails(ctx context.Context, n int) ([]string, error) {
	rows, err := d.pool.Query(ctx, `SELECT email FROM leads WHERE email <> '' ORDER BY random() LIMIT $1`, n)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (d *pgDirect) countEmailMatches(ctx context.Context, frags []string) (map[string]int, error) {
	out := map[string]int{}
	for _, f := range frags {
		var n int
		if err := d.pool.QueryRow(ctx, `SELECT count(*) FROM leads WHERE strpos(email, $1) > 0`, f).Scan(&n); err != nil {
			return nil, err
		}
		out[f] = n
	}
	return out, nil
}

func (d *pgDirect) boardGroupBy(ctx context.Context) error {
	for _, q := range []string{
		`SELECT stage, open_tasks = 0 AND stage IN ('new', 'contacted', 'qualified'), count(*) FROM leads GROUP BY 1, 2`,
		`SELECT s.stage, s.currency, count(*), coalesce(sum(s.amount), 0)::bigint FROM sales s JOIN leads l ON l.id = s.lead_id GROUP BY 1, 2`,
	} {
		rows, err := d.pool.Query(ctx, q)
		if err != nil {
			return err
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}
