//! A fake ubusd for the daemon tests: frames built by hand from the wire rules in
//! tests/fixtures/ubus (README), independently of the crate's own codec; only the
//! daemon's replies are decoded with it. `register` plays ubusd's side of a connection up to
//! the object's registration, `call` invokes a method.

use ndpresponder::ubus::to_json;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

pub const HELLO: u8 = 0;
pub const STATUS: u8 = 1;
pub const DATA: u8 = 2;
pub const INVOKE: u8 = 5;
pub const ADD_OBJECT: u8 = 6;
pub const OBJID: u32 = 0x1234_5678;
pub const CALLER: u32 = 0x0bad_cafe;

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
    let mut body = (name.len() as u16).to_be_bytes().to_vec();
    body.extend_from_slice(&cstr(name));
    while (body.len()) % 4 != 0 {
        body.push(0);
    }
    body.extend_from_slice(&cstr(value));
    let mut a = (0x8000_0000u32 | 3 << 24 | (4 + body.len()) as u32)
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
}

pub fn read_frame(s: &mut UnixStream) -> Frame {
    let mut hdr = [0u8; 12];
    s.read_exact(&mut hdr)
        .expect("frame header from the daemon");
    let len = (u32::from_be_bytes(hdr[8..12].try_into().unwrap()) & 0x00ff_ffff) as usize;
    let mut body = vec![0u8; len - 4];
    s.read_exact(&mut body).expect("frame body");
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

/// Accepts the daemon's connection, says HELLO, checks its ADD_OBJECT and accepts it.
pub fn register(listener: &UnixListener) -> UnixStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut s = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("the daemon did not connect to the fake ubusd: {e}"),
        }
    };
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // HELLO exactly as a real ubusd sent it (fixture 01, MSG 1).
    s.write_all(&frame(HELLO, 0, 0x1376_f324, &[])).unwrap();
    let add = read_frame(&mut s);
    assert_eq!(add.kind, ADD_OBJECT);
    assert_eq!(add.attr(2), Some(&cstr("ndpresponder")[..]));
    let sig = add.attr(6).expect("SIGNATURE");
    let sig_text = String::from_utf8_lossy(sig);
    for m in ["status", "reload", "explain", "address", "interface"] {
        assert!(sig_text.contains(m), "signature lacks {m}");
    }
    let mut reply = attr(3, &OBJID.to_be_bytes());
    reply.extend(attr(5, &0x82fd_c059u32.to_be_bytes()));
    s.write_all(&frame(DATA, add.seq, 0, &reply)).unwrap();
    s.write_all(&frame(STATUS, add.seq, 0, &attr(1, &0u32.to_be_bytes())))
        .unwrap();
    s
}

/// Invokes `method` with string arguments; returns (status, JSON of the DATA if any).
pub fn call(
    s: &mut UnixStream,
    seq: u16,
    method: &str,
    args: &[(&str, &str)],
) -> (u32, Option<String>) {
    let mut data = Vec::new();
    for (k, v) in args {
        data.extend(blobmsg_string(k, v));
    }
    let mut attrs = attr(3, &OBJID.to_be_bytes());
    attrs.extend(attr(4, &cstr(method)));
    attrs.extend(attr(12, &cstr("root")));
    attrs.extend(attr(13, &cstr("root")));
    attrs.extend(attr(7, &data));
    s.write_all(&frame(INVOKE, seq, CALLER, &attrs)).unwrap();
    let mut json = None;
    loop {
        let f = read_frame(s);
        assert_eq!(
            (f.seq, f.peer),
            (seq, CALLER),
            "reply must echo seq and caller"
        );
        assert_eq!(
            f.attr(3),
            Some(&OBJID.to_be_bytes()[..]),
            "reply must carry OBJID"
        );
        match f.kind {
            DATA => json = Some(to_json(f.attr(7).expect("DATA attr"), true).unwrap()),
            STATUS => {
                let st = u32::from_be_bytes(f.attr(1).unwrap().try_into().unwrap());
                return (st, json);
            }
            k => panic!("unexpected message type {k}"),
        }
    }
}
