package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/crmleads/crm"
)

// ---- batch re-analyses ----

const batchCols = `id, status, stage, source, owner_id, max_leads, created_by, provider_id, total, done, failed,
	error, created_at, finished_at`

const (
	qBatch    = `SELECT ` + batchCols + ` FROM ai_batches WHERE id = ?`
	qBatches  = `SELECT ` + batchCols + ` FROM ai_batches ORDER BY id DESC LIMIT ?`
	qBatchIns = `INSERT INTO ai_batches (` + batchCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qBatchUpd = `UPDATE ai_batches SET status = ?, provider_id = ?, total = ?, done = ?, failed = ?, error = ?,
		finished_at = ? WHERE id = ?`
	itemCols   = `batch_id, key, lead_id, facts, status, analysis_id`
	qItems     = `SELECT ` + itemCols + ` FROM ai_batch_items WHERE batch_id = ?`
	qItem      = `SELECT ` + itemCols + ` FROM ai_batch_items WHERE batch_id = ? AND key = ?`
	qItemIns   = `INSERT INTO ai_batch_items (` + itemCols + `) VALUES (?, ?, ?, ?, ?, ?)`
	qItemUpd   = `UPDATE ai_batch_items SET status = ?, analysis_id = ? WHERE batch_id = ? AND key = ?`
	batchNoun  = "batch"
	itemNoun   = "batch item"
	batchesCap = 10000
)

func scanBatch(r scanner) (*crm.AIBatch, error) {
	var (
		b              crm.AIBatch
		owner, by, fin sql.NullString
		created        string
		stage, source  string
	)
	if err := r.Scan(&b.ID, &b.Status, &stage, &source, &owner, &b.Input.Limit, &by, &b.ProviderID, &b.Total,
		&b.Done, &b.Failed, &b.Error, &created, &fin); err != nil {
		return nil, err
	}
	b.Input.Stage, b.Input.Source, b.Input.OwnerID, b.CreatedBy = crm.LeadStage(stage), crm.Source(source), owner.String, by.String
	var err error
	if b.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if b.FinishedAt, err = parseNullTime(fin); err != nil {
		return nil, err
	}
	return &b, nil
}

func scanItem(r scanner) (*crm.AIBatchItem, error) {
	var (
		it       crm.AIBatchItem
		facts    string
		analysis sql.NullString
	)
	if err := r.Scan(&it.BatchID, &it.Key, &it.LeadID, &facts, &it.Status, &analysis); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(facts), &it.Facts); err != nil {
		return nil, fmt.Errorf("bad stored facts: %w", err)
	}
	it.AnalysisID = analysis.String
	return &it, nil
}

// AIBatch returns a batch.
func (db *DB) AIBatch(ctx context.Context, id string) (*crm.AIBatch, error) {
	row, err := db.queryRow(ctx, qBatch, id)
	if err != nil {
		return nil, mapErr("get batch", batchNoun, err)
	}
	b, err := scanBatch(row)
	return b, mapErr("get batch", batchNoun, err)
}

// AIBatches returns up to limit batches, newest first.
func (db *DB) AIBatches(ctx context.Context, limit int) ([]*crm.AIBatch, error) {
	if limit <= 0 || limit > batchesCap {
		limit = batchesCap
	}
	out, err := queryAll(ctx, db, "list batches", scanBatch, qBatches, limit)
	if out == nil && err == nil {
		out = []*crm.AIBatch{}
	}
	return out, err
}

// AIBatchItems returns a batch's items.
func (db *DB) AIBatchItems(ctx context.Context, batchID string) ([]*crm.AIBatchItem, error) {
	return queryAll(ctx, db, "list batch items", scanItem, qItems, batchID)
}

func (t *tx) InsertAIBatch(ctx context.Context, b *crm.AIBatch) error {
	return mapErr("insert batch", "", t.exec(ctx, qBatchIns, b.ID, b.Status, string(b.Input.Stage),
		string(b.Input.Source), nullStr(b.Input.OwnerID), b.Input.Limit, nullStr(b.CreatedBy), b.ProviderID, b.Total,
		b.Done, b.Failed, b.Error, fmtTime(b.CreatedAt), nullTimeText(b.FinishedAt)))
}

func (t *tx) LockAIBatch(ctx context.Context, id string) (*crm.AIBatch, error) {
	b, err := scanBatch(t.queryRow(ctx, qBatch, id))
	return b, mapErr("lock batch", batchNoun, err)
}

func (t *tx) UpdateAIBatch(ctx context.Context, b *crm.AIBatch) error {
	return mapErr("update batch", batchNoun, t.execOne(ctx, qBatchUpd, b.Status, b.ProviderID, b.Total, b.Done,
		b.Failed, b.Error, nullTimeText(b.FinishedAt), b.ID))
}

func (t *tx) InsertAIBatchItems(ctx context.Context, items []*crm.AIBatchItem) error {
	for _, it := range items {
		facts, err := json.Marshal(it.Facts)
		if err != nil {
			return mapErr("insert batch item", "", err)
		}
		if err := t.exec(ctx, qItemIns, it.BatchID, it.Key, it.LeadID, string(facts), it.Status,
			nullStr(it.AnalysisID)); err != nil {
			return mapErr("insert batch item", "", err)
		}
	}
	return nil
}

func (t *tx) LockAIBatchItem(ctx context.Context, batchID, key string) (*crm.AIBatchItem, error) {
	it, err := scanItem(t.queryRow(ctx, qItem, batchID, key))
	return it, mapErr("lock batch item", itemNoun, err)
}

func (t *tx) UpdateAIBatchItem(ctx context.Context, it *crm.AIBatchItem) error {
	return mapErr("update batch item", itemNoun, t.execOne(ctx, qItemUpd, it.Status, nullStr(it.AnalysisID),
		it.BatchID, it.Key))
}
