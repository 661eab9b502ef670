//! Watching a directory for a file to appear: how the daemon notices ubusd (re)creating
//! its socket without waking up on a timer.

use super::{check, check_size, SysError};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub struct DirWatch {
    fd: OwnedFd,
}

impl DirWatch {
    /// Watches `dir` for entries being created or moved in.
    pub fn new(dir: &Path) -> Result<DirWatch, SysError> {
        let cdir = CString::new(dir.as_os_str().as_bytes()).map_err(|_| SysError {
            call: "inotify_add_watch",
            err: std::io::Error::from(std::io::ErrorKind::InvalidInput),
        })?;
        // SAFETY: plain inotify_init1 call.
        let raw = check(
            unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) },
            "inotify_init1",
        )?;
        // SAFETY: `raw` is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: `cdir` is a valid NUL-terminated path.
        check(
            unsafe {
                libc::inotify_add_watch(raw, cdir.as_ptr(), libc::IN_CREATE | libc::IN_MOVED_TO)
            },
            "inotify_add_watch",
        )?;
        Ok(DirWatch { fd })
    }

    /// Consumes pending events; true if there were any.
    pub fn drain(&self) -> bool {
        let mut buf = [0u8; 1024];
        let mut any = false;
        loop {
            // SAFETY: `buf` is valid for writes of its length.
            let ret = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                )
            };
            match check_size(ret, "read(inotify)") {
                Ok(n) if n > 0 => any = true,
                _ => return any,
            }
        }
    }
}

impl AsRawFd for DirWatch {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
