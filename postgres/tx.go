package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/riverjobs"
)

// tx is the crm.Tx of InTx. It defers its writes: they are queued and sent
// together, in one round trip, before the transaction's next read or at its
// end. A transaction that only inserts (creating a lead and its event, logging
// a failed analysis) then costs a single round trip: the queue goes as one
// pipeline ending in one Sync, which PostgreSQL runs as one implicit
// transaction — all of it or none of it. A transaction that reads first (every
// change of an existing row, which locks it) begins a real transaction at
// that read. Errors of queued statements surface from the flush, so InTx
// still returns them and commits nothing.
type tx struct {
	pool  *pgxpool.Pool
	send  sender // the pool, folding the request's actor check
	jobs  *river.Client[pgx.Tx]
	q     pgx.Tx // nil until the first read, or a queued update, needs it
	queue []queued
}

// queued is one deferred write.
type queued struct {
	op   string // for the error's prefix
	what string // "lead", "sale", …: an update that touched no row is not found
	sql  string
	args []any
}

var _ crm.Tx = (*tx)(nil)

// InTx runs fn in a read-committed transaction; rows locked with Lock* stay
// locked until it ends.
func (db *DB) InTx(ctx context.Context, fn func(crm.Tx) error) error {
	t := &tx{pool: db.pool, send: db.q, jobs: db.jobs}
	// Rollback after Commit is a no-op; it releases the connection on every
	// error path (and on a panic in fn).
	defer func() {
		if t.q != nil {
			_ = t.q.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	return t.commit(ctx)
}

// write queues a statement; what names the row an UPDATE must find.
func (t *tx) write(op, what, sql string, args ...any) {
	t.queue = append(t.queue, queued{op: op, what: what, sql: sql, args: args})
}

// conn returns the real transaction, beginning it and sending the queue first.
func (t *tx) conn(ctx context.Context) (pgx.Tx, error) {
	if t.q == nil {
		q, err := t.pool.Begin(ctx)
		if err != nil {
			return nil, classify("begin", err, "")
		}
		t.q = newFoldingTx(q)
	}
	if err := t.flush(ctx, t.q); err != nil {
		return nil, err
	}
	return t.q, nil
}

// flush sends the queue as one batch and checks each result.
func (t *tx) flush(ctx context.Context, s interface {
	SendBatch(context.Context, *pgx.Batch) pgx.BatchResults
}) error {
	if len(t.queue) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, w := range t.queue {
		b.Queue(w.sql, w.args...)
	}
	queue := t.queue
	t.queue = nil
	res := s.SendBatch(ctx, b)
	for _, w := range queue {
		tag, err := res.Exec()
		if err != nil {
			_ = res.Close()
			return classify(w.op, err, "")
		}
		if w.what != "" && tag.RowsAffected() == 0 {
			_ = res.Close()
			return crm.NotFound(w.what)
		}
	}
	return classify("flush", res.Close(), "")
}

func (t *tx) commit(ctx context.Context) error {
	if t.q == nil {
		// Only inserts were queued: one implicit transaction. An UPDATE that
		// may find no row needs the real one, to roll back on not-found.
		for _, w := range t.queue {
			if w.what != "" {
				if _, err := t.conn(ctx); err != nil {
					return err
				}
				break
			}
		}
	}
	if t.q == nil {
		return t.flush(ctx, t.send)
	}
	if err := t.flush(ctx, t.q); err != nil {
		return err
	}
	return classify("commit", t.q.Commit(ctx), "")
}

// Enqueue inserts the jobs with River's InsertManyTx on the real transaction.
// Unlike the other writes it cannot join the queue: River runs its own
// statements on a pgx.Tx. So it begins the transaction (sending the queued
// writes first, in order) and inserts at once. An insert-only transaction
// that enqueues therefore costs a real BEGIN…COMMIT instead of one implicit
// transaction, and keeps its atomicity: a later write that fails, or fn
// returning an error, rolls the jobs back with the rest.
func (t *tx) Enqueue(ctx context.Context, jobs ...crm.JobArgs) error {
	if len(jobs) == 0 {
		return nil
	}
	q, err := t.conn(ctx)
	if err != nil {
		return err
	}
	params := riverjobs.InsertParams(jobs)
	if _, err := t.jobs.InsertManyTx(ctx, q, params); err != nil {
		return classify("enqueue", err, "")
	}
	return nil
}
