-- identity: what a redacted session or report shows instead of its personal
-- data. Redaction erases every sealed column; the placeholders the API then
-- serves ("[redacted]" strings, the date 1-01-01, an address's country kept,
-- as Stripe's docs show) follow the shape of what was erased, which is worked
-- out from the data while it is still there and kept here in plain text: it
-- holds no personal datum, by construction, and anyone can check that.

-- {"provided_details": {...} | null, "verified_outputs": {...} | null}
ALTER TABLE identity.sessions ADD COLUMN redacted_view jsonb;

-- {"document": {...}, "id_number": {...}}: the personal fields of each check
ALTER TABLE identity.reports ADD COLUMN redacted_view jsonb;
