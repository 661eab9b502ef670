//! The daemon under test, run in the server namespace: spawned, watched through its log
//! lines, signalled, its counters read, stopped on drop.

use std::collections::HashMap;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use super::process::{cpu_time, line_channel, wait_bounded};
use super::topology::{Lab, Role, CT_NET, UPLINK};

const ARM_TIMEOUT: Duration = Duration::from_secs(10);
const COUNTERS_TIMEOUT: Duration = Duration::from_secs(5);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

impl Lab {
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

    /// CPU time used so far, user plus system.
    pub fn cpu_time(&self) -> Duration {
        // `ip netns exec` and setpriv exec the daemon: the child is the daemon itself.
        let comm = std::fs::read_to_string(format!("/proc/{}/comm", self.pid()))
            .expect("read /proc/PID/comm");
        assert_eq!(comm.trim(), "ndpresponder", "not the daemon's pid");
        cpu_time(self.pid())
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
