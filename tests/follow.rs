//! Ranges that follow the server's routes and hosts (`--downstream`, `--hosts`), in the
//! namespace lab: a route added or removed starts or stops the answers within 100 ms; a
//! Docker-style bridge with a /80 is answered for with no configured prefix; with `known`
//! only hosts the server has a neighbour entry for are answered, and `status` / `explain`
//! say where each range comes from and why an address is not answered.
//!
//! Every test needs root and network namespaces; `scripts/test.sh` runs them with
//! `--ignored --test-threads=1`.

mod common;

use common::fake_ubusd::{call, register, Session};
use common::{ConfigDir, Lab, RouterMode, CT_ADDR, CT_NET, OUT_OF_RANGE, ROUTER_IF};
use common::{SERVER_MAC, UPLINK};
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

/// The Docker-style network: a /80 of the server's on-link /64 (so the hypervisor lets the
/// NAs for it through), its gateway on the bridge, one container in it.
const BRIDGE: &str = "docker0";
const DOCKER_NET: &str = "2001:db8:1:2:d0c::/80";
const DOCKER_GW: &str = "2001:db8:1:2:d0c::1";
const DOCKER_GW_CIDR: &str = "2001:db8:1:2:d0c::1/80";
const HOST_ADDR: &str = "2001:db8:1:2:d0c::5";
const HOST_CIDR: &str = "2001:db8:1:2:d0c::5/80";
/// In the /80, but nobody has it.
const ABSENT_ADDR: &str = "2001:db8:1:2:d0c::6";

/// How fast a route change must show in the answers.
const SWITCH_BOUND: Duration = Duration::from_millis(100);
/// How long an unanswered single-try probe waits: the resolution of the measurement.
const PROBE_WAIT_MS: u32 = 20;
const SWITCH_LIMIT: Duration = Duration::from_secs(3);
const ANSWER_LIMIT: Duration = Duration::from_secs(5);

/// Probes `addr` from the router with one-try ndisc6 until it is `answered` (by the
/// server's MAC) or not; returns an upper bound of the time from `since` until the daemon
/// behaved so: the end of the first probe that saw it, less the wait of an unanswered one.
fn switch_time(lab: &Lab, addr: &str, answered: bool, since: Instant) -> Duration {
    loop {
        let got = lab.ndisc6_on(addr, ROUTER_IF, 1, PROBE_WAIT_MS);
        let elapsed = since.elapsed();
        if got.is_some() {
            assert_eq!(got.as_deref(), Some(SERVER_MAC), "answered by someone else");
        }
        if got.is_some() == answered {
            let wait = Duration::from_millis(u64::from(PROBE_WAIT_MS));
            return if answered {
                elapsed
            } else {
                elapsed.saturating_sub(wait)
            };
        }
        assert!(
            elapsed < SWITCH_LIMIT,
            "{addr}: still {} after {elapsed:?}",
            if answered { "unanswered" } else { "answered" }
        );
    }
}

/// The daemon in UCI mode with `uplink` as its file, registered on a fake ubusd: the
/// daemon, the bus connection, and the directory (removed on drop).
fn start_uci(lab: &Lab, uplink: &str) -> (common::Responder, Session, ConfigDir) {
    let dir = ConfigDir::new("follow");
    dir.write(uplink);
    let listener = UnixListener::bind(dir.ubus_socket()).expect("bind the fake ubusd");
    let socket = dir.ubus_socket();
    let socket = socket.to_str().expect("utf-8 path");
    let mut responder = lab.spawn_daemon(&[], &["-f", "-v", "-c", dir.arg(), "-s", socket]);
    let bus = register(&listener);
    responder.wait_armed(UPLINK);
    (responder, bus, dir)
}

/// One ubus call that must succeed; its JSON reply.
fn ask(bus: &mut Session, method: &str, args: &[(&str, &str)]) -> String {
    static SEQ: AtomicU16 = AtomicU16::new(1);
    let (status, json) = call(bus, SEQ.fetch_add(1, Ordering::Relaxed), method, args);
    assert_eq!(status, 0, "{method} failed");
    json.expect("a reply")
}

/// Whether the router's neighbour table has `addr` on `dev` with `mac`.
fn router_knows_on(lab: &Lab, addr: &str, dev: &str, mac: &str) -> bool {
    let out = lab.run(
        common::Role::Router,
        &["ip", "-6", "neigh", "show", addr, "dev", dev],
    );
    String::from_utf8_lossy(&out.stdout).contains(mac)
}

/// Whether the router's neighbour table has `addr` on the lab's link with the server's MAC.
fn router_knows(lab: &Lab, addr: &str) -> bool {
    router_knows_on(lab, addr, ROUTER_IF, SERVER_MAC)
}

/// How long until the router knows `addr` (polled every 20 ms), if within `limit`.
fn time_to_learn(lab: &Lab, addr: &str, limit: Duration) -> Option<Duration> {
    time_to_learn_on(lab, addr, ROUTER_IF, SERVER_MAC, limit)
}

/// [`time_to_learn`] on the router's `dev`, with `mac`.
fn time_to_learn_on(
    lab: &Lab,
    addr: &str,
    dev: &str,
    mac: &str,
    limit: Duration,
) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if router_knows_on(lab, addr, dev, mac) {
            return Some(start.elapsed());
        }
        if start.elapsed() >= limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The number after `"key": ` in the `announcements` table of a status reply.
fn announced(status: &str, key: &str) -> Option<u64> {
    let table = &status[status.find("\"announcements\"")?..];
    let needle = format!("\"{key}\": ");
    let at = table.find(&needle)? + needle.len();
    let digits: String = table[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn start(lab: &Lab, args: &[&str]) -> common::Responder {
    let mut argv = vec!["-i", UPLINK, "-f"];
    argv.extend_from_slice(args);
    let mut responder = lab.spawn_daemon(&[], &argv);
    responder.wait_armed(UPLINK);
    responder
}

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn a_route_added_or_removed_starts_or_stops_answers() {
    let lab = Lab::new(RouterMode::LinkLocal);
    // The lab routes the container's /112 out of ct0; no prefix is configured.
    let mut responder = start(&lab, &["--downstream", "ct0", "--hosts", "any"]);
    assert!(
        lab.time_to_answer(CT_ADDR, ROUTER_IF, Some(SERVER_MAC), ANSWER_LIMIT)
            .is_some(),
        "the routed container address was never answered"
    );
    assert!(lab.ping_with_retries(CT_ADDR), "container unreachable");
    let (mut stops, mut starts) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        // Timed from when `ip` returns: the kernel has made the change by then.
        lab.server_ip(&["-6", "route", "del", CT_NET, "dev", "ct0"]);
        stops.push(switch_time(&lab, CT_ADDR, false, Instant::now()));
        lab.server_ip(&["-6", "route", "add", CT_NET, "dev", "ct0"]);
        starts.push(switch_time(&lab, CT_ADDR, true, Instant::now()));
    }
    eprintln!("answers stopped after {stops:?}, started after {starts:?}");
    for t in stops.iter().chain(&starts) {
        assert!(*t < SWITCH_BOUND, "stops {stops:?} starts {starts:?}");
    }
    // Without the route the /64 on the uplink is the longest match: counted, not answered.
    let c = responder.counters();
    assert!(c.get("not_downstream") >= 3, "{}", c.line);
    assert!(c.get("na_sent") >= 4, "{}", c.line);
}

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn a_docker_style_bridge_with_a_slash_80_is_answered_for() {
    let lab = Lab::new(RouterMode::Global);
    // The daemon starts before Docker makes the bridge: the device, its address and its
    // route all arrive as events.
    let mut responder = start(&lab, &["--downstream", BRIDGE, "--hosts", "any"]);
    lab.add_bridge(BRIDGE, DOCKER_GW_CIDR);
    lab.add_host("c1", BRIDGE, HOST_CIDR, DOCKER_GW);
    assert!(
        lab.time_to_answer(HOST_ADDR, ROUTER_IF, Some(SERVER_MAC), ANSWER_LIMIT)
            .is_some(),
        "{HOST_ADDR} in the bridge's /80 never answered"
    );
    assert!(lab.ping_with_retries(HOST_ADDR), "container unreachable");
    // `any`: every address of the /80; outside it the route is the uplink's /64.
    assert_eq!(lab.ndisc6(ABSENT_ADDR).as_deref(), Some(SERVER_MAC));
    let before = responder.counters().get("not_downstream");
    assert_eq!(lab.ndisc6_on(OUT_OF_RANGE, ROUTER_IF, 1, 500), None);
    assert!(responder.counters().get("not_downstream") > before);
    // Docker removing the network removes the route, and the answers stop.
    lab.server_ip(&["link", "del", BRIDGE]);
    let stopped = switch_time(&lab, HOST_ADDR, false, Instant::now());
    eprintln!("answers stopped {stopped:?} after the bridge was deleted");
    assert!(stopped < SWITCH_BOUND, "{stopped:?}");
}

/// `hosts probe`: a container that has never sent anything is answered for on the first
/// NS, once it has answered the server's own solicitation; an address nobody has is never
/// answered, however often it is asked for.
#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn probe_answers_once_the_host_answers_and_never_for_an_absent_one() {
    let lab = Lab::new(RouterMode::LinkLocal);
    lab.add_bridge(BRIDGE, DOCKER_GW_CIDR);
    lab.add_host("c1", BRIDGE, HOST_CIDR, DOCKER_GW);
    let (mut responder, mut bus, _dir) = start_uci(
        &lab,
        &format!(
            "config uplink 'wan'\n\toption device '{UPLINK}'\n\tlist downstream '{BRIDGE}'\n\
             \toption hosts 'probe'\n"
        ),
    );
    let explain = ask(&mut bus, "explain", &[("address", HOST_ADDR)]);
    assert!(explain.contains("an NS for it starts a probe"), "{explain}");
    // One NS, waited for up to 2 s: answered as soon as the probe found the host.
    let t0 = Instant::now();
    let first = lab.ndisc6_on(HOST_ADDR, ROUTER_IF, 1, 2000);
    let latency = t0.elapsed();
    eprintln!("first answer after a probe: {latency:?}");
    assert_eq!(
        first.as_deref(),
        Some(SERVER_MAC),
        "the probed host was not answered"
    );
    assert!(
        responder
            .wait_for(
                |l| l.contains(&format!("target={HOST_ADDR}")) && l.contains("probe=sent"),
                ANSWER_LIMIT
            )
            .is_some(),
        "no probe was logged"
    );
    assert!(lab.ping_with_retries(HOST_ADDR), "container unreachable");
    let before = responder.counters().get("unknown_host");
    // Three NS a second apart, as a router resolves: the probe runs out, nobody answers.
    assert_eq!(lab.ndisc6_on(ABSENT_ADDR, ROUTER_IF, 3, 1000), None);
    assert_eq!(lab.ndisc6_on(ABSENT_ADDR, ROUTER_IF, 2, 1000), None);
    assert!(!lab.ping_once(ABSENT_ADDR));
    assert!(responder.counters().get("unknown_host") >= before + 5);
    let explain = ask(&mut bus, "explain", &[("address", ABSENT_ADDR)]);
    assert!(explain.contains("probe unanswered"), "{explain}");
    let status = ask(&mut bus, "status", &[]);
    for needle in [
        "\"hosts_routed\": \"probe\"",
        "\"answered\": 1",
        "\"unanswered\": 1",
    ] {
        assert!(status.contains(needle), "status lacks {needle}:\n{status}");
    }
}

/// `announce`: a container's first packet gives the server a neighbour entry, and the
/// router learns the container's address (with the server's MAC) without ever having
/// solicited it; without `announce` it does not.
#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn announce_makes_the_router_learn_a_new_host() {
    for announce in [false, true] {
        let lab = Lab::new(RouterMode::LinkLocal);
        lab.add_bridge(BRIDGE, DOCKER_GW_CIDR);
        let host = lab.add_host("c1", BRIDGE, HOST_CIDR, DOCKER_GW);
        let mut args = vec!["--downstream", BRIDGE, "-v"];
        if announce {
            args.push("--announce");
        }
        let mut responder = start(&lab, &args);
        assert!(
            lab.ping_from(&host, DOCKER_GW),
            "container cannot reach its gateway"
        );
        let learned = time_to_learn(&lab, HOST_ADDR, Duration::from_secs(2));
        assert_eq!(learned.is_some(), announce, "announce={announce}");
        let logged = responder.wait_for(
            |l| {
                l.contains(&format!(
                    "announce device={UPLINK} host={HOST_ADDR} router=fe80::1"
                ))
            },
            Duration::from_millis(if announce { 2000 } else { 200 }),
        );
        assert_eq!(logged.is_some(), announce, "announce={announce}");
    }
}

/// A /128 route through a downstream device (as odhcpd's relay or a WireGuard peer makes)
/// is a known host: answered under the default `known` policy with no neighbour entry, and
/// announced when it appears; its neighbours in the same /112 without one are not answered.
#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn a_host_route_is_a_known_host_and_is_announced() {
    const HOST_ROUTE: &str = "2001:db8:1:2::1:77";
    const BESIDE: &str = "2001:db8:1:2::1:78";
    let lab = Lab::new(RouterMode::LinkLocal);
    let _responder = start(&lab, &["--downstream", "ct0", "--announce"]);
    lab.server_ip(&[
        "-6",
        "route",
        "add",
        &format!("{HOST_ROUTE}/128"),
        "dev",
        "ct0",
    ]);
    assert!(
        time_to_learn(&lab, HOST_ROUTE, Duration::from_secs(2)).is_some(),
        "the router did not learn {HOST_ROUTE}"
    );
    assert_eq!(lab.ndisc6(HOST_ROUTE).as_deref(), Some(SERVER_MAC));
    assert_eq!(lab.ndisc6_on(BESIDE, ROUTER_IF, 1, 500), None);
}

/// `announce` repeats when the router may have lost what it learned: after its entry for a
/// known host is flushed, the server's uplink going down and up makes the daemon announce
/// the host again (the router has its entry back, with our MAC, without soliciting it), and
/// so does a reload that changes the ranges. Without `announce` nothing is sent.
#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn announcements_repeat_when_the_uplink_returns_and_when_ranges_change() {
    const LEARN_LIMIT: Duration = Duration::from_secs(3);
    for announce in [false, true] {
        let lab = Lab::new(RouterMode::LinkLocal);
        lab.add_bridge(BRIDGE, DOCKER_GW_CIDR);
        let host = lab.add_host("c1", BRIDGE, HOST_CIDR, DOCKER_GW);
        let uci = |extra: &str| {
            format!(
                "config uplink 'wan'\n\toption device '{UPLINK}'\n\tlist downstream '{BRIDGE}'\n\
                 \toption announce '{}'\n{extra}",
                u8::from(announce)
            )
        };
        let (mut responder, mut bus, dir) = start_uci(&lab, &uci(""));
        // One sweep once the kernel's tables are read, however the uplink was armed.
        let start = responder.wait_for(
            |l| l.contains("announce sweep trigger="),
            Duration::from_millis(if announce { 2000 } else { 200 }),
        );
        assert_eq!(
            start.is_some_and(|l| l.contains("trigger=start")),
            announce,
            "{:#?}",
            responder.log()
        );
        assert!(
            lab.ping_from(&host, DOCKER_GW),
            "container cannot reach its gateway"
        );
        assert_eq!(
            time_to_learn(&lab, HOST_ADDR, LEARN_LIMIT).is_some(),
            announce,
            "the new host, announce={announce}"
        );
        let flush = || {
            let out = lab.run(
                common::Role::Router,
                &["ip", "-6", "neigh", "flush", "dev", ROUTER_IF],
            );
            assert!(out.status.success(), "{out:?}");
            assert!(!router_knows(&lab, HOST_ADDR), "flushed, yet still there");
        };
        flush();

        lab.set_link(UPLINK, false);
        assert!(
            responder
                .wait_for(
                    |l| l.contains(&format!("disarmed device={UPLINK}")),
                    ANSWER_LIMIT
                )
                .is_some(),
            "the uplink was not disarmed"
        );
        lab.set_link(UPLINK, true);
        let up = Instant::now();
        // The kernel took the default route with the link; netifd or an RA would put it
        // back, as this does.
        lab.server_ip(&[
            "-6", "route", "replace", "default", "via", "fe80::1", "dev", UPLINK,
        ]);
        let learned = time_to_learn(&lab, HOST_ADDR, LEARN_LIMIT);
        if !announce {
            assert_eq!(learned, None, "announced without announce");
            let status = ask(&mut bus, "status", &[]);
            assert!(!status.contains("announcements"), "{status}");
            assert!(
                !responder.log().iter().any(|l| l.contains("announce")),
                "{:#?}",
                responder.log()
            );
            continue;
        }
        let since_up = up.elapsed();
        let learned = learned.expect("the router did not learn the host again after link up");
        eprintln!(
            "router entry back {since_up:?} after link up ({learned:?} after the default route)"
        );
        let sweep = responder
            .wait_for(
                |l| {
                    l.contains("announce sweep trigger=armed hosts=")
                        || l.contains("announce sweep trigger=router hosts=")
                },
                ANSWER_LIMIT,
            )
            .expect("no sweep logged after link up");
        eprintln!("{sweep}");
        let status = ask(&mut bus, "status", &[]);
        let sweeps = announced(&status, "sweeps").expect("sweeps in status");
        assert!(sweeps >= 2, "the start's sweep and link up's:\n{status}");
        assert!(status.contains("\"sweep_pending\": false"), "{status}");
        assert_eq!(announced(&status, "refused"), Some(0), "{status}");

        // A reload that adds a prefix changes the ranges: every host again.
        flush();
        dir.write(&uci("\tlist prefix '2001:db8:1:2:beef::/96'\n"));
        let reloaded = Instant::now();
        let (code, _) = call(&mut bus, 900, "reload", &[]);
        assert_eq!(code, 0, "reload failed");
        let learned = time_to_learn(&lab, HOST_ADDR, LEARN_LIMIT)
            .expect("the router did not learn the host again after the reload");
        eprintln!(
            "router entry back {learned:?} after the reload ({:?} including the call)",
            reloaded.elapsed()
        );
        assert!(
            responder
                .wait_for(
                    |l| l.contains("announce sweep trigger=ranges"),
                    ANSWER_LIMIT
                )
                .is_some(),
            "no ranges sweep logged"
        );
        let status = ask(&mut bus, "status", &[]);
        assert_eq!(announced(&status, "sweeps"), Some(sweeps + 1), "{status}");
        assert!(announced(&status, "swept") >= Some(2), "{status}");
        let table = status
            .find("\"announcements\"")
            .expect("announcements in status");
        eprintln!(
            "{}",
            status[table..]
                .lines()
                .take(7)
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert_eq!(announced(&status, "refused"), Some(0), "{status}");
    }
}

/// An uplink device deleted and made again (a new index, here a new MAC too, as a USB
/// modem or a VM's hotplugged NIC comes back) is armed again, and the router, whose side of
/// the link went with it, learns the known host again, with the new MAC.
#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn announcements_repeat_when_the_uplink_device_is_re_created() {
    const HOT: &str = "up1";
    const HOT_ROUTER_IF: &str = "r-up1";
    const FIRST_MAC: &str = "02:00:00:00:03:00";
    const NEW_MAC: &str = "02:00:00:00:03:01";
    let lab = Lab::new(RouterMode::LinkLocal);
    lab.add_bridge(BRIDGE, DOCKER_GW_CIDR);
    let host = lab.add_host("c1", BRIDGE, HOST_CIDR, DOCKER_GW);
    let default_route = || {
        lab.server_ip(&[
            "-6", "route", "add", "default", "via", "fe80::1", "dev", HOT, "metric", "2048",
        ])
    };
    lab.add_link(HOT, FIRST_MAC, HOT_ROUTER_IF);
    lab.set_link(HOT, true);
    default_route();
    let mut responder = lab.spawn_daemon(
        &[],
        &["-i", HOT, "-f", "--downstream", BRIDGE, "--announce"],
    );
    responder.wait_armed(HOT);
    assert!(
        lab.ping_from(&host, DOCKER_GW),
        "container cannot reach its gateway"
    );
    let limit = Duration::from_secs(3);
    assert!(
        time_to_learn_on(&lab, HOST_ADDR, HOT_ROUTER_IF, FIRST_MAC, limit).is_some(),
        "the router did not learn the new host"
    );

    lab.delete_link(HOT);
    assert!(
        responder
            .wait_for(
                |l| l.contains(&format!("disarmed device={HOT}")),
                ANSWER_LIMIT
            )
            .is_some(),
        "the uplink was not disarmed"
    );
    lab.add_link(HOT, NEW_MAC, HOT_ROUTER_IF);
    lab.set_link(HOT, true);
    let up = Instant::now();
    default_route();
    let learned = time_to_learn_on(&lab, HOST_ADDR, HOT_ROUTER_IF, NEW_MAC, limit);
    let since_up = up.elapsed();
    assert!(
        learned.is_some(),
        "the router did not learn the host again:\n{:#?}",
        responder.log()
    );
    eprintln!("router entry back {since_up:?} after the re-created device came up");
    assert!(
        responder
            .wait_for(|l| l.contains("announce sweep trigger=armed"), ANSWER_LIMIT)
            .is_some(),
        "no sweep on arming the new device"
    );
}

/// A sweep larger than the announcement budget: 500 hosts already on the bridge when the
/// daemon starts are all announced, at the budget's pace (100 per second after a burst of
/// 90), none refused; the router learns the first and the last; afterwards the daemon is
/// asleep again.
#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn a_sweep_larger_than_the_budget_announces_every_host_at_its_pace() {
    const HOSTS: u32 = 500;
    let lab = Lab::new(RouterMode::LinkLocal);
    lab.add_bridge(BRIDGE, DOCKER_GW_CIDR);
    let addr = |i: u32| format!("2001:db8:1:2:d0c::1:{i:x}");
    let batch: String = (0..HOSTS)
        .map(|i| {
            format!(
                "neigh add {} lladdr 02:00:00:aa:{:02x}:{:02x} dev {BRIDGE} nud permanent\n",
                addr(i),
                i >> 8,
                i & 0xff
            )
        })
        .collect();
    let path = std::env::temp_dir().join(format!("ndpr-sweep-{}", std::process::id()));
    std::fs::write(&path, batch).expect("write the ip batch file");
    let added = lab.run_in(
        &lab.ns(common::Role::Server),
        &["ip", "-batch", path.to_str().expect("utf-8 path")],
    );
    let _ = std::fs::remove_file(&path);
    assert!(added.status.success(), "{added:?}");
    let mut responder = start(&lab, &["--downstream", BRIDGE, "--announce"]);
    let line = responder
        .wait_for(
            |l| l.contains("announce sweep trigger=start"),
            Duration::from_secs(15),
        )
        .expect("the start's sweep did not finish");
    eprintln!("{line}");
    // The hosts and the bridge's own address.
    assert!(line.contains(&format!("hosts={}", HOSTS + 1)), "{line}");
    let ms: u64 = line
        .rsplit("ms=")
        .next()
        .and_then(|v| v.trim().parse().ok())
        .expect("ms= in the sweep's line");
    // 411 hosts after the first 90, at 100 per second, in batches of 10.
    assert!((3_900..6_000).contains(&ms), "{line}");
    for i in [0, HOSTS - 1] {
        assert!(
            time_to_learn(&lab, &addr(i), Duration::from_secs(2)).is_some(),
            "the router did not learn {}",
            addr(i)
        );
    }
    // The router verifies each entry it learned with a unicast NS a few seconds later
    // (RFC 4861 section 7.3.3), which the daemon answers: idle is a second without NS.
    let mut quiet = None;
    for _ in 0..15 {
        let ns = responder.counters().get("ns_received");
        let before = responder.cpu_time();
        std::thread::sleep(Duration::from_secs(1));
        let cpu = responder.cpu_time().saturating_sub(before);
        if responder.counters().get("ns_received") == ns {
            quiet = Some(cpu);
            break;
        }
    }
    let idle = quiet.expect("the router never stopped soliciting");
    eprintln!("CPU time in a second without NS after the sweep: {idle:?}");
    // Less than two ticks of the kernel's accounting (10 ms each).
    assert!(
        idle < Duration::from_millis(20),
        "{idle:?}: not asleep after the sweep"
    );
}

/// The daemon's peak resident set (VmHWM in /proc/PID/status, proc(5)).
fn peak_rss(responder: &common::Responder) -> String {
    let status = std::fs::read_to_string(format!("/proc/{}/status", responder.pid()))
        .expect("read /proc/PID/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/PID/status");
    line.split_whitespace()
        .skip(1)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Ten thousand hosts on the bridge (permanent neighbour entries, as a big Docker network
/// would make): all counted, any of them answered, an address among them without an entry
/// not; the burst overflows the daemon's rtnetlink socket, and the uplink stays armed while
/// it reads everything again; the daemon's peak resident memory is printed.
#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn ten_thousand_known_hosts() {
    const HOSTS: u32 = 10_000;
    let lab = Lab::new(RouterMode::LinkLocal);
    lab.add_bridge(BRIDGE, DOCKER_GW_CIDR);
    // Permanent entries are exempt from the kernel's neighbour table limits (gc_thresh3).
    let server = lab.ns(common::Role::Server);
    let mut responder = start(&lab, &["--downstream", BRIDGE]);
    let peak_before = peak_rss(&responder);
    let batch: String = (0..HOSTS)
        .map(|i| {
            format!(
                "neigh add 2001:db8:1:2:d0c::1:{:x} lladdr 02:00:00:aa:{:02x}:{:02x} \
                 dev {BRIDGE} nud permanent\n",
                i,
                i >> 8,
                i & 0xff
            )
        })
        .collect();
    let path = std::env::temp_dir().join(format!("ndpr-neigh-{}", std::process::id()));
    std::fs::write(&path, batch).expect("write the ip batch file");
    // Stopped while the entries are added, the daemon misses events (its rtnetlink socket
    // overflows) and must read everything again when it resumes.
    responder.signal("STOP");
    let added = lab.run_in(
        &server,
        &["ip", "-batch", path.to_str().expect("utf-8 path")],
    );
    responder.signal("CONT");
    let _ = std::fs::remove_file(&path);
    assert!(added.status.success(), "{added:?}");
    let last = format!("2001:db8:1:2:d0c::1:{:x}", HOSTS - 1);
    assert!(
        lab.time_to_answer(&last, ROUTER_IF, Some(SERVER_MAC), ANSWER_LIMIT)
            .is_some(),
        "{last} never answered"
    );
    assert_eq!(
        lab.ndisc6(&format!("2001:db8:1:2:d0c::1:{:x}", 4321))
            .as_deref(),
        Some(SERVER_MAC)
    );
    let missing = format!("2001:db8:1:2:d0c::2:{:x}", 4321);
    assert_eq!(lab.ndisc6_on(&missing, ROUTER_IF, 1, 300), None);
    eprintln!(
        "peak resident memory: {} before the hosts, {} with {HOSTS} known hosts",
        peak_before,
        peak_rss(&responder)
    );
    let c = responder.counters();
    assert!(c.get("unknown_host") >= 1, "{}", c.line);
    // The uplink stayed armed while the daemon read everything again.
    let log = responder.log();
    assert!(log.iter().any(|l| l.contains("events lost")), "{log:#?}");
    assert!(!log.iter().any(|l| l.contains("disarmed")), "{log:#?}");
}

/// The daemon in UCI mode (`list downstream`, hosts left at its default) against a fake
/// ubusd, so `status` and `explain` can be read.
#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn known_hosts_only_and_status_says_where_ranges_come_from() {
    let lab = Lab::new(RouterMode::LinkLocal);
    lab.add_bridge(BRIDGE, DOCKER_GW_CIDR);
    let host = lab.add_host("c1", BRIDGE, HOST_CIDR, DOCKER_GW);
    let (mut responder, mut bus, _dir) = start_uci(
        &lab,
        &format!("config uplink 'wan'\n\toption device '{UPLINK}'\n\tlist downstream '{BRIDGE}'\n"),
    );
    let mut ask = |method: &str, args: &[(&str, &str)]| ask(&mut bus, method, args);

    // The container has not said a word: the server has no neighbour entry for it.
    let explain = ask("explain", &[("address", HOST_ADDR)]);
    for needle in [
        "\"answers\": false",
        "no neighbour entry",
        "\"origin\": \"route\"",
        "\"route_device\": \"docker0\"",
        "\"hosts\": \"known\"",
    ] {
        assert!(
            explain.contains(needle),
            "explain lacks {needle}:\n{explain}"
        );
    }
    assert_eq!(lab.ndisc6_on(HOST_ADDR, ROUTER_IF, 1, 500), None);

    // Once it talks to the server, it is known, and answered.
    assert!(
        lab.ping_from(&host, DOCKER_GW),
        "container cannot reach its gateway"
    );
    let known_after = lab.time_to_answer(HOST_ADDR, ROUTER_IF, Some(SERVER_MAC), ANSWER_LIMIT);
    eprintln!("answered {known_after:?} after the container's ping");
    assert!(known_after.is_some(), "a known host is not answered");
    assert!(lab.ping_with_retries(HOST_ADDR), "container unreachable");
    let explain = ask("explain", &[("address", HOST_ADDR)]);
    assert!(explain.contains("\"answers\": true"), "{explain}");
    assert!(
        explain.contains(&format!("\"rule\": \"{DOCKER_NET}\"")),
        "{explain}"
    );

    // An address nobody has is never answered, however often it is asked for.
    let before = responder.counters().get("unknown_host");
    for _ in 0..3 {
        assert_eq!(lab.ndisc6_on(ABSENT_ADDR, ROUTER_IF, 1, 300), None);
    }
    assert!(!lab.ping_once(ABSENT_ADDR));
    assert!(responder.counters().get("unknown_host") >= before + 3);
    let explain = ask("explain", &[("address", ABSENT_ADDR)]);
    assert!(explain.contains("no neighbour entry"), "{explain}");
    let explain = ask("explain", &[("address", OUT_OF_RANGE)]);
    assert!(explain.contains("route points at the uplink"), "{explain}");

    let status = ask("status", &[]);
    eprintln!("{status}");
    for needle in [
        &format!("\"range\": \"{DOCKER_NET}\""),
        "\"origin\": \"route\"",
        "\"device\": \"docker0\"",
        "\"hosts_routed\": \"known\"",
        "\"hosts_static\": \"any\"",
        "\"known_hosts\": 1",
        "\"limit\": 16384",
        "\"refused\": 0",
    ] {
        assert!(status.contains(needle), "status lacks {needle}:\n{status}");
    }
}
