-- The actor check of every authenticated request, run at the head of the
-- request's own first pipeline (postgres/fold.go): it raises when the
-- token's user is gone or inactive (CRMA1), the token's version is not the
-- user's (CRMA2) or the token's role is not (CRMA3), which aborts the rest of
-- the pipeline.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION crm_check_actor(p_id uuid, p_version integer, p_role text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    u_active  boolean;
    u_version integer;
    u_role    text;
BEGIN
    SELECT active, token_version, role INTO u_active, u_version, u_role FROM users WHERE id = p_id;
    IF NOT FOUND OR NOT u_active THEN
        RAISE EXCEPTION 'the account is not active' USING ERRCODE = 'CRMA1';
    END IF;
    IF u_version <> p_version THEN
        RAISE EXCEPTION 'the token has been ended' USING ERRCODE = 'CRMA2';
    END IF;
    IF u_role <> p_role THEN
        RAISE EXCEPTION 'the role has changed' USING ERRCODE = 'CRMA3';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION crm_check_actor(uuid, integer, text);
