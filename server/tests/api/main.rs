mod appearance;
mod assets;
mod at_rest;
mod cli;
mod compat;
mod deploy;
mod durability;
mod guards;
mod headers;
mod helpers;
mod idempotency;
mod instances;
mod migrations;
mod modules;
mod openapi;
mod outbound;
mod pay;
mod payments;
mod readme;
mod sessions;
mod store;
mod terminal;
mod threeds;
mod validation;
mod webhooks;

// Shared with the benchmarks and the browser tests.
pub use kasse_testkit::{postgres, receiver};
