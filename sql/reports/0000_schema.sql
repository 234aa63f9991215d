-- reports: read-only views over the audit log (core.audit) for BI tools and
-- sql/reports/report.py. Applied by sql/migrate.sh on every run, after the
-- migrations and in file-name order, all files in one transaction: every
-- file here is idempotent (CREATE ... IF NOT EXISTS, CREATE OR REPLACE).
--
-- The views are a contract: their names, columns and column meanings stay
-- stable. A column may be added at the end of a view; removing, renaming or
-- retyping one (which CREATE OR REPLACE VIEW refuses) means a new view.
--
-- Conventions shared by every view:
--   day    the UTC calendar day of the audited action, a `date`
--          ((at AT TIME ZONE 'UTC')::date), whatever the session's TimeZone.
--          Select a range with a plain, half-open filter on it:
--            WHERE day >= DATE '2024-05-01' AND day < DATE '2024-06-01'
--   counts bigint, never NULL (0 when nothing matched).
--   rejected / errors: audited actions whose HTTP status is 400 or more.
--   NULL in a grouping column means the audit row carried none (e.g. no
--   Stripe-Account, an unknown URL, a request without a key).
-- Rows exist only for days and groups with at least one audited action.
CREATE SCHEMA IF NOT EXISTS reports;
COMMENT ON SCHEMA reports IS
    'Read-only audit reports over core.audit, one row per UTC day and group; filter with WHERE day >= ... AND day < ... (see sql/reports/*.sql)';
