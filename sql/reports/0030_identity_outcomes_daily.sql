-- reports.identity_outcomes_daily: Identity verification sessions per UTC
-- day, account, mode and error code (audit actions identity.session.*).
-- error_code is the Stripe error code of a refused request, or the reason a
-- session needs input again; NULL on rows of clean outcomes. Sum over
-- error_code for daily totals; filter on it for the reasons of failures.
--
--   SELECT day, sum(verified) AS verified, sum(requires_input) AS requires_input
--     FROM reports.identity_outcomes_daily
--    WHERE day >= DATE '2024-05-01' AND day < DATE '2024-06-01'
--    GROUP BY 1 ORDER BY 1;
CREATE OR REPLACE VIEW reports.identity_outcomes_daily AS
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

COMMENT ON VIEW reports.identity_outcomes_daily IS
    'Identity verification session outcomes (audit actions identity.session.*) per UTC day, account, mode and error code. Filter: WHERE day >= ... AND day < ...';
COMMENT ON COLUMN reports.identity_outcomes_daily.day IS 'UTC day of the outcomes (date)';
COMMENT ON COLUMN reports.identity_outcomes_daily.account_id IS 'the account owning the sessions; NULL when unknown';
COMMENT ON COLUMN reports.identity_outcomes_daily.livemode IS 'true for live mode, false for test mode; NULL when unknown';
COMMENT ON COLUMN reports.identity_outcomes_daily.error_code IS 'Stripe error code of a refused request or reason a session requires input; NULL when none';
COMMENT ON COLUMN reports.identity_outcomes_daily.created IS 'sessions created';
COMMENT ON COLUMN reports.identity_outcomes_daily.processing IS 'sessions that went to processing (submitted)';
COMMENT ON COLUMN reports.identity_outcomes_daily.verified IS 'sessions that ended verified';
COMMENT ON COLUMN reports.identity_outcomes_daily.requires_input IS 'sessions that went (back) to requires_input: verification failed, see error_code';
COMMENT ON COLUMN reports.identity_outcomes_daily.canceled IS 'sessions canceled';
COMMENT ON COLUMN reports.identity_outcomes_daily.redacted IS 'sessions redacted';
COMMENT ON COLUMN reports.identity_outcomes_daily.rejected IS 'identity.session.* requests refused (status >= 400), whatever the action';

GRANT SELECT ON reports.identity_outcomes_daily TO audit_reader;
