-- Sign-in sessions of the install pages (svc-install), and the throttle on
-- failed sign-ins.
--
-- A session is a random token in the browser's cookie; only sha256(token) is
-- stored, so a copy of this table signs no one in. The token carries 256 bits
-- of randomness, so looking a session up by the equality of its hash leaks
-- nothing useful through timing. A session ends at expires_at, or when the
-- user signs out (the row is deleted), or when the user is deleted.
--
-- Sign-in goes through core.user_sign_in(), the only reader and writer of the
-- throttle: after 5 failures for one email within 15 minutes, or 50 from one
-- client address, further attempts are refused for 15 minutes without even
-- checking the password. The throttle keys are sha256 digests, so the table
-- holds no email address.

CREATE TABLE core.user_sessions (
    token_hash  bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id     text NOT NULL REFERENCES core.users(id) ON DELETE CASCADE,
    created     timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    CHECK (expires_at > created)
);
CREATE INDEX user_sessions_user ON core.user_sessions (user_id);
CREATE INDEX user_sessions_expires ON core.user_sessions (expires_at);

CREATE TABLE core.sign_in_throttle (
    key_hash       bytea PRIMARY KEY CHECK (length(key_hash) = 32),
    failures       integer NOT NULL CHECK (failures > 0),
    first_failure  timestamptz NOT NULL,
    locked_until   timestamptz
);

-- Checks p_password against the user with email p_email (any case) for a
-- request from p_client (the client address; '' when unknown). Returns one
-- row: outcome 'ok' with the user's id, or 'invalid' (no such user, wrong
-- password, a password over bcrypt's 72 bytes) or 'throttled' with user_id
-- NULL. An unknown email costs one bcrypt like a known one, so the time taken
-- does not tell which emails exist.
CREATE FUNCTION core.user_sign_in(p_email text, p_password text, p_client text)
RETURNS TABLE (user_id text, outcome text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_window CONSTANT interval := interval '15 minutes';
    c_email_limit CONSTANT integer := 5;
    c_client_limit CONSTANT integer := 50;
    email_key bytea := sha256(convert_to('email:' || lower(coalesce(p_email, '')), 'UTF8'));
    client_key bytea := sha256(convert_to('client:' || coalesce(p_client, ''), 'UTF8'));
    u core.users%ROWTYPE;
    ok boolean;
BEGIN
    DELETE FROM core.sign_in_throttle t
    WHERE t.first_failure < now() - c_window
      AND (t.locked_until IS NULL OR t.locked_until < now());

    IF EXISTS (SELECT 1 FROM core.sign_in_throttle t
               WHERE t.key_hash IN (email_key, client_key) AND t.locked_until > now()) THEN
        RETURN QUERY SELECT NULL::text, 'throttled'::text;
        RETURN;
    END IF;

    SELECT * INTO u FROM core.users x WHERE x.email = lower(coalesce(p_email, ''));
    ok := core.crypt(coalesce(p_password, ''),
                     coalesce(u.password_hash, core.gen_salt('bf', 10))) = u.password_hash
          AND octet_length(p_password) <= 72;
    IF ok THEN
        DELETE FROM core.sign_in_throttle t WHERE t.key_hash = email_key;
        RETURN QUERY SELECT u.id, 'ok'::text;
        RETURN;
    END IF;

    INSERT INTO core.sign_in_throttle AS t (key_hash, failures, first_failure, locked_until)
    VALUES (email_key, 1, now(), NULL), (client_key, 1, now(), NULL)
    ON CONFLICT (key_hash) DO UPDATE
    SET failures = CASE WHEN t.first_failure < now() - c_window THEN 1 ELSE t.failures + 1 END,
        first_failure = CASE WHEN t.first_failure < now() - c_window THEN now()
                             ELSE t.first_failure END,
        locked_until = CASE
            WHEN t.first_failure >= now() - c_window
                 AND t.failures + 1 >= CASE WHEN t.key_hash = email_key THEN c_email_limit
                                            ELSE c_client_limit END
            THEN now() + c_window
            ELSE t.locked_until END;
    RETURN QUERY SELECT NULL::text, 'invalid'::text;
END;
$$;
REVOKE ALL ON FUNCTION core.user_sign_in(text, text, text) FROM PUBLIC;
