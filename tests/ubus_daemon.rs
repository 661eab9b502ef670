//! The daemon against a fake ubusd: registration (checked against the frame a real ubusd
//! accepted, fixture 01), `status`, `reload` with a good and a broken file, SIGHUP,
//! `explain`, and re-registration after ubusd restarts. Needs no root: the configured
//! device does not exist, so no packet socket is opened.
//!
//! The fake ubusd builds its frames by hand from the wire rules in the fixtures README,
//! independently of the crate's own codec; only the daemon's replies are decoded with it.

use ndpresponder::ubus::to_json;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const HELLO: u8 = 0;
const STATUS: u8 = 1;
const DATA: u8 = 2;
const INVOKE: u8 = 5;
const ADD_OBJECT: u8 = 6;
const OBJID: u32 = 0x1234_5678;
const CALLER: u32 = 0x0bad_cafe;

/// A temp directory removed on drop, and the daemon killed on drop, even when a test fails.
struct Fixture {
    dir: PathBuf,
    daemon: Option<Child>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let _ = d.kill();
            let _ = d.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn attr(id: u8, payload: &[u8]) -> Vec<u8> {
    let mut a = ((id as u32) << 24 | (4 + payload.len()) as u32)
        .to_be_bytes()
        .to_vec();
    a.extend_from_slice(payload);
    while a.len() % 4 != 0 {
        a.push(0);
    }
    a
}

fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

/// A blobmsg string attribute (extended bit, type 3, name header padded to 4).
fn blobmsg_string(name: &str, value: &str) -> Vec<u8> {
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

fn frame(kind: u8, seq: u16, peer: u32, attrs: &[u8]) -> Vec<u8> {
    let mut f = vec![0, kind];
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&peer.to_be_bytes());
    f.extend_from_slice(&((4 + attrs.len()) as u32).to_be_bytes());
    f.extend_from_slice(attrs);
    f
}

struct Frame {
    kind: u8,
    seq: u16,
    peer: u32,
    /// (id, payload) of each top-level attribute.
    attrs: Vec<(u8, Vec<u8>)>,
}

impl Frame {
    fn attr(&self, id: u8) -> Option<&[u8]> {
        self.attrs
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, p)| p.as_slice())
    }
}

fn read_frame(s: &mut UnixStream) -> Frame {
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
fn register(listener: &UnixListener) -> UnixStream {
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
fn call(
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

fn write_config(dir: &Path, device: &str, prefixes: &[&str]) {
    let mut text = format!("config ndpresponder 'main'\n\toption enabled '1'\n\nconfig uplink 'wan'\n\toption device '{device}'\n");
    for p in prefixes {
        text.push_str(&format!("\tlist prefix '{p}'\n"));
    }
    std::fs::write(dir.join("ndpresponder"), text).unwrap();
}

fn start(name: &str) -> (Fixture, UnixListener, PathBuf) {
    let dir = std::env::temp_dir().join(format!("ndpr-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("run")).unwrap();
    let sock = dir.join("run/ubus.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let device = format!("ndpt{}", std::process::id() % 100_000);
    write_config(&dir, &device, &["2001:db8:1:2::1:0/112"]);
    let daemon = Command::new(env!("CARGO_BIN_EXE_ndpresponder"))
        .args(["-f", "-c"])
        .arg(&dir)
        .arg("-s")
        .arg(&sock)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let fx = Fixture {
        dir: dir.clone(),
        daemon: Some(daemon),
    };
    (fx, listener, sock)
}

fn signal(fx: &Fixture, sig: &str) {
    let pid = fx.daemon.as_ref().unwrap().id().to_string();
    assert!(Command::new("kill")
        .args([sig, &pid])
        .status()
        .unwrap()
        .success());
}

#[test]
fn status_reload_explain_and_broken_file() {
    let (fx, listener, _) = start("status");
    let mut s = register(&listener);

    let (st, json) = call(&mut s, 10, "status", &[]);
    assert_eq!(st, 0);
    let json = json.expect("status has data");
    for needle in [
        "\"version\": \"0.1.0\"",
        "\"state\": \"absent\"",
        "\"armed\": false",
        "\"2001:db8:1:2::1:0/112\"",
        "\"ns_received\": 0",
        "\"out_of_range\": 0",
        "\"config\": \"",
    ] {
        assert!(json.contains(needle), "status lacks {needle}:\n{json}");
    }
    assert!(!json.contains("config_error"));

    // A good edit is applied by `reload`.
    let device = format!("ndpt{}", std::process::id() % 100_000);
    write_config(
        &fx.dir,
        &device,
        &["2001:db8:1:2::2:0/112", "2001:db8:1:2::3:0/112"],
    );
    assert_eq!(call(&mut s, 11, "reload", &[]), (0, None));
    let json = call(&mut s, 12, "status", &[]).1.unwrap();
    assert!(json.contains("2001:db8:1:2::3:0/112") && !json.contains("2001:db8:1:2::1:0/112"));

    // A broken file is refused; the running rules stay and status names the error's place.
    std::fs::write(
        fx.dir.join("ndpresponder"),
        format!("config uplink 'wan'\n\toption device '{device}'\n\tlist prefix '10.0.0.0/8'\n"),
    )
    .unwrap();
    assert_eq!(call(&mut s, 13, "reload", &[]).0, 2);
    let json = call(&mut s, 14, "status", &[]).1.unwrap();
    assert!(
        json.contains("2001:db8:1:2::3:0/112"),
        "old rules lost:\n{json}"
    );
    assert!(
        json.contains("config_error") && json.contains("ndpresponder:3"),
        "{json}"
    );
    assert!(json.contains("10.0.0.0/8"), "{json}");

    // SIGHUP after fixing the file clears the error.
    write_config(&fx.dir, &device, &["2001:db8:1:2::4:0/112"]);
    signal(&fx, "-HUP");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let json = call(&mut s, 15, "status", &[]).1.unwrap();
        if json.contains("2001:db8:1:2::4:0/112") && !json.contains("config_error") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "SIGHUP reload not applied:\n{json}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // explain: covered but not armed (the device does not exist), out of range, errors.
    let (st, json) = call(&mut s, 16, "explain", &[("address", "2001:db8:1:2::4:9")]);
    assert_eq!(st, 0);
    let json = json.unwrap();
    assert!(
        json.contains("\"rule\": \"2001:db8:1:2::4:0/112\"") && json.contains("\"answers\": false"),
        "{json}"
    );
    assert!(json.contains("not armed"), "{json}");
    let json = call(&mut s, 17, "explain", &[("address", "2001:db8:9::1")])
        .1
        .unwrap();
    assert!(json.contains("out_of_range"), "{json}");
    assert_eq!(
        call(&mut s, 18, "explain", &[("address", "not-an-address")]).0,
        2
    );
    assert_eq!(call(&mut s, 19, "explain", &[]).0, 2);
    assert_eq!(
        call(
            &mut s,
            20,
            "explain",
            &[("address", "2001:db8::1"), ("interface", "nope")]
        )
        .0,
        4
    );
    assert_eq!(call(&mut s, 21, "bogus", &[]).0, 3);
}

#[test]
fn reregisters_after_ubusd_restart() {
    let (mut fx, listener, sock) = start("restart");
    let mut s = register(&listener);
    assert_eq!(call(&mut s, 1, "status", &[]).0, 0);

    // ubusd dies: its socket goes away; a new one appears a moment later.
    drop(s);
    drop(listener);
    std::fs::remove_file(&sock).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let restarted = Instant::now();
    let listener = UnixListener::bind(&sock).unwrap();
    let mut s = register(&listener);
    assert!(
        restarted.elapsed() < Duration::from_secs(2),
        "re-registration took {:?}",
        restarted.elapsed()
    );
    assert_eq!(call(&mut s, 2, "status", &[]).0, 0);

    // SIGTERM: a clean exit.
    signal(&fx, "-TERM");
    let mut child = fx.daemon.take().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "daemon ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
}
