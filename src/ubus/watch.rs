//! Sans-I/O client side of one published object, on the connection of an [`ObjectClient`]
//! (libubus keeps every object of a process on one connection): follow `path` (netifd's
//! `network.interface`) by subscribing to its notifications and calling `method` (`dump`)
//! at start and after every notification, and find it again when its publisher restarts.
//!
//! Frames, as recorded from a real ubusd (tests/fixtures/ubus/30–33): one anonymous
//! ADD_OBJECT (no path) serves both as the subscriber (`ubus_register_subscriber`) and as
//! the event handler for `ubus.object.add` (`ubus_register_event_handler`); ubusd tells
//! the two kinds of INVOKE to it apart only by METHOD. Then LOOKUP of `path`, SUBSCRIBE
//! {OBJID, TARGET}, INVOKE `method`. Notifications arrive as INVOKE with NO_REPLY and are
//! not answered; events arrive with peer 0 and libubus's answer to them is dropped by
//! ubusd, so none is sent. When the publisher's object goes, ubusd sends UNSUBSCRIBE.
//!
//! [`ObjectClient`]: super::ObjectClient

use super::blobmsg::{BlobmsgBuilder, BlobmsgList, BlobmsgValue};
use super::error::UbusError;
use super::msg::{self, attr, MsgAttrs, MsgHeader, MsgType};

/// `UBUS_SYSTEM_OBJECT_EVENT`: ubusd's own object that takes event registrations.
const SYSTEM_OBJECT_EVENT: u32 = 1;
/// `UBUS_SYSTEM_OBJECT_MAX`: ids below it are ubusd's own objects; it never gives one to a
/// client's object (`ubus_alloc_id` draws again).
const SYSTEM_OBJECT_MAX: u32 = 1024;
/// The event ubusd sends when an object with a path is added (`ubusd_send_obj_event`).
pub const OBJECT_ADD_EVENT: &str = "ubus.object.add";

/// What [`WatchEvent::Refused`] names when ubusd refused the SUBSCRIBE.
pub const SUBSCRIBE: &str = "subscribe";
/// `UBUS_STATUS_NOT_FOUND`: LOOKUP of a path nobody publishes.
const STATUS_NOT_FOUND: u32 = 4;
/// The first sequence number of the watch's requests; 1 is the named object's ADD_OBJECT.
const FIRST_SEQ: u16 = 2;

/// What the watch tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// The subscription is in place (publisher's object id).
    Subscribed { target: u32 },
    /// `method`'s reply: the DATA table's content (empty if the reply had none).
    Reply(Vec<u8>),
    /// The publisher is not on the bus (LOOKUP found nothing, or its object went); the
    /// watch waits for `ubus.object.add`.
    Absent,
    /// ubusd or the publisher refused a request (`what`, with its status code).
    Refused { what: &'static str, status: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anon {
    /// Not asked for yet (before HELLO).
    None,
    /// ADD_OBJECT sent with this seq; the DATA reply carries the id.
    Adding {
        seq: u16,
        id: Option<u32>,
    },
    Ready(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Unknown,
    LookingUp { seq: u16, id: Option<u32> },
    Subscribed(u32),
    Absent,
}

#[derive(Debug)]
pub struct Watcher {
    path: &'static str,
    method: &'static str,
    next_seq: u16,
    anon: Anon,
    register_seq: Option<u16>,
    subscribe_seq: Option<u16>,
    target: Target,
    /// The call in flight: its seq and the DATA received so far.
    call: Option<(u16, Vec<u8>)>,
    /// A notification came while the call was in flight: call again when it completes,
    /// so a burst of notifications costs at most two calls.
    again: bool,
}

impl Watcher {
    pub fn new(path: &'static str, method: &'static str) -> Watcher {
        Watcher {
            path,
            method,
            next_seq: FIRST_SEQ,
            anon: Anon::None,
            register_seq: None,
            subscribe_seq: None,
            target: Target::Unknown,
            call: None,
            again: false,
        }
    }

    fn seq(&mut self) -> u16 {
        let s = self.next_seq;
        self.next_seq = self.next_seq.checked_add(1).unwrap_or(FIRST_SEQ);
        s
    }

    /// After ubusd's HELLO: register the anonymous object.
    pub fn start(&mut self, out: &mut Vec<u8>) {
        let seq = self.seq();
        out.extend_from_slice(&msg::build_add_anonymous(seq));
        self.anon = Anon::Adding { seq, id: None };
    }

    /// The publisher's object id while subscribed.
    pub fn target(&self) -> Option<u32> {
        match self.target {
            Target::Subscribed(id) => Some(id),
            _ => None,
        }
    }

    /// The sequence number of the call in flight, whose answer is awaited.
    pub fn pending_call(&self) -> Option<u16> {
        self.call.as_ref().map(|(seq, _)| *seq)
    }

    /// Gives up on the call in flight (its answer, should it still come, is ignored) and
    /// calls again: for a publisher that did not answer in time.
    pub fn retry_call(&mut self, out: &mut Vec<u8>) -> Result<(), UbusError> {
        self.call = None;
        self.again = false;
        self.call(out)
    }

    /// A frame for the watch, if it is one: replies to its requests, and INVOKE and
    /// UNSUBSCRIBE addressed to its object. `None` leaves the frame to the caller.
    pub fn handle(
        &mut self,
        hdr: MsgHeader,
        attrs: &MsgAttrs<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Option<Option<WatchEvent>>, UbusError> {
        let ty = MsgType::from_code(hdr.msg_type);
        let seq = hdr.seq;
        match (ty, self.anon) {
            (Some(MsgType::Data), Anon::Adding { seq: s, .. }) if s == seq => {
                self.anon = Anon::Adding {
                    seq: s,
                    id: attrs.u32(attr::OBJID),
                };
                return Ok(Some(None));
            }
            (Some(MsgType::Status), Anon::Adding { seq: s, id }) if s == seq => {
                match (attrs.u32(attr::STATUS), id) {
                    (Some(0), Some(id)) => {
                        self.anon = Anon::Ready(id);
                        self.register(id, out)?;
                        self.lookup(out)?;
                        return Ok(Some(None));
                    }
                    (code, _) => {
                        self.anon = Anon::None;
                        return Ok(Some(Some(WatchEvent::Refused {
                            what: "add_object",
                            status: code.unwrap_or(u32::MAX),
                        })));
                    }
                }
            }
            _ => {}
        }
        let Anon::Ready(own) = self.anon else {
            return Ok(None);
        };
        match ty {
            Some(MsgType::Invoke) if attrs.u32(attr::OBJID) == Some(own) => {
                let method = attrs.str(attr::METHOD).unwrap_or_default();
                let data = attrs.nested(attr::DATA).unwrap_or_default();
                // Events come from ubusd itself (peer 0); another client could otherwise
                // move the watch to an object of its choosing.
                if method == OBJECT_ADD_EVENT {
                    if let Some(id) = added_id(data, self.path).filter(|_| hdr.peer == 0) {
                        self.subscribe(own, id, out);
                        self.call(out)?;
                    }
                } else if self.target().is_some() {
                    self.call(out)?;
                }
                Ok(Some(None))
            }
            Some(MsgType::Unsubscribe) if attrs.u32(attr::OBJID) == Some(own) => {
                self.target = Target::Absent;
                self.call = None;
                self.again = false;
                Ok(Some(Some(WatchEvent::Absent)))
            }
            Some(MsgType::Data) => {
                if let Target::LookingUp { seq: s, .. } = self.target {
                    if s == seq {
                        self.target = Target::LookingUp {
                            seq: s,
                            id: publisher(attrs.u32(attr::OBJID)),
                        };
                        return Ok(Some(None));
                    }
                }
                match &mut self.call {
                    Some((s, data)) if *s == seq => {
                        *data = attrs.nested(attr::DATA).unwrap_or_default().to_vec();
                        Ok(Some(None))
                    }
                    _ => Ok(None),
                }
            }
            Some(MsgType::Status) => self.status(own, seq, attrs, out),
            _ => Ok(None),
        }
    }

    fn status(
        &mut self,
        own: u32,
        seq: u16,
        attrs: &MsgAttrs<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Option<Option<WatchEvent>>, UbusError> {
        let code = attrs.u32(attr::STATUS).unwrap_or(u32::MAX);
        let refused = |what| Ok(Some(Some(WatchEvent::Refused { what, status: code })));
        if self.register_seq == Some(seq) {
            self.register_seq = None;
            return if code == 0 {
                Ok(Some(None))
            } else {
                refused("register for ubus.object.add")
            };
        }
        if let Target::LookingUp { seq: s, id } = self.target {
            if s == seq {
                return match (code, id) {
                    (0, Some(id)) => {
                        self.subscribe(own, id, out);
                        self.call(out)?;
                        Ok(Some(None))
                    }
                    (STATUS_NOT_FOUND, _) | (0, None) => {
                        self.target = Target::Absent;
                        Ok(Some(Some(WatchEvent::Absent)))
                    }
                    _ => {
                        self.target = Target::Absent;
                        refused("lookup")
                    }
                };
            }
        }
        if self.subscribe_seq == Some(seq) {
            self.subscribe_seq = None;
            return match (code, self.target) {
                (0, Target::Subscribed(target)) => {
                    Ok(Some(Some(WatchEvent::Subscribed { target })))
                }
                (0, _) => Ok(Some(None)),
                _ => refused(SUBSCRIBE),
            };
        }
        match self.call.take() {
            Some((s, data)) if s == seq => {
                if std::mem::take(&mut self.again) {
                    self.call(out)?;
                }
                if code == 0 {
                    Ok(Some(Some(WatchEvent::Reply(data))))
                } else {
                    refused("call")
                }
            }
            other => {
                self.call = other;
                Ok(None)
            }
        }
    }

    /// INVOKE `register` on ubusd's event object: both keys are mandatory there.
    fn register(&mut self, own: u32, out: &mut Vec<u8>) -> Result<(), UbusError> {
        let mut b = BlobmsgBuilder::new();
        b.put_u32("object", own);
        b.put_string("pattern", OBJECT_ADD_EVENT);
        let seq = self.seq();
        out.extend_from_slice(&msg::build_invoke(
            seq,
            SYSTEM_OBJECT_EVENT,
            "register",
            &b.finish(),
        )?);
        self.register_seq = Some(seq);
        Ok(())
    }

    fn lookup(&mut self, out: &mut Vec<u8>) -> Result<(), UbusError> {
        let seq = self.seq();
        out.extend_from_slice(&msg::build_lookup(seq, self.path)?);
        self.target = Target::LookingUp { seq, id: None };
        Ok(())
    }

    fn subscribe(&mut self, own: u32, target: u32, out: &mut Vec<u8>) {
        let seq = self.seq();
        out.extend_from_slice(&msg::build_subscribe(seq, own, target));
        self.subscribe_seq = Some(seq);
        self.target = Target::Subscribed(target);
        // A call to the old object would never be answered.
        self.call = None;
        self.again = false;
    }

    /// Calls `method` now, or once the call in flight completes.
    fn call(&mut self, out: &mut Vec<u8>) -> Result<(), UbusError> {
        let Target::Subscribed(target) = self.target else {
            return Ok(());
        };
        if self.call.is_some() {
            self.again = true;
            return Ok(());
        }
        let seq = self.seq();
        out.extend_from_slice(&msg::build_invoke(seq, target, self.method, &[])?);
        self.call = Some((seq, Vec::new()));
        Ok(())
    }
}

/// The id in a `ubus.object.add` event's DATA {id, path} when the path is ours.
fn added_id(data: &[u8], path: &str) -> Option<u32> {
    let list = BlobmsgList::new(data);
    match (list.get("path").ok()??, list.get("id").ok()??) {
        (BlobmsgValue::String(p), BlobmsgValue::Int32(id)) if p == path => {
            publisher(Some(id as u32))
        }
        _ => None,
    }
}

/// `id` if a client's object can have it. One of ubusd's own ids is no publisher: following
/// it would subscribe to ubusd's event object and call `method` on it; the lookup then
/// counts as finding nothing, and the event is ignored.
fn publisher(id: Option<u32>) -> Option<u32> {
    id.filter(|&id| id >= SYSTEM_OBJECT_MAX)
}
