-- core.auth_guard() gave way to the plain-SQL guard of 0006 (libcommon sends
-- it as a prepared statement) and nothing calls it any more.
DROP FUNCTION core.auth_guard(bigint);
