//! `blob_attr` encoding and decoding (libubox `blob.h`, `blob.c`).
//!
//! Every attribute starts with a big-endian `u32 id_len`: bit 31 is the *extended* flag
//! (set for blobmsg attributes, which carry a name), bits 30..24 the id (or blobmsg type),
//! bits 23..0 the length including the 4-byte header but excluding trailing padding. The
//! next attribute starts at the next 4-byte boundary; padding bytes are zero. A container's
//! length covers its children *with* their padding (libubox `blob_nest_end` measures up to
//! the buffer tail), so it is always a multiple of 4 when built by libubox.

use core::fmt;

/// Size of the `id_len` header in front of every attribute.
pub const BLOB_HDR_LEN: usize = 4;
/// `BLOB_ATTR_EXTENDED`: the attribute is a blobmsg (has a name header).
const EXTENDED_BIT: u32 = 0x8000_0000;
const ID_SHIFT: u32 = 24;
const ID_MASK: u32 = 0x7f;
/// `BLOB_ATTR_LEN_MASK`: 24 bits of length.
pub const BLOB_LEN_MASK: u32 = 0x00ff_ffff;

/// Malformed blob or blobmsg data. Every variant is a property of the input bytes, so a
/// peer can trigger any of them; none of them is a bug on our side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobError {
    /// Fewer bytes than a header or a declared length needs.
    Truncated,
    /// A length field smaller than the header it must include.
    BadLength,
    /// A blobmsg name header that overruns the attribute, lacks its NUL, or is not UTF-8.
    BadName,
    /// A string without its terminating NUL, with an embedded NUL, or not UTF-8.
    BadString,
    /// An integer/double/bool whose payload size does not match its type.
    BadValueLength,
    /// A blobmsg type code above `BLOBMSG_TYPE_DOUBLE` (8).
    UnknownType(u8),
    /// Containers nested deeper than the formatter accepts (bounds recursion).
    TooDeep,
}

impl fmt::Display for BlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobError::Truncated => f.write_str("blob truncated"),
            BlobError::BadLength => f.write_str("blob length shorter than its header"),
            BlobError::BadName => f.write_str("malformed blobmsg name"),
            BlobError::BadString => f.write_str("malformed string value"),
            BlobError::BadValueLength => f.write_str("value length does not match its type"),
            BlobError::UnknownType(t) => write!(f, "unknown blobmsg type {t}"),
            BlobError::TooDeep => f.write_str("blobmsg nesting too deep"),
        }
    }
}

impl std::error::Error for BlobError {}

/// Round up to the 4-byte attribute alignment (libubox `blob_pad_len`).
pub const fn pad4(len: usize) -> usize {
    (len + 3) & !3
}

/// One decoded attribute, borrowing its payload from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobAttr<'a> {
    id: u8,
    extended: bool,
    payload: &'a [u8],
}

impl<'a> BlobAttr<'a> {
    /// Decode the attribute at the start of `buf`. Returns it and the number of bytes it
    /// occupies including padding, clamped to `buf.len()` so an unpadded last child (which
    /// libubox itself never produces) is still accepted.
    pub fn parse(buf: &'a [u8]) -> Result<(Self, usize), BlobError> {
        let hdr: [u8; BLOB_HDR_LEN] = buf
            .get(..BLOB_HDR_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(BlobError::Truncated)?;
        let id_len = u32::from_be_bytes(hdr);
        let len = (id_len & BLOB_LEN_MASK) as usize;
        if len < BLOB_HDR_LEN {
            return Err(BlobError::BadLength);
        }
        let payload = buf.get(BLOB_HDR_LEN..len).ok_or(BlobError::Truncated)?;
        let attr = BlobAttr {
            id: ((id_len >> ID_SHIFT) & ID_MASK) as u8,
            extended: id_len & EXTENDED_BIT != 0,
            payload,
        };
        Ok((attr, pad4(len).min(buf.len())))
    }

    /// The 7-bit id (for blobmsg: the type code).
    pub fn id(&self) -> u8 {
        self.id
    }

    /// Whether the extended bit is set, i.e. this is a named blobmsg attribute.
    pub fn is_extended(&self) -> bool {
        self.extended
    }

    /// The bytes after the 4-byte header, without padding.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Payload as a big-endian `u32` (`blob_get_u32`); `None` unless exactly 4 bytes.
    pub fn get_u32(&self) -> Option<u32> {
        self.payload.try_into().ok().map(u32::from_be_bytes)
    }

    /// Payload as a `u8` (`blob_get_u8`); `None` unless exactly 1 byte.
    pub fn get_u8(&self) -> Option<u8> {
        match self.payload {
            [b] => Some(*b),
            _ => None,
        }
    }

    /// Payload as a NUL-terminated UTF-8 string (the NUL is counted in the length, as
    /// `blob_put_string` writes it). `None` if the NUL is missing or not the last byte.
    pub fn get_str(&self) -> Option<&'a str> {
        nul_terminated_str(self.payload)
    }
}

/// `bytes` must be a string followed by exactly one terminating NUL as its last byte.
pub(crate) fn nul_terminated_str(bytes: &[u8]) -> Option<&str> {
    let (last, text) = bytes.split_last()?;
    if *last != 0 || text.contains(&0) {
        return None;
    }
    core::str::from_utf8(text).ok()
}

/// Iterates over the attributes packed in a container payload (`__blob_for_each_attr`).
/// Yields an error once and then stops if the data is malformed.
#[derive(Debug, Clone)]
pub struct BlobIter<'a> {
    rest: &'a [u8],
}

impl<'a> BlobIter<'a> {
    pub fn new(payload: &'a [u8]) -> Self {
        BlobIter { rest: payload }
    }
}

impl<'a> Iterator for BlobIter<'a> {
    type Item = Result<BlobAttr<'a>, BlobError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match BlobAttr::parse(self.rest) {
            Ok((attr, used)) => {
                self.rest = &self.rest[used..];
                Some(Ok(attr))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// Write the header word for an attribute of `len` bytes (header included).
fn id_len(id: u8, extended: bool, len: usize) -> [u8; BLOB_HDR_LEN] {
    // Lengths above 24 bits cannot be represented; callers bound whole frames to
    // UBUS_MAX_MSGLEN (1 MiB) before sending, which rejects anything that large.
    let mut word = (u32::from(id) & ID_MASK) << ID_SHIFT | (len as u32 & BLOB_LEN_MASK);
    if extended {
        word |= EXTENDED_BIT;
    }
    word.to_be_bytes()
}

/// Zero-pad `buf` to the next 4-byte boundary (`blob_add` clears the padding).
pub(crate) fn pad_to_4(buf: &mut Vec<u8>) {
    buf.resize(pad4(buf.len()), 0);
}

/// Append a complete attribute: header, payload, zero padding. `buf` must already be
/// 4-byte aligned, which every writer in this module maintains.
pub fn put_attr(buf: &mut Vec<u8>, id: u8, extended: bool, payload: &[u8]) {
    buf.extend_from_slice(&id_len(id, extended, BLOB_HDR_LEN + payload.len()));
    buf.extend_from_slice(payload);
    pad_to_4(buf);
}

/// Append a plain `u32` attribute (`blob_put_u32`).
pub fn put_u32(buf: &mut Vec<u8>, id: u8, value: u32) {
    put_attr(buf, id, false, &value.to_be_bytes());
}

/// Append a plain NUL-terminated string attribute (`blob_put_string`).
pub fn put_string(buf: &mut Vec<u8>, id: u8, value: &str) {
    let start = begin_nested(buf, id, false);
    buf.extend_from_slice(value.as_bytes());
    buf.push(0);
    let len = buf.len() - start;
    buf[start..start + BLOB_HDR_LEN].copy_from_slice(&id_len(id, false, len));
    pad_to_4(buf);
}

/// Start a container attribute; returns its offset for [`end_nested`] (`blob_nest_start`).
pub fn begin_nested(buf: &mut Vec<u8>, id: u8, extended: bool) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&id_len(id, extended, BLOB_HDR_LEN));
    start
}

/// Finish the container begun at `start`: its length runs to the current end of `buf`,
/// which includes the padding of its last child, exactly like libubox `blob_nest_end`.
pub fn end_nested(buf: &mut [u8], start: usize) {
    let hdr: [u8; BLOB_HDR_LEN] = match buf.get(start..start + BLOB_HDR_LEN) {
        Some(h) => [h[0], h[1], h[2], h[3]],
        None => return,
    };
    let word = u32::from_be_bytes(hdr);
    let len = buf.len() - start;
    let new = (word & !BLOB_LEN_MASK) | (len as u32 & BLOB_LEN_MASK);
    buf[start..start + BLOB_HDR_LEN].copy_from_slice(&new.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_plain_u32() {
        let bytes = [0x03, 0x00, 0x00, 0x08, 0xb3, 0xe5, 0x78, 0x38];
        let (attr, used) = BlobAttr::parse(&bytes).unwrap();
        assert_eq!((attr.id(), attr.is_extended(), used), (3, false, 8));
        assert_eq!(attr.get_u32(), Some(0xb3e5_7838));
        assert_eq!(attr.get_u8(), None);
    }

    #[test]
    fn parse_extended_and_padding() {
        // blobmsg BOOL "running"=1 from 04-call-status.txt: len 17, padded to 20.
        let bytes = [
            0x87, 0, 0, 0x11, 0, 7, b'r', b'u', b'n', b'n', b'i', b'n', b'g', 0, 0, 0, 1, 0, 0, 0,
        ];
        let (attr, used) = BlobAttr::parse(&bytes).unwrap();
        assert_eq!((attr.id(), attr.is_extended(), used), (7, true, 20));
        assert_eq!(attr.payload().len(), 13);
    }

    #[test]
    fn parse_rejects_bad_lengths() {
        assert_eq!(BlobAttr::parse(&[0, 0, 0]), Err(BlobError::Truncated));
        assert_eq!(BlobAttr::parse(&[0, 0, 0, 3]), Err(BlobError::BadLength));
        assert_eq!(
            BlobAttr::parse(&[0, 0, 0, 9, 1, 2, 3, 4]),
            Err(BlobError::Truncated)
        );
        assert_eq!(
            BlobAttr::parse(&[0x0f, 0xff, 0xff, 0xff]),
            Err(BlobError::Truncated)
        );
    }

    #[test]
    fn iter_stops_after_error() {
        let bytes = [1, 0, 0, 4, 2, 0, 0, 2];
        let items: Vec<_> = BlobIter::new(&bytes).collect();
        assert_eq!(items.len(), 2);
        assert!(items[0].is_ok());
        assert_eq!(items[1], Err(BlobError::BadLength));
    }

    #[test]
    fn iter_rejects_trailing_fragment() {
        let bytes = [1, 0, 0, 4, 0, 0];
        let items: Vec<_> = BlobIter::new(&bytes).collect();
        assert_eq!(items[1], Err(BlobError::Truncated));
    }

    #[test]
    fn strings_need_exactly_one_trailing_nul() {
        assert_eq!(nul_terminated_str(b"abc\0"), Some("abc"));
        assert_eq!(nul_terminated_str(b"\0"), Some(""));
        assert_eq!(nul_terminated_str(b"abc"), None);
        assert_eq!(nul_terminated_str(b"a\0c\0"), None);
        assert_eq!(nul_terminated_str(b""), None);
        assert_eq!(nul_terminated_str(b"\xff\0"), None);
    }

    #[test]
    fn writers_match_libubox_layout() {
        let mut buf = Vec::new();
        put_string(&mut buf, 2, "ndpresponder");
        assert_eq!(&buf[..4], &[0x02, 0, 0, 0x11]);
        assert_eq!(buf.len(), 20);
        let nest = begin_nested(&mut buf, 6, false);
        put_attr(&mut buf, 7, true, &[1]);
        end_nested(&mut buf, nest);
        // Container length includes the 3 padding bytes of its only child.
        assert_eq!(&buf[20..24], &[0x06, 0, 0, 0x0c]);
        assert_eq!(&buf[24..], &[0x87, 0, 0, 5, 1, 0, 0, 0]);
        put_u32(&mut buf, 3, 0x0102_0304);
        assert_eq!(&buf[32..], &[3, 0, 0, 8, 1, 2, 3, 4]);
    }
}
