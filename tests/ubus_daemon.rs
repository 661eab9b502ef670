//! The daemon against a fake ubusd: registration (checked against the frame a real ubusd
//! accepted, fixture 01), `status`, `reload` with a good and a broken file, SIGHUP,
//! `explain`, and re-registration after ubusd restarts. Needs no root: the configured
//! device does not exist, so no packet socket is opened.
//!
//! The fake ubusd (tests/common/fake_ubusd.rs) builds its frames by hand from the wire rules,
//! independently of the crate's own codec; only the daemon's replies are decoded with it.

mod common;

use common::fake_ubusd::{call, register};
use common::process::{Probe, COMMAND_TIMEOUT};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A temp directory removed on drop, and the daemon killed on drop, even when a test fails.
struct Fixture {
    dir: PathBuf,
    daemon: Option<Child>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let _ = d.kill();
            let _ = d.wait();
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
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn start(name: &str) -> (Fixture, UnixListener, PathBuf) {
    let dir = std::env::temp_dir().join(format!("ndpr-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("run")).unwrap();
    let sock = dir.join("run/ubus.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let device = format!("ndpt{}", std::process::id() % 100_000);
    write_config(&dir, &device, &["2001:db8:1:2::1:0/112"]);
    let daemon = spawn_daemon(&[], &dir, &sock);
    let fx = Fixture {
        dir: dir.clone(),
        daemon: Some(daemon),
    };
    (fx, listener, sock)
}

fn signal(fx: &Fixture, sig: &str) {
    let pid = fx.daemon.as_ref().unwrap().id().to_string();
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

/// Runs `cmd` and returns whether it succeeded (for namespace plumbing).
fn sh(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", cmd])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Two namespaces joined by a veth pair, deleted on drop.
struct NetnsPair {
    a: String,
    b: String,
}

impl Drop for NetnsPair {
    fn drop(&mut self) {
        sh(&format!("ip netns del {}", self.a));
        sh(&format!("ip netns del {}", self.b));
    }
}

#[test]
#[ignore = "needs root and network namespaces; run by scripts/test.sh"]
fn status_of_an_armed_uplink_counts_real_traffic() {
    let id = std::process::id();
    let pair = NetnsPair {
        a: format!("ndpr-st-srv-{id}"),
        b: format!("ndpr-st-rtr-{id}"),
    };
    for cmd in [
        format!("ip netns add {}", pair.a),
        format!("ip netns add {}", pair.b),
        format!(
            "ip link add wan0 netns {} type veth peer name up0 netns {}",
            pair.a, pair.b
        ),
        // No DAD: link-local addresses are usable at once (ndisc6 needs a source).
        format!(
            "ip netns exec {} sysctl -qw net.ipv6.conf.wan0.accept_dad=0",
            pair.a
        ),
        format!(
            "ip netns exec {} sysctl -qw net.ipv6.conf.up0.accept_dad=0",
            pair.b
        ),
        format!("ip -n {} link set wan0 up", pair.a),
        format!("ip -n {} link set up0 up", pair.b),
        format!(
            "ip -n {} addr add 2001:db8:1:2::100/64 dev wan0 nodad",
            pair.a
        ),
    ] {
        assert!(sh(&cmd), "{cmd}");
    }
    let dir = std::env::temp_dir().join(format!("ndpr-armed-{id}"));
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
    let _fx = Fixture {
        dir,
        daemon: Some(daemon),
    };
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
    // addrconf gives up0 its link-local address once the carrier is up (asynchronously);
    // ndisc6 needs it as its source.
    let has_ll = format!(
        "ip -n {} -6 addr show dev up0 scope link | grep -q inet6",
        pair.b
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while !sh(&has_ll) {
        assert!(
            Instant::now() < deadline,
            "up0 never got a link-local address"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Whether an NA came; a failure to run ndisc6 fails the test rather than reading as
    // "not answered".
    let ndisc = |target: &str| {
        Probe::Ndisc6
            .run(Command::new("timeout").args([
                COMMAND_TIMEOUT,
                "ip",
                "netns",
                "exec",
                &pair.b,
                "ndisc6",
                "-q",
                "-n",
                "-r",
                "1",
                "-w",
                "500",
                target,
                "up0",
            ]))
            .is_some()
    };
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
