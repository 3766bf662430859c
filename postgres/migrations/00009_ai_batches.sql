-- Batch re-analysis through the provider's batch API (issue 11 §5): a batch and its requests. A request's key
-- (the custom_id sent) is random: the lead's id never leaves the system.

-- +goose Up
CREATE TABLE ai_batches (
    id           uuid PRIMARY KEY,
    status       text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    stage        text NOT NULL DEFAULT '',
    source       text NOT NULL DEFAULT '',
    owner_id     uuid,
    max_leads    integer NOT NULL CHECK (max_leads > 0),
    created_by   uuid REFERENCES users (id),
    provider_id  text NOT NULL DEFAULT '',
    total        integer NOT NULL DEFAULT 0 CHECK (total >= 0),
    done         integer NOT NULL DEFAULT 0 CHECK (done >= 0),
    failed       integer NOT NULL DEFAULT 0 CHECK (failed >= 0),
    error        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    finished_at  timestamptz
);

CREATE TABLE ai_batch_items (
    batch_id    uuid NOT NULL REFERENCES ai_batches (id) ON DELETE CASCADE,
    key         text NOT NULL,
    lead_id     uuid NOT NULL REFERENCES leads (id),
    facts       jsonb NOT NULL,
    status      text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    analysis_id uuid,
    PRIMARY KEY (batch_id, key)
);

-- +goose Down
DROP TABLE ai_batch_items;
DROP TABLE ai_batches;
