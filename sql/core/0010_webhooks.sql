-- Webhooks: the endpoints accounts and apps register, one delivery per
-- (event, endpoint) that should receive it, and every attempt to deliver it.
-- Deliveries are created by a trigger on core.events, in the transaction that
-- writes the event, so an event has its deliveries exactly when it exists,
-- whichever service emitted it. svc-install's delivery worker claims due
-- deliveries with a lease and POSTs them (svc-install/delivery.c).

-- An endpoint belongs to an account (account key) or to an app (app key:
-- application is the app id, and the endpoint gets the app's events from
-- every account). The whsec_ secret is stored only sealed (AES-256-GCM, the
-- endpoint id as associated data) under the key named by secret_key_id.
-- Deleting keeps the row (deleted_at) so deliveries and attempts keep their
-- history; a deleted endpoint is invisible to the API and receives nothing.
CREATE TABLE core.webhook_endpoints (
    id             text PRIMARY KEY CHECK (id ~ '^we_[A-Za-z0-9]{1,64}$'),
    account_id     text NOT NULL REFERENCES core.accounts(id) ON DELETE CASCADE,
    application    text CHECK (length(application) BETWEEN 1 AND 128),
    livemode       boolean NOT NULL,
    url            text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    enabled_events text[] NOT NULL CHECK (cardinality(enabled_events) >= 1),
    api_version    text,
    description    text,
    metadata       jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
    status         text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
    secret_sealed  bytea NOT NULL,
    secret_key_id  text NOT NULL CHECK (length(secret_key_id) BETWEEN 1 AND 32),
    created        timestamptz NOT NULL DEFAULT now(),
    seq            bigserial UNIQUE,
    deleted_at     timestamptz
);
CREATE INDEX webhook_endpoints_owner ON core.webhook_endpoints
    (account_id, livemode, created DESC, seq DESC) WHERE deleted_at IS NULL;
CREATE INDEX webhook_endpoints_app ON core.webhook_endpoints (application, livemode)
    WHERE deleted_at IS NULL AND application IS NOT NULL;

-- One event to be delivered to one endpoint. state: pending until a 2xx
-- (succeeded), the retry window closes (failed) or the endpoint is disabled
-- or deleted (canceled). attempts counts claims; a worker that claims a
-- delivery holds it until leased_until, and records its outcome only if
-- attempts is still the number it claimed (a fencing token: a worker whose
-- lease ran out cannot overwrite a newer attempt's outcome).
CREATE TABLE core.event_deliveries (
    id              bigserial PRIMARY KEY,
    event_id        text NOT NULL REFERENCES core.events(id) ON DELETE CASCADE,
    endpoint_id     text NOT NULL REFERENCES core.webhook_endpoints(id) ON DELETE CASCADE,
    livemode        boolean NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'succeeded', 'failed', 'canceled')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    leased_until    timestamptz,
    created         timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    UNIQUE (event_id, endpoint_id),
    CHECK ((state = 'pending') = (finished_at IS NULL))
);
CREATE INDEX event_deliveries_due ON core.event_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX event_deliveries_endpoint_pending ON core.event_deliveries (endpoint_id)
    WHERE state = 'pending';
-- pending_webhooks and the delivery_success filter: deliveries of an event
-- that have not succeeded (pending, or failed for good).
CREATE INDEX event_deliveries_unsucceeded ON core.event_deliveries (event_id)
    WHERE state IN ('pending', 'failed');

-- Every attempt: when it started, how long it took, the HTTP status (NULL
-- when no response came) and the transport error (NULL when a response came).
CREATE TABLE core.delivery_attempts (
    id          bigserial PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES core.event_deliveries(id) ON DELETE CASCADE,
    attempt     integer NOT NULL CHECK (attempt >= 1),
    at          timestamptz NOT NULL,
    duration_ms integer NOT NULL CHECK (duration_ms >= 0),
    status_code integer CHECK (status_code BETWEEN 100 AND 999),
    error       text CHECK (length(error) <= 512),
    succeeded   boolean NOT NULL,
    UNIQUE (delivery_id, attempt)
);

-- The events list of an app key filters on app_id.
CREATE INDEX events_app_created ON core.events (app_id, livemode, created DESC, seq DESC)
    WHERE app_id IS NOT NULL;

-- Fan-out: one delivery per enabled endpoint of the event's mode that owns
-- the event (an account endpoint: the event's account; an app endpoint: the
-- event's app) and enabled its type. '*' covers every type except those that
-- must be named explicitly. SECURITY DEFINER: every service emits events, and
-- none but svc-install may touch endpoints or deliveries.
CREATE FUNCTION core.webhook_fan_out() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO core.event_deliveries (event_id, endpoint_id, livemode)
    SELECT NEW.id, w.id, NEW.livemode
      FROM core.webhook_endpoints w
     WHERE w.status = 'enabled'
       AND w.deleted_at IS NULL
       AND w.livemode = NEW.livemode
       AND ((w.application IS NULL AND w.account_id = NEW.account_id)
            OR w.application = NEW.app_id)
       AND (NEW.type = ANY (w.enabled_events)
            OR ('*' = ANY (w.enabled_events)
                AND NEW.type <> ALL (ARRAY['identity.verification_session.redacted'])));
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION core.webhook_fan_out() FROM PUBLIC;

CREATE TRIGGER events_webhook_fan_out AFTER INSERT ON core.events
    FOR EACH ROW EXECUTE FUNCTION core.webhook_fan_out();
