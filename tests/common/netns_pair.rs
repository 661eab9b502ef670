//! The smallest lab: two namespaces joined by a veth pair, `wan0` in the server's (`a`)
//! and `up0` in the upstream router's (`b`), from which ndisc6 solicits. Used where the
//! daemon is started by hand (ubus and netifd tests) rather than through `Lab`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::process::{Probe, COMMAND_TIMEOUT};

/// Runs `cmd` through `sh -c` and returns whether it succeeded (for namespace plumbing).
pub fn sh(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", cmd])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Two namespaces joined by a veth pair, deleted on drop.
pub struct NetnsPair {
    /// The server's namespace, holding `wan0`.
    pub a: String,
    /// The upstream router's namespace, holding `up0`.
    pub b: String,
}

impl NetnsPair {
    /// Creates `ndpr-TAG-srv-PID` and `ndpr-TAG-rtr-PID` and the veth pair between them.
    /// The value exists before the first command runs, so a failure still removes both.
    pub fn new(tag: &str) -> NetnsPair {
        let id = std::process::id();
        let pair = NetnsPair {
            a: format!("ndpr-{tag}-srv-{id}"),
            b: format!("ndpr-{tag}-rtr-{id}"),
        };
        pair.run(&[
            format!("ip netns add {}", pair.a),
            format!("ip netns add {}", pair.b),
            format!(
                "ip link add wan0 netns {} type veth peer name up0 netns {}",
                pair.a, pair.b
            ),
        ]);
        pair
    }

    /// Runs each of `cmds` with [`sh`], failing the test on the first that fails.
    pub fn run(&self, cmds: &[String]) {
        for cmd in cmds {
            assert!(sh(cmd), "{cmd}");
        }
    }

    /// Both ends up without DAD, so their link-local addresses are usable at once
    /// (ndisc6 needs one as its source).
    pub fn up_without_dad(&self) {
        self.run(&[
            format!(
                "ip netns exec {} sysctl -qw net.ipv6.conf.wan0.accept_dad=0",
                self.a
            ),
            format!(
                "ip netns exec {} sysctl -qw net.ipv6.conf.up0.accept_dad=0",
                self.b
            ),
            format!("ip -n {} link set wan0 up", self.a),
            format!("ip -n {} link set up0 up", self.b),
        ]);
    }

    /// Waits (at most 5 s) until up0 has its link-local address: addrconf gives it once
    /// the carrier is up, asynchronously, and ndisc6 needs it as its source.
    pub fn wait_link_local(&self) {
        let has_ll = format!(
            "ip -n {} -6 addr show dev up0 scope link | grep -q inet6",
            self.b
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while !sh(&has_ll) {
            assert!(
                Instant::now() < deadline,
                "up0 never got a link-local address"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether an NA for `target` came to up0 within `tries` NS each waiting `wait_ms`; a
    /// failure to run ndisc6 fails the test rather than reading as "not answered".
    pub fn ndisc_answered(&self, target: &str, tries: u32, wait_ms: u32) -> bool {
        let (tries, wait_ms) = (tries.to_string(), wait_ms.to_string());
        Probe::Ndisc6
            .run(Command::new("timeout").args([
                COMMAND_TIMEOUT,
                "ip",
                "netns",
                "exec",
                &self.b,
                "ndisc6",
                "-q",
                "-n",
                "-r",
                &tries,
                "-w",
                &wait_ms,
                target,
                "up0",
            ]))
            .is_some()
    }
}

impl Drop for NetnsPair {
    fn drop(&mut self) {
        sh(&format!("ip netns del {}", self.a));
        sh(&format!("ip netns del {}", self.b));
    }
}
