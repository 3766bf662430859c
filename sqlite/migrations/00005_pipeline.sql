-- The day's work (issue 12): lost reasons, next steps (tasks), the conversation
-- (activities), deal values, duplicate keys, notifications and saved filters.
-- Amounts are INTEGER ten-thousandths of a currency unit (crm.Amount): SQLite
-- sums and sorts integers exactly, which it cannot do for decimals.

-- +goose Up
ALTER TABLE leads ADD COLUMN lost_reason TEXT NOT NULL DEFAULT '' CHECK (length(lost_reason) <= 500);
ALTER TABLE leads ADD COLUMN open_tasks INTEGER NOT NULL DEFAULT 0 CHECK (open_tasks >= 0);
-- Duplicate keys, computed by crm.DuplicateKeys on every write. The backfill
-- below approximates it in SQL for the leads that exist (ASCII case folding,
-- common phone punctuation).
ALTER TABLE leads ADD COLUMN email_key TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN phone_key TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE leads SET
    email_key = lower(trim(email)),
    phone_key = (SELECT CASE WHEN length(d) >= 6 THEN d ELSE '' END FROM (SELECT
        replace(replace(replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '(', ''), ')', ''), '+', ''), '.', ''), '/', '') AS d)),
    name_key = CASE WHEN trim(name) <> '' AND trim(company) <> ''
        THEN lower(trim(company)) || char(31) || lower(trim(name)) ELSE '' END;
CREATE INDEX leads_email_key_idx ON leads (email_key) WHERE email_key <> '' AND stage IN ('new', 'contacted', 'qualified');
CREATE INDEX leads_phone_key_idx ON leads (phone_key) WHERE phone_key <> '' AND stage IN ('new', 'contacted', 'qualified');
CREATE INDEX leads_name_key_idx ON leads (name_key) WHERE name_key <> '' AND stage IN ('new', 'contacted', 'qualified');

ALTER TABLE sales ADD COLUMN amount INTEGER CHECK (amount BETWEEN 0 AND 9999999999999999);
ALTER TABLE sales ADD COLUMN currency TEXT CHECK (length(currency) = 3 AND currency = upper(currency) AND (currency IS NULL) = (amount IS NULL));

CREATE TABLE tasks (
    id          TEXT PRIMARY KEY,
    lead_id     TEXT NOT NULL REFERENCES leads (id),
    title       TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    due_at      TEXT NOT NULL,
    assignee_id TEXT NOT NULL REFERENCES users (id),
    done_at     TEXT,
    created_by  TEXT REFERENCES users (id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;
CREATE INDEX tasks_assignee_idx ON tasks (assignee_id, due_at);
CREATE INDEX tasks_lead_idx ON tasks (lead_id, due_at);
-- What a reminder job scans: the open tasks by due time.
CREATE INDEX tasks_open_due_idx ON tasks (due_at) WHERE done_at IS NULL;

CREATE TABLE activities (
    id         TEXT PRIMARY KEY,
    lead_id    TEXT NOT NULL REFERENCES leads (id),
    kind       TEXT NOT NULL CHECK (kind IN ('call', 'email', 'meeting', 'note')),
    text       TEXT NOT NULL DEFAULT '' CHECK (length(text) <= 5000),
    at         TEXT NOT NULL,
    actor_id   TEXT REFERENCES users (id),
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX activities_lead_idx ON activities (lead_id, at, id);

CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL CHECK (kind IN ('lead_assigned', 'task_due', 'sale_paid', 'sale_lost', 'batch_finished')),
    lead_id    TEXT REFERENCES leads (id),
    sale_id    TEXT REFERENCES sales (id),
    task_id    TEXT REFERENCES tasks (id) ON DELETE SET NULL,
    subject    TEXT NOT NULL DEFAULT '',
    text       TEXT NOT NULL DEFAULT '',
    actor_id   TEXT REFERENCES users (id),
    created_at TEXT NOT NULL,
    read_at    TEXT
) STRICT;
CREATE INDEX notifications_user_idx ON notifications (user_id, id);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

CREATE TABLE saved_filters (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    query      TEXT NOT NULL CHECK (length(query) <= 1000),
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX saved_filters_user_idx ON saved_filters (user_id, name);

-- +goose Down
DROP TABLE saved_filters;
DROP TABLE notifications;
DROP TABLE activities;
DROP TABLE tasks;
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
