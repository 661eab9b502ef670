//! Downstream networks behind the lab's server (the VPS): a Docker-style bridge with its
//! own routed range and host namespaces plugged into it, and route changes on the server.
//! Everything is made inside the lab's namespaces, so `Lab`'s drop removes it.

use std::process::Output;

use super::process::{checked, ip};
use super::topology::{Lab, Role};

impl Lab {
    /// `ip -n SERVER ARGS`, failing the test if it fails.
    pub fn server_ip(&self, args: &[&str]) {
        let server = self.ns(Role::Server);
        let mut all = vec!["-n", server.as_str()];
        all.extend_from_slice(args);
        ip(&all);
    }

    /// A bridge on the server, as Docker makes for a network with an IPv6 subnet: up, with
    /// `gateway` (ADDR/LEN) on it, so the kernel routes that subnet out of the bridge.
    pub fn add_bridge(&self, bridge: &str, gateway: &str) {
        self.server_ip(&[
            "link",
            "add",
            bridge,
            "type",
            "bridge",
            "mcast_snooping",
            "0",
        ]);
        self.server_ip(&["link", "set", bridge, "up"]);
        self.server_ip(&["-6", "addr", "add", gateway, "dev", bridge, "nodad"]);
    }

    /// A host namespace (`ndpr-SUFFIX-NAME`) plugged into the server's `bridge` by a veth,
    /// with `addr` (ADDR/LEN) and a default route via `gateway`, as a container is.
    pub fn add_host(&self, name: &str, bridge: &str, addr: &str, gateway: &str) -> String {
        let host = self.extra_ns(name);
        ip(&["netns", "add", &host]);
        checked(
            "sysctl in the host namespace",
            self.run_in(
                &host,
                &[
                    "sysctl",
                    "-qw",
                    "net.ipv6.conf.all.accept_dad=0",
                    "net.ipv6.conf.default.accept_dad=0",
                ],
            ),
        );
        let port = format!("vh-{name}");
        self.server_ip(&[
            "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", &host,
        ]);
        self.server_ip(&["link", "set", &port, "master", bridge, "up"]);
        ip(&["-n", &host, "link", "set", "lo", "up"]);
        ip(&["-n", &host, "link", "set", "eth0", "up"]);
        ip(&[
            "-n", &host, "-6", "addr", "add", addr, "dev", "eth0", "nodad",
        ]);
        ip(&["-n", &host, "-6", "route", "add", "default", "via", gateway]);
        host
    }

    /// A one-shot command in namespace `ns`, bounded like [`Lab::run`].
    pub fn run_in(&self, ns: &str, args: &[&str]) -> Output {
        std::process::Command::new("timeout")
            .args([super::process::COMMAND_TIMEOUT, "ip", "netns", "exec", ns])
            .args(args)
            .output()
            .expect("run a command in a namespace")
    }

    /// One ping from namespace `ns` to `addr`; true if it was answered.
    pub fn ping_from(&self, ns: &str, addr: &str) -> bool {
        self.run_in(ns, &["ping", "-6", "-n", "-c", "1", "-W", "1", addr])
            .status
            .success()
    }
}
