//! Every `unsafe` block and every libc or nix call of the daemon lives here, behind small
//! safe types; nix where it covers the call (signalfd, inotify, the clock, the user id),
//! our own wrappers where it does not fit (AF_PACKET, BPF, batched I/O, rtnetlink, poll over
//! raw descriptors). Errors carry the syscall that failed so the I/O edge can add the interface.
#![allow(unsafe_code)]

pub mod bpf;
pub mod inotify;
pub mod mcast;
pub mod netlink;
pub mod packet;
pub mod poll;
pub mod probe;
pub mod signal;
pub mod time;
pub mod unix;

use std::fmt;
use std::io;

/// A failed syscall, with its name (the I/O edge adds which interface it concerned).
#[derive(Debug)]
pub struct SysError {
    pub call: &'static str,
    pub err: io::Error,
}

impl SysError {
    fn last(call: &'static str) -> SysError {
        SysError {
            call,
            err: io::Error::last_os_error(),
        }
    }

    pub fn raw_os_error(&self) -> Option<i32> {
        self.err.raw_os_error()
    }

    pub fn would_block(&self) -> bool {
        self.err.kind() == io::ErrorKind::WouldBlock
    }
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.call, self.err)
    }
}

impl std::error::Error for SysError {}

/// Maps a failed nix call to a `SysError` naming the syscall.
fn nix_error(call: &'static str) -> impl Fn(nix::errno::Errno) -> SysError {
    move |errno| SysError {
        call,
        err: io::Error::from(errno),
    }
}

/// Turns a libc return value into a `Result`, capturing errno right away.
fn check(ret: libc::c_int, call: &'static str) -> Result<libc::c_int, SysError> {
    if ret < 0 {
        Err(SysError::last(call))
    } else {
        Ok(ret)
    }
}

fn check_size(ret: libc::ssize_t, call: &'static str) -> Result<usize, SysError> {
    if ret < 0 {
        Err(SysError::last(call))
    } else {
        Ok(ret as usize)
    }
}

/// `setsockopt` for a plain-old-data option value.
fn setsockopt<T>(
    fd: libc::c_int,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
    call: &'static str,
) -> Result<(), SysError> {
    // SAFETY: `value` points to a live `T` of the size we pass.
    let ret = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            value as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    check(ret, call).map(|_| ())
}

/// The interface index for a device name, or `None` if no such device exists now.
pub fn if_nametoindex(name: &str) -> Option<u32> {
    let cname = std::ffi::CString::new(name).ok()?;
    // SAFETY: `cname` is a valid NUL-terminated string.
    let idx = unsafe { libc::if_nametoindex(cname.as_ptr()) };
    (idx != 0).then_some(idx)
}

/// The effective user id (for the least-privilege log line).
pub fn geteuid() -> u32 {
    nix::unistd::geteuid().as_raw()
}
