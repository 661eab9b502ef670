//! Running outside programs from a test: bounded in time, their failures shown whole.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

/// Bound for one-shot commands (ping, ndisc6, nft, ip): none of them should take long.
pub const COMMAND_TIMEOUT: &str = "30";

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn checked(what: &str, output: Output) -> Output {
    assert!(
        output.status.success(),
        "{what} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Waits at most `limit` for `child` to exit.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
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
pub fn line_channel(source: impl Read + Send + 'static) -> Receiver<String> {
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

/// `ip ARGS` on the host, bounded, failing the test if it fails.
pub fn ip(args: &[&str]) {
    let output = Command::new("timeout")
        .arg(COMMAND_TIMEOUT)
        .arg("ip")
        .args(args)
        .output()
        .expect("run ip");
    checked(&format!("ip {}", args.join(" ")), output);
}

/// CPU time `pid` used so far, user plus system, from /proc/PID/stat (proc(5): utime and
/// stime, fields 14 and 15, in clock ticks; Linux reports them in USER_HZ = 100).
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/PID/stat");
    // The command name (field 2) may hold spaces; fields after it are plain.
    let after_name = &stat[stat.rfind(')').expect("comm in stat") + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| -> u64 { fields[i].parse().expect("tick count") };
    // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Where `program` is on PATH, as the shell would find it, if anywhere.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|file| {
            file.metadata()
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
}

/// Fails the test at once when `program` is not installed, naming its Debian `package`.
pub fn require(program: &str, package: &str) {
    assert!(
        which(program).is_some(),
        "{program} is not installed (Debian package {package}); scripts/test.sh installs it"
    );
}

/// A probe for which "no answer" is a result the tests check: `ping` and `ndisc6`. Their
/// silence means something only if they ran, so a run that could not happen (the program
/// missing, bad arguments, a failed `ip netns exec`, a timeout) fails the test instead of
/// reading as "unreachable".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// iputils `ping`.
    Ping,
    /// `ndisc6 -q`: prints only the answering MAC.
    Ndisc6,
}

impl Probe {
    fn program(self) -> &'static str {
        match self {
            Probe::Ping => "ping",
            Probe::Ndisc6 => "ndisc6",
        }
    }

    fn package(self) -> &'static str {
        match self {
            Probe::Ping => "iputils-ping",
            Probe::Ndisc6 => "ndisc6",
        }
    }

    /// What a finished run means: `Ok(true)` answered, `Ok(false)` ran and got no answer,
    /// `Err` could not run (with everything it printed).
    pub fn outcome(self, output: &Output) -> Result<bool, String> {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let ran_unanswered = match (self, output.status.code()) {
            (_, Some(0)) => return Ok(true),
            // iputils ping exits 1 when no reply came (2 on errors), but `ip netns exec`
            // also exits 1 when it cannot exec ping: only ping's own statistics line
            // shows that it ran.
            (Probe::Ping, Some(1)) => stdout.contains(" 0 received"),
            // ndisc6 -q exits 2 and prints nothing when nothing answered; it exits 1 on
            // errors (no such interface, unresolvable address) and 2 with a message on a
            // usage error.
            (Probe::Ndisc6, Some(2)) => stderr.trim().is_empty(),
            _ => false,
        };
        if ran_unanswered {
            return Ok(false);
        }
        Err(format!(
            "{} could not run ({}), so its silence says nothing: is {} installed? \
             (scripts/test.sh installs it)\nstdout: {stdout}\nstderr: {stderr}",
            self.program(),
            output.status,
            self.package()
        ))
    }

    /// Whether a finished run got an answer; panics if it could not run.
    pub fn answered(self, output: &Output) -> bool {
        self.outcome(output).unwrap_or_else(|why| panic!("{why}"))
    }

    /// Runs `command` (this probe, possibly behind `timeout` and `ip netns exec`): its
    /// output if it got an answer, None if it ran and got none; panics if it could not run.
    pub fn run(self, command: &mut Command) -> Option<Output> {
        let output = command.output().unwrap_or_else(|error| {
            panic!(
                "{} could not run ({error}): is {} installed? (scripts/test.sh installs it)",
                self.program(),
                self.package()
            )
        });
        self.answered(&output).then_some(output)
    }
}
