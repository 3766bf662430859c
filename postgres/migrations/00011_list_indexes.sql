-- Every lead list is served by an index (postgres/explain_test.go reads the
-- plan of each list query the store can issue): one (key, id) index per sort
-- key, in the very expressions leadSortExpr orders by, and a trigram index
-- (pg_trgm) over the five searched columns for q. The search keeps its exact
-- condition (any one column matches); the trigram condition on the
-- columns joined is implied by it and is what the index answers.
-- pg_trgm is created once per database, in public, so that every schema
-- (each test has its own) finds the same operator class.

-- +goose Up
SELECT pg_advisory_xact_lock(hashtext('crmleads pg_trgm'));
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX leads_updated_idx ON leads (updated_at, id);
CREATE INDEX leads_name_idx ON leads ((name COLLATE "C"), id);
CREATE INDEX leads_company_idx ON leads ((company COLLATE "C"), id);
CREATE INDEX leads_email_idx ON leads ((email COLLATE "C"), id);
CREATE INDEX leads_source_idx ON leads ((source COLLATE "C"), id);
CREATE INDEX leads_stage_rank_idx ON leads ((CASE stage WHEN 'new' THEN 0 WHEN 'contacted' THEN 1 WHEN 'qualified' THEN 2
    WHEN 'transferred' THEN 3 WHEN 'lost' THEN 4 END), id);
CREATE INDEX leads_messages_idx ON leads (messages_count, id);
CREATE INDEX leads_score_idx ON leads ((coalesce(ai_score, -1)), id);
CREATE INDEX leads_search_idx ON leads USING gin
    ((name || ' ' || email || ' ' || phone || ' ' || company || ' ' || note) public.gin_trgm_ops);

-- +goose Down
DROP INDEX leads_search_idx;
DROP INDEX leads_score_idx;
DROP INDEX leads_messages_idx;
DROP INDEX leads_stage_rank_idx;
DROP INDEX leads_source_idx;
DROP INDEX leads_email_idx;
DROP INDEX leads_company_idx;
DROP INDEX leads_name_idx;
DROP INDEX leads_updated_idx;
