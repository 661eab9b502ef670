//! Network-namespace harness for the lab tests: the topology of `scripts/lab-net.sh`
//! (router, hypervisor bridge with an anti-spoofing rule, the VPS, its container), the
//! daemon running on the VPS uplink, and the scapy helper `tests/lab/ndp.py` that crafts
//! Neighbor Solicitations and captures Neighbor Advertisements on the router.
//!
//! Everything a test starts is bounded in time and undone in `Drop`, also when the test
//! panics: the daemon and the capture are killed, the namespaces removed.

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
        let mut command = self.command(
            Role::Server,
            &[
                env!("CARGO_BIN_EXE_ndpresponder"),
                "-i",
                UPLINK,
                "-n",
                CT_NET,
                "-f",
            ],
        );
        command
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn ndpresponder");
        let lines = line_channel(child.stderr.take().expect("piped stderr"));
        let mut responder = Responder {
            child,
            lines,
            log: Vec::new(),
            stopped: false,
        };
        let armed = format!("armed device={UPLINK}");
        responder
            .wait_for(|line| line.contains(&armed), ARM_TIMEOUT)
            .unwrap_or_else(|| panic!("no '{armed}' within {ARM_TIMEOUT:?}"));
        responder
    }

    /// Starts listening for NAs on the router and returns once the listener is ready.
    pub fn capture(&self, timeout: Duration, count: Option<usize>) -> Capture {
        let (python, script) = (python(), ndp_py());
        let timeout_arg = timeout.as_secs_f64().to_string();
        let count_arg = count.map(|c| c.to_string());
        let mut args = vec![
            python.to_str().expect("utf-8 path"),
            script.to_str().expect("utf-8 path"),
            "capture",
            ROUTER_IF,
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

    /// `ndisc6` (an independent NDP client) from the router: the MAC that answered, if any.
    pub fn ndisc6(&self, addr: &str) -> Option<String> {
        let output = self.run(
            Role::Router,
            &[
                "ndisc6", "-q", "-n", "-r", "3", "-w", "1000", addr, ROUTER_IF,
            ],
        );
        let mac = String::from_utf8_lossy(&output.stdout)
            .trim()
            .to_lowercase();
        (output.status.success() && !mac.is_empty()).then_some(mac)
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
    fn wait_for(&mut self, matches: impl Fn(&str) -> bool, limit: Duration) -> Option<String> {
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

    fn signal(&self, name: &str) {
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
        self.signal("USR1");
        let line = self
            .wait_for(|line| line.contains("counters uplink="), COUNTERS_TIMEOUT)
            .unwrap_or_else(|| panic!("no counters line within {COUNTERS_TIMEOUT:?}"));
        let fields = line
            .split_whitespace()
            .filter_map(|field| field.split_once('='))
            .filter_map(|(key, value)| Some((key.to_string(), value.parse().ok()?)))
            .collect();
        Counters { fields, line }
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
    line: String,
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
