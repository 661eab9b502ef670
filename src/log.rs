//! Logging to syslog (so OpenWrt's logd and journald get it) or to stderr with `-f`.
//! Syslog is spoken directly on /dev/log as RFC 3164 datagrams: no libc, no extra crate.

use crate::config::LogLevel;
use std::fmt;
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

enum Sink {
    Stderr,
    Syslog(Option<UnixDatagram>),
}

struct Logger {
    sink: Mutex<Sink>,
    level: AtomicU8,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();
const SYSLOG_PATH: &str = "/dev/log";
/// LOG_DAEMON facility (RFC 3164 section 4.1.1).
const FACILITY_DAEMON: u8 = 3;

fn level_byte(l: LogLevel) -> u8 {
    l as u8
}

/// Chooses where logs go; called once at start. Later calls are ignored.
pub fn init(to_stderr: bool, level: LogLevel) {
    let sink = if to_stderr {
        Sink::Stderr
    } else {
        Sink::Syslog(connect_syslog())
    };
    let _ = LOGGER.set(Logger {
        sink: Mutex::new(sink),
        level: AtomicU8::new(level_byte(level)),
    });
}

/// Changes the threshold (a reload may change `log_level`).
pub fn set_level(level: LogLevel) {
    if let Some(l) = LOGGER.get() {
        l.level.store(level_byte(level), Ordering::Relaxed);
    }
}

pub fn enabled(level: LogLevel) -> bool {
    match LOGGER.get() {
        Some(l) => level_byte(level) <= l.level.load(Ordering::Relaxed),
        None => level <= LogLevel::Info,
    }
}

fn connect_syslog() -> Option<UnixDatagram> {
    let sock = UnixDatagram::unbound().ok()?;
    sock.connect(SYSLOG_PATH).ok()?;
    Some(sock)
}

fn severity(level: LogLevel) -> u8 {
    match level {
        LogLevel::Error => 3,
        LogLevel::Warning => 4,
        LogLevel::Notice => 5,
        LogLevel::Info => 6,
        LogLevel::Debug => 7,
    }
}

fn label(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Error => "error",
        LogLevel::Warning => "warning",
        LogLevel::Notice => "notice",
        LogLevel::Info => "info",
        LogLevel::Debug => "debug",
    }
}

/// Writes one line at `level` if the threshold allows it.
pub fn write(level: LogLevel, args: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    let Some(logger) = LOGGER.get() else {
        eprintln!("ndpresponder: {}: {}", label(level), args);
        return;
    };
    let mut sink = logger.sink.lock().unwrap_or_else(|p| p.into_inner());
    match &mut *sink {
        Sink::Stderr => {
            let _ = writeln!(std::io::stderr(), "{}: {}", label(level), args);
        }
        Sink::Syslog(sock) => {
            let line = format!(
                "<{}>ndpresponder[{}]: {}",
                FACILITY_DAEMON * 8 + severity(level),
                std::process::id(),
                args
            );
            // logd or syslogd may have restarted: reconnect once before giving up on a line.
            let sent = sock
                .as_ref()
                .is_some_and(|s| s.send(line.as_bytes()).is_ok());
            if !sent {
                *sock = connect_syslog();
                if let Some(s) = sock.as_ref() {
                    let _ = s.send(line.as_bytes());
                }
            }
        }
    }
}

#[macro_export]
macro_rules! log_error { ($($t:tt)*) => { $crate::log::write($crate::config::LogLevel::Error, format_args!($($t)*)) } }
#[macro_export]
macro_rules! log_warn { ($($t:tt)*) => { $crate::log::write($crate::config::LogLevel::Warning, format_args!($($t)*)) } }
#[macro_export]
macro_rules! log_notice { ($($t:tt)*) => { $crate::log::write($crate::config::LogLevel::Notice, format_args!($($t)*)) } }
#[macro_export]
macro_rules! log_info { ($($t:tt)*) => { $crate::log::write($crate::config::LogLevel::Info, format_args!($($t)*)) } }
#[macro_export]
macro_rules! log_debug { ($($t:tt)*) => { $crate::log::write($crate::config::LogLevel::Debug, format_args!($($t)*)) } }
