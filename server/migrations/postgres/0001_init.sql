-- Kasse's schema on PostgreSQL: the same tables as the SQLite migrations
-- arrive at, in one step. Times are Unix seconds unless a column says
-- milliseconds. No column ever holds a full card number or a CVC.
-- `rowid` orders rows written in the same second, as SQLite's own does.

CREATE TABLE merchants (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    origins         TEXT NOT NULL,            -- JSON array of origins
    signing_secret  TEXT NOT NULL,
    webhook_secret  TEXT,                     -- signs deliveries to a session's notification_url
    created         BIGINT NOT NULL
);

CREATE TABLE api_keys (
    lookup       TEXT PRIMARY KEY,            -- e.g. sk_test_AbCd1234
    hash         TEXT NOT NULL,               -- HMAC-SHA256 of the whole key
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    kind         TEXT NOT NULL CHECK (kind IN ('secret', 'publishable')),
    created      BIGINT NOT NULL,
    revoked      BIGINT
);
CREATE INDEX api_keys_merchant ON api_keys(merchant_id);

CREATE TABLE checkout_sessions (
    id               TEXT PRIMARY KEY,
    merchant_id      TEXT NOT NULL REFERENCES merchants(id),
    client_secret    TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'complete', 'expired')),
    amount           BIGINT NOT NULL CHECK (amount > 0),
    currency         TEXT NOT NULL,
    success_url      TEXT NOT NULL,
    cancel_url       TEXT NOT NULL,
    fail_url         TEXT,
    order_reference  TEXT,
    customer_name    TEXT,
    customer_email   TEXT,
    metadata         TEXT NOT NULL,           -- JSON object of strings
    payment_id       TEXT,
    confirm_lease    BIGINT,                  -- a confirm holds the session until then
    created          BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    capture_method   TEXT NOT NULL DEFAULT 'automatic'
        CHECK (capture_method IN ('automatic', 'manual')),
    notification_url TEXT
);
CREATE INDEX checkout_sessions_merchant ON checkout_sessions(merchant_id, created);
CREATE INDEX checkout_sessions_due ON checkout_sessions(status, expires_at);

CREATE TABLE payments (
    rowid               BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id                  TEXT PRIMARY KEY,
    merchant_id         TEXT NOT NULL REFERENCES merchants(id),
    session_id          TEXT REFERENCES checkout_sessions(id),
    amount              BIGINT NOT NULL CHECK (amount > 0),
    currency            TEXT NOT NULL,
    status              TEXT NOT NULL,
    card_brand          TEXT NOT NULL,
    card_bin            TEXT NOT NULL CHECK (length(card_bin) = 6),
    card_last4          TEXT NOT NULL CHECK (length(card_last4) = 4),
    card_exp_month      BIGINT NOT NULL,
    card_exp_year       BIGINT NOT NULL,
    card_fingerprint    TEXT NOT NULL,
    cardholder_name     TEXT,
    decline_code        TEXT,
    authorization_code  TEXT,
    created             BIGINT NOT NULL,
    capture_method      TEXT NOT NULL DEFAULT 'automatic'
        CHECK (capture_method IN ('automatic', 'manual')),
    -- Authorised and not yet captured is amount - amount_captured while
    -- requires_capture; refunds never exceed amount_captured.
    amount_captured     BIGINT NOT NULL DEFAULT 0,
    amount_refunded     BIGINT NOT NULL DEFAULT 0 CHECK (amount_refunded <= amount_captured),
    action_token        TEXT,                 -- 3-D Secure: proves the issuer page was reached
    validated           BIGINT,
    updated             BIGINT NOT NULL DEFAULT 0,
    order_reference     TEXT
);
CREATE INDEX payments_merchant ON payments(merchant_id, created);
CREATE INDEX payments_session ON payments(session_id);
CREATE INDEX payments_status ON payments(merchant_id, status, created);
CREATE INDEX payments_order_reference ON payments(merchant_id, order_reference);
CREATE INDEX payments_stale ON payments(status, created);

CREATE TABLE refunds (
    rowid        BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id           TEXT PRIMARY KEY,
    payment_id   TEXT NOT NULL REFERENCES payments(id),
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    amount       BIGINT NOT NULL CHECK (amount > 0),
    currency     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    reason       TEXT,
    created      BIGINT NOT NULL
);
CREATE INDEX refunds_payment ON refunds(payment_id);

CREATE TABLE idempotency_keys (
    merchant_id      TEXT NOT NULL REFERENCES merchants(id),
    key              TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    response_status  BIGINT,                  -- NULL while the first request is in flight
    response_body    BYTEA,
    created          BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, key)
);

CREATE TABLE webhook_endpoints (
    rowid                    BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id                       TEXT PRIMARY KEY,
    merchant_id              TEXT NOT NULL REFERENCES merchants(id),
    url                      TEXT NOT NULL,
    enabled_events           TEXT,            -- JSON array; NULL is every event
    secret                   TEXT NOT NULL,
    previous_secret          TEXT,            -- still signs until previous_secret_expires
    previous_secret_expires  BIGINT,
    created                  BIGINT NOT NULL,
    deleted                  BIGINT
);
CREATE INDEX webhook_endpoints_merchant ON webhook_endpoints(merchant_id);

CREATE TABLE events (
    rowid             BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id                TEXT PRIMARY KEY,
    merchant_id       TEXT NOT NULL REFERENCES merchants(id),
    type              TEXT NOT NULL,
    created           BIGINT NOT NULL,
    data              TEXT NOT NULL,          -- JSON: {"object": …}
    notification_url  TEXT                    -- the session's own destination, for resends
);
CREATE INDEX events_merchant ON events(merchant_id, created);

CREATE TABLE deliveries (
    rowid            BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id               TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL REFERENCES events(id),
    merchant_id      TEXT NOT NULL REFERENCES merchants(id),
    endpoint_id      TEXT REFERENCES webhook_endpoints(id),   -- NULL: the session's notification_url
    url              TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_ms  BIGINT NOT NULL,         -- Unix milliseconds
    lease_until_ms   BIGINT,                  -- a worker holds it until then
    created_ms       BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries(status, next_attempt_ms);
CREATE INDEX deliveries_event ON deliveries(event_id);

CREATE TABLE delivery_attempts (
    rowid        BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    delivery_id  TEXT NOT NULL REFERENCES deliveries(id),
    event_id     TEXT NOT NULL REFERENCES events(id),
    attempted    BIGINT NOT NULL,             -- Unix seconds
    http_status  BIGINT,
    latency_ms   BIGINT NOT NULL,
    error        TEXT
);
CREATE INDEX delivery_attempts_event ON delivery_attempts(event_id);
