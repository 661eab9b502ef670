//! The daemon on ubus: object `ndpresponder` with `status`, `reload` and `explain`, and the
//! connection's lifecycle. ubusd restarting is noticed through the socket's directory
//! (inotify), so reconnecting needs no timer and packets keep flowing meanwhile.

use super::State;
use crate::config::values::{word_for, SOURCE_POLICIES};
use crate::core::responder::{self, Coverage, DropReason};
use crate::sys::inotify::DirWatch;
use crate::sys::time::monotonic_ns;
use crate::ubus::{
    BlobmsgBuilder, BlobmsgList, BlobmsgType, BlobmsgValue, Call, Method, ObjectClient, Status,
    UbusConnection,
};
use crate::{log_debug, log_info, log_warn};
use std::net::Ipv6Addr;
use std::path::PathBuf;

pub const OBJECT: &str = "ndpresponder";
pub const METHODS: [Method; 3] = [
    Method {
        name: "status",
        args: &[],
    },
    Method {
        name: "reload",
        args: &[],
    },
    Method {
        name: "explain",
        args: &[
            ("address", BlobmsgType::String),
            ("interface", BlobmsgType::String),
        ],
    },
];

/// ubusd creates its socket file at bind() and accepts only after listen(), so a connect
/// right after the create event can be refused: retry this often, this many times (2 s).
const RETRY_INTERVAL_NS: u64 = 100_000_000;
const RETRIES: u32 = 20;

/// The ubus side of the daemon: a connection while ubusd is there, and a watch on the
/// socket's directory to notice it coming back.
pub struct Bus {
    path: PathBuf,
    conn: Option<UbusConnection>,
    registered: bool,
    watch: Option<DirWatch>,
    /// While ubusd is (re)starting: when to try again, and how many tries are left.
    retry: Option<(u64, u32)>,
}

impl Bus {
    pub fn new(path: PathBuf) -> Bus {
        let dir = path
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let watch = match DirWatch::new(&dir) {
            Ok(w) => Some(w),
            Err(e) => {
                log_info!(
                    "ubus: cannot watch {} ({e}); connecting only at start",
                    dir.display()
                );
                None
            }
        };
        let mut bus = Bus {
            path,
            conn: None,
            registered: false,
            watch,
            retry: None,
        };
        bus.connect(RETRIES);
        bus
    }

    /// Tries to connect; if that fails and `retries` is not zero, schedules another try.
    fn connect(&mut self, retries: u32) {
        self.retry = None;
        if self.conn.is_some() {
            return;
        }
        let client = ObjectClient::new(OBJECT, &METHODS);
        match UbusConnection::connect(&self.path, client) {
            Ok(c) => {
                log_debug!("ubus: connected to {}", self.path.display());
                self.conn = Some(c);
                self.registered = false;
            }
            Err(e) => {
                log_debug!("ubus: {}: {e}", self.path.display());
                // A missing socket will announce itself through the watch; a refused one
                // may be ubusd between bind() and listen().
                if retries > 0 && e.kind() == std::io::ErrorKind::ConnectionRefused {
                    self.retry = Some((monotonic_ns() + RETRY_INTERVAL_NS, retries - 1));
                }
            }
        }
    }

    /// Milliseconds until a pending retry is due; `None` when nothing is pending (so the
    /// daemon sleeps without a timeout).
    pub fn timeout_ms(&self) -> Option<i32> {
        let (at, _) = self.retry?;
        Some(at.saturating_sub(monotonic_ns()).div_ceil(1_000_000) as i32)
    }

    /// Runs a due retry.
    pub fn on_tick(&mut self, now_ns: u64) {
        if let Some((at, left)) = self.retry {
            if now_ns >= at {
                self.connect(left);
            }
        }
    }

    pub fn conn_fd(&self) -> Option<(i32, bool)> {
        self.conn.as_ref().map(|c| (c.as_raw_fd(), c.wants_write()))
    }

    pub fn watch_fd(&self) -> Option<i32> {
        use std::os::fd::AsRawFd;
        self.watch.as_ref().map(|w| w.as_raw_fd())
    }

    /// Something was created in the socket's directory: maybe ubusd is back.
    pub fn on_watch(&mut self) {
        if let Some(w) = &self.watch {
            w.drain();
        }
        self.connect(RETRIES);
    }

    /// The connection is readable or writable (or failed).
    pub fn on_ready(&mut self, writable: bool, state: &mut State) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let result = if writable {
            conn.on_writable()
        } else {
            conn.on_readable(|call| dispatch(state, call))
        };
        match result {
            Ok(()) => {
                if !self.registered && conn.object_id().is_some() {
                    self.registered = true;
                    log_info!("ubus: object '{OBJECT}' registered");
                }
            }
            Err(e) => {
                log_warn!("ubus: connection lost ({e}); will re-register when ubusd is back");
                self.conn = None;
                self.registered = false;
                // ubusd may already be listening again (a quick restart).
                self.connect(RETRIES);
            }
        }
    }
}

fn dispatch(state: &mut State, call: &Call) -> Result<Option<Vec<u8>>, Status> {
    match call.method {
        "status" => Ok(Some(status(state))),
        "reload" => match state.reload() {
            Ok(()) => Ok(None),
            // The error is in status (`config_error`) and in the log; the caller learns
            // that the new file was refused.
            Err(_) => Err(Status::InvalidArgument),
        },
        "explain" => explain(state, &call.args).map(Some),
        // ObjectClient answers unknown methods itself; this only guards the table.
        _ => Err(Status::MethodNotFound),
    }
}

fn put_prefixes(b: &mut BlobmsgBuilder, name: &str, nets: &[ipnet::Ipv6Net]) {
    let n = b.open_array(name);
    for p in nets {
        b.put_string("", &p.to_string());
    }
    b.close(n);
}

/// The `status` reply: daemon facts, then every uplink with its rules, link and counters.
pub fn status(state: &State) -> Vec<u8> {
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
        b.put_string("source", word_for(&SOURCE_POLICIES, &cfg.source));
        b.put_bool("router", cfg.router);
        b.put_bool("override", cfg.override_flag);
        b.put_u32("rate_limit", cfg.rate_limit.rate);
        b.put_u32("source_rate_limit", cfg.source_rate_limit.rate);
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
        let rules = responder::lookup(cfg, addresses, &address);
        let answers = rules.answer().is_ok();
        let reason = match rules.answer() {
            Err(why) => format!("{}: {}", why.as_str(), why.describe()),
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
        match rules.coverage {
            Coverage::Covered(p) => b.put_string("rule", &p.to_string()),
            Coverage::Excluded { prefix, exclude } => {
                b.put_string("rule", &prefix.to_string());
                b.put_string("exclude", &exclude.to_string());
            }
            Coverage::OutOfRange => {}
        }
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
