package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/crmleads/crm"
)

func (t *tx) InsertOutcome(ctx context.Context, o *crm.Outcome) error {
	if err := checkIDs("lead_id", o.LeadID, o.AnalysisID); err != nil {
		return err
	}
	t.write("insert outcome", "", `INSERT INTO outcomes (lead_id, analysis_id, provider, model, prompt_version, score,
		positive, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		o.LeadID, nullID(o.AnalysisID), o.Provider, o.Model, o.PromptVersion, o.Score, o.Positive, o.DecidedAt)
	return nil
}

func (t *tx) PutCalibration(ctx context.Context, c *crm.Calibration) error {
	t.write("put calibration", "", `INSERT INTO calibrations (provider, model, prompt_version, method, a, b, outcomes,
		fitted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (provider, model, prompt_version) DO UPDATE SET method = excluded.method, a = excluded.a,
			b = excluded.b, outcomes = excluded.outcomes, fitted_at = excluded.fitted_at`,
		c.Provider, c.Model, c.PromptVersion, c.Method, c.A, c.B, c.Outcomes, c.FittedAt)
	return nil
}

func (db *DB) Calibration(ctx context.Context, provider, model, promptVersion string) (*crm.Calibration, error) {
	var c crm.Calibration
	err := db.q.QueryRow(ctx, `SELECT provider, model, prompt_version, method, a, b, outcomes, fitted_at
		FROM calibrations WHERE provider = $1 AND model = $2 AND prompt_version = $3`, provider, model, promptVersion).
		Scan(&c.Provider, &c.Model, &c.PromptVersion, &c.Method, &c.A, &c.B, &c.Outcomes, &c.FittedAt)
	if err != nil {
		return nil, classify("get calibration", err, "calibration")
	}
	c.FittedAt = c.FittedAt.UTC()
	return &c, nil
}

func (db *DB) OutcomeScores(ctx context.Context, f crm.OutcomeFilter) ([]crm.ScoreCount, error) {
	var w where
	if !f.From.IsZero() {
		w.add("decided_at >= $", f.From)
	}
	if !f.To.IsZero() {
		w.add("decided_at < $", f.To)
	}
	if f.PromptVersion != "" {
		w.add("prompt_version = $", f.PromptVersion)
	}
	rows, err := db.q.Query(ctx, `SELECT provider, model, prompt_version, score, count(*), count(*) FILTER (WHERE positive)
		FROM outcomes`+w.sql()+` GROUP BY provider, model, prompt_version, score
		ORDER BY provider, model, prompt_version, score`, w.args...)
	if err != nil {
		return nil, classify("outcome scores", err, "")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (crm.ScoreCount, error) {
		var c crm.ScoreCount
		err := r.Scan(&c.Provider, &c.Model, &c.PromptVersion, &c.Score, &c.N, &c.Positives)
		return c, err
	})
	if err != nil {
		return nil, classify("outcome scores", err, "")
	}
	return out, nil
}

func (db *DB) AnalysisCosts(ctx context.Context, f crm.CostFilter) ([]crm.ModelCost, error) {
	w := where{conds: []string{"(input_tokens > 0 OR output_tokens > 0)"}}
	if !f.From.IsZero() {
		w.add("created_at >= $", f.From)
	}
	if !f.To.IsZero() {
		w.add("created_at < $", f.To)
	}
	rows, err := db.q.Query(ctx, `SELECT model, count(*), sum(input_tokens), sum(output_tokens), sum(cost_usd)
		FROM analyses`+w.sql()+` GROUP BY model ORDER BY model`, w.args...)
	if err != nil {
		return nil, classify("analysis costs", err, "")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (crm.ModelCost, error) {
		var m crm.ModelCost
		err := r.Scan(&m.Model, &m.Analyses, &m.InputTokens, &m.OutputTokens, &m.CostUSD)
		return m, err
	})
	if err != nil {
		return nil, classify("analysis costs", err, "")
	}
	return out, nil
}
