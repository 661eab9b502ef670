//! What the kernel says about links and addresses: rtnetlink messages parsed (`rtnl`) and
//! the per-device view the daemon keeps from them (`links`); and netifd's prefixes as its
//! `network.interface dump` reports them (`netifd`).

pub mod links;
pub mod netifd;
pub mod rtnl;
