-- core: operator functions. A deployment creates accounts, dashboard users
-- and API keys with these, from psql as the database owner:
--
--   SELECT core.create_account(NULL, 'Acme');                -- 'acct_...'
--   SELECT core.create_user('ops@acme.test', 'a passphrase'); -- 'usr_...'
--   SELECT core.add_membership('usr_...', 'acct_...', 'admin');
--   SELECT core.create_api_key('acct_...', NULL, false);     -- 'sk_test_...', shown once
--
-- They are not executable by the service roles. Randomness comes from
-- pgcrypto (trusted since PostgreSQL 13, so a database owner may install it),
-- installed into core so that nothing depends on search_path.

CREATE EXTENSION IF NOT EXISTS pgcrypto SCHEMA core;

DO $$
BEGIN
    IF (SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pgcrypto') <> 'core' THEN
        RAISE EXCEPTION 'pgcrypto is installed in another schema; core needs it in core'
            USING HINT = 'ALTER EXTENSION pgcrypto SET SCHEMA core';
    END IF;
END;
$$;

-- p_len characters drawn uniformly from [0-9A-Za-z]. Each random byte is cut
-- to its low 6 bits (uniform over 0..63) and 62 and 63 are rejected, so every
-- character is equally likely: a modulo would favour the first 8.
CREATE FUNCTION core.random_base62(p_len integer) RETURNS text
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    alphabet CONSTANT text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    result text := '';
    buf bytea;
    b integer;
BEGIN
    IF p_len < 0 OR p_len > 256 THEN
        RAISE EXCEPTION 'random_base62: length % out of range 0..256', p_len;
    END IF;
    WHILE length(result) < p_len LOOP
        -- 62/64 of the bytes are kept: a few spare ones usually suffice.
        buf := core.gen_random_bytes(p_len - length(result) + 8);
        FOR i IN 0 .. length(buf) - 1 LOOP
            b := get_byte(buf, i) & 63;
            IF b < 62 THEN
                result := result || substr(alphabet, b + 1, 1);
                EXIT WHEN length(result) = p_len;
            END IF;
        END LOOP;
    END LOOP;
    RETURN result;
END;
$$;

-- Creates an account. p_id NULL generates 'acct_' + 16 base62; p_name NULL is ''.
-- Returns the id.
CREATE FUNCTION core.create_account(p_id text, p_name text) RETURNS text
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO core.accounts (id, name)
    VALUES (coalesce(p_id, 'acct_' || core.random_base62(16)), coalesce(p_name, ''))
    RETURNING id;
$$;

-- Creates a dashboard user with a bcrypt (cost 10) hash of p_password; the
-- email is stored lowercased. bcrypt reads at most 72 bytes, so longer
-- passwords are refused rather than silently cut. Returns 'usr_' + 16 base62.
CREATE FUNCTION core.create_user(p_email text, p_password text) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id text := 'usr_' || core.random_base62(16);
BEGIN
    IF p_password IS NULL OR octet_length(p_password) NOT BETWEEN 8 AND 72 THEN
        RAISE EXCEPTION 'create_user: the password must be 8 to 72 bytes';
    END IF;
    INSERT INTO core.users (id, email, password_hash)
    VALUES (new_id, lower(p_email), core.crypt(p_password, core.gen_salt('bf', 10)));
    RETURN new_id;
END;
$$;

-- Gives p_user the role p_role ('admin', 'developer', 'view_only') on
-- p_account; sets the role when the membership exists.
CREATE FUNCTION core.add_membership(p_user text, p_account text, p_role text DEFAULT 'admin')
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO core.memberships (user_id, account_id, role)
    VALUES (p_user, p_account, p_role)
    ON CONFLICT (user_id, account_id) DO UPDATE SET role = EXCLUDED.role;
$$;

-- Creates a secret key for p_account (p_app NULL) or for the app p_app owned
-- by p_account: 'sk_test_' or 'sk_live_', then lookup (12 base62, stored) and
-- secret (24 base62, only hashed: sha256 of the whole key as UTF-8). Returns
-- the key: the only time it exists in clear.
CREATE FUNCTION core.create_api_key(p_account text, p_app text, p_livemode boolean) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lookup text := core.random_base62(12);
    key text;
BEGIN
    IF p_livemode IS NULL THEN
        RAISE EXCEPTION 'create_api_key: livemode must be true or false';
    END IF;
    key := CASE WHEN p_livemode THEN 'sk_live_' ELSE 'sk_test_' END
           || lookup || core.random_base62(24);
    INSERT INTO core.api_keys (id, lookup, secret_hash, livemode, account_id, app_id)
    VALUES ('key_' || core.random_base62(16), lookup, sha256(convert_to(key, 'UTF8')),
            p_livemode, p_account, p_app);
    RETURN key;
END;
$$;

-- Stores a given well-formed key (the dev fixture keeps its keys stable
-- across restarts). Idempotent: importing the same key for the same owner
-- again returns the existing id; a different key or owner with the same
-- lookup is refused. Returns the key id.
CREATE FUNCTION core.import_api_key(p_key text, p_account text, p_app text) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m text[] := regexp_match(p_key, '^sk_(test|live)_([A-Za-z0-9]{12})[A-Za-z0-9]{24}$');
    hash bytea := sha256(convert_to(p_key, 'UTF8'));
    k core.api_keys%ROWTYPE;
BEGIN
    IF m IS NULL THEN
        RAISE EXCEPTION 'import_api_key: not a key of the form sk_test_|sk_live_ + 36 base62';
    END IF;
    INSERT INTO core.api_keys (id, lookup, secret_hash, livemode, account_id, app_id)
    VALUES ('key_' || core.random_base62(16), m[2], hash, m[1] = 'live', p_account, p_app)
    ON CONFLICT (lookup) DO NOTHING
    RETURNING * INTO k;
    IF FOUND THEN
        RETURN k.id;
    END IF;
    SELECT * INTO k FROM core.api_keys a WHERE a.lookup = m[2];
    IF k.secret_hash <> hash OR k.account_id <> p_account
       OR k.app_id IS DISTINCT FROM p_app OR k.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'import_api_key: lookup % belongs to another, or a revoked, key', m[2];
    END IF;
    RETURN k.id;
END;
$$;

-- Operator functions only: no one else executes them (PostgreSQL grants
-- EXECUTE to PUBLIC by default).
REVOKE EXECUTE ON FUNCTION core.random_base62(integer), core.create_account(text, text),
    core.create_user(text, text), core.add_membership(text, text, text),
    core.create_api_key(text, text, boolean), core.import_api_key(text, text, text) FROM PUBLIC;
