-- The audit housekeeping functions of 0008 run as their owner (SECURITY
-- DEFINER) and were left executable by PUBLIC, so any role could create
-- partitions for any date or extend the chain. Only the service roles may,
-- through the grants in sql/grants.sql.
REVOKE ALL ON FUNCTION core.audit_ensure_partition(date), core.audit_ensure_partitions(),
    core.audit_chain_extend(integer) FROM PUBLIC;
