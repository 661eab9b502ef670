//! What the kernel says about links, addresses, routes and neighbours: rtnetlink messages
//! parsed (`rtnl`) and the views the daemon keeps from them: per device (`links`), the main
//! IPv6 routing table (`routes`) and the usable neighbours (`hosts`).

pub mod hosts;
pub mod links;
pub mod routes;
pub mod rtnl;
