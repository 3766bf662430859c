-- The AI's reason in Ukrainian beside the English one (issue 12, §7): the
-- app shows the reason in the page's language. Nullable: analyses made before
-- it was asked for have their one reason only, and keep showing it.

-- +goose Up
ALTER TABLE leads ADD COLUMN ai_reason_uk TEXT;
ALTER TABLE analyses ADD COLUMN reason_uk TEXT;

-- +goose Down
ALTER TABLE analyses DROP COLUMN reason_uk;
ALTER TABLE leads DROP COLUMN ai_reason_uk;
