-- Dashboard extension tokens, and a readable target on audit rows.
--
-- A signed-in dashboard user working in an installed app's UI extension calls
-- the API with a short-lived token the dashboard issues for exactly (user,
-- account, app, mode): `Authorization: Bearer uxt_test_<lookup:12><secret:24>`.
-- Like API keys, only the lookup half and sha256(token) are stored. The token
-- is refused once it expires, once the user leaves the account, or once the
-- app is uninstalled (libcommon's auth checks all three in its one statement).
-- What a token may reach is the API's business: the Secret Store lets it use
-- the account scope and only its own user's user scope.

CREATE TABLE core.extension_tokens (
    id          text PRIMARY KEY CHECK (id ~ '^xtok_[A-Za-z0-9]{1,64}$'),
    lookup      text NOT NULL UNIQUE CHECK (lookup ~ '^[A-Za-z0-9]{12}$'),
    secret_hash bytea NOT NULL CHECK (length(secret_hash) = 32),
    user_id     text NOT NULL REFERENCES core.users(id) ON DELETE CASCADE,
    account_id  text NOT NULL REFERENCES core.accounts(id) ON DELETE CASCADE,
    app_id      text NOT NULL,
    livemode    boolean NOT NULL,
    created     timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX extension_tokens_expires ON core.extension_tokens (expires_at);

-- Issues a token for p_user acting in p_account through the app p_app, valid
-- p_ttl_seconds (1..86400). The user must be a member of the account. Returns
-- the token: the only time it exists in clear.
CREATE FUNCTION core.create_extension_token(p_user text, p_account text, p_app text,
                                            p_livemode boolean, p_ttl_seconds integer DEFAULT 3600)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lookup text := core.random_base62(12);
    token text;
BEGIN
    IF p_livemode IS NULL OR p_app IS NULL THEN
        RAISE EXCEPTION 'create_extension_token: app and livemode are required';
    END IF;
    IF p_ttl_seconds IS NULL OR p_ttl_seconds NOT BETWEEN 1 AND 86400 THEN
        RAISE EXCEPTION 'create_extension_token: ttl must be 1 to 86400 seconds';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM core.memberships m
                   WHERE m.user_id = p_user AND m.account_id = p_account) THEN
        RAISE EXCEPTION 'create_extension_token: % is not a member of %', p_user, p_account;
    END IF;
    token := CASE WHEN p_livemode THEN 'uxt_live_' ELSE 'uxt_test_' END
             || lookup || core.random_base62(24);
    INSERT INTO core.extension_tokens (id, lookup, secret_hash, user_id, account_id, app_id,
                                       livemode, expires_at)
    VALUES ('xtok_' || core.random_base62(16), lookup, sha256(convert_to(token, 'UTF8')),
            p_user, p_account, p_app, p_livemode,
            now() + make_interval(secs => p_ttl_seconds));
    RETURN token;
END;
$$;
REVOKE ALL ON FUNCTION core.create_extension_token(text, text, text, boolean, integer) FROM PUBLIC;

-- What an audited action touched, in words an auditor can filter on (for a
-- secret: "user:usr_1/api_token"). Never a payload or a personal datum.
ALTER TABLE core.audit ADD COLUMN target text;
