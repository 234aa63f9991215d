-- The apps management API (svc-install apps.c): the application object's id,
-- signing secrets sealed at rest, external tests of a version, and test
-- installations pinned to the version they were installed from.

-- application_id is the id of the `application` object ("ca_...") that
-- events carry. The default fills the existing rows and the operator's
-- inserts; svc-install names new apps' ids itself (it may not execute
-- core.random_base62).
ALTER TABLE install.apps
    ADD COLUMN application_id text UNIQUE NOT NULL DEFAULT 'ca_' || core.random_base62(24);

-- The signing secret lives AES-256-GCM sealed (AAD: "install.apps" and the
-- app id) in signing_secret_sealed under the key signing_key_id. The
-- plaintext column only stages a secret written by an operator or the dev
-- fixture until `svc-install --seal-signing-secrets` seals and clears it.
ALTER TABLE install.apps
    ALTER COLUMN signing_secret DROP NOT NULL,
    ADD COLUMN signing_secret_sealed bytea,
    ADD COLUMN signing_key_id text;

-- At most one external test per app: its link (tlnk_...) installs the given
-- version in test mode. Moving the test to another version keeps the link.
CREATE TABLE install.external_tests (
    app_id  text PRIMARY KEY REFERENCES install.apps(id) ON DELETE CASCADE,
    link_id text UNIQUE NOT NULL CHECK (link_id ~ '^tlnk_[A-Za-z0-9]{1,64}$'),
    version text NOT NULL,
    created timestamptz NOT NULL DEFAULT now(),
    updated timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (app_id, version) REFERENCES install.app_versions (app_id, version)
);

-- The version a test installation was installed from; NULL: the app's
-- published version, whichever it is now.
ALTER TABLE install.installations ADD COLUMN version text;

-- Same columns as before: a pinned installation holds its own version's
-- permissions, the others those of the published version.
CREATE OR REPLACE VIEW install.app_access AS
SELECT i.app_id, i.account_id, i.livemode, v.permissions
FROM install.installations i
JOIN install.app_versions v
    ON v.app_id = i.app_id
    AND (CASE WHEN i.version IS NULL THEN v.published ELSE v.version = i.version END)
WHERE i.uninstalled_at IS NULL;
