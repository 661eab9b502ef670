//! Our own ubus client (openwrt/ubus wire protocol): registers one object on ubusd and
//! answers calls to its methods, which the `ubus` crate cannot do.
//!
//! Layers, bottom up: [`blob`] and [`blobmsg`] encode values (libubox), [`msg`] frames
//! messages, [`object`] is the sans-I/O session for one object (and [`watch`] follows
//! another client's object on the same connection), [`conn`] moves its bytes
//! over the unix socket.

pub mod blob;
pub mod blobmsg;
pub mod conn;
mod error;
pub mod msg;
pub mod object;
pub mod watch;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;

pub use blobmsg::{to_json, BlobmsgBuilder, BlobmsgList, BlobmsgType, BlobmsgValue, Nest};
pub use conn::UbusConnection;
pub use error::UbusError;
pub use object::{Call, Event, Method, ObjectClient, Status};
pub use watch::{WatchEvent, Watcher};
