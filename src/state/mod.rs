//! What the kernel says about links, addresses, routes and neighbours: rtnetlink messages
//! parsed (`rtnl`) and the views the daemon keeps from them: per device (`links`), the main
//! IPv6 routing table (`routes`) and the usable neighbours (`hosts`); and netifd's prefixes
//! as its `network.interface dump` reports them (`netifd`).

pub mod hosts;
pub mod links;
pub mod netifd;
pub mod routes;
pub mod rtnl;
