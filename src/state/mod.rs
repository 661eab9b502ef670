//! What the kernel says about links and addresses: rtnetlink messages parsed (`rtnl`) and
//! the per-device view the daemon keeps from them (`links`).

pub mod links;
pub mod rtnl;
