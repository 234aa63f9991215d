-- Daily roll-ups behind the report views (sql/reports), so that a report
-- over a month reads a few thousand pre-aggregated rows instead of every
-- audit row of the month, and stays exact.
--
-- Each report is defined once, here, as a plain aggregate view over
-- core.audit per UTC day (core.audit_daily_<report>); core.audit_rollup_<report>
-- holds its rows for the days rolled up, and reports.<report> reads the
-- roll-up for the days it can trust and the aggregate view for the others:
--
--   trusted day: in core.audit_rollup_days (rolled up), not in
--                core.audit_rollup_dirty, in a month that still has audit
--                rows (retention drops whole months: sql/audit.sh export);
--   live day:    any other day between the oldest and newest audit row.
--
-- core.audit_rollup_advance(), run by the housekeeping, rolls up the days
-- that can no longer change. A day D is closed once every transaction that
-- could still add a row to it has ended: the function notes the snapshot's
-- xmax at time T, and on a later run, when the snapshot's xmin has passed it,
-- rolls up every day that ended 5 minutes or more before T. That holds for the
-- rows the services write (`at` defaults to clock_timestamp(): a row of day D
-- is inserted, and its transaction id assigned, before D ends). Any other row
-- whose `at` is more than 5 minutes older than its insertion (a backdated
-- insert, rows moved out of the default partition, a clock step) fires
-- core.audit_rollup_backdated(), which marks its day dirty in the same
-- transaction: every snapshot that sees the row sees the mark, so the views
-- read that day live until the next run rolls it up again. The service's own
-- inserts never fire it (the trigger's WHEN clause is false for them), so
-- the request path pays nothing for the roll-up.
--
-- A report's rows for a range are therefore always what the aggregate over
-- the raw rows gives (tests/e2e/test_report_rollup.sh). A superuser who
-- edits or deletes single audit rows breaks that, as it breaks the chain
-- (core.audit_verify reports it).

-- The day index serves the live days of every report and the existence
-- checks; it replaces 0009's (action, day) index, which only the per-action
-- reports could use.
CREATE INDEX audit_day_action ON core.audit (((at AT TIME ZONE 'UTC')::date), action);
DROP INDEX core.audit_action_day;

-- The reports' aggregates over the raw rows, per UTC day. Their columns are
-- the report views' (sql/reports/README.md); the roll-up tables copy them.
CREATE VIEW core.audit_daily_secret_access AS
SELECT (a.at AT TIME ZONE 'UTC')::date AS day,
       a.app_id,
       a.account_id,
       a.livemode,
       a.actor,
       count(*) FILTER (WHERE a.action = 'secret.read' AND a.status < 400) AS reads,
       count(*) FILTER (WHERE a.action = 'secret.set' AND a.status < 400) AS sets,
       count(*) FILTER (WHERE a.action = 'secret.delete' AND a.status < 400) AS deletes,
       count(*) FILTER (WHERE a.status >= 400) AS rejected,
       min(a.at) AS first_at,
       max(a.at) AS last_at
  FROM core.audit a
 WHERE a.action IN ('secret.read', 'secret.set', 'secret.delete')
 GROUP BY 1, 2, 3, 4, 5;

CREATE VIEW core.audit_daily_auth_failures AS
SELECT (a.at AT TIME ZONE 'UTC')::date AS day,
       a.actor AS key_prefix,
       a.client_addr,
       count(*) AS failures,
       count(*) FILTER (WHERE a.status = 401) AS unauthenticated,
       count(*) FILTER (WHERE a.status = 403) AS forbidden,
       min(a.at) AS first_at,
       max(a.at) AS last_at
  FROM core.audit a
 WHERE a.action = 'auth.failed'
 GROUP BY 1, 2, 3;

CREATE VIEW core.audit_daily_identity_outcomes AS
SELECT (a.at AT TIME ZONE 'UTC')::date AS day,
       a.account_id,
       a.livemode,
       a.error_code,
       count(*) FILTER (WHERE a.action = 'identity.session.created' AND a.status < 400) AS created,
       count(*) FILTER (WHERE a.action = 'identity.session.processing' AND a.status < 400) AS processing,
       count(*) FILTER (WHERE a.action = 'identity.session.verified' AND a.status < 400) AS verified,
       count(*) FILTER (WHERE a.action = 'identity.session.requires_input' AND a.status < 400) AS requires_input,
       count(*) FILTER (WHERE a.action = 'identity.session.canceled' AND a.status < 400) AS canceled,
       count(*) FILTER (WHERE a.action = 'identity.session.redacted' AND a.status < 400) AS redacted,
       count(*) FILTER (WHERE a.status >= 400) AS rejected
  FROM core.audit a
 WHERE a.action IN ('identity.session.created', 'identity.session.processing',
                    'identity.session.verified', 'identity.session.requires_input',
                    'identity.session.canceled', 'identity.session.redacted')
 GROUP BY 1, 2, 3, 4;

CREATE VIEW core.audit_daily_app_installs AS
SELECT (a.at AT TIME ZONE 'UTC')::date AS day,
       a.app_id,
       a.account_id,
       a.livemode,
       count(*) FILTER (WHERE a.action = 'app.install' AND a.status < 400) AS installs,
       count(*) FILTER (WHERE a.action = 'app.uninstall' AND a.status < 400) AS uninstalls,
       count(*) FILTER (WHERE a.status >= 400) AS rejected,
       min(a.at) AS first_at,
       max(a.at) AS last_at
  FROM core.audit a
 WHERE a.action IN ('app.install', 'app.uninstall')
 GROUP BY 1, 2, 3, 4;

-- A request counts once however many rows it wrote (grouped by request id;
-- a row without one is a request of its own).
CREATE VIEW core.audit_daily_error_rates AS
SELECT r.day,
       r.service,
       r.route,
       count(*) AS requests,
       count(*) FILTER (WHERE r.status >= 400) AS errors,
       count(*) FILTER (WHERE r.status >= 500) AS server_errors,
       round(count(*) FILTER (WHERE r.status >= 400)::numeric / count(*), 4) AS error_rate,
       round(count(*) FILTER (WHERE r.status >= 500)::numeric / count(*), 4) AS server_error_rate
  FROM (SELECT (a.at AT TIME ZONE 'UTC')::date AS day,
               a.service,
               a.route,
               max(a.status) AS status
          FROM core.audit a
         GROUP BY 1, 2, 3, coalesce(a.request_id, 'audit:' || a.id)) r
 GROUP BY 1, 2, 3;

-- The roll-ups: the aggregates' rows of the rolled-up days, same columns.
CREATE TABLE core.audit_rollup_secret_access AS
    SELECT * FROM core.audit_daily_secret_access WITH NO DATA;
CREATE TABLE core.audit_rollup_auth_failures AS
    SELECT * FROM core.audit_daily_auth_failures WITH NO DATA;
CREATE TABLE core.audit_rollup_identity_outcomes AS
    SELECT * FROM core.audit_daily_identity_outcomes WITH NO DATA;
CREATE TABLE core.audit_rollup_app_installs AS
    SELECT * FROM core.audit_daily_app_installs WITH NO DATA;
CREATE TABLE core.audit_rollup_error_rates AS
    SELECT * FROM core.audit_daily_error_rates WITH NO DATA;
-- In the order sql/reports/report.py reads them, so that a month comes out
-- of the index sorted.
CREATE INDEX audit_rollup_secret_access_order
    ON core.audit_rollup_secret_access (day, app_id, account_id, livemode, actor);
CREATE INDEX audit_rollup_auth_failures_order
    ON core.audit_rollup_auth_failures (day, failures DESC, key_prefix, client_addr);
CREATE INDEX audit_rollup_identity_outcomes_order
    ON core.audit_rollup_identity_outcomes (day, account_id, livemode, error_code);
CREATE INDEX audit_rollup_app_installs_order
    ON core.audit_rollup_app_installs (day, app_id, account_id, livemode);
CREATE INDEX audit_rollup_error_rates_order ON core.audit_rollup_error_rates (day, service, route);

-- Days whose roll-ups are complete, and days a backdated row made stale.
CREATE TABLE core.audit_rollup_days (
    day       date PRIMARY KEY,
    rows      bigint NOT NULL, -- audit rows of the day when rolled up
    rolled_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE core.audit_rollup_dirty (
    day  date PRIMARY KEY,
    rows bigint NOT NULL -- backdated rows since the last roll-up
);

-- The horizon noted by the last run (one row): days that ended 5 minutes
-- before noted_at close once the snapshot's xmin reaches noted_xmax.
CREATE TABLE core.audit_rollup_state (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    noted_at   timestamptz,
    noted_xmax xid8
);
INSERT INTO core.audit_rollup_state DEFAULT VALUES;

-- Which days each report view reads from where (one row; see the top).
CREATE VIEW core.audit_rollup_coverage AS
WITH months AS (
    -- Months rolled up that still have audit rows: one index probe each.
    SELECT m.month
      FROM (SELECT DISTINCT date_trunc('month', d.day::timestamp) AS month
              FROM core.audit_rollup_days d) m
     WHERE (SELECT true FROM core.audit a
             WHERE a.at >= m.month AT TIME ZONE 'UTC'
               AND a.at < (m.month + interval '1 month') AT TIME ZONE 'UTC'
             LIMIT 1)
), trusted AS (
    SELECT t.day
      FROM core.audit_rollup_days t
     WHERE date_trunc('month', t.day::timestamp) IN (SELECT month FROM months)
       AND NOT EXISTS (SELECT 1 FROM core.audit_rollup_dirty x WHERE x.day = t.day)
)
SELECT ARRAY(SELECT day FROM trusted ORDER BY day) AS trusted,
       ARRAY(SELECT g::date
               FROM generate_series((SELECT (min(a.at) AT TIME ZONE 'UTC')::date FROM core.audit a),
                                    (SELECT (max(a.at) AT TIME ZONE 'UTC')::date FROM core.audit a),
                                    interval '1 day') g
              WHERE g::date NOT IN (SELECT day FROM trusted)
              ORDER BY 1) AS live;

-- Marks the day of a backdated row dirty (see the top). Once per day and
-- transaction: later rows of the same day in the same transaction only
-- compare a transaction-local setting.
CREATE FUNCTION core.audit_rollup_backdated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d date := (NEW.at AT TIME ZONE 'UTC')::date;
BEGIN
    IF current_setting('core.audit_rollup_marked', true) IS DISTINCT FROM d::text THEN
        -- DO UPDATE locks an existing mark, so a run rolling this day up
        -- waits for this transaction and then sees its rows.
        INSERT INTO core.audit_rollup_dirty AS x (day, rows) VALUES (d, 1)
        ON CONFLICT (day) DO UPDATE SET rows = x.rows + 1;
        PERFORM set_config('core.audit_rollup_marked', d::text, true);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER audit_rollup_backdated AFTER INSERT ON core.audit
    FOR EACH ROW WHEN (NEW.at < clock_timestamp() - interval '5 minutes')
    EXECUTE FUNCTION core.audit_rollup_backdated();

-- Rolls up one day: its dirty mark goes first (waiting for a backdating
-- transaction that holds it), then each report's rows, read by statements
-- that see everything committed meanwhile.
CREATE FUNCTION core.audit_rollup_day(p_day date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM core.audit_rollup_dirty WHERE day = p_day;
    DELETE FROM core.audit_rollup_secret_access WHERE day = p_day;
    INSERT INTO core.audit_rollup_secret_access
        SELECT * FROM core.audit_daily_secret_access WHERE day = p_day;
    DELETE FROM core.audit_rollup_auth_failures WHERE day = p_day;
    INSERT INTO core.audit_rollup_auth_failures
        SELECT * FROM core.audit_daily_auth_failures WHERE day = p_day;
    DELETE FROM core.audit_rollup_identity_outcomes WHERE day = p_day;
    INSERT INTO core.audit_rollup_identity_outcomes
        SELECT * FROM core.audit_daily_identity_outcomes WHERE day = p_day;
    DELETE FROM core.audit_rollup_app_installs WHERE day = p_day;
    INSERT INTO core.audit_rollup_app_installs
        SELECT * FROM core.audit_daily_app_installs WHERE day = p_day;
    DELETE FROM core.audit_rollup_error_rates WHERE day = p_day;
    INSERT INTO core.audit_rollup_error_rates
        SELECT * FROM core.audit_daily_error_rates WHERE day = p_day;
    INSERT INTO core.audit_rollup_days AS t (day, rows)
    VALUES (p_day, (SELECT count(*) FROM core.audit a WHERE (a.at AT TIME ZONE 'UTC')::date = p_day))
    ON CONFLICT (day) DO UPDATE SET rows = EXCLUDED.rows, rolled_at = now();
END;
$$;

-- The housekeeping's part (next to core.audit_chain_extend): rolls up at
-- most p_max_days closed days that are not rolled up or are dirty, oldest
-- first, drops the roll-ups of days older than the oldest audit row
-- (retired months), and notes a new horizon. Returns the days rolled up.
-- One caller at a time (try-lock); the others return 0 at once.
CREATE FUNCTION core.audit_rollup_advance(p_max_days integer DEFAULT 7) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st core.audit_rollup_state;
    snap pg_snapshot := pg_current_snapshot();
    closed_before date;
    lo date;
    d date;
    n integer := 0;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtextextended('core.audit_rollup', 0)) THEN
        RETURN 0;
    END IF;
    SELECT * INTO STRICT st FROM core.audit_rollup_state FOR UPDATE;
    lo := (SELECT (min(a.at) AT TIME ZONE 'UTC')::date FROM core.audit a);
    IF st.noted_xmax IS NOT NULL AND pg_snapshot_xmin(snap) >= st.noted_xmax AND lo IS NOT NULL THEN
        closed_before := ((st.noted_at - interval '5 minutes') AT TIME ZONE 'UTC')::date;
        FOR d IN SELECT g::date FROM generate_series(lo, closed_before - 1, interval '1 day') g
                  WHERE NOT EXISTS (SELECT 1 FROM core.audit_rollup_days t WHERE t.day = g::date)
                 UNION
                 SELECT x.day FROM core.audit_rollup_dirty x WHERE x.day < closed_before
                 ORDER BY 1 LIMIT p_max_days LOOP
            PERFORM core.audit_rollup_day(d);
            n := n + 1;
        END LOOP;
    END IF;
    IF lo IS NOT NULL THEN
        DELETE FROM core.audit_rollup_secret_access WHERE day < lo;
        DELETE FROM core.audit_rollup_auth_failures WHERE day < lo;
        DELETE FROM core.audit_rollup_identity_outcomes WHERE day < lo;
        DELETE FROM core.audit_rollup_app_installs WHERE day < lo;
        DELETE FROM core.audit_rollup_error_rates WHERE day < lo;
        DELETE FROM core.audit_rollup_days WHERE day < lo;
    END IF;
    -- A new horizon once the noted one was passed (or there was none).
    IF st.noted_xmax IS NULL OR pg_snapshot_xmin(snap) >= st.noted_xmax THEN
        UPDATE core.audit_rollup_state SET noted_at = now(), noted_xmax = pg_snapshot_xmax(snap);
    END IF;
    RETURN n;
END;
$$;
REVOKE ALL ON FUNCTION core.audit_rollup_advance(integer), core.audit_rollup_day(date) FROM PUBLIC;
