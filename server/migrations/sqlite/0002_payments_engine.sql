-- Manual capture, captures, voids, refunds, 3-D Secure, validation and
-- idempotency.

ALTER TABLE checkout_sessions ADD COLUMN capture_method TEXT NOT NULL DEFAULT 'automatic'
    CHECK (capture_method IN ('automatic', 'manual'));

ALTER TABLE payments ADD COLUMN capture_method TEXT NOT NULL DEFAULT 'automatic'
    CHECK (capture_method IN ('automatic', 'manual'));
-- Authorised and not yet captured is amount - amount_captured while
-- requires_capture; refunds never exceed amount_captured.
ALTER TABLE payments ADD COLUMN amount_captured INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN amount_refunded INTEGER NOT NULL DEFAULT 0
    CHECK (amount_refunded <= amount_captured);
-- 3-D Secure: the simulated issuer page proves it was reached with this token.
ALTER TABLE payments ADD COLUMN action_token TEXT;
ALTER TABLE payments ADD COLUMN validated INTEGER;
ALTER TABLE payments ADD COLUMN updated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN order_reference TEXT;
UPDATE payments SET order_reference =
    (SELECT order_reference FROM checkout_sessions WHERE checkout_sessions.id = payments.session_id);
UPDATE payments SET amount_captured = amount WHERE status = 'succeeded';
UPDATE payments SET updated = created;
CREATE INDEX payments_status ON payments(merchant_id, status, created);
CREATE INDEX payments_order_reference ON payments(merchant_id, order_reference);

CREATE TABLE refunds (
    id           TEXT PRIMARY KEY,
    payment_id   TEXT NOT NULL REFERENCES payments(id),
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    amount       INTEGER NOT NULL CHECK (amount > 0),
    currency     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    reason       TEXT,
    created      INTEGER NOT NULL
);
CREATE INDEX refunds_payment ON refunds(payment_id);

CREATE TABLE idempotency_keys (
    merchant_id      TEXT NOT NULL REFERENCES merchants(id),
    key              TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    response_status  INTEGER,              -- NULL while the first request is in flight
    response_body    BLOB,
    created          INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, key)
);
