-- reports.auth_failures_daily: failed authentications per UTC day, key
-- prefix and client address (audit action auth.failed). The key prefix is
-- the public start of the presented key (sk_test_AbCd), never the key;
-- NULL when the request carried no usable key.
--
--   SELECT key_prefix, client_addr, sum(failures) AS failures
--     FROM reports.auth_failures_daily
--    WHERE day >= DATE '2024-05-01' AND day < DATE '2024-06-01'
--    GROUP BY 1, 2 ORDER BY 3 DESC;
CREATE OR REPLACE VIEW reports.auth_failures_daily AS
SELECT r.* FROM core.audit_rollup_auth_failures r
 WHERE r.day = ANY ((SELECT c.trusted FROM core.audit_rollup_coverage c)::date[])
UNION ALL
SELECT a.* FROM core.audit_daily_auth_failures a
 WHERE a.day = ANY ((SELECT c.live FROM core.audit_rollup_coverage c)::date[])
   AND a.day >= (SELECT c.live[1] FROM core.audit_rollup_coverage c);

COMMENT ON VIEW reports.auth_failures_daily IS
    'Failed authentications (audit action auth.failed) per UTC day, key prefix and client address. Filter: WHERE day >= ... AND day < ...';
COMMENT ON COLUMN reports.auth_failures_daily.day IS 'UTC day of the failures (date)';
COMMENT ON COLUMN reports.auth_failures_daily.key_prefix IS 'public prefix of the presented key (e.g. sk_test_AbCd); NULL when no usable key was sent';
COMMENT ON COLUMN reports.auth_failures_daily.client_addr IS 'client IP address as the web server saw it';
COMMENT ON COLUMN reports.auth_failures_daily.failures IS 'failed authentications';
COMMENT ON COLUMN reports.auth_failures_daily.unauthenticated IS 'of which answered 401 (unknown, malformed or revoked key)';
COMMENT ON COLUMN reports.auth_failures_daily.forbidden IS 'of which answered 403';
COMMENT ON COLUMN reports.auth_failures_daily.first_at IS 'time of the first failure that day';
COMMENT ON COLUMN reports.auth_failures_daily.last_at IS 'time of the last failure that day';

GRANT SELECT ON reports.auth_failures_daily TO audit_reader;
