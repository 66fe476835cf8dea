//! Kasse's merchant terminal: a keyboard-driven console in the browser for
//! staff taking card payments by phone, capturing, voiding, refunding and
//! looking payments up. Served at `/terminal` as its own bundle.
//!
//! The command language, the console's states (`flow`), history,
//! completion and formatting are pure and tested natively; `calls` holds
//! the typed API calls; `app` puts them on the page.

pub mod api;
pub mod app;
pub mod calls;
pub mod command;
pub mod complete;
mod console;
pub mod flow;
pub mod format;
pub mod history;

pub use app::Terminal;
