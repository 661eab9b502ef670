//! ndpresponder: answers IPv6 Neighbor Solicitations (RFC 4861) for configured prefixes
//! from an AF_PACKET socket, so the Neighbor Advertisement's IPv6 source can be the target
//! address itself and pass hypervisor anti-spoofing filters.
//!
//! Layout: `wire` packet formats, `responder` the sans-I/O decision core, `uci`/`config` the
//! configuration, `ubus` the OpenWrt bus, `sys` every syscall and `unsafe`.
#![deny(unsafe_code)]

pub mod config;
pub mod wire;
