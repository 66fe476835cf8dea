-- Kasse's first schema. Times are Unix seconds. No column ever holds a full
-- card number or a CVC.

CREATE TABLE merchants (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    origins         TEXT NOT NULL,           -- JSON array of origins
    signing_secret  TEXT NOT NULL,
    created         INTEGER NOT NULL
);

CREATE TABLE api_keys (
    lookup       TEXT PRIMARY KEY,            -- e.g. sk_test_AbCd1234
    hash         TEXT NOT NULL,               -- HMAC-SHA256 of the whole key
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    kind         TEXT NOT NULL CHECK (kind IN ('secret', 'publishable')),
    created      INTEGER NOT NULL,
    revoked      INTEGER
);
CREATE INDEX api_keys_merchant ON api_keys(merchant_id);

CREATE TABLE checkout_sessions (
    id               TEXT PRIMARY KEY,
    merchant_id      TEXT NOT NULL REFERENCES merchants(id),
    client_secret    TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'complete', 'expired')),
    amount           INTEGER NOT NULL CHECK (amount > 0),
    currency         TEXT NOT NULL,
    success_url      TEXT NOT NULL,
    cancel_url       TEXT NOT NULL,
    fail_url         TEXT,
    order_reference  TEXT,
    customer_name    TEXT,
    customer_email   TEXT,
    metadata         TEXT NOT NULL,            -- JSON object of strings
    payment_id       TEXT,
    confirm_lease    INTEGER,                  -- a confirm holds the session until then
    created          INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL
);
CREATE INDEX checkout_sessions_merchant ON checkout_sessions(merchant_id, created);

CREATE TABLE payments (
    id                  TEXT PRIMARY KEY,
    merchant_id         TEXT NOT NULL REFERENCES merchants(id),
    session_id          TEXT REFERENCES checkout_sessions(id),
    amount              INTEGER NOT NULL CHECK (amount > 0),
    currency            TEXT NOT NULL,
    status              TEXT NOT NULL,
    card_brand          TEXT NOT NULL,
    card_bin            TEXT NOT NULL CHECK (length(card_bin) = 6),
    card_last4          TEXT NOT NULL CHECK (length(card_last4) = 4),
    card_exp_month      INTEGER NOT NULL,
    card_exp_year       INTEGER NOT NULL,
    card_fingerprint    TEXT NOT NULL,
    cardholder_name     TEXT,
    decline_code        TEXT,
    authorization_code  TEXT,
    created             INTEGER NOT NULL
);
CREATE INDEX payments_merchant ON payments(merchant_id, created);
CREATE INDEX payments_session ON payments(session_id);
