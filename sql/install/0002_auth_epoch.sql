-- Installing, uninstalling or publishing an app version changes who may do
-- what: it moves the authorization epoch (sql/core/0005_auth_epoch.sql).
CREATE TRIGGER installations_auth_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON install.installations FOR EACH STATEMENT EXECUTE FUNCTION core.bump_auth_epoch();
CREATE TRIGGER app_versions_auth_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON install.app_versions FOR EACH STATEMENT EXECUTE FUNCTION core.bump_auth_epoch();
CREATE TRIGGER apps_auth_epoch AFTER DELETE OR TRUNCATE
    ON install.apps FOR EACH STATEMENT EXECUTE FUNCTION core.bump_auth_epoch();
