//! Kasse's server: the merchant API, the payment page's API, the sandbox
//! acquirer, the demo shop and the CLI behind the `kasse` binary.

pub mod cli;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod events;
pub mod http;
pub mod ids;
pub mod limits;
pub mod merchants;
pub mod outbound;
pub mod processor;
pub mod secrets;
pub mod staff;
pub mod startup;
pub mod store;
pub mod sweeper;

pub use config::Config;
pub use startup::Application;
