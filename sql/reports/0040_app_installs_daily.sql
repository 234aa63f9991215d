-- reports.app_installs_daily: which accounts installed and uninstalled which
-- app, per UTC day (audit actions app.install and app.uninstall).
--
--   SELECT account_id, sum(installs) AS installs, sum(uninstalls) AS uninstalls
--     FROM reports.app_installs_daily
--    WHERE day >= DATE '2024-05-01' AND day < DATE '2024-06-01'
--      AND app_id = 'com.example.app'
--    GROUP BY 1;
CREATE OR REPLACE VIEW reports.app_installs_daily AS
SELECT r.* FROM core.audit_rollup_app_installs r
 WHERE r.day = ANY ((SELECT c.trusted FROM core.audit_rollup_coverage c)::date[])
UNION ALL
SELECT a.* FROM core.audit_daily_app_installs a
 WHERE a.day = ANY ((SELECT c.live FROM core.audit_rollup_coverage c)::date[])
   AND a.day >= (SELECT c.live[1] FROM core.audit_rollup_coverage c);

COMMENT ON VIEW reports.app_installs_daily IS
    'App installs and uninstalls (audit actions app.install/app.uninstall) per UTC day, app, account and mode. Filter: WHERE day >= ... AND day < ...';
COMMENT ON COLUMN reports.app_installs_daily.day IS 'UTC day (date)';
COMMENT ON COLUMN reports.app_installs_daily.app_id IS 'the app installed or uninstalled';
COMMENT ON COLUMN reports.app_installs_daily.account_id IS 'the installing account';
COMMENT ON COLUMN reports.app_installs_daily.livemode IS 'true for live mode, false for test mode; NULL when unknown';
COMMENT ON COLUMN reports.app_installs_daily.installs IS 'successful installs (status < 400)';
COMMENT ON COLUMN reports.app_installs_daily.uninstalls IS 'successful uninstalls (status < 400)';
COMMENT ON COLUMN reports.app_installs_daily.rejected IS 'install or uninstall requests refused (status >= 400)';
COMMENT ON COLUMN reports.app_installs_daily.first_at IS 'time of the first of these actions that day';
COMMENT ON COLUMN reports.app_installs_daily.last_at IS 'time of the last of these actions that day';

GRANT SELECT ON reports.app_installs_daily TO audit_reader;
