//! Network-namespace harness for the lab tests: the topology of `scripts/lab-net.sh`
//! (router, hypervisor bridge with an anti-spoofing rule, the VPS, its container), the
//! daemon running on the VPS uplink, and the scapy helper `tests/lab/ndp.py` that crafts
//! Neighbor Solicitations and captures Neighbor Advertisements on the router.
//!
//! Everything a test starts is bounded in time and undone in `Drop`, also when the test
//! panics: the daemon and the capture are killed, the namespaces removed.
//!
//! `fake_ubusd` is the hand-built ubusd side of the bus tests.
// Each test crate uses its own subset of the harness; the rest would warn as unused.
#![allow(dead_code)]

pub mod fake_ubusd;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

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

/// Bound for one-shot commands (ping, ndisc6, nft, ip): none of them should take long.
const COMMAND_TIMEOUT: &str = "30";
const ARM_TIMEOUT: Duration = Duration::from_secs(10);
const COUNTERS_TIMEOUT: Duration = Duration::from_secs(5);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
const CAPTURE_READY_TIMEOUT: Duration = Duration::from_secs(15);

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

/// The namespaces tests run commands in (the lab also has `hv` and `ct`).
#[derive(Clone, Copy, Debug)]
pub enum Role {
    Router,
    Server,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Router => "router",
            Role::Server => "server",
        }
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn lab_net() -> PathBuf {
    root().join("scripts/lab-net.sh")
}

fn python() -> PathBuf {
    let python = root().join(".venv/bin/python3");
    assert!(
        python.exists(),
        "{} is missing: run scripts/test.sh as root, it creates the venv with scapy",
        python.display()
    );
    python
}

fn ndp_py() -> PathBuf {
    root().join("tests/lab/ndp.py")
}

fn checked(what: &str, output: Output) -> Output {
    assert!(
        output.status.success(),
        "{what} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn lab_net_cmd(args: &[&str]) -> Output {
    let output = Command::new("timeout")
        .arg(COMMAND_TIMEOUT)
        .arg("bash")
        .arg(lab_net())
        .args(args)
        .output()
        .expect("run scripts/lab-net.sh");
    checked(&format!("lab-net.sh {}", args.join(" ")), output)
}

/// Waits at most `limit` for `child` to exit.
fn wait_bounded(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Sends each line of `source` to the returned channel, from a thread of its own, so the
/// test can wait for a line with a deadline.
fn line_channel(source: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(source).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
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
        format!("ndpr-{}-{}", self.suffix, role.name())
    }

    fn command(&self, role: Role, args: &[&str]) -> Command {
        let mut command = Command::new("ip");
        command
            .arg("netns")
            .arg("exec")
            .arg(self.ns(role))
            .args(args);
        command
    }

    /// Runs a one-shot command in a namespace, bounded by `timeout`.
    pub fn run(&self, role: Role, args: &[&str]) -> Output {
        let namespace = self.ns(role);
        Command::new("timeout")
            .args([COMMAND_TIMEOUT, "ip", "netns", "exec", &namespace])
            .args(args)
            .output()
            .expect("run a command in a namespace")
    }

    /// One `ping -6` round from the router to `addr`; true if any reply came back.
    pub fn ping_once(&self, addr: &str) -> bool {
        self.run(
            Role::Router,
            &["ping", "-6", "-n", "-c", "3", "-W", "1", addr],
        )
        .status
        .success()
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

    /// The daemon on the server's uplink, answering for the container range, armed.
    pub fn start_responder(&self, extra_args: &[&str]) -> Responder {
        let mut args = vec!["-i", UPLINK, "-n", CT_NET, "-f"];
        args.extend_from_slice(extra_args);
        let mut responder = self.spawn_daemon(&[], &args);
        responder.wait_armed(UPLINK);
        responder
    }

    /// The daemon in the server namespace with `args`, run through `wrapper` (a command
    /// that execs its arguments, such as setpriv; empty for none), not waited for.
    pub fn spawn_daemon(&self, wrapper: &[&str], args: &[&str]) -> Responder {
        let mut argv = wrapper.to_vec();
        argv.push(env!("CARGO_BIN_EXE_ndpresponder"));
        argv.extend_from_slice(args);
        let mut child = self
            .command(Role::Server, &argv)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ndpresponder");
        let lines = line_channel(child.stderr.take().expect("piped stderr"));
        Responder {
            child,
            lines,
            log: Vec::new(),
            stopped: false,
        }
    }

    /// Starts listening for NAs on the router and returns once the listener is ready.
    pub fn capture(&self, timeout: Duration, count: Option<usize>) -> Capture {
        self.capture_on(ROUTER_IF, timeout, count)
    }

    /// [`Lab::capture`] on another router interface.
    pub fn capture_on(&self, iface: &str, timeout: Duration, count: Option<usize>) -> Capture {
        let (python, script) = (python(), ndp_py());
        let timeout_arg = timeout.as_secs_f64().to_string();
        let count_arg = count.map(|c| c.to_string());
        let mut args = vec![
            python.to_str().expect("utf-8 path"),
            script.to_str().expect("utf-8 path"),
            "capture",
            iface,
            "--timeout",
            &timeout_arg,
        ];
        if let Some(count) = &count_arg {
            args.extend(["--count", count]);
        }
        let mut child = self
            .command(Role::Router, &args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the capture");
        let lines = line_channel(child.stdout.take().expect("piped stdout"));
        match lines.recv_timeout(CAPTURE_READY_TIMEOUT) {
            Ok(line) if line == "ready" => {}
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("capture did not get ready: {other:?}");
            }
        }
        Capture {
            child,
            lines,
            limit: timeout + Duration::from_secs(5),
        }
    }

    /// Sends one crafted NS (a variant of `tests/lab/ndp.py`) from the router.
    pub fn send_ns(&self, variant: &str, target: &str) {
        let (python, script) = (python(), ndp_py());
        let output = self.run(
            Role::Router,
            &[
                python.to_str().expect("utf-8 path"),
                script.to_str().expect("utf-8 path"),
                "send",
                ROUTER_IF,
                variant,
                target,
                "--src",
                self.mode.router_source(),
                "--peer-mac",
                SERVER_MAC,
            ],
        );
        checked(&format!("ndp.py send {variant}"), output);
    }

    /// Sends crafted NS from the router's `iface` in one burst: `specs` are
    /// `VARIANT/TARGET` pairs of `tests/lab/ndp.py burst`.
    pub fn send_burst(&self, iface: &str, specs: &[String]) {
        let (python, script) = (python(), ndp_py());
        let mut args = vec![
            python.to_str().expect("utf-8 path"),
            script.to_str().expect("utf-8 path"),
            "burst",
            iface,
            "--src",
            self.mode.router_source(),
            "--peer-mac",
            SERVER_MAC,
        ];
        args.extend(specs.iter().map(String::as_str));
        checked("ndp.py burst", self.run(Role::Router, &args));
    }

    /// `ndisc6` (an independent NDP client) from the router: the MAC that answered, if any.
    pub fn ndisc6(&self, addr: &str) -> Option<String> {
        self.ndisc6_on(addr, ROUTER_IF, 3, 1000)
    }

    /// `ndisc6` on router interface `iface`, `tries` NS each waiting `wait_ms`: the MAC in
    /// the answer's Target Link-Layer Address option (what ndisc6 prints), if any.
    pub fn ndisc6_on(&self, addr: &str, iface: &str, tries: u32, wait_ms: u32) -> Option<String> {
        let (tries, wait_ms) = (tries.to_string(), wait_ms.to_string());
        let output = self.run(
            Role::Router,
            &[
                "ndisc6", "-q", "-n", "-r", &tries, "-w", &wait_ms, addr, iface,
            ],
        );
        let mac = String::from_utf8_lossy(&output.stdout)
            .trim()
            .to_lowercase();
        (output.status.success() && !mac.is_empty()).then_some(mac)
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

    /// Repeats a one-try ndisc6 for `addr` on `iface` until an answer carries `mac` (any
    /// MAC when None) or `limit` passes; the time it took.
    pub fn time_to_answer(
        &self,
        addr: &str,
        iface: &str,
        mac: Option<&str>,
        limit: Duration,
    ) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < limit {
            let got = self.ndisc6_on(addr, iface, 1, 100);
            if got.is_some() && (mac.is_none() || got.as_deref() == mac) {
                return Some(start.elapsed());
            }
        }
        None
    }

    /// Starts `ndpload` (examples/ndpload.rs) on the router's `iface`: `rate` NS per second
    /// for `seconds`, every target inside `prefix`, none outside.
    pub fn start_load(&self, iface: &str, prefix: &str, rate: u32, seconds: f64) -> Load {
        let ndpload = ndpload();
        let (rate, seconds) = (rate.to_string(), seconds.to_string());
        let child = self
            .command(
                Role::Router,
                &[
                    ndpload.to_str().expect("utf-8 path"),
                    "-i",
                    iface,
                    "--in",
                    prefix,
                    "--out-share",
                    "0",
                    "--rate",
                    &rate,
                    "--duration",
                    &seconds,
                ],
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ndpload");
        Load { child }
    }
}

fn ip(args: &[&str]) {
    let output = Command::new("timeout")
        .arg(COMMAND_TIMEOUT)
        .arg("ip")
        .args(args)
        .output()
        .expect("run ip");
    checked(&format!("ip {}", args.join(" ")), output);
}

/// The load generator, built beside the test binaries (target/DEBUG_OR_RELEASE/examples).
fn ndpload() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binaries live in target/PROFILE/deps");
    let ndpload = profile_dir.join("examples/ndpload");
    assert!(
        ndpload.exists(),
        "{} is missing: run `cargo build --example ndpload` (scripts/test.sh does)",
        ndpload.display()
    );
    ndpload
}

/// A running `ndpload`; killed on drop.
pub struct Load {
    child: Child,
}

impl Load {
    /// True while it is still sending.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Waits (bounded by `limit`) for its one output line and returns its `key=value`
    /// fields (see examples/ndpload.rs).
    pub fn finish(mut self, limit: Duration) -> HashMap<String, String> {
        let status = wait_bounded(&mut self.child, limit);
        let mut out = String::new();
        let mut err = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            stdout.read_to_string(&mut out).expect("ndpload output");
        }
        if let Some(mut stderr) = self.child.stderr.take() {
            stderr.read_to_string(&mut err).expect("ndpload errors");
        }
        assert!(
            status.is_some_and(|s| s.success()),
            "ndpload failed or ran over {limit:?} ({status:?}): {out}{err}"
        );
        out.split_whitespace()
            .filter_map(|field| field.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A UCI configuration directory for the daemon's `-c`; removed on drop.
pub struct ConfigDir {
    pub path: PathBuf,
}

impl ConfigDir {
    pub fn new(name: &str) -> ConfigDir {
        static SEQUENCE: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "ndpr-{name}-{}-{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(path.join("run")).expect("create the config directory");
        ConfigDir { path }
    }

    /// Replaces the UCI file `ndpresponder` with `text`.
    pub fn write(&self, text: &str) {
        // Written beside and renamed, so the daemon never reads half a file.
        let tmp = self.path.join(".ndpresponder.new");
        std::fs::write(&tmp, text).expect("write the UCI file");
        std::fs::rename(&tmp, self.path.join("ndpresponder")).expect("rename the UCI file");
    }

    pub fn arg(&self) -> &str {
        self.path.to_str().expect("utf-8 path")
    }

    /// Where a fake ubusd listens: `run/ubus.sock` inside the directory.
    pub fn ubus_socket(&self) -> PathBuf {
        self.path.join("run/ubus.sock")
    }
}

impl Drop for ConfigDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
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

/// The daemon under test; SIGTERM (then SIGKILL) on drop.
pub struct Responder {
    child: Child,
    lines: Receiver<String>,
    /// Every stderr line seen so far, shown when a test fails.
    log: Vec<String>,
    stopped: bool,
}

impl Responder {
    /// The first line from now on that matches, within `limit`.
    pub fn wait_for(&mut self, matches: impl Fn(&str) -> bool, limit: Duration) -> Option<String> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if matches(&line) {
                        return Some(line);
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Waits for the `armed device=DEVICE` line (not `disarmed device=...`).
    pub fn wait_armed(&mut self, device: &str) -> String {
        let armed = format!(": armed device={device} ");
        self.wait_for(|line| line.contains(&armed), ARM_TIMEOUT)
            .unwrap_or_else(|| panic!("no '{armed}' within {ARM_TIMEOUT:?}"))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Every line logged so far.
    pub fn log(&mut self) -> &[String] {
        while let Ok(line) = self.lines.try_recv() {
            self.log.push(line);
        }
        &self.log
    }

    /// CPU time used so far, user plus system, from /proc/PID/stat (proc(5): utime and
    /// stime, fields 14 and 15, in clock ticks; Linux reports them in USER_HZ = 100).
    pub fn cpu_time(&self) -> Duration {
        // `ip netns exec` and setpriv exec the daemon: the child is the daemon itself.
        let comm = std::fs::read_to_string(format!("/proc/{}/comm", self.pid()))
            .expect("read /proc/PID/comm");
        assert_eq!(comm.trim(), "ndpresponder", "not the daemon's pid");
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .expect("read /proc/PID/stat");
        // The command name (field 2) may hold spaces; fields after it are plain.
        let after_name = &stat[stat.rfind(')').expect("comm in stat") + 1..];
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks = |i: usize| -> u64 { fields[i].parse().expect("tick count") };
        // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
        Duration::from_millis((ticks(11) + ticks(12)) * 10)
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// SIGUSR1, then the numeric fields of the `counters uplink=...` line it makes the
    /// daemon log (order of the fields does not matter).
    pub fn counters(&mut self) -> Counters {
        self.counters_matching("counters uplink=")
    }

    /// [`Responder::counters`] of one uplink (by name) when there are several.
    pub fn counters_of(&mut self, uplink: &str) -> Counters {
        self.counters_matching(&format!("counters uplink={uplink} "))
    }

    fn counters_matching(&mut self, prefix: &str) -> Counters {
        self.signal("USR1");
        let line = self
            .wait_for(|line| line.contains(prefix), COUNTERS_TIMEOUT)
            .unwrap_or_else(|| panic!("no '{prefix}' line within {COUNTERS_TIMEOUT:?}"));
        let fields = line
            .split_whitespace()
            .filter_map(|field| field.split_once('='))
            .filter_map(|(key, value)| Some((key.to_string(), value.parse().ok()?)))
            .collect();
        let state = line
            .split_whitespace()
            .find_map(|field| field.strip_prefix("state="))
            .unwrap_or_default()
            .to_string();
        Counters {
            fields,
            state,
            line,
        }
    }

    /// SIGTERM and the exit status (None if it did not exit in time and was killed).
    pub fn stop(mut self) -> Option<ExitStatus> {
        self.terminate()
    }

    fn terminate(&mut self) -> Option<ExitStatus> {
        self.stopped = true;
        self.signal("TERM");
        let status = wait_bounded(&mut self.child, STOP_TIMEOUT);
        if status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        while let Ok(line) = self.lines.try_recv() {
            self.log.push(line);
        }
        status
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if !self.stopped {
            self.terminate();
        }
        if thread::panicking() {
            eprintln!("--- ndpresponder log ---");
            for line in &self.log {
                eprintln!("{line}");
            }
        }
    }
}

/// A snapshot of the per-uplink counters.
pub struct Counters {
    fields: HashMap<String, u64>,
    /// absent, down, armed or failed.
    pub state: String,
    pub line: String,
}

impl Counters {
    pub fn get(&self, key: &str) -> u64 {
        *self
            .fields
            .get(key)
            .unwrap_or_else(|| panic!("no counter {key} in {:?}", self.line))
    }
}

/// NAs seen on the router while the capture runs.
pub struct Capture {
    child: Child,
    lines: Receiver<String>,
    limit: Duration,
}

impl Capture {
    /// Waits for the capture to end by itself (its timeout or its count).
    pub fn finish(mut self) -> Vec<Na> {
        if wait_bounded(&mut self.child, self.limit).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        self.collect()
    }

    /// Gives answers `grace` to arrive, then stops the capture.
    pub fn finish_after(mut self, grace: Duration) -> Vec<Na> {
        thread::sleep(grace);
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.collect()
    }

    fn collect(&self) -> Vec<Na> {
        self.lines.try_iter().map(|line| Na::parse(&line)).collect()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One captured Neighbor Advertisement, as printed by `ndp.py capture`.
#[derive(Debug)]
pub struct Na {
    pub eth_src: String,
    pub eth_dst: String,
    pub ip_src: String,
    pub ip_dst: String,
    pub hop_limit: u64,
    pub code: u64,
    pub router: bool,
    pub solicited: bool,
    pub override_flag: bool,
    pub target: String,
    pub tlla: Option<String>,
    pub checksum_ok: bool,
}

impl Na {
    /// Parses the flat JSON object `ndp.py` prints: string, integer, boolean and null
    /// values, no nesting, no escapes (all values are addresses, numbers or flags).
    fn parse(line: &str) -> Na {
        let body = line
            .trim()
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
            .unwrap_or_else(|| panic!("not a JSON object: {line:?}"));
        let fields: HashMap<&str, &str> = body
            .split(", ")
            .map(|pair| {
                let (key, value) = pair
                    .split_once(": ")
                    .unwrap_or_else(|| panic!("bad pair {pair:?} in {line:?}"));
                (key.trim_matches('"'), value)
            })
            .collect();
        let raw = |key: &str| {
            *fields
                .get(key)
                .unwrap_or_else(|| panic!("no {key} in {line:?}"))
        };
        let text = |key: &str| raw(key).trim_matches('"').to_string();
        let number = |key: &str| {
            raw(key)
                .parse()
                .unwrap_or_else(|_| panic!("{key} not a number in {line:?}"))
        };
        let flag = |key: &str| match raw(key) {
            "true" => true,
            "false" => false,
            other => panic!("{key} not a boolean: {other:?}"),
        };
        Na {
            eth_src: text("eth_src"),
            eth_dst: text("eth_dst"),
            ip_src: text("ip_src"),
            ip_dst: text("ip_dst"),
            hop_limit: number("hop_limit"),
            code: number("code"),
            router: flag("router"),
            solicited: flag("solicited"),
            override_flag: flag("override"),
            target: text("target"),
            tlla: (raw("tlla") != "null").then(|| text("tlla")),
            checksum_ok: flag("checksum_ok"),
        }
    }
}

/// A `config uplink` section of /etc/config/ndpresponder (schema in the README), with
/// `options` as extra `option NAME 'VALUE'` lines.
pub fn uci_uplink(name: &str, device: &str, prefixes: &[&str], options: &[(&str, &str)]) -> String {
    let mut text = format!("config uplink '{name}'\n\toption device '{device}'\n");
    for prefix in prefixes {
        text.push_str(&format!("\tlist prefix '{prefix}'\n"));
    }
    for (option, value) in options {
        text.push_str(&format!("\toption {option} '{value}'\n"));
    }
    text.push('\n');
    text
}
