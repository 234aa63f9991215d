-- Privileges of the service roles, applied by sql/migrate.sh after every run
-- in one transaction (new tables appear with migrations). Declarative: each
-- run first revokes everything the roles hold on the project's schemas, then
-- grants exactly what is below, so a privilege removed here is removed from
-- the database too.
--
-- Each service: USAGE on its own schema and every privilege on its tables
-- and sequences (no CREATE: only migrations change the schema); in core, what
-- libcommon needs; SELECT on the views other services publish. No service
-- role can write another service's schema, nor change or delete audit rows.

REVOKE ALL ON SCHEMA core, install, secrets, identity FROM svc_secrets, svc_identity, svc_install;
REVOKE ALL ON ALL TABLES IN SCHEMA core, install, secrets, identity
    FROM svc_secrets, svc_identity, svc_install;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA core, install, secrets, identity
    FROM svc_secrets, svc_identity, svc_install;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA core, install, secrets, identity
    FROM svc_secrets, svc_identity, svc_install;

-- Own schemas.
GRANT USAGE ON SCHEMA secrets TO svc_secrets;
GRANT ALL ON ALL TABLES IN SCHEMA secrets TO svc_secrets;
GRANT ALL ON ALL SEQUENCES IN SCHEMA secrets TO svc_secrets;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA secrets TO svc_secrets;

GRANT USAGE ON SCHEMA identity TO svc_identity;
GRANT ALL ON ALL TABLES IN SCHEMA identity TO svc_identity;
GRANT ALL ON ALL SEQUENCES IN SCHEMA identity TO svc_identity;

GRANT USAGE ON SCHEMA install TO svc_install;
GRANT ALL ON ALL TABLES IN SCHEMA install TO svc_install;
GRANT ALL ON ALL SEQUENCES IN SCHEMA install TO svc_install;

-- core, through libcommon: authentication, idempotency, events, audit.
GRANT USAGE ON SCHEMA core TO svc_secrets, svc_identity, svc_install;
GRANT SELECT ON core.accounts, core.memberships, core.api_keys, core.extension_tokens,
    core.auth_epoch TO svc_secrets, svc_identity, svc_install;
GRANT EXECUTE ON FUNCTION core.auth_stale(bigint) TO svc_secrets, svc_identity, svc_install;
-- Audit housekeeping that every service's background thread runs (all are
-- SECURITY DEFINER: the chain and the partitions belong to the owner).
GRANT EXECUTE ON FUNCTION core.audit_chain_extend(integer, boolean), core.audit_ensure_partitions(),
    core.audit_rollup_advance(integer) TO svc_secrets, svc_identity, svc_install;
-- No service reads core.users: the sign-in page goes through
-- core.user_sign_in() (sql/core/0011), so no role sees a password hash.
GRANT SELECT, INSERT, UPDATE, DELETE ON core.idempotency TO svc_secrets, svc_identity, svc_install;
GRANT SELECT, INSERT ON core.events TO svc_secrets, svc_identity, svc_install;
GRANT USAGE ON SEQUENCE core.events_seq_seq TO svc_secrets, svc_identity, svc_install;
-- Redaction rewrites a verification session's events (svc-identity/redact.c).
GRANT UPDATE (data) ON core.events TO svc_identity;
GRANT INSERT ON core.audit TO svc_secrets, svc_identity, svc_install;
GRANT USAGE ON SEQUENCE core.audit_id_seq TO svc_secrets, svc_identity, svc_install;

-- Published views.
GRANT USAGE ON SCHEMA install TO svc_secrets, svc_identity;
GRANT SELECT ON install.app_access TO svc_secrets, svc_identity, svc_install;

-- Webhook endpoints, deliveries and attempts (sql/core/0010): svc-install.
GRANT SELECT, INSERT, UPDATE ON core.webhook_endpoints TO svc_install;
GRANT USAGE ON SEQUENCE core.webhook_endpoints_seq_seq TO svc_install;
GRANT SELECT, UPDATE ON core.event_deliveries TO svc_install;
GRANT SELECT, INSERT ON core.delivery_attempts TO svc_install;
GRANT USAGE ON SEQUENCE core.delivery_attempts_id_seq TO svc_install;

-- Sign-in sessions of the install pages (sql/core/0011): svc-install.
-- The service reads, creates and ends sessions; the throttle table is reached
-- only through core.user_sign_in() (SECURITY DEFINER).
GRANT SELECT, INSERT, DELETE ON core.user_sessions TO svc_install;
GRANT EXECUTE ON FUNCTION core.user_sign_in(text, text, text) TO svc_install;
