-- Idempotency keys without PL/pgSQL. The claim is now one plain statement
-- sent ahead with the handler's first statement, and the record is written
-- once, with the response, ahead of COMMIT (libcommon/src/idem.c): the
-- functions of 0001 and 0004 (claim inserting a row, store updating it) cost
-- two writes of the same row and about 160 µs of the database's time per
-- request. A record without a status is a claim of those functions still in
-- flight during the upgrade: the new claim answers "busy" for it.
DROP FUNCTION core.idem_store(text, text, integer, text);
DROP FUNCTION core.idem_claim(text, text, text, bytea);
