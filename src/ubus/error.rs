//! Errors of the ubus client. Each one means the connection to ubusd cannot continue
//! (the stream is desynchronised or the registration failed): drop it and reconnect.

use core::fmt;

use super::blob::BlobError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UbusError {
    /// A frame's root blob or top-level attributes are malformed.
    Malformed(BlobError),
    /// `ubus_msghdr.version` is not 0 (libubus drops such connections).
    BadVersion(u8),
    /// A frame longer than `UBUS_MAX_MSGLEN`, incoming or about to be sent.
    FrameTooLarge(usize),
    /// ubusd answered ADD_OBJECT with this non-zero status.
    RegistrationFailed(u32),
    /// ubusd broke the session protocol (what it did is described).
    Protocol(&'static str),
}

impl fmt::Display for UbusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UbusError::Malformed(e) => write!(f, "malformed ubus message: {e}"),
            UbusError::BadVersion(v) => write!(f, "unsupported ubus message version {v}"),
            UbusError::FrameTooLarge(n) => write!(f, "ubus message of {n} bytes exceeds 1 MiB"),
            // ubusd answers INVALID_ARGUMENT when its ACLs (/usr/share/acl.d, read at
            // start and on SIGHUP) do not let this user publish the object.
            UbusError::RegistrationFailed(2) => f.write_str(
                "ubusd refused the object (status 2: ACL? ubusd reads /usr/share/acl.d at \
                 start and on SIGHUP)",
            ),
            UbusError::RegistrationFailed(s) => write!(f, "ubusd refused the object (status {s})"),
            UbusError::Protocol(what) => write!(f, "ubus protocol error: {what}"),
        }
    }
}

impl std::error::Error for UbusError {}

impl From<BlobError> for UbusError {
    fn from(e: BlobError) -> Self {
        UbusError::Malformed(e)
    }
}
