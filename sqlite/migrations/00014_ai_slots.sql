-- The cap on AI calls in flight as leased slots in the database (see the
-- PostgreSQL twin): one process per SQLite file, but the same contract, and a
-- slot of a killed process comes back when its lease expires.

-- +goose Up
CREATE TABLE ai_slots (
    slot       INTEGER PRIMARY KEY CHECK (slot >= 0),
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;

-- +goose Down
DROP TABLE ai_slots;
