-- The day's work (issue 12): lost reasons, next steps (tasks), the conversation
-- (activities), deal values, duplicate keys, notifications and saved filters.
-- Amounts are bigint ten-thousandths of a currency unit (crm.Amount), as in
-- the SQLite schema, so both stores sum and sort them alike and exactly.

-- +goose Up
ALTER TABLE leads ADD COLUMN lost_reason text NOT NULL DEFAULT '' CHECK (length(lost_reason) <= 500);
ALTER TABLE leads ADD COLUMN open_tasks integer NOT NULL DEFAULT 0 CHECK (open_tasks >= 0);
-- Duplicate keys, computed by crm.DuplicateKeys on every write; the backfill
-- approximates it in SQL for the leads that exist.
ALTER TABLE leads ADD COLUMN email_key text NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN phone_key text NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN name_key text NOT NULL DEFAULT '';
UPDATE leads SET
    email_key = lower(trim(email)),
    phone_key = CASE WHEN length(regexp_replace(phone, '\D', '', 'g')) >= 6 THEN regexp_replace(phone, '\D', '', 'g') ELSE '' END,
    name_key = CASE WHEN trim(name) <> '' AND trim(company) <> ''
        THEN lower(trim(company)) || chr(31) || lower(trim(name)) ELSE '' END;
CREATE INDEX leads_email_key_idx ON leads (email_key) WHERE email_key <> '' AND stage IN ('new', 'contacted', 'qualified');
CREATE INDEX leads_phone_key_idx ON leads (phone_key) WHERE phone_key <> '' AND stage IN ('new', 'contacted', 'qualified');
CREATE INDEX leads_name_key_idx ON leads (name_key) WHERE name_key <> '' AND stage IN ('new', 'contacted', 'qualified');

ALTER TABLE sales ADD COLUMN amount bigint CHECK (amount BETWEEN 0 AND 9999999999999999);
ALTER TABLE sales ADD COLUMN currency text CHECK (length(currency) = 3 AND currency = upper(currency));
ALTER TABLE sales ADD CONSTRAINT sales_value_whole CHECK ((currency IS NULL) = (amount IS NULL));

CREATE TABLE tasks (
    id          uuid PRIMARY KEY,
    lead_id     uuid NOT NULL REFERENCES leads (id),
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    due_at      timestamptz NOT NULL,
    assignee_id uuid NOT NULL REFERENCES users (id),
    done_at     timestamptz,
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX tasks_assignee_idx ON tasks (assignee_id, due_at);
CREATE INDEX tasks_lead_idx ON tasks (lead_id, due_at);
-- What a reminder job scans: the open tasks by due time.
CREATE INDEX tasks_open_due_idx ON tasks (due_at) WHERE done_at IS NULL;

CREATE TABLE activities (
    id         uuid PRIMARY KEY,
    lead_id    uuid NOT NULL REFERENCES leads (id),
    kind       text NOT NULL CHECK (kind IN ('call', 'email', 'meeting', 'note')),
    text       text NOT NULL DEFAULT '' CHECK (length(text) <= 5000),
    at         timestamptz NOT NULL,
    actor_id   uuid REFERENCES users (id),
    created_at timestamptz NOT NULL
);
CREATE INDEX activities_lead_idx ON activities (lead_id, at, id);

CREATE TABLE notifications (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id),
    kind       text NOT NULL CHECK (kind IN ('lead_assigned', 'task_due', 'sale_paid', 'sale_lost', 'batch_finished')),
    lead_id    uuid REFERENCES leads (id),
    sale_id    uuid REFERENCES sales (id),
    task_id    uuid REFERENCES tasks (id) ON DELETE SET NULL,
    subject    text NOT NULL DEFAULT '',
    text       text NOT NULL DEFAULT '',
    actor_id   uuid REFERENCES users (id),
    created_at timestamptz NOT NULL,
    read_at    timestamptz
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

CREATE TABLE saved_filters (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    query      text NOT NULL CHECK (length(query) <= 1000),
    created_at timestamptz NOT NULL
);
CREATE INDEX saved_filters_user_idx ON saved_filters (user_id, name);

-- +goose Down
DROP TABLE saved_filters;
DROP TABLE notifications;
DROP TABLE activities;
DROP TABLE tasks;
ALTER TABLE sales DROP CONSTRAINT sales_value_whole;
ALTER TABLE sales DROP COLUMN currency;
ALTER TABLE sales DROP COLUMN amount;
DROP INDEX leads_name_key_idx;
DROP INDEX leads_phone_key_idx;
DROP INDEX leads_email_key_idx;
ALTER TABLE leads DROP COLUMN name_key;
ALTER TABLE leads DROP COLUMN phone_key;
ALTER TABLE leads DROP COLUMN email_key;
ALTER TABLE leads DROP COLUMN open_tasks;
ALTER TABLE leads DROP COLUMN lost_reason;
