//! When the daemon tries ubusd again and what it says about it, apart from the socket: the
//! clock is passed in, so the schedule is tested with made-up times.
//!
//! Every failure (connection refused, ADD_OBJECT refused, protocol error, connection lost)
//! schedules the next try after a delay that doubles from 1 s up to 60 s, so a ubusd that
//! keeps saying no (it reads its ACLs only at start and on SIGHUP) costs one connection a
//! minute instead of a loop. Something appearing in the socket's directory (ubusd starting)
//! or a registration starts the schedule over. Failures are logged when the state or the
//! error changes, not on every try.

use std::fmt::Write;

/// The first delay after a failure, and after a registration.
const FIRST_DELAY_NS: u64 = 1_000_000_000;
/// The first delay after the socket's directory changed: ubusd creates its socket at
/// bind() and accepts only after listen(), so a connect right then may be refused.
const AFTER_WATCH_DELAY_NS: u64 = 100_000_000;
pub const MAX_DELAY_NS: u64 = 60_000_000_000;

/// Where the link to ubusd stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Connected; HELLO and ADD_OBJECT under way.
    Registering,
    Registered {
        object_id: u32,
    },
    /// Not connected: a retry is scheduled, or (socket missing) the directory watch will
    /// say when ubusd is there.
    Waiting,
}

impl Phase {
    pub fn as_str(&self) -> &'static str {
        match self {
            Phase::Registering => "registering",
            Phase::Registered { .. } => "registered",
            Phase::Waiting => "waiting",
        }
    }
}

#[derive(Debug)]
pub struct Reconnect {
    phase: Phase,
    /// When `phase` was entered.
    since_ns: u64,
    /// The delay the next failure schedules.
    delay_ns: u64,
    retry_at: Option<u64>,
    /// Failed tries since the last registration (kept after it, for status).
    retries: u64,
    last_error: Option<String>,
    /// The error of the last warning of this outage; None once registered.
    logged: Option<String>,
}

impl Reconnect {
    pub fn new(now_ns: u64) -> Reconnect {
        Reconnect {
            phase: Phase::Waiting,
            since_ns: now_ns,
            delay_ns: FIRST_DELAY_NS,
            retry_at: None,
            retries: 0,
            last_error: None,
            logged: None,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn since_ns(&self) -> u64 {
        self.since_ns
    }

    pub fn retries(&self) -> u64 {
        self.retries
    }

    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// When the next try is due, if one is scheduled.
    pub fn retry_at(&self) -> Option<u64> {
        self.retry_at
    }

    pub fn due(&self, now_ns: u64) -> bool {
        self.retry_at.is_some_and(|at| now_ns >= at)
    }

    fn enter(&mut self, phase: Phase, now_ns: u64) {
        if core::mem::discriminant(&phase) != core::mem::discriminant(&self.phase) {
            self.since_ns = now_ns;
        }
        self.phase = phase;
    }

    /// A connection to ubusd was made; registration starts.
    pub fn connected(&mut self, now_ns: u64) {
        self.retry_at = None;
        self.enter(Phase::Registering, now_ns);
    }

    /// The socket's directory changed: ubusd may be starting, try soon again.
    pub fn watch_event(&mut self) {
        self.delay_ns = AFTER_WATCH_DELAY_NS;
    }

    /// ubusd accepted the object. Returns the line to log.
    pub fn registered(&mut self, now_ns: u64, object_id: u32) -> String {
        self.enter(Phase::Registered { object_id }, now_ns);
        self.retry_at = None;
        self.delay_ns = FIRST_DELAY_NS;
        self.logged = None;
        let mut line = format!("ubus: registered as object {object_id:#010x}");
        if let Some(e) = &self.last_error {
            let _ = write!(line, " after {} failed tries (last: {e})", self.retries);
        }
        line
    }

    /// A try failed, or the connection was lost. With `wait_for_watch` no retry is
    /// scheduled (the socket is missing and the directory watch announces it). Returns
    /// the line to log when this is news: a lost registration, or another error.
    pub fn failed(&mut self, now_ns: u64, error: String, wait_for_watch: bool) -> Option<String> {
        let lost = matches!(self.phase, Phase::Registered { .. });
        if lost {
            self.retries = 0;
        }
        self.retries += 1;
        self.enter(Phase::Waiting, now_ns);
        let delay = self.delay_ns;
        self.retry_at = if wait_for_watch {
            None
        } else {
            self.delay_ns = (delay * 2).min(MAX_DELAY_NS);
            Some(now_ns + delay)
        };
        let news = lost || self.logged.as_deref() != Some(error.as_str());
        let line = news.then(|| {
            let mut line = String::from("ubus: ");
            if lost {
                let _ = write!(line, "connection lost ({error})");
            } else {
                line.push_str(&error);
            }
            if wait_for_watch {
                line.push_str("; registering when ubusd creates it");
            } else if delay < MAX_DELAY_NS {
                let _ = write!(
                    line,
                    "; retrying in {}, then backing off to {}",
                    seconds(delay),
                    seconds(MAX_DELAY_NS)
                );
            } else {
                let _ = write!(line, "; retrying every {}", seconds(MAX_DELAY_NS));
            }
            line
        });
        self.logged = Some(error.clone());
        self.last_error = Some(error);
        line
    }

    /// One line for the SIGUSR1 dump.
    pub fn describe(&self, now_ns: u64) -> String {
        let mut line = format!(
            "ubus state={} seconds_in_state={} retries={}",
            self.phase.as_str(),
            now_ns.saturating_sub(self.since_ns) / 1_000_000_000,
            self.retries
        );
        if let Phase::Registered { object_id } = self.phase {
            let _ = write!(line, " object_id={object_id:#010x}");
        }
        if let Some(at) = self.retry_at {
            let ms = at.saturating_sub(now_ns).div_ceil(1_000_000);
            let _ = write!(line, " next_try_in_ms={ms}");
        }
        if let Some(e) = &self.last_error {
            let _ = write!(line, " last_error=\"{e}\"");
        }
        line
    }
}

/// A delay for people: "100 ms", "1 s", "60 s".
fn seconds(ns: u64) -> String {
    if ns < 1_000_000_000 {
        format!("{} ms", ns.div_ceil(1_000_000))
    } else {
        format!("{} s", ns.div_ceil(1_000_000_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;
    const REFUSED: &str = "ubusd refused the object (status 2)";

    /// Fails every due try from `start` until `end`; returns (tries, lines logged).
    fn refuse_until(r: &mut Reconnect, mut now: u64, end: u64) -> (u32, Vec<String>) {
        let (mut tries, mut lines) = (0, Vec::new());
        while now < end {
            tries += 1;
            r.connected(now);
            lines.extend(r.failed(now, REFUSED.into(), false));
            now = r.retry_at().expect("a retry is scheduled");
        }
        (tries, lines)
    }

    #[test]
    fn refusals_back_off_from_one_to_sixty_seconds_and_log_once() {
        let mut r = Reconnect::new(0);
        let mut now = 0;
        let mut delays = Vec::new();
        let mut lines = Vec::new();
        for _ in 0..10 {
            r.connected(now);
            assert!(!r.due(now));
            lines.extend(r.failed(now, REFUSED.into(), false));
            let at = r.retry_at().unwrap();
            assert!(!r.due(at - 1) && r.due(at));
            delays.push((at - now) / S);
            now = at;
        }
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
        assert_eq!(
            lines,
            [format!(
                "ubus: {REFUSED}; retrying in 1 s, then backing off to 60 s"
            )]
        );
        assert_eq!(r.retries(), 10);
        assert_eq!(r.phase(), Phase::Waiting);

        // Back: one line, the schedule starts over, and status keeps what happened.
        let line = r.registered(now, 0x1234_abcd);
        assert_eq!(
            line,
            format!(
                "ubus: registered as object 0x1234abcd after 10 failed tries (last: {REFUSED})"
            )
        );
        assert_eq!(r.retry_at(), None);
        assert_eq!((r.retries(), r.last_error()), (10, Some(REFUSED)));
        assert_eq!(r.since_ns(), now);
        let lost = r.failed(now + 5 * S, "ubusd closed the connection".into(), false);
        assert_eq!(
            lost.as_deref(),
            Some(
                "ubus: connection lost (ubusd closed the connection); retrying in 1 s, then \
                 backing off to 60 s"
            )
        );
        assert_eq!(r.retry_at(), Some(now + 6 * S));
        assert_eq!(r.retries(), 1);
    }

    #[test]
    fn ten_seconds_of_refusals_cost_four_tries_and_one_line() {
        let mut r = Reconnect::new(0);
        let (tries, lines) = refuse_until(&mut r, 0, 10 * S);
        // Tries at 0, 1, 3 and 7 s; the next is due at 15 s.
        assert_eq!((tries, lines.len()), (4, 1));
        assert_eq!(r.retry_at(), Some(15 * S));
    }

    #[test]
    fn a_new_error_is_logged_a_repeated_one_is_not() {
        let mut r = Reconnect::new(0);
        assert!(r.failed(0, "a".into(), false).is_some());
        assert!(r.failed(S, "a".into(), false).is_none());
        assert!(r.failed(3 * S, "b".into(), false).is_some());
        assert!(r.failed(7 * S, "b".into(), false).is_none());
        assert_eq!(r.last_error(), Some("b"));
    }

    #[test]
    fn the_watch_shortens_the_next_delay_and_a_missing_socket_waits_for_it() {
        let mut r = Reconnect::new(0);
        let line = r.failed(0, "/var/run/ubus/ubus.sock does not exist".into(), true);
        assert_eq!(
            line.as_deref(),
            Some("ubus: /var/run/ubus/ubus.sock does not exist; registering when ubusd creates it")
        );
        assert_eq!(r.retry_at(), None, "no timer while the watch is there");
        // ubusd creates its socket but does not listen yet.
        r.watch_event();
        r.connected(5 * S);
        let line = r.failed(5 * S, "connection refused".into(), false).unwrap();
        assert!(
            line.ends_with("retrying in 100 ms, then backing off to 60 s"),
            "{line}"
        );
        assert_eq!(r.retry_at(), Some(5 * S + S / 10));
        r.connected(5 * S + S / 10);
        assert_eq!(r.since_ns(), 5 * S + S / 10);
        r.registered(5 * S + S / 5, 7);
        assert_eq!(r.phase(), Phase::Registered { object_id: 7 });
    }

    #[test]
    fn describe_names_state_retries_and_error() {
        let mut r = Reconnect::new(0);
        r.failed(0, REFUSED.into(), false);
        assert_eq!(
            r.describe(S / 2),
            format!(
                "ubus state=waiting seconds_in_state=0 retries=1 next_try_in_ms=500 \
                 last_error=\"{REFUSED}\""
            )
        );
        r.connected(S);
        r.registered(S, 0x42);
        assert_eq!(
            r.describe(11 * S),
            format!(
                "ubus state=registered seconds_in_state=10 retries=1 object_id=0x00000042 \
                 last_error=\"{REFUSED}\""
            )
        );
    }
}
