-- Redacting a verification session redacts its events too (seed 002: the
-- session's reports, events and request logs are all redacted): the
-- redaction worker (svc-identity/redact.c) finds them by the id of their
-- data.object. Only verification session events are indexed, so no other
-- event pays for it; the worker's statement repeats the predicate.
CREATE INDEX events_identity_session ON core.events ((data -> 'object' ->> 'id'))
    WHERE type LIKE 'identity.verification_session.%';
