-- Batch re-analysis through the provider's batch API (issue 11 §5): a batch and its requests. A request's key
-- (the custom_id sent) is random: the lead's id never leaves the system.

-- +goose Up
CREATE TABLE ai_batches (
    id           TEXT PRIMARY KEY,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    stage        TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL DEFAULT '',
    owner_id     TEXT,
    max_leads    INTEGER NOT NULL CHECK (max_leads > 0),
    created_by   TEXT REFERENCES users (id),
    provider_id  TEXT NOT NULL DEFAULT '',
    total        INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0),
    done         INTEGER NOT NULL DEFAULT 0 CHECK (done >= 0),
    failed       INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
    error        TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    finished_at  TEXT
) STRICT;

CREATE TABLE ai_batch_items (
    batch_id    TEXT NOT NULL REFERENCES ai_batches (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    lead_id     TEXT NOT NULL REFERENCES leads (id),
    facts       TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    analysis_id TEXT,
    PRIMARY KEY (batch_id, key)
) STRICT;

-- +goose Down
DROP TABLE ai_batch_items;
DROP TABLE ai_batches;
