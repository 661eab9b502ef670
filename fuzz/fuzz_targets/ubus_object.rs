//! `ubus::ObjectClient` fed an arbitrary byte stream as if from ubusd (`receive` +
//! `next_event`), every call answered with its own arguments. Invariants:
//! - the events, the error and the bytes sent do not depend on how the stream is chunked
//!   (all at once, or 3 bytes at a time);
//! - a call names one of our methods and its arguments decode, each named in the method's
//!   signature with its type, none twice;
//! - `Registered` comes with `object_id()` set;
//! - the netifd watch the daemon runs on the same connection reports a reply or a
//!   subscription only for what it asked;
//! - everything queued for ubusd is a sequence of well-formed frames.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndpresponder::daemon::bus::{Handler, METHODS};
use ndpresponder::ubus::msg::{FrameReassembler, Message};
use ndpresponder::ubus::{BlobmsgList, Event, ObjectClient, UbusError, WatchEvent, Watcher};

/// What a session did: its events, how it ended, and every byte it queued for ubusd.
#[derive(Debug, PartialEq)]
struct Transcript {
    events: Vec<Event<Handler>>,
    error: Option<UbusError>,
    sent: Vec<u8>,
}

fn drive(stream: &[u8], chunk: usize) -> Transcript {
    let mut client = ObjectClient::new("ndpresponder", &METHODS)
        .with_watch(Watcher::new("network.interface", "dump"));
    let mut events = Vec::new();
    let mut error = None;
    'feed: for piece in stream.chunks(chunk) {
        client.receive(piece);
        loop {
            match client.next_event() {
                Ok(None) => break,
                Ok(Some(event)) => {
                    check_event(&client, &event);
                    if let Event::Call(call) = &event {
                        client.reply(call, Ok(Some(call.args.clone())));
                    }
                    events.push(event);
                }
                Err(e) => {
                    error = Some(e);
                    break 'feed;
                }
            }
        }
    }
    Transcript {
        events,
        error,
        sent: client.outgoing().to_vec(),
    }
}

fn check_event(client: &ObjectClient<Handler>, event: &Event<Handler>) {
    match event {
        Event::Registered { object_id } => assert_eq!(client.object_id(), Some(*object_id)),
        Event::Call(call) => {
            assert!(client.object_id().is_some(), "a call before registration");
            let method = call.method;
            assert!(
                METHODS.iter().any(|m| std::ptr::eq(m, method)),
                "a call of a method we do not have"
            );
            let mut seen: Vec<&str> = Vec::new();
            for field in BlobmsgList::new(&call.args).iter() {
                let field = field.expect("call arguments were validated");
                let (_, kind) = method
                    .args
                    .iter()
                    .find(|(name, _)| *name == field.name)
                    .unwrap_or_else(|| panic!("argument {:?} not in the signature", field.name));
                assert_eq!(field.value.blobmsg_type(), *kind);
                assert!(!seen.contains(&field.name), "argument {} twice", field.name);
                seen.push(field.name);
            }
        }
        Event::Watch(WatchEvent::Subscribed { target }) => {
            assert_eq!(client.watch().and_then(Watcher::target), Some(*target));
        }
        Event::Watch(_) => {}
    }
}

fn check_sent(sent: &[u8]) {
    let mut frames = FrameReassembler::new();
    frames.push(sent);
    let mut total = 0;
    while let Some(frame) = frames.next_frame().expect("our frames are well-formed") {
        total += frame.len();
        let msg = Message::parse(frame).expect("our frame parses");
        msg.parse_attrs().expect("our attributes parse");
    }
    assert_eq!(total, sent.len(), "a partial frame queued");
}

fuzz_target!(|stream: &[u8]| {
    let whole = drive(stream, stream.len().max(1));
    check_sent(&whole.sent);
    let pieces = drive(stream, 3);
    assert_eq!(whole, pieces, "chunking changed the session");
});
