-- The Secret Store. A secret belongs to (app, account, livemode, scope): only
-- the app that wrote it reaches it, a test key never sees live rows, and a
-- user scope is one user's. Payloads are AES-256-GCM sealed by the service
-- (key_id names the key; the row identity is the associated data), so this
-- table never holds a payload in clear.
--
-- Names are up to 5000 characters, too long for a btree entry, so uniqueness
-- and lookups go through name_hash = sha256(name), computed by the service;
-- queries also compare the name itself.

CREATE TABLE secrets.secrets (
    id          text PRIMARY KEY CHECK (id ~ '^appsecret_[A-Za-z0-9]{1,64}$'),
    app_id      text NOT NULL,
    account_id  text NOT NULL,
    livemode    boolean NOT NULL,
    scope_type  text NOT NULL CHECK (scope_type IN ('account', 'user')),
    scope_user  text NOT NULL DEFAULT '' CHECK ((scope_type = 'account') = (scope_user = '')),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 5000),
    name_hash   bytea NOT NULL CHECK (length(name_hash) = 32),
    key_id      text NOT NULL,
    payload     bytea NOT NULL,
    expires_at  timestamptz,
    created     timestamptz NOT NULL DEFAULT now(),
    -- Newest first, stable within a second: lists order by seq.
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    CONSTRAINT secrets_unique_name
        UNIQUE (app_id, account_id, livemode, scope_type, scope_user, name_hash)
);
CREATE INDEX secrets_scope_seq
    ON secrets.secrets (app_id, account_id, livemode, scope_type, scope_user, seq DESC);
CREATE INDEX secrets_expiry ON secrets.secrets (expires_at) WHERE expires_at IS NOT NULL;
-- Key rotation walks the rows not under the active key.
CREATE INDEX secrets_key ON secrets.secrets (key_id);

-- Sets (creates or replaces) a secret, in one round trip. Scope-level work is
-- serialized by a transaction-scoped advisory lock on the scope, so two
-- concurrent sets cannot both take the tenth place. Expired secrets of the
-- scope are removed first: they count for nothing and are gone for every
-- call. A replace keeps the secret's id, created and position.
-- Returns outcome 'ok' with the row, or 'limit' when the scope is full.
CREATE FUNCTION secrets.put(p_id text, p_app text, p_account text, p_livemode boolean,
                            p_scope_type text, p_scope_user text, p_name text, p_name_hash bytea,
                            p_key_id text, p_payload bytea, p_expires_at timestamptz,
                            OUT outcome text, OUT id text, OUT created bigint,
                            OUT expires_at bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r secrets.secrets%ROWTYPE;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(
        concat_ws(chr(31), 'secrets', p_app, p_account, p_livemode::text, p_scope_type,
                  p_scope_user), 0));
    DELETE FROM secrets.secrets s
     WHERE s.app_id = p_app AND s.account_id = p_account AND s.livemode = p_livemode
       AND s.scope_type = p_scope_type AND s.scope_user = p_scope_user
       AND s.expires_at <= now();
    UPDATE secrets.secrets s
       SET key_id = p_key_id, payload = p_payload, expires_at = p_expires_at
     WHERE s.app_id = p_app AND s.account_id = p_account AND s.livemode = p_livemode
       AND s.scope_type = p_scope_type AND s.scope_user = p_scope_user
       AND s.name_hash = p_name_hash AND s.name = p_name
    RETURNING s.* INTO r;
    IF NOT FOUND THEN
        IF (SELECT count(*) FROM secrets.secrets s
             WHERE s.app_id = p_app AND s.account_id = p_account AND s.livemode = p_livemode
               AND s.scope_type = p_scope_type AND s.scope_user = p_scope_user) >= 10 THEN
            outcome := 'limit';
            RETURN;
        END IF;
        INSERT INTO secrets.secrets (id, app_id, account_id, livemode, scope_type, scope_user,
                                     name, name_hash, key_id, payload, expires_at)
        VALUES (p_id, p_app, p_account, p_livemode, p_scope_type, p_scope_user, p_name,
                p_name_hash, p_key_id, p_payload, p_expires_at)
        RETURNING * INTO r;
    END IF;
    outcome := 'ok';
    id := r.id;
    created := floor(extract(epoch FROM r.created))::bigint;
    expires_at := floor(extract(epoch FROM r.expires_at))::bigint;
END;
$$;
