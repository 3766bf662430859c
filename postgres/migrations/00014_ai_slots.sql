-- The cap on AI calls in flight (crm.Config.MaxConcurrentAI) holds across
-- every replica on this database: a call takes one of the numbered slots
-- 0 … cap-1 with one conditional upsert (a slot that is free, or whose lease
-- expired because the process holding it died) and deletes it afterwards.
-- The primary key makes two replicas racing for one slot take it once.

-- +goose Up
CREATE TABLE ai_slots (
    slot       integer PRIMARY KEY CHECK (slot >= 0),
    holder     uuid NOT NULL,
    expires_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE ai_slots;
