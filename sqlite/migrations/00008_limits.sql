-- Rate-limit token buckets and daily quota counters (issue 13 §5), one row
-- each, taken from by one conditional upsert so the limits hold across
-- processes. at is Unix seconds (with fractions).

-- +goose Up
CREATE TABLE limits (
    key    TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    at     REAL NOT NULL
) STRICT;
CREATE INDEX limits_at_idx ON limits (at);

-- +goose Down
DROP TABLE limits;
