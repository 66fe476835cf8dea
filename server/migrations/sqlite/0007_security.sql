-- Idempotency keys are forgotten after 24 hours by the sweeper.
CREATE INDEX idempotency_keys_created ON idempotency_keys(created);
