//! What Kasse's API tests (`server/tests`), benchmarks (`server/benches`)
//! and browser tests (`e2e`) all need to run Kasse, in one place so that the
//! copies do not drift: a free address, the `kasse` binary as a process, a
//! merchant made with the CLI as a merchant would, a webhook receiver, and a
//! scratch PostgreSQL database.

pub mod postgres;
pub mod process;
pub mod receiver;
pub mod smtp;

use std::net::SocketAddr;

pub use process::{Kasse, create_merchant};
pub use receiver::Receiver;

/// Loopback, port 0: the system picks a free port when Kasse binds, and
/// [`Kasse::serve`] learns it, so no other test can take it in between.
pub fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// A loopback address with a port no one listens on now (for what must be
/// known before it starts, such as a proxy's configuration).
pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on loopback")
}
