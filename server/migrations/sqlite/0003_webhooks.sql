-- Webhooks: an outbox of events written in the same transaction as the
-- state change they describe, and one delivery per event and destination.

ALTER TABLE checkout_sessions ADD COLUMN notification_url TEXT;
-- Signs deliveries to a session's own notification_url (whsec_…).
ALTER TABLE merchants ADD COLUMN webhook_secret TEXT;

CREATE TABLE webhook_endpoints (
    id                       TEXT PRIMARY KEY,
    merchant_id              TEXT NOT NULL REFERENCES merchants(id),
    url                      TEXT NOT NULL,
    enabled_events           TEXT,              -- JSON array; NULL is every event
    secret                   TEXT NOT NULL,
    previous_secret          TEXT,              -- still signs until previous_secret_expires
    previous_secret_expires  INTEGER,
    created                  INTEGER NOT NULL,
    deleted                  INTEGER
);
CREATE INDEX webhook_endpoints_merchant ON webhook_endpoints(merchant_id);

CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    type         TEXT NOT NULL,
    created      INTEGER NOT NULL,
    data         TEXT NOT NULL,                 -- JSON: {"object": …}
    notification_url TEXT                       -- the session's own destination, for resends
);
CREATE INDEX events_merchant ON events(merchant_id, created);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL REFERENCES events(id),
    merchant_id      TEXT NOT NULL REFERENCES merchants(id),
    endpoint_id      TEXT REFERENCES webhook_endpoints(id),   -- NULL: the session's notification_url
    url              TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  INTEGER NOT NULL,         -- Unix milliseconds
    lease_until_ms   INTEGER,                  -- a worker holds it until then
    created_ms       INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries(status, next_attempt_ms);
CREATE INDEX deliveries_event ON deliveries(event_id);

CREATE TABLE delivery_attempts (
    delivery_id  TEXT NOT NULL REFERENCES deliveries(id),
    event_id     TEXT NOT NULL REFERENCES events(id),
    attempted    INTEGER NOT NULL,             -- Unix seconds
    http_status  INTEGER,
    latency_ms   INTEGER NOT NULL,
    error        TEXT
);
CREATE INDEX delivery_attempts_event ON delivery_attempts(event_id);
