//! Watching a directory for a file to appear: how the daemon notices ubusd (re)creating
//! its socket without waking up on a timer.

use super::{nix_error, SysError};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::path::Path;

pub struct DirWatch {
    inotify: Inotify,
}

impl DirWatch {
    /// Watches `dir` for entries being created or moved in.
    pub fn new(dir: &Path) -> Result<DirWatch, SysError> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
            .map_err(nix_error("inotify_init1"))?;
        inotify
            .add_watch(dir, AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO)
            .map_err(nix_error("inotify_add_watch"))?;
        Ok(DirWatch { inotify })
    }

    /// Consumes pending events; true if there were any. Reads raw bytes: which entry
    /// appeared does not matter, and this needs no allocation.
    pub fn drain(&self) -> bool {
        let mut buf = [0u8; 1024];
        let mut any = false;
        while let Ok(n) = nix::unistd::read(self.inotify.as_fd(), &mut buf) {
            if n == 0 {
                break;
            }
            any = true;
        }
        any
    }
}

impl AsRawFd for DirWatch {
    fn as_raw_fd(&self) -> RawFd {
        self.inotify.as_fd().as_raw_fd()
    }
}
