-- The boards read their counts and totals from summary tables kept by
-- triggers, in the same transaction as the change, instead of a GROUP BY
-- over every lead and sale (see the PostgreSQL twin). SQLite has one writer
-- at a time and no row locks, so there is no hot row to shard: one row per
-- owner, stage and (leads) next-step or (sales) currency.
--
-- owner_id is '' for leads without an owner; currency is '' for sales without
-- a value. total is a STRICT INTEGER: a sum past 64 bits (SQLite would turn
-- it into a REAL) is refused, never rounded.

-- +goose Up
CREATE TABLE lead_counts (
    owner_id     TEXT NOT NULL,
    stage        TEXT NOT NULL,
    no_next_step INTEGER NOT NULL, -- open and without an open task
    n            INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (owner_id, stage, no_next_step)
) STRICT, WITHOUT ROWID;

CREATE TABLE sale_totals (
    owner_id TEXT NOT NULL, -- the lead's owner: a board shows its owner's sales
    stage    TEXT NOT NULL,
    currency TEXT NOT NULL,
    n        INTEGER NOT NULL CHECK (n >= 0),
    total    INTEGER NOT NULL,
    PRIMARY KEY (owner_id, stage, currency)
) STRICT, WITHOUT ROWID;

-- +goose StatementBegin
CREATE TRIGGER leads_summary_insert AFTER INSERT ON leads BEGIN
    INSERT INTO lead_counts (owner_id, stage, no_next_step, n)
        VALUES (coalesce(new.owner_id, ''), new.stage,
            new.open_tasks = 0 AND new.stage IN ('new', 'contacted', 'qualified'), 1)
        ON CONFLICT (owner_id, stage, no_next_step) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER leads_summary_update AFTER UPDATE OF owner_id, stage, open_tasks ON leads
    WHEN old.owner_id IS NOT new.owner_id OR old.stage <> new.stage OR (old.open_tasks = 0) <> (new.open_tasks = 0)
BEGIN
    UPDATE lead_counts SET n = n - 1 WHERE owner_id = coalesce(old.owner_id, '') AND stage = old.stage
        AND no_next_step = (old.open_tasks = 0 AND old.stage IN ('new', 'contacted', 'qualified'));
    INSERT INTO lead_counts (owner_id, stage, no_next_step, n)
        VALUES (coalesce(new.owner_id, ''), new.stage,
            new.open_tasks = 0 AND new.stage IN ('new', 'contacted', 'qualified'), 1)
        ON CONFLICT (owner_id, stage, no_next_step) DO UPDATE SET n = n + 1;
    -- A reassigned lead takes its sale (at most one) to the new owner's board.
    UPDATE sale_totals SET n = n - 1, total = total - (SELECT coalesce(amount, 0) FROM sales WHERE lead_id = new.id)
        WHERE old.owner_id IS NOT new.owner_id AND owner_id = coalesce(old.owner_id, '')
        AND (stage, currency) = (SELECT stage, coalesce(currency, '') FROM sales WHERE lead_id = new.id);
    INSERT INTO sale_totals (owner_id, stage, currency, n, total)
        SELECT coalesce(new.owner_id, ''), stage, coalesce(currency, ''), 1, coalesce(amount, 0)
        FROM sales WHERE lead_id = new.id AND old.owner_id IS NOT new.owner_id
        ON CONFLICT (owner_id, stage, currency) DO UPDATE SET n = n + 1, total = total + excluded.total;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER leads_summary_delete AFTER DELETE ON leads BEGIN
    UPDATE lead_counts SET n = n - 1 WHERE owner_id = coalesce(old.owner_id, '') AND stage = old.stage
        AND no_next_step = (old.open_tasks = 0 AND old.stage IN ('new', 'contacted', 'qualified'));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER sales_summary_insert AFTER INSERT ON sales BEGIN
    INSERT INTO sale_totals (owner_id, stage, currency, n, total)
        SELECT coalesce(owner_id, ''), new.stage, coalesce(new.currency, ''), 1, coalesce(new.amount, 0)
        FROM leads WHERE id = new.lead_id
        ON CONFLICT (owner_id, stage, currency) DO UPDATE SET n = n + 1, total = total + excluded.total;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER sales_summary_update AFTER UPDATE OF lead_id, stage, currency, amount ON sales
    WHEN old.lead_id <> new.lead_id OR old.stage <> new.stage OR old.currency IS NOT new.currency
        OR old.amount IS NOT new.amount
BEGIN
    UPDATE sale_totals SET n = n - 1, total = total - coalesce(old.amount, 0)
        WHERE owner_id = (SELECT coalesce(owner_id, '') FROM leads WHERE id = old.lead_id)
        AND stage = old.stage AND currency = coalesce(old.currency, '');
    INSERT INTO sale_totals (owner_id, stage, currency, n, total)
        SELECT coalesce(owner_id, ''), new.stage, coalesce(new.currency, ''), 1, coalesce(new.amount, 0)
        FROM leads WHERE id = new.lead_id
        ON CONFLICT (owner_id, stage, currency) DO UPDATE SET n = n + 1, total = total + excluded.total;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER sales_summary_delete AFTER DELETE ON sales BEGIN
    UPDATE sale_totals SET n = n - 1, total = total - coalesce(old.amount, 0)
        WHERE owner_id = (SELECT coalesce(owner_id, '') FROM leads WHERE id = old.lead_id)
        AND stage = old.stage AND currency = coalesce(old.currency, '');
END;
-- +goose StatementEnd

-- Backfill what is there (goose runs this file in one transaction).
INSERT INTO lead_counts (owner_id, stage, no_next_step, n)
    SELECT coalesce(owner_id, ''), stage, open_tasks = 0 AND stage IN ('new', 'contacted', 'qualified'), count(*)
    FROM leads GROUP BY 1, 2, 3;
INSERT INTO sale_totals (owner_id, stage, currency, n, total)
    SELECT coalesce(l.owner_id, ''), s.stage, coalesce(s.currency, ''), count(*), coalesce(sum(s.amount), 0)
    FROM sales s JOIN leads l ON l.id = s.lead_id GROUP BY 1, 2, 3;

-- +goose Down
DROP TRIGGER sales_summary_delete;
DROP TRIGGER sales_summary_update;
DROP TRIGGER sales_summary_insert;
DROP TRIGGER leads_summary_delete;
DROP TRIGGER leads_summary_update;
DROP TRIGGER leads_summary_insert;
DROP TABLE sale_totals;
DROP TABLE lead_counts;
