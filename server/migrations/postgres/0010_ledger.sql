-- The ledger: every money movement once, append-only, beside the balances
-- it changes, in the same transaction as the change it belongs to.

CREATE TABLE balance_transactions (
    id            TEXT PRIMARY KEY,
    rowid         BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    merchant_id   TEXT NOT NULL REFERENCES merchants(id),
    -- charge (a capture), refund.
    type          TEXT NOT NULL,
    -- What moved the money: a payment (charge) or a refund.
    source_id     TEXT NOT NULL,
    payment_id    TEXT NOT NULL,
    currency      TEXT NOT NULL,
    amount        BIGINT NOT NULL,
    fee           BIGINT NOT NULL,
    net           BIGINT NOT NULL CHECK (net = amount - fee),
    -- pending until available_on, then available.
    status        TEXT NOT NULL,
    available_on  BIGINT NOT NULL,
    settlement_id TEXT,
    payout_id     TEXT,
    created       BIGINT NOT NULL,
    UNIQUE (type, source_id)
);
CREATE INDEX balance_transactions_merchant ON balance_transactions(merchant_id, created);
CREATE INDEX balance_transactions_due ON balance_transactions(status, available_on);

-- One row per merchant and currency; changed only with the ledger rows
-- that explain the change.
CREATE TABLE balances (
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    currency     TEXT NOT NULL,
    available    BIGINT NOT NULL,
    pending      BIGINT NOT NULL,
    reserved     BIGINT NOT NULL,
    updated      BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, currency)
);

-- What a merchant pays, per currency ('*' for any other), set by the
-- operator.
CREATE TABLE fee_plans (
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    currency     TEXT NOT NULL,
    percent_bps  BIGINT NOT NULL CHECK (percent_bps >= 0 AND percent_bps <= 10000),
    fixed        BIGINT NOT NULL CHECK (fixed >= 0),
    refund_fees  BIGINT NOT NULL,
    updated      BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, currency)
);

-- When a merchant's money settles: the day's cut-off in its zone, and how
-- many days after a capture its money becomes available.
CREATE TABLE settlement_settings (
    merchant_id  TEXT PRIMARY KEY REFERENCES merchants(id),
    time_zone    TEXT NOT NULL,
    cutoff       TEXT NOT NULL,
    delay_days   BIGINT NOT NULL CHECK (delay_days >= 0),
    updated      BIGINT NOT NULL
);
