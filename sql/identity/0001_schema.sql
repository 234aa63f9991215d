-- identity: owned by svc-identity (verification sessions and reports). Only
-- the schema is created here; its tables come with the issues that implement
-- them, as later migrations in this directory.

CREATE SCHEMA identity;
