//! Token buckets for the answer budget: one per uplink and a fixed-size table of per-source
//! buckets. A responder for a whole range lets a scanner behind the upstream router fill
//! that router's neighbour table; these bound what we make it learn.
//! Time is passed in (monotonic nanoseconds), so the logic is testable without a clock.

use crate::config::RateLimit;
use std::net::Ipv6Addr;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// A token bucket in nano-tokens: refills `rate` tokens per second up to `burst`.
#[derive(Clone, Copy, Debug)]
pub struct TokenBucket {
    limit: RateLimit,
    /// Tokens times 1e9, so sub-token refills between close packets are not lost.
    level: u64,
    last_ns: u64,
}

impl TokenBucket {
    pub fn new(limit: RateLimit, now_ns: u64) -> TokenBucket {
        TokenBucket {
            limit,
            level: limit.burst as u64 * NANOS_PER_SEC,
            last_ns: now_ns,
        }
    }

    /// Takes one token if there is one. A zero rate means "no limit".
    pub fn take(&mut self, now_ns: u64) -> bool {
        self.take_keeping(now_ns, 0)
    }

    /// Takes one token only if `keep` more stay in the bucket after it: a background task
    /// (an announcement sweep) leaves those for the events that cannot wait.
    pub fn take_keeping(&mut self, now_ns: u64, keep: u32) -> bool {
        if self.limit.rate == 0 {
            return true;
        }
        self.level = self.level_at(now_ns);
        self.last_ns = now_ns.max(self.last_ns);
        let need = (u64::from(keep) + 1) * NANOS_PER_SEC;
        if self.level >= need {
            self.level -= NANOS_PER_SEC;
            true
        } else {
            false
        }
    }

    /// When the bucket will hold `tokens` (no later than when it is full): `now_ns` if it
    /// does already or there is no limit.
    pub fn ready_at(&self, now_ns: u64, tokens: u32) -> u64 {
        if self.limit.rate == 0 {
            return now_ns;
        }
        let want = (u64::from(tokens) * NANOS_PER_SEC).min(self.cap());
        let level = self.level_at(now_ns);
        if level >= want {
            return now_ns;
        }
        // Rounded up, so that at the returned time the tokens are really there.
        now_ns.max(self.last_ns) + (want - level).div_ceil(u64::from(self.limit.rate))
    }

    fn cap(&self) -> u64 {
        self.limit.burst.max(1) as u64 * NANOS_PER_SEC
    }

    /// The level refilled up to `now_ns` (a clock going backwards refills nothing).
    fn level_at(&self, now_ns: u64) -> u64 {
        let elapsed = now_ns.saturating_sub(self.last_ns);
        self.level
            .saturating_add(elapsed.saturating_mul(self.limit.rate as u64))
            .min(self.cap())
    }
}

/// Number of per-source buckets; a fixed table so memory does not grow with the number of
/// sources a flood uses.
pub const SOURCE_SLOTS: usize = 256;

/// Per-source buckets in a direct-mapped table. A new source that lands on a busy slot takes
/// it over with a full bucket: a flood from many sources is bounded by the uplink bucket,
/// and one chatty source is bounded here.
pub struct SourceLimiter {
    limit: RateLimit,
    slots: [Option<(Ipv6Addr, TokenBucket)>; SOURCE_SLOTS],
}

impl SourceLimiter {
    pub fn new(limit: RateLimit) -> SourceLimiter {
        SourceLimiter {
            limit,
            slots: [None; SOURCE_SLOTS],
        }
    }

    fn slot(addr: &Ipv6Addr) -> usize {
        // FNV-1a over the address: cheap and spreads the interface identifiers well.
        let mut h: u32 = 0x811c_9dc5;
        for b in addr.octets() {
            h = (h ^ b as u32).wrapping_mul(0x0100_0193);
        }
        h as usize % SOURCE_SLOTS
    }

    pub fn take(&mut self, source: &Ipv6Addr, now_ns: u64) -> bool {
        if self.limit.rate == 0 {
            return true;
        }
        let limit = self.limit;
        let slot = &mut self.slots[Self::slot(source)];
        match slot {
            Some((addr, bucket)) if addr == source => bucket.take(now_ns),
            _ => {
                let mut bucket = TokenBucket::new(limit, now_ns);
                let ok = bucket.take(now_ns);
                *slot = Some((*source, bucket));
                ok
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = NANOS_PER_SEC;

    fn lim(rate: u32, burst: u32) -> RateLimit {
        RateLimit { rate, burst }
    }

    #[test]
    fn bucket_allows_burst_then_refills_at_rate() {
        let mut b = TokenBucket::new(lim(10, 5), 0);
        assert_eq!((0..10).filter(|_| b.take(0)).count(), 5);
        // 100 ms at 10/s is exactly one token.
        assert!(b.take(SEC / 10));
        assert!(!b.take(SEC / 10));
        // A long pause refills only up to the burst.
        assert_eq!((0..10).filter(|_| b.take(100 * SEC)).count(), 5);
    }

    #[test]
    fn a_kept_reserve_is_left_and_ready_at_says_when_tokens_are_back() {
        let mut b = TokenBucket::new(lim(10, 5), 0);
        assert_eq!((0..10).filter(|_| b.take_keeping(0, 2)).count(), 3);
        // The reserve is still there for an ordinary take.
        assert!(b.take(0) && b.take(0) && !b.take(0));
        assert_eq!(b.ready_at(0, 1), SEC / 10);
        assert_eq!(b.ready_at(0, 3), 3 * SEC / 10);
        // Never later than full: asking for more than the burst waits for the burst.
        assert_eq!(b.ready_at(0, 50), SEC / 2);
        assert!(!b.take(SEC / 10 - 1));
        assert!(b.take(b.ready_at(SEC / 10 - 1, 1)));
        assert_eq!(b.ready_at(5 * SEC, 1), 5 * SEC);
        assert_eq!(TokenBucket::new(lim(0, 0), 0).ready_at(7, 9), 7);
    }

    #[test]
    fn zero_rate_is_unlimited() {
        let mut b = TokenBucket::new(lim(0, 0), 0);
        assert!((0..100_000).all(|_| b.take(0)));
        let mut s = SourceLimiter::new(lim(0, 0));
        let a: Ipv6Addr = "fe80::1".parse().unwrap();
        assert!((0..100_000).all(|_| s.take(&a, 0)));
    }

    #[test]
    fn clock_going_backwards_does_not_mint_tokens() {
        let mut b = TokenBucket::new(lim(1, 1), 10 * SEC);
        assert!(b.take(10 * SEC));
        assert!(!b.take(5 * SEC));
        assert!(!b.take(10 * SEC));
        assert!(b.take(11 * SEC));
    }

    #[test]
    fn sources_are_limited_independently() {
        let mut s = SourceLimiter::new(lim(2, 2));
        let a: Ipv6Addr = "fe80::1".parse().unwrap();
        let b = (1u16..)
            .map(|i| Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, i))
            .find(|x| SourceLimiter::slot(x) != SourceLimiter::slot(&a))
            .unwrap();
        assert!(s.take(&a, 0) && s.take(&a, 0));
        assert!(!s.take(&a, 0));
        assert!(s.take(&b, 0) && s.take(&b, 0));
        assert!(!s.take(&b, 0));
        assert!(s.take(&a, SEC / 2));
    }
}
