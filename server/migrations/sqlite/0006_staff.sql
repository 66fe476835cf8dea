-- Payments keyed in by staff in the terminal are mail or telephone orders:
-- card not present. Those from the payment page are `checkout`.
ALTER TABLE payments ADD COLUMN channel TEXT NOT NULL DEFAULT 'checkout'
    CHECK (channel IN ('checkout', 'moto'));

-- The payment an event is about (a payment's, its refund's or its
-- session's event), so that a payment's history can be listed.
ALTER TABLE events ADD COLUMN payment_id TEXT;
CREATE INDEX events_payment ON events(payment_id);

-- A merchant's staff, who log in to the terminal. The email is kept in
-- lower case and logs in to one merchant; the password only as argon2id.
CREATE TABLE staff_users (
    id            TEXT PRIMARY KEY,
    merchant_id   TEXT NOT NULL REFERENCES merchants(id),
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created       INTEGER NOT NULL
);

-- Logged-in terminals. The cookie's token is kept only as a keyed hash.
CREATE TABLE staff_sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX staff_sessions_user ON staff_sessions(user_id);
