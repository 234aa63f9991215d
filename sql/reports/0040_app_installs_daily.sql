-- reports.app_installs_daily: which accounts installed and uninstalled which
-- app, per UTC day (audit actions app.install and app.uninstall).
--
--   SELECT account_id, sum(installs) AS installs, sum(uninstalls) AS uninstalls
--     FROM reports.app_installs_daily
--    WHERE day >= DATE '2024-05-01' AND day < DATE '2024-06-01'
--      AND app_id = 'com.example.app'
--    GROUP BY 1;
CREATE OR REPLACE VIEW reports.app_installs_daily AS
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
