//! `prefix_from` through netifd on the fake ubusd: the daemon dumps `network.interface`,
//! answers for the `lan` assignment, moves with one renumbering (four notifications, only
//! for wan, as real netifd sends them), drops the ranges when netifd goes and takes them
//! back when it returns (`ubus.object.add`). The dump is the one recorded from a real
//! ubusd (tests/fixtures/ubus/32); the renumbered one is the same bytes with the /56
//! moved. The root lab test at the end sends NS from a namespace and sees the answers
//! move. The fake's frames are built by hand (tests/common/fake_ubusd.rs).

mod common;

use common::fake_ubusd::{
    accept, answer_dump, blobmsg_string, call, frame_from_bytes, handshake_with, netifd_back,
    netifd_gone, notify_netifd, read_dump_call, serve_dump, AddObject, Netifd, Session, ATTR_DATA,
    DATA,
};
use common::netns_pair::NetnsPair;
use common::process::{cpu_time, line_channel, require, COMMAND_TIMEOUT};
use common::ConfigDir;
use std::os::unix::net::UnixListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// The DATA of the recorded `dump` reply: wan with 2001:db8:1:100::/56 delegated, lan
/// with its /64 assignment 2001:db8:1:100::/64.
pub fn recorded_dump() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ubus/32-netifd-dump.txt"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let data = text
        .lines()
        .filter_map(|l| l.strip_prefix("HEX "))
        .map(|h| {
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect::<Vec<u8>>()
        })
        .map(|b| frame_from_bytes(&b))
        .find(|f| f.kind == DATA && f.attr(ATTR_DATA).is_some_and(|d| d.len() > 1000))
        .expect("the recorded dump reply");
    data.attr(ATTR_DATA).unwrap().to_vec()
}

/// `dump` with every "1:100::" (the /56, and the /64 and address inside it) as "1:200::":
/// the same length, so the blob lengths stay right.
pub fn renumbered(dump: &[u8]) -> Vec<u8> {
    let (from, to) = (b"1:100::", b"1:200::");
    let mut out = dump.to_vec();
    let mut i = 0;
    let mut n = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            n += 1;
        }
        i += 1;
    }
    assert!(n >= 4, "the recorded dump has the prefix in {n} places");
    out
}

struct Daemon {
    child: Child,
    lines: Receiver<String>,
    log: Vec<String>,
    _dir: ConfigDir,
}

impl Daemon {
    /// Runs `command` (the daemon's binary, possibly behind `ip netns exec`) in the
    /// foreground on `dir`'s configuration and bus socket, its log read line by line.
    fn spawn(mut command: Command, dir: ConfigDir) -> Daemon {
        let mut child = command
            .args(["-f", "-c", dir.arg(), "-s"])
            .arg(dir.ubus_socket())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = line_channel(child.stderr.take().unwrap());
        Daemon {
            child,
            lines,
            log: Vec::new(),
            _dir: dir,
        }
    }

    fn log(&mut self) -> &[String] {
        while let Ok(l) = self.lines.try_recv() {
            self.log.push(l);
        }
        &self.log
    }

    /// How many log lines so far contain `needle`.
    fn count(&mut self, needle: &str) -> usize {
        self.log().iter().filter(|l| l.contains(needle)).count()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log().join("\n");
            eprintln!("--- ndpresponder log ---\n{log}");
        }
    }
}

fn start(name: &str) -> (Daemon, UnixListener) {
    let dir = ConfigDir::new(name);
    let device = format!("ndpn{}", std::process::id() % 100_000);
    dir.write(&format!(
        "config uplink 'wan'\n\toption device '{device}'\n\tlist prefix_from 'lan'\n\
         \tlist exclude '2001:db8:1:200::1'\n"
    ));
    let listener = UnixListener::bind(dir.ubus_socket()).unwrap();
    let daemon = Daemon::spawn(Command::new(env!("CARGO_BIN_EXE_ndpresponder")), dir);
    (daemon, listener)
}

fn connect(listener: &UnixListener, netifd: Netifd<'_>) -> Session {
    let s = accept(listener, Duration::from_secs(5)).expect("the daemon connects");
    handshake_with(s, AddObject::Accept, netifd).expect("registration")
}

fn status(s: &mut Session, seq: u16) -> String {
    let (st, json) = call(s, seq, "status", &[]);
    assert_eq!(st, 0);
    json.unwrap()
}

fn explain(s: &mut Session, seq: u16, address: &str) -> String {
    let (st, json) = call(s, seq, "explain", &[("address", address)]);
    assert_eq!(st, 0);
    json.unwrap()
}

/// The four notifications of a renumbering of wan (fixture 33), then the dumps they cause.
fn renumber(s: &mut Session, dump: &[u8]) {
    let wan = blobmsg_string("interface", "wan");
    for kind in [
        "interface.down",
        "interface.down",
        "interface.update",
        "interface.update",
    ] {
        notify_netifd(s, kind, &wan);
    }
    // The first notification makes a call, the other three one more after it.
    serve_dump(s, dump);
    serve_dump(s, dump);
}

#[test]
fn prefix_from_follows_a_renumbering_and_netifd_restarts() {
    let (mut d, listener) = start("netifd");
    let old = recorded_dump();
    let new = renumbered(&old);
    let mut s = connect(&listener, Netifd::Answers(&old));

    let json = status(&mut s, 10);
    assert!(
        json.contains("\"prefix_from\": [\n\t\t\t\t\"lan\""),
        "{json}"
    );
    assert!(
        json.contains(
            "\"range\": \"2001:db8:1:100::/64\",\n\t\t\t\t\t\"origin\": \"netifd\",\n\t\t\t\t\t\"interface\": \"lan\""
        ),
        "{json}"
    );
    assert!(json.contains("\"state\": \"subscribed\""), "{json}");
    // Its hosts are on lan's l3_device, and only known hosts are answered by default.
    assert!(
        json.contains("\"host_devices\": [\n\t\t\t\t\t\t\"lan0\"\n\t\t\t\t\t],\n\t\t\t\t\t\"hosts\": \"known\""),
        "{json}"
    );
    assert!(json.contains("\"hosts_netifd\": \"known\""), "{json}");
    let why = explain(&mut s, 11, "2001:db8:1:100::5");
    assert!(why.contains("\"rule\": \"2001:db8:1:100::/64\""), "{why}");
    assert!(
        why.contains("unknown_host: hosts 'known', and no neighbour entry on the host devices"),
        "{why}"
    );
    assert!(
        why.contains("\"origin\": \"netifd\",\n\t\t\t\"interface\": \"lan\""),
        "{why}"
    );
    // The delegation on wan is not named: only lan's /64 counts.
    let why = explain(&mut s, 12, "2001:db8:1:1ff::5");
    assert!(why.contains("out_of_range"), "{why}");

    renumber(&mut s, &new);
    let json = status(&mut s, 13);
    assert!(json.contains("2001:db8:1:200::/64"), "{json}");
    assert!(!json.contains("2001:db8:1:100::/64"), "{json}");
    assert!(json.contains("\"dumps\": 3"), "{json}");
    let why = explain(&mut s, 14, "2001:db8:1:200::5");
    assert!(
        why.contains("\"origin\": \"netifd\",\n\t\t\t\"interface\": \"lan\""),
        "{why}"
    );
    // The exclude applies to netifd's ranges too.
    let why = explain(&mut s, 15, "2001:db8:1:200::1");
    assert!(why.contains("excluded"), "{why}");
    assert!(explain(&mut s, 16, "2001:db8:1:100::5").contains("out_of_range"));

    // netifd goes: no netifd ranges, logged once.
    netifd_gone(&mut s);
    let json = status(&mut s, 17);
    assert!(json.contains("\"state\": \"absent\""), "{json}");
    assert!(!json.contains("2001:db8:1:200::/64"), "{json}");
    // and comes back: subscribed again, the ranges back.
    netifd_back(&mut s, &old);
    let json = status(&mut s, 18);
    assert!(json.contains("2001:db8:1:100::/64"), "{json}");
    assert!(json.contains("\"state\": \"subscribed\""), "{json}");
    let moves = d.count("netifd interface lan: prefixes");
    assert_eq!(moves, 4, "100, 200, none, 100: {:#?}", d.log());
}

/// ubusd's ACL refusing the subscription: the dump still gives the ranges, and status and
/// the log say that they will not follow netifd's changes.
#[test]
fn a_refused_subscription_is_reported_and_the_dump_still_used() {
    let (mut d, listener) = start("netifd-refused");
    let mut s = connect(&listener, Netifd::RefusesSubscribe(&recorded_dump()));
    let json = status(&mut s, 10);
    assert!(json.contains("2001:db8:1:100::/64"), "{json}");
    assert!(json.contains("\"state\": \"subscribe refused\""), "{json}");
    let line = "subscribe refused with ubus status 6; prefix_from ranges are read once";
    // The log line was written before the status answer; its reader thread may lag.
    let deadline = Instant::now() + Duration::from_secs(2);
    while d.count(line) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(d.count(line), 1, "{:#?}", d.log());
}

#[test]
fn netifd_absent_at_start_is_logged_once_and_found_when_it_appears() {
    let (mut d, listener) = start("netifd-absent");
    let mut s = connect(&listener, Netifd::Absent);
    let json = status(&mut s, 10);
    assert!(json.contains("\"state\": \"absent\""), "{json}");
    assert!(
        !json.contains("\"origin\""),
        "no ranges without netifd:\n{json}"
    );
    netifd_back(&mut s, &recorded_dump());
    let json = status(&mut s, 11);
    assert!(json.contains("2001:db8:1:100::/64"), "{json}");
    let absent = d.count("network.interface is not on ubus");
    assert_eq!(absent, 1, "{:#?}", d.log());
    // Waiting for netifd costs nothing: no timer, no retry loop.
    let before = cpu_time(d.child.id());
    std::thread::sleep(Duration::from_millis(500));
    let spent = cpu_time(d.child.id()) - before;
    assert!(
        spent < Duration::from_millis(50),
        "{spent:?} of CPU while idle"
    );
}

/// netifd hung: the dump is given up on after 5 s (ranges dropped, logged once) and
/// called again, then after 10 s; an answer brings the ranges back.
#[test]
fn an_unanswered_dump_is_retried_with_backoff() {
    let (mut d, listener) = start("netifd-silent");
    let mut s = connect(&listener, Netifd::Silent);
    let t0 = Instant::now();
    s.stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let again = read_dump_call(&mut s);
    let first = t0.elapsed();
    assert!(
        first >= Duration::from_millis(4900) && first < Duration::from_millis(6000),
        "{first:?}"
    );
    let json = status(&mut s, 10);
    assert!(json.contains("\"state\": \"not answering\""), "{json}");
    let third = read_dump_call(&mut s);
    let second = t0.elapsed() - first;
    assert!(
        second >= Duration::from_millis(9900) && second < Duration::from_millis(11000),
        "{second:?}"
    );
    // The late answer to the abandoned call is ignored; the current one counts.
    answer_dump(&mut s, again, &recorded_dump());
    answer_dump(&mut s, third, &recorded_dump());
    let json = status(&mut s, 11);
    assert!(json.contains("2001:db8:1:100::/64"), "{json}");
    assert!(json.contains("\"dumps\": 1"), "{json}");
    let warned = d.count("did not answer dump");
    assert_eq!(warned, 1, "{:#?}", d.log());
}

/// wan0's MAC in the daemon's namespace.
fn wan0_mac(pair: &NetnsPair) -> String {
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &pair.a,
            "cat",
            "/sys/class/net/wan0/address",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Whether the upstream side's neighbour table has `addr` on up0 with `mac`.
fn router_knows(pair: &NetnsPair, addr: &str, mac: &str) -> bool {
    let out = Command::new("ip")
        .args(["-n", &pair.b, "-6", "neigh", "show", addr, "dev", "up0"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).contains(mac)
}

/// How long until the upstream side knows `addr` with `mac` (polled every 10 ms, at most
/// 2 s).
fn time_to_learn(pair: &NetnsPair, addr: &str, mac: &str) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        if router_knows(pair, addr, mac) {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// The daemon armed on wan0 in one namespace with `prefix_from 'lan'`; the upstream
/// router's side (up0) in the other solicits with ndisc6. lan0 (lan's l3_device in the
/// dump) holds neighbour entries for ::5 in the old and the new /64, and none for ::6:
/// under the default `known` policy only the hosts are answered. After one renumbering
/// the new /64's host is answered and the old one's no longer. With `announce`, the
/// upstream side (the default router) learned the old /64's host at start and learns the
/// new one's on the renumbering, before anyone solicits it.
#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn lab_answers_move_with_one_renumbering() {
    require("ndisc6", "ndisc6");
    let pair = NetnsPair::new("nf");
    pair.up_without_dad();
    let a = &pair.a;
    pair.run(&[
        format!("ip -n {a} link add lan0 type veth peer name lan0-peer"),
        format!("ip -n {a} link set lan0 up"),
        format!("ip -n {a} link set lan0-peer up"),
        format!(
            "ip -n {a} neigh add 2001:db8:1:100::5 lladdr 02:00:00:00:01:05 dev lan0 nud permanent"
        ),
        format!(
            "ip -n {a} neigh add 2001:db8:1:200::5 lladdr 02:00:00:00:02:05 dev lan0 nud permanent"
        ),
        // The upstream side is the default router, to which announcements send an NS.
        format!("ip -n {} addr add fe80::1/64 dev up0", pair.b),
        format!("ip -n {a} -6 route add default via fe80::1 dev wan0"),
    ]);
    let dir = ConfigDir::new("netifd-lab");
    dir.write(
        "config uplink 'wan'\n\toption device 'wan0'\n\tlist prefix_from 'lan'\n\
         \toption announce '1'\n",
    );
    let listener = UnixListener::bind(dir.ubus_socket()).unwrap();
    let mut in_a = Command::new("ip");
    in_a.args(["netns", "exec", &pair.a, env!("CARGO_BIN_EXE_ndpresponder")]);
    let mut d = Daemon::spawn(in_a, dir);
    let old = recorded_dump();
    let new = renumbered(&old);
    let mut s = connect(&listener, Netifd::Answers(&old));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !status(&mut s, 1).contains("\"armed\": true") {
        assert!(
            Instant::now() < deadline,
            "uplink never armed: {:#?}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    pair.wait_link_local();
    let ndisc = |target: &str| pair.ndisc_answered(target, 1, 500);
    assert!(ndisc("2001:db8:1:100::5"), "lan's host not answered");
    assert!(
        !ndisc("2001:db8:1:100::6"),
        "an address without a host answered under hosts 'known'"
    );
    assert!(
        !ndisc("2001:db8:1:200::5"),
        "a /64 netifd does not report answered"
    );

    // Announced at start: the router learned the host of the old /64 with our MAC.
    let mac = wan0_mac(&pair);
    assert!(
        time_to_learn(&pair, "2001:db8:1:100::5", &mac).is_some(),
        "the host of lan's /64 was not announced at start: {:#?}",
        d.log()
    );
    assert!(!router_knows(&pair, "2001:db8:1:200::5", &mac));

    let t0 = Instant::now();
    renumber(&mut s, &new);
    // The status call is handled after the dump replies, in the order they were sent.
    let json = status(&mut s, 2);
    let moved = t0.elapsed();
    assert!(json.contains("2001:db8:1:200::/64"), "{json}");
    println!("notification to new ranges in force: {moved:?}");
    assert!(moved < Duration::from_millis(100), "{moved:?}");
    // The ranges changed: the host now in range is announced, before anyone solicits it.
    let learned = time_to_learn(&pair, "2001:db8:1:200::5", &mac);
    println!("renumbering to the router knowing the new /64's host: {learned:?}");
    assert!(
        learned.is_some(),
        "the host of the new /64 was not announced: {:#?}",
        d.log()
    );
    assert!(ndisc("2001:db8:1:200::5"), "the new /64 not answered");
    assert!(!ndisc("2001:db8:1:100::5"), "the old /64 still answered");
    let json = status(&mut s, 3);
    assert!(json.contains("\"na_sent\": 2"), "{json}");
    assert!(json.contains("\"unknown_host\": 1"), "{json}");
}

/// Children killed (and reaped) on drop, in reverse order of start.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in self.0.iter_mut().rev() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Through the real netifd: `NDPR_NETIFD` names a netifd binary built from openwrt/netifd,
/// `NDPR_UBUS_PREFIX` the prefix of ubusd and the ubus CLI built from openwrt/ubus, with
/// their libraries in its lib/ (default /tmp/ubusreal/prefix; scripts/test.sh passes the
/// staged userland's netifd and /usr). netifd
/// runs in the daemon's namespace with wan static on wan0 (its ip6prefix a /56) and lan
/// on lan0 (ip6assign 64); the upstream side solicits. Then wan's ip6prefix is changed
/// and `ubus call network reload` run, as `reload_config` does on a router.
#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn lab_real_netifd_renumbering_moves_the_answers() {
    let Some(netifd) = std::env::var_os("NDPR_NETIFD").map(std::path::PathBuf::from) else {
        println!("SKIPPED: no real netifd (set NDPR_NETIFD to a netifd built from openwrt/netifd)");
        return;
    };
    let prefix = std::env::var_os("NDPR_UBUS_PREFIX")
        .map_or_else(|| "/tmp/ubusreal/prefix".into(), std::path::PathBuf::from);
    let (ubusd, ubus) = (prefix.join("sbin/ubusd"), prefix.join("bin/ubus"));
    // The userland's own libraries (libubox, libubus, libuci; netifd's libnl-tiny and
    // libucode where installed beside them), for these three programs only.
    let libs = prefix.join("lib");
    if !netifd.is_file() || !ubusd.is_file() || !ubus.is_file() {
        println!(
            "SKIPPED: {} or {} or {} is missing",
            netifd.display(),
            ubusd.display(),
            ubus.display()
        );
        return;
    }
    require("ndisc6", "ndisc6");
    let pair = NetnsPair::new("rn");
    pair.run(&[
        format!(
            "ip -n {} link add lan0 type veth peer name lan0-peer",
            pair.a
        ),
        format!(
            "ip netns exec {} sysctl -qw net.ipv6.conf.all.accept_dad=0",
            pair.a
        ),
        format!(
            "ip netns exec {} sysctl -qw net.ipv6.conf.default.accept_dad=0",
            pair.a
        ),
        format!(
            "ip netns exec {} sysctl -qw net.ipv6.conf.up0.accept_dad=0",
            pair.b
        ),
        format!("ip -n {} link set up0 up", pair.b),
    ]);
    let dir = ConfigDir::new("real-netifd");
    let etc = dir.path.join("etc");
    std::fs::create_dir_all(dir.path.join("lib-netifd")).unwrap();
    std::fs::create_dir_all(&etc).unwrap();
    let network = |prefix56: &str| {
        format!(
            "config interface 'lan'\n\toption device 'lan0'\n\toption proto 'static'\n\
             \toption ip6assign '64'\n\n\
             config interface 'wan'\n\toption device 'wan0'\n\toption proto 'static'\n\
             \toption ip6addr '2001:db8:1:2::1/64'\n\toption ip6prefix '{prefix56}'\n"
        )
    };
    std::fs::write(etc.join("network"), network("2001:db8:1:100::/56")).unwrap();
    dir.write("config uplink 'wan'\n\toption device 'wan0'\n\tlist prefix_from 'lan'\n");
    let sock = dir.ubus_socket();
    let netifd_log = dir.path.join("netifd.log");
    let mut children = Children(Vec::new());
    children.0.push(
        Command::new(&ubusd)
            .env("LD_LIBRARY_PATH", &libs)
            .arg("-s")
            .arg(&sock)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Accepting, not merely existing: ubusd binds before it listens, and netifd exits
    // ("Failed to connect to ubus") if its one connect comes in between.
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::os::unix::net::UnixStream::connect(&sock).is_err() {
        assert!(
            Instant::now() < deadline,
            "ubusd did not accept on {sock:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let in_a = |program: &std::path::Path| {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &pair.a]).arg(program);
        c
    };
    children.0.push(
        in_a(&netifd)
            .env("LD_LIBRARY_PATH", &libs)
            .arg("-s")
            .arg(&sock)
            .arg("-c")
            .arg(&etc)
            .arg("-p")
            .arg(dir.path.join("lib-netifd"))
            .args(["-h", "/bin/true", "-S", "-l", "3", "-r"])
            .arg(dir.path.join("resolv.conf"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&netifd_log).unwrap())
            .spawn()
            .unwrap(),
    );
    let mut d = Daemon::spawn(
        in_a(std::path::Path::new(env!("CARGO_BIN_EXE_ndpresponder"))),
        dir,
    );
    let ubus_call = |object: &str, method: &str| -> String {
        let out = Command::new("timeout")
            .env("LD_LIBRARY_PATH", &libs)
            .arg(COMMAND_TIMEOUT)
            .arg(&ubus)
            .arg("-s")
            .arg(&sock)
            .args(["call", object, method])
            .output()
            .unwrap();
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            text += &format!("({}: {})", out.status, String::from_utf8_lossy(&out.stderr));
        }
        text
    };
    // What a failure shows: the daemon's status and log, what netifd itself reports, and
    // whether it still runs.
    let observed = |d: &mut Daemon, children: &mut Children| {
        format!(
            "--- ndpresponder status ---\n{}\n--- ndpresponder log ---\n{:#?}\n\
             --- network.interface dump ---\n{}\n--- netifd ({:?}) log ---\n{}",
            ubus_call("ndpresponder", "status"),
            d.log(),
            ubus_call("network.interface", "dump"),
            children.0[1]
                .try_wait()
                .map(|s| s.map_or("running".into(), |s| s.to_string())),
            std::fs::read_to_string(&netifd_log).unwrap_or_default()
        )
    };
    let wait_status = |d: &mut Daemon, children: &mut Children, needles: &[&str]| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let json = ubus_call("ndpresponder", "status");
            if needles.iter().all(|n| json.contains(n)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "status never had {needles:?}\n{}",
                observed(d, children)
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    wait_status(
        &mut d,
        &mut children,
        &[
            "\"armed\": true",
            "2001:db8:1:100::/64",
            "\"interface\": \"lan\"",
            "\"host_devices\": [\n\t\t\t\t\t\t\"lan0\"",
        ],
    );
    // One host on lan0 in the old /64 and one in the new (netifd has lan0 up by now):
    // netifd's ranges answer only known hosts by default.
    let a = &pair.a;
    pair.run(&[
        format!(
            "ip -n {a} neigh add 2001:db8:1:100::5 lladdr 02:00:00:00:01:05 dev lan0 nud permanent"
        ),
        format!(
            "ip -n {a} neigh add 2001:db8:1:200::5 lladdr 02:00:00:00:02:05 dev lan0 nud permanent"
        ),
    ]);
    pair.wait_link_local();
    let ndisc = |target: &str| pair.ndisc_answered(target, 3, 300);
    assert!(
        ndisc("2001:db8:1:100::5"),
        "lan's host not answered\n{}",
        observed(&mut d, &mut children)
    );
    assert!(
        !ndisc("2001:db8:1:100::6"),
        "an address of lan's /64 without a host answered\n{}",
        observed(&mut d, &mut children)
    );
    assert!(
        !ndisc("2001:db8:1:200::5"),
        "a /64 netifd does not report answered\n{}",
        observed(&mut d, &mut children)
    );

    std::fs::write(etc.join("network"), network("2001:db8:1:200::/56")).unwrap();
    let t0 = Instant::now();
    let reloaded = ubus_call("network", "reload");
    assert!(
        reloaded.is_empty(),
        "network reload: {reloaded}\n{}",
        observed(&mut d, &mut children)
    );
    wait_status(
        &mut d,
        &mut children,
        &["\"armed\": true", "2001:db8:1:200::/64"],
    );
    let moved = t0.elapsed();
    println!("real netifd: network reload to the new range in status: {moved:?}");
    assert!(
        ndisc("2001:db8:1:200::5"),
        "the new /64 not answered\n{}",
        observed(&mut d, &mut children)
    );
    assert!(
        !ndisc("2001:db8:1:100::5"),
        "the old /64 still answered\n{}",
        observed(&mut d, &mut children)
    );
    let moves: Vec<String> = d
        .log()
        .iter()
        .filter(|l| l.contains("netifd interface lan: prefixes"))
        .cloned()
        .collect();
    println!("{moves:#?}");
    assert!(
        moves
            .last()
            .unwrap()
            .ends_with("2001:db8:1:200::/64 hosts on lan0"),
        "{moves:#?}"
    );
}
