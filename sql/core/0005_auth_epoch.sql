-- The authorization epoch: a counter that moves whenever anything deciding
-- who may do what changes (keys, extension tokens, memberships; and, from
-- sql/install, installations and app versions). A service may cache a
-- resolved key only together with the epoch its resolving statement saw, and
-- must send core.auth_guard(epoch) at the head of the request's next flight:
-- it raises when the epoch moved, so nothing after it runs, and the service
-- resolves the key afresh. A revoked key or an uninstalled app is therefore
-- refused by the first request that starts after the change commits, cache
-- or no cache, at the cost of no extra round trip.

CREATE TABLE core.auth_epoch (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    n   bigint NOT NULL
);
INSERT INTO core.auth_epoch (one, n) VALUES (true, 1);

-- Statement-level: one bump per statement, whatever it touched. SECURITY
-- DEFINER so that the roles writing those tables need no grant on the epoch.
CREATE FUNCTION core.bump_auth_epoch() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE core.auth_epoch SET n = n + 1;
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION core.bump_auth_epoch() FROM PUBLIC;

CREATE TRIGGER api_keys_auth_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON core.api_keys FOR EACH STATEMENT EXECUTE FUNCTION core.bump_auth_epoch();
CREATE TRIGGER extension_tokens_auth_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON core.extension_tokens FOR EACH STATEMENT EXECUTE FUNCTION core.bump_auth_epoch();
CREATE TRIGGER memberships_auth_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON core.memberships FOR EACH STATEMENT EXECUTE FUNCTION core.bump_auth_epoch();
CREATE TRIGGER accounts_auth_epoch AFTER DELETE OR TRUNCATE
    ON core.accounts FOR EACH STATEMENT EXECUTE FUNCTION core.bump_auth_epoch();

-- Raises SQLSTATE CMAU1 unless the epoch is still p_epoch.
CREATE FUNCTION core.auth_guard(p_epoch bigint) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF (SELECT n FROM core.auth_epoch) IS DISTINCT FROM p_epoch THEN
        RAISE EXCEPTION 'authorization changed since this key was resolved'
            USING ERRCODE = 'CMAU1';
    END IF;
END;
$$;
