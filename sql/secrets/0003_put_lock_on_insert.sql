-- secrets.put takes the scope lock only to insert a new name. Replacing an
-- existing secret locks just that row, so sets of different names in one
-- scope no longer wait for each other's commits; only the (rare) insert,
-- which must see a stable count to keep the 10-per-scope limit, is
-- serialized per scope. An insert that races another insert of the same
-- name turns into a replace (the unique constraint decides).
CREATE OR REPLACE FUNCTION secrets.put(p_id text, p_app text, p_account text, p_livemode boolean,
                                       p_scope_type text, p_scope_user text, p_name text,
                                       p_name_hash bytea, p_key_id text, p_payload bytea,
                                       p_expires_at timestamptz,
                                       OUT outcome text, OUT id text, OUT created bigint,
                                       OUT expires_at bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r secrets.secrets%ROWTYPE;
BEGIN
    -- Replace a live secret of that name: its row lock is all it needs.
    UPDATE secrets.secrets s
       SET key_id = p_key_id, payload = p_payload, expires_at = p_expires_at
     WHERE s.app_id = p_app AND s.account_id = p_account AND s.livemode = p_livemode
       AND s.scope_type = p_scope_type AND s.scope_user = p_scope_user
       AND s.name_hash = p_name_hash AND s.name = p_name
       AND (s.expires_at IS NULL OR s.expires_at > now())
    RETURNING s.* INTO r;
    IF NOT FOUND THEN
        PERFORM pg_advisory_xact_lock(hashtextextended(
            concat_ws(chr(31), 'secrets', p_app, p_account, p_livemode::text, p_scope_type,
                      p_scope_user), 0));
        -- Expired secrets count for nothing and are gone for every call; a
        -- new secret of an expired one's name is a new secret.
        DELETE FROM secrets.secrets s
         WHERE s.app_id = p_app AND s.account_id = p_account AND s.livemode = p_livemode
           AND s.scope_type = p_scope_type AND s.scope_user = p_scope_user
           AND s.expires_at <= now();
        IF (SELECT count(*) FROM secrets.secrets s
             WHERE s.app_id = p_app AND s.account_id = p_account AND s.livemode = p_livemode
               AND s.scope_type = p_scope_type AND s.scope_user = p_scope_user
               AND NOT (s.name_hash = p_name_hash AND s.name = p_name)) >= 10 THEN
            outcome := 'limit';
            RETURN;
        END IF;
        INSERT INTO secrets.secrets AS s (id, app_id, account_id, livemode, scope_type,
                                          scope_user, name, name_hash, key_id, payload,
                                          expires_at)
        VALUES (p_id, p_app, p_account, p_livemode, p_scope_type, p_scope_user, p_name,
                p_name_hash, p_key_id, p_payload, p_expires_at)
        ON CONFLICT ON CONSTRAINT secrets_unique_name DO UPDATE
           SET key_id = EXCLUDED.key_id, payload = EXCLUDED.payload,
               expires_at = EXCLUDED.expires_at
        RETURNING s.* INTO r;
    END IF;
    outcome := 'ok';
    id := r.id;
    created := floor(extract(epoch FROM r.created))::bigint;
    expires_at := floor(extract(epoch FROM r.expires_at))::bigint;
END;
$$;
