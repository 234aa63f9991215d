-- Storing an idempotent response becomes a function that fails when the key
-- was not claimed in the calling transaction. libcommon sends it deferred,
-- in the same network flight as COMMIT, where it cannot read a row count:
-- the check has to live in the statement itself.
CREATE FUNCTION core.idem_store(p_owner text, p_key text, p_status integer, p_body text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE core.idempotency i SET status = p_status, body = p_body
     WHERE i.owner = p_owner AND i.key = p_key AND i.status IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'idempotency key not claimed in this transaction'
            USING ERRCODE = 'P0002';
    END IF;
END;
$$;
