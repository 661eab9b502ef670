//! ubus message framing (openwrt/ubus `ubusmsg.h`, `libubus-io.c`): an 8-byte
//! `ubus_msghdr` followed by one root blob attribute (id 0) holding plain, non-extended
//! attributes from `enum ubus_msg_attr`.

use super::blob::{self, BlobAttr, BlobIter, BLOB_HDR_LEN, BLOB_LEN_MASK};
use super::error::UbusError;

/// `sizeof(struct ubus_msghdr)`: u8 version, u8 type, u16 seq, u32 peer, all big-endian.
pub const MSGHDR_LEN: usize = 8;
/// `UBUS_MAX_MSGLEN`: ubusd drops clients that send more, and we refuse to buffer more.
/// Applied to whole frames (header included), the stricter reading of ubusd's check.
pub const UBUS_MAX_MSGLEN: usize = 1 << 20;

/// `enum ubus_msg_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum MsgType {
    Hello = 0,
    Status = 1,
    Data = 2,
    Ping = 3,
    Lookup = 4,
    Invoke = 5,
    AddObject = 6,
    RemoveObject = 7,
    Subscribe = 8,
    Unsubscribe = 9,
    Notify = 10,
    Monitor = 11,
}

impl MsgType {
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => MsgType::Hello,
            1 => MsgType::Status,
            2 => MsgType::Data,
            3 => MsgType::Ping,
            4 => MsgType::Lookup,
            5 => MsgType::Invoke,
            6 => MsgType::AddObject,
            7 => MsgType::RemoveObject,
            8 => MsgType::Subscribe,
            9 => MsgType::Unsubscribe,
            10 => MsgType::Notify,
            11 => MsgType::Monitor,
            _ => return None,
        })
    }
}

/// `enum ubus_msg_attr`: ids of the top-level attributes inside the root blob.
pub mod attr {
    pub const STATUS: u8 = 1;
    pub const OBJPATH: u8 = 2;
    pub const OBJID: u8 = 3;
    pub const METHOD: u8 = 4;
    pub const OBJTYPE: u8 = 5;
    pub const SIGNATURE: u8 = 6;
    pub const DATA: u8 = 7;
    pub const TARGET: u8 = 8;
    pub const ACTIVE: u8 = 9;
    pub const NO_REPLY: u8 = 10;
    pub const SUBSCRIBERS: u8 = 11;
    pub const USER: u8 = 12;
    pub const GROUP: u8 = 13;
    /// `UBUS_ATTR_MAX`.
    pub const MAX: usize = 14;
}

/// `struct ubus_msghdr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsgHeader {
    /// Raw type byte; [`MsgType::from_code`] names it (unknown types are ignored, not
    /// fatal, so a newer ubusd cannot break us).
    pub msg_type: u8,
    pub seq: u16,
    pub peer: u32,
}

/// One complete frame, borrowed: header plus the root blob's attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    pub header: MsgHeader,
    /// The root attribute's payload: a list of top-level attributes.
    pub attrs: &'a [u8],
}

impl<'a> Message<'a> {
    /// Parse a frame exactly `MSGHDR_LEN + root length` bytes long, as produced by
    /// [`FrameReassembler`].
    pub fn parse(frame: &'a [u8]) -> Result<Self, UbusError> {
        let hdr = frame
            .get(..MSGHDR_LEN)
            .ok_or(UbusError::Malformed(blob::BlobError::Truncated))?;
        if hdr[0] != 0 {
            return Err(UbusError::BadVersion(hdr[0]));
        }
        let header = MsgHeader {
            msg_type: hdr[1],
            seq: u16::from_be_bytes([hdr[2], hdr[3]]),
            peer: u32::from_be_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]),
        };
        let (root, used) = BlobAttr::parse(&frame[MSGHDR_LEN..])?;
        if MSGHDR_LEN + used != frame.len() {
            return Err(UbusError::Malformed(blob::BlobError::BadLength));
        }
        Ok(Message {
            header,
            attrs: root.payload(),
        })
    }

    pub fn msg_type(&self) -> Option<MsgType> {
        MsgType::from_code(self.header.msg_type)
    }

    /// Index the top-level attributes (`blob_parse` with libubus's `ubus_policy`).
    pub fn parse_attrs(&self) -> Result<MsgAttrs<'a>, UbusError> {
        MsgAttrs::parse(self.attrs)
    }
}

/// Top-level attributes by id. As in libubox `blob_parse`, the last occurrence of an id
/// wins and unknown ids are skipped; typed accessors return `None` for a value of the
/// wrong size, as the policy check would drop it.
#[derive(Debug, Clone, Copy, Default)]
pub struct MsgAttrs<'a> {
    table: [Option<BlobAttr<'a>>; attr::MAX],
}

impl<'a> MsgAttrs<'a> {
    pub fn parse(attrs: &'a [u8]) -> Result<Self, UbusError> {
        let mut out = MsgAttrs::default();
        for a in BlobIter::new(attrs) {
            let a = a?;
            if let Some(slot) = out.table.get_mut(usize::from(a.id())) {
                *slot = Some(a);
            }
        }
        Ok(out)
    }

    pub fn get(&self, id: u8) -> Option<BlobAttr<'a>> {
        self.table.get(usize::from(id)).copied().flatten()
    }

    pub fn u32(&self, id: u8) -> Option<u32> {
        self.get(id)?.get_u32()
    }

    pub fn u8(&self, id: u8) -> Option<u8> {
        self.get(id)?.get_u8()
    }

    pub fn str(&self, id: u8) -> Option<&'a str> {
        self.get(id)?.get_str()
    }

    /// Payload of a nested attribute (DATA, SIGNATURE).
    pub fn nested(&self, id: u8) -> Option<&'a [u8]> {
        self.get(id).map(|a| a.payload())
    }
}

/// Start a frame in `out`: header plus the root attribute's header. Returns the offset
/// of the root attribute for [`end_frame`].
fn begin_frame(out: &mut Vec<u8>, msg_type: MsgType, seq: u16, peer: u32) -> usize {
    out.push(0);
    out.push(msg_type as u8);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&peer.to_be_bytes());
    blob::begin_nested(out, 0, false)
}

/// Close the root attribute and check the frame against `UBUS_MAX_MSGLEN`.
fn end_frame(mut out: Vec<u8>, root: usize) -> Result<Vec<u8>, UbusError> {
    blob::end_nested(&mut out, root);
    if out.len() > UBUS_MAX_MSGLEN {
        return Err(UbusError::FrameTooLarge(out.len()));
    }
    Ok(out)
}

/// ADD_OBJECT (`ubus_add_object`): OBJPATH plus SIGNATURE, a list of blobmsg tables (one
/// per method, see `object.rs`). Sent with peer 0.
pub fn build_add_object(seq: u16, path: &str, signature: &[u8]) -> Result<Vec<u8>, UbusError> {
    let mut out = Vec::new();
    let root = begin_frame(&mut out, MsgType::AddObject, seq, 0);
    blob::put_string(&mut out, attr::OBJPATH, path);
    blob::put_attr(&mut out, attr::SIGNATURE, false, signature);
    end_frame(out, root)
}

/// DATA reply (`ubus_send_reply`): OBJID then DATA with the blobmsg reply table.
pub fn build_data(seq: u16, peer: u32, objid: u32, data: &[u8]) -> Result<Vec<u8>, UbusError> {
    let mut out = Vec::new();
    let root = begin_frame(&mut out, MsgType::Data, seq, peer);
    blob::put_u32(&mut out, attr::OBJID, objid);
    blob::put_attr(&mut out, attr::DATA, false, data);
    end_frame(out, root)
}

/// STATUS reply (`ubus_complete_deferred_request`): STATUS then OBJID.
pub fn build_status(seq: u16, peer: u32, status: u32, objid: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(MSGHDR_LEN + 20);
    let root = begin_frame(&mut out, MsgType::Status, seq, peer);
    blob::put_u32(&mut out, attr::STATUS, status);
    blob::put_u32(&mut out, attr::OBJID, objid);
    blob::end_nested(&mut out, root);
    out
}

/// ADD_OBJECT with no attributes (`ubus_register_subscriber`, `ubus_register_event_handler`):
/// an anonymous object, with no path and so no `ubus.object.add` event, that ubusd delivers
/// notifications and events to. The reply is DATA{OBJID} then STATUS.
pub fn build_add_anonymous(seq: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(MSGHDR_LEN + 4);
    let root = begin_frame(&mut out, MsgType::AddObject, seq, 0);
    blob::end_nested(&mut out, root);
    out
}

/// LOOKUP of one path (`ubus_lookup_id`): DATA{OBJPATH, OBJID, OBJTYPE, SIGNATURE} and
/// STATUS 0, or a lone STATUS NOT_FOUND.
pub fn build_lookup(seq: u16, path: &str) -> Result<Vec<u8>, UbusError> {
    let mut out = Vec::new();
    let root = begin_frame(&mut out, MsgType::Lookup, seq, 0);
    blob::put_string(&mut out, attr::OBJPATH, path);
    end_frame(out, root)
}

/// INVOKE of `method` on `objid` (`ubus_invoke_async`): header peer and OBJID are both the
/// target object, then METHOD and DATA (always present, empty for no arguments).
pub fn build_invoke(seq: u16, objid: u32, method: &str, data: &[u8]) -> Result<Vec<u8>, UbusError> {
    let mut out = Vec::new();
    let root = begin_frame(&mut out, MsgType::Invoke, seq, objid);
    blob::put_u32(&mut out, attr::OBJID, objid);
    blob::put_string(&mut out, attr::METHOD, method);
    blob::put_attr(&mut out, attr::DATA, false, data);
    end_frame(out, root)
}

/// SUBSCRIBE (`ubus_subscribe`): our anonymous object `objid` to the publisher `target`.
/// Answered by STATUS; ubusd tells the publisher with NOTIFY{ACTIVE}.
pub fn build_subscribe(seq: u16, objid: u32, target: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(MSGHDR_LEN + 20);
    let root = begin_frame(&mut out, MsgType::Subscribe, seq, 0);
    blob::put_u32(&mut out, attr::OBJID, objid);
    blob::put_u32(&mut out, attr::TARGET, target);
    blob::end_nested(&mut out, root);
    out
}

/// Cuts a byte stream into frames: a frame may arrive split over several reads or glued
/// to the next one (`get_next_msg` in libubus-io.c reads the header and root blob header,
/// then the rest). Frames longer than `UBUS_MAX_MSGLEN` are an error, checked from the
/// header before buffering the body.
#[derive(Debug, Default)]
pub struct FrameReassembler {
    buf: Vec<u8>,
    /// Bytes of `buf` already returned as frames, dropped on the next push.
    consumed: usize,
}

impl FrameReassembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Append bytes read from the socket.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.drain(..self.consumed);
        self.consumed = 0;
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, if one is buffered. After an error the stream is
    /// desynchronised; the caller must drop the connection.
    pub fn next_frame(&mut self) -> Result<Option<&[u8]>, UbusError> {
        let pending = &self.buf[self.consumed..];
        let Some(hdr) = pending.get(..MSGHDR_LEN + BLOB_HDR_LEN) else {
            return Ok(None);
        };
        if hdr[0] != 0 {
            return Err(UbusError::BadVersion(hdr[0]));
        }
        let id_len = u32::from_be_bytes([hdr[8], hdr[9], hdr[10], hdr[11]]);
        let root_len = (id_len & BLOB_LEN_MASK) as usize;
        if root_len < BLOB_HDR_LEN {
            return Err(UbusError::Malformed(blob::BlobError::BadLength));
        }
        let frame_len = MSGHDR_LEN + root_len;
        if frame_len > UBUS_MAX_MSGLEN {
            return Err(UbusError::FrameTooLarge(frame_len));
        }
        if pending.len() < frame_len {
            return Ok(None);
        }
        let start = self.consumed;
        self.consumed += frame_len;
        Ok(Some(&self.buf[start..start + frame_len]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_frame_layout() {
        assert_eq!(
            build_status(2, 0x2169_8277, 3, 0xb3e5_7838),
            [
                0, 1, 0, 2, 0x21, 0x69, 0x82, 0x77, 0, 0, 0, 0x14, 1, 0, 0, 8, 0, 0, 0, 3, 3, 0, 0,
                8, 0xb3, 0xe5, 0x78, 0x38
            ]
        );
    }

    #[test]
    fn parse_checks_version_and_length() {
        let frame = build_status(1, 2, 0, 3);
        let msg = Message::parse(&frame).unwrap();
        assert_eq!(msg.msg_type(), Some(MsgType::Status));
        assert_eq!((msg.header.seq, msg.header.peer), (1, 2));
        let attrs = msg.parse_attrs().unwrap();
        assert_eq!(attrs.u32(attr::STATUS), Some(0));
        assert_eq!(attrs.u32(attr::OBJID), Some(3));
        assert_eq!(attrs.u8(attr::STATUS), None);
        assert_eq!(attrs.str(attr::METHOD), None);

        let mut bad = frame.clone();
        bad[0] = 1;
        assert_eq!(Message::parse(&bad), Err(UbusError::BadVersion(1)));
        assert!(Message::parse(&frame[..frame.len() - 1]).is_err());
        let mut longer = frame.clone();
        longer.extend_from_slice(&[0; 4]);
        assert!(Message::parse(&longer).is_err());
        assert!(Message::parse(&frame[..5]).is_err());
    }

    #[test]
    fn reassembler_splits_and_joins() {
        let a = build_status(1, 2, 0, 3);
        let b = build_data(4, 5, 6, &[]).unwrap();
        let mut stream = a.clone();
        stream.extend_from_slice(&b);
        for cut in 0..=stream.len() {
            let mut r = FrameReassembler::new();
            let mut got = Vec::new();
            for part in [&stream[..cut], &stream[cut..]] {
                r.push(part);
                while let Some(f) = r.next_frame().unwrap() {
                    got.push(f.to_vec());
                }
            }
            assert_eq!(got, [a.clone(), b.clone()], "cut at {cut}");
        }
    }

    #[test]
    fn reassembler_enforces_max_len_from_header() {
        let mut r = FrameReassembler::new();
        let len = (UBUS_MAX_MSGLEN - MSGHDR_LEN + 1) as u32;
        let mut hdr = vec![0, 2, 0, 1, 0, 0, 0, 0];
        hdr.extend_from_slice(&len.to_be_bytes());
        r.push(&hdr);
        assert_eq!(
            r.next_frame(),
            Err(UbusError::FrameTooLarge(UBUS_MAX_MSGLEN + 1))
        );
        let mut r = FrameReassembler::new();
        r.push(&[0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3]);
        assert!(r.next_frame().is_err());
    }

    #[test]
    fn oversized_reply_is_refused() {
        let data = vec![0; UBUS_MAX_MSGLEN];
        assert!(matches!(
            build_data(1, 2, 3, &data),
            Err(UbusError::FrameTooLarge(_))
        ));
    }
}
