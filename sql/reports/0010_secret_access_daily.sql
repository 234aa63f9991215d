-- reports.secret_access_daily: who touched which app's secrets, for which
-- account, per UTC day. One row per (day, app_id, account_id, livemode,
-- actor) with at least one secret.read, secret.set or secret.delete audit
-- row; sum over actor for per-app, per-account totals.
--
--   SELECT app_id, account_id, sum(reads) AS reads
--     FROM reports.secret_access_daily
--    WHERE day >= DATE '2024-05-01' AND day < DATE '2024-06-01'
--      AND app_id = 'com.example.app'
--    GROUP BY 1, 2;
CREATE OR REPLACE VIEW reports.secret_access_daily AS
SELECT r.* FROM core.audit_rollup_secret_access r
 WHERE r.day = ANY ((SELECT c.trusted FROM core.audit_rollup_coverage c)::date[])
UNION ALL
SELECT a.* FROM core.audit_daily_secret_access a
 WHERE a.day = ANY ((SELECT c.live FROM core.audit_rollup_coverage c)::date[])
   AND a.day >= (SELECT c.live[1] FROM core.audit_rollup_coverage c);

COMMENT ON VIEW reports.secret_access_daily IS
    'Secret Store access per UTC day, app, account, mode and actor (audit actions secret.read/set/delete). Filter: WHERE day >= ... AND day < ...';
COMMENT ON COLUMN reports.secret_access_daily.day IS 'UTC day of the audited actions (date)';
COMMENT ON COLUMN reports.secret_access_daily.app_id IS 'the app whose secrets were accessed (NULL when the request failed before the app was known)';
COMMENT ON COLUMN reports.secret_access_daily.account_id IS 'the account the app acted for (Stripe-Account); NULL when unknown';
COMMENT ON COLUMN reports.secret_access_daily.livemode IS 'true for live-mode keys, false for test mode; NULL when unknown';
COMMENT ON COLUMN reports.secret_access_daily.actor IS 'who: the API key id (key_...) of an app backend, or the dashboard user (usr_...); never a key';
COMMENT ON COLUMN reports.secret_access_daily.reads IS 'successful payload reads (secret.read, status < 400): a find or a list with expand[]=payload, one per payload returned';
COMMENT ON COLUMN reports.secret_access_daily.sets IS 'successful sets (secret.set, status < 400)';
COMMENT ON COLUMN reports.secret_access_daily.deletes IS 'successful deletes (secret.delete, status < 400)';
COMMENT ON COLUMN reports.secret_access_daily.rejected IS 'secret reads, sets and deletes that were refused (status >= 400: not found, forbidden, invalid)';
COMMENT ON COLUMN reports.secret_access_daily.first_at IS 'time of the first of these actions that day';
COMMENT ON COLUMN reports.secret_access_daily.last_at IS 'time of the last of these actions that day';

GRANT SELECT ON reports.secret_access_daily TO audit_reader;
