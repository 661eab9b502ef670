//! The VPS problem in network namespaces (`scripts/lab-net.sh`): the hypervisor drops every
//! NA from the VPS port whose IPv6 source is outside the VPS's /64, so a container range
//! routed behind the VPS is reachable only if the NA's source is the target itself.
//!
//! Every test needs root and network namespaces; `scripts/test.sh` runs them with
//! `cargo test --test lab -- --ignored --test-threads=1`.

mod common;

use common::{Lab, Na, RouterMode, CT_ADDR, OUT_OF_RANGE, ROUTER_MAC, SERVER_MAC};
use ndpresponder::core::responder::DropReason;
use ndpresponder::wire::Invalid;
use std::time::Duration;

/// Generates `case::link_local` and `case::global` for each `fn case(mode: RouterMode)`:
/// every property must hold whether the router solicits from its link-local or its global
/// address.
macro_rules! in_both_router_modes {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            use super::common::RouterMode;

            #[test]
            #[ignore = "needs root and network namespaces; run by scripts/test.sh"]
            fn link_local() {
                super::$case(RouterMode::LinkLocal)
            }

            #[test]
            #[ignore = "needs root and network namespaces; run by scripts/test.sh"]
            fn global() {
                super::$case(RouterMode::Global)
            }
        }
    )*};
}

in_both_router_modes!(
    ping_reaches_container,
    ndisc6_gets_answer_in_range_only,
    multicast_ns_answered_from_target,
    unicast_probe_answered,
    dad_probe_answered_to_all_nodes,
    invalid_ns_dropped_and_counted,
    without_responder_container_unreachable,
);

/// Sends one NS `variant` for the container from the router and returns the one NA that
/// answered it, after checking what every NA from the responder has whatever the NS
/// (RFC 4861 sections 4.4, 7.2.4): source = target (the default policy), R set and O clear
/// (the defaults), TLLA = the uplink's MAC.
fn answer_to(mode: RouterMode, variant: &str) -> Na {
    let lab = Lab::new(mode);
    let _responder = lab.start_responder(&[]);
    let capture = lab.capture(Duration::from_secs(5), Some(1));
    lab.send_ns(variant, CT_ADDR);
    let nas = capture.finish();
    assert_eq!(nas.len(), 1, "expected one NA: {nas:#?}");
    let na = nas.into_iter().next().expect("one NA");
    assert_eq!(na.target, CT_ADDR, "{na:#?}");
    assert_eq!(na.eth_src, SERVER_MAC, "{na:#?}");
    assert_eq!(na.ip_src, CT_ADDR, "source must be the target: {na:#?}");
    assert_eq!(na.hop_limit, 255, "{na:#?}");
    assert_eq!(na.code, 0, "{na:#?}");
    assert!(na.checksum_ok, "bad checksum: {na:#?}");
    assert!(na.router, "R is on by default: {na:#?}");
    assert!(!na.override_flag, "O is off by default: {na:#?}");
    assert_eq!(na.tlla.as_deref(), Some(SERVER_MAC), "{na:#?}");
    na
}

/// A solicited answer goes back to the soliciting router (RFC 4861 section 7.2.4).
fn assert_solicited_reply(na: &Na, mode: RouterMode) {
    assert!(na.solicited, "{na:#?}");
    assert_eq!(na.ip_dst, mode.router_source(), "{na:#?}");
    assert_eq!(na.eth_dst, ROUTER_MAC, "{na:#?}");
}

fn ping_reaches_container(mode: RouterMode) {
    let lab = Lab::new(mode);
    let mut responder = lab.start_responder(&[]);
    assert!(lab.ping_with_retries(CT_ADDR), "container unreachable");
    assert_eq!(lab.dropped_na(), 0, "the hypervisor dropped an NA");
    assert!(responder.counters().get("na_sent") >= 1);
}

fn ndisc6_gets_answer_in_range_only(mode: RouterMode) {
    let lab = Lab::new(mode);
    let mut responder = lab.start_responder(&[]);
    assert_eq!(lab.ndisc6(CT_ADDR).as_deref(), Some(SERVER_MAC));
    let out_of_range = responder.counters().get("out_of_range");
    assert_eq!(
        lab.ndisc6(OUT_OF_RANGE),
        None,
        "{OUT_OF_RANGE} got an answer"
    );
    assert!(responder.counters().get("out_of_range") > out_of_range);
}

fn multicast_ns_answered_from_target(mode: RouterMode) {
    assert_solicited_reply(&answer_to(mode, "valid"), mode);
}

/// NUD probes (RFC 4861 section 7.3.1) are unicast to the target and carry no SLLA; a
/// responder that ignores them lets the router's entry go STALE, then FAILED, and traffic
/// stops until a multicast NS succeeds again.
fn unicast_probe_answered(mode: RouterMode) {
    assert_solicited_reply(&answer_to(mode, "unicast"), mode);
}

/// RFC 4861 section 7.2.4: an NS from :: is answered to all-nodes with S clear.
fn dad_probe_answered_to_all_nodes(mode: RouterMode) {
    let na = answer_to(mode, "dad");
    assert!(!na.solicited, "{na:#?}");
    assert_eq!(na.ip_dst, "ff02::1", "{na:#?}");
    assert_eq!(na.eth_dst, "33:33:00:00:00:01", "{na:#?}");
}

/// Each `tests/lab/ndp.py` variant that breaks one validity rule, named like the counter
/// it must bump: every counted NS check of the crate's table of reasons (all of
/// `Invalid::NS` but `OtherType`), so a check added there needs its variant in ndp.py, and
/// the two policy drops a crafted frame provokes alone.
fn invalid_variants() -> Vec<&'static str> {
    Invalid::NS
        .iter()
        .filter_map(|check| check.counted())
        .chain([DropReason::MulticastSource, DropReason::OwnMac])
        .map(DropReason::as_str)
        .collect()
}

fn invalid_ns_dropped_and_counted(mode: RouterMode) {
    let lab = Lab::new(mode);
    let mut responder = lab.start_responder(&[]);
    let before = responder.counters();
    // Long enough for all sends; stopped explicitly once they are done.
    let capture = lab.capture(Duration::from_secs(60), None);
    let variants = invalid_variants();
    for (i, variant) in variants.iter().enumerate() {
        // A target of its own per variant (in range), so an answer would say which it was.
        lab.send_ns(variant, &format!("2001:db8:1:2::1:{:x}", 0x10 + i));
    }
    let nas = capture.finish_after(Duration::from_secs(1));
    assert!(nas.is_empty(), "invalid NS got answers: {nas:#?}");
    let after = responder.counters();
    for variant in variants {
        assert_eq!(
            after.get(variant) - before.get(variant),
            1,
            "counter {variant}"
        );
    }
    assert_eq!(after.get("na_sent"), before.get("na_sent"));
}

/// Without anything answering, nothing reaches the container, and no NA was dropped
/// either: the problem is not the filter alone.
fn without_responder_container_unreachable(mode: RouterMode) {
    let lab = Lab::new(mode);
    assert!(!lab.ping_once(CT_ADDR), "reachable without any responder");
    assert_eq!(lab.dropped_na(), 0);
}

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn sigterm_exits_zero() {
    let lab = Lab::new(RouterMode::LinkLocal);
    let responder = lab.start_responder(&[]);
    let status = responder.stop().expect("still running 5 s after SIGTERM");
    assert!(status.success(), "exit status {status}");
}

/// The reason the project exists: the router solicits from fe80::1, the kernel's proxy
/// answers from the uplink's link-local address (ndisc_send_na() picks the source for the
/// destination), and the hypervisor drops that NA.
#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn kernel_proxy_ndp_link_local_mode_dropped_by_hypervisor() {
    let lab = Lab::new(RouterMode::LinkLocal);
    lab.enable_proxy_ndp(CT_ADDR);
    assert!(
        !lab.ping_once(CT_ADDR),
        "reachable through kernel proxy_ndp"
    );
    assert!(lab.dropped_na() > 0, "the hypervisor dropped no NA");
}

/// When the router solicits from a global address of the /64, the kernel answers from the
/// server's global address, which the filter lets through.
#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn kernel_proxy_ndp_global_mode_works() {
    let lab = Lab::new(RouterMode::Global);
    lab.enable_proxy_ndp(CT_ADDR);
    assert!(
        lab.ping_with_retries(CT_ADDR),
        "unreachable through kernel proxy_ndp"
    );
    assert_eq!(lab.dropped_na(), 0);
}

/// Even in global mode the kernel's answer to a DAD probe goes to ff02::1 from the
/// link-local address, and is dropped: only a target-sourced NA defends the address.
#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn kernel_proxy_ndp_dad_answer_dropped_in_global_mode() {
    let lab = Lab::new(RouterMode::Global);
    lab.enable_proxy_ndp(CT_ADDR);
    // The kernel delays proxied answers to multicast NS by up to proxy_delay (0.8 s).
    let capture = lab.capture(Duration::from_secs(3), Some(1));
    lab.send_ns("dad", CT_ADDR);
    let nas = capture.finish();
    assert!(nas.is_empty(), "DAD answer passed the filter: {nas:#?}");
    assert!(
        lab.dropped_na() > 0,
        "the kernel did not answer the DAD probe"
    );
}

/// The same drop with the daemon told to answer like the kernel: the source policy, not
/// anything else the daemon does, is what gets the NA through.
#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn responder_with_link_local_source_dropped_by_hypervisor() {
    let lab = Lab::new(RouterMode::LinkLocal);
    let _responder = lab.start_responder(&["--source", "link-local"]);
    assert!(
        !lab.ping_once(CT_ADDR),
        "reachable with a link-local NA source"
    );
    assert!(lab.dropped_na() > 0, "the hypervisor dropped no NA");
}
