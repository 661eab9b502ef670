//! The daemon: one thread, one poll over the signalfd, the rtnetlink socket, the ubus
//! connection and one packet socket per armed uplink. No timers but a ubus retry, the
//! deadline of a netifd `dump` in flight or an announcement sweep waiting for its budget:
//! with no NS arriving, no sweep and no link, config or netifd changes, it never wakes up.

pub mod bus;
mod follow_status;
mod memberships;
pub mod reconnect;
mod uplink;

use crate::cli::{RunOptions, Source};
use crate::config::{self, Config, UplinkConfig};
use crate::core::announce::SweepTrigger;
use crate::state::hosts::HostTable;
use crate::state::links::Links;
use crate::state::netifd::{self as netifd_dump, NetifdPrefixes};
use crate::state::routes::{RouteChange, RouteTable};
use crate::state::rtnl::{self, RtnlEvent};
use crate::sys::netlink::{self, Dump, NetlinkSocket};
use crate::sys::packet::RecvBatch;
use crate::sys::poll::{self, PollFd, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT};
use crate::sys::probe::ProbeSocket;
use crate::sys::signal::{Signal, SignalFd};
use crate::sys::time::monotonic_ns;
use crate::ubus::{watch, WatchEvent};
use crate::{log, log_debug, log_error, log_info, log_notice, log_warn};
use bus::Bus;
use std::os::fd::AsRawFd;
use uplink::{HostEvidence, Uplink};

/// rtnetlink datagrams are at most a page or so; 32 KiB is the size iproute2 uses.
const NETLINK_BUF_LEN: usize = 32768;

/// Where the netlink dump sequence stands: links first, then addresses, routes and
/// neighbours (one dump at a time per socket).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DumpPhase {
    Links,
    Addresses,
    Routes,
    Neighbours,
    Done,
}

impl DumpPhase {
    fn request(self) -> Option<Dump> {
        match self {
            DumpPhase::Links => Some(Dump::Links),
            DumpPhase::Addresses => Some(Dump::Ipv6Addresses),
            DumpPhase::Routes => Some(Dump::Ipv6Routes),
            DumpPhase::Neighbours => Some(Dump::Ipv6Neighbours),
            DumpPhase::Done => None,
        }
    }

    fn next(self) -> DumpPhase {
        match self {
            DumpPhase::Links => DumpPhase::Addresses,
            DumpPhase::Addresses => DumpPhase::Routes,
            DumpPhase::Routes => DumpPhase::Neighbours,
            DumpPhase::Neighbours | DumpPhase::Done => DumpPhase::Done,
        }
    }
}

/// Everything the loop's handlers act on, apart from the descriptors being polled.
pub struct State {
    source: Source,
    pub config: Config,
    pub load_error: Option<String>,
    pub links: Links,
    /// The main IPv6 routing table and the usable neighbours, for downstream ranges.
    pub routes: RouteTable,
    pub hosts: HostTable,
    /// Open while an uplink probes for hosts (`hosts probe`).
    probe: Option<ProbeSocket>,
    pub uplinks: Vec<Uplink>,
    verbose: bool,
    pub started_ns: u64,
    pub reloads: u64,
    pub netifd: Netifd,
    /// While the kernel's tables are being read (at start, after lost events): the sweep
    /// that follows. Hosts that show up meanwhile are not announced one by one, and no
    /// other sweep starts: that sweep announces them all at the budget's pace.
    reading: Option<SweepTrigger>,
    /// A default route changed since the uplinks last looked at their router.
    default_route_changed: bool,
}

/// The netifd state after ubusd refused the subscription: the dump's ranges are used, but
/// netifd's changes do not reach the daemon.
const SUBSCRIBE_REFUSED: &str = "subscribe refused";

/// What the daemon knows from netifd, for the `prefix_from` rules.
#[derive(Default)]
pub struct Netifd {
    /// The last `dump` reply, kept so that a reload naming other interfaces needs no call.
    last_dump: Option<Vec<u8>>,
    /// Its prefixes, for the interfaces the rules name.
    pub prefixes: NetifdPrefixes,
    /// How the watch stands, as status shows it.
    pub state: &'static str,
    pub dumps: u64,
    pub updated_ns: Option<u64>,
    pub error: Option<String>,
}

impl State {
    /// Where the configuration comes from, for logs and status.
    pub fn config_origin(&self) -> String {
        match &self.source {
            Source::Flags(_) => "command line".to_string(),
            Source::Uci(dir) => uci_path(dir).display().to_string(),
        }
    }

    /// Re-reads the UCI file on request (SIGHUP, ubus), counted for status.
    pub fn reload(&mut self) -> Result<(), String> {
        self.reloads += 1;
        self.load()
    }

    /// Reads the UCI file. On error the running configuration stays, the error is logged and
    /// kept for status.
    fn load(&mut self) -> Result<(), String> {
        let Source::Uci(dir) = &self.source else {
            log_notice!("reload: rules come from the command line; nothing to re-read");
            return Ok(());
        };
        let path = uci_path(dir);
        match config::from_uci(&path) {
            Ok(loaded) => {
                for w in &loaded.warnings {
                    log_warn!("{w}");
                }
                self.load_error = None;
                self.apply(loaded.config);
                log_info!("configuration loaded from {}", path.display());
                Ok(())
            }
            Err(e) => {
                let msg = e.to_string();
                for line in msg.lines() {
                    log_error!("{line}");
                }
                log_error!(
                    "{}: not applied; still running the previous configuration",
                    path.display()
                );
                self.load_error = Some(msg.clone());
                Err(msg)
            }
        }
    }

    /// Switches to `new`: uplinks that keep their name and device keep their socket and
    /// counters and only take the new rules; others are opened or closed.
    fn apply(&mut self, new: Config) {
        let now = monotonic_ns();
        let mut old = std::mem::take(&mut self.uplinks);
        for cfg in &new.uplinks {
            let same = old
                .iter()
                .position(|u| u.config().name == cfg.name && u.config().device == cfg.device);
            let uplink = match same {
                Some(i) => {
                    let mut u = old.swap_remove(i);
                    u.reconfigure(self.effective(cfg), now);
                    u
                }
                None => Uplink::new(self.effective(cfg), now),
            };
            self.uplinks.push(uplink);
        }
        for gone in old {
            log_info!(
                "uplink {} (device={}) removed",
                gone.config().name,
                gone.config().device
            );
        }
        if !self.verbose {
            log::set_level(new.log_level);
        }
        let names_changed = prefix_from_names(&new) != prefix_from_names(&self.config);
        self.config = new;
        if names_changed {
            self.reparse_netifd();
        }
        self.sync_uplinks();
    }

    /// Applies one rtnetlink event to links, routes or neighbours; true when the uplinks
    /// must re-check their devices (routes and neighbours are read per packet instead).
    fn apply_event(&mut self, ev: &RtnlEvent) -> bool {
        match ev {
            RtnlEvent::Route { route, change } => {
                let refused = self.routes.refused();
                let changed = self.routes.apply(route, *change);
                if refused == 0 && self.routes.refused() > 0 {
                    log_warn!(
                        "route table full ({} routes): further routes are left out and \
                         counted in status (routes.refused)",
                        crate::state::routes::MAX_ROUTES
                    );
                }
                if changed && *change != RouteChange::Delete && route.dst.prefix_len() == 128 {
                    self.host_appeared(HostEvidence::HostRoute, &route.dst.network());
                }
                self.default_route_changed |= changed && route.dst.prefix_len() == 0;
                false
            }
            RtnlEvent::Neighbour {
                ifindex,
                addr,
                present,
            } => {
                let refused = self.hosts.refused();
                let new = self.hosts.apply(*ifindex, addr, *present);
                if refused == 0 && self.hosts.refused() > 0 {
                    log_warn!(
                        "host table full ({} neighbours): further hosts are left out and \
                         counted in status (hosts.refused)",
                        crate::state::hosts::MAX_HOSTS
                    );
                }
                if new && *present {
                    self.host_appeared(HostEvidence::Neighbour(*ifindex), addr);
                }
                false
            }
            RtnlEvent::LinkGone { ifindex, .. } => {
                self.routes.forget_device(*ifindex);
                self.hosts.forget_device(*ifindex);
                self.links.apply(ev)
            }
            _ => self.links.apply(ev),
        }
    }

    /// Every uplink hears of a host that appeared (probes waiting for it, announcements).
    fn host_appeared(&mut self, evidence: HostEvidence, addr: &std::net::Ipv6Addr) {
        let kernel = uplink::Kernel {
            links: &self.links,
            routes: &self.routes,
            hosts: &self.hosts,
            probe: self.probe.as_ref(),
        };
        let announce = self.reading.is_none();
        for u in &mut self.uplinks {
            u.on_host(evidence, addr, &kernel, announce, self.verbose);
        }
    }

    /// After rtnetlink events: an uplink whose default router appeared or changed
    /// announces every host again, the new router knowing none of them.
    fn check_routers(&mut self) {
        if !std::mem::take(&mut self.default_route_changed) {
            return;
        }
        let now = monotonic_ns();
        for u in &mut self.uplinks {
            if u.router_changed(&self.routes) && self.reading.is_none() {
                u.start_sweep(SweepTrigger::Router, now);
            }
        }
    }

    /// The kernel's tables are read: every uplink with `announce` sweeps them.
    fn tables_read(&mut self) {
        let Some(trigger) = self.reading.take() else {
            return;
        };
        let now = monotonic_ns();
        for u in &mut self.uplinks {
            u.router_changed(&self.routes);
            u.start_sweep(trigger, now);
        }
    }

    /// When the earliest sweep waiting for its budget wants to go on.
    fn sweep_due(&self) -> Option<u64> {
        if self.reading.is_some() {
            return None;
        }
        self.uplinks.iter().filter_map(Uplink::sweep_due).min()
    }

    /// Lets every sweep that is due go on.
    fn run_sweeps(&mut self, now: u64) {
        if self.sweep_due().is_none_or(|due| due > now) {
            return;
        }
        let kernel = uplink::Kernel {
            links: &self.links,
            routes: &self.routes,
            hosts: &self.hosts,
            probe: self.probe.as_ref(),
        };
        for u in &mut self.uplinks {
            if u.sweep_due().is_some_and(|due| due <= now) {
                u.sweep(&kernel, self.verbose, now);
            }
        }
    }

    /// The rules an uplink runs on: its configuration with the current prefixes of its
    /// `prefix_from` interfaces and the devices their hosts are on.
    fn effective(&self, cfg: &UplinkConfig) -> UplinkConfig {
        let mut e = cfg.clone();
        let netifd = &mut e.netifd;
        for name in &cfg.prefix_from {
            for p in self.netifd.prefixes.of(name) {
                if !netifd.prefixes.contains(p) {
                    netifd.prefixes.push(*p);
                }
            }
            for d in self.netifd.prefixes.devices_of(name) {
                if !netifd.devices.contains(d) {
                    netifd.devices.push(d.clone());
                }
            }
        }
        e
    }

    /// Parses the kept dump for the interfaces the rules now name; a change re-applies the
    /// rules of every uplink.
    fn reparse_netifd(&mut self) {
        let names = prefix_from_names(&self.config);
        let wanted: Vec<&str> = names.iter().map(String::as_str).collect();
        let parsed = match &self.netifd.last_dump {
            Some(data) => match netifd_dump::parse_dump(data, &wanted) {
                Ok(p) => {
                    self.netifd.error = None;
                    p
                }
                Err(e) => {
                    if self.netifd.error.as_deref() != Some(e.as_str()) {
                        log_warn!("{e}");
                        self.netifd.error = Some(e);
                    }
                    return;
                }
            },
            None => NetifdPrefixes::default(),
        };
        if parsed == self.netifd.prefixes {
            return;
        }
        for name in &names {
            let (old, new) = (self.netifd.prefixes.of(name), parsed.of(name));
            let devices = parsed.devices_of(name);
            if old != new || self.netifd.prefixes.devices_of(name) != devices {
                let devices = match devices.is_empty() {
                    true => "none".to_string(),
                    false => devices.join(" "),
                };
                log_info!(
                    "netifd interface {name}: prefixes {} hosts on {devices}",
                    nets_text(new)
                );
            }
        }
        self.netifd.prefixes = parsed;
        let now = monotonic_ns();
        for i in 0..self.uplinks.len() {
            let name = &self.uplinks[i].config().name;
            if let Some(base) = self.config.uplinks.iter().find(|c| &c.name == name) {
                let cfg = self.effective(base);
                self.uplinks[i].reconfigure(cfg, now);
            }
        }
        self.sync_uplinks();
    }

    /// netifd took more than `seconds` to answer `dump`: its last answer may be stale, so
    /// its ranges are dropped until it answers (logged once per silence).
    pub fn netifd_unanswered(&mut self, seconds: u64) {
        if self.netifd.state != "not answering" {
            log_warn!(
                "netifd: network.interface did not answer dump within {seconds} s; \
                 prefix_from ranges are empty until it does (calling again with backoff)"
            );
        }
        self.netifd.state = "not answering";
        self.netifd.last_dump = None;
        self.reparse_netifd();
    }

    /// News from the watch on netifd's `network.interface`.
    pub fn on_netifd(&mut self, event: &WatchEvent) {
        let uses = !prefix_from_names(&self.config).is_empty();
        match event {
            WatchEvent::Subscribed { target } => {
                self.netifd.state = "subscribed";
                log_info!("netifd: subscribed to network.interface (id {target:#010x})");
            }
            WatchEvent::Reply(data) => {
                // A dump answered without a subscription still gives the ranges, but they
                // do not follow netifd's changes: status keeps saying so.
                if self.netifd.state != SUBSCRIBE_REFUSED {
                    self.netifd.state = "subscribed";
                }
                self.netifd.dumps += 1;
                self.netifd.updated_ns = Some(monotonic_ns());
                self.netifd.last_dump = Some(data.clone());
                self.reparse_netifd();
            }
            WatchEvent::Absent => {
                if self.netifd.state != "absent" {
                    let line = "netifd: network.interface is not on ubus (or ubusd's ACLs \
                                hide it); prefix_from ranges are empty until it appears \
                                (ubus.object.add)";
                    if uses {
                        log_notice!("{line}");
                    } else {
                        log_debug!("{line}");
                    }
                }
                self.netifd.state = "absent";
                self.netifd.last_dump = None;
                self.reparse_netifd();
            }
            WatchEvent::Refused { what, status } => {
                let mut line = format!("netifd: {what} refused with ubus status {status}");
                if *what == watch::SUBSCRIBE {
                    self.netifd.state = SUBSCRIBE_REFUSED;
                    line.push_str(
                        "; prefix_from ranges are read once and do not follow netifd's \
                         changes until a subscription succeeds (ubusd's ACL must allow \
                         subscribe to network.interface)",
                    );
                }
                if self.netifd.error.as_deref() != Some(line.as_str()) {
                    log_warn!("{line}");
                    self.netifd.error = Some(line);
                }
            }
        }
    }

    fn sync_uplinks(&mut self) {
        let now = monotonic_ns();
        for u in &mut self.uplinks {
            let trigger = u.sync(&self.links, self.config.enabled);
            // Kept current from here too, so a router already there when the uplink is
            // armed is not taken for a new one at the next route change.
            let router = u.router_changed(&self.routes);
            let trigger = trigger.or(router.then_some(SweepTrigger::Router));
            if let (Some(trigger), None) = (trigger, self.reading) {
                u.start_sweep(trigger, now);
            }
        }
        let probing = self.uplinks.iter().any(|u| u.prober.is_some());
        if !probing {
            self.probe = None;
        } else if self.probe.is_none() {
            match ProbeSocket::open() {
                Ok(socket) => self.probe = Some(socket),
                // Without it every probe counts as unanswered; the next link change retries.
                Err(e) => log_warn!("hosts probe: {e}; targets are not probed"),
            }
        }
    }

    /// Logs the counters of every uplink, one line each (SIGUSR1).
    pub fn log_counters(&self) {
        for u in &self.uplinks {
            let c = u.responder.counters();
            let mut line = format!(
                "counters uplink={} device={} state={} multicast={} groups={} ns_received={} na_sent={} send_errors={}",
                u.config().name,
                u.config().device,
                u.state.as_str(),
                u.multicast_mode().as_str(),
                u.groups_joined(),
                c.ns_received,
                c.na_sent,
                c.send_errors
            );
            for &r in crate::core::responder::DropReason::ALL {
                line.push_str(&format!(" {}={}", r.as_str(), c.drop_count(r)));
            }
            log_notice!("{line}");
        }
    }
}

/// Every netifd interface some uplink's `prefix_from` names, each once.
fn prefix_from_names(config: &Config) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for u in &config.uplinks {
        for n in &u.prefix_from {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    names
}

fn nets_text(nets: &[ipnet::Ipv6Net]) -> String {
    if nets.is_empty() {
        return "none".to_string();
    }
    nets.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn uci_path(dir: &std::path::Path) -> std::path::PathBuf {
    crate::cli::uci_file(dir, std::path::Path::new(crate::cli::UCI_OVERRIDE_DIR))
}

pub struct Daemon {
    state: State,
    signals: SignalFd,
    netlink: NetlinkSocket,
    dump: DumpPhase,
    /// The sequence number of the dump being waited for.
    dump_seq: u32,
    /// After lost events, until the links are read again: the uplinks keep their sockets
    /// instead of being disarmed by the momentarily empty link table.
    resyncing: bool,
    bus: Option<Bus>,
    pollfds: Vec<PollFd>,
}

/// Fixed slots at the front of the poll set; uplink sockets follow.
const SLOT_SIGNALS: usize = 0;
const SLOT_NETLINK: usize = 1;
const SLOT_UBUS: usize = 2;
const SLOT_UBUS_WATCH: usize = 3;
const FIXED_SLOTS: usize = 4;

impl Daemon {
    /// Sets up signals, netlink and the first configuration. Errors here are fatal (the
    /// process could not work at all); everything after is survivable.
    pub fn new(opts: RunOptions) -> Result<Daemon, String> {
        let signals = SignalFd::new().map_err(|e| e.to_string())?;
        let mut netlink = NetlinkSocket::open().map_err(|e| e.to_string())?;
        let dump_seq = netlink
            .request_dump(Dump::Links)
            .map_err(|e| e.to_string())?;
        let now = monotonic_ns();
        let mut state = State {
            source: opts.source.clone(),
            config: Config::default(),
            load_error: None,
            links: Links::default(),
            routes: RouteTable::default(),
            hosts: HostTable::default(),
            probe: None,
            uplinks: Vec::new(),
            verbose: opts.verbose,
            started_ns: now,
            reloads: 0,
            netifd: Netifd {
                state: "unknown",
                ..Netifd::default()
            },
            reading: Some(SweepTrigger::Start),
            default_route_changed: false,
        };
        match &opts.source {
            Source::Flags(cfg) => state.apply(cfg.clone()),
            Source::Uci(_) => {
                // A broken file at start still starts the daemon: status shows the error and
                // a reload (SIGHUP, ubus) picks up the fixed file.
                let _ = state.load();
            }
        }
        Ok(Daemon {
            state,
            signals,
            netlink,
            dump: DumpPhase::Links,
            dump_seq,
            resyncing: false,
            bus: opts.ubus_socket.map(|path| Bus::new(path, now)),
            pollfds: Vec::new(),
        })
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Runs until SIGTERM/SIGINT.
    pub fn run(&mut self) -> Result<(), String> {
        let mut rx = RecvBatch::default();
        let mut nl = vec![0u8; NETLINK_BUF_LEN].into_boxed_slice();
        log_info!(
            "started, version {}, configuration from {}",
            env!("CARGO_PKG_VERSION"),
            self.state.config_origin()
        );
        loop {
            self.fill_pollfds();
            // No timeout unless a ubus retry, a netifd dump or a sweep is pending: idle means
            // asleep.
            let retry = self.bus.as_ref().and_then(Bus::retry_at);
            let timeout = match retry.into_iter().chain(self.state.sweep_due()).min() {
                // Rounded up: waking before the retry is due would only loop back here.
                Some(at) => at
                    .saturating_sub(monotonic_ns())
                    .div_ceil(1_000_000)
                    .min(i32::MAX as u64) as i32,
                None => -1,
            };
            poll::poll(&mut self.pollfds, timeout).map_err(|e| e.to_string())?;
            let now = monotonic_ns();
            // Packets first: they are what the daemon is for.
            for i in FIXED_SLOTS..self.pollfds.len() {
                let revents = self.pollfds[i].revents;
                let uplink = &mut self.state.uplinks[i - FIXED_SLOTS];
                if revents & POLLIN != 0 {
                    let kernel = uplink::Kernel {
                        links: &self.state.links,
                        routes: &self.state.routes,
                        hosts: &self.state.hosts,
                        probe: self.state.probe.as_ref(),
                    };
                    uplink.on_readable(&kernel, &mut rx, self.state.verbose, now);
                }
                if revents & (POLLERR | POLLHUP | POLLNVAL) != 0 {
                    uplink.on_error();
                }
            }
            let ubus = self.pollfds[SLOT_UBUS].revents;
            if let Some(bus) = self.bus.as_mut() {
                if ubus & POLLOUT != 0 {
                    bus.on_ready(now, true, &mut self.state);
                }
                if ubus & !POLLOUT != 0 {
                    bus.on_ready(now, false, &mut self.state);
                }
                if self.pollfds[SLOT_UBUS_WATCH].revents != 0 {
                    bus.on_watch(now);
                }
                bus.on_tick(now, &mut self.state);
            }
            if self.pollfds[SLOT_NETLINK].revents != 0 {
                self.on_netlink(&mut nl);
            }
            if self.pollfds[SLOT_SIGNALS].revents != 0 {
                while let Ok(Some(sig)) = self.signals.read() {
                    match sig {
                        Signal::Terminate => {
                            log_info!("exiting on signal");
                            return Ok(());
                        }
                        Signal::Reload => {
                            let _ = self.state.reload();
                        }
                        Signal::DumpCounters => {
                            self.state.log_counters();
                            if let Some(bus) = &self.bus {
                                bus.log_state(monotonic_ns());
                            }
                        }
                    }
                }
            }
            // Last, so a sweep that one of the handlers above started begins at once.
            self.state.run_sweeps(monotonic_ns());
        }
    }

    /// Rebuilds the poll set in place (its capacity is reused: no allocation per wakeup).
    /// Uplinks without a socket get fd -1, which poll ignores, so slot i stays uplink i.
    fn fill_pollfds(&mut self) {
        self.pollfds.clear();
        self.pollfds
            .push(poll::pollfd(self.signals.as_raw_fd(), POLLIN));
        self.pollfds
            .push(poll::pollfd(self.netlink.as_raw_fd(), POLLIN));
        let (ubus_fd, ubus_events) = match self.bus.as_ref().and_then(Bus::conn_fd) {
            Some((fd, true)) => (fd, POLLIN | POLLOUT),
            Some((fd, false)) => (fd, POLLIN),
            None => (-1, 0),
        };
        self.pollfds.push(poll::pollfd(ubus_fd, ubus_events));
        let watch_fd = self.bus.as_ref().and_then(Bus::watch_fd).unwrap_or(-1);
        self.pollfds.push(poll::pollfd(watch_fd, POLLIN));
        for u in &self.state.uplinks {
            let fd = u.socket().map_or(-1, |s| s.as_raw_fd());
            self.pollfds.push(poll::pollfd(fd, POLLIN));
        }
    }

    fn on_netlink(&mut self, buf: &mut [u8]) {
        let mut changed = false;
        // Bounded: a burst of link events is handled over a few wakeups at worst.
        for _ in 0..64 {
            match self.netlink.recv(buf) {
                Ok(Some(n)) => {
                    let mut dump_done = None;
                    rtnl::parse(&buf[..n], |ev| {
                        if let RtnlEvent::DumpDone(seq) = ev {
                            dump_done = Some(seq);
                        }
                        if let RtnlEvent::Error(errno) = ev {
                            if !netlink::is_busy(errno) {
                                log_warn!("rtnetlink error {errno}");
                            }
                        }
                        changed |= self.state.apply_event(&ev);
                    });
                    if let Some(seq) = dump_done {
                        changed |= self.dump_done(seq);
                    }
                }
                Ok(None) => break,
                Err(e) if netlink::is_overrun(&e) => {
                    // Events were lost: forget what we knew and ask again.
                    log_warn!(
                        "rtnetlink events lost; re-reading links, addresses, routes and neighbours"
                    );
                    self.state.links.clear();
                    self.state.routes.clear();
                    self.state.hosts.clear();
                    self.state.reading = Some(SweepTrigger::Reread);
                    self.resyncing = true;
                    self.request_dump(DumpPhase::Links);
                }
                Err(e) => {
                    log_error!("{e}");
                    break;
                }
            }
        }
        if changed && !self.resyncing {
            self.state.sync_uplinks();
        }
        self.state.check_routers();
        // After the uplinks took the links read with the tables, so that an uplink armed by
        // them sweeps once, for the reading.
        if self.dump == DumpPhase::Done {
            self.state.tables_read();
        }
    }

    /// A dump ended. Ours: ask for the next one (true when the links are complete again
    /// after a resync, so the uplinks must be checked). Another (one we stopped waiting for
    /// after lost events): ours was refused while it ran, so ask again now.
    fn dump_done(&mut self, seq: u32) -> bool {
        if self.dump == DumpPhase::Done {
            return false;
        }
        if seq != self.dump_seq {
            self.request_dump(self.dump);
            return false;
        }
        let links_complete = self.dump == DumpPhase::Links && self.resyncing;
        if links_complete {
            self.resyncing = false;
        }
        self.request_dump(self.dump.next());
        links_complete
    }

    fn request_dump(&mut self, phase: DumpPhase) {
        self.dump = phase;
        let Some(what) = phase.request() else {
            return;
        };
        match self.netlink.request_dump(what) {
            Ok(seq) => self.dump_seq = seq,
            // Lost events or the end of a dump in progress will ask again.
            Err(e) => log_error!("{e}"),
        }
    }
}
