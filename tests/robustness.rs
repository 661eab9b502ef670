//! Robustness of the daemon, in the namespace lab: devices that appear, go down
//! and come back with another MAC; no busy loop or log flood meanwhile; bursts of malformed
//! frames; reloads, a ubusd restart and ubusd refusing the object under load; running with
//! only CAP_NET_RAW. Needs
//! root; `scripts/test.sh` runs it with `--ignored`.

mod common;

use ndpresponder::core::responder::DropReason;

use common::fake_ubusd::{
    accept, call, handshake, register, register_within, AddObject, ACL_REFUSAL,
};
use common::process::require;
use common::{uci_uplink, ConfigDir, Lab, Responder, RouterMode, CT_ADDR, CT_NET};
use common::{ROUTER_IF, SERVER_MAC, UPLINK};
use std::collections::{BTreeSet, HashMap};
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

/// The hotplugged uplink: a veth straight to the router, outside the hypervisor.
const HOT: &str = "wan1";
const HOT_MAC: &str = "02:00:00:00:03:00";
/// The MAC the device has after it is deleted and recreated.
const NEW_MAC: &str = "02:00:00:00:03:01";
const HOT_ROUTER_IF: &str = "r-eth1";
const HOT_NET: &str = "2001:db8:7::1:0/112";
const HOT_ADDR: &str = "2001:db8:7::1:5";

/// How soon after a link change the daemon must answer again.
const RESUME_LIMIT: Duration = Duration::from_secs(1);
/// How long the tests wait for a log line about a link change.
const EVENT_TIMEOUT: Duration = Duration::from_secs(5);
/// A daemon that only reacts to events uses a few milliseconds of CPU in such a test; one
/// that spins on an error uses all of it.
const CPU_LIMIT: Duration = Duration::from_millis(500);
/// Start-up, arming and each transition log a line or two; a flood logs thousands.
const LOG_LINES_LIMIT: usize = 30;

/// The hot uplink from a UCI file, as on OpenWrt where the configured device may not
/// exist yet (a USB modem, a PPPoE or VLAN device netifd creates later).
fn start_on_hot_uplink(lab: &Lab, dir: &ConfigDir) -> Responder {
    dir.write(&uci_uplink("hot", HOT, &[HOT_NET], &[]));
    let mut responder = lab.spawn_daemon(&[], &["-f", "-u", "-c", dir.arg()]);
    responder
        .wait_for(|line| line.contains("started"), EVENT_TIMEOUT)
        .expect("the daemon did not start");
    responder
}

fn wait_line(responder: &mut Responder, needle: &str) -> String {
    responder
        .wait_for(|line| line.contains(needle), EVENT_TIMEOUT)
        .unwrap_or_else(|| panic!("no '{needle}' within {EVENT_TIMEOUT:?}"))
}

/// Polls the counters line (bounded) until `uplink` is in `state`.
fn wait_state(responder: &mut Responder, uplink: &str, state: &str) {
    let deadline = Instant::now() + EVENT_TIMEOUT;
    loop {
        let counters = responder.counters_of(uplink);
        if counters.state == state {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "uplink {uplink} not {state} within {EVENT_TIMEOUT:?}: {}",
            counters.line
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// However the links changed, the daemon neither spun nor flooded its log.
fn assert_no_spin(responder: &mut Responder) {
    let cpu = responder.cpu_time();
    // The counters lines are the test's own doing (SIGUSR1).
    let lines = responder
        .log()
        .iter()
        .filter(|line| !line.contains("counters uplink="))
        .count();
    assert!(cpu < CPU_LIMIT, "the daemon used {cpu:?} of CPU");
    assert!(
        lines <= LOG_LINES_LIMIT,
        "the daemon logged {lines} lines: {:#?}",
        responder.log()
    );
    eprintln!("daemon cpu {cpu:?}, {lines} log lines");
}

/// Waits (bounded) for the first NA for HOT_ADDR carrying `mac`, and checks it came within
/// RESUME_LIMIT of `since`.
fn assert_answers_within_limit(lab: &Lab, mac: &str, since: Instant, event: &str) {
    let took = lab
        .time_to_answer(HOT_ADDR, HOT_ROUTER_IF, Some(mac), Duration::from_secs(5))
        .map(|_| since.elapsed());
    assert!(
        took.is_some_and(|t| t < RESUME_LIMIT),
        "first answer with {mac} {took:?} after {event}"
    );
    eprintln!("answered with {mac} {took:?} after {event}");
}

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn answers_within_a_second_of_the_device_appearing() {
    let lab = Lab::new(RouterMode::LinkLocal);
    let dir = ConfigDir::new("appears");
    let mut responder = start_on_hot_uplink(&lab, &dir);
    assert_eq!(responder.counters_of("hot").state, "absent");

    // The device is made in the router's namespace and moved into the server's.
    let created = Instant::now();
    lab.add_link(HOT, HOT_MAC, HOT_ROUTER_IF);
    lab.set_link(HOT, true);
    assert_answers_within_limit(&lab, HOT_MAC, created, "the device was created");
    assert_eq!(responder.counters_of("hot").state, "armed");
    assert_no_spin(&mut responder);
}

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn answers_resume_within_a_second_of_link_up() {
    let lab = Lab::new(RouterMode::LinkLocal);
    lab.add_link(HOT, HOT_MAC, HOT_ROUTER_IF);
    lab.set_link(HOT, true);
    let dir = ConfigDir::new("down-up");
    let mut responder = start_on_hot_uplink(&lab, &dir);
    responder.wait_armed(HOT);
    assert_eq!(
        lab.ndisc6_on(HOT_ADDR, HOT_ROUTER_IF, 3, 1000).as_deref(),
        Some(HOT_MAC)
    );

    lab.set_link(HOT, false);
    wait_line(&mut responder, &format!("disarmed device={HOT} state=down"));
    let counters = responder.counters_of("hot");
    // No NS can reach a link that is down (the router's side has no carrier, so the kernel
    // refuses to send one): the state above is what shows the daemon noticed.
    assert_eq!(counters.state, "down", "{}", counters.line);

    let up = Instant::now();
    lab.set_link(HOT, true);
    assert_answers_within_limit(&lab, HOT_MAC, up, "link up");
    assert_eq!(responder.counters_of("hot").state, "armed");
    assert_no_spin(&mut responder);
}

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn recreated_device_with_a_new_mac_is_advertised_with_it() {
    let lab = Lab::new(RouterMode::LinkLocal);
    lab.add_link(HOT, HOT_MAC, HOT_ROUTER_IF);
    lab.set_link(HOT, true);
    let dir = ConfigDir::new("new-mac");
    let mut responder = start_on_hot_uplink(&lab, &dir);
    responder.wait_armed(HOT);
    assert_eq!(
        lab.ndisc6_on(HOT_ADDR, HOT_ROUTER_IF, 3, 1000).as_deref(),
        Some(HOT_MAC)
    );

    // The kernel takes a device down before it unregisters it: the daemon disarms on the
    // first event and calls the uplink absent on the second.
    lab.delete_link(HOT);
    wait_line(&mut responder, &format!("disarmed device={HOT} "));
    wait_state(&mut responder, "hot", "absent");

    let created = Instant::now();
    lab.add_link(HOT, NEW_MAC, HOT_ROUTER_IF);
    lab.set_link(HOT, true);
    assert_answers_within_limit(&lab, NEW_MAC, created, "the device was recreated");
    let armed = responder.wait_armed(HOT);
    assert!(armed.contains(&format!("mac={NEW_MAC}")), "{armed}");

    // The NA itself, captured on the router: from the new MAC, and advertising it.
    let capture = lab.capture_on(HOT_ROUTER_IF, Duration::from_secs(5), Some(1));
    assert!(lab.ndisc6_on(HOT_ADDR, HOT_ROUTER_IF, 1, 1000).is_some());
    let nas = capture.finish();
    assert_eq!(nas.len(), 1, "{nas:#?}");
    assert_eq!(nas[0].target, HOT_ADDR, "{nas:#?}");
    assert_eq!(nas[0].eth_src, NEW_MAC, "{nas:#?}");
    assert_eq!(nas[0].tlla.as_deref(), Some(NEW_MAC), "{nas:#?}");
    assert_no_spin(&mut responder);
}

/// The malformed frames of the burst, each with the counter it must bump (None: the kernel
/// filter refuses it, so the daemon never sees it). The valid NS is 86 bytes with its SLLA.
fn malformed_frames() -> Vec<(String, Option<&'static str>)> {
    let mut frames = Vec::new();
    // Cut before the ICMPv6 type byte (offset 54): the filter cannot match an NS.
    for len in [14, 20, 40, 54] {
        frames.push((format!("cut{len}"), None));
    }
    // Cut anywhere after it: the Payload Length runs past the frame.
    for len in 55..86 {
        frames.push((format!("cut{len}"), Some("truncated")));
    }
    frames.extend([
        ("truncated".to_string(), Some("truncated")),
        ("hbh_truncated".to_string(), Some("truncated")),
        ("checksum".to_string(), Some("checksum")),
        ("option_length".to_string(), Some("option_length")),
        ("option_overlong".to_string(), Some("option_length")),
        ("fragment".to_string(), Some("fragment")),
        ("own_mac".to_string(), Some("own_mac")),
        // Another VLAN's traffic: the kernel strips the tag into metadata, which the
        // filter refuses.
        ("vlan7".to_string(), None),
        ("vlan4094".to_string(), None),
        ("hop_limit".to_string(), Some("hop_limit")),
    ]);
    frames
}

/// Valid NS that the burst interleaves with the malformed ones: extension headers other
/// than Fragment are walked (RFC 8200 section 4), so NS behind them are valid too.
const VALID_VARIANTS: [&str; 3] = ["valid", "hbh", "dstopt"];

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn malformed_burst_is_dropped_by_reason_and_valid_ns_all_answered() {
    let lab = Lab::new(RouterMode::LinkLocal);
    let mut responder = lab.start_responder(&["-u"]);
    let before = responder.counters();

    // Every frame gets a target of its own in the answered range, so an answer says
    // exactly which frame it was for.
    let mut specs = Vec::new();
    let mut valid_targets = BTreeSet::new();
    let mut expected: HashMap<&str, u64> = HashMap::new();
    let mut counted = 0;
    for (i, (variant, reason)) in malformed_frames().into_iter().enumerate() {
        specs.push(format!("{variant}/2001:db8:1:2::1:{:x}", 0x1000 + i));
        if let Some(reason) = reason {
            *expected.entry(reason).or_default() += 1;
            counted += 1;
        }
        let valid = format!("2001:db8:1:2::1:{:x}", 0x2000 + i);
        specs.push(format!(
            "{}/{valid}",
            VALID_VARIANTS[i % VALID_VARIANTS.len()]
        ));
        valid_targets.insert(valid);
    }
    let capture = lab.capture(Duration::from_secs(60), None);
    lab.send_burst(ROUTER_IF, &specs);
    let nas = capture.finish_after(Duration::from_secs(1));

    let answered: BTreeSet<String> = nas.iter().map(|na| na.target.clone()).collect();
    assert_eq!(
        answered,
        valid_targets,
        "answers must be exactly the valid NS ({} NAs)",
        nas.len()
    );
    assert_eq!(
        nas.len(),
        valid_targets.len(),
        "duplicate answers: {nas:#?}"
    );
    assert!(nas
        .iter()
        .all(|na| na.eth_src == SERVER_MAC && na.checksum_ok));

    let after = responder.counters();
    // Every drop counter the daemon has, from the crate's own table of reasons.
    for reason in DropReason::ALL.iter().map(|r| r.as_str()) {
        let want = expected.get(reason).copied().unwrap_or(0);
        assert_eq!(
            after.get(reason) - before.get(reason),
            want,
            "counter {reason}: {}",
            after.line
        );
    }
    let valid = valid_targets.len() as u64;
    assert_eq!(after.get("na_sent") - before.get("na_sent"), valid);
    assert_eq!(
        after.get("ns_received") - before.get("ns_received"),
        valid + counted,
        "{}",
        after.line
    );
    assert!(responder.is_running());
}

/// NS per second the load tests offer: a busy uplink's rate, well below the daemon's limit.
const LOAD_RATE: u32 = 10_000;

/// An uplink on wan0 for the container range plus `other`, without rate limits (the test
/// counts answers; the limits have tests of their own).
fn loaded_uplink(other: &str) -> String {
    uci_uplink(
        "wan",
        UPLINK,
        &[CT_NET, other],
        &[("rate_limit", "0"), ("source_rate_limit", "0")],
    )
}

/// Field `key` of ndpload's output as a number.
fn field(result: &HashMap<String, String>, key: &str) -> f64 {
    result
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no number {key} in {result:?}"))
}

/// Every in-range NS the generator sent was answered, and nothing else arrived.
fn assert_all_answered(result: &HashMap<String, String>, seconds: f64) {
    eprintln!("ndpload: {result:?}");
    let sent = field(result, "sent_in");
    assert!(
        sent >= 0.7 * f64::from(LOAD_RATE) * seconds,
        "the generator sent only {sent} NS: {result:?}"
    );
    assert_eq!(
        field(result, "rx_drops"),
        0.0,
        "the generator lost NAs itself"
    );
    assert_eq!(field(result, "answered"), sent, "NS lost: {result:?}");
    for unexpected in ["wrong", "late", "invalid"] {
        assert_eq!(field(result, unexpected), 0.0, "{unexpected}: {result:?}");
    }
}

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn hundred_reloads_under_load_lose_no_answer_for_an_unchanged_prefix() {
    const RELOADS: usize = 100;
    const SECONDS: f64 = 6.0;
    let versions = [
        loaded_uplink("2001:db8:1:2::2:0/112"),
        loaded_uplink("2001:db8:1:2::3:0/112"),
    ];
    let lab = Lab::new(RouterMode::LinkLocal);
    let dir = ConfigDir::new("reload-load");
    dir.write(&versions[0]);
    let mut responder = lab.spawn_daemon(&[], &["-f", "-u", "-c", dir.arg()]);
    responder.wait_armed(UPLINK);
    let before = responder.counters_of("wan");

    let mut load = lab.start_load(ROUTER_IF, CT_NET, LOAD_RATE, SECONDS);
    std::thread::sleep(Duration::from_millis(300));
    for i in 1..=RELOADS {
        dir.write(&versions[i % 2]);
        responder.signal("HUP");
        responder
            .wait_for(
                |line| line.contains("configuration loaded from"),
                EVENT_TIMEOUT,
            )
            .unwrap_or_else(|| panic!("reload {i} not applied within {EVENT_TIMEOUT:?}"));
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        load.is_running(),
        "the reloads outlasted the load; they must happen under it"
    );
    let result = load.finish(Duration::from_secs(30));
    assert_all_answered(&result, SECONDS);

    let after = responder.counters_of("wan");
    assert_eq!(
        after.get("na_sent") - before.get("na_sent"),
        field(&result, "answered") as u64,
        "{}",
        after.line
    );
    for reason in ["rate_limit", "source_rate_limit", "out_of_range"] {
        assert_eq!(after.get(reason), before.get(reason), "{}", after.line);
    }
}

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn ubusd_restart_under_load_reregisters_within_two_seconds_and_loses_no_answer() {
    const SECONDS: f64 = 4.0;
    let re_register_limit = Duration::from_secs(2);
    let lab = Lab::new(RouterMode::LinkLocal);
    let dir = ConfigDir::new("ubus-load");
    dir.write(&loaded_uplink("2001:db8:1:2::2:0/112"));
    let sock = dir.ubus_socket();
    let sock_arg = sock.to_str().expect("utf-8 path").to_string();
    // The fake ubusd listens in the test process; the daemon reaches it by path from its
    // namespace (AF_UNIX paths are not per network namespace).
    let listener = UnixListener::bind(&sock).expect("bind the fake ubusd");
    let mut responder = lab.spawn_daemon(&[], &["-f", "-c", dir.arg(), "-s", &sock_arg]);
    let mut conn = register(&listener);
    responder.wait_armed(UPLINK);
    assert_eq!(call(&mut conn, 1, "status", &[]).0, 0);

    let mut load = lab.start_load(ROUTER_IF, CT_NET, LOAD_RATE, SECONDS);
    std::thread::sleep(Duration::from_millis(500));
    // ubusd dies: connection and socket gone; it comes back a moment later.
    drop(conn);
    drop(listener);
    std::fs::remove_file(&sock).expect("remove the ubus socket");
    wait_line(&mut responder, "ubus: connection lost");
    std::thread::sleep(Duration::from_millis(300));
    let restarted = Instant::now();
    let listener = UnixListener::bind(&sock).expect("bind the restarted fake ubusd");
    let mut conn = register(&listener);
    let took = restarted.elapsed();
    assert!(took < re_register_limit, "re-registration took {took:?}");
    eprintln!("re-registered {took:?} after ubusd came back");
    let (status, json) = call(&mut conn, 2, "status", &[]);
    assert_eq!(status, 0);
    let json = json.expect("status has data");
    assert!(json.contains("\"state\": \"armed\""), "{json}");
    assert!(
        load.is_running(),
        "the restart outlasted the load; it must happen under it"
    );

    let result = load.finish(Duration::from_secs(30));
    assert_all_answered(&result, SECONDS);
    let counters = responder.counters_of("wan");
    assert_eq!(
        counters.get("na_sent"),
        field(&result, "answered") as u64,
        "{}",
        counters.line
    );
}

/// ubusd refusing the object (status 2, as for an ACL it has not read yet) while NS arrive
/// at 10k/s: every one is answered, the daemon tries a few times on its backoff schedule,
/// and it registers once ubusd accepts.
#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn ubusd_refusing_the_object_under_load_loses_no_answer() {
    const SECONDS: f64 = 4.0;
    let lab = Lab::new(RouterMode::LinkLocal);
    let dir = ConfigDir::new("ubus-refused");
    dir.write(&loaded_uplink("2001:db8:1:2::2:0/112"));
    let sock = dir.ubus_socket();
    let sock_arg = sock.to_str().expect("utf-8 path").to_string();
    let listener = UnixListener::bind(&sock).expect("bind the fake ubusd");
    let mut responder = lab.spawn_daemon(&[], &["-f", "-c", dir.arg(), "-s", &sock_arg]);
    // ubusd leaves refused connections open; the daemon closes them.
    let mut refused = Vec::new();
    let first = accept(&listener, Duration::from_secs(5)).expect("the daemon's first try");
    refused.push(handshake(first, AddObject::Refuse(ACL_REFUSAL)).unwrap_err());
    responder.wait_armed(UPLINK);

    let load = lab.start_load(ROUTER_IF, CT_NET, LOAD_RATE, SECONDS);
    let began = Instant::now();
    let mut tries = 1;
    let during = Duration::from_secs_f64(SECONDS);
    while let Some(conn) = accept(&listener, during.saturating_sub(began.elapsed())) {
        tries += 1;
        refused.push(handshake(conn, AddObject::Refuse(ACL_REFUSAL)).unwrap_err());
    }
    let result = load.finish(Duration::from_secs(30));
    assert_all_answered(&result, SECONDS);
    // Tries at 0, 1 and 3 s (then 7 s): never more than a handful.
    assert!((2..=4).contains(&tries), "{tries} tries");
    let ubus_lines = responder
        .log()
        .iter()
        .filter(|l| l.contains("ubus:"))
        .count();
    assert_eq!(ubus_lines, 1, "{:#?}", responder.log());

    let mut conn = register_within(&listener, Duration::from_secs(10));
    let json = call(&mut conn, 1, "status", &[])
        .1
        .expect("status has data");
    assert!(json.contains(&format!("\"retries\": {tries}")), "{json}");
    assert!(json.contains("\"state\": \"armed\""), "{json}");
    eprintln!(
        "{tries} tries while refused under load; all {} NS answered",
        field(&result, "answered")
    );
}

/// setpriv(1) arguments for user nobody with exactly `caps` (e.g. "+net_raw", or "-all"
/// for none): inheritable, ambient and bounding sets, so the daemon keeps them across exec.
fn as_nobody(caps: &str) -> Vec<String> {
    require("setpriv", "util-linux");
    let mut args: Vec<String> = [
        "setpriv",
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
    ]
    .map(String::from)
    .to_vec();
    if caps == "-all" {
        args.extend(["--inh-caps=-all", "--bounding-set=-all"].map(String::from));
    } else {
        args.push(format!("--inh-caps={caps}"));
        args.push(format!("--ambient-caps={caps}"));
        args.push(format!("--bounding-set=-all,{caps}"));
    }
    args
}

/// A field of /proc/PID/status, such as "CapEff" or "Uid".
fn proc_status(responder: &Responder, key: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{}/status", responder.pid()))
        .expect("read /proc/PID/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in /proc/PID/status"))
        .trim()
        .to_string()
}

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn answers_as_nobody_with_only_cap_net_raw() {
    let lab = Lab::new(RouterMode::LinkLocal);
    let wrapper = as_nobody("+net_raw");
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let mut responder = lab.spawn_daemon(&wrapper, &["-i", UPLINK, "-n", CT_NET, "-f", "-u"]);
    responder.wait_armed(UPLINK);
    // CAP_NET_RAW is capability 13 (linux/capability.h).
    assert_eq!(proc_status(&responder, "CapEff"), "0000000000002000");
    assert!(proc_status(&responder, "Uid").starts_with("65534"));
    assert_eq!(lab.ndisc6(CT_ADDR).as_deref(), Some(SERVER_MAC));
    assert_eq!(responder.counters().get("na_sent"), 1);
}

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn without_cap_net_raw_logs_the_device_and_stays_alive() {
    let lab = Lab::new(RouterMode::LinkLocal);
    let wrapper = as_nobody("-all");
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let mut responder = lab.spawn_daemon(&wrapper, &["-i", UPLINK, "-n", CT_NET, "-f", "-u"]);
    let error = wait_line(&mut responder, &format!("cannot listen on {UPLINK}"));
    assert!(error.contains(&format!("device={UPLINK}")), "{error}");
    assert!(error.contains("Operation not permitted"), "{error}");
    assert_eq!(proc_status(&responder, "CapEff"), "0000000000000000");
    assert!(
        lab.ndisc6_on(CT_ADDR, ROUTER_IF, 1, 500).is_none(),
        "answered without CAP_NET_RAW"
    );
    assert!(responder.is_running(), "the daemon exited");
    let counters = responder.counters();
    assert_eq!(counters.state, "failed", "{}", counters.line);
    assert_no_spin(&mut responder);
}
