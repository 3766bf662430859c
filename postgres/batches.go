package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmleads/crm"
)

// ---- batch re-analyses ----

const batchCols = `id, status, stage, source, owner_id, max_leads, created_by, provider_id, total, done, failed,
	error, created_at, finished_at`

const itemCols = `batch_id, key, lead_id, facts, status, analysis_id`

func scanBatch(row pgx.Row) (*crm.AIBatch, error) {
	var (
		b             crm.AIBatch
		owner, by     *string
		fin           *time.Time
		stage, source string
	)
	if err := row.Scan(&b.ID, &b.Status, &stage, &source, &owner, &b.Input.Limit, &by, &b.ProviderID, &b.Total,
		&b.Done, &b.Failed, &b.Error, &b.CreatedAt, &fin); err != nil {
		return nil, err
	}
	b.Input.Stage, b.Input.Source, b.Input.OwnerID, b.CreatedBy = crm.LeadStage(stage), crm.Source(source), str(owner), str(by)
	b.CreatedAt, b.FinishedAt = b.CreatedAt.UTC(), timeOf(fin)
	return &b, nil
}

func scanItem(row pgx.Row) (*crm.AIBatchItem, error) {
	var (
		it       crm.AIBatchItem
		analysis *string
	)
	if err := row.Scan(&it.BatchID, &it.Key, &it.LeadID, &it.Facts, &it.Status, &analysis); err != nil {
		return nil, err
	}
	it.AnalysisID = str(analysis)
	return &it, nil
}

func getBatch(ctx context.Context, q querier, id, suffix string) (*crm.AIBatch, error) {
	if !crm.ValidID(id) {
		return nil, crm.NotFound("batch")
	}
	b, err := scanBatch(q.QueryRow(ctx, `SELECT `+batchCols+` FROM ai_batches WHERE id = $1`+suffix, id))
	if err != nil {
		return nil, classify("get batch", err, "batch")
	}
	return b, nil
}

// AIBatch returns a batch.
func (db *DB) AIBatch(ctx context.Context, id string) (*crm.AIBatch, error) {
	return getBatch(ctx, db.q, id, "")
}

// AIBatches returns up to limit batches, newest first.
func (db *DB) AIBatches(ctx context.Context, n int) ([]*crm.AIBatch, error) {
	rows, err := db.q.Query(ctx, `SELECT `+batchCols+` FROM ai_batches ORDER BY id DESC LIMIT $1`, limit(n))
	if err != nil {
		return nil, classify("list batches", err, "")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*crm.AIBatch, error) { return scanBatch(r) })
	if err != nil {
		return nil, classify("list batches", err, "")
	}
	if out == nil {
		out = []*crm.AIBatch{}
	}
	return out, nil
}

// AIBatchItems returns a batch's items.
func (db *DB) AIBatchItems(ctx context.Context, batchID string) ([]*crm.AIBatchItem, error) {
	if !crm.ValidID(batchID) {
		return nil, nil
	}
	rows, err := db.q.Query(ctx, `SELECT `+itemCols+` FROM ai_batch_items WHERE batch_id = $1`, batchID)
	if err != nil {
		return nil, classify("list batch items", err, "")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*crm.AIBatchItem, error) { return scanItem(r) })
	if err != nil {
		return nil, classify("list batch items", err, "")
	}
	return out, nil
}

func (t *tx) InsertAIBatch(ctx context.Context, b *crm.AIBatch) error {
	if err := checkIDs("id", b.ID, b.CreatedBy, b.Input.OwnerID); err != nil {
		return err
	}
	t.write("insert batch", "", `INSERT INTO ai_batches (`+batchCols+`) VALUES
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, b.ID, b.Status, string(b.Input.Stage),
		string(b.Input.Source), nullID(b.Input.OwnerID), b.Input.Limit, nullID(b.CreatedBy), b.ProviderID, b.Total,
		b.Done, b.Failed, b.Error, b.CreatedAt, nullTime(b.FinishedAt))
	return nil
}

func (t *tx) LockAIBatch(ctx context.Context, id string) (*crm.AIBatch, error) {
	q, err := t.conn(ctx)
	if err != nil {
		return nil, err
	}
	return getBatch(ctx, q, id, " FOR NO KEY UPDATE")
}

func (t *tx) UpdateAIBatch(ctx context.Context, b *crm.AIBatch) error {
	if !crm.ValidID(b.ID) {
		return crm.NotFound("batch")
	}
	t.write("update batch", "batch", `UPDATE ai_batches SET status = $2, provider_id = $3, total = $4, done = $5,
		failed = $6, error = $7, finished_at = $8 WHERE id = $1`, b.ID, b.Status, b.ProviderID, b.Total, b.Done,
		b.Failed, b.Error, nullTime(b.FinishedAt))
	return nil
}

func (t *tx) InsertAIBatchItems(ctx context.Context, items []*crm.AIBatchItem) error {
	for _, it := range items {
		if err := checkIDs("id", it.BatchID, it.LeadID, it.AnalysisID); err != nil {
			return err
		}
		t.write("insert batch item", "", `INSERT INTO ai_batch_items (`+itemCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			it.BatchID, it.Key, it.LeadID, it.Facts, it.Status, nullID(it.AnalysisID))
	}
	return nil
}

func (t *tx) LockAIBatchItem(ctx context.Context, batchID, key string) (*crm.AIBatchItem, error) {
	if !crm.ValidID(batchID) {
		return nil, crm.NotFound("batch item")
	}
	q, err := t.conn(ctx)
	if err != nil {
		return nil, err
	}
	it, err := scanItem(q.QueryRow(ctx, `SELECT `+itemCols+` FROM ai_batch_items WHERE batch_id = $1 AND key = $2
		FOR NO KEY UPDATE`, batchID, key))
	if err != nil {
		return nil, classify("lock batch item", err, "batch item")
	}
	return it, nil
}

func (t *tx) UpdateAIBatchItem(ctx context.Context, it *crm.AIBatchItem) error {
	if err := checkIDs("id", it.BatchID, it.AnalysisID); err != nil {
		return err
	}
	t.write("update batch item", "batch item", `UPDATE ai_batch_items SET status = $3, analysis_id = $4
		WHERE batch_id = $1 AND key = $2`, it.BatchID, it.Key, it.Status, nullID(it.AnalysisID))
	return nil
}
