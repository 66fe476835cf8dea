-- Idempotency keys are forgotten after 24 hours by the sweeper.
CREATE INDEX idempotency_keys_created ON idempotency_keys(created);

-- Which confirm holds a session's lease: a confirm whose lease ran out and
-- was taken by another records nothing on the session.
ALTER TABLE checkout_sessions ADD COLUMN confirm_lease_owner TEXT;
