-- reports.error_rates_daily: audited requests and their error rates per UTC
-- day, service and route. A request counts once however many audit rows it
-- wrote (a list returning payloads writes one secret.read per payload): rows
-- are grouped by request_id, and a row without one counts as a request of
-- its own. Only audited requests count: every state change, payload read
-- and refused request; plain reads that succeed are not audited.
--
--   SELECT service, route, sum(requests) AS requests, sum(errors) AS errors
--     FROM reports.error_rates_daily
--    WHERE day >= DATE '2024-05-01' AND day < DATE '2024-06-01'
--    GROUP BY 1, 2 ORDER BY 4 DESC;
-- (Rates over several days: sum(errors)::numeric / sum(requests), not an
-- average of the daily rates.)
CREATE OR REPLACE VIEW reports.error_rates_daily AS
SELECT r.* FROM core.audit_rollup_error_rates r
 WHERE r.day = ANY ((SELECT c.trusted FROM core.audit_rollup_coverage c)::date[])
UNION ALL
SELECT a.* FROM core.audit_daily_error_rates a
 WHERE a.day = ANY ((SELECT c.live FROM core.audit_rollup_coverage c)::date[])
   AND a.day >= (SELECT c.live[1] FROM core.audit_rollup_coverage c);

COMMENT ON VIEW reports.error_rates_daily IS
    'Audited requests, errors (status >= 400) and server errors (>= 500) per UTC day, service and route. Filter: WHERE day >= ... AND day < ...';
COMMENT ON COLUMN reports.error_rates_daily.day IS 'UTC day (date)';
COMMENT ON COLUMN reports.error_rates_daily.service IS 'svc-secrets, svc-identity or svc-install';
COMMENT ON COLUMN reports.error_rates_daily.route IS 'the matched route, e.g. "POST /v1/apps/secrets"; NULL for unknown URLs';
COMMENT ON COLUMN reports.error_rates_daily.requests IS 'audited requests (distinct request ids)';
COMMENT ON COLUMN reports.error_rates_daily.errors IS 'of which answered with a status >= 400';
COMMENT ON COLUMN reports.error_rates_daily.server_errors IS 'of which answered with a status >= 500';
COMMENT ON COLUMN reports.error_rates_daily.error_rate IS 'errors / requests, 0 to 1, four decimals';
COMMENT ON COLUMN reports.error_rates_daily.server_error_rate IS 'server_errors / requests, 0 to 1, four decimals';

GRANT SELECT ON reports.error_rates_daily TO audit_reader;
