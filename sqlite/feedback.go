package sqlite

import (
	"context"
	"database/sql"

	"github.com/crmleads/crm"
)

const (
	qOutcomeIns = `INSERT INTO outcomes (lead_id, analysis_id, provider, model, prompt_version, score, positive, decided_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qCalibrationPut = `INSERT INTO calibrations (provider, model, prompt_version, method, a, b, outcomes, fitted_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (provider, model, prompt_version) DO UPDATE SET method = excluded.method, a = excluded.a,
		b = excluded.b, outcomes = excluded.outcomes, fitted_at = excluded.fitted_at`
	qCalibration = `SELECT provider, model, prompt_version, method, a, b, outcomes, fitted_at FROM calibrations
	WHERE provider = ? AND model = ? AND prompt_version = ?`
)

// InsertOutcome records a lead's outcome; ECONFLICT when it has one.
func (t *tx) InsertOutcome(ctx context.Context, o *crm.Outcome) error {
	return mapErr("insert outcome", "", t.exec(ctx, qOutcomeIns, o.LeadID, nullStr(o.AnalysisID), o.Provider, o.Model,
		o.PromptVersion, o.Score, boolInt(o.Positive), fmtTime(o.DecidedAt)))
}

// PutCalibration stores c, replacing the previous fit of its group.
func (t *tx) PutCalibration(ctx context.Context, c *crm.Calibration) error {
	return mapErr("put calibration", "", t.exec(ctx, qCalibrationPut, c.Provider, c.Model, c.PromptVersion, c.Method,
		c.A, c.B, c.Outcomes, fmtTime(c.FittedAt)))
}

// Calibration returns the calibration of a group; ENOTFOUND without one.
func (db *DB) Calibration(ctx context.Context, provider, model, promptVersion string) (*crm.Calibration, error) {
	row, err := db.queryRow(ctx, qCalibration, provider, model, promptVersion)
	if err != nil {
		return nil, mapErr("calibration", "calibration", err)
	}
	var (
		c  crm.Calibration
		at string
	)
	if err := row.Scan(&c.Provider, &c.Model, &c.PromptVersion, &c.Method, &c.A, &c.B, &c.Outcomes, &at); err != nil {
		return nil, mapErr("calibration", "calibration", err)
	}
	var err2 error
	if c.FittedAt, err2 = parseTime(at); err2 != nil {
		return nil, mapErr("calibration", "", err2)
	}
	return &c, nil
}

// OutcomeScores returns the outcomes matching f as a histogram.
func (db *DB) OutcomeScores(ctx context.Context, f crm.OutcomeFilter) ([]crm.ScoreCount, error) {
	var (
		where []string
		args  []any
	)
	if !f.From.IsZero() {
		where, args = append(where, "decided_at >= ?"), append(args, fmtTime(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "decided_at < ?"), append(args, fmtTime(f.To))
	}
	if f.PromptVersion != "" {
		where, args = append(where, "prompt_version = ?"), append(args, f.PromptVersion)
	}
	query := `SELECT provider, model, prompt_version, score, count(*), sum(positive) FROM outcomes` + whereSQL(where) +
		` GROUP BY provider, model, prompt_version, score ORDER BY provider, model, prompt_version, score`
	return queryAll(ctx, db, "outcome scores", func(r scanner) (crm.ScoreCount, error) {
		var c crm.ScoreCount
		err := r.Scan(&c.Provider, &c.Model, &c.PromptVersion, &c.Score, &c.N, &c.Positives)
		return c, err
	}, query, args...)
}

// AnalysisCosts sums the billed analysis-log rows matching f, by model.
func (db *DB) AnalysisCosts(ctx context.Context, f crm.CostFilter) ([]crm.ModelCost, error) {
	where := []string{"(input_tokens > 0 OR output_tokens > 0)"}
	var args []any
	if !f.From.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, fmtTime(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, fmtTime(f.To))
	}
	query := `SELECT model, count(*), sum(input_tokens), sum(output_tokens), sum(cost_usd) FROM analyses` +
		whereSQL(where) + ` GROUP BY model ORDER BY model`
	return queryAll(ctx, db, "analysis costs", func(r scanner) (crm.ModelCost, error) {
		var (
			m    crm.ModelCost
			cost sql.NullFloat64
		)
		err := r.Scan(&m.Model, &m.Analyses, &m.InputTokens, &m.OutputTokens, &cost)
		m.CostUSD = cost.Float64
		return m, err
	}, query, args...)
}
