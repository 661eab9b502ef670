//! poll(2) over the daemon's descriptors. Without a timeout, so an idle daemon never wakes.

use super::{check, SysError};

pub use libc::pollfd as PollFd;
pub const POLLIN: i16 = libc::POLLIN;
pub const POLLOUT: i16 = libc::POLLOUT;
pub const POLLERR: i16 = libc::POLLERR;
pub const POLLHUP: i16 = libc::POLLHUP;
pub const POLLNVAL: i16 = libc::POLLNVAL;

pub fn pollfd(fd: i32, events: i16) -> PollFd {
    PollFd {
        fd,
        events,
        revents: 0,
    }
}

/// Waits until a descriptor is ready; `timeout_ms < 0` waits indefinitely. EINTR counts
/// as "nothing ready" (signals arrive through the signalfd anyway).
pub fn poll(fds: &mut [PollFd], timeout_ms: i32) -> Result<usize, SysError> {
    // SAFETY: `fds` is a valid array of pollfd of the given length.
    let ret = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    match check(ret, "poll") {
        Ok(n) => Ok(n as usize),
        Err(e) if e.raw_os_error() == Some(libc::EINTR) => Ok(0),
        Err(e) => Err(e),
    }
}
