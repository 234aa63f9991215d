-- The audit log becomes monthly partitions with a hash chain.
--
-- Partitions: core.audit is partitioned by month on `at` (core.audit_YYYYMM),
-- with a default partition so that an insert never fails for want of one;
-- core.audit_ensure_partitions() creates the current and next months (the
-- services call it from their housekeeping), moving any rows the default
-- partition caught for that month. Retention drops whole months
-- (sql/audit.sh export).
--
-- Tamper evidence: requests only INSERT audit rows (the service roles hold no
-- UPDATE or DELETE). A chainer, core.audit_chain_extend(), run every second
-- by whichever service instance takes its lock first (try-lock: nobody ever
-- waits for it), appends one entry per row to core.audit_chain, in order:
--   hash(n) = sha256(hash(n-1) || canonical encoding of the audit row)
-- so no request serializes on a chain head: the cost on the request path is
-- the INSERT alone. It chains rows older than a 5 second lag (transactions
-- in flight), walking forward on (at, id), and sweeps the last two minutes
-- for rows whose transaction committed late. core.audit_verify() recomputes
-- the chain and reports the first entry that does not hold: a row modified,
-- deleted or moved, a chain entry changed, deleted or reordered, or an old
-- row the chain never took in. Truncating the tail (rows and their entries)
-- leaves a shorter but consistent chain: only a checkpoint kept outside the
-- database catches that (sql/audit.sh checkpoint / verify --checkpoint).

ALTER TABLE core.audit RENAME TO audit_unpartitioned;
ALTER INDEX core.audit_pkey RENAME TO audit_unpartitioned_pkey;
ALTER INDEX core.audit_at RENAME TO audit_unpartitioned_at;
ALTER INDEX core.audit_account_at RENAME TO audit_unpartitioned_account_at;

CREATE TABLE core.audit (
    id          bigint NOT NULL DEFAULT nextval('core.audit_id_seq'),
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
    user_agent  text,
    target      text,
    route       text,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE core.audit_default PARTITION OF core.audit DEFAULT;
CREATE INDEX audit_at_id ON core.audit (at, id);
CREATE INDEX audit_account_at ON core.audit (account_id, at);

-- Creates the partition of the month holding p_day, if missing. Rows the
-- default partition caught for that month move into it.
CREATE FUNCTION core.audit_ensure_partition(p_day date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lo date := date_trunc('month', p_day)::date;
    hi date := (date_trunc('month', p_day) + interval '1 month')::date;
    name text := 'audit_' || to_char(p_day, 'YYYYMM');
BEGIN
    IF to_regclass('core.' || name) IS NOT NULL THEN
        RETURN;
    END IF;
    -- Serialize creators (several services run this).
    PERFORM pg_advisory_xact_lock(hashtextextended('core.audit_ensure_partition', 0));
    IF to_regclass('core.' || name) IS NOT NULL THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM core.audit_default WHERE at >= lo AND at < hi) THEN
        EXECUTE format('CREATE TABLE core.%I (LIKE core.audit INCLUDING DEFAULTS)', name);
        EXECUTE format('WITH moved AS (DELETE FROM core.audit_default WHERE at >= %L AND at < %L'
                       ' RETURNING *) INSERT INTO core.%I SELECT * FROM moved', lo, hi, name);
        EXECUTE format('ALTER TABLE core.audit ATTACH PARTITION core.%I FOR VALUES FROM (%L) TO (%L)',
                       name, lo, hi);
    ELSE
        EXECUTE format('CREATE TABLE core.%I PARTITION OF core.audit FOR VALUES FROM (%L) TO (%L)',
                       name, lo, hi);
    END IF;
END;
$$;

-- This month and the next: what the services' housekeeping keeps ready.
CREATE FUNCTION core.audit_ensure_partitions() RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT core.audit_ensure_partition(current_date);
    SELECT core.audit_ensure_partition((current_date + interval '1 month')::date);
$$;

-- Moves the existing rows into their months.
DO $$
DECLARE
    m date;
BEGIN
    FOR m IN SELECT DISTINCT date_trunc('month', at)::date FROM core.audit_unpartitioned LOOP
        PERFORM core.audit_ensure_partition(m);
    END LOOP;
    PERFORM core.audit_ensure_partitions();
END;
$$;
INSERT INTO core.audit (id, at, request_id, service, action, actor, account_id, app_id, livemode,
                        object_id, status, error_code, client_addr, user_agent, target)
SELECT id, at, request_id, service, action, actor, account_id, app_id, livemode, object_id,
       status, error_code, client_addr, user_agent, target
FROM core.audit_unpartitioned;
ALTER SEQUENCE core.audit_id_seq OWNED BY core.audit.id;
DROP TABLE core.audit_unpartitioned;

-- The chain. Insert-only for everyone but the owner; seq is dense from the
-- last retention checkpoint on.
CREATE TABLE core.audit_chain (
    seq        bigint PRIMARY KEY,
    audit_id   bigint NOT NULL UNIQUE,
    audit_at   timestamptz NOT NULL,
    hash       bytea NOT NULL CHECK (length(hash) = 32),
    chained_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_chain_audit_at ON core.audit_chain (audit_at, audit_id);

-- Where verification starts once retention dropped the oldest months: the
-- last dropped entry's seq and hash.
CREATE TABLE core.audit_checkpoints (
    seq     bigint PRIMARY KEY,
    hash    bytea NOT NULL CHECK (length(hash) = 32),
    kind    text NOT NULL CHECK (kind IN ('retention')),
    note    text,
    created timestamptz NOT NULL DEFAULT now()
);

-- The canonical encoding of a row: every column, length-prefixed ("-" for
-- NULL), `at` as integer microseconds since the epoch, so that no two rows
-- encode alike and nothing depends on settings such as TimeZone.
CREATE FUNCTION core.audit_encode(a core.audit) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT string_agg(CASE WHEN v IS NULL THEN '-' ELSE length(v)::text || ':' || v END, '|'
                      ORDER BY ord)
    FROM unnest(ARRAY[a.id::text, (extract(epoch FROM a.at) * 1000000)::bigint::text,
                      a.request_id, a.service, a.action, a.actor, a.account_id, a.app_id,
                      a.livemode::text, a.object_id, a.status::text, a.error_code,
                      a.client_addr, a.user_agent, a.target, a.route])
         WITH ORDINALITY AS t(v, ord);
$$;

CREATE FUNCTION core.audit_link(p_prev bytea, a core.audit) RETURNS bytea
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT sha256(p_prev || convert_to(core.audit_encode(a), 'UTF8'));
$$;

-- The head of the chain: the last entry, or the last retention checkpoint,
-- or the genesis (seq 0, 32 zero bytes).
CREATE FUNCTION core.audit_chain_head(OUT seq bigint, OUT hash bytea)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s, h FROM (
        (SELECT c.seq AS s, c.hash AS h FROM core.audit_chain c ORDER BY c.seq DESC LIMIT 1)
        UNION ALL
        (SELECT k.seq, k.hash FROM core.audit_checkpoints k ORDER BY k.seq DESC LIMIT 1)
        UNION ALL
        SELECT 0, decode(repeat('00', 32), 'hex')
    ) heads ORDER BY s DESC LIMIT 1;
$$;

-- Appends up to p_max rows to the chain; returns how many. Only one caller
-- at a time does anything (try-lock); the others return 0 at once.
CREATE FUNCTION core.audit_chain_extend(p_max integer DEFAULT 5000) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    head_seq bigint;
    head_hash bytea;
    last_at timestamptz;
    last_id bigint;
    r core.audit;
    n integer := 0;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtextextended('core.audit_chain', 0)) THEN
        RETURN 0;
    END IF;
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM core.audit_chain_head() h;
    SELECT c.audit_at, c.audit_id INTO last_at, last_id
      FROM core.audit_chain c ORDER BY c.audit_at DESC, c.audit_id DESC LIMIT 1;
    -- Late commits: rows up to two minutes behind the chain's position.
    FOR r IN SELECT a.* FROM core.audit a
              WHERE last_at IS NOT NULL
                AND a.at >= last_at - interval '2 minutes' AND (a.at, a.id) < (last_at, last_id)
                AND NOT EXISTS (SELECT 1 FROM core.audit_chain c WHERE c.audit_id = a.id)
              ORDER BY a.at, a.id LIMIT p_max LOOP
        head_seq := head_seq + 1;
        head_hash := core.audit_link(head_hash, r);
        INSERT INTO core.audit_chain (seq, audit_id, audit_at, hash)
        VALUES (head_seq, r.id, r.at, head_hash);
        n := n + 1;
    END LOOP;
    -- Then forward, leaving the last 5 seconds to transactions in flight.
    FOR r IN SELECT a.* FROM core.audit a
              WHERE (last_at IS NULL OR (a.at, a.id) > (last_at, last_id))
                AND a.at < now() - interval '5 seconds'
              ORDER BY a.at, a.id LIMIT p_max - n LOOP
        head_seq := head_seq + 1;
        head_hash := core.audit_link(head_hash, r);
        INSERT INTO core.audit_chain (seq, audit_id, audit_at, hash)
        VALUES (head_seq, r.id, r.at, head_hash);
        n := n + 1;
    END LOOP;
    RETURN n;
END;
$$;

-- Walks the chain from the last retention checkpoint and returns one row:
-- ok, the first broken entry (seq, audit row id, reason) when not ok, how
-- many entries held, and the head (seq, hash) reached.
CREATE FUNCTION core.audit_verify(OUT ok boolean, OUT bad_seq bigint, OUT bad_audit_id bigint,
                                  OUT reason text, OUT checked bigint, OUT head_seq bigint,
                                  OUT head_hash text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c core.audit_chain;
    a core.audit;
    prev bytea;
    expect bigint;
    stray core.audit;
BEGIN
    SELECT k.seq, k.hash INTO expect, prev FROM core.audit_checkpoints k ORDER BY k.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        expect := 0;
        prev := decode(repeat('00', 32), 'hex');
    END IF;
    checked := 0;
    FOR c IN SELECT * FROM core.audit_chain x WHERE x.seq > expect ORDER BY x.seq LOOP
        expect := expect + 1;
        IF c.seq <> expect THEN
            ok := false; bad_seq := expect; bad_audit_id := NULL;
            reason := 'chain entry ' || expect || ' is missing (deleted)';
            RETURN;
        END IF;
        SELECT * INTO a FROM core.audit x WHERE x.id = c.audit_id AND x.at = c.audit_at;
        IF NOT FOUND THEN
            ok := false; bad_seq := c.seq; bad_audit_id := c.audit_id;
            reason := 'audit row ' || c.audit_id || ' is missing (deleted, or its time changed)';
            RETURN;
        END IF;
        IF core.audit_link(prev, a) <> c.hash THEN
            ok := false; bad_seq := c.seq; bad_audit_id := c.audit_id;
            reason := 'audit row ' || c.audit_id || ' or its chain entry was modified or moved';
            RETURN;
        END IF;
        prev := c.hash;
        checked := checked + 1;
    END LOOP;
    -- Every row older than the chainer's windows must be in the chain.
    SELECT x.* INTO stray FROM core.audit x
     WHERE x.at < now() - interval '10 minutes'
       AND NOT EXISTS (SELECT 1 FROM core.audit_chain y WHERE y.audit_id = x.id)
     ORDER BY x.at LIMIT 1;
    IF FOUND THEN
        ok := false; bad_seq := NULL; bad_audit_id := stray.id;
        reason := 'audit row ' || stray.id || ' is not in the chain (inserted behind it, or its entry deleted)';
        RETURN;
    END IF;
    ok := true;
    head_seq := expect;
    head_hash := encode(prev, 'hex');
END;
$$;
