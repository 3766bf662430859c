package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmleads/crm"
)

// The request's actor check (crm.ActorClaim) rides on its first statement:
// one more statement at the head of the same pipeline, so authenticating a
// request costs no round trip of its own. crm_check_actor (migration 00010)
// raises when the user is gone, inactive, at another token version or in
// another role; in a pipeline that aborts everything queued after it (an
// implicit transaction, or the real one it runs in), so nothing of a request
// with a failed check is committed.
const checkActorSQL = `SELECT crm_check_actor($1, $2, $3)`

// The SQLSTATEs crm_check_actor raises.
const (
	codeInactive    = "CRMA1"
	codeTokenEnded  = "CRMA2"
	codeRoleChanged = "CRMA3"
)

var _ crm.ActorChecker = (*DB)(nil)

// CheckActor runs the actor check alone (one round trip).
func (db *DB) CheckActor(ctx context.Context, c crm.ActorClaim) error {
	_, err := db.pool.Exec(ctx, checkActorSQL, c.UserID, c.Version, string(c.Role))
	return checkError(err)
}

// checkError maps the check's error to the domain's.
func checkError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeInactive:
			return crm.Inactive()
		case codeTokenEnded:
			return crm.TokenEnded()
		case codeRoleChanged:
			return crm.RoleChanged()
		}
	}
	return classify("check actor", err, "")
}

// sender is what the pool and a transaction have to send a pipeline.
type sender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// sendFolded sends b, with the request's pending actor check at its head if
// there is one; the check's result is read here, so the caller reads b's
// results as if sent alone.
func sendFolded(ctx context.Context, s sender, b *pgx.Batch) pgx.BatchResults {
	claim, settle, pending, failed := crm.PendingActorCheck(ctx)
	if failed != nil {
		return errResults{failed}
	}
	if !pending {
		return s.SendBatch(ctx, b)
	}
	fb := &pgx.Batch{}
	fb.Queue(checkActorSQL, claim.UserID, claim.Version, string(claim.Role))
	fb.QueuedQueries = append(fb.QueuedQueries, b.QueuedQueries...)
	res := s.SendBatch(ctx, fb)
	_, err := res.Exec()
	if err != nil {
		err = checkError(err)
		settle(err)
		_ = res.Close()
		return errResults{err}
	}
	settle(nil)
	return res
}

// folding is a pool or a transaction whose statements carry the request's
// pending actor check. Without one pending it is the plain thing.
type folding struct {
	q interface {
		sender
		querier
	}
}

func foldingNeeded(ctx context.Context) (bool, error) {
	_, _, pending, failed := crm.PendingActorCheck(ctx)
	return pending, failed
}

func (f folding) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return sendFolded(ctx, f.q, b)
}

func (f folding) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	pending, failed := foldingNeeded(ctx)
	if failed != nil {
		return pgconn.CommandTag{}, failed
	}
	if !pending {
		return f.q.Exec(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	res := sendFolded(ctx, f.q, b)
	tag, err := res.Exec()
	if cerr := res.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (f folding) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	pending, failed := foldingNeeded(ctx)
	if failed != nil {
		return nil, failed
	}
	if !pending {
		return f.q.Query(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	res := sendFolded(ctx, f.q, b)
	rows, err := res.Query()
	if err != nil {
		_ = res.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, res: res}, nil
}

func (f folding) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	pending, failed := foldingNeeded(ctx)
	if failed != nil {
		return errRow{failed}
	}
	if !pending {
		return f.q.QueryRow(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	res := sendFolded(ctx, f.q, b)
	return batchRow{row: res.QueryRow(), res: res}
}

// foldingTx is a transaction whose statements carry the pending check.
type foldingTx struct {
	pgx.Tx
	f folding
}

func newFoldingTx(t pgx.Tx) foldingTx { return foldingTx{Tx: t, f: folding{q: t}} }

func (t foldingTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.f.SendBatch(ctx, b)
}
func (t foldingTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.f.Exec(ctx, sql, args...)
}
func (t foldingTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.f.Query(ctx, sql, args...)
}
func (t foldingTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.f.QueryRow(ctx, sql, args...)
}

// batchRows closes its pipeline with the rows.
type batchRows struct {
	pgx.Rows
	res pgx.BatchResults
}

func (r *batchRows) Close() {
	r.Rows.Close()
	_ = r.res.Close()
}

// batchRow closes its pipeline once scanned.
type batchRow struct {
	row pgx.Row
	res pgx.BatchResults
}

func (r batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.res.Close(); err == nil {
		err = cerr
	}
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// errResults answers every result of a pipeline that was not sent.
type errResults struct{ err error }

func (r errResults) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, r.err }
func (r errResults) Query() (pgx.Rows, error)         { return nil, r.err }
func (r errResults) QueryRow() pgx.Row                { return errRow(r) }
func (r errResults) Close() error                     { return r.err }
func (r errResults) Tx() pgx.Tx                       { return nil }
