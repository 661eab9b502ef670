//! The probes whose silence the lab tests count as a result (`ping`, `ndisc6`) must tell
//! "ran and got no answer" from "could not run". The exit statuses and messages below are
//! what iputils ping, ndisc6, `ip netns exec` and `timeout` really produce on Debian 12 in
//! each case. Needs no root and none of these programs: it runs on a machine with only Rust.

mod common;

use common::process::{which, Probe};
use std::os::unix::process::ExitStatusExt;
use std::panic::{self, AssertUnwindSafe};
use std::process::{Command, ExitStatus, Output};

/// An Output with exit `code` (or killed by `signal` when code is None).
fn output(code: Option<i32>, signal: i32, stdout: &str, stderr: &str) -> Output {
    let raw = match code {
        Some(code) => code << 8,
        None => signal,
    };
    Output {
        status: ExitStatus::from_raw(raw),
        stdout: stdout.as_bytes().to_vec(),
        stderr: stderr.as_bytes().to_vec(),
    }
}

const PING_NO_REPLY: &str = "PING 2001:db8::99(2001:db8::99) 56 data bytes\n\n\
    --- 2001:db8::99 ping statistics ---\n3 packets transmitted, 0 received, 100% packet loss, time 2030ms\n";

#[test]
fn ping_outcomes() {
    let ping = |code, stdout, stderr| Probe::Ping.outcome(&output(code, 0, stdout, stderr));
    assert_eq!(
        ping(Some(0), "3 packets transmitted, 3 received", ""),
        Ok(true)
    );
    assert_eq!(ping(Some(1), PING_NO_REPLY, ""), Ok(false));
    // `ip netns exec NS ping` without ping installed: exit 1 as well, but ping never ran.
    let missing = ping(
        Some(1),
        "",
        "exec of \"ping\" failed: No such file or directory\n",
    )
    .unwrap_err();
    assert!(missing.contains("ping could not run"), "{missing}");
    assert!(missing.contains("iputils-ping"), "{missing}");
    assert!(missing.contains("exec of \"ping\" failed"), "{missing}");
    // ping's own errors: exit 2.
    assert!(ping(Some(2), "", "ping: connect: Network is unreachable\n").is_err());
    // `timeout` could not find the program (127), or ran out of time (124).
    assert!(ping(Some(127), "", "timeout: failed to run command 'ping'\n").is_err());
    assert!(ping(Some(124), "", "").is_err());
    // `ip netns exec` into a namespace that is gone.
    assert!(ping(Some(255), "", "Cannot open network namespace\n").is_err());
    // Killed by a signal: no exit code at all.
    assert!(Probe::Ping
        .outcome(&output(None, 9, PING_NO_REPLY, ""))
        .is_err());
}

#[test]
fn ndisc6_outcomes() {
    let ndisc6 = |code, stdout, stderr| Probe::Ndisc6.outcome(&output(code, 0, stdout, stderr));
    assert_eq!(ndisc6(Some(0), "02:00:00:00:01:00\n", ""), Ok(true));
    // `ndisc6 -q` with nothing answering: exit 2, silent.
    assert_eq!(ndisc6(Some(2), "", ""), Ok(false));
    // A usage error also exits 2, but says so.
    let usage = ndisc6(Some(2), "", "ndisc6: unrecognized option '--bogus'\n").unwrap_err();
    assert!(usage.contains("ndisc6 could not run"), "{usage}");
    // Errors exit 1: no such interface, or not installed behind `ip netns exec`.
    assert!(ndisc6(Some(1), "", "nosuchif: No such device\n").is_err());
    assert!(ndisc6(
        Some(1),
        "",
        "exec of \"ndisc6\" failed: No such file or directory\n"
    )
    .is_err());
    assert!(ndisc6(Some(127), "", "").is_err());
}

/// The real thing: ping run (through `timeout`, as the lab runs it) with a PATH that has
/// no ping. The probe must panic naming ping and its package, not report "no reply".
#[test]
fn ping_missing_from_path_panics() {
    let timeout = which("timeout").expect("coreutils' timeout");
    let empty = std::env::temp_dir().join(format!("ndpr-empty-path-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("create an empty directory");
    let mut command = Command::new(timeout);
    command
        .args(["5", "ping", "-6", "-n", "-c", "1", "::1"])
        .env("PATH", &empty);
    let result = panic::catch_unwind(AssertUnwindSafe(|| Probe::Ping.run(&mut command)));
    let _ = std::fs::remove_dir(&empty);
    let message = *result
        .expect_err("a ping that cannot run must not read as an answer or as silence")
        .downcast::<String>()
        .expect("a formatted panic message");
    assert!(message.contains("ping could not run"), "{message}");
    assert!(message.contains("iputils-ping"), "{message}");
}

/// A program the probe cannot even spawn panics the same way.
#[test]
fn ndisc6_unspawnable_panics() {
    let mut command = Command::new("/nonexistent/ndisc6");
    let result = panic::catch_unwind(AssertUnwindSafe(|| Probe::Ndisc6.run(&mut command)));
    let message = *result
        .expect_err("must panic")
        .downcast::<String>()
        .expect("a formatted panic message");
    assert!(message.contains("ndisc6 could not run"), "{message}");
    assert!(message.contains("is ndisc6 installed"), "{message}");
}
