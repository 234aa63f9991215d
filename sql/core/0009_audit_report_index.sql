-- The report views (sql/reports) group and filter by action and UTC day; a
-- filter on the day does not reach `at` through the cast, so they need an
-- index on the expression itself: each partition then answers a range of
-- days for an action with an index scan.
CREATE INDEX audit_action_day ON core.audit (action, ((at AT TIME ZONE 'UTC')::date));
