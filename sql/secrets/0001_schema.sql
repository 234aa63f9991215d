-- secrets: owned by svc-secrets (the Apps Secret Store). Only the schema is
-- created here; its tables come with the issues that implement them, as
-- later migrations in this directory.

CREATE SCHEMA secrets;
