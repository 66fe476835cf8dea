-- Payment links and invoices, and the emails Kasse sends about them.

CREATE TABLE payment_links (
    id                  TEXT PRIMARY KEY,
    rowid               BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    merchant_id         TEXT NOT NULL REFERENCES merchants(id),
    -- The customer's link holds a token, found by its keyed hash; the
    -- token itself is kept sealed, for the emails that carry it.
    token_hash          TEXT NOT NULL UNIQUE,
    token_sealed        TEXT NOT NULL,
    -- open, partially_paid, paid, expired, canceled.
    status              TEXT NOT NULL,
    amount              BIGINT NOT NULL CHECK (amount > 0),
    amount_paid         BIGINT NOT NULL CHECK (amount_paid >= 0),
    currency            TEXT NOT NULL,
    description         TEXT,
    line_items          TEXT NOT NULL,
    customer_id         TEXT REFERENCES customers(id),
    customer_email      TEXT,
    customer_name       TEXT,
    locale              TEXT NOT NULL,
    merchant_reference  TEXT,
    expires_at          BIGINT NOT NULL,
    partial_enabled     BIGINT NOT NULL,
    minimum_first       BIGINT NOT NULL,
    -- single or reusable.
    usage               TEXT NOT NULL,
    max_completions     BIGINT,
    completions         BIGINT NOT NULL,
    notify_email        BIGINT NOT NULL,
    reminders           TEXT NOT NULL,
    time_zone           TEXT NOT NULL,
    success_url         TEXT,
    invoice             TEXT,
    metadata            TEXT NOT NULL,
    -- One confirm at a time pays a single-use link: the payment that
    -- holds it, until when.
    pay_owner           TEXT,
    pay_lease           BIGINT,
    created             BIGINT NOT NULL,
    updated             BIGINT NOT NULL,
    CHECK (usage = 'reusable' OR amount_paid <= amount)
);
CREATE UNIQUE INDEX payment_links_reference ON payment_links(merchant_id, merchant_reference);
CREATE INDEX payment_links_merchant ON payment_links(merchant_id, created);
CREATE INDEX payment_links_due ON payment_links(status, expires_at);

-- The last invoice number given, per merchant and year: the next is taken
-- in the transaction that writes the invoice, so numbers have no gaps.
CREATE TABLE invoice_numbers (
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    year         BIGINT NOT NULL,
    last         BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, year)
);

ALTER TABLE checkout_sessions ADD COLUMN payment_link_id TEXT;
CREATE INDEX checkout_sessions_link ON checkout_sessions(payment_link_id);

-- Emails: written with what causes them, sent by a leased worker.
CREATE TABLE notifications (
    id              TEXT PRIMARY KEY,
    rowid           BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    payment_link_id TEXT,
    payment_id      TEXT,
    -- payment_link, reminder, receipt.
    template        TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    locale          TEXT NOT NULL,
    -- What the template shows that may change later (a receipt's amounts).
    data            TEXT NOT NULL,
    -- queued, sending, sent, deferred, failed, canceled.
    status          TEXT NOT NULL,
    send_at         BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    lease_until     BIGINT,
    last_reply      TEXT,
    message_id      TEXT NOT NULL,
    sent_at         BIGINT,
    created         BIGINT NOT NULL
);
CREATE INDEX notifications_due ON notifications(status, send_at);
CREATE INDEX notifications_link ON notifications(payment_link_id, created);
