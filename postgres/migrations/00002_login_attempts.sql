-- Sign-in attempts are recorded before the password is checked (not only
-- failures after it), so a parallel burst is counted as it arrives. The
-- failures of the old table are transient (kept for a day) and not carried over.

-- +goose Up
CREATE TABLE login_attempts (
    id     uuid PRIMARY KEY,
    email  text NOT NULL,
    at     timestamptz NOT NULL,
    failed boolean NOT NULL DEFAULT false
);
CREATE INDEX login_attempts_idx ON login_attempts (email, at);
DROP TABLE login_failures;

-- +goose Down
CREATE TABLE login_failures (
    email text NOT NULL,
    at    timestamptz NOT NULL
);
CREATE INDEX login_failures_idx ON login_failures (email, at);
INSERT INTO login_failures (email, at) SELECT email, at FROM login_attempts WHERE failed;
DROP TABLE login_attempts;
