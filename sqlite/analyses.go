package sqlite

import (
	"context"
	"database/sql"

	"github.com/crmleads/crm"
)

const analysisCols = `id, lead_id, actor_id, source, stage, messages_count, has_business_domain, provider, model,
	prompt_version, score, recommendation, reason, raw_output, error_code, error_message, input_tokens, output_tokens,
	latency_ms, cost_usd, created_at, score_calibrated, factors, batch_id, reason_uk`

const (
	qAnalysisIns = `INSERT INTO analyses (` + analysisCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qAnalyses    = `SELECT ` + analysisCols + ` FROM analyses WHERE lead_id = ? ORDER BY id DESC LIMIT ?`
)

// Analyses returns a lead's analysis log, newest first.
func (db *DB) Analyses(ctx context.Context, leadID string, limit int) ([]*crm.AnalysisRecord, error) {
	return queryAll(ctx, db, "analyses", scanAnalysis, qAnalyses, leadID, limit)
}

func scanAnalysis(r scanner) (*crm.AnalysisRecord, error) {
	var (
		a       crm.AnalysisRecord
		actor   sql.NullString
		hasDom  int64
		score   sql.NullFloat64
		created string
		calib   sql.NullFloat64
		factors sql.NullString
		batch   sql.NullString
		uk      sql.NullString
	)
	err := r.Scan(&a.ID, &a.LeadID, &actor, &a.Facts.Source, &a.Facts.Stage, &a.Facts.MessagesCount, &hasDom,
		&a.Provider, &a.Model, &a.PromptVersion, &score, &a.Recommendation, &a.Reason, &a.RawOutput,
		&a.ErrorCode, &a.ErrorMessage, &a.InputTokens, &a.OutputTokens, &a.LatencyMS, &a.CostUSD, &created,
		&calib, &factors, &batch, &uk)
	if err != nil {
		return nil, err
	}
	a.ActorID = actor.String
	a.Facts.HasBusinessDomain = hasDom != 0
	if score.Valid {
		a.Score = &score.Float64
	}
	if a.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if calib.Valid {
		a.ScoreCalibrated = &calib.Float64
	}
	a.BatchID, a.ReasonUK = batch.String, uk.String
	if a.Factors, err = parseFactors(factors); err != nil {
		return nil, err
	}
	return &a, nil
}

// InsertAnalysis appends a record to the analysis log.
func (t *tx) InsertAnalysis(ctx context.Context, a *crm.AnalysisRecord) error {
	var score any
	if a.Score != nil {
		score = *a.Score
	}
	return mapErr("insert analysis", "", t.exec(ctx, qAnalysisIns,
		a.ID, a.LeadID, nullStr(a.ActorID), string(a.Facts.Source), string(a.Facts.Stage), a.Facts.MessagesCount,
		boolInt(a.Facts.HasBusinessDomain), a.Provider, a.Model, a.PromptVersion, score, string(a.Recommendation),
		a.Reason, a.RawOutput, a.ErrorCode, a.ErrorMessage, a.InputTokens, a.OutputTokens, a.LatencyMS, a.CostUSD,
		fmtTime(a.CreatedAt), nullFloat(a.ScoreCalibrated), factorsText(a.Factors), nullStr(a.BatchID), nullStr(a.ReasonUK)))
}
