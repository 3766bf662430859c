-- The sign-in limit per client address (issue 13 §4) counts attempts by
-- client beside the per-email one; existing rows have no client.

-- +goose Up
ALTER TABLE login_attempts ADD COLUMN client text NOT NULL DEFAULT '';
CREATE INDEX login_attempts_client_idx ON login_attempts (client, at);

-- +goose Down
DROP INDEX login_attempts_client_idx;
ALTER TABLE login_attempts DROP COLUMN client;
