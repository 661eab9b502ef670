//! The daemon in OpenWrt mode, in the namespace lab: rules from a UCI directory
//! (`-c DIR`), two uplinks at once, and SIGHUP reloads that add and remove prefixes or are
//! refused. Needs root; `scripts/test.sh` runs it with `--ignored`.

mod common;

use common::{uci_uplink, ConfigDir, Lab, Responder, RouterMode, CT_ADDR, CT_NET};
use common::{ROUTER_IF, SERVER_MAC, UPLINK};
use std::time::Duration;

/// The second uplink: a veth straight to the router, outside the hypervisor.
const SECOND_UPLINK: &str = "wan1";
const SECOND_MAC: &str = "02:00:00:00:03:00";
const SECOND_ROUTER_IF: &str = "r-eth1";
/// The second uplink's own range, in another /64 (nothing filters that link).
const SECOND_NET: &str = "2001:db8:7::1:0/112";
const SECOND_ADDR: &str = "2001:db8:7::1:5";
/// In the first uplink's /64, outside the container range: added and removed by reloads.
const EXTRA_NET: &str = "2001:db8:1:2::2:0/112";
const EXTRA_ADDR: &str = "2001:db8:1:2::2:5";
const RELOAD_TIMEOUT: Duration = Duration::from_secs(5);

/// An answered NS: ndisc6 with up to 3 tries of 1 s; an unanswered one: 1 try of 0.5 s
/// (the daemon answers within milliseconds, so a longer wait would only slow the suite).
fn answered(lab: &Lab, addr: &str, iface: &str) -> Option<String> {
    lab.ndisc6_on(addr, iface, 3, 1000)
}

fn unanswered(lab: &Lab, addr: &str, iface: &str) -> bool {
    lab.ndisc6_on(addr, iface, 1, 500).is_none()
}

fn start_from_uci(lab: &Lab, dir: &ConfigDir) -> Responder {
    lab.spawn_daemon(&[], &["-f", "-u", "-c", dir.arg()])
}

/// SIGHUP, then the line that says whether the file was taken.
fn reload(responder: &mut Responder) -> String {
    responder.signal("HUP");
    responder
        .wait_for(
            |line| line.contains("configuration loaded from") || line.contains("not applied"),
            RELOAD_TIMEOUT,
        )
        .unwrap_or_else(|| panic!("no reload outcome within {RELOAD_TIMEOUT:?}"))
}

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn two_uplinks_each_answer_their_own_prefix_on_their_own_link() {
    let lab = Lab::new(RouterMode::LinkLocal);
    lab.add_link(SECOND_UPLINK, SECOND_MAC, SECOND_ROUTER_IF);
    lab.set_link(SECOND_UPLINK, true);
    let dir = ConfigDir::new("two-uplinks");
    dir.write(
        &[
            "config ndpresponder 'main'\n\toption enabled '1'\n\n".to_string(),
            uci_uplink("wan", UPLINK, &[CT_NET], &[("interface", "wan")]),
            uci_uplink("wan2", SECOND_UPLINK, &[SECOND_NET], &[]),
        ]
        .concat(),
    );
    let mut responder = start_from_uci(&lab, &dir);
    // Both, in whichever order the daemon arms them.
    let mut unarmed = vec![UPLINK, SECOND_UPLINK];
    while !unarmed.is_empty() {
        let line = responder
            .wait_for(
                |line| line.contains(": armed device="),
                Duration::from_secs(10),
            )
            .unwrap_or_else(|| panic!("{unarmed:?} not armed within 10 s"));
        unarmed.retain(|device| !line.contains(&format!("device={device} ")));
    }

    assert_eq!(
        answered(&lab, CT_ADDR, ROUTER_IF).as_deref(),
        Some(SERVER_MAC)
    );
    assert_eq!(
        answered(&lab, SECOND_ADDR, SECOND_ROUTER_IF).as_deref(),
        Some(SECOND_MAC)
    );
    assert!(
        unanswered(&lab, SECOND_ADDR, ROUTER_IF),
        "wan answered the second uplink's prefix"
    );
    assert!(
        unanswered(&lab, CT_ADDR, SECOND_ROUTER_IF),
        "wan2 answered the first uplink's prefix"
    );

    // Each uplink counted its own traffic: one answer, one NS outside its rules.
    for uplink in ["wan", "wan2"] {
        let counters = responder.counters_of(uplink);
        assert_eq!(counters.state, "armed", "{}", counters.line);
        assert_eq!(counters.get("na_sent"), 1, "{}", counters.line);
        assert_eq!(counters.get("out_of_range"), 1, "{}", counters.line);
    }
}

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn reload_adds_and_removes_prefixes_and_keeps_rules_on_a_broken_file() {
    let lab = Lab::new(RouterMode::Global);
    let dir = ConfigDir::new("reload");
    dir.write(&uci_uplink("wan", UPLINK, &[CT_NET], &[]));
    let mut responder = start_from_uci(&lab, &dir);
    responder.wait_armed(UPLINK);
    assert_eq!(lab.ndisc6(CT_ADDR).as_deref(), Some(SERVER_MAC));
    assert!(unanswered(&lab, EXTRA_ADDR, ROUTER_IF));

    // Add a prefix.
    dir.write(&uci_uplink("wan", UPLINK, &[CT_NET, EXTRA_NET], &[]));
    let outcome = reload(&mut responder);
    assert!(outcome.contains("configuration loaded"), "{outcome}");
    assert_eq!(lab.ndisc6(EXTRA_ADDR).as_deref(), Some(SERVER_MAC));
    assert_eq!(lab.ndisc6(CT_ADDR).as_deref(), Some(SERVER_MAC));

    // Remove one.
    dir.write(&uci_uplink("wan", UPLINK, &[EXTRA_NET], &[]));
    let outcome = reload(&mut responder);
    assert!(outcome.contains("configuration loaded"), "{outcome}");
    assert!(
        unanswered(&lab, CT_ADDR, ROUTER_IF),
        "a removed prefix is still answered"
    );
    assert_eq!(lab.ndisc6(EXTRA_ADDR).as_deref(), Some(SERVER_MAC));

    // Break the file (an IPv4 prefix on line 3): refused, named by file:line, and the
    // previous rules keep answering.
    dir.write("config uplink 'wan'\n\toption device 'wan0'\n\tlist prefix '10.0.0.0/8'\n");
    responder.signal("HUP");
    let place = format!("{}/ndpresponder:3:", dir.arg());
    let error = responder
        .wait_for(|line| line.contains(&place), RELOAD_TIMEOUT)
        .unwrap_or_else(|| panic!("no error naming {place} within {RELOAD_TIMEOUT:?}"));
    assert!(error.contains("10.0.0.0/8"), "{error}");
    responder
        .wait_for(|line| line.contains("not applied"), RELOAD_TIMEOUT)
        .unwrap_or_else(|| panic!("no 'not applied' within {RELOAD_TIMEOUT:?}"));
    assert_eq!(lab.ndisc6(EXTRA_ADDR).as_deref(), Some(SERVER_MAC));
    assert!(unanswered(&lab, CT_ADDR, ROUTER_IF));
    assert!(responder.is_running());
    let counters = responder.counters_of("wan");
    assert_eq!(counters.state, "armed", "{}", counters.line);
}
