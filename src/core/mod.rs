//! The sans-I/O decision core: a parsed frame, the rules and the clock in, an action out
//! (`responder`), with the ranges that follow the kernel's routes and neighbours
//! (`follow`), the hosts it probes for (`probe`) and announces (`announce`), and the token
//! buckets it charges (`ratelimit`). No syscalls, no allocation per packet. `groups` says
//! which solicited-node groups an uplink joins.

pub mod announce;
pub mod follow;
pub mod groups;
pub mod probe;
pub mod ratelimit;
pub mod responder;
