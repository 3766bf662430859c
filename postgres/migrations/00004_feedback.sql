-- The feedback loop (issue 11): outcomes judged against the analysis in force, calibrations fitted from them,
-- the factors and calibrated score of each analysis, and batch membership of analysis-log rows.

-- +goose Up
-- The analysis-log row of the lead's latest analysis (no foreign key: the demo seed loads leads before their
-- analyses), its calibrated score and its factors.
ALTER TABLE leads ADD COLUMN ai_analysis_id uuid,
    ADD COLUMN ai_score_calibrated double precision CHECK (ai_score_calibrated BETWEEN 0 AND 1),
    ADD COLUMN ai_factors jsonb;
UPDATE leads SET ai_analysis_id = (
    SELECT a.id FROM analyses a WHERE a.lead_id = leads.id AND a.score IS NOT NULL ORDER BY a.id DESC LIMIT 1)
WHERE ai_score IS NOT NULL;

ALTER TABLE analyses ADD COLUMN score_calibrated double precision CHECK (score_calibrated BETWEEN 0 AND 1),
    ADD COLUMN factors jsonb,
    ADD COLUMN batch_id uuid;
CREATE INDEX analyses_created_idx ON analyses (created_at);

-- One outcome per lead: re-analyses before the decision never count twice.
CREATE TABLE outcomes (
    lead_id        uuid PRIMARY KEY REFERENCES leads (id),
    analysis_id    uuid REFERENCES analyses (id),
    provider       text NOT NULL,
    model          text NOT NULL,
    prompt_version text NOT NULL,
    score          double precision NOT NULL CHECK (score BETWEEN 0 AND 1),
    positive       boolean NOT NULL,
    decided_at     timestamptz NOT NULL
);
CREATE INDEX outcomes_decided_idx ON outcomes (decided_at);

CREATE TABLE calibrations (
    provider       text NOT NULL,
    model          text NOT NULL,
    prompt_version text NOT NULL,
    method         text NOT NULL CHECK (method IN ('platt')),
    a              double precision NOT NULL CHECK (a > 0),
    b              double precision NOT NULL,
    outcomes       integer NOT NULL CHECK (outcomes > 0),
    fitted_at      timestamptz NOT NULL,
    PRIMARY KEY (provider, model, prompt_version)
);

-- +goose Down
DROP TABLE calibrations;
DROP TABLE outcomes;
DROP INDEX analyses_created_idx;
ALTER TABLE analyses DROP COLUMN batch_id, DROP COLUMN factors, DROP COLUMN score_calibrated;
ALTER TABLE leads DROP COLUMN ai_factors, DROP COLUMN ai_score_calibrated, DROP COLUMN ai_analysis_id;
