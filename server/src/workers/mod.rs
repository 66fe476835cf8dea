//! What runs beside the server: the webhook worker, which sends the outbox,
//! and the sweeper, which expires sessions, voids stale authorisations and
//! forgets old keys and counters. Both call the domain, never HTTP code.

pub mod delivery;
pub mod mail;
pub mod sweeper;
