-- The summary tables (00013), the rate limiter's buckets (00008) and the AI
-- slots (00014) are a few hundred rows updated on almost every request. An
-- update of them changes no indexed column, so it is a HOT update that stays
-- in its page while the page has room; fillfactor 50 keeps that room.
-- A bulk load in long transactions (demo seed of a million leads, an import)
-- still leaves many dead versions behind, and with the default thresholds
-- (20 % of a table this small, at a throttled pace) autovacuum came to
-- lead_counts last, after the million-row tables: 117,320 dead rows over 953
-- pages after the seed, a board read at 8-23 ms instead of ~1 ms. So these
-- tables are vacuumed after a fixed 1,000 dead rows, unthrottled.
-- SQLite has no such bloat (no MVCC versions in the table); no migration there.

-- +goose Up
ALTER TABLE lead_counts SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
ALTER TABLE sale_totals SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
ALTER TABLE limits SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
ALTER TABLE ai_slots SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);

-- +goose Down
ALTER TABLE lead_counts RESET (fillfactor, autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, autovacuum_vacuum_cost_delay);
ALTER TABLE sale_totals RESET (fillfactor, autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, autovacuum_vacuum_cost_delay);
ALTER TABLE limits RESET (fillfactor, autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, autovacuum_vacuum_cost_delay);
ALTER TABLE ai_slots RESET (fillfactor, autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, autovacuum_vacuum_cost_delay);
