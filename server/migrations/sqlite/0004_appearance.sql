-- Appearance: a merchant's default look and a session's changes to it, as
-- JSON objects of validated design tokens (kasse_core::appearance).
ALTER TABLE merchants ADD COLUMN appearance TEXT;
ALTER TABLE checkout_sessions ADD COLUMN appearance TEXT;
