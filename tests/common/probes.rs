//! Independent NDP peers on the router side: the scapy helper `tests/lab/ndp.py` that
//! crafts Neighbor Solicitations and captures Neighbor Advertisements, and `ndisc6`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::thread;
use std::time::{Duration, Instant};

use super::process::{checked, line_channel, root, wait_bounded, Probe};
use super::topology::{Lab, Role, ROUTER_IF, SERVER_MAC};

const CAPTURE_READY_TIMEOUT: Duration = Duration::from_secs(15);

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

impl Lab {
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
    /// the answer's Target Link-Layer Address option (what ndisc6 prints), None if ndisc6
    /// ran and nothing answered. Panics if ndisc6 could not run or could not send.
    pub fn ndisc6_on(&self, addr: &str, iface: &str, tries: u32, wait_ms: u32) -> Option<String> {
        let output = self.run_ndisc6(addr, iface, tries, wait_ms);
        Probe::Ndisc6
            .answered(&output)
            .then(|| Lab::ndisc6_mac(&output))
    }

    fn run_ndisc6(&self, addr: &str, iface: &str, tries: u32, wait_ms: u32) -> Output {
        let (tries, wait_ms) = (tries.to_string(), wait_ms.to_string());
        self.run(
            Role::Router,
            &[
                "ndisc6", "-q", "-n", "-r", &tries, "-w", &wait_ms, addr, iface,
            ],
        )
    }

    fn ndisc6_mac(output: &Output) -> String {
        let mac = String::from_utf8_lossy(&output.stdout)
            .trim()
            .to_lowercase();
        assert!(!mac.is_empty(), "ndisc6 succeeded but printed no MAC");
        mac
    }

    /// Repeats a one-try ndisc6 for `addr` on `iface` until an answer carries `mac` (any
    /// MAC when None) or `limit` passes; the time it took. While the link comes up the
    /// kernel may refuse to send the NS (no carrier on the router's side yet): that is "no
    /// answer yet", not a failure.
    pub fn time_to_answer(
        &self,
        addr: &str,
        iface: &str,
        mac: Option<&str>,
        limit: Duration,
    ) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < limit {
            let output = self.run_ndisc6(addr, iface, 1, 100);
            if ndisc6_send_refused(&output) {
                thread::sleep(Duration::from_millis(10));
                continue;
            }
            if Probe::Ndisc6.answered(&output) {
                let got = Lab::ndisc6_mac(&output);
                if mac.is_none_or(|mac| got == mac) {
                    return Some(start.elapsed());
                }
            }
        }
        None
    }
}

/// ndisc6 ran, but the kernel refused to send its NS: it exits 1 after "Sending ICMPv6
/// packet: <error>" (ENOBUFS or ENETDOWN while the interface has no carrier).
fn ndisc6_send_refused(output: &Output) -> bool {
    output.status.code() == Some(1)
        && String::from_utf8_lossy(&output.stderr).starts_with("Sending ICMPv6 packet:")
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
        match wait_bounded(&mut self.child, self.limit) {
            Some(status) => Capture::ran(status),
            None => {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
        self.collect()
    }

    /// Gives answers `grace` to arrive, then stops the capture.
    pub fn finish_after(mut self, grace: Duration) -> Vec<Na> {
        thread::sleep(grace);
        if let Some(status) = self.child.try_wait().expect("try_wait") {
            Capture::ran(status);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.collect()
    }

    /// A capture that ended by itself must have ended well: one that crashed saw nothing,
    /// which must not read as "no NA was sent".
    fn ran(status: std::process::ExitStatus) {
        assert!(
            status.success(),
            "ndp.py capture failed ({status}); its error is above"
        );
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
