-- install: owned by svc-install. Apps (from their manifests), app versions,
-- and installations of an app on an account. Other services learn who may do
-- what through the published view install.app_access, read-only to them.

CREATE SCHEMA install;

-- id is the manifest id ("com.example.app"). signing_secret (absec_...)
-- signs install redirects and webhooks; it is encrypted at rest by a later
-- svc-install migration.
CREATE TABLE install.apps (
    id             text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
    owner_account  text NOT NULL REFERENCES core.accounts(id),
    name           text NOT NULL,
    signing_secret text NOT NULL,
    created        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX apps_owner ON install.apps (owner_account);

-- One row per uploaded manifest version. permissions are the manifest's
-- permission names ("secret_write"); at most one version of an app is the
-- published one, which installations get.
CREATE TABLE install.app_versions (
    app_id                text NOT NULL REFERENCES install.apps(id) ON DELETE CASCADE,
    version               text NOT NULL CHECK (length(version) BETWEEN 1 AND 64),
    manifest              jsonb NOT NULL,
    permissions           text[] NOT NULL,
    allowed_redirect_uris text[] NOT NULL,
    published             boolean NOT NULL DEFAULT false,
    created               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, version)
);
CREATE UNIQUE INDEX app_versions_one_published ON install.app_versions (app_id) WHERE published;

-- An app installed on an account in one mode. Uninstalling sets
-- uninstalled_at; the row stays for history, and a later install is a new row.
CREATE TABLE install.installations (
    id             text PRIMARY KEY CHECK (id ~ '^inst_[A-Za-z0-9]{1,64}$'),
    app_id         text NOT NULL REFERENCES install.apps(id),
    account_id     text NOT NULL REFERENCES core.accounts(id),
    livemode       boolean NOT NULL,
    installed_by   text,
    created        timestamptz NOT NULL DEFAULT now(),
    uninstalled_at timestamptz
);
CREATE UNIQUE INDEX installations_active ON install.installations (app_id, account_id, livemode)
    WHERE uninstalled_at IS NULL;
CREATE INDEX installations_account ON install.installations (account_id);

-- Published to the other services (SELECT only, granted in sql/grants.sql):
-- the permissions each active installation holds, from the app's published
-- version. No row: not installed, or nothing published.
CREATE VIEW install.app_access AS
SELECT i.app_id, i.account_id, i.livemode, v.permissions
FROM install.installations i
JOIN install.app_versions v ON v.app_id = i.app_id AND v.published
WHERE i.uninstalled_at IS NULL;
