//! The monotonic clock, in nanoseconds, as the decision core wants it (no `Instant`, so the
//! core stays testable with made-up times).

use nix::time::{clock_gettime, ClockId};

/// CLOCK_MONOTONIC in nanoseconds. It always exists on Linux (clock_gettime's only failure
/// is EINVAL for a clock that does not), so the 0 fallback is never taken.
pub fn monotonic_ns() -> u64 {
    clock_gettime(ClockId::CLOCK_MONOTONIC).map_or(0, |ts| {
        (ts.tv_sec() as u64)
            .wrapping_mul(1_000_000_000)
            .wrapping_add(ts.tv_nsec() as u64)
    })
}
