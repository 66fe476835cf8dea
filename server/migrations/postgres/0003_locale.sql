-- The hosted page's language for a session: auto (the browser's), en, bn or mn.
ALTER TABLE checkout_sessions ADD COLUMN locale TEXT NOT NULL DEFAULT 'auto';
