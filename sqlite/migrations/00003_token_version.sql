-- Every access token carries its user's token version; raising it (a
-- password change or reset, a deactivation, signing out) ends every token
-- issued before. Tokens issued before this column existed carry none, which
-- reads as 0, the version every user starts at.

-- +goose Up
ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN token_version;
