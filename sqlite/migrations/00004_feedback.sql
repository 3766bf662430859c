-- The feedback loop (issue 11): outcomes judged against the analysis in force, calibrations fitted from them,
-- the factors and calibrated score of each analysis, and batch membership of analysis-log rows.

-- +goose Up
-- The analysis-log row of the lead's latest analysis (no foreign key: the demo seed loads leads before their
-- analyses), its calibrated score and its factors (a JSON list).
ALTER TABLE leads ADD COLUMN ai_analysis_id TEXT;
ALTER TABLE leads ADD COLUMN ai_score_calibrated REAL CHECK (ai_score_calibrated BETWEEN 0 AND 1);
ALTER TABLE leads ADD COLUMN ai_factors TEXT;
UPDATE leads SET ai_analysis_id = (
    SELECT a.id FROM analyses a WHERE a.lead_id = leads.id AND a.score IS NOT NULL ORDER BY a.id DESC LIMIT 1)
WHERE ai_score IS NOT NULL;

ALTER TABLE analyses ADD COLUMN score_calibrated REAL CHECK (score_calibrated BETWEEN 0 AND 1);
ALTER TABLE analyses ADD COLUMN factors TEXT;
ALTER TABLE analyses ADD COLUMN batch_id TEXT;
CREATE INDEX analyses_created_idx ON analyses (created_at);

-- One outcome per lead: re-analyses before the decision never count twice.
CREATE TABLE outcomes (
    lead_id        TEXT PRIMARY KEY REFERENCES leads (id),
    analysis_id    TEXT REFERENCES analyses (id),
    provider       TEXT NOT NULL,
    model          TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    score          REAL NOT NULL CHECK (score BETWEEN 0 AND 1),
    positive       INTEGER NOT NULL CHECK (positive IN (0, 1)),
    decided_at     TEXT NOT NULL
) STRICT;
CREATE INDEX outcomes_decided_idx ON outcomes (decided_at);

CREATE TABLE calibrations (
    provider       TEXT NOT NULL,
    model          TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    method         TEXT NOT NULL CHECK (method IN ('platt')),
    a              REAL NOT NULL CHECK (a > 0),
    b              REAL NOT NULL,
    outcomes       INTEGER NOT NULL CHECK (outcomes > 0),
    fitted_at      TEXT NOT NULL,
    PRIMARY KEY (provider, model, prompt_version)
) STRICT;

-- +goose Down
DROP TABLE calibrations;
DROP TABLE outcomes;
DROP INDEX analyses_created_idx;
ALTER TABLE analyses DROP COLUMN batch_id;
ALTER TABLE analyses DROP COLUMN factors;
ALTER TABLE analyses DROP COLUMN score_calibrated;
ALTER TABLE leads DROP COLUMN ai_factors;
ALTER TABLE leads DROP COLUMN ai_score_calibrated;
ALTER TABLE leads DROP COLUMN ai_analysis_id;
