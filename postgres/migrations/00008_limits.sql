-- Rate-limit token buckets and daily quota counters (issue 13 §5), one row
-- each, taken from by one conditional upsert so the limits hold across
-- replicas. at is Unix seconds (with fractions).

-- +goose Up
CREATE TABLE limits (
    key    text PRIMARY KEY,
    tokens double precision NOT NULL,
    at     double precision NOT NULL
);
CREATE INDEX limits_at_idx ON limits (at);

-- +goose Down
DROP TABLE limits;
