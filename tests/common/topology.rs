//! The lab's namespaces: the topology of `scripts/lab-net.sh` (router, hypervisor bridge
//! with an anti-spoofing rule, the VPS, its container), with unique names, removed on drop,
//! and the one-shot commands tests run inside them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use super::process::{checked, ip, root, Probe, COMMAND_TIMEOUT};

/// The container's address: inside the range the daemon answers for.
pub const CT_ADDR: &str = "2001:db8:1:2::1:5";
/// The range routed to the container, given to the daemon with `-n`.
pub const CT_NET: &str = "2001:db8:1:2::1:0/112";
/// In the on-link /64 but outside the container range: nobody may answer for it.
pub const OUT_OF_RANGE: &str = "2001:db8:1:2::2:5";
/// Fixed MACs set by `scripts/lab-net.sh`.
pub const ROUTER_MAC: &str = "02:00:00:00:00:01";
pub const SERVER_MAC: &str = "02:00:00:00:01:00";
/// Interface names inside the namespaces.
pub const ROUTER_IF: &str = "r-eth0";
pub const UPLINK: &str = "wan0";

/// How the router solicits the container addresses (see `scripts/lab-net.sh`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouterMode {
    /// Only a link-local address on the link: NS come from fe80::1.
    LinkLocal,
    /// 2001:db8:1:2::1/64 on the link: NS come from it.
    Global,
}

impl RouterMode {
    fn arg(self) -> &'static str {
        match self {
            RouterMode::LinkLocal => "link-local",
            RouterMode::Global => "global",
        }
    }

    /// The IPv6 source of the router's solicitations, and so the destination of the NA.
    pub fn router_source(self) -> &'static str {
        match self {
            RouterMode::LinkLocal => "fe80::1",
            RouterMode::Global => "2001:db8:1:2::1",
        }
    }
}

/// The namespaces tests run commands in (the lab also has `ct`).
#[derive(Clone, Copy, Debug)]
pub enum Role {
    Router,
    Server,
    /// The hypervisor with the bridge `br0` (ports `p-router`, `p-server`).
    Hypervisor,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Router => "router",
            Role::Server => "server",
            Role::Hypervisor => "hv",
        }
    }
}

fn lab_net() -> PathBuf {
    root().join("scripts/lab-net.sh")
}

pub(super) fn lab_net_cmd(args: &[&str]) -> Output {
    let output = Command::new("timeout")
        .arg(COMMAND_TIMEOUT)
        .arg("bash")
        .arg(lab_net())
        .args(args)
        .output()
        .expect("run scripts/lab-net.sh");
    checked(&format!("lab-net.sh {}", args.join(" ")), output)
}

/// Labs left behind by a test run that was killed (no `Drop`): their suffix starts with the
/// pid of the process that made them, and that process is gone.
fn reap_stale_labs() {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("ndpr-") else {
            continue;
        };
        let Some(suffix) = rest.strip_suffix("-router") else {
            continue;
        };
        let pid = suffix.split('-').next().unwrap_or("");
        if !pid.is_empty() && !Path::new("/proc").join(pid).exists() {
            lab_net_cmd(&["down", suffix]);
        }
    }
}

/// One instance of the lab, with unique namespace names; removed on drop.
pub struct Lab {
    suffix: String,
    pub mode: RouterMode,
}

impl Lab {
    pub fn new(mode: RouterMode) -> Lab {
        static SEQUENCE: AtomicU32 = AtomicU32::new(0);
        reap_stale_labs();
        let suffix = format!(
            "{}-{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        lab_net_cmd(&["up", &suffix, mode.arg()]);
        Lab { suffix, mode }
    }

    pub fn ns(&self, role: Role) -> String {
        self.extra_ns(role.name())
    }

    /// The name of a namespace a test adds to this lab; `lab-net.sh down` removes every
    /// namespace with the lab's prefix, these included.
    pub fn extra_ns(&self, name: &str) -> String {
        format!("ndpr-{}-{}", self.suffix, name)
    }

    pub(super) fn command(&self, role: Role, args: &[&str]) -> Command {
        let mut command = Command::new("ip");
        command
            .arg("netns")
            .arg("exec")
            .arg(self.ns(role))
            .args(args);
        command
    }

    /// A one-shot command in a namespace, bounded by `timeout`, not started yet.
    pub(super) fn bounded(&self, role: Role, args: &[&str]) -> Command {
        let namespace = self.ns(role);
        let mut command = Command::new("timeout");
        command
            .args([COMMAND_TIMEOUT, "ip", "netns", "exec", &namespace])
            .args(args);
        command
    }

    /// Runs a one-shot command in a namespace, bounded by `timeout`.
    pub fn run(&self, role: Role, args: &[&str]) -> Output {
        self.bounded(role, args)
            .output()
            .expect("run a command in a namespace")
    }

    /// One `ping -6` round from the router to `addr`; true if any reply came back, false
    /// if ping ran and none did. Panics if ping could not run: a missing ping is not an
    /// unreachable container.
    pub fn ping_once(&self, addr: &str) -> bool {
        Probe::Ping
            .run(&mut self.bounded(
                Role::Router,
                &["ping", "-6", "-n", "-c", "3", "-W", "1", addr],
            ))
            .is_some()
    }

    /// Up to three ping rounds, for the cases that must succeed.
    pub fn ping_with_retries(&self, addr: &str) -> bool {
        (0..3).any(|_| self.ping_once(addr))
    }

    /// NAs the hypervisor's anti-spoofing rule dropped so far.
    pub fn dropped_na(&self) -> u64 {
        let out = lab_net_cmd(&["dropped", &self.suffix]);
        let text = String::from_utf8_lossy(&out.stdout);
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("nft counter not a number: {text:?}"))
    }

    /// Kernel proxy_ndp for `addr` on the server's uplink.
    pub fn enable_proxy_ndp(&self, addr: &str) {
        lab_net_cmd(&["proxy-ndp", &self.suffix, addr]);
    }
}

impl Lab {
    /// A veth pair outside the hypervisor: `router_if` in the router namespace (link-local
    /// fe80::1 like r-eth0, so ndisc6 has a source) and `server_if` with `server_mac`, made
    /// in the router namespace and then moved into the server's, as a hotplugged uplink
    /// appears. It is left down.
    pub fn add_link(&self, server_if: &str, server_mac: &str, router_if: &str) {
        let router = self.ns(Role::Router);
        let server = self.ns(Role::Server);
        for args in [
            vec![
                "-n", &router, "link", "add", router_if, "type", "veth", "peer", "name", server_if,
                "address", server_mac,
            ],
            vec![
                "-n",
                &router,
                "link",
                "set",
                router_if,
                "addrgenmode",
                "none",
            ],
            vec!["-n", &router, "link", "set", router_if, "up"],
            vec![
                "-n",
                &router,
                "-6",
                "addr",
                "add",
                "fe80::1/64",
                "dev",
                router_if,
                "nodad",
            ],
            vec!["-n", &router, "link", "set", server_if, "netns", &server],
        ] {
            ip(&args);
        }
    }

    /// `ip link set DEVICE up|down` in the server namespace.
    pub fn set_link(&self, device: &str, up: bool) {
        let server = self.ns(Role::Server);
        ip(&[
            "-n",
            &server,
            "link",
            "set",
            device,
            if up { "up" } else { "down" },
        ]);
    }

    /// Deletes a server device (a veth takes its peer with it).
    pub fn delete_link(&self, device: &str) {
        let server = self.ns(Role::Server);
        ip(&["-n", &server, "link", "del", device]);
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new("timeout")
            .arg(COMMAND_TIMEOUT)
            .arg("bash")
            .arg(lab_net())
            .args(["down", &self.suffix])
            .status();
    }
}
