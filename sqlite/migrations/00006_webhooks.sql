-- Webhooks and Telegram (issue 10): subscriptions, the events sent to them
-- (one row per event: its id is the webhook-id every attempt carries), and one
-- delivery per event and subscription with its attempt log (JSON text).
-- River's own tables, which hold the jobs, are created by rivermigrate after
-- these.

-- +goose Up
CREATE TABLE webhook_subscriptions (
    id                TEXT PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('webhook', 'telegram')),
    url               TEXT NOT NULL DEFAULT '' CHECK (length(url) <= 2000),
    events            TEXT NOT NULL CHECK (json_valid(events) AND json_array_length(events) > 0),
    description       TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    enabled           INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    disabled_reason   TEXT NOT NULL DEFAULT '',
    include_contacts  INTEGER NOT NULL DEFAULT 0 CHECK (include_contacts IN (0, 1)),
    language          TEXT NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'uk')),
    secret            TEXT NOT NULL DEFAULT '',
    prev_secret       TEXT NOT NULL DEFAULT '',
    prev_secret_until TEXT,
    telegram_token    TEXT NOT NULL DEFAULT '',
    telegram_chat_id  TEXT NOT NULL DEFAULT '',
    failing_since     TEXT,
    created_by        TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) STRICT;

CREATE TABLE webhook_events (
    id         TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    data       TEXT NOT NULL CHECK (json_valid(data)),
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL REFERENCES webhook_events (id),
    event_type      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'failed', 'succeeded', 'dead')),
    run             INTEGER NOT NULL CHECK (run >= 1),
    attempts        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(attempts)),
    next_attempt_at TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    -- One delivery per event and subscription: a fan-out run twice adds none.
    UNIQUE (event_id, subscription_id)
) STRICT;
CREATE INDEX webhook_deliveries_subscription_idx ON webhook_deliveries (subscription_id, id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhook_subscriptions;
