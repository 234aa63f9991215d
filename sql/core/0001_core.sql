-- core: owned by libcommon. Accounts, users, memberships, API keys (hashes
-- only), idempotency records, the events outbox and the audit log.
-- Services touch core only through libcommon's statements and functions.

CREATE SCHEMA core;

CREATE TABLE core.accounts (
    id          text PRIMARY KEY CHECK (id ~ '^acct_[A-Za-z0-9]{1,64}$'),
    name        text NOT NULL DEFAULT '',
    created     timestamptz NOT NULL DEFAULT now()
);

-- Dashboard users. password_hash is a crypt(3)-style hash (pgcrypto bcrypt,
-- "$2a$..."); never the password.
CREATE TABLE core.users (
    id            text PRIMARY KEY CHECK (id ~ '^usr_[A-Za-z0-9]{1,64}$'),
    email         text NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) <= 254),
    password_hash text NOT NULL,
    created       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE core.memberships (
    user_id     text NOT NULL REFERENCES core.users(id) ON DELETE CASCADE,
    account_id  text NOT NULL REFERENCES core.accounts(id) ON DELETE CASCADE,
    role        text NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'developer', 'view_only')),
    created     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, account_id)
);
CREATE INDEX memberships_account ON core.memberships (account_id);

-- Secret API keys: sk_test_<lookup:12><secret:24> / sk_live_... (base62).
-- Only lookup (public half) and sha256(whole key) are stored; the server
-- fetches by lookup and compares the hash in constant time. A key belongs to
-- an account (account_id) or to an app (app_id, with its owner account).
CREATE TABLE core.api_keys (
    id          text PRIMARY KEY CHECK (id ~ '^key_[A-Za-z0-9]{1,64}$'),
    lookup      text NOT NULL UNIQUE CHECK (lookup ~ '^[A-Za-z0-9]{12}$'),
    secret_hash bytea NOT NULL CHECK (length(secret_hash) = 32),
    livemode    boolean NOT NULL,
    account_id  text NOT NULL REFERENCES core.accounts(id),
    app_id      text,
    created     timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_account ON core.api_keys (account_id);

-- Idempotency: one row per (owner, key). owner is the API key owner plus the
-- Stripe-Account acted for plus the mode. The row is inserted by
-- core.idem_claim() inside the request's own transaction, and its response
-- stored before COMMIT, so it costs one extra round trip on the hot path.
CREATE TABLE core.idempotency (
    owner        text NOT NULL,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    route        text NOT NULL,
    params_hash  bytea NOT NULL,
    status       integer,
    body         text,
    created      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_created ON core.idempotency (created);

-- Claims (owner, key) for the calling transaction. Returns one row:
--   state 'new'      : claimed; run the request, then core.idem_store() before COMMIT
--   state 'replay'   : (status, body) of the first request with this key
--   state 'mismatch' : the key was first used with another route or parameters
--   state 'busy'     : another request holding the key is still running
-- A transaction-scoped advisory lock makes concurrent holders see 'busy'
-- instead of waiting. Rows older than 24 hours are treated as absent.
CREATE FUNCTION core.idem_claim(p_owner text, p_key text, p_route text, p_hash bytea,
                                OUT state text, OUT status integer, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
    r core.idempotency%ROWTYPE;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtextextended(p_owner || chr(31) || p_key, 0)) THEN
        state := 'busy';
        RETURN;
    END IF;
    SELECT * INTO r FROM core.idempotency i WHERE i.owner = p_owner AND i.key = p_key;
    IF FOUND AND r.created < now() - interval '24 hours' THEN
        DELETE FROM core.idempotency i WHERE i.owner = p_owner AND i.key = p_key;
        FOUND := false;
    END IF;
    IF FOUND THEN
        IF r.route <> p_route OR r.params_hash <> p_hash THEN
            state := 'mismatch';
        ELSIF r.status IS NULL THEN
            state := 'busy';
        ELSE
            state := 'replay';
            status := r.status;
            body := r.body;
        END IF;
        RETURN;
    END IF;
    INSERT INTO core.idempotency (owner, key, route, params_hash) VALUES (p_owner, p_key, p_route, p_hash);
    state := 'new';
END;
$$;

-- Events outbox: written in the transaction of the change it describes.
-- Delivery (core.event_deliveries, the worker) comes with svc-install.
CREATE TABLE core.events (
    seq             bigserial UNIQUE,
    id              text PRIMARY KEY CHECK (id ~ '^evt_[A-Za-z0-9]{1,64}$'),
    type            text NOT NULL,
    account_id      text,
    app_id          text,
    livemode        boolean NOT NULL,
    api_version     text,
    created         timestamptz NOT NULL DEFAULT now(),
    request_id      text,
    idempotency_key text,
    data            jsonb NOT NULL
);
CREATE INDEX events_account_created ON core.events (account_id, livemode, created DESC, seq DESC);
CREATE INDEX events_type ON core.events (type, created DESC);

-- Audit log: one row per audited action. Never a payload, key, client secret
-- or personal datum: actor is a key id (key_...) or user id, never the key.
CREATE TABLE core.audit (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    request_id  text,
    service     text NOT NULL,
    action      text NOT NULL,
    actor       text,
    account_id  text,
    app_id      text,
    livemode    boolean,
    object_id   text,
    status      integer NOT NULL,
    error_code  text,
    client_addr text,
    user_agent  text
);
CREATE INDEX audit_at ON core.audit (at);
CREATE INDEX audit_account_at ON core.audit (account_id, at);
