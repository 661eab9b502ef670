//! Signals as readable events on a signalfd: no work is ever done in a signal handler.

use super::{check, check_size, SysError};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The signals the daemon acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM or SIGINT: exit cleanly.
    Terminate,
    /// SIGHUP: reload the configuration.
    Reload,
    /// SIGUSR1: log the counters.
    DumpCounters,
}

pub struct SignalFd {
    fd: OwnedFd,
}

impl SignalFd {
    /// Blocks SIGTERM, SIGINT, SIGHUP and SIGUSR1 for the process and routes them to a
    /// signalfd. SIGPIPE is ignored so a vanished ubusd is a write error, not a death.
    pub fn new() -> Result<SignalFd, SysError> {
        // SAFETY: sigset_t is plain data, initialised by sigemptyset before use; the calls
        // only read and write the sets we pass.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGUSR1] {
                libc::sigaddset(&mut set, sig);
            }
            check(
                libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()),
                "sigprocmask",
            )?;
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            let raw = check(
                libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC),
                "signalfd",
            )?;
            Ok(SignalFd {
                fd: OwnedFd::from_raw_fd(raw),
            })
        }
    }

    /// The next pending signal, if any.
    pub fn read(&self) -> Result<Option<Signal>, SysError> {
        loop {
            // SAFETY: signalfd_siginfo is plain data; read writes at most its size.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            let ret = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    &mut info as *mut libc::signalfd_siginfo as *mut libc::c_void,
                    size,
                )
            };
            match check_size(ret, "read(signalfd)") {
                Ok(n) if n == size => {
                    let sig = match info.ssi_signo as libc::c_int {
                        libc::SIGTERM | libc::SIGINT => Signal::Terminate,
                        libc::SIGHUP => Signal::Reload,
                        libc::SIGUSR1 => Signal::DumpCounters,
                        _ => continue,
                    };
                    return Ok(Some(sig));
                }
                Ok(_) => return Ok(None),
                Err(e) if e.would_block() => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }
}

impl AsRawFd for SignalFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
