//! Solicited-node group joins behind an MLD-snooping bridge, in the namespace lab: the
//! hypervisor's bridge snoops MLD and is the querier, so it forwards a solicitation only to
//! ports where a listener reported its group (and to multicast-router ports), never floods
//! it. The daemon's joins must show up in the bridge's group table (`bridge mdb show`) on
//! the VPS port, make the NS reach it, follow reloads and link changes, and stop at the cap.
//! Needs root; `scripts/test.sh` runs it with `--ignored`.

mod common;

use common::{uci_uplink, ConfigDir, Lab, Responder, Role, RouterMode};
use common::{ROUTER_IF, SERVER_MAC, UPLINK};
use std::time::{Duration, Instant};

/// Hosts inside the server's on-link /64 (so the hypervisor's anti-spoofing rule passes
/// the NA) and outside the container range, with distinct solicited-node groups.
const HOST_A: &str = "2001:db8:1:2::88:5";
const GROUP_A: &str = "ff02::1:ff88:5";
const HOST_B: &str = "2001:db8:1:2::88:6";
const GROUP_B: &str = "ff02::1:ff88:6";
/// 65536 groups: past the cap of 256.
const BIG_RANGE: &str = "2001:db8:1:2::88:0/112";
/// The bridge port the VPS (server namespace) hangs on.
const VPS_PORT: &str = "p-server";
/// Joins and leaves are MLD reports sent at once; the bridge applies a leave after
/// its last-member query (set to 1 x 0.2 s below). Generous against a loaded machine.
const MDB_TIMEOUT: Duration = Duration::from_secs(10);
const LOG_TIMEOUT: Duration = Duration::from_secs(5);

fn hv(lab: &Lab, args: &[&str]) -> std::process::Output {
    lab.run(Role::Hypervisor, args)
}

/// Turns the hypervisor's plain bridge into a snooping one with its own querier. The
/// querier needs an IPv6 address on the bridge to send queries from, so IPv6 is enabled on
/// br0 alone. The short response interval makes the querier count as present after 1 s
/// instead of 10, the short startup interval retries a failed first query after 1 s
/// instead of 31 (net/bridge/br_multicast.c). MLDv2 queries keep the hosts in MLDv2 mode:
/// an MLDv1 query makes a host fall back to MLDv1 (RFC 3810 section 8.2.1), where Linux
/// sends no Done for a group it joined before the fallback and has not reported since,
/// so the bridge would keep that group until its membership timeout. False (with a SKIPPED line) when this kernel
/// has no bridge multicast snooping.
fn make_snooping(lab: &Lab) -> bool {
    let out = hv(lab, &["sysctl", "-qw", "net.ipv6.conf.br0.disable_ipv6=0"]);
    assert!(out.status.success(), "{out:?}");
    // A query is sent only from a usable (non-tentative) address; with none, the next
    // try is a startup query interval later.
    let start = Instant::now();
    loop {
        let out = hv(
            lab,
            &["ip", "-6", "addr", "show", "dev", "br0", "scope", "link"],
        );
        let text = String::from_utf8_lossy(&out.stdout);
        if text.contains("inet6") && !text.contains("tentative") {
            break;
        }
        assert!(
            start.elapsed() < MDB_TIMEOUT,
            "br0 has no link-local address: {text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = set_bridge(
        lab,
        &[
            "mcast_mld_version",
            "2",
            "mcast_startup_query_interval",
            "100",
            "mcast_query_response_interval",
            "100",
            "mcast_last_member_count",
            "1",
            "mcast_last_member_interval",
            "20",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let out = set_bridge(lab, &["mcast_snooping", "1", "mcast_querier", "1"]);
    if !out.status.success() {
        println!(
            "SKIPPED: this kernel has no bridge multicast snooping: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return false;
    }
    let out = hv(
        lab,
        &[
            "bridge",
            "link",
            "set",
            "dev",
            VPS_PORT,
            "mcast_flood",
            "off",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    // The querier counts once its first query's response interval is over; the router's
    // answer to that query (its own solicited-node group on p-router) shows it ran.
    assert!(
        wait_mdb(lab, "p-router", "ff02::1:ff00:1", true).is_some(),
        "the bridge never learned the router's group: no querier?\n{}",
        mdb(lab)
    );
    true
}

/// `ip link set br0 type bridge OPTIONS...` on the hypervisor.
fn set_bridge(lab: &Lab, options: &[&str]) -> std::process::Output {
    let mut args = vec!["ip", "link", "set", "br0", "type", "bridge"];
    args.extend_from_slice(options);
    hv(lab, &args)
}

fn mdb(lab: &Lab) -> String {
    let out = hv(lab, &["bridge", "mdb", "show", "dev", "br0"]);
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether the bridge lists `group` on `port` (lines `dev br0 port P grp G ...`).
fn mdb_has(lab: &Lab, port: &str, group: &str) -> bool {
    mdb(lab).lines().any(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        words.windows(2).any(|w| w == ["port", port])
            && words.windows(2).any(|w| w == ["grp", group])
    })
}

/// Polls until `group` is (or is no longer) listed on `port`; how long that took.
fn wait_mdb(lab: &Lab, port: &str, group: &str, present: bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < MDB_TIMEOUT {
        if mdb_has(lab, port, group) == present {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn start(lab: &Lab, dir: &ConfigDir) -> Responder {
    let mut responder = lab.spawn_daemon(&[], &["-f", "-u", "-c", dir.arg()]);
    responder.wait_armed(UPLINK);
    responder
}

/// The `multicast=` and `groups=` fields of the uplink's SIGUSR1 line.
fn multicast_state(responder: &mut Responder) -> (String, u64) {
    let counters = responder.counters();
    let mode = counters
        .line
        .split_whitespace()
        .find_map(|field| field.strip_prefix("multicast="))
        .unwrap_or_else(|| panic!("no multicast= in {}", counters.line))
        .to_string();
    (mode, counters.get("groups"))
}

fn reload(responder: &mut Responder) {
    responder.signal("HUP");
    let outcome = responder
        .wait_for(
            |line| line.contains("configuration loaded from") || line.contains("not applied"),
            LOG_TIMEOUT,
        )
        .unwrap_or_else(|| panic!("no reload outcome within {LOG_TIMEOUT:?}"));
    assert!(outcome.contains("configuration loaded"), "{outcome}");
}

fn answered(lab: &Lab, addr: &str) -> Option<String> {
    lab.ndisc6_on(addr, ROUTER_IF, 3, 1000)
}

fn unanswered(lab: &Lab, addr: &str) -> bool {
    lab.ndisc6_on(addr, ROUTER_IF, 2, 500).is_none()
}

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn the_joined_group_reaches_the_snooping_bridge_and_follows_reloads_and_link_changes() {
    let lab = Lab::new(RouterMode::LinkLocal);
    if !make_snooping(&lab) {
        return;
    }
    assert!(!mdb_has(&lab, VPS_PORT, GROUP_A), "{}", mdb(&lab));
    let dir = ConfigDir::new("mld");
    dir.write(&uci_uplink("wan", UPLINK, &[&format!("{HOST_A}/128")], &[]));
    let mut responder = start(&lab, &dir);

    let joined = wait_mdb(&lab, VPS_PORT, GROUP_A, true)
        .unwrap_or_else(|| panic!("{GROUP_A} never listed on {VPS_PORT}:\n{}", mdb(&lab)));
    println!("group listed {joined:?} after arming");
    assert_eq!(answered(&lab, HOST_A).as_deref(), Some(SERVER_MAC));
    assert_eq!(multicast_state(&mut responder), ("both".to_string(), 1));

    // The rule moves to another host: the old group is left, the new one joined.
    dir.write(&uci_uplink("wan", UPLINK, &[&format!("{HOST_B}/128")], &[]));
    reload(&mut responder);
    let left = wait_mdb(&lab, VPS_PORT, GROUP_A, false)
        .unwrap_or_else(|| panic!("{GROUP_A} still listed after the reload:\n{}", mdb(&lab)));
    println!("old group gone {left:?} after the reload");
    assert!(
        wait_mdb(&lab, VPS_PORT, GROUP_B, true).is_some(),
        "{GROUP_B} never listed:\n{}",
        mdb(&lab)
    );
    assert_eq!(answered(&lab, HOST_B).as_deref(), Some(SERVER_MAC));
    assert_eq!(multicast_state(&mut responder), ("both".to_string(), 1));

    // Link down: disarmed, nothing joined (the bridge port goes down and forgets its
    // groups too). Up again: joined again, and the bridge hears it.
    lab.set_link(UPLINK, false);
    responder
        .wait_for(|line| line.contains("disarmed device=wan0"), LOG_TIMEOUT)
        .expect("not disarmed");
    assert_eq!(multicast_state(&mut responder), ("none".to_string(), 0));
    assert!(
        wait_mdb(&lab, VPS_PORT, GROUP_B, false).is_some(),
        "{}",
        mdb(&lab)
    );
    lab.set_link(UPLINK, true);
    responder.wait_armed(UPLINK);
    let rejoined = wait_mdb(&lab, VPS_PORT, GROUP_B, true)
        .unwrap_or_else(|| panic!("{GROUP_B} not listed after link up:\n{}", mdb(&lab)));
    println!("group listed again {rejoined:?} after link up");
    assert_eq!(answered(&lab, HOST_B).as_deref(), Some(SERVER_MAC));
    assert_eq!(multicast_state(&mut responder), ("both".to_string(), 1));

    // Stopping the daemon closes its sockets: the kernel leaves the group.
    assert!(responder.stop().is_some_and(|s| s.success()));
    let gone = wait_mdb(&lab, VPS_PORT, GROUP_B, false)
        .unwrap_or_else(|| panic!("{GROUP_B} still listed after exit:\n{}", mdb(&lab)));
    println!("group gone {gone:?} after exit");
}

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn past_the_cap_only_allmulti_and_a_snooping_bridge_withholds_the_ns() {
    let lab = Lab::new(RouterMode::LinkLocal);
    if !make_snooping(&lab) {
        return;
    }
    let dir = ConfigDir::new("mld-cap");
    dir.write(&uci_uplink("wan", UPLINK, &[BIG_RANGE], &[]));
    let mut responder = start(&lab, &dir);
    assert_eq!(multicast_state(&mut responder), ("allmulti".to_string(), 0));
    let log = responder.log().join("\n");
    assert!(log.contains("more than 256 solicited-node groups"), "{log}");
    // Without a join the bridge keeps the NS from the VPS port: this is the failure the
    // joins fix.
    assert!(
        unanswered(&lab, HOST_A),
        "answered without a join: the bridge does not snoop\n{}",
        mdb(&lab)
    );
    assert!(!mdb_has(&lab, VPS_PORT, GROUP_A), "{}", mdb(&lab));
    // The same NS is answered once the bridge forwards it (the port made a permanent
    // multicast-router port, which gets every group): all-multicast reception works.
    let out = hv(
        &lab,
        &[
            "bridge",
            "link",
            "set",
            "dev",
            VPS_PORT,
            "mcast_router",
            "2",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(answered(&lab, HOST_A).as_deref(), Some(SERVER_MAC));
}

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn a_recreated_device_is_joined_again_under_its_new_index() {
    const SECOND_UPLINK: &str = "wan1";
    const SECOND_MAC: &str = "02:00:00:00:03:00";
    const SECOND_ROUTER_IF: &str = "r-eth1";
    let lab = Lab::new(RouterMode::LinkLocal);
    lab.add_link(SECOND_UPLINK, SECOND_MAC, SECOND_ROUTER_IF);
    lab.set_link(SECOND_UPLINK, true);
    let dir = ConfigDir::new("mld-recreate");
    dir.write(&uci_uplink(
        "wan",
        SECOND_UPLINK,
        &[&format!("{HOST_A}/128")],
        &[],
    ));
    let mut responder = lab.spawn_daemon(&[], &["-f", "-u", "-c", dir.arg()]);
    responder.wait_armed(SECOND_UPLINK);
    // The kernel's own list of the device's groups (ours and its own addresses').
    let member = |lab: &Lab| {
        let out = lab.run(
            Role::Server,
            &["ip", "-6", "maddr", "show", "dev", SECOND_UPLINK],
        );
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .any(|word| word == GROUP_A)
    };
    let wait_member = |lab: &Lab, want: bool| {
        let start = Instant::now();
        while start.elapsed() < MDB_TIMEOUT {
            if member(lab) == want {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    };
    assert!(wait_member(&lab, true), "{GROUP_A} not joined on wan1");

    lab.delete_link(SECOND_UPLINK);
    responder
        .wait_for(|line| line.contains("disarmed device=wan1"), LOG_TIMEOUT)
        .expect("not disarmed after the delete");
    lab.add_link(SECOND_UPLINK, SECOND_MAC, SECOND_ROUTER_IF);
    lab.set_link(SECOND_UPLINK, true);
    let armed = responder.wait_armed(SECOND_UPLINK);
    assert!(
        wait_member(&lab, true),
        "{GROUP_A} not joined again: {armed}"
    );
    assert_eq!(multicast_state(&mut responder), ("both".to_string(), 1));
    assert_eq!(
        lab.ndisc6_on(HOST_A, SECOND_ROUTER_IF, 3, 1000).as_deref(),
        Some(SECOND_MAC)
    );
}
