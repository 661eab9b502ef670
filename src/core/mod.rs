//! The sans-I/O decision core: a parsed frame, the rules and the clock in, an action out
//! (`responder`), with the token buckets it charges (`ratelimit`). No syscalls, no
//! allocation per packet. `groups` says which solicited-node groups an uplink joins.

pub mod groups;
pub mod ratelimit;
pub mod responder;
