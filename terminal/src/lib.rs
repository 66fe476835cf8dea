//! Kasse's merchant terminal: a keyboard-driven console in the browser for
//! staff taking card payments by phone, capturing, voiding, refunding and
//! looking payments up. Served at `/terminal` as its own bundle.
//!
//! The command language, history, completion and formatting are pure and
//! tested natively; `app` puts them on the page.

pub mod api;
pub mod app;
pub mod command;
pub mod complete;
pub mod format;
pub mod history;

pub use app::Terminal;
