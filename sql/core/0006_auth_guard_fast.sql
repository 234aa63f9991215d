-- The epoch guard runs at the head of nearly every request's first flight,
-- so its common case must not enter PL/pgSQL (about 15 us a call, against
-- about 2 for plain SQL): libcommon now sends
--   SELECT CASE WHEN n = $1 THEN true ELSE core.auth_stale($1) END FROM core.auth_epoch
-- and only a stale epoch reaches this function, which raises CMAU1.
CREATE FUNCTION core.auth_stale(p_epoch bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'authorization changed since this key was resolved (epoch %)', p_epoch
        USING ERRCODE = 'CMAU1';
END;
$$;
