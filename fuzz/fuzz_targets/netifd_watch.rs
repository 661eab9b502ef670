//! `ubus::Watcher` (the daemon's watch on netifd's `network.interface`) fed an arbitrary
//! byte stream as if from ubusd, cut into frames as the connection does, each frame given
//! to `Watcher::handle` after `start` (as `ObjectClient` does after HELLO). The first input
//! byte is a mask: after frame n, when bit n % 8 is set, the call in flight is retried as
//! the daemon does when netifd does not answer in time (`retry_call`).
//! Invariants:
//! - `handle` never fails (the watch builds its requests from fixed names);
//! - a frame the watch leaves to the caller changes nothing and sends nothing;
//! - each frame (or retry) queues at most two requests, every one a well-formed frame with
//!   a sequence number of ours (never 0, nor 1, the named object's ADD_OBJECT), a LOOKUP
//!   of the path, a SUBSCRIBE to the id the watch then follows, an INVOKE of `register` on
//!   ubusd's event object or of `dump` on that id, which is then the one call in flight;
//! - a call is in flight only while subscribed, and at most one;
//! - `Subscribed` names the id followed; `Absent` leaves nothing followed or in flight;
//!   `Reply` answers the call that was in flight with this STATUS's seq, and its data is
//!   no longer than the frames fed (the watch keeps one reply, never an accumulation) and
//!   goes through `parse_dump` with its invariants, as the daemon parses it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndpresponder::ubus::msg::{attr, FrameReassembler, Message, MsgType};
use ndpresponder::ubus::{WatchEvent, Watcher};
use ndpresponder_fuzz::{check_dump, WANTED};

const PATH: &str = "network.interface";
const METHOD: &str = "dump";
/// `UBUS_SYSTEM_OBJECT_EVENT`, where `register` for `ubus.object.add` goes.
const SYSTEM_OBJECT_EVENT: u32 = 1;

/// Checks what the watch queued in `sent` against its state afterwards.
fn check_sent(watch: &Watcher, sent: &[u8]) {
    let mut frames = FrameReassembler::new();
    frames.push(sent);
    let mut count = 0;
    let mut total = 0;
    while let Some(frame) = frames.next_frame().expect("our frames are well-formed") {
        count += 1;
        total += frame.len();
        let msg = Message::parse(frame).expect("our frame parses");
        let attrs = msg.parse_attrs().expect("our attributes parse");
        let seq = msg.header.seq;
        assert!(seq >= 2, "seq {seq} is not ours");
        match msg.msg_type() {
            Some(MsgType::Lookup) => assert_eq!(attrs.str(attr::OBJPATH), Some(PATH)),
            Some(MsgType::Subscribe) => {
                assert_eq!(
                    attrs.u32(attr::TARGET),
                    watch.target(),
                    "subscribed elsewhere"
                );
            }
            Some(MsgType::Invoke) => match attrs.u32(attr::OBJID) {
                Some(SYSTEM_OBJECT_EVENT) => {
                    assert_eq!(attrs.str(attr::METHOD), Some("register"));
                }
                objid => {
                    assert_eq!(attrs.str(attr::METHOD), Some(METHOD));
                    assert_eq!(objid, watch.target(), "a call to an object not followed");
                    assert_eq!(watch.pending_call(), Some(seq), "a call not awaited");
                }
            },
            other => panic!("the watch sent {other:?}"),
        }
    }
    assert_eq!(total, sent.len(), "a partial frame queued");
    assert!(count <= 2, "{count} requests for one frame");
}

fuzz_target!(|input: &[u8]| {
    let Some((&retry_mask, stream)) = input.split_first() else {
        return;
    };
    let mut watch = Watcher::new(PATH, METHOD);
    let mut out = Vec::new();
    watch.start(&mut out);
    let mut frames = FrameReassembler::new();
    frames.push(stream);
    let mut longest = 0;
    for n in 0.. {
        // A stream error drops the connection, and the watch with it.
        let Ok(Some(frame)) = frames.next_frame() else {
            break;
        };
        longest = longest.max(frame.len());
        let Ok(msg) = Message::parse(frame) else {
            break;
        };
        let Ok(attrs) = msg.parse_attrs() else {
            break;
        };
        let (target, pending) = (watch.target(), watch.pending_call());
        let start = out.len();
        let handled = watch
            .handle(msg.header, &attrs, &mut out)
            .expect("the watch never fails on what a peer sends");
        check_sent(&watch, &out[start..]);
        match handled {
            None => {
                assert_eq!(out.len(), start, "sent for a frame left to the caller");
                assert_eq!((watch.target(), watch.pending_call()), (target, pending));
            }
            Some(None) => {}
            Some(Some(WatchEvent::Subscribed { target })) => {
                assert_eq!(watch.target(), Some(target));
            }
            Some(Some(WatchEvent::Absent)) => {
                assert_eq!((watch.target(), watch.pending_call()), (None, None));
            }
            Some(Some(WatchEvent::Reply(data))) => {
                assert_eq!(msg.msg_type(), Some(MsgType::Status));
                assert_eq!(pending, Some(msg.header.seq), "a reply to no call");
                assert!(data.len() < longest, "reply of {} bytes", data.len());
                let _ = check_dump(&data, &WANTED);
            }
            Some(Some(WatchEvent::Refused { .. })) => {}
        }
        if retry_mask & (1 << (n % 8)) != 0 {
            let start = out.len();
            watch.retry_call(&mut out).expect("a retry never fails");
            check_sent(&watch, &out[start..]);
            assert!(out.len() == start || watch.pending_call().is_some());
        }
        assert!(
            watch.pending_call().is_none() || watch.target().is_some(),
            "a call in flight while not subscribed"
        );
    }
});
