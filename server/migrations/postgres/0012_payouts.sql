-- Payouts: money sent from a merchant's balance to a card or a bank
-- account, reserved in the transaction that makes the payout.

-- A payout's ledger rows have no payment.
ALTER TABLE balance_transactions ALTER COLUMN payment_id DROP NOT NULL;
CREATE INDEX balance_transactions_payment ON balance_transactions(payment_id);
CREATE INDEX balance_transactions_payout ON balance_transactions(payout_id);

CREATE TABLE payouts (
    id                 TEXT PRIMARY KEY,
    rowid              BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    merchant_id        TEXT NOT NULL REFERENCES merchants(id),
    amount             BIGINT NOT NULL CHECK (amount > 0),
    currency           TEXT NOT NULL,
    -- requires_approval, pending, in_transit, paid, failed, canceled, returned.
    status             TEXT NOT NULL,
    -- card or bank_account.
    method             TEXT NOT NULL,
    payment_method_id  TEXT,
    brand              TEXT,
    last4              TEXT NOT NULL,
    exp_month          BIGINT,
    exp_year           BIGINT,
    -- A card typed in, or a bank account's number, sealed in the vault.
    sealed             TEXT,
    bank_code          TEXT,
    account_holder     TEXT,
    country            TEXT,
    merchant_reference TEXT NOT NULL,
    purpose            TEXT NOT NULL,
    settlement_id      TEXT,
    created_by         TEXT NOT NULL,
    approved_by        TEXT,
    failure_code       TEXT,
    failure_message    TEXT,
    -- What Kasse knows of the rail: sending (claimed, answer not yet
    -- recorded), accepted, unknown (no answer: ask, never send again).
    rail_state         TEXT,
    -- When to ask the rail next; null once nothing more can happen.
    check_after        BIGINT,
    arrival_date       BIGINT,
    paid_at            BIGINT,
    returned_at        BIGINT,
    created            BIGINT NOT NULL,
    updated            BIGINT NOT NULL,
    UNIQUE (merchant_id, merchant_reference)
);
CREATE INDEX payouts_merchant ON payouts(merchant_id, created);
CREATE INDEX payouts_due ON payouts(check_after);

-- Payouts at or above a threshold wait for an admin's approval.
CREATE TABLE payout_settings (
    merchant_id        TEXT NOT NULL REFERENCES merchants(id),
    currency           TEXT NOT NULL,
    approval_threshold BIGINT NOT NULL CHECK (approval_threshold > 0),
    updated            BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, currency)
);

ALTER TABLE settlements ADD COLUMN payout_id TEXT;

-- The sandbox rail's own books: one row per transfer it received.
CREATE TABLE sandbox_transfers (
    reference  TEXT NOT NULL,
    last4      TEXT NOT NULL,
    amount     BIGINT NOT NULL,
    currency   TEXT NOT NULL,
    received   BIGINT NOT NULL
);
CREATE INDEX sandbox_transfers_reference ON sandbox_transfers(reference);

-- Reports over an interval, kept as made so that they read the same later.
CREATE TABLE reports (
    id              TEXT PRIMARY KEY,
    rowid           BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    type            TEXT NOT NULL,
    report_version  BIGINT NOT NULL,
    interval_start  BIGINT NOT NULL,
    interval_end    BIGINT NOT NULL,
    format          TEXT NOT NULL,
    time_zone       TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    body            TEXT NOT NULL,
    created         BIGINT NOT NULL
);
CREATE INDEX reports_merchant ON reports(merchant_id, created);
