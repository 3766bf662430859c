-- SQLite twin of the PostgreSQL schema (STRICT tables). Times are TEXT in the fixed-width
-- form 2006-01-02T15:04:05.000000Z so that they sort as strings; booleans are 0/1.
-- The schema backs the domain rules as a last line: enum checks, counts that
-- cannot go negative, one sale per lead, and foreign keys everywhere.

-- +goose Up
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 200),
    name          TEXT NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    role          TEXT NOT NULL CHECK (role IN ('manager', 'senior_manager', 'admin')),
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE leads (
    id              TEXT PRIMARY KEY,
    source          TEXT NOT NULL CHECK (source IN ('scanner', 'partner', 'manual')),
    stage           TEXT NOT NULL CHECK (stage IN ('new', 'contacted', 'qualified', 'transferred', 'lost')),
    business_domain TEXT CHECK (length(business_domain) BETWEEN 1 AND 64),
    messages_count  INTEGER NOT NULL DEFAULT 0 CHECK (messages_count BETWEEN 0 AND 1000000),
    name            TEXT NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    email           TEXT NOT NULL DEFAULT '' CHECK (length(email) <= 200),
    phone           TEXT NOT NULL DEFAULT '' CHECK (length(phone) <= 200),
    company         TEXT NOT NULL DEFAULT '' CHECK (length(company) <= 200),
    note            TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 5000),
    owner_id        TEXT REFERENCES users (id),
    -- The latest analysis, and the four facts it was computed from.
    ai_score               REAL CHECK (ai_score BETWEEN 0 AND 1),
    ai_recommendation      TEXT CHECK (ai_recommendation IN ('transfer_to_sales', 'continue_nurturing', 'mark_as_lost')),
    ai_reason              TEXT,
    ai_analyzed_at         TEXT,
    ai_provider            TEXT,
    ai_model               TEXT,
    ai_prompt_version      TEXT,
    ai_source              TEXT CHECK (ai_source IN ('scanner', 'partner', 'manual')),
    ai_stage               TEXT CHECK (ai_stage IN ('new', 'contacted', 'qualified')),
    ai_messages_count      INTEGER CHECK (ai_messages_count >= 0),
    ai_has_business_domain INTEGER CHECK (ai_has_business_domain IN (0, 1)),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    -- An analysis is stored whole or not at all.
    CONSTRAINT leads_ai_whole CHECK (
        (ai_score IS NULL) = (ai_analyzed_at IS NULL) AND (ai_score IS NULL) = (ai_recommendation IS NULL)
        AND (ai_score IS NULL) = (ai_source IS NULL) AND (ai_score IS NULL) = (ai_stage IS NULL)
        AND (ai_score IS NULL) = (ai_messages_count IS NULL) AND (ai_score IS NULL) = (ai_has_business_domain IS NULL)),
    -- A transferred lead had a domain and an analysis.
    CONSTRAINT leads_transferred_complete CHECK (
        stage <> 'transferred' OR (business_domain IS NOT NULL AND ai_score IS NOT NULL))
) STRICT;
CREATE INDEX leads_owner_idx ON leads (owner_id, id);
CREATE INDEX leads_stage_idx ON leads (stage, id);

CREATE TABLE sales (
    id             TEXT PRIMARY KEY,
    lead_id        TEXT NOT NULL REFERENCES leads (id),
    stage          TEXT NOT NULL CHECK (stage IN ('new', 'kyc', 'agreement', 'paid', 'lost')),
    transferred_by TEXT REFERENCES users (id),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    CONSTRAINT sales_one_per_lead UNIQUE (lead_id)
) STRICT;
CREATE INDEX sales_stage_idx ON sales (stage, id);

CREATE TABLE events (
    id         TEXT PRIMARY KEY,
    lead_id    TEXT REFERENCES leads (id),
    sale_id    TEXT REFERENCES sales (id),
    user_id    TEXT REFERENCES users (id),
    action     TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    from_state TEXT NOT NULL DEFAULT '',
    to_state   TEXT NOT NULL DEFAULT '',
    actor_id   TEXT REFERENCES users (id),
    request_id TEXT NOT NULL DEFAULT '',
    data       TEXT,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX events_lead_idx ON events (lead_id, id);
CREATE INDEX events_actor_idx ON events (actor_id, id);
CREATE INDEX events_action_idx ON events (action, id);

CREATE TABLE analyses (
    id                  TEXT PRIMARY KEY,
    lead_id             TEXT NOT NULL REFERENCES leads (id),
    actor_id            TEXT REFERENCES users (id),
    source              TEXT NOT NULL,
    stage               TEXT NOT NULL,
    messages_count      INTEGER NOT NULL,
    has_business_domain INTEGER NOT NULL CHECK (has_business_domain IN (0, 1)),
    provider            TEXT NOT NULL DEFAULT '',
    model               TEXT NOT NULL DEFAULT '',
    prompt_version      TEXT NOT NULL DEFAULT '',
    score               REAL CHECK (score BETWEEN 0 AND 1),
    recommendation      TEXT NOT NULL DEFAULT '',
    reason              TEXT NOT NULL DEFAULT '',
    raw_output          TEXT NOT NULL DEFAULT '',
    error_code          TEXT NOT NULL DEFAULT '',
    error_message       TEXT NOT NULL DEFAULT '',
    input_tokens        INTEGER NOT NULL DEFAULT 0,
    output_tokens       INTEGER NOT NULL DEFAULT 0,
    latency_ms          INTEGER NOT NULL DEFAULT 0,
    cost_usd            REAL NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    CONSTRAINT analyses_outcome CHECK ((score IS NULL) <> (error_code = ''))
) STRICT;
CREATE INDEX analyses_lead_idx ON analyses (lead_id, id);

CREATE TABLE login_failures (
    email TEXT NOT NULL,
    at    TEXT NOT NULL
) STRICT;
CREATE INDEX login_failures_idx ON login_failures (email, at);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- +goose Down
DROP TABLE settings;
DROP TABLE login_failures;
DROP TABLE analyses;
DROP TABLE events;
DROP TABLE sales;
DROP TABLE leads;
DROP TABLE users;
