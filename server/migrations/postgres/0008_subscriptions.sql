-- Subscriptions: a saved card charged on a calendar, each cycle once.

CREATE TABLE subscriptions (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id                 TEXT PRIMARY KEY,
    merchant_id        TEXT NOT NULL REFERENCES merchants(id),
    customer_id        TEXT NOT NULL REFERENCES customers(id),
    payment_method_id  TEXT NOT NULL,
    mandate_id         TEXT,
    amount             BIGINT NOT NULL CHECK (amount > 0),
    currency           TEXT NOT NULL,
    description        TEXT,
    metadata           TEXT NOT NULL,
    -- day, week, month or year, times interval_count.
    interval_unit      TEXT NOT NULL,
    interval_count     BIGINT NOT NULL CHECK (interval_count > 0),
    -- Cycle 0's local date and time in time_zone (ISO 8601, no offset);
    -- every cycle's date is computed from it, with anchor_day clamped to
    -- the month's end.
    time_zone          TEXT NOT NULL,
    first_local        TEXT NOT NULL,
    anchor_day         BIGINT NOT NULL,
    end_after_cycles   BIGINT,
    -- active, past_due, paused, halted, canceled, completed.
    status             TEXT NOT NULL,
    -- The cycle charged next, and when the sweeper may try it.
    next_cycle         BIGINT NOT NULL,
    next_attempt_at    BIGINT,
    cycles_paid        BIGINT NOT NULL,
    created            BIGINT NOT NULL,
    updated            BIGINT NOT NULL
);
CREATE INDEX subscriptions_due ON subscriptions(status, next_attempt_at);
CREATE INDEX subscriptions_merchant ON subscriptions(merchant_id, created);

-- One row per cycle, claimed by a guarded write: charging (leased to one
-- instance until lease_until, with the payment id the acquirer is asked
-- with), retrying, paid, failed.
CREATE TABLE subscription_cycles (
    subscription_id  TEXT NOT NULL REFERENCES subscriptions(id),
    number           BIGINT NOT NULL,
    due_at           BIGINT NOT NULL,
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL,
    payment_id       TEXT,
    lease_until      BIGINT,
    lease_owner      TEXT,
    next_attempt_at  BIGINT,
    last_decline     TEXT,
    PRIMARY KEY (subscription_id, number)
);

-- The sandbox acquirer's own record of every charge it was asked for with
-- the customer absent, by Kasse's payment id, which it answers inquiries
-- from (as a real acquirer answers from its own books). One row per
-- request: the tests count them against the cycles.
CREATE TABLE sandbox_authorizations (
    rowid      BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    reference  TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    amount     BIGINT NOT NULL,
    currency   TEXT NOT NULL,
    created    BIGINT NOT NULL
);
CREATE INDEX sandbox_authorizations_reference ON sandbox_authorizations(reference);

-- When the customer's merchant was told a saved card expires soon
-- (payment_method.expiring), so that it is told once.
ALTER TABLE payment_methods ADD COLUMN expiring_notified BIGINT;

-- A hosted page where a customer replaces a saved card (expired, lost):
-- single use, its secret kept only as a keyed hash.
CREATE TABLE card_updates (
    id                 TEXT PRIMARY KEY,
    merchant_id        TEXT NOT NULL REFERENCES merchants(id),
    payment_method_id  TEXT NOT NULL,
    secret_hash        TEXT NOT NULL,
    return_url         TEXT NOT NULL,
    created            BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    used_at            BIGINT
);
