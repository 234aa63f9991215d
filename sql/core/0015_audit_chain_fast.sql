-- The audit chain at a cost that keeps up with the services. 0008 wrote
-- core.audit_encode() over unnest() and gave both helpers a SET clause, so
-- every link re-parsed and re-planned two SQL functions, and each entry was
-- its own INSERT: about 190 µs of the database's time per audit row, spent by
-- a housekeeping thread while the services serve. Now the encoding is plain
-- expressions PostgreSQL inlines into the caller's plan, and a round of the
-- chain is written by one INSERT. The encoding is the same, byte for byte
-- (every field length-prefixed or "-", joined by "|"), so the existing chain
-- still verifies (tests/e2e/test_audit_chain.sh).
--
-- Inlining needs LANGUAGE sql, no SECURITY DEFINER, no SET clause and a body
-- that is one expression; the callers (chain extension, verification) run
-- with search_path = pg_catalog, pg_temp, and every name here is qualified.

CREATE FUNCTION core.audit_field(v text) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN v IS NULL THEN '-' ELSE pg_catalog.length(v)::text || ':' || v END;
$$;

CREATE OR REPLACE FUNCTION core.audit_encode(a core.audit) RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT core.audit_field(a.id::text) || '|'
        || core.audit_field((EXTRACT(epoch FROM a.at) * 1000000)::bigint::text) || '|'
        || core.audit_field(a.request_id) || '|' || core.audit_field(a.service) || '|'
        || core.audit_field(a.action) || '|' || core.audit_field(a.actor) || '|'
        || core.audit_field(a.account_id) || '|' || core.audit_field(a.app_id) || '|'
        || core.audit_field(a.livemode::text) || '|' || core.audit_field(a.object_id) || '|'
        || core.audit_field(a.status::text) || '|' || core.audit_field(a.error_code) || '|'
        || core.audit_field(a.client_addr) || '|' || core.audit_field(a.user_agent) || '|'
        || core.audit_field(a.target) || '|' || core.audit_field(a.route);
$$;

CREATE OR REPLACE FUNCTION core.audit_link(p_prev bytea, a core.audit) RETURNS bytea
LANGUAGE sql STABLE
AS $$
    SELECT pg_catalog.sha256(p_prev || pg_catalog.convert_to(core.audit_encode(a), 'UTF8'));
$$;

-- As in 0008 (same windows, same order, same lock), with the entries
-- gathered in arrays and written at the end, and the look back for late
-- commits made optional: it reads every row of its two-minute window (about
-- 140 ms a round at 2,000 audit rows a second), so the services' housekeeping
-- asks for it every tenth round (libcommon/src/server.c); a row that commits
-- late is still chained within seconds. Called with one argument it looks
-- back, as before.
DROP FUNCTION core.audit_chain_extend(integer);
CREATE FUNCTION core.audit_chain_extend(p_max integer DEFAULT 5000, p_late boolean DEFAULT true)
RETURNS integer
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
    seqs bigint[] := '{}';
    ids bigint[] := '{}';
    ats timestamptz[] := '{}';
    hashes bytea[] := '{}';
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtextextended('core.audit_chain', 0)) THEN
        RETURN 0;
    END IF;
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM core.audit_chain_head() h;
    SELECT c.audit_at, c.audit_id INTO last_at, last_id
      FROM core.audit_chain c ORDER BY c.audit_at DESC, c.audit_id DESC LIMIT 1;
    -- Late commits: rows up to two minutes behind the chain's position.
    FOR r IN SELECT a.* FROM core.audit a
              WHERE p_late AND last_at IS NOT NULL
                AND a.at >= last_at - interval '2 minutes' AND (a.at, a.id) < (last_at, last_id)
                AND NOT EXISTS (SELECT 1 FROM core.audit_chain c WHERE c.audit_id = a.id)
              ORDER BY a.at, a.id LIMIT p_max LOOP
        head_seq := head_seq + 1;
        head_hash := core.audit_link(head_hash, r);
        seqs := array_append(seqs, head_seq);
        ids := array_append(ids, r.id);
        ats := array_append(ats, r.at);
        hashes := array_append(hashes, head_hash);
        n := n + 1;
    END LOOP;
    -- Then forward, leaving the last 5 seconds to transactions in flight.
    FOR r IN SELECT a.* FROM core.audit a
              WHERE (last_at IS NULL OR (a.at, a.id) > (last_at, last_id))
                AND a.at < now() - interval '5 seconds'
              ORDER BY a.at, a.id LIMIT p_max - n LOOP
        head_seq := head_seq + 1;
        head_hash := core.audit_link(head_hash, r);
        seqs := array_append(seqs, head_seq);
        ids := array_append(ids, r.id);
        ats := array_append(ats, r.at);
        hashes := array_append(hashes, head_hash);
        n := n + 1;
    END LOOP;
    IF n > 0 THEN
        INSERT INTO core.audit_chain (seq, audit_id, audit_at, hash)
        SELECT * FROM unnest(seqs, ids, ats, hashes);
    END IF;
    RETURN n;
END;
$$;
REVOKE ALL ON FUNCTION core.audit_chain_extend(integer, boolean) FROM PUBLIC;
