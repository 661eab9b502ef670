//! A fake ubusd for the daemon tests: frames built by hand from the wire rules in
//! tests/fixtures/ubus (README), independently of the crate's own codec; only the daemon's
//! replies are decoded with it. It behaves as the real ubusd (openwrt/ubus `ubusd_proto.c`,
//! `ubusd_id.c`) where the daemon can tell:
//! - client, object and type ids are random 32-bit values of at least 1024
//!   (`UBUS_SYSTEM_OBJECT_MAX`), new for every connection and object;
//! - an ADD_OBJECT its ACLs do not allow is answered by a lone STATUS 2 (INVALID_ARGUMENT:
//!   `ubusd_create_object` fails) and the connection stays open;
//! - a subscription change is a NOTIFY with OBJID and ACTIVE, and an INVOKE may carry
//!   NO_REPLY; neither is answered;
//! - the daemon's watch on netifd (fixtures 30-34): its anonymous ADD_OBJECT gets
//!   DATA{OBJID} + STATUS 0, the event registration STATUS 0 with peer 1, LOOKUP of
//!   `network.interface` STATUS 4 while no netifd is played, else DATA{OBJPATH, OBJID,
//!   OBJTYPE} + STATUS 0; SUBSCRIBE STATUS 0; notifications arrive as INVOKE to the
//!   anonymous object with NO_REPLY first, `ubus.object.add` as INVOKE with peer 0.

use ndpresponder::ubus::to_json;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const HELLO: u8 = 0;
pub const STATUS: u8 = 1;
pub const DATA: u8 = 2;
pub const LOOKUP: u8 = 4;
pub const INVOKE: u8 = 5;
pub const ADD_OBJECT: u8 = 6;
pub const SUBSCRIBE: u8 = 8;
pub const UNSUBSCRIBE: u8 = 9;
pub const NOTIFY: u8 = 10;

pub const ATTR_STATUS: u8 = 1;
pub const ATTR_OBJPATH: u8 = 2;
pub const ATTR_OBJID: u8 = 3;
pub const ATTR_METHOD: u8 = 4;
pub const ATTR_OBJTYPE: u8 = 5;
pub const ATTR_SIGNATURE: u8 = 6;
pub const ATTR_DATA: u8 = 7;
pub const ATTR_TARGET: u8 = 8;
pub const ATTR_ACTIVE: u8 = 9;
pub const ATTR_NO_REPLY: u8 = 10;
pub const ATTR_USER: u8 = 12;
pub const ATTR_GROUP: u8 = 13;

/// `UBUS_STATUS_INVALID_ARGUMENT`, ubusd's answer to an ADD_OBJECT its ACLs refuse.
pub const ACL_REFUSAL: u32 = 2;
/// `UBUS_SYSTEM_OBJECT_MAX`: ubusd draws ids until one is at least this.
const SYSTEM_OBJECT_MAX: u32 = 1024;

/// How long the fake waits for the daemon to connect in [`register`].
const CONNECT_LIMIT: Duration = Duration::from_secs(5);

/// A random id as `ubus_alloc_id` draws it (getrandom there; xorshift here, seeded from
/// the clock and pid, so each run and each call differ).
pub fn random_id() -> u32 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    loop {
        let mut x = STATE.load(Ordering::Relaxed);
        if x == 0 {
            let t = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64;
            x = t ^ (u64::from(std::process::id()) << 32) | 1;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        STATE.store(x, Ordering::Relaxed);
        let id = (x >> 32) as u32;
        if id >= SYSTEM_OBJECT_MAX {
            return id;
        }
    }
}

pub fn attr(id: u8, payload: &[u8]) -> Vec<u8> {
    let mut a = ((id as u32) << 24 | (4 + payload.len()) as u32)
        .to_be_bytes()
        .to_vec();
    a.extend_from_slice(payload);
    while a.len() % 4 != 0 {
        a.push(0);
    }
    a
}

pub fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

/// A blobmsg string attribute (extended bit, type 3, name header padded to 4).
pub fn blobmsg_string(name: &str, value: &str) -> Vec<u8> {
    blobmsg(3, name, &cstr(value))
}

/// A blobmsg INT32 attribute (type 5), as the CLI encodes a JSON number that fits.
pub fn blobmsg_int32(name: &str, value: i32) -> Vec<u8> {
    blobmsg(5, name, &value.to_be_bytes())
}

pub fn blobmsg(kind: u32, name: &str, value: &[u8]) -> Vec<u8> {
    let mut body = (name.len() as u16).to_be_bytes().to_vec();
    body.extend_from_slice(&cstr(name));
    while (body.len()) % 4 != 0 {
        body.push(0);
    }
    body.extend_from_slice(value);
    let mut a = (0x8000_0000u32 | kind << 24 | (4 + body.len()) as u32)
        .to_be_bytes()
        .to_vec();
    a.extend_from_slice(&body);
    while a.len() % 4 != 0 {
        a.push(0);
    }
    a
}

pub fn frame(kind: u8, seq: u16, peer: u32, attrs: &[u8]) -> Vec<u8> {
    let mut f = vec![0, kind];
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&peer.to_be_bytes());
    f.extend_from_slice(&((4 + attrs.len()) as u32).to_be_bytes());
    f.extend_from_slice(attrs);
    f
}

pub struct Frame {
    pub kind: u8,
    pub seq: u16,
    pub peer: u32,
    /// (id, payload) of each top-level attribute.
    pub attrs: Vec<(u8, Vec<u8>)>,
}

impl Frame {
    pub fn attr(&self, id: u8) -> Option<&[u8]> {
        self.attrs
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, p)| p.as_slice())
    }

    pub fn u32(&self, id: u8) -> Option<u32> {
        Some(u32::from_be_bytes(self.attr(id)?.try_into().ok()?))
    }
}

pub fn read_frame(s: &mut UnixStream) -> Frame {
    let mut hdr = [0u8; 12];
    s.read_exact(&mut hdr)
        .expect("frame header from the daemon");
    let len = (u32::from_be_bytes(hdr[8..12].try_into().unwrap()) & 0x00ff_ffff) as usize;
    let mut body = vec![0u8; len - 4];
    s.read_exact(&mut body).expect("frame body");
    parse_frame(&hdr, &body)
}

/// A whole frame given as bytes (a recorded one).
pub fn frame_from_bytes(bytes: &[u8]) -> Frame {
    parse_frame(&bytes[..12], &bytes[12..])
}

fn parse_frame(hdr: &[u8], body: &[u8]) -> Frame {
    // Every frame's length is padded on the wire to the blob's 4-byte alignment.
    let mut attrs = Vec::new();
    let mut at = 0;
    while at + 4 <= body.len() {
        let id_len = u32::from_be_bytes(body[at..at + 4].try_into().unwrap());
        let alen = (id_len & 0x00ff_ffff) as usize;
        attrs.push((
            (id_len >> 24 & 0x7f) as u8,
            body[at + 4..at + alen].to_vec(),
        ));
        at += (alen + 3) & !3;
    }
    Frame {
        kind: hdr[1],
        seq: u16::from_be_bytes([hdr[2], hdr[3]]),
        peer: u32::from_be_bytes(hdr[4..8].try_into().unwrap()),
        attrs,
    }
}

/// The daemon's next connection, if it comes within `limit`.
pub fn accept(listener: &UnixListener, limit: Duration) -> Option<UnixStream> {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                return Some(s);
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => return None,
        }
    }
}

/// How the fake answers ADD_OBJECT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddObject {
    Accept,
    /// A lone STATUS with this code, as ubusd refuses what its ACLs do not allow.
    Refuse(u32),
}

/// One registered connection: the ids ubusd gave it.
#[derive(Debug)]
pub struct Session {
    pub stream: UnixStream,
    pub client_id: u32,
    pub object_id: u32,
    /// The anonymous object the daemon watches netifd with.
    pub watch_id: u32,
    /// The played netifd's object id, once the daemon found it.
    pub netifd_id: Option<u32>,
    /// ubusd's per-object sequence for what it sends on its own (`obj->invoke_seq`).
    invoke_seq: u16,
}

/// Plays ubusd's side of a new connection: HELLO with a fresh client id, then the daemon's
/// ADD_OBJECT (checked), answered as `answer` says. A refused connection is handed back
/// open, as ubusd leaves it.
pub fn handshake(s: UnixStream, answer: AddObject) -> Result<Session, UnixStream> {
    handshake_with(s, answer, Netifd::Absent)
}

/// How the fake plays netifd while the daemon sets up its watch.
#[derive(Clone, Copy, Debug)]
pub enum Netifd<'a> {
    /// `network.interface` is not on the bus.
    Absent,
    /// It is, and answers the first dump with this DATA.
    Answers(&'a [u8]),
    /// It is, and leaves the first dump unanswered.
    Silent,
    /// It is, but ubusd's ACL refuses the SUBSCRIBE (UBUS_STATUS_PERMISSION_DENIED, as
    /// real ubusd answers it); the dump is still answered with this DATA.
    RefusesSubscribe(&'a [u8]),
}

/// [`handshake`], then the daemon's watch on netifd set up as `netifd` says.
pub fn handshake_with(
    mut s: UnixStream,
    answer: AddObject,
    netifd: Netifd<'_>,
) -> Result<Session, UnixStream> {
    let client_id = random_id();
    s.write_all(&frame(HELLO, 0, client_id, &[])).unwrap();
    let add = read_frame(&mut s);
    assert_eq!(add.kind, ADD_OBJECT);
    assert_eq!(add.peer, 0, "ADD_OBJECT goes to ubusd itself");
    assert_eq!(add.attr(ATTR_OBJPATH), Some(&cstr("ndpresponder")[..]));
    let sig = add.attr(ATTR_SIGNATURE).expect("SIGNATURE");
    let sig_text = String::from_utf8_lossy(sig);
    for m in ["status", "reload", "explain", "address", "interface"] {
        assert!(sig_text.contains(m), "signature lacks {m}");
    }
    match answer {
        AddObject::Refuse(code) => {
            s.write_all(&frame(
                STATUS,
                add.seq,
                0,
                &attr(ATTR_STATUS, &code.to_be_bytes()),
            ))
            .unwrap();
            Err(s)
        }
        AddObject::Accept => {
            let object_id = random_id();
            let mut reply = attr(ATTR_OBJID, &object_id.to_be_bytes());
            reply.extend(attr(ATTR_OBJTYPE, &random_id().to_be_bytes()));
            s.write_all(&frame(DATA, add.seq, 0, &reply)).unwrap();
            s.write_all(&frame(
                STATUS,
                add.seq,
                0,
                &attr(ATTR_STATUS, &0u32.to_be_bytes()),
            ))
            .unwrap();
            let mut session = Session {
                stream: s,
                client_id,
                object_id,
                watch_id: 0,
                netifd_id: None,
                invoke_seq: 0,
            };
            serve_watch_setup(&mut session, netifd);
            Ok(session)
        }
    }
}

fn status_frame(seq: u16, peer: u32, code: u32) -> Vec<u8> {
    frame(STATUS, seq, peer, &attr(ATTR_STATUS, &code.to_be_bytes()))
}

/// The daemon's anonymous object, its event registration and its LOOKUP of netifd.
fn serve_watch_setup(s: &mut Session, netifd: Netifd<'_>) {
    let add = read_frame(&mut s.stream);
    assert_eq!(
        (add.kind, add.attrs.len()),
        (ADD_OBJECT, 0),
        "anonymous ADD_OBJECT"
    );
    s.watch_id = random_id();
    s.stream
        .write_all(&frame(
            DATA,
            add.seq,
            0,
            &attr(ATTR_OBJID, &s.watch_id.to_be_bytes()),
        ))
        .unwrap();
    s.stream.write_all(&status_frame(add.seq, 0, 0)).unwrap();
    let reg = read_frame(&mut s.stream);
    assert_eq!(
        (reg.kind, reg.peer, reg.u32(ATTR_OBJID)),
        (INVOKE, 1, Some(1))
    );
    assert_eq!(reg.attr(ATTR_METHOD), Some(&cstr("register")[..]));
    let mut want = blobmsg_int32("object", s.watch_id as i32);
    want.extend(blobmsg_string("pattern", "ubus.object.add"));
    assert_eq!(
        reg.attr(ATTR_DATA),
        Some(&want[..]),
        "register {{object, pattern}}"
    );
    s.stream.write_all(&status_frame(reg.seq, 1, 0)).unwrap();
    let lookup = read_frame(&mut s.stream);
    assert_eq!(lookup.kind, LOOKUP);
    assert_eq!(
        lookup.attr(ATTR_OBJPATH),
        Some(&cstr("network.interface")[..])
    );
    if let Netifd::Absent = netifd {
        // UBUS_STATUS_NOT_FOUND
        s.stream.write_all(&status_frame(lookup.seq, 0, 4)).unwrap();
        return;
    }
    let id = random_id();
    let mut found = attr(ATTR_OBJPATH, &cstr("network.interface"));
    found.extend(attr(ATTR_OBJID, &id.to_be_bytes()));
    found.extend(attr(ATTR_OBJTYPE, &random_id().to_be_bytes()));
    s.stream
        .write_all(&frame(DATA, lookup.seq, 0, &found))
        .unwrap();
    s.stream.write_all(&status_frame(lookup.seq, 0, 0)).unwrap();
    let refused = matches!(netifd, Netifd::RefusesSubscribe(_));
    serve_subscribe(s, id, if refused { 6 } else { 0 });
    match netifd {
        Netifd::Answers(dump) | Netifd::RefusesSubscribe(dump) => serve_dump(s, dump),
        _ => {
            read_dump_call(s);
        }
    }
}

/// The daemon's SUBSCRIBE to netifd's object `id`, answered with status `code`.
fn serve_subscribe(s: &mut Session, id: u32, code: u32) {
    let sub = read_frame(&mut s.stream);
    assert_eq!(sub.kind, SUBSCRIBE);
    assert_eq!(
        (sub.u32(ATTR_OBJID), sub.u32(ATTR_TARGET)),
        (Some(s.watch_id), Some(id))
    );
    s.stream.write_all(&status_frame(sub.seq, 0, code)).unwrap();
    s.netifd_id = Some(id);
}

/// Reads the daemon's `dump` call and answers it with `dump` (DATA content), as ubusd
/// forwards netifd's reply (header peer = the object id).
pub fn serve_dump(s: &mut Session, dump: &[u8]) {
    let seq = read_dump_call(s);
    answer_dump(s, seq, dump);
}

/// Reads the daemon's `dump` call; returns its seq.
pub fn read_dump_call(s: &mut Session) -> u16 {
    let id = s.netifd_id.expect("netifd is played");
    let call = read_frame(&mut s.stream);
    assert_eq!(
        (call.kind, call.peer, call.u32(ATTR_OBJID)),
        (INVOKE, id, Some(id))
    );
    assert_eq!(call.attr(ATTR_METHOD), Some(&cstr("dump")[..]));
    call.seq
}

/// Answers the `dump` call `seq` with `dump` (DATA content).
pub fn answer_dump(s: &mut Session, seq: u16, dump: &[u8]) {
    let id = s.netifd_id.expect("netifd is played");
    let mut data = attr(ATTR_OBJID, &id.to_be_bytes());
    data.extend(attr(ATTR_DATA, dump));
    s.stream.write_all(&frame(DATA, seq, id, &data)).unwrap();
    let mut status = attr(ATTR_STATUS, &0u32.to_be_bytes());
    status.extend(attr(ATTR_OBJID, &id.to_be_bytes()));
    s.stream
        .write_all(&frame(STATUS, seq, id, &status))
        .unwrap();
}

/// netifd's notification `kind` (`interface.update`, `interface.down`) with `data`, as the
/// subscriber receives it (fixture 30: NO_REPLY first).
pub fn notify_netifd(s: &mut Session, kind: &str, data: &[u8]) {
    s.invoke_seq += 1;
    let mut attrs = attr(ATTR_NO_REPLY, &[1]);
    attrs.extend(attr(ATTR_OBJID, &s.watch_id.to_be_bytes()));
    attrs.extend(attr(ATTR_METHOD, &cstr(kind)));
    attrs.extend(attr(ATTR_USER, &cstr("root")));
    attrs.extend(attr(ATTR_GROUP, &cstr("root")));
    attrs.extend(attr(ATTR_DATA, data));
    s.stream
        .write_all(&frame(INVOKE, s.invoke_seq, random_id(), &attrs))
        .unwrap();
}

/// netifd's object went away: UNSUBSCRIBE to the daemon's watch.
pub fn netifd_gone(s: &mut Session) {
    let old = s.netifd_id.take().expect("netifd was played");
    let mut attrs = attr(ATTR_OBJID, &s.watch_id.to_be_bytes());
    attrs.extend(attr(ATTR_TARGET, &old.to_be_bytes()));
    s.stream
        .write_all(&frame(UNSUBSCRIBE, 1, 0, &attrs))
        .unwrap();
}

/// netifd registered again: the `ubus.object.add` event; the daemon subscribes and dumps.
pub fn netifd_back(s: &mut Session, dump: &[u8]) {
    let id = random_id();
    let mut data = blobmsg_int32("id", id as i32);
    data.extend(blobmsg_string("path", "network.interface"));
    let mut attrs = attr(ATTR_OBJID, &s.watch_id.to_be_bytes());
    attrs.extend(attr(ATTR_METHOD, &cstr("ubus.object.add")));
    attrs.extend(attr(ATTR_DATA, &data));
    s.stream.write_all(&frame(INVOKE, 1, 0, &attrs)).unwrap();
    serve_subscribe(s, id, 0);
    serve_dump(s, dump);
}

/// Accepts the daemon's connection and registers its object.
pub fn register(listener: &UnixListener) -> Session {
    register_within(listener, CONNECT_LIMIT)
}

/// [`register`], waiting at most `limit` for the daemon to connect.
pub fn register_within(listener: &UnixListener, limit: Duration) -> Session {
    let s = accept(listener, limit)
        .unwrap_or_else(|| panic!("the daemon did not connect to the fake ubusd in {limit:?}"));
    handshake(s, AddObject::Accept).expect("registration")
}

/// Invokes `method` with string arguments; returns (status, JSON of the DATA if any).
pub fn call(
    s: &mut Session,
    seq: u16,
    method: &str,
    args: &[(&str, &str)],
) -> (u32, Option<String>) {
    let data: Vec<u8> = args
        .iter()
        .flat_map(|(k, v)| blobmsg_string(k, v))
        .collect();
    call_raw(s, seq, method, &data)
}

/// An INVOKE of our object from a caller, as ubusd forwards it (`ubusd_forward_invoke`).
fn invoke_frame(
    s: &Session,
    seq: u16,
    caller: u32,
    method: &str,
    data: &[u8],
    no_reply: bool,
) -> Vec<u8> {
    let mut attrs = attr(ATTR_OBJID, &s.object_id.to_be_bytes());
    attrs.extend(attr(ATTR_METHOD, &cstr(method)));
    attrs.extend(attr(ATTR_USER, &cstr("root")));
    attrs.extend(attr(ATTR_GROUP, &cstr("root")));
    attrs.extend(attr(ATTR_DATA, data));
    if no_reply {
        attrs.extend(attr(ATTR_NO_REPLY, &[1]));
    }
    frame(INVOKE, seq, caller, &attrs)
}

/// Invokes `method` with `data` (blobmsg attributes) as its arguments, from a caller with
/// a fresh client id.
pub fn call_raw(s: &mut Session, seq: u16, method: &str, data: &[u8]) -> (u32, Option<String>) {
    let caller = random_id();
    let invoke = invoke_frame(s, seq, caller, method, data, false);
    s.stream.write_all(&invoke).unwrap();
    let mut json = None;
    loop {
        let f = read_frame(&mut s.stream);
        assert_eq!(
            (f.seq, f.peer),
            (seq, caller),
            "reply must echo seq and caller"
        );
        assert_eq!(
            f.u32(ATTR_OBJID),
            Some(s.object_id),
            "reply must carry OBJID"
        );
        match f.kind {
            DATA => json = Some(to_json(f.attr(ATTR_DATA).expect("DATA attr"), true).unwrap()),
            STATUS => return (f.u32(ATTR_STATUS).unwrap(), json),
            k => panic!("unexpected message type {k}"),
        }
    }
}

/// What ubusd sends without expecting an answer: a NOTIFY that the object's subscribers
/// changed (`ubus_notify_subscription`, after `ubus subscribe ndpresponder`), and an
/// INVOKE of `method` with NO_REPLY set.
pub fn send_unanswered(s: &mut Session, method: &str) {
    s.invoke_seq += 1;
    let mut attrs = attr(ATTR_OBJID, &s.object_id.to_be_bytes());
    attrs.extend(attr(ATTR_ACTIVE, &[1]));
    s.stream
        .write_all(&frame(NOTIFY, s.invoke_seq, 0, &attrs))
        .unwrap();
    let invoke = invoke_frame(s, 1, random_id(), method, &[], true);
    s.stream.write_all(&invoke).unwrap();
}
