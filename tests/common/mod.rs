//! Network-namespace harness for the lab tests, one module per concern:
//! `topology` (the namespaces of `scripts/lab-net.sh` and commands run in them), `daemon`
//! (the daemon under test), `downstream` (bridges and host namespaces behind the server),
//! `probes` (ndisc6 and the scapy NS sender / NA capture),
//! `load` (the ndpload generator), `netns_pair` (two namespaces and a veth, for tests that
//! start the daemon by hand), `config_dir` (UCI directories), `process` (bounded
//! commands, and probes whose silence counts only if they ran), and `fake_ubusd`, the
//! hand-built ubusd side of the bus tests.
//!
//! Everything a test starts is bounded in time and undone in `Drop`, also when the test
//! panics: the daemon and the capture are killed, the namespaces removed.
// Each test crate uses its own subset of the harness; the rest would warn as unused.
#![allow(dead_code, unused_imports)]

pub mod config_dir;
pub mod daemon;
pub mod downstream;
pub mod fake_ubusd;
pub mod load;
pub mod netns_pair;
pub mod probes;
pub mod process;
pub mod topology;

pub use config_dir::{uci_uplink, ConfigDir};
pub use daemon::{Counters, Responder};
pub use load::Load;
pub use probes::{Capture, Na};
pub use topology::*;
