-- The schema backs the domain rules as a last line: enum checks, counts that
-- cannot go negative, one sale per lead, and foreign keys everywhere.

-- +goose Up
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 200),
    name          text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    role          text NOT NULL CHECK (role IN ('manager', 'senior_manager', 'admin')),
    active        boolean NOT NULL DEFAULT true,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE leads (
    id              uuid PRIMARY KEY,
    source          text NOT NULL CHECK (source IN ('scanner', 'partner', 'manual')),
    stage           text NOT NULL CHECK (stage IN ('new', 'contacted', 'qualified', 'transferred', 'lost')),
    business_domain text CHECK (length(business_domain) BETWEEN 1 AND 64),
    messages_count  integer NOT NULL DEFAULT 0 CHECK (messages_count BETWEEN 0 AND 1000000),
    name            text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    email           text NOT NULL DEFAULT '' CHECK (length(email) <= 200),
    phone           text NOT NULL DEFAULT '' CHECK (length(phone) <= 200),
    company         text NOT NULL DEFAULT '' CHECK (length(company) <= 200),
    note            text NOT NULL DEFAULT '' CHECK (length(note) <= 5000),
    owner_id        uuid REFERENCES users (id),
    -- The latest analysis, and the four facts it was computed from.
    ai_score               double precision CHECK (ai_score BETWEEN 0 AND 1),
    ai_recommendation      text CHECK (ai_recommendation IN ('transfer_to_sales', 'continue_nurturing', 'mark_as_lost')),
    ai_reason              text,
    ai_analyzed_at         timestamptz,
    ai_provider            text,
    ai_model               text,
    ai_prompt_version      text,
    ai_source              text CHECK (ai_source IN ('scanner', 'partner', 'manual')),
    ai_stage               text CHECK (ai_stage IN ('new', 'contacted', 'qualified')),
    ai_messages_count      integer CHECK (ai_messages_count >= 0),
    ai_has_business_domain boolean,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    -- An analysis is stored whole or not at all.
    CONSTRAINT leads_ai_whole CHECK (
        (ai_score IS NULL) = (ai_analyzed_at IS NULL) AND (ai_score IS NULL) = (ai_recommendation IS NULL)
        AND (ai_score IS NULL) = (ai_source IS NULL) AND (ai_score IS NULL) = (ai_stage IS NULL)
        AND (ai_score IS NULL) = (ai_messages_count IS NULL) AND (ai_score IS NULL) = (ai_has_business_domain IS NULL)),
    -- A transferred lead had a domain and an analysis.
    CONSTRAINT leads_transferred_complete CHECK (
        stage <> 'transferred' OR (business_domain IS NOT NULL AND ai_score IS NOT NULL))
);
CREATE INDEX leads_owner_idx ON leads (owner_id, id);
CREATE INDEX leads_stage_idx ON leads (stage, id);

CREATE TABLE sales (
    id             uuid PRIMARY KEY,
    lead_id        uuid NOT NULL REFERENCES leads (id),
    stage          text NOT NULL CHECK (stage IN ('new', 'kyc', 'agreement', 'paid', 'lost')),
    transferred_by uuid REFERENCES users (id),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CONSTRAINT sales_one_per_lead UNIQUE (lead_id)
);
CREATE INDEX sales_stage_idx ON sales (stage, id);

CREATE TABLE events (
    id         uuid PRIMARY KEY,
    lead_id    uuid REFERENCES leads (id),
    sale_id    uuid REFERENCES sales (id),
    user_id    uuid REFERENCES users (id),
    action     text NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    from_state text NOT NULL DEFAULT '',
    to_state   text NOT NULL DEFAULT '',
    actor_id   uuid REFERENCES users (id),
    request_id text NOT NULL DEFAULT '',
    data       jsonb,
    created_at timestamptz NOT NULL
);
CREATE INDEX events_lead_idx ON events (lead_id, id);
CREATE INDEX events_actor_idx ON events (actor_id, id);
CREATE INDEX events_action_idx ON events (action, id);

CREATE TABLE analyses (
    id                  uuid PRIMARY KEY,
    lead_id             uuid NOT NULL REFERENCES leads (id),
    actor_id            uuid REFERENCES users (id),
    source              text NOT NULL,
    stage               text NOT NULL,
    messages_count      integer NOT NULL,
    has_business_domain boolean NOT NULL,
    provider            text NOT NULL DEFAULT '',
    model               text NOT NULL DEFAULT '',
    prompt_version      text NOT NULL DEFAULT '',
    score               double precision CHECK (score BETWEEN 0 AND 1),
    recommendation      text NOT NULL DEFAULT '',
    reason              text NOT NULL DEFAULT '',
    raw_output          text NOT NULL DEFAULT '',
    error_code          text NOT NULL DEFAULT '',
    error_message       text NOT NULL DEFAULT '',
    input_tokens        integer NOT NULL DEFAULT 0,
    output_tokens       integer NOT NULL DEFAULT 0,
    latency_ms          bigint NOT NULL DEFAULT 0,
    cost_usd            double precision NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL,
    CONSTRAINT analyses_outcome CHECK ((score IS NULL) <> (error_code = ''))
);
CREATE INDEX analyses_lead_idx ON analyses (lead_id, id);

CREATE TABLE login_failures (
    email text NOT NULL,
    at    timestamptz NOT NULL
);
CREATE INDEX login_failures_idx ON login_failures (email, at);

CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE login_failures;
DROP TABLE analyses;
DROP TABLE events;
DROP TABLE sales;
DROP TABLE leads;
DROP TABLE users;
