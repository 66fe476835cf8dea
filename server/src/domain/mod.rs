//! What Kasse does, apart from how it is asked: each operation a plain
//! async function over the application's state that returns a
//! [`DomainError`], never an HTTP answer. The HTTP handlers, the
//! compatibility surfaces and the background workers all call these.

pub mod appearance;
pub mod card_update;
pub mod checkout;
pub mod customers;
pub mod error;
pub mod events;
pub mod idempotency;
pub mod input;
pub mod keyed;
pub mod ledger;
pub mod limits;
pub mod link_payments;
pub mod links;
pub mod offsession;
pub mod payments;
pub mod payouts;
pub mod reports;
pub mod saved_cards;
pub mod schedule;
pub mod sessions;
pub mod settlements;
pub mod subscriptions;
pub mod threeds;
pub mod views;
pub mod webhooks;

pub use error::DomainError;
