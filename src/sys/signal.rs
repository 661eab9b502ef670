//! Signals as readable events on a signalfd: no work is ever done in a signal handler.

use super::{nix_error, SysError};
use nix::sys::signal::{self as nix_signal, SigHandler, SigSet, SigmaskHow, Signal as NixSignal};
use nix::sys::signalfd::{SfdFlags, SignalFd as NixSignalFd};
use std::os::fd::{AsRawFd, RawFd};

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
    fd: NixSignalFd,
}

impl SignalFd {
    /// Blocks SIGTERM, SIGINT, SIGHUP and SIGUSR1 for the process and routes them to a
    /// signalfd. SIGPIPE is ignored so a vanished ubusd is a write error, not a death.
    pub fn new() -> Result<SignalFd, SysError> {
        let mut set = SigSet::empty();
        for sig in [
            NixSignal::SIGTERM,
            NixSignal::SIGINT,
            NixSignal::SIGHUP,
            NixSignal::SIGUSR1,
        ] {
            set.add(sig);
        }
        nix_signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
            .map_err(nix_error("sigprocmask"))?;
        // SAFETY: SIG_IGN installs no handler, so no code runs in signal context.
        unsafe { nix_signal::signal(NixSignal::SIGPIPE, SigHandler::SigIgn) }
            .map_err(nix_error("signal"))?;
        let fd = NixSignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(nix_error("signalfd"))?;
        Ok(SignalFd { fd })
    }

    /// The next pending signal, if any.
    pub fn read(&self) -> Result<Option<Signal>, SysError> {
        loop {
            let Some(info) = self.fd.read_signal().map_err(nix_error("read(signalfd)"))? else {
                return Ok(None);
            };
            let sig = match info.ssi_signo as libc::c_int {
                libc::SIGTERM | libc::SIGINT => Signal::Terminate,
                libc::SIGHUP => Signal::Reload,
                libc::SIGUSR1 => Signal::DumpCounters,
                _ => continue,
            };
            return Ok(Some(sig));
        }
    }
}

impl AsRawFd for SignalFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
