//! The `probe` hosts policy: an NS for a target with no neighbour entry on a downstream
//! device starts a probe, and the NS is answered once the host turns out to exist.
//!
//! The probe itself is the kernel's own address resolution: the daemon sends one empty
//! datagram to the target, the kernel routes it out of the downstream device and resolves
//! the target there with its Neighbor Solicitations, retransmitted per RFC 4861 section
//! 7.2.2 (MAX_MULTICAST_SOLICIT = 3, RETRANS_TIMER = 1 s). A host that answers gets a
//! neighbour entry, which rtnetlink reports; the pending solicitation is then answered.
//! This table only remembers what is pending: bounded, rate-limited, no allocation after
//! it is made, no timers (entries age when they are looked at).

use crate::config::RateLimit;
use crate::core::ratelimit::TokenBucket;
use crate::wire::NsFrame;
use std::net::Ipv6Addr;

/// Probes in flight (and unanswered ones remembered) at most per uplink.
pub const MAX_PROBES: usize = 1024;
/// New probes per second per uplink, burst the same: each is up to three multicast NS on
/// the downstream link.
pub const PROBE_RATE: u32 = 100;
/// How long a probe may take: the kernel's three solicitations one second apart, plus a
/// margin for the last answer.
pub const PROBE_TIMEOUT_NS: u64 = 3_500_000_000;
/// How long an unanswered probe is remembered: solicitations for the target meanwhile are
/// not answered and start no new probe (the upstream router retransmits its own NS three
/// times a second apart, RFC 4861 section 7.2.2).
pub const UNANSWERED_HOLD_NS: u64 = 10_000_000_000;

/// Where a target stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeState {
    /// Probing; the latest solicitation will be answered if the host shows up.
    InFlight,
    /// The host did not answer; not probed again until the hold expires.
    Unanswered,
}

/// What to do about an NS for an unknown target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeDecision {
    /// Send a probe now.
    Send,
    /// Already probing or recently unanswered: nothing to send.
    Pending(ProbeState),
    /// The table is full.
    Full,
    /// Over the probe rate.
    RateLimited,
}

impl ProbeDecision {
    /// For the `-v` log.
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeDecision::Send => "sent",
            ProbeDecision::Pending(ProbeState::InFlight) => "in_flight",
            ProbeDecision::Pending(ProbeState::Unanswered) => "unanswered",
            ProbeDecision::Full => "table_full",
            ProbeDecision::RateLimited => "rate_limited",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProbeCounters {
    pub sent: u64,
    pub answered: u64,
    pub unanswered: u64,
    /// Not probed: the table was full or the rate was exceeded.
    pub refused: u64,
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    ns: NsFrame,
    started_ns: u64,
    unanswered: bool,
}

pub struct Prober {
    pending: Vec<Pending>,
    budget: TokenBucket,
    counters: ProbeCounters,
}

impl Prober {
    /// Allocates the whole table now, so probing never allocates per packet.
    pub fn new(now_ns: u64) -> Prober {
        Prober {
            pending: Vec::with_capacity(MAX_PROBES),
            budget: TokenBucket::new(
                RateLimit {
                    rate: PROBE_RATE,
                    burst: PROBE_RATE,
                },
                now_ns,
            ),
            counters: ProbeCounters::default(),
        }
    }

    pub fn counters(&self) -> &ProbeCounters {
        &self.counters
    }

    /// Probes in flight now.
    pub fn in_flight(&self, now_ns: u64) -> usize {
        self.pending
            .iter()
            .filter(|p| !p.unanswered && now_ns < p.started_ns + PROBE_TIMEOUT_NS)
            .count()
    }

    /// Ages the table: probes past their timeout become unanswered, unanswered ones past
    /// their hold are forgotten.
    fn age(&mut self, now_ns: u64) {
        let counters = &mut self.counters;
        self.pending.retain_mut(|p| {
            if !p.unanswered && now_ns >= p.started_ns + PROBE_TIMEOUT_NS {
                p.unanswered = true;
                counters.unanswered += 1;
            }
            now_ns < p.started_ns + PROBE_TIMEOUT_NS + UNANSWERED_HOLD_NS
        });
    }

    /// The state of `target`, for `explain`.
    pub fn state(&self, target: &Ipv6Addr, now_ns: u64) -> Option<ProbeState> {
        let p = self.pending.iter().find(|p| p.ns.body.target == *target)?;
        if now_ns >= p.started_ns + PROBE_TIMEOUT_NS + UNANSWERED_HOLD_NS {
            None
        } else if p.unanswered || now_ns >= p.started_ns + PROBE_TIMEOUT_NS {
            Some(ProbeState::Unanswered)
        } else {
            Some(ProbeState::InFlight)
        }
    }

    /// An NS for an unknown target arrived.
    pub fn on_unknown(&mut self, ns: &NsFrame, now_ns: u64) -> ProbeDecision {
        self.age(now_ns);
        if let Some(p) = self
            .pending
            .iter_mut()
            .find(|p| p.ns.body.target == ns.body.target)
        {
            if p.unanswered {
                return ProbeDecision::Pending(ProbeState::Unanswered);
            }
            // Answer the latest solicitor: it is the one still waiting.
            p.ns = *ns;
            return ProbeDecision::Pending(ProbeState::InFlight);
        }
        if self.pending.len() >= MAX_PROBES {
            self.counters.refused += 1;
            return ProbeDecision::Full;
        }
        if !self.budget.take(now_ns) {
            self.counters.refused += 1;
            return ProbeDecision::RateLimited;
        }
        self.pending.push(Pending {
            ns: *ns,
            started_ns: now_ns,
            unanswered: false,
        });
        self.counters.sent += 1;
        ProbeDecision::Send
    }

    /// Sending the probe failed (no route any more, ...): it counts as unanswered.
    pub fn send_failed(&mut self, target: &Ipv6Addr) {
        if let Some(p) = self
            .pending
            .iter_mut()
            .find(|p| p.ns.body.target == *target)
        {
            if !p.unanswered {
                p.unanswered = true;
                self.counters.unanswered += 1;
            }
        }
    }

    /// `addr` became a usable neighbour: the solicitation waiting for it, if any, to be
    /// answered now. A host that answers late (after the probe was given up) is answered
    /// too: it exists.
    pub fn on_host(&mut self, addr: &Ipv6Addr, now_ns: u64) -> Option<NsFrame> {
        self.age(now_ns);
        let i = self
            .pending
            .iter()
            .position(|p| p.ns.body.target == *addr)?;
        let p = self.pending.swap_remove(i);
        if p.unanswered {
            self.counters.unanswered -= 1;
        }
        self.counters.answered += 1;
        Some(p.ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{solicited_node, EthernetAddress, Headers, NsRepr};

    const SEC: u64 = 1_000_000_000;

    fn ns(target: u16, from: u16) -> NsFrame {
        let target = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, target);
        let dst = solicited_node(&target);
        NsFrame {
            headers: Headers {
                eth_src: EthernetAddress([2, 0, 0, 0, 0, 1]),
                eth_dst: EthernetAddress::from_ipv6_multicast(&dst),
                ip_src: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, from),
                ip_dst: dst,
                hop_limit: 255,
            },
            body: NsRepr {
                target,
                source_lladdr: None,
            },
        }
    }

    #[test]
    fn one_probe_per_target_and_the_latest_solicitor_is_answered() {
        let mut p = Prober::new(0);
        assert_eq!(p.on_unknown(&ns(5, 1), 0), ProbeDecision::Send);
        assert_eq!(
            p.on_unknown(&ns(5, 2), SEC),
            ProbeDecision::Pending(ProbeState::InFlight)
        );
        assert_eq!(p.in_flight(SEC), 1);
        let answered = p.on_host(&ns(5, 0).body.target, SEC + 1).unwrap();
        assert_eq!(answered.headers.ip_src, ns(5, 2).headers.ip_src);
        assert_eq!(p.on_host(&ns(5, 0).body.target, SEC + 2), None);
        assert_eq!(
            *p.counters(),
            ProbeCounters {
                sent: 1,
                answered: 1,
                unanswered: 0,
                refused: 0
            }
        );
    }

    #[test]
    fn an_unanswered_probe_is_held_then_forgotten() {
        let mut p = Prober::new(0);
        p.on_unknown(&ns(5, 1), 0);
        let later = PROBE_TIMEOUT_NS;
        assert_eq!(
            p.state(&ns(5, 0).body.target, later),
            Some(ProbeState::Unanswered)
        );
        assert_eq!(
            p.on_unknown(&ns(5, 1), later + SEC),
            ProbeDecision::Pending(ProbeState::Unanswered)
        );
        assert_eq!(p.counters().unanswered, 1);
        let forgotten = PROBE_TIMEOUT_NS + UNANSWERED_HOLD_NS;
        assert_eq!(p.state(&ns(5, 0).body.target, forgotten), None);
        assert_eq!(p.on_unknown(&ns(5, 1), forgotten), ProbeDecision::Send);
        // A late answer still counts as a host.
        p.send_failed(&ns(5, 0).body.target);
        assert!(p.on_host(&ns(5, 0).body.target, forgotten + 1).is_some());
        assert_eq!(p.counters().unanswered, 1);
        assert_eq!(p.counters().answered, 1);
    }

    #[test]
    fn bounded_and_rate_limited() {
        let mut p = Prober::new(0);
        let mut sent = 0;
        for i in 0..(PROBE_RATE as u16 + 10) {
            if p.on_unknown(&ns(i, 1), 0) == ProbeDecision::Send {
                sent += 1;
            }
        }
        assert_eq!(sent, PROBE_RATE);
        assert_eq!(p.counters().refused, 10);
        // A second later the budget is back; the table itself stops at MAX_PROBES.
        let mut now = SEC;
        let mut target = 1000u16;
        while p.pending.len() < MAX_PROBES {
            if p.on_unknown(&ns(target, 1), now) == ProbeDecision::RateLimited {
                now += SEC / 4;
            }
            target += 1;
            assert!(
                now < PROBE_TIMEOUT_NS + UNANSWERED_HOLD_NS,
                "table never filled"
            );
        }
        assert_eq!(p.on_unknown(&ns(9999, 1), now + SEC), ProbeDecision::Full);
        assert_eq!(p.pending.capacity(), MAX_PROBES);
    }
}
