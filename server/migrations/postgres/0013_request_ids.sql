-- The request that caused each event, so that its webhook deliveries' logs
-- can be tied to that request's.
ALTER TABLE events ADD COLUMN request_id TEXT;
