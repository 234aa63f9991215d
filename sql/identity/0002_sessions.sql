-- identity: verification sessions, the files a person uploads for one, and
-- the verification reports its checks produce. Personal data never sits in
-- plaintext: every *_sealed column is AES-256-GCM (libcommon cm_seal) under
-- the row's key_id, with ("identity.<table>", row id, column name) as
-- associated data, so a value copied to another row or column fails to open.

CREATE TABLE identity.sessions (
    seq                      bigserial UNIQUE,
    id                       text PRIMARY KEY CHECK (id ~ '^vs_[A-Za-z0-9]{1,64}$'),
    account_id               text NOT NULL REFERENCES core.accounts(id),
    app_id                   text,     -- the app whose key created it; NULL for an account key
    livemode                 boolean NOT NULL,
    type                     text NOT NULL CHECK (type IN ('document', 'id_number')),
    status                   text NOT NULL DEFAULT 'requires_input'
                             CHECK (status IN ('requires_input', 'processing', 'verified', 'canceled')),
    client_reference_id      text,
    metadata                 jsonb NOT NULL DEFAULT '{}',
    options                  jsonb NOT NULL DEFAULT '{}',  -- the object's `options`, as rendered
    return_url               text,
    related_customer         text,
    related_customer_account text,
    related_person           jsonb,    -- {"account":..,"person":..} or NULL
    key_id                   text,     -- the key of every *_sealed column of the row
    provided_details_sealed  bytea,    -- JSON {"email":..,"phone":..}
    -- The client secret works while client_secret_hash (sha256 of it) is set;
    -- it is cleared when the session is canceled, verified or redacted.
    client_secret_hash       bytea UNIQUE,
    client_secret_sealed     bytea,    -- to hand it out again on retrieve in requires_input
    last_error_code          text,
    last_error_reason        text,
    last_report_id           text,
    verified_outputs_sealed  bytea,    -- JSON of verified_outputs
    submission_sealed        bytea,    -- JSON of what the person submitted, until checks ran
    test_outcome             text,     -- test mode: the outcome the tester picked on the page
    process_after            timestamptz, -- status processing: checks run once now() >= this
    redaction_status         text CHECK (redaction_status IN ('processing', 'redacted')),
    created                  timestamptz NOT NULL DEFAULT now(),
    updated                  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_account_created ON identity.sessions (account_id, livemode, created DESC, seq DESC);
CREATE INDEX sessions_processing ON identity.sessions (process_after) WHERE status = 'processing';
CREATE INDEX sessions_redacting ON identity.sessions (updated) WHERE redaction_status = 'processing';
CREATE INDEX sessions_client_reference ON identity.sessions (account_id, livemode, client_reference_id)
    WHERE client_reference_id IS NOT NULL;
CREATE INDEX sessions_related_customer ON identity.sessions (account_id, livemode, related_customer)
    WHERE related_customer IS NOT NULL;

-- Images a person uploaded (front and back of the document, a selfie).
-- Deleted when the session is redacted.
CREATE TABLE identity.files (
    id           text PRIMARY KEY CHECK (id ~ '^file_[A-Za-z0-9]{1,64}$'),
    session_id   text NOT NULL REFERENCES identity.sessions(id) ON DELETE CASCADE,
    purpose      text NOT NULL CHECK (purpose IN ('document_front', 'document_back', 'selfie')),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    size         integer NOT NULL CHECK (size > 0),
    key_id       text NOT NULL,
    data_sealed  bytea NOT NULL,
    created      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (session_id, purpose)
);

-- One report per completed run of the checks. The non-personal parts of each
-- check (status, error code and reason, document type, issuing country) are
-- plain JSON; the personal parts (names, dates, numbers, address) are sealed.
CREATE TABLE identity.reports (
    seq                 bigserial UNIQUE,
    id                  text PRIMARY KEY CHECK (id ~ '^vr_[A-Za-z0-9]{1,64}$'),
    session_id          text NOT NULL REFERENCES identity.sessions(id),
    account_id          text NOT NULL REFERENCES core.accounts(id),
    livemode            boolean NOT NULL,
    type                text NOT NULL CHECK (type IN ('document', 'id_number')),
    client_reference_id text,
    options             jsonb NOT NULL DEFAULT '{}',
    document            jsonb,    -- {"status":..,"error":{..}|null,"type":..,"issuing_country":..} or NULL
    id_number           jsonb,
    selfie              jsonb,
    key_id              text,
    personal_sealed     bytea,    -- JSON {"document":{...},"id_number":{...}} personal fields
    redacted            boolean NOT NULL DEFAULT false,
    created             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reports_account_created ON identity.reports (account_id, livemode, created DESC, seq DESC);
CREATE INDEX reports_session ON identity.reports (session_id);
