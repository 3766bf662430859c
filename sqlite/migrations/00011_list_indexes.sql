-- Every lead list is served by an index (sqlite/explain_test.go reads
-- EXPLAIN QUERY PLAN of each list query the store can issue): one
-- (key, id) index per sort key, in the expressions leadSortExpr orders by,
-- and an FTS5 trigram index over the five searched columns for q (three
-- characters or more). The search keeps its exact LIKE condition beside the
-- index's. leads_fts is an external-content table keyed by the leads'
-- rowid, kept by triggers; a plain VACUUM may renumber those rowids, so
-- after one run: INSERT INTO leads_fts(leads_fts) VALUES ('rebuild').

-- +goose Up
CREATE INDEX leads_updated_idx ON leads (updated_at, id);
CREATE INDEX leads_name_idx ON leads (name, id);
CREATE INDEX leads_company_idx ON leads (company, id);
CREATE INDEX leads_email_idx ON leads (email, id);
CREATE INDEX leads_source_idx ON leads (source, id);
CREATE INDEX leads_stage_rank_idx ON leads ((CASE stage WHEN 'new' THEN 0 WHEN 'contacted' THEN 1 WHEN 'qualified' THEN 2
    WHEN 'transferred' THEN 3 WHEN 'lost' THEN 4 END), id);
CREATE INDEX leads_messages_idx ON leads (messages_count, id);
CREATE INDEX leads_score_idx ON leads (coalesce(ai_score, -1), id);
CREATE VIRTUAL TABLE leads_fts USING fts5(name, email, phone, company, note,
    content = 'leads', content_rowid = 'rowid', tokenize = 'trigram');
INSERT INTO leads_fts (leads_fts) VALUES ('rebuild');
-- +goose StatementBegin
CREATE TRIGGER leads_fts_insert AFTER INSERT ON leads BEGIN
    INSERT INTO leads_fts (rowid, name, email, phone, company, note)
        VALUES (new.rowid, new.name, new.email, new.phone, new.company, new.note);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER leads_fts_delete AFTER DELETE ON leads BEGIN
    INSERT INTO leads_fts (leads_fts, rowid, name, email, phone, company, note)
        VALUES ('delete', old.rowid, old.name, old.email, old.phone, old.company, old.note);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER leads_fts_update AFTER UPDATE OF name, email, phone, company, note ON leads
    WHEN old.name IS NOT new.name OR old.email IS NOT new.email OR old.phone IS NOT new.phone
        OR old.company IS NOT new.company OR old.note IS NOT new.note BEGIN
    INSERT INTO leads_fts (leads_fts, rowid, name, email, phone, company, note)
        VALUES ('delete', old.rowid, old.name, old.email, old.phone, old.company, old.note);
    INSERT INTO leads_fts (rowid, name, email, phone, company, note)
        VALUES (new.rowid, new.name, new.email, new.phone, new.company, new.note);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER leads_fts_update;
DROP TRIGGER leads_fts_delete;
DROP TRIGGER leads_fts_insert;
DROP TABLE leads_fts;
DROP INDEX leads_score_idx;
DROP INDEX leads_messages_idx;
DROP INDEX leads_stage_rank_idx;
DROP INDEX leads_source_idx;
DROP INDEX leads_email_idx;
DROP INDEX leads_company_idx;
DROP INDEX leads_name_idx;
DROP INDEX leads_updated_idx;
