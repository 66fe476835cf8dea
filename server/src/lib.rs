//! Kasse's server: the merchant API, the payment page's API, the sandbox
//! acquirer, the demo shop and the CLI behind the `kasse` binary.

pub mod backup;
pub mod built;
pub mod cli;
pub mod clock;
pub mod compat;
pub mod config;
pub mod demo;
pub mod domain;
pub mod html;
pub mod http;
pub mod ids;
pub mod mail;
pub mod merchants;
pub mod metrics;
pub mod outbound;
pub mod processor;
pub mod request_id;
pub mod secrets;
pub mod staff;
pub mod startup;
pub mod state;
pub mod store;
pub mod vault;
pub mod workers;

pub use config::Config;
pub use startup::Application;
