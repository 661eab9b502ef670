//! One configured uplink at run time: its decision core, its packet socket and its
//! solicited-node group memberships (while the link is up), and the state status reports.

use super::memberships::Memberships;
use crate::config::{HostsMode, UplinkConfig};
use crate::core::announce::{self, Announcer, Pass, SweepSource, SweepTrigger};
use crate::core::follow::FollowView;
use crate::core::groups::{self, GroupPlan, GROUP_CAP};
use crate::core::probe::{ProbeDecision, Prober};
use crate::core::responder::{self, DropReason, InterfaceFacts, Responder, Verdict};
use crate::state::hosts::HostTable;
use crate::state::links::Links;
use crate::state::routes::RouteTable;
use crate::state::rtnl::IfName;
use crate::sys::packet::{PacketSocket, RecvBatch, SendBatch, BATCH};
use crate::sys::probe::ProbeSocket;
use crate::sys::time::monotonic_ns;
use crate::wire::{self, NaFrame, NA_FRAME_LEN, NS_FRAME_LEN_MAX};
use crate::{log_debug, log_info, log_notice, log_warn};
use std::net::Ipv6Addr;

/// Whether the uplink is receiving, as status shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// No device by that name exists (yet).
    Absent,
    /// The device exists but is administratively down.
    Down,
    /// The packet socket is open and filtering NS.
    Armed,
    /// The device is up but the socket could not be opened (see `last_error`).
    Failed,
}

impl LinkState {
    pub fn is_armed(self) -> bool {
        self == LinkState::Armed
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Absent => "absent",
            LinkState::Down => "down",
            LinkState::Armed => "armed",
            LinkState::Failed => "failed",
        }
    }
}

/// At most this many batches (of `packet::BATCH` frames) are handled per wakeup per uplink,
/// so one flooded uplink cannot starve the others, signals or ubus.
const RECV_ROUNDS: usize = 4;

/// How a host showed that it exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostEvidence {
    /// A usable neighbour entry appeared on this device.
    Neighbour(u32),
    /// A /128 route to it appeared (whether it leaves through a downstream device is the
    /// uplink's rules' question).
    HostRoute,
}

/// What the daemon knows of the kernel, lent to an uplink while it handles packets, and
/// the socket that asks the kernel to resolve a target (`hosts probe`).
pub struct Kernel<'a> {
    pub links: &'a Links,
    pub routes: &'a RouteTable,
    pub hosts: &'a HostTable,
    pub probe: Option<&'a ProbeSocket>,
}

/// How NS sent to solicited-node groups reach the uplink, as status shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MulticastMode {
    /// Not armed: nothing is received.
    None,
    /// All-multicast reception only: a switch or bridge with MLD snooping forwards the NS
    /// only if it floods unregistered multicast.
    AllMulti,
    /// Groups joined (the kernel reports them over MLD) and all-multicast reception, which
    /// still covers paths without snooping. Never groups alone: all-multicast stays on.
    Both,
}

impl MulticastMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MulticastMode::None => "none",
            MulticastMode::AllMulti => "allmulti",
            MulticastMode::Both => "both",
        }
    }
}

/// Current ifindexes of the devices an uplink's rules name that exist, refreshed on every
/// link change (names stay, indexes change when a device is recreated).
#[derive(Default)]
pub struct DeviceIndexes {
    /// The configured downstream devices: routes through them make ranges.
    pub downstreams: Vec<u32>,
    /// Where hosts count as known: the downstream devices and the devices netifd names
    /// for the `prefix_from` prefixes.
    pub hosts: Vec<u32>,
}

impl DeviceIndexes {
    fn resolve(cfg: &UplinkConfig, links: &Links) -> DeviceIndexes {
        let index = |name: &String| links.by_name(name).map(|(i, _)| i);
        let downstreams: Vec<u32> = cfg.downstreams.iter().filter_map(index).collect();
        let mut hosts = downstreams.clone();
        for i in cfg.netifd.devices.iter().filter_map(index) {
            if !hosts.contains(&i) {
                hosts.push(i);
            }
        }
        DeviceIndexes { downstreams, hosts }
    }
}

pub struct Uplink {
    pub responder: Responder,
    pub devices: DeviceIndexes,
    /// Pending probes, with `hosts probe` only.
    pub prober: Option<Prober>,
    /// Announcement budget and counters, with `announce` only.
    pub announcer: Option<Announcer>,
    socket: Option<PacketSocket>,
    pub state: LinkState,
    pub last_error: Option<String>,
    /// The groups the rules map to, recomputed when the rules change.
    plan: GroupPlan,
    /// Held exactly while armed, on the armed interface index.
    memberships: Option<Memberships>,
    /// Why the last join failed, until one succeeds.
    pub group_error: Option<String>,
    /// The ranges changed since the last `sync` (a reason to announce every host again).
    ranges_changed: bool,
    /// The default router on the uplink when last looked at, while armed with `announce`.
    router: Option<Ipv6Addr>,
}

impl Uplink {
    pub fn new(cfg: UplinkConfig, now_ns: u64) -> Uplink {
        let plan = plan_for(&cfg, None);
        Uplink {
            responder: Responder::new(cfg, now_ns),
            devices: DeviceIndexes::default(),
            prober: None,
            announcer: None,
            socket: None,
            state: LinkState::Absent,
            last_error: None,
            plan,
            memberships: None,
            group_error: None,
            ranges_changed: false,
            router: None,
        }
    }

    /// Takes new rules, keeping socket, memberships and counters; the next `sync` brings
    /// the memberships in line with them.
    pub fn reconfigure(&mut self, cfg: UplinkConfig, now_ns: u64) {
        let old = self.config();
        let prefixes_changed = cfg.prefixes != old.prefixes
            || cfg.netifd.prefixes != old.netifd.prefixes
            || cfg.excludes != old.excludes;
        // What decides which hosts are ours: the hosts the upstream router knows through us
        // may no longer be all of them.
        self.ranges_changed |= prefixes_changed
            || cfg.downstreams != old.downstreams
            || cfg.netifd.devices != old.netifd.devices
            || cfg.hosts != old.hosts;
        if prefixes_changed {
            self.plan = plan_for(&cfg, Some(&self.plan));
        }
        self.responder.reconfigure(cfg, now_ns);
    }

    pub fn group_plan(&self) -> &GroupPlan {
        &self.plan
    }

    pub fn groups_joined(&self) -> usize {
        self.memberships.as_ref().map_or(0, Memberships::len)
    }

    pub fn multicast_mode(&self) -> MulticastMode {
        match (self.state.is_armed(), self.groups_joined()) {
            (false, _) => MulticastMode::None,
            (true, 0) => MulticastMode::AllMulti,
            (true, _) => MulticastMode::Both,
        }
    }

    pub fn config(&self) -> &UplinkConfig {
        self.responder.config()
    }

    pub fn socket(&self) -> Option<&PacketSocket> {
        self.socket.as_ref()
    }

    /// Brings the socket in line with the link: open while the device exists, is up and has
    /// an Ethernet address; closed otherwise. Reopened when the device was recreated under a
    /// new index. `active` is false when the global `enabled` is off. Returns why every
    /// host should be announced again, with `announce`: the uplink became armed (from any
    /// other state or on a new index), its ranges changed, or `announce` was turned on.
    pub fn sync(&mut self, links: &Links, active: bool) -> Option<SweepTrigger> {
        let armed_on = self
            .state
            .is_armed()
            .then(|| self.socket.as_ref().map(PacketSocket::ifindex))
            .flatten();
        let ranges_changed = std::mem::take(&mut self.ranges_changed);
        let trigger = self.sync_link(links, active);
        let announcer = self.announcer.as_mut()?;
        let ifindex = match (self.state, self.socket.as_ref()) {
            (LinkState::Armed, Some(sock)) => sock.ifindex(),
            _ => {
                // Not armed: nothing can be sent; arming again sweeps from the start.
                announcer.cancel_sweep();
                self.router = None;
                return None;
            }
        };
        match trigger {
            _ if armed_on != Some(ifindex) => Some(SweepTrigger::Armed),
            Some(t) => Some(t),
            None => ranges_changed.then_some(SweepTrigger::Ranges),
        }
    }

    /// `sync` without the announcement decision; `Enabled` when it created the announcer.
    fn sync_link(&mut self, links: &Links, active: bool) -> Option<SweepTrigger> {
        self.devices = DeviceIndexes::resolve(self.config(), links);
        if self.config().hosts != Some(HostsMode::Probe) {
            self.prober = None;
        } else if self.prober.is_none() {
            self.prober = Some(Prober::new(monotonic_ns()));
        }
        let mut trigger = None;
        if !self.config().announce {
            self.announcer = None;
        } else if self.announcer.is_none() {
            self.announcer = Some(Announcer::new(monotonic_ns()));
            trigger = Some(SweepTrigger::Enabled);
        }
        let device = self.config().device.clone();
        let (state, want_index) = match links.by_name(&device) {
            _ if !active => (LinkState::Down, None),
            None => (LinkState::Absent, None),
            Some((_, link)) if !link.up => (LinkState::Down, None),
            Some((_, link)) if link.mac.is_none() => {
                self.fail(
                    &device,
                    "device has no Ethernet address; NDP needs a link layer",
                );
                return trigger;
            }
            Some((ifindex, _)) => (LinkState::Armed, Some(ifindex)),
        };
        let Some(ifindex) = want_index else {
            self.drop_groups();
            if self.socket.take().is_some() {
                log_info!("disarmed device={device} state={}", state.as_str());
            }
            self.state = state;
            return trigger;
        };
        if self.socket.as_ref().map(PacketSocket::ifindex) != Some(ifindex) {
            self.socket = None;
            match PacketSocket::open(ifindex) {
                Ok(sock) => {
                    let mac = links.get(ifindex).and_then(|l| l.mac).unwrap_or_default();
                    log_info!("armed device={device} ifindex={ifindex} mac={mac}");
                    self.socket = Some(sock);
                    self.last_error = None;
                }
                Err(e) => {
                    self.fail(&device, &format!("cannot listen on {device}: {e}"));
                    return trigger;
                }
            }
        }
        self.state = LinkState::Armed;
        self.sync_groups(&device, ifindex);
        trigger
    }

    /// Starts announcing every host again (restarting a sweep in progress).
    pub fn start_sweep(&mut self, trigger: SweepTrigger, now_ns: u64) {
        if !self.state.is_armed() {
            return;
        }
        if let Some(announcer) = self.announcer.as_mut() {
            log_debug!(
                "device={} announce sweep started trigger={}",
                self.responder.config().device,
                trigger.as_str()
            );
            announcer.start_sweep(trigger, now_ns);
        }
    }

    /// When the sweep in progress wants to go on, if there is one.
    pub fn sweep_due(&self) -> Option<u64> {
        self.announcer.as_ref().and_then(Announcer::sweep_due)
    }

    /// Notes the uplink's current default router while armed with `announce`; true when
    /// one appeared or another took its place, which knows none of the hosts.
    pub fn router_changed(&mut self, routes: &RouteTable) -> bool {
        let Some(sock) = self.socket.as_ref().filter(|_| self.announcer.is_some()) else {
            return false;
        };
        let router = routes.default_router(sock.ifindex());
        let changed = router.is_some() && router != self.router;
        self.router = router;
        changed
    }

    /// Joins and leaves groups until the memberships equal the plan. A device re-created
    /// under a new index starts from none: the old memberships went with the old device.
    fn sync_groups(&mut self, device: &str, ifindex: u32) {
        if self.memberships.as_ref().map(Memberships::ifindex) != Some(ifindex) {
            self.memberships = None;
        }
        let memberships = self
            .memberships
            .get_or_insert_with(|| Memberships::new(ifindex));
        let before = memberships.len();
        let result = memberships.update(self.plan.groups().unwrap_or(&[]));
        let joined = memberships.len();
        match result {
            Ok(()) => self.group_error = None,
            Err(e) => {
                let why = format!("cannot join solicited-node groups on {device}: {e}");
                if self.group_error.as_deref() != Some(why.as_str()) {
                    log_warn!("device={device}: {why}");
                    self.group_error = Some(why);
                }
            }
        }
        if joined != before {
            log_info!(
                "device={device} ifindex={ifindex} solicited-node groups joined={joined} mode={}",
                self.multicast_mode().as_str()
            );
        }
    }

    /// Leaves every group (closing the sockets); a join error no longer applies.
    fn drop_groups(&mut self) {
        self.memberships = None;
        self.group_error = None;
    }

    fn fail(&mut self, device: &str, why: &str) {
        self.socket = None;
        self.drop_groups();
        self.state = LinkState::Failed;
        // Log a problem once, not on every netlink event that re-checks it.
        if self.last_error.as_deref() != Some(why) {
            log_warn!("device={device}: {why}");
            self.last_error = Some(why.to_string());
        }
    }

    /// Handles the frames queued on the socket: batches in, answers out in batches, at most
    /// RECV_ROUNDS batches per wakeup.
    pub fn on_readable(
        &mut self,
        kernel: &Kernel<'_>,
        rx: &mut RecvBatch,
        verbose: bool,
        now_ns: u64,
    ) {
        let Some((sock, facts)) = armed_facts(
            self.socket.as_ref(),
            self.responder.config(),
            &self.devices,
            kernel,
        ) else {
            return;
        };
        // A stack copy of the name for log lines (device names are at most 15 bytes).
        let device = IfName::try_from(self.responder.config().device.as_str()).unwrap_or_default();
        let mut tx = SendBatch::<NA_FRAME_LEN>::default();
        for _ in 0..RECV_ROUNDS {
            let received = match sock.recv_batch(rx) {
                Ok(n) => n,
                Err(e) => {
                    // ENETDOWN/ENXIO arrive once when the link goes; netlink tells us the rest.
                    log_debug!("device={device}: {e}");
                    break;
                }
            };
            for frame in rx.frames() {
                let frame = match frame {
                    Ok(frame) => frame,
                    Err(len) => {
                        // Larger than any NS we validate: counted as truncated.
                        self.responder.count_oversized();
                        if verbose {
                            log_info!("drop device={device} reason=truncated length={len}");
                        }
                        continue;
                    }
                };
                match self.responder.handle(frame, &facts, now_ns) {
                    Verdict::Answer(na) => {
                        tx.push(|slot| wire::emit_na(&na, slot).ok());
                        if verbose {
                            log_answer(&device, &na);
                        }
                    }
                    Verdict::Drop(DropReason::UnknownHost, Some(ns)) if self.prober.is_some() => {
                        let prober = self.prober.as_mut().expect("checked above");
                        let decision = prober.on_unknown(&ns, now_ns);
                        if decision == ProbeDecision::Send {
                            let sent = kernel.probe.map(|p| p.probe(&ns.body.target));
                            if !matches!(sent, Some(Ok(()))) {
                                prober.send_failed(&ns.body.target);
                            }
                            if let Some(Err(e)) = sent {
                                log_debug!("device={device} probe {}: {e}", ns.body.target);
                            }
                        }
                        if verbose {
                            log_info!(
                                "drop device={device} reason=unknown_host target={} from={} probe={}",
                                ns.body.target,
                                ns.headers.ip_src,
                                decision.as_str()
                            );
                        }
                    }
                    Verdict::Drop(reason, ns) if verbose => match ns {
                        Some(ns) => log_info!(
                            "drop device={device} reason={} target={} from={}",
                            reason.as_str(),
                            ns.body.target,
                            ns.headers.ip_src
                        ),
                        None => log_info!("drop device={device} reason={}", reason.as_str()),
                    },
                    Verdict::Drop(..) | Verdict::Ignore => {}
                }
            }
            // At most one answer per received frame, so a batch of answers always fits.
            if !tx.is_empty() {
                let queued = tx.len() as u64;
                let sent = send(sock, &mut tx, &device);
                self.responder.sent(sent);
                self.responder.send_failed(queued - sent);
            }
            if received < BATCH {
                break;
            }
        }
    }

    /// A host appeared at `addr`: answers the solicitation that waited for it, if any
    /// (`hosts probe`), and announces it (`announce`) if this uplink answers for it and
    /// `announce` is true (false while the daemon reads the kernel's tables: a sweep
    /// follows that announces them all at the budget's pace).
    pub fn on_host(
        &mut self,
        evidence: HostEvidence,
        addr: &Ipv6Addr,
        kernel: &Kernel<'_>,
        announce: bool,
        verbose: bool,
    ) {
        if let HostEvidence::Neighbour(ifindex) = evidence {
            if !self.devices.hosts.contains(&ifindex) {
                return;
            }
        }
        let Some((sock, facts)) = armed_facts(
            self.socket.as_ref(),
            self.responder.config(),
            &self.devices,
            kernel,
        ) else {
            return;
        };
        let now_ns = monotonic_ns();
        let device = IfName::try_from(self.responder.config().device.as_str()).unwrap_or_default();
        let pending = self.prober.as_mut().and_then(|p| p.on_host(addr, now_ns));
        if let Some(ns) = pending {
            match self.responder.answer_pending(&ns, &facts, now_ns) {
                Verdict::Answer(na) => {
                    let mut tx = SendBatch::<NA_FRAME_LEN>::default();
                    tx.push(|slot| wire::emit_na(&na, slot).ok());
                    let sent = send(sock, &mut tx, &device);
                    self.responder.sent(sent);
                    self.responder.send_failed(1 - sent);
                    if verbose {
                        log_answer(&device, &na);
                    }
                }
                Verdict::Drop(reason, _) if verbose => log_info!(
                    "drop device={device} reason={} target={addr} after its probe",
                    reason.as_str()
                ),
                Verdict::Drop(..) | Verdict::Ignore => {}
            }
        }
        let Some(announcer) = self.announcer.as_mut().filter(|_| announce) else {
            return;
        };
        let cfg = self.responder.config();
        if !answers_for(cfg, &facts, addr) || !announcer.take(now_ns) {
            return;
        }
        let router = kernel.routes.default_router(sock.ifindex());
        announce_host(sock, cfg, &facts, router, addr, &device);
        if verbose {
            log_announce(&device, addr, router, None);
        }
    }

    /// Goes on with the sweep in progress, if it is due: announces the next hosts while
    /// the budget lasts; logs the sweep when it finished.
    pub fn sweep(&mut self, kernel: &Kernel<'_>, verbose: bool, now_ns: u64) {
        let Some(announcer) = self.announcer.as_mut() else {
            return;
        };
        let Some((sock, facts)) = armed_facts(
            self.socket.as_ref(),
            self.responder.config(),
            &self.devices,
            kernel,
        ) else {
            // Nothing can be sent (no MAC, no device): not pending, so the loop sleeps; the
            // link change that fixes it arms the uplink and sweeps again.
            announcer.cancel_sweep();
            return;
        };
        let cfg = self.responder.config();
        let device = IfName::try_from(cfg.device.as_str()).unwrap_or_default();
        let router = kernel.routes.default_router(sock.ifindex());
        let hosts = UplinkHosts {
            cfg,
            facts: &facts,
            devices: &self.devices,
            kernel,
        };
        let trigger = announcer.sweep_trigger();
        let done = announcer.sweep(&hosts, now_ns, |addr| {
            announce_host(sock, cfg, &facts, router, &addr, &device);
            if verbose {
                log_announce(&device, &addr, router, trigger);
            }
        });
        if let Some(done) = done {
            log_info!(
                "device={device} announce sweep trigger={} hosts={} restarts={} ms={}",
                done.trigger.as_str(),
                done.announced,
                done.restarts,
                done.elapsed_ns / 1_000_000
            );
        }
    }

    /// After POLLERR: read and clear the socket error so poll does not spin on it.
    pub fn on_error(&mut self) {
        if let Some(err) = self.socket.as_ref().and_then(PacketSocket::take_error) {
            log_debug!("device={}: {err}", self.config().device);
        }
    }
}

/// Whether the uplink configured as `cfg` answers for `addr`, so announces it: in a range,
/// known under the hosts policy, and not its own address.
fn answers_for(cfg: &UplinkConfig, facts: &InterfaceFacts<'_>, addr: &Ipv6Addr) -> bool {
    responder::lookup(cfg, facts.addresses, facts.follow.as_ref(), addr)
        .answer()
        .is_ok()
}

/// The hosts an uplink's sweep walks, as the daemon's tables hold them now.
struct UplinkHosts<'a, 'k> {
    cfg: &'a UplinkConfig,
    facts: &'a InterfaceFacts<'k>,
    devices: &'a DeviceIndexes,
    kernel: &'a Kernel<'k>,
}

impl UplinkHosts<'_, '_> {
    /// Every address of the host devices themselves.
    fn device_addresses(&self) -> impl Iterator<Item = &Ipv6Addr> {
        self.devices
            .hosts
            .iter()
            .filter_map(|i| self.kernel.links.get(*i))
            .flat_map(|l| l.addresses.iter())
    }
}

impl SweepSource for UplinkHosts<'_, '_> {
    fn next(&self, pass: Pass, after: Option<Ipv6Addr>) -> Option<Ipv6Addr> {
        match pass {
            Pass::Neighbours => self
                .kernel
                .hosts
                .next_on(after.as_ref(), &self.devices.hosts),
            Pass::HostRoutes => self
                .kernel
                .routes
                .next_host_route(after.as_ref(), &self.devices.downstreams),
            Pass::DeviceAddresses => self
                .device_addresses()
                .filter(|a| after.is_none_or(|after| **a > after))
                .min()
                .copied(),
        }
    }

    fn contains(&self, pass: Pass, addr: &Ipv6Addr) -> bool {
        match pass {
            Pass::Neighbours => self.kernel.hosts.known_on(addr, &self.devices.hosts),
            Pass::HostRoutes => self
                .kernel
                .routes
                .has_host_route(addr, &self.devices.downstreams),
            Pass::DeviceAddresses => self.device_addresses().any(|a| a == addr),
        }
    }

    fn ours(&self, addr: &Ipv6Addr) -> bool {
        answers_for(self.cfg, self.facts, addr)
    }
}

/// Sends the announcement of `addr`: the unsolicited NA, and the NS to `router` if there
/// is one (see `core::announce`).
fn announce_host(
    sock: &PacketSocket,
    cfg: &UplinkConfig,
    facts: &InterfaceFacts<'_>,
    router: Option<Ipv6Addr>,
    addr: &Ipv6Addr,
    device: &str,
) {
    let mut na = SendBatch::<NA_FRAME_LEN>::default();
    na.push(|slot| {
        let frame = announce::unsolicited_na(cfg, facts.mac, facts.link_local, *addr);
        wire::emit_na(&frame, slot).ok()
    });
    send(sock, &mut na, device);
    if let Some(router) = router {
        let mut ns = SendBatch::<NS_FRAME_LEN_MAX>::default();
        ns.push(|slot| wire::emit_ns(&announce::router_ns(facts.mac, *addr, router), slot).ok());
        send(sock, &mut ns, device);
    }
}

/// The verbose line for one announced host (`sweep` names the sweep's trigger).
fn log_announce(
    device: &str,
    addr: &Ipv6Addr,
    router: Option<Ipv6Addr>,
    sweep: Option<SweepTrigger>,
) {
    let router = router.map_or_else(|| "none".to_string(), |r| r.to_string());
    match sweep {
        Some(t) => log_info!(
            "announce device={device} host={addr} router={router} sweep={}",
            t.as_str()
        ),
        None => log_info!("announce device={device} host={addr} router={router}"),
    }
}

/// Sends what `batch` holds; how many frames the kernel took (failures are logged at debug
/// level: the link may have gone down meanwhile).
fn send<const FRAME: usize>(
    sock: &PacketSocket,
    batch: &mut SendBatch<FRAME>,
    device: &str,
) -> u64 {
    sock.send_batch(batch).unwrap_or_else(|e| {
        log_debug!("device={device}: {e}");
        0
    }) as u64
}

/// The uplink's packet socket and what the core needs about its device: the MAC and
/// addresses, and the routes and neighbours when it follows any; none while the uplink has
/// no socket (not armed), or its device is unknown or has no MAC.
fn armed_facts<'s, 'a>(
    socket: Option<&'s PacketSocket>,
    cfg: &UplinkConfig,
    devices: &'a DeviceIndexes,
    kernel: &Kernel<'a>,
) -> Option<(&'s PacketSocket, InterfaceFacts<'a>)> {
    let sock = socket?;
    let ifindex = sock.ifindex();
    let link = kernel.links.get(ifindex)?;
    let facts = InterfaceFacts {
        mac: link.mac?,
        link_local: link.link_local(),
        addresses: &link.addresses,
        follow: follow_view(cfg, devices, kernel, ifindex),
    };
    Some((sock, facts))
}

/// The view of routes and neighbours the core decides on for an uplink configured as `cfg`
/// whose device is `uplink` and whose devices are now `devices`; none when it has neither
/// downstreams nor `prefix_from` configured (its prefixes are then answered whole).
pub fn follow_view<'a>(
    cfg: &UplinkConfig,
    devices: &'a DeviceIndexes,
    kernel: &Kernel<'a>,
    uplink: u32,
) -> Option<FollowView<'a>> {
    (!cfg.downstreams.is_empty() || !cfg.prefix_from.is_empty()).then_some(FollowView {
        uplink,
        downstreams: &devices.downstreams,
        host_devices: &devices.hosts,
        routes: kernel.routes,
        hosts: kernel.hosts,
        links: kernel.links,
    })
}

/// The groups for `cfg`'s rules, logged when they become too many to join (not again on
/// every change of ranges that stay past the cap, as netifd's can).
fn plan_for(cfg: &UplinkConfig, before: Option<&GroupPlan>) -> GroupPlan {
    let prefixes: Vec<_> = cfg
        .prefixes
        .iter()
        .chain(&cfg.netifd.prefixes)
        .copied()
        .collect();
    let plan = groups::plan(&prefixes, &cfg.excludes, GROUP_CAP);
    if plan == GroupPlan::OverCap && before != Some(&GroupPlan::OverCap) {
        log_notice!(
            "uplink {}: the rules span more than {GROUP_CAP} solicited-node groups; \
             not joining any, relying on all-multicast reception (an MLD-snooping switch \
             may then not forward the solicitations)",
            cfg.name
        );
    }
    plan
}

fn log_answer(device: &str, na: &NaFrame) {
    log_info!(
        "answer device={device} target={} from={} na_src={} na_dst={} flags={}",
        na.body.target,
        na.headers.ip_dst,
        na.headers.ip_src,
        na.headers.eth_dst,
        na.body.flags,
    );
}
