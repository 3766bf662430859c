-- Webhooks and Telegram (issue 10): subscriptions, the events sent to them
-- (one row per event: its id is the webhook-id every attempt carries), and one
-- delivery per event and subscription with its attempt log. River's own
-- tables, which hold the jobs, are created by rivermigrate after these.

-- +goose Up
CREATE TABLE webhook_subscriptions (
    id                uuid PRIMARY KEY,
    kind              text NOT NULL CHECK (kind IN ('webhook', 'telegram')),
    url               text NOT NULL DEFAULT '' CHECK (length(url) <= 2000),
    events            jsonb NOT NULL CHECK (jsonb_typeof(events) = 'array' AND jsonb_array_length(events) > 0),
    description       text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    enabled           boolean NOT NULL,
    disabled_reason   text NOT NULL DEFAULT '',
    include_contacts  boolean NOT NULL DEFAULT false,
    language          text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'uk')),
    secret            text NOT NULL DEFAULT '',
    prev_secret       text NOT NULL DEFAULT '',
    prev_secret_until timestamptz,
    telegram_token    text NOT NULL DEFAULT '',
    telegram_chat_id  text NOT NULL DEFAULT '',
    failing_since     timestamptz,
    created_by        uuid,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);

CREATE TABLE webhook_events (
    id         uuid PRIMARY KEY,
    type       text NOT NULL,
    data       jsonb NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_id        uuid NOT NULL REFERENCES webhook_events (id),
    event_type      text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'failed', 'succeeded', 'dead')),
    run             integer NOT NULL CHECK (run >= 1),
    attempts        jsonb NOT NULL DEFAULT '[]',
    next_attempt_at timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    -- One delivery per event and subscription: a fan-out run twice adds none.
    UNIQUE (event_id, subscription_id)
);
CREATE INDEX webhook_deliveries_subscription_idx ON webhook_deliveries (subscription_id, id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhook_subscriptions;
