-- Idempotency keys are forgotten after 24 hours by the sweeper.
CREATE INDEX idempotency_keys_created ON idempotency_keys(created);

-- Which confirm holds a session's lease: a confirm whose lease ran out and
-- was taken by another records nothing on the session.
ALTER TABLE checkout_sessions ADD COLUMN confirm_lease_owner TEXT;

-- Rate limits that hold across instances: hits per bucket (a limit and a
-- keyed hash of whom it counts) per window. The sweeper forgets old windows.
CREATE TABLE rate_hits (
    bucket        TEXT NOT NULL,
    window_start  BIGINT NOT NULL,
    hits          BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_hits_window ON rate_hits(window_start);
