-- The boards (GET /leads/summary, GET /sales/summary, the board pages) read
-- their counts and totals from summary tables instead of a GROUP BY over
-- every lead and sale. Triggers keep them, in the same transaction as the
-- change, so no code path (the service, a bulk action, an import, COPY, a
-- hand-written fix) can forget them.
--
-- The hot row: every create of one owner would add 1 to the same row, and
-- that row lock, held until commit (the WAL flush included), would serialise
-- them all. So each count is split over 64 shards, the low 6 bits of the
-- lead's id (a UUIDv7's random bits), and summed on read. A lead's rows in
-- both tables are always in its own shard, so a shard's row is exactly the
-- GROUP BY of the leads with those bits. pgbench, 16 clients creating leads
-- of one owner (BEGIN; INSERT lead; INSERT event; COMMIT), 5 s runs on the
-- loaded 2-CPU machine (docs/BENCHMARKS.md): no trigger ~1,000 tps; one row
-- 345-447; 16 shards 696-963; 64 shards 868-969. A board reads at most 64
-- rows per owner, stage and next-step or currency.
--
-- Deadlocks: a row trigger writes all its rows in one INSERT … ON CONFLICT
-- ordered by key, so two transactions never take the same rows in opposite
-- orders; a transaction touches lead_counts before sale_totals.
--
-- owner_id is the nil UUID for leads without an owner (a key column cannot be
-- NULL); currency is '' for sales without a value. n has no CHECK (n >= 0):
-- PostgreSQL checks an upsert's proposed row (n = -1 for a decrement) before
-- it finds the conflict.

-- +goose Up
CREATE TABLE lead_counts (
    owner_id     uuid NOT NULL,
    stage        text NOT NULL,
    no_next_step boolean NOT NULL, -- open and without an open task
    shard        smallint NOT NULL,
    n            bigint NOT NULL,
    PRIMARY KEY (owner_id, stage, no_next_step, shard)
);

CREATE TABLE sale_totals (
    owner_id uuid NOT NULL, -- the lead's owner: a board shows its owner's sales
    stage    text NOT NULL,
    currency text NOT NULL,
    shard    smallint NOT NULL,
    n        bigint NOT NULL,
    total    numeric NOT NULL, -- cannot overflow; read back as bigint, which fails rather than rounds
    PRIMARY KEY (owner_id, stage, currency, shard)
);

-- +goose StatementBegin
CREATE FUNCTION crm_shard(id uuid) RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (get_byte(uuid_send(id), 15) & 63)::smallint $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION crm_owner_key(owner uuid) RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT coalesce(owner, '00000000-0000-0000-0000-000000000000'::uuid) $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION crm_no_next_step(stage text, open_tasks integer) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT open_tasks = 0 AND stage IN ('new', 'contacted', 'qualified') $$;
-- +goose StatementEnd

-- Inserts, one statement at a time: a COPY of a million leads makes one
-- grouped upsert, not a million.
-- +goose StatementBegin
CREATE FUNCTION crm_leads_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lead_counts AS c (owner_id, stage, no_next_step, shard, n)
    SELECT crm_owner_key(owner_id), stage, crm_no_next_step(stage, open_tasks), crm_shard(id), count(*)
    FROM new_leads GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (owner_id, stage, no_next_step, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER leads_summary_insert AFTER INSERT ON leads
    REFERENCING NEW TABLE AS new_leads FOR EACH STATEMENT EXECUTE FUNCTION crm_leads_inserted();

-- Updates and deletes, one row at a time, and only those that move a count:
-- most updates (an analysis, a note) fail the WHEN and cost nothing.
-- +goose StatementBegin
CREATE FUNCTION crm_lead_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lead_counts AS c (owner_id, stage, no_next_step, shard, n)
    SELECT o, s, nns, crm_shard(OLD.id), sum(d) FROM (VALUES
        (crm_owner_key(OLD.owner_id), OLD.stage, crm_no_next_step(OLD.stage, OLD.open_tasks), -1),
        (crm_owner_key(NEW.owner_id), NEW.stage, crm_no_next_step(NEW.stage, NEW.open_tasks), CASE WHEN TG_OP = 'UPDATE' THEN 1 END)
    ) v (o, s, nns, d) WHERE d IS NOT NULL
    GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (owner_id, stage, no_next_step, shard) DO UPDATE SET n = c.n + excluded.n;
    -- A reassigned lead takes its sale to the new owner's board. FOR SHARE
    -- waits for a concurrent change of the sale, whose own trigger then read
    -- the old owner, and reads the sale as that change left it.
    IF TG_OP = 'UPDATE' AND OLD.owner_id IS DISTINCT FROM NEW.owner_id THEN
        INSERT INTO sale_totals AS t (owner_id, stage, currency, shard, n, total)
        SELECT v.o, s.stage, coalesce(s.currency, ''), crm_shard(s.lead_id), v.d, v.d * coalesce(s.amount, 0)
        FROM (SELECT * FROM sales WHERE lead_id = NEW.id FOR SHARE) s
        CROSS JOIN (VALUES (crm_owner_key(OLD.owner_id), -1), (crm_owner_key(NEW.owner_id), 1)) v (o, d)
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (owner_id, stage, currency, shard) DO UPDATE SET n = t.n + excluded.n, total = t.total + excluded.total;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER leads_summary_update AFTER UPDATE OF owner_id, stage, open_tasks ON leads FOR EACH ROW
    WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.stage <> NEW.stage
        OR (OLD.open_tasks = 0) <> (NEW.open_tasks = 0))
    EXECUTE FUNCTION crm_lead_changed();
CREATE TRIGGER leads_summary_delete AFTER DELETE ON leads FOR EACH ROW EXECUTE FUNCTION crm_lead_changed();

-- +goose StatementBegin
CREATE FUNCTION crm_sales_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sale_totals AS t (owner_id, stage, currency, shard, n, total)
    SELECT crm_owner_key(l.owner_id), s.stage, coalesce(s.currency, ''), crm_shard(s.lead_id), count(*), coalesce(sum(s.amount), 0)
    FROM new_sales s JOIN leads l ON l.id = s.lead_id GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (owner_id, stage, currency, shard) DO UPDATE SET n = t.n + excluded.n, total = t.total + excluded.total;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER sales_summary_insert AFTER INSERT ON sales
    REFERENCING NEW TABLE AS new_sales FOR EACH STATEMENT EXECUTE FUNCTION crm_sales_inserted();

-- A sale's owner is its lead's: the lead row is read as this transaction
-- sees it (a transfer has just updated it), and a concurrent reassignment
-- waits for this change (see crm_lead_changed).
-- +goose StatementBegin
CREATE FUNCTION crm_sale_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sale_totals AS t (owner_id, stage, currency, shard, n, total)
    SELECT crm_owner_key(l.owner_id), v.s, v.cur, crm_shard(v.lead_id), sum(v.d), sum(v.d * v.amount)
    FROM (VALUES
        (OLD.lead_id, OLD.stage, coalesce(OLD.currency, ''), -1, coalesce(OLD.amount, 0)),
        (NEW.lead_id, NEW.stage, coalesce(NEW.currency, ''), CASE WHEN TG_OP = 'UPDATE' THEN 1 END, coalesce(NEW.amount, 0))
    ) v (lead_id, s, cur, d, amount) JOIN leads l ON l.id = v.lead_id WHERE v.d IS NOT NULL
    GROUP BY 1, 2, 3, 4 HAVING sum(v.d) <> 0 OR sum(v.d * v.amount) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (owner_id, stage, currency, shard) DO UPDATE SET n = t.n + excluded.n, total = t.total + excluded.total;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER sales_summary_update AFTER UPDATE OF lead_id, stage, currency, amount ON sales FOR EACH ROW
    WHEN (OLD.lead_id <> NEW.lead_id OR OLD.stage <> NEW.stage OR OLD.currency IS DISTINCT FROM NEW.currency
        OR OLD.amount IS DISTINCT FROM NEW.amount)
    EXECUTE FUNCTION crm_sale_changed();
CREATE TRIGGER sales_summary_delete AFTER DELETE ON sales FOR EACH ROW EXECUTE FUNCTION crm_sale_changed();

-- Backfill what is there. The migration runs in one transaction; the lock
-- keeps writers out between the backfill and the triggers' first use.
LOCK TABLE leads, sales IN SHARE MODE;
INSERT INTO lead_counts (owner_id, stage, no_next_step, shard, n)
SELECT crm_owner_key(owner_id), stage, crm_no_next_step(stage, open_tasks), crm_shard(id), count(*)
FROM leads GROUP BY 1, 2, 3, 4;
INSERT INTO sale_totals (owner_id, stage, currency, shard, n, total)
SELECT crm_owner_key(l.owner_id), s.stage, coalesce(s.currency, ''), crm_shard(s.lead_id), count(*), coalesce(sum(s.amount), 0)
FROM sales s JOIN leads l ON l.id = s.lead_id GROUP BY 1, 2, 3, 4;

-- +goose Down
DROP TRIGGER sales_summary_delete ON sales;
DROP TRIGGER sales_summary_update ON sales;
DROP TRIGGER sales_summary_insert ON sales;
DROP TRIGGER leads_summary_delete ON leads;
DROP TRIGGER leads_summary_update ON leads;
DROP TRIGGER leads_summary_insert ON leads;
DROP FUNCTION crm_sale_changed();
DROP FUNCTION crm_sales_inserted();
DROP FUNCTION crm_lead_changed();
DROP FUNCTION crm_leads_inserted();
DROP FUNCTION crm_no_next_step(text, integer);
DROP FUNCTION crm_owner_key(uuid);
DROP FUNCTION crm_shard(uuid);
DROP TABLE sale_totals;
DROP TABLE lead_counts;
