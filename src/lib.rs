//! ndpresponder: answers IPv6 Neighbor Solicitations (RFC 4861) for configured prefixes
//! from an AF_PACKET socket, so the Neighbor Advertisement's IPv6 source can be the target
//! address itself and pass hypervisor anti-spoofing filters.
//!
//! Layout: `wire` packet formats, `reasons` the one table of drop reasons, `core` the
//! sans-I/O decision core (responder and rate limits), `state` what the kernel says about
//! links (rtnetlink), `uci`/`config`/`cli` the configuration (`config::schema` its one
//! table of options), `ubus` the OpenWrt bus, `daemon` the poll loop, `sys` every syscall
//! and `unsafe`.
#![deny(unsafe_code)]

pub mod cli;
pub mod config;
pub mod core;
pub mod daemon;
pub mod log;
pub mod reasons;
pub mod state;
pub mod sys;
pub mod ubus;
pub mod uci;
pub mod wire;
