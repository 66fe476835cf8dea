-- Settlements: at each of a merchant's daily cut-offs, what the ledger
-- moved that day, per currency, closed once.

CREATE TABLE settlements (
    id            TEXT PRIMARY KEY,
    merchant_id   TEXT NOT NULL REFERENCES merchants(id),
    currency      TEXT NOT NULL,
    -- The business day, in the merchant's zone, and its bounds in UTC.
    local_date    TEXT NOT NULL,
    time_zone     TEXT NOT NULL,
    period_start  INTEGER NOT NULL,
    period_end    INTEGER NOT NULL,
    charge_count  INTEGER NOT NULL,
    refund_count  INTEGER NOT NULL,
    gross         INTEGER NOT NULL,
    refunded      INTEGER NOT NULL,
    fees          INTEGER NOT NULL,
    -- A negative net of the settlement before, carried into this one.
    carried       INTEGER NOT NULL,
    net           INTEGER NOT NULL,
    -- closed, paid_out, payout_failed.
    status        TEXT NOT NULL,
    created       INTEGER NOT NULL,
    UNIQUE (merchant_id, currency, period_end)
);
CREATE INDEX settlements_merchant ON settlements(merchant_id, period_end);
CREATE INDEX balance_transactions_unsettled ON balance_transactions(settlement_id, merchant_id, currency, created);
