-- Payouts: money sent from a merchant's balance to a card or a bank
-- account, reserved in the transaction that makes the payout.

-- A payout's ledger rows have no payment: payment_id may be null. SQLite
-- cannot drop a NOT NULL, so the table is made again with its rows.
CREATE TABLE balance_transactions_new (
    id            TEXT PRIMARY KEY,
    merchant_id   TEXT NOT NULL REFERENCES merchants(id),
    -- charge (a capture), refund, payout, payout_failure, payout_cancel,
    -- payout_return, top_up.
    type          TEXT NOT NULL,
    -- What moved the money: a payment, refund, payout or top-up.
    source_id     TEXT NOT NULL,
    payment_id    TEXT,
    currency      TEXT NOT NULL,
    amount        INTEGER NOT NULL,
    fee           INTEGER NOT NULL,
    net           INTEGER NOT NULL CHECK (net = amount - fee),
    -- pending until available_on, then available.
    status        TEXT NOT NULL,
    available_on  INTEGER NOT NULL,
    settlement_id TEXT,
    payout_id     TEXT,
    created       INTEGER NOT NULL,
    UNIQUE (type, source_id)
);
INSERT INTO balance_transactions_new (rowid, id, merchant_id, type, source_id, payment_id,
    currency, amount, fee, net, status, available_on, settlement_id, payout_id, created)
SELECT rowid, id, merchant_id, type, source_id, payment_id, currency, amount, fee, net, status,
    available_on, settlement_id, payout_id, created FROM balance_transactions;
DROP TABLE balance_transactions;
ALTER TABLE balance_transactions_new RENAME TO balance_transactions;
CREATE INDEX balance_transactions_merchant ON balance_transactions(merchant_id, created);
CREATE INDEX balance_transactions_due ON balance_transactions(status, available_on);
CREATE INDEX balance_transactions_unsettled ON balance_transactions(settlement_id, merchant_id, currency, created);
CREATE INDEX balance_transactions_payment ON balance_transactions(payment_id);
CREATE INDEX balance_transactions_payout ON balance_transactions(payout_id);

CREATE TABLE payouts (
    id                 TEXT PRIMARY KEY,
    merchant_id        TEXT NOT NULL REFERENCES merchants(id),
    amount             INTEGER NOT NULL CHECK (amount > 0),
    currency           TEXT NOT NULL,
    -- requires_approval, pending, in_transit, paid, failed, canceled, returned.
    status             TEXT NOT NULL,
    -- card or bank_account.
    method             TEXT NOT NULL,
    payment_method_id  TEXT,
    brand              TEXT,
    last4              TEXT NOT NULL,
    exp_month          INTEGER,
    exp_year           INTEGER,
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
    check_after        INTEGER,
    arrival_date       INTEGER,
    paid_at            INTEGER,
    returned_at        INTEGER,
    created            INTEGER NOT NULL,
    updated            INTEGER NOT NULL,
    UNIQUE (merchant_id, merchant_reference)
);
CREATE INDEX payouts_merchant ON payouts(merchant_id, created);
CREATE INDEX payouts_due ON payouts(check_after);

-- Payouts at or above a threshold wait for an admin's approval.
CREATE TABLE payout_settings (
    merchant_id        TEXT NOT NULL REFERENCES merchants(id),
    currency           TEXT NOT NULL,
    approval_threshold INTEGER NOT NULL CHECK (approval_threshold > 0),
    updated            INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, currency)
);

ALTER TABLE settlements ADD COLUMN payout_id TEXT;

-- The sandbox rail's own books: one row per transfer it received.
CREATE TABLE sandbox_transfers (
    reference  TEXT NOT NULL,
    last4      TEXT NOT NULL,
    amount     INTEGER NOT NULL,
    currency   TEXT NOT NULL,
    received   INTEGER NOT NULL
);
CREATE INDEX sandbox_transfers_reference ON sandbox_transfers(reference);

-- Reports over an interval, kept as made so that they read the same later.
CREATE TABLE reports (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    type            TEXT NOT NULL,
    report_version  INTEGER NOT NULL,
    interval_start  INTEGER NOT NULL,
    interval_end    INTEGER NOT NULL,
    format          TEXT NOT NULL,
    time_zone       TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    body            TEXT NOT NULL,
    created         INTEGER NOT NULL
);
CREATE INDEX reports_merchant ON reports(merchant_id, created);
