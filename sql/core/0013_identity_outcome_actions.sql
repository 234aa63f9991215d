-- The identity outcome report counts the audit actions svc-identity really
-- writes: a request's own action for what a caller or the person did
-- (identity.session.create, identity.page.submit, identity.session.cancel)
-- and the rows the service writes for what it did on its own
-- (identity.session.verified, identity.session.requires_input with the
-- last_error code, identity.session.redacted). Same columns as before, so
-- reports.identity_outcomes_daily keeps its shape; days already rolled up
-- are marked dirty so that the next roll-up recounts them.

CREATE OR REPLACE VIEW core.audit_daily_identity_outcomes AS
SELECT (a.at AT TIME ZONE 'UTC')::date AS day,
       a.account_id,
       a.livemode,
       a.error_code,
       count(*) FILTER (WHERE a.action = 'identity.session.create' AND a.status < 400) AS created,
       count(*) FILTER (WHERE a.action = 'identity.page.submit' AND a.status < 400) AS processing,
       count(*) FILTER (WHERE a.action = 'identity.session.verified' AND a.status < 400) AS verified,
       count(*) FILTER (WHERE a.action = 'identity.session.requires_input' AND a.status < 400) AS requires_input,
       count(*) FILTER (WHERE a.action = 'identity.session.cancel' AND a.status < 400) AS canceled,
       count(*) FILTER (WHERE a.action = 'identity.session.redacted' AND a.status < 400) AS redacted,
       count(*) FILTER (WHERE a.status >= 400) AS rejected
  FROM core.audit a
 WHERE a.action IN ('identity.session.create', 'identity.page.submit',
                    'identity.session.verified', 'identity.session.requires_input',
                    'identity.session.cancel', 'identity.session.redacted')
 GROUP BY 1, 2, 3, 4;

INSERT INTO core.audit_rollup_dirty (day, rows)
SELECT day, 0 FROM core.audit_rollup_days
ON CONFLICT (day) DO NOTHING;
