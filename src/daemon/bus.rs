//! The daemon on ubus: object `ndpresponder` with `status`, `reload` and `explain`, and the
//! connection's lifecycle. ubusd (re)starting is noticed through the socket's directory
//! (inotify); every failure is retried on the schedule of [`Reconnect`], and packets keep
//! flowing meanwhile.

use super::follow_status;
use super::reconnect::{Phase, Reconnect};
use super::State;
use crate::config::values::{word_for, SOURCE_POLICIES};
use crate::core::groups::GROUP_CAP;
use crate::core::responder::{self, DropReason};
use crate::sys::inotify::DirWatch;
use crate::sys::time::monotonic_ns;
use crate::ubus::{
    BlobmsgBuilder, BlobmsgList, BlobmsgType, BlobmsgValue, Event, Method, ObjectClient, Status,
    UbusConnection, Watcher,
};
use crate::{log_debug, log_info, log_notice, log_warn};
use std::io::ErrorKind;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

pub const OBJECT: &str = "ndpresponder";
/// netifd's object: `dump` lists every interface with its prefixes, and its subscribers get
/// `interface.update` / `interface.down`.
pub const NETIFD: &str = "network.interface";

/// What a method does: it gets the daemon's state, the ubus link (for status) and the
/// call's arguments, only those its policy names, each with its type.
pub type Handler = fn(&mut State, &Reconnect, &[u8]) -> Result<Option<Vec<u8>>, Status>;

/// The object's methods, one row each (as odhcpd's `UBUS_METHOD` table): the name and
/// argument policy published in ADD_OBJECT, which `ubus -v list` shows, and applied to
/// every call, and the handler the call goes to.
pub static METHODS: [Method<Handler>; 3] = [
    Method {
        name: "status",
        args: &[],
        handler: |state, ubus, _| Ok(Some(status(state, ubus))),
    },
    Method {
        name: "reload",
        args: &[],
        handler: |state, _, _| match state.reload() {
            Ok(()) => Ok(None),
            // The error is in status (`config_error`) and in the log; the caller learns
            // that the new file was refused.
            Err(_) => Err(Status::InvalidArgument),
        },
    },
    Method {
        name: "explain",
        args: &[
            ("address", BlobmsgType::String),
            ("interface", BlobmsgType::String),
        ],
        handler: |state, _, args| explain(state, args).map(Some),
    },
];

/// The ubus side of the daemon: a connection while ubusd is there, a watch on the socket's
/// directory to notice it coming back, and the retry schedule.
pub struct Bus {
    path: PathBuf,
    conn: Option<UbusConnection<Handler>>,
    watch: Option<DirWatch>,
    /// The watch is on the socket's directory itself, not on an ancestor waiting for it.
    watching_dir: bool,
    link: Reconnect,
    /// The `network.interface dump` in flight (its seq) and when it is given up on
    /// (CLOCK_MONOTONIC ns).
    dump_deadline: Option<(u16, u64)>,
    /// How long the next dump may take: [`DUMP_TIMEOUT_NS`], doubled after each one that
    /// went unanswered up to [`DUMP_TIMEOUT_MAX_NS`], so a hung netifd costs one call per
    /// step, never a spin.
    dump_timeout_ns: u64,
}

/// netifd answers `dump` from memory at once; 5 s without an answer means it is hung.
const DUMP_TIMEOUT_NS: u64 = 5_000_000_000;
const DUMP_TIMEOUT_MAX_NS: u64 = 320_000_000_000;

impl Bus {
    pub fn new(path: PathBuf, now_ns: u64) -> Bus {
        let mut bus = Bus {
            path,
            conn: None,
            watch: None,
            watching_dir: false,
            link: Reconnect::new(now_ns),
            dump_deadline: None,
            dump_timeout_ns: DUMP_TIMEOUT_NS,
        };
        bus.connect(now_ns);
        bus
    }

    /// Watches the socket's directory, or while it does not exist (ubusd creates it at
    /// start; a host without ubusd has none) the nearest ancestor that does, so that even
    /// then no timer is needed.
    fn update_watch(&mut self) {
        if self.watching_dir {
            return;
        }
        let dir = socket_dir(&self.path);
        for (i, candidate) in dir.ancestors().enumerate() {
            if let Ok(w) = DirWatch::new(candidate) {
                self.watching_dir = i == 0;
                self.watch = Some(w);
                return;
            }
        }
        self.watch = None;
    }

    /// Tries to connect; a failure is scheduled for a retry.
    fn connect(&mut self, now_ns: u64) {
        if self.conn.is_some() {
            return;
        }
        // Before connecting, so a socket created in between is seen by one or the other.
        self.update_watch();
        let client = ObjectClient::new(OBJECT, &METHODS).with_watch(Watcher::new(NETIFD, "dump"));
        match UbusConnection::connect(&self.path, client) {
            Ok(c) => {
                log_debug!("ubus: connected to {}", self.path.display());
                self.conn = Some(c);
                self.link.connected(now_ns);
            }
            Err(e) => {
                let path = self.path.display();
                let (error, wait_for_watch) = match e.kind() {
                    // The watch announces the socket; without one, retry on the timer.
                    ErrorKind::NotFound => (format!("{path} does not exist"), self.watch.is_some()),
                    ErrorKind::ConnectionRefused => (
                        format!("ubusd does not accept connections on {path}"),
                        false,
                    ),
                    ErrorKind::WouldBlock => (
                        format!("ubusd's queue of new connections on {path} is full"),
                        false,
                    ),
                    _ => (format!("{path}: {e}"), false),
                };
                self.fail(now_ns, error, wait_for_watch);
            }
        }
    }

    fn fail(&mut self, now_ns: u64, error: String, wait_for_watch: bool) {
        self.conn = None;
        self.dump_deadline = None;
        let try_no = self.link.retries() + 1;
        match self.link.failed(now_ns, error, wait_for_watch) {
            // No ubusd (yet) is normal on a host without it and at boot.
            Some(line) if wait_for_watch => log_info!("{line}"),
            Some(line) => log_warn!("{line}"),
            None => log_debug!(
                "ubus: try {try_no} failed the same way: {}",
                self.link.last_error().unwrap_or_default()
            ),
        }
    }

    /// When the next try is due (CLOCK_MONOTONIC ns); `None` when nothing is pending, so
    /// the daemon sleeps without a timeout.
    pub fn retry_at(&self) -> Option<u64> {
        match self.conn {
            Some(_) => self.dump_deadline.map(|(_, at)| at),
            None => self.link.retry_at(),
        }
    }

    /// Runs a due retry, or gives up on an unanswered dump and calls again.
    pub fn on_tick(&mut self, now_ns: u64, state: &mut State) {
        if self.conn.is_none() && self.link.due(now_ns) {
            self.connect(now_ns);
        }
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if self.dump_deadline.is_some_and(|(_, at)| now_ns >= at) {
            state.netifd_unanswered(self.dump_timeout_ns / 1_000_000_000);
            let timeout = (self.dump_timeout_ns * 2).min(DUMP_TIMEOUT_MAX_NS);
            self.dump_deadline = None;
            if let Err(e) = conn.object_mut().retry_watch_call() {
                log_warn!("netifd: {e}");
            }
            self.track_dump(now_ns);
            // After track_dump, which took the new call for an answered one.
            self.dump_timeout_ns = timeout;
            if let Some((seq, _)) = self.dump_deadline {
                self.dump_deadline = Some((seq, now_ns + timeout));
            }
        }
    }

    /// Arms the deadline of each dump that goes out; an answered one (none pending, or
    /// another one sent after it) ends the backoff.
    fn track_dump(&mut self, now_ns: u64) {
        let pending = self
            .conn
            .as_ref()
            .and_then(|c| c.object().watch())
            .and_then(|w| w.pending_call());
        let armed = self.dump_deadline.map(|(seq, _)| seq);
        if pending == armed {
            return;
        }
        if armed.is_some() {
            self.dump_timeout_ns = DUMP_TIMEOUT_NS;
        }
        self.dump_deadline = pending.map(|seq| (seq, now_ns + self.dump_timeout_ns));
    }

    pub fn conn_fd(&self) -> Option<(i32, bool)> {
        self.conn.as_ref().map(|c| (c.as_raw_fd(), c.wants_write()))
    }

    pub fn watch_fd(&self) -> Option<i32> {
        use std::os::fd::AsRawFd;
        self.watch.as_ref().map(|w| w.as_raw_fd())
    }

    /// Something was created in the socket's directory (or the ancestor watched until it
    /// exists): maybe ubusd is back.
    pub fn on_watch(&mut self, now_ns: u64) {
        if let Some(w) = &self.watch {
            w.drain();
        }
        if self.conn.is_none() {
            self.link.watch_event();
            self.connect(now_ns);
        }
    }

    /// The connection is readable or writable (or failed).
    pub fn on_ready(&mut self, now_ns: u64, writable: bool, state: &mut State) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let link = &mut self.link;
        let result = if writable {
            conn.on_writable()
        } else {
            conn.on_readable(|event| match event {
                Event::Registered { object_id } => {
                    let line = link.registered(now_ns, *object_id);
                    log_info!("{line}");
                    Ok(None)
                }
                Event::Call(call) => (call.method.handler)(state, link, &call.args),
                Event::Watch(news) => {
                    state.on_netifd(news);
                    Ok(None)
                }
            })
        };
        if let Err(e) = result {
            self.fail(now_ns, e.to_string(), false);
        }
        self.track_dump(now_ns);
    }

    /// The link's state in the SIGUSR1 dump.
    pub fn log_state(&self, now_ns: u64) {
        log_notice!("{}", self.link.describe(now_ns));
    }
}

fn socket_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The `ubus` table of status: how the link to ubusd stands and what it went through.
fn put_ubus(b: &mut BlobmsgBuilder, ubus: &Reconnect) {
    let t = b.open_table("ubus");
    b.put_string("state", ubus.phase().as_str());
    if let Phase::Registered { object_id } = ubus.phase() {
        b.put_string("object_id", &format!("{object_id:#010x}"));
    }
    b.put_u64(
        "seconds_in_state",
        monotonic_ns().saturating_sub(ubus.since_ns()) / 1_000_000_000,
    );
    b.put_u64("retries", ubus.retries());
    if let Some(e) = ubus.last_error() {
        b.put_string("last_error", e);
    }
    b.close(t);
}

fn put_prefixes(b: &mut BlobmsgBuilder, name: &str, nets: &[ipnet::Ipv6Net]) {
    let n = b.open_array(name);
    for p in nets {
        b.put_string("", &p.to_string());
    }
    b.close(n);
}

/// The `status` reply: daemon facts, the ubus link, then every uplink with its rules, link
/// and counters.
pub fn status(state: &State, ubus: &Reconnect) -> Vec<u8> {
    let mut b = BlobmsgBuilder::new();
    b.put_string("version", env!("CARGO_PKG_VERSION"));
    b.put_u64(
        "uptime",
        monotonic_ns().saturating_sub(state.started_ns) / 1_000_000_000,
    );
    b.put_bool("enabled", state.config.enabled);
    b.put_string("config", &state.config_origin());
    if let Some(e) = &state.load_error {
        b.put_string("config_error", e);
    }
    b.put_u64("reloads", state.reloads);
    put_ubus(&mut b, ubus);
    follow_status::put_tables(&mut b, state);
    let n = b.open_table("netifd");
    b.put_string("state", state.netifd.state);
    b.put_u64("dumps", state.netifd.dumps);
    if let Some(at) = state.netifd.updated_ns {
        b.put_u64(
            "seconds_since_dump",
            monotonic_ns().saturating_sub(at) / 1_000_000_000,
        );
    }
    b.put_u32("entries_skipped", state.netifd.prefixes.skipped);
    if let Some(e) = &state.netifd.error {
        b.put_string("error", e);
    }
    b.close(n);
    let uplinks = b.open_array("uplinks");
    for u in &state.uplinks {
        let cfg = u.config();
        let t = b.open_table("");
        b.put_string("name", &cfg.name);
        b.put_string("device", &cfg.device);
        if let Some(i) = &cfg.interface {
            b.put_string("interface", i);
        }
        if let Some((ifindex, link)) = state.links.by_name(&cfg.device) {
            b.put_u32("ifindex", ifindex);
            if let Some(mac) = link.mac {
                b.put_string("mac", &mac.to_string());
            }
            b.put_bool("link_up", link.up);
        }
        b.put_string("state", u.state.as_str());
        b.put_bool("armed", u.state.is_armed());
        if let Some(e) = &u.last_error {
            b.put_string("error", e);
        }
        put_prefixes(&mut b, "prefixes", &cfg.prefixes);
        put_prefixes(&mut b, "excludes", &cfg.excludes);
        let names = b.open_array("prefix_from");
        for n in &cfg.prefix_from {
            b.put_string("", n);
        }
        b.close(names);
        follow_status::put_uplink(&mut b, state, u);
        b.put_string("source", word_for(&SOURCE_POLICIES, &cfg.source));
        b.put_bool("router", cfg.router);
        b.put_bool("override", cfg.override_flag);
        b.put_u32("rate_limit", cfg.rate_limit.rate);
        b.put_u32("source_rate_limit", cfg.source_rate_limit.rate);
        let mt = b.open_table("multicast");
        b.put_string("mode", u.multicast_mode().as_str());
        b.put_u32("groups_joined", u.groups_joined() as u32);
        match u.group_plan().groups() {
            Some(g) => b.put_u32("groups_needed", g.len() as u32),
            None => b.put_string("over_cap", "the rules span more groups than the cap"),
        }
        b.put_u32("group_cap", GROUP_CAP as u32);
        if let Some(e) = &u.group_error {
            b.put_string("error", e);
        }
        b.close(mt);
        let c = u.responder.counters();
        let ct = b.open_table("counters");
        b.put_u64("ns_received", c.ns_received);
        b.put_u64("na_sent", c.na_sent);
        b.put_u64("send_errors", c.send_errors);
        let dt = b.open_table("drops");
        for &r in DropReason::ALL {
            b.put_u64(r.as_str(), c.drop_count(r));
        }
        b.close(dt);
        b.close(ct);
        b.close(t);
    }
    b.close(uplinks);
    b.finish()
}

/// The `explain` reply: for `address`, which uplink (optionally only `interface`, matched
/// against uplink name, device or netifd interface) would answer, by which rule, with which
/// flags and source, or why not.
pub fn explain(state: &State, args: &[u8]) -> Result<Vec<u8>, Status> {
    let args = BlobmsgList::new(args);
    let text = |name: &str| match args.get(name) {
        Ok(Some(BlobmsgValue::String(s))) => Ok(Some(s)),
        Ok(None) => Ok(None),
        _ => Err(Status::InvalidArgument),
    };
    let address: Ipv6Addr = text("address")?
        .ok_or(Status::InvalidArgument)?
        .parse()
        .map_err(|_| Status::InvalidArgument)?;
    let only = text("interface")?;
    let selected: Vec<_> = state
        .uplinks
        .iter()
        .filter(|u| {
            let c = u.config();
            only.is_none_or(|i| c.name == i || c.device == i || c.interface.as_deref() == Some(i))
        })
        .collect();
    if only.is_some() && selected.is_empty() {
        return Err(Status::NotFound);
    }
    let mut b = BlobmsgBuilder::new();
    b.put_string("address", &address.to_string());
    let arr = b.open_array("uplinks");
    for u in selected {
        let cfg = u.config();
        let t = b.open_table("");
        b.put_string("name", &cfg.name);
        b.put_string("device", &cfg.device);
        let link = state.links.by_name(&cfg.device).map(|(_, l)| l);
        let addresses = link.map_or(&[][..], |l| &l.addresses[..]);
        let rules = follow_status::lookup(state, u, addresses, &address);
        let answers = rules.answer().is_ok();
        let reason = match rules.answer() {
            Err(why) => follow_status::reason(state, u, &rules.found, &address)
                .unwrap_or_else(|| format!("{}: {}", why.as_str(), why.describe())),
            Ok(_) if !state.config.enabled => {
                "covered, but ndpresponder is disabled globally".to_string()
            }
            Ok(_) if !u.state.is_armed() => {
                "covered, but the uplink is not armed (see state)".to_string()
            }
            Ok(_) => "covered".to_string(),
        };
        b.put_bool(
            "answers",
            answers && state.config.enabled && u.state.is_armed(),
        );
        b.put_string("reason", &reason);
        b.put_string("state", u.state.as_str());
        follow_status::put_lookup(&mut b, state, u, &rules.found);
        if answers {
            b.put_bool("router", cfg.router);
            b.put_bool("override", cfg.override_flag);
            b.put_string("source_policy", word_for(&SOURCE_POLICIES, &cfg.source));
            let ll = link.and_then(|l| l.link_local());
            let router_ll = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
            let from_ll = responder::na_source(cfg.source, address, &router_ll, ll);
            let from_global = responder::na_source(cfg.source, address, &address, ll);
            b.put_string("na_source_for_link_local_ns", &from_ll.to_string());
            b.put_string("na_source_for_global_ns", &from_global.to_string());
        }
        b.close(t);
    }
    b.close(arr);
    Ok(b.finish())
}
