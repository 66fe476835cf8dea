-- Customers, their saved cards, the vault that holds the cards' numbers,
-- and the mandates under which a merchant charges a card with its
-- customer absent.

CREATE TABLE customers (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id           TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    email        TEXT,
    name         TEXT,
    phone        TEXT,
    reference    TEXT,
    locale       TEXT,
    metadata     TEXT NOT NULL,
    created      BIGINT NOT NULL,
    updated      BIGINT NOT NULL,
    -- Deleted customers keep their id (payments name it) and nothing else.
    deleted      BIGINT
);
CREATE INDEX customers_merchant ON customers(merchant_id, created);
CREATE INDEX customers_email ON customers(merchant_id, email);
CREATE UNIQUE INDEX customers_reference ON customers(merchant_id, reference)
    WHERE deleted IS NULL AND reference IS NOT NULL;

-- Each merchant's data key, wrapped (AES-256-GCM) by the key-encryption
-- key named by kek_id, which is never stored here.
CREATE TABLE vault_keys (
    merchant_id  TEXT PRIMARY KEY REFERENCES merchants(id),
    kek_id       TEXT NOT NULL,
    wrapped_key  TEXT NOT NULL,
    created      BIGINT NOT NULL,
    rotated      BIGINT
);

-- A saved card: what PCI DSS allows in clear; its number is in vault_cards.
-- pending: saved by a payment not yet approved; active; detached; expired.
CREATE TABLE payment_methods (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id                TEXT PRIMARY KEY,
    merchant_id       TEXT NOT NULL REFERENCES merchants(id),
    customer_id       TEXT NOT NULL REFERENCES customers(id),
    status            TEXT NOT NULL,
    card_brand        TEXT NOT NULL,
    card_bin          TEXT NOT NULL,
    card_last4        TEXT NOT NULL,
    card_exp_month    BIGINT NOT NULL,
    card_exp_year     BIGINT NOT NULL,
    card_fingerprint  TEXT NOT NULL,
    cardholder_name   TEXT,
    usage             TEXT NOT NULL,
    -- The customer-initiated payment that saved it.
    first_payment_id  TEXT,
    created           BIGINT NOT NULL,
    updated           BIGINT NOT NULL
);
CREATE INDEX payment_methods_customer ON payment_methods(customer_id, created);
-- The same card saved twice for one customer is one payment method.
CREATE UNIQUE INDEX payment_methods_one_per_card
    ON payment_methods(customer_id, card_fingerprint) WHERE status = 'active';

-- The card number, sealed under the merchant's data key with the merchant
-- and the payment method bound in; deleted with the card.
CREATE TABLE vault_cards (
    payment_method_id  TEXT PRIMARY KEY,
    merchant_id        TEXT NOT NULL,
    ciphertext         TEXT NOT NULL
);

-- pending (its payment not yet approved), active, revoked.
CREATE TABLE mandates (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id                 TEXT PRIMARY KEY,
    merchant_id        TEXT NOT NULL REFERENCES merchants(id),
    customer_id        TEXT NOT NULL REFERENCES customers(id),
    payment_method_id  TEXT NOT NULL,
    status             TEXT NOT NULL,
    currency           TEXT NOT NULL,
    max_amount         BIGINT,
    frequency          TEXT,
    consent_text       TEXT NOT NULL,
    consent_version    TEXT NOT NULL,
    consent_locale     TEXT NOT NULL,
    accepted_at        BIGINT NOT NULL,
    ip_address         TEXT,
    user_agent         TEXT,
    channel            TEXT NOT NULL,
    payment_id         TEXT,
    created            BIGINT NOT NULL,
    revoked            BIGINT
);
CREATE INDEX mandates_payment_method ON mandates(payment_method_id);

ALTER TABLE checkout_sessions ADD COLUMN customer_id TEXT;
ALTER TABLE checkout_sessions ADD COLUMN save_card TEXT NOT NULL DEFAULT 'off';
ALTER TABLE checkout_sessions ADD COLUMN future_usage TEXT NOT NULL DEFAULT 'off_session';
ALTER TABLE checkout_sessions ADD COLUMN mandate_options TEXT;

ALTER TABLE payments ADD COLUMN customer_id TEXT;
ALTER TABLE payments ADD COLUMN payment_method_id TEXT;
ALTER TABLE payments ADD COLUMN mandate_id TEXT;
ALTER TABLE payments ADD COLUMN off_session BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN recovery_session_id TEXT;
CREATE INDEX payments_customer ON payments(customer_id);

-- A saved card charged by the merchant is a third channel.
ALTER TABLE payments DROP CONSTRAINT payments_channel_check;
ALTER TABLE payments ADD CONSTRAINT payments_channel_check
    CHECK (channel IN ('checkout', 'moto', 'merchant_initiated'));
