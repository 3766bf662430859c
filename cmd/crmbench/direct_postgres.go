package main

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmleads/crm"
)

// pgDirect is the PostgreSQL baseline: a pgx pool configured as the
// postgres store's (it is the store's own pool, from postgres.DB.Pool), with
// pgx's default statement cache, and the store's statement texts.
type pgDirect struct{ pool *pgxpool.Pool }

const (
	pgLeadGet = `SELECT ` + leadCols + ` FROM leads WHERE id = $1`
	pgLeadIns = `INSERT INTO leads (` + leadCols + `) VALUES
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)`
	pgLeadUpd = `UPDATE leads SET stage = $2, business_domain = $3, messages_count = $4,
		name = $5, email = $6, phone = $7, company = $8, note = $9, owner_id = $10,
		ai_score = $11, ai_recommendation = $12, ai_reason = $13, ai_analyzed_at = $14, ai_provider = $15,
		ai_model = $16, ai_prompt_version = $17, ai_source = $18, ai_stage = $19, ai_messages_count = $20,
		ai_has_business_domain = $21, updated_at = $22
		WHERE id = $1`
	pgEventIns = `INSERT INTO events (` + eventCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`
)

func pgLeadArgs(l *crm.Lead) []any {
	return []any{l.ID, string(l.Source), string(l.Stage), sqlNull(l.BusinessDomain), l.MessagesCount, l.Name,
		l.Email, l.Phone, l.Company, l.Note, sqlNull(l.OwnerID), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil,
		l.CreatedAt, l.UpdatedAt}
}

func pgEventArgs(e *crm.Event) []any {
	return []any{e.ID, sqlNull(e.LeadID), sqlNull(e.SaleID), sqlNull(e.UserID), e.Action, e.From, e.To,
		sqlNull(e.ActorID), e.RequestID, nil, e.CreatedAt}
}

// pgLead scans a lead row the way the store does.
func pgLead(row pgx.Row) (*crm.Lead, error) {
	var (
		l                                crm.Lead
		domain, owner                    *string
		score                            *float64
		rec, reason, prov, model, prompt *string
		analyzedAt                       *time.Time
		aiSource, aiStage                *string
		aiMessages                       *int
		aiHasDomain                      *bool
	)
	err := row.Scan(&l.ID, &l.Source, &l.Stage, &domain, &l.MessagesCount, &l.Name, &l.Email, &l.Phone,
		&l.Company, &l.Note, &owner, &score, &rec, &reason, &analyzedAt, &prov, &model, &prompt,
		&aiSource, &aiStage, &aiMessages, &aiHasDomain, &l.CreatedAt, &l.UpdatedAt)
	if err != nil {
		return nil, err
	}
	if domain != nil {
		l.BusinessDomain = *domain
	}
	if owner != nil {
		l.OwnerID = *owner
	}
	return &l, nil
}

func (d *pgDirect) close() {}

func (d *pgDirect) createLead(ctx context.Context, l *crm.Lead, e *crm.Event) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit
	if _, err := tx.Exec(ctx, pgLeadIns, pgLeadArgs(l)...); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, pgEventIns, pgEventArgs(e)...); err != nil {
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
	b.Queue(pgLeadIns, pgLeadArgs(l)...)
	b.Queue(pgEventIns, pgEventArgs(e)...)
	return d.pool.SendBatch(ctx, b).Close()
}

func (d *pgDirect) getLead(ctx context.Context, id string) error {
	_, err := pgLead(d.pool.QueryRow(ctx, pgLeadGet, id))
	return err
}

func (d *pgDirect) moveLead(ctx context.Context, id string, to crm.LeadStage, actorID string) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit
	l, err := pgLead(tx.QueryRow(ctx, pgLeadGet+` FOR NO KEY UPDATE`, id))
	if err != nil {
		return err
	}
	if err := l.Stage.CheckMove(to); err != nil {
		return err
	}
	e := newEvent(crm.ActionLeadStage, l.ID, actorID, l.Stage, to)
	l.Stage, l.UpdatedAt = to, now()
	args := pgLeadArgs(l)
	tag, err := tx.Exec(ctx, pgLeadUpd, append(append([]any{args[0]}, args[2:22]...), l.UpdatedAt)...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("update lead: %d rows", tag.RowsAffected())
	}
	if _, err := tx.Exec(ctx, pgEventIns, pgEventArgs(e)...); err != nil {
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
	query := `SELECT ` + leadCols + ` FROM leads`
	if len(conds) > 0 {
		query += ` WHERE ` + strings.Join(conds, " AND ")
	}
	args = append(args, f.Limit)
	query += ` ORDER BY id DESC LIMIT $` + strconv.Itoa(len(args))
	rows, err := d.pool.Query(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*crm.Lead, error) { return pgLead(r) })
	return len(out), err
}

func (d *pgDirect) insertLeads(ctx context.Context, leads iter.Seq[*crm.Lead]) error {
	cols := strings.Split(strings.NewReplacer("\n", "", "\t", "", " ", "").Replace(leadCols), ",")
	next, stop := iter.Pull(leads)
	defer stop()
	_, err := d.pool.CopyFrom(ctx, pgx.Identifier{"leads"}, cols, pgx.CopyFromFunc(func() ([]any, error) {
		l, ok := next()
		if !ok {
			return nil, nil
		}
		return pgLeadArgs(l), nil
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
