//! The daemon against a fake ubusd: registration (checked against the frame a real ubusd
//! accepted, fixture 01), `status`, `reload` with a good and a broken file, SIGHUP,
//! `explain`, arguments it does not know, what needs no answer, re-registration after
//! ubusd restarts, and ubusd refusing the object for a while (backoff, no spin). Needs no
//! root: the configured device does not exist, so no packet socket is opened.
//!
//! The fake ubusd (tests/common/fake_ubusd.rs) builds its frames by hand from the wire rules,
//! independently of the crate's own codec; only the daemon's replies are decoded with it.

mod common;

use common::fake_ubusd::{
    accept, blobmsg_int32, blobmsg_string, call, call_raw, handshake, register, register_within,
    send_unanswered, AddObject, ACL_REFUSAL,
};
use common::netns_pair::NetnsPair;
use common::process::{cpu_time, line_channel};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// A temp directory removed on drop, and the daemon killed on drop, even when a test fails
/// (its log is shown then).
struct Fixture {
    dir: PathBuf,
    daemon: Option<Child>,
    lines: Receiver<String>,
    log: Vec<String>,
}

impl Fixture {
    fn new(dir: PathBuf, mut daemon: Child) -> Fixture {
        let lines = line_channel(daemon.stderr.take().expect("piped stderr"));
        Fixture {
            dir,
            daemon: Some(daemon),
            lines,
            log: Vec::new(),
        }
    }

    fn pid(&self) -> u32 {
        self.daemon.as_ref().unwrap().id()
    }

    /// Every line the daemon logged so far.
    fn log(&mut self) -> &[String] {
        while let Ok(line) = self.lines.try_recv() {
            self.log.push(line);
        }
        &self.log
    }

    /// Waits (bounded) for a line containing `needle` after the first `from` lines.
    fn wait_line(&mut self, from: usize, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(line) = self.log()[from..].iter().find(|l| l.contains(needle)) {
                return line.clone();
            }
            assert!(Instant::now() < deadline, "no line with {needle:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let _ = d.kill();
            let _ = d.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- ndpresponder log ---\n{}", self.log().join("\n"));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn write_config(dir: &Path, device: &str, prefixes: &[&str]) {
    let mut text = format!("config ndpresponder 'main'\n\toption enabled '1'\n\nconfig uplink 'wan'\n\toption device '{device}'\n");
    for p in prefixes {
        text.push_str(&format!("\tlist prefix '{p}'\n"));
    }
    std::fs::write(dir.join("ndpresponder"), text).unwrap();
}

/// Starts the daemon in UCI mode on `dir` with the fake ubusd at `sock`, behind `wrapper`
/// (e.g. `ip netns exec NS`) if not empty.
fn spawn_daemon(wrapper: &[&str], dir: &Path, sock: &Path) -> Child {
    let bin = env!("CARGO_BIN_EXE_ndpresponder");
    let (program, wrapper_args) = match wrapper.split_first() {
        Some((p, rest)) => (*p, [rest, &[bin]].concat()),
        None => (bin, Vec::new()),
    };
    Command::new(program)
        .args(wrapper_args)
        .args(["-f", "-c"])
        .arg(dir)
        .arg("-s")
        .arg(sock)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The daemon on a fresh directory with ubusd's socket at `run/ubus.sock`, neither of
/// which exists yet.
fn start_without_ubusd(name: &str) -> (Fixture, PathBuf) {
    let dir = std::env::temp_dir().join(format!("ndpr-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("run/ubus.sock");
    let device = format!("ndpt{}", std::process::id() % 100_000);
    write_config(&dir, &device, &["2001:db8:1:2::1:0/112"]);
    let daemon = spawn_daemon(&[], &dir, &sock);
    (Fixture::new(dir, daemon), sock)
}

/// The daemon with the fake ubusd listening before it starts.
fn start(name: &str) -> (Fixture, UnixListener, PathBuf) {
    let dir = std::env::temp_dir().join(format!("ndpr-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("run")).unwrap();
    let sock = dir.join("run/ubus.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let device = format!("ndpt{}", std::process::id() % 100_000);
    write_config(&dir, &device, &["2001:db8:1:2::1:0/112"]);
    let daemon = spawn_daemon(&[], &dir, &sock);
    (Fixture::new(dir, daemon), listener, sock)
}

fn signal(fx: &Fixture, sig: &str) {
    let pid = fx.pid().to_string();
    assert!(Command::new("kill")
        .args([sig, &pid])
        .status()
        .unwrap()
        .success());
}

#[test]
fn status_reload_explain_and_broken_file() {
    let (fx, listener, _) = start("status");
    let mut s = register(&listener);

    let (st, json) = call(&mut s, 10, "status", &[]);
    assert_eq!(st, 0);
    let json = json.expect("status has data");
    for needle in [
        "\"version\": \"0.1.0\"",
        "\"state\": \"absent\"",
        "\"armed\": false",
        "\"2001:db8:1:2::1:0/112\"",
        "\"ns_received\": 0",
        "\"out_of_range\": 0",
        "\"config\": \"",
        // Not armed: no reception at all; the /112 is past the cap of 256 groups.
        "\"mode\": \"none\"",
        "\"groups_joined\": 0",
        "\"over_cap\": \"",
        "\"group_cap\": 256",
    ] {
        assert!(json.contains(needle), "status lacks {needle}:\n{json}");
    }
    assert!(!json.contains("config_error"));

    // A good edit is applied by `reload`.
    let device = format!("ndpt{}", std::process::id() % 100_000);
    write_config(
        &fx.dir,
        &device,
        &["2001:db8:1:2::2:0/112", "2001:db8:1:2::3:0/112"],
    );
    assert_eq!(call(&mut s, 11, "reload", &[]), (0, None));
    let json = call(&mut s, 12, "status", &[]).1.unwrap();
    assert!(json.contains("2001:db8:1:2::3:0/112") && !json.contains("2001:db8:1:2::1:0/112"));

    // A broken file is refused; the running rules stay and status names the error's place.
    std::fs::write(
        fx.dir.join("ndpresponder"),
        format!("config uplink 'wan'\n\toption device '{device}'\n\tlist prefix '10.0.0.0/8'\n"),
    )
    .unwrap();
    assert_eq!(call(&mut s, 13, "reload", &[]).0, 2);
    let json = call(&mut s, 14, "status", &[]).1.unwrap();
    assert!(
        json.contains("2001:db8:1:2::3:0/112"),
        "old rules lost:\n{json}"
    );
    assert!(
        json.contains("config_error") && json.contains("ndpresponder:3"),
        "{json}"
    );
    assert!(json.contains("10.0.0.0/8"), "{json}");

    // SIGHUP after fixing the file clears the error.
    write_config(&fx.dir, &device, &["2001:db8:1:2::4:0/112"]);
    signal(&fx, "-HUP");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let json = call(&mut s, 15, "status", &[]).1.unwrap();
        if json.contains("2001:db8:1:2::4:0/112") && !json.contains("config_error") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "SIGHUP reload not applied:\n{json}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // explain: covered but not armed (the device does not exist), out of range, errors.
    let (st, json) = call(&mut s, 16, "explain", &[("address", "2001:db8:1:2::4:9")]);
    assert_eq!(st, 0);
    let json = json.unwrap();
    assert!(
        json.contains("\"rule\": \"2001:db8:1:2::4:0/112\"") && json.contains("\"answers\": false"),
        "{json}"
    );
    assert!(json.contains("not armed"), "{json}");
    let json = call(&mut s, 17, "explain", &[("address", "2001:db8:9::1")])
        .1
        .unwrap();
    assert!(json.contains("out_of_range"), "{json}");
    assert_eq!(
        call(&mut s, 18, "explain", &[("address", "not-an-address")]).0,
        2
    );
    assert_eq!(call(&mut s, 19, "explain", &[]).0, 2);
    assert_eq!(
        call(
            &mut s,
            20,
            "explain",
            &[("address", "2001:db8::1"), ("interface", "nope")]
        )
        .0,
        4
    );
    assert_eq!(call(&mut s, 21, "bogus", &[]).0, 3);

    // Calls forwarded by uhttpd from LuCI carry the session id as an extra argument;
    // like every field a method does not name, it is ignored.
    let sid = ("ubus_rpc_session", "0123456789abcdef0123456789abcdef");
    assert_eq!(call(&mut s, 22, "status", &[sid]).0, 0);
    let (st, json) = call(&mut s, 23, "explain", &[sid, ("address", "2001:db8:9::1")]);
    assert_eq!(st, 0);
    assert!(json.unwrap().contains("out_of_range"));
    assert_eq!(call(&mut s, 24, "status", &[("verbose", "1")]).0, 0);
}

/// uhttpd's `/ubus` JSON-RPC endpoint adds `ubus_rpc_session` to every call; OpenWrt's
/// daemons ignore fields they do not know (blobmsg_parse), and so must we.
#[test]
fn session_and_unknown_fields_are_ignored() {
    let (_fx, listener, _) = start("session");
    let mut s = register(&listener);
    let session = blobmsg_string("ubus_rpc_session", "6f1b6e1c4a5d7e8f9a0b1c2d3e4f5a6b");
    let unknown = blobmsg_int32("verbose", 1);
    let address = blobmsg_string("address", "2001:db8:1:2::1:9");
    let plain = call(&mut s, 1, "status", &[]).1.unwrap();
    for (seq, extra) in [(2, &session), (3, &unknown)] {
        let (st, json) = call_raw(&mut s, seq, "status", extra);
        assert_eq!(st, 0, "status with {extra:02x?}");
        let json = json.expect("status has data");
        // The same reply as without the field (uptime may have ticked).
        let strip = |j: &str| {
            j.lines()
                .filter(|l| !l.contains("uptime"))
                .collect::<String>()
        };
        assert_eq!(strip(&json), strip(&plain));
    }
    let plain = call_raw(&mut s, 4, "explain", &address).1.unwrap();
    assert!(
        plain.contains("\"rule\": \"2001:db8:1:2::1:0/112\""),
        "{plain}"
    );
    for (seq, data) in [
        (5, [session.clone(), address.clone()].concat()),
        (6, [address.clone(), unknown.clone()].concat()),
        (
            7,
            [unknown.clone(), address.clone(), session.clone()].concat(),
        ),
    ] {
        assert_eq!(
            call_raw(&mut s, seq, "explain", &data),
            (0, Some(plain.clone()))
        );
    }
    // A known field of the wrong type is still refused, session or not.
    let wrong = [session.clone(), blobmsg_int32("address", 1)].concat();
    assert_eq!(call_raw(&mut s, 8, "explain", &wrong), (2, None));
    // And a call with only unknown fields still lacks the address.
    assert_eq!(call_raw(&mut s, 9, "explain", &session), (2, None));
}

#[test]
fn reregisters_after_ubusd_restart() {
    let (mut fx, listener, sock) = start("restart");
    let mut s = register(&listener);
    assert_eq!(call(&mut s, 1, "status", &[]).0, 0);

    // ubusd dies: its socket goes away; a new one appears a moment later.
    drop(s);
    drop(listener);
    std::fs::remove_file(&sock).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let restarted = Instant::now();
    let listener = UnixListener::bind(&sock).unwrap();
    let mut s = register(&listener);
    assert!(
        restarted.elapsed() < Duration::from_secs(2),
        "re-registration took {:?}",
        restarted.elapsed()
    );
    assert_eq!(call(&mut s, 2, "status", &[]).0, 0);

    // SIGTERM: a clean exit.
    signal(&fx, "-TERM");
    let mut child = fx.daemon.take().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "daemon ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
}

/// ubusd sends some messages that want no answer: a NOTIFY when the object's subscribers
/// change and INVOKEs with NO_REPLY. Answering would confuse ubusd; the next frame the
/// daemon sends must be the reply to the next call.
#[test]
fn notifications_get_no_answer() {
    let (_fx, listener, _) = start("notify");
    let mut s = register(&listener);
    send_unanswered(&mut s, "status");
    send_unanswered(&mut s, "reload");
    let (st, json) = call(&mut s, 7, "status", &[]);
    assert_eq!(st, 0);
    assert!(
        json.unwrap().contains("\"reloads\": 1"),
        "NO_REPLY reload not run"
    );
}

/// The delay in progress after `tries` failed tries: 1 s doubling, at most 60 s.
fn backoff_step(tries: u32) -> Duration {
    Duration::from_secs((1u64 << tries.saturating_sub(1).min(6)).min(60))
}

/// ubusd refusing the object (its ACLs are read at start and on SIGHUP only, so right after
/// the package is installed it says no) for 10 s: a handful of tries and log lines, no CPU
/// to speak of, and registration within one backoff step once ubusd accepts.
#[test]
fn refused_object_is_retried_with_backoff_not_spun_on() {
    const REFUSING: Duration = Duration::from_secs(10);
    let (mut fx, listener, _) = start("refused");
    let began = Instant::now();
    let cpu_before = cpu_time(fx.pid());
    let mut tries = 0;
    // ubusd leaves a refused connection open; the daemon is the one to close it.
    let mut refused = Vec::new();
    while let Some(conn) = accept(&listener, REFUSING.saturating_sub(began.elapsed())) {
        tries += 1;
        refused.push(
            handshake(conn, AddObject::Refuse(ACL_REFUSAL))
                .err()
                .unwrap(),
        );
    }
    let cpu = cpu_time(fx.pid()) - cpu_before;
    let log_during = fx.log().to_vec();
    let ubus_lines: Vec<_> = log_during.iter().filter(|l| l.contains("ubus")).collect();
    let accepting = Instant::now();
    let step = backoff_step(tries);
    let mut s = register_within(&listener, step + Duration::from_secs(2));
    let took = accepting.elapsed();
    eprintln!(
        "refused for {REFUSING:?}: {tries} tries, {} log lines ({} about ubus), CPU {cpu:?}; \
         registered {took:?} after ubusd accepted (backoff step {step:?})",
        log_during.len(),
        ubus_lines.len()
    );
    // Tries at 0, 1, 3 and 7 s.
    assert!((3..=5).contains(&tries), "{tries} tries in {REFUSING:?}");
    assert_eq!(ubus_lines.len(), 1, "{ubus_lines:#?}");
    assert!(
        ubus_lines[0].contains("status 2") && ubus_lines[0].contains("retrying in 1 s"),
        "{}",
        ubus_lines[0]
    );
    assert!(log_during.len() <= 6, "{log_during:#?}");
    assert!(
        cpu < Duration::from_millis(100),
        "CPU {cpu:?} in {REFUSING:?}"
    );
    assert!(took <= step + Duration::from_millis(500), "{took:?}");

    // Back: one line, and status and the SIGUSR1 dump tell what happened.
    let from = log_during.len();
    let line = fx.wait_line(from, "ubus: registered");
    assert!(line.contains(&format!("{:#010x}", s.object_id)), "{line}");
    assert!(
        line.contains(&format!("after {tries} failed tries")),
        "{line}"
    );
    let json = call(&mut s, 1, "status", &[]).1.unwrap();
    for needle in [
        "\"state\": \"registered\"".to_string(),
        format!("\"object_id\": \"{:#010x}\"", s.object_id),
        format!("\"retries\": {tries}"),
        "\"seconds_in_state\": ".to_string(),
        "\"last_error\": \"ubusd refused the object (status 2".to_string(),
    ] {
        assert!(json.contains(&needle), "status lacks {needle}:\n{json}");
    }
    let from = fx.log().len();
    signal(&fx, "-USR1");
    let dump = fx.wait_line(from, "ubus state=");
    assert!(
        dump.contains("ubus state=registered ") && dump.contains(&format!(" retries={tries} ")),
        "{dump}"
    );
    drop(refused);
}

/// While backing off, ubusd restarting (a new socket in the directory, as after
/// `/etc/init.d/ubus restart`) starts the schedule over: the daemon registers at once,
/// not when the pending delay runs out.
#[test]
fn ubusd_restart_resets_the_backoff() {
    let (mut fx, listener, sock) = start("reset");
    for _ in 0..3 {
        let conn = accept(&listener, Duration::from_secs(10)).expect("a try");
        handshake(conn, AddObject::Refuse(ACL_REFUSAL))
            .err()
            .unwrap();
    }
    // The refusal is logged once; after the third the next try is 4 s away.
    fx.wait_line(0, "ubus: ubusd refused");
    std::thread::sleep(Duration::from_millis(100));
    drop(listener);
    std::fs::remove_file(&sock).unwrap();
    let restarted = Instant::now();
    let listener = UnixListener::bind(&sock).unwrap();
    let mut s = register(&listener);
    let took = restarted.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "re-registration took {took:?}"
    );
    assert_eq!(call(&mut s, 1, "status", &[]).0, 0);
}

/// No ubusd at all, not even its directory (a host without it, or early boot): one line,
/// no timer (the directory's parent is watched), and registration as soon as ubusd
/// creates its directory and socket.
#[test]
fn missing_ubusd_sets_no_timer_and_is_noticed_when_it_appears() {
    let (mut fx, sock) = start_without_ubusd("absent");
    std::thread::sleep(Duration::from_millis(1500));
    let from = fx.log().len();
    signal(&fx, "-USR1");
    let dump = fx.wait_line(from, "ubus state=");
    assert!(
        dump.contains("ubus state=waiting ") && !dump.contains("next_try_in_ms"),
        "{dump}"
    );
    let ubus_lines: Vec<_> = fx.log().iter().filter(|l| l.contains("ubus:")).collect();
    assert_eq!(ubus_lines.len(), 1, "{ubus_lines:#?}");
    assert!(
        ubus_lines[0].ends_with("does not exist; registering when ubusd creates it"),
        "{}",
        ubus_lines[0]
    );
    // ubusd starts: directory first, then the socket.
    let appeared = Instant::now();
    std::fs::create_dir(sock.parent().unwrap()).unwrap();
    let listener = UnixListener::bind(&sock).unwrap();
    let mut s = register(&listener);
    let took = appeared.elapsed();
    assert!(took < Duration::from_secs(1), "registration took {took:?}");
    assert_eq!(call(&mut s, 1, "status", &[]).0, 0);
}

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn status_of_an_armed_uplink_counts_real_traffic() {
    let pair = NetnsPair::new("st");
    pair.up_without_dad();
    pair.run(&[format!(
        "ip -n {} addr add 2001:db8:1:2::100/64 dev wan0 nodad",
        pair.a
    )]);
    let dir = std::env::temp_dir().join(format!("ndpr-armed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("run")).unwrap();
    let sock = dir.join("run/ubus.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    std::fs::write(
        dir.join("ndpresponder"),
        "config uplink 'wan'\n\toption device 'wan0'\n\toption interface 'wan'\n\tlist prefix '2001:db8:1:2::1:0/112'\n\tlist exclude '2001:db8:1:2::1:1'\n",
    )
    .unwrap();
    let daemon = spawn_daemon(&["ip", "netns", "exec", &pair.a], &dir, &sock);
    let _fx = Fixture::new(dir, daemon);
    let mut s = register(&listener);
    // Wait (bounded) until the uplink is armed.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !call(&mut s, 1, "status", &[])
        .1
        .unwrap()
        .contains("\"armed\": true")
    {
        assert!(Instant::now() < deadline, "uplink never armed");
        std::thread::sleep(Duration::from_millis(50));
    }
    pair.wait_link_local();
    let ndisc = |target: &str| pair.ndisc_answered(target, 1, 500);
    assert!(ndisc("2001:db8:1:2::1:5"), "in-range address not answered");
    assert!(!ndisc("2001:db8:1:2::2:5"), "out-of-range address answered");
    assert!(!ndisc("2001:db8:1:2::1:1"), "excluded address answered");
    // The host's own address: the kernel answers; we count it and stay silent (na_sent 1).
    assert!(
        ndisc("2001:db8:1:2::100"),
        "the kernel did not answer for its own address"
    );
    let json = call(&mut s, 2, "status", &[]).1.unwrap();
    println!("{json}");
    for needle in [
        "\"device\": \"wan0\"",
        "\"interface\": \"wan\"",
        "\"state\": \"armed\"",
        "\"link_up\": true",
        "\"ns_received\": 4",
        "\"na_sent\": 1",
        "\"out_of_range\": 1",
        "\"excluded\": 1",
        // The /112 is past the cap: all-multicast reception alone.
        "\"mode\": \"allmulti\"",
        "\"groups_joined\": 0",
    ] {
        assert!(json.contains(needle), "status lacks {needle}:\n{json}");
    }
    assert!(json.contains("\"own_address\": 1"), "{json}");
    let explain = call(&mut s, 3, "explain", &[("address", "2001:db8:1:2::1:5")])
        .1
        .unwrap();
    println!("{explain}");
    assert!(
        explain.contains("\"answers\": true")
            && explain.contains("\"na_source_for_link_local_ns\": \"2001:db8:1:2::1:5\""),
        "{explain}"
    );
}
