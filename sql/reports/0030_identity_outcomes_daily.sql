-- reports.identity_outcomes_daily: Identity verification sessions per UTC
-- day, account, mode and error code, from the audit actions
-- identity.session.create, identity.page.submit, identity.session.cancel
-- (requests) and identity.session.verified, .requires_input, .redacted
-- (written by svc-identity's worker when the checks end or a redaction is
-- done; sql/core/0013).
-- error_code is the Stripe error code of a refused request, or the reason a
-- session needs input again; NULL on rows of clean outcomes. Sum over
-- error_code for daily totals; filter on it for the reasons of failures.
--
--   SELECT day, sum(verified) AS verified, sum(requires_input) AS requires_input
--     FROM reports.identity_outcomes_daily
--    WHERE day >= DATE '2024-05-01' AND day < DATE '2024-06-01'
--    GROUP BY 1 ORDER BY 1;
CREATE OR REPLACE VIEW reports.identity_outcomes_daily AS
SELECT r.* FROM core.audit_rollup_identity_outcomes r
 WHERE r.day = ANY ((SELECT c.trusted FROM core.audit_rollup_coverage c)::date[])
UNION ALL
SELECT a.* FROM core.audit_daily_identity_outcomes a
 WHERE a.day = ANY ((SELECT c.live FROM core.audit_rollup_coverage c)::date[])
   AND a.day >= (SELECT c.live[1] FROM core.audit_rollup_coverage c);

COMMENT ON VIEW reports.identity_outcomes_daily IS
    'Identity verification session outcomes (audit actions identity.session.* and identity.page.submit) per UTC day, account, mode and error code. Filter: WHERE day >= ... AND day < ...';
COMMENT ON COLUMN reports.identity_outcomes_daily.day IS 'UTC day of the outcomes (date)';
COMMENT ON COLUMN reports.identity_outcomes_daily.account_id IS 'the account owning the sessions; NULL when unknown';
COMMENT ON COLUMN reports.identity_outcomes_daily.livemode IS 'true for live mode, false for test mode; NULL when unknown';
COMMENT ON COLUMN reports.identity_outcomes_daily.error_code IS 'Stripe error code of a refused request or reason a session requires input; NULL when none';
COMMENT ON COLUMN reports.identity_outcomes_daily.created IS 'sessions created';
COMMENT ON COLUMN reports.identity_outcomes_daily.processing IS 'sessions submitted for the checks (identity.page.submit)';
COMMENT ON COLUMN reports.identity_outcomes_daily.verified IS 'sessions that ended verified';
COMMENT ON COLUMN reports.identity_outcomes_daily.requires_input IS 'sessions that went (back) to requires_input: verification failed, see error_code';
COMMENT ON COLUMN reports.identity_outcomes_daily.canceled IS 'sessions canceled';
COMMENT ON COLUMN reports.identity_outcomes_daily.redacted IS 'sessions redacted';
COMMENT ON COLUMN reports.identity_outcomes_daily.rejected IS 'identity requests of these actions refused (status >= 400)';

GRANT SELECT ON reports.identity_outcomes_daily TO audit_reader;
