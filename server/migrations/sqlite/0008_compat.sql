-- The compatibility surfaces (SSLCOMMERZ v4, simple checkout): which API
-- made a session, and what each surface keeps beside Kasse's own records.
ALTER TABLE checkout_sessions ADD COLUMN surface TEXT NOT NULL DEFAULT 'kasse';
-- Which cards a session takes, when its API narrows them (SSLCOMMERZ's
-- multi_card_name and allowed_bin): JSON, NULL for every card.
ALTER TABLE checkout_sessions ADD COLUMN card_rules TEXT;

-- The simple checkout surface's "Base URL", compared as an exact string.
ALTER TABLE merchants ADD COLUMN client_base_url TEXT;

-- SSLCOMMERZ store credentials. The password is checked against a keyed
-- hash; its md5 and sha256 digests sign IPNs, so they are kept, sealed.
CREATE TABLE compat_credentials (
    store_id         TEXT PRIMARY KEY,
    merchant_id      TEXT NOT NULL REFERENCES merchants(id),
    mode             TEXT NOT NULL,
    password_hash    TEXT NOT NULL,
    password_md5     TEXT NOT NULL,
    password_sha256  TEXT NOT NULL,
    created          INTEGER NOT NULL,
    revoked          INTEGER
);
CREATE INDEX compat_credentials_merchant ON compat_credentials(merchant_id);

-- A session made through a compatibility surface: the token behind its
-- page URL (SSLCOMMERZ's sessionkey, the simple surface's trx_id), the
-- store that made it, and the fields that surface echoes back.
CREATE TABLE compat_sessions (
    session_id   TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL,
    token        TEXT NOT NULL UNIQUE,
    store_id     TEXT,
    fields       TEXT NOT NULL,
    canceled     INTEGER,
    created      INTEGER NOT NULL
);

-- A successful payment's names on the compatibility surfaces: SSLCOMMERZ's
-- val_id and the simple surface's transaction_id.
CREATE TABLE compat_payment_refs (
    payment_id   TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL,
    val_id       TEXT NOT NULL UNIQUE,
    short_ref    TEXT NOT NULL UNIQUE
);

-- refund_trans_id, the refund's idempotency key on the SSLCOMMERZ surface.
CREATE TABLE compat_refunds (
    merchant_id      TEXT NOT NULL,
    refund_trans_id  TEXT NOT NULL,
    refund_id        TEXT NOT NULL,
    PRIMARY KEY (merchant_id, refund_trans_id)
);
