//! Running outside programs from a test: bounded in time, their failures shown whole.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
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
