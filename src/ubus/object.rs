//! Sans-I/O state machine for one object registered on ubus: feed it the bytes read from
//! the socket, take its events, send what it queues. Mirrors libubus (`libubus-obj.c`
//! `ubus_add_object` / `ubus_process_invoke`, `libubus-req.c` replies), and parses the
//! call's arguments against the method's policy as every OpenWrt handler does with
//! `blobmsg_parse`, so the handlers get only fields they know, each with its type.

use core::fmt;

use super::blob::{self, BlobIter};
use super::blobmsg::{self as bmsg, BlobmsgBuilder, BlobmsgType};
use super::error::UbusError;
use super::msg::{self, attr, FrameReassembler, Message, MsgAttrs, MsgHeader, MsgType};
use super::watch::{WatchEvent, Watcher};

/// Sequence number of our ADD_OBJECT: libubus numbers requests from 1 (`++request_seq`)
/// and registering is the only request this client makes.
const ADD_OBJECT_SEQ: u16 = 1;

/// One row of the object's method table, as libubus's `UBUS_METHOD(name, handler,
/// policy)`: the name and argument policy (name, blobmsg type) are published in
/// ADD_OBJECT as the method's signature and applied to every call, which then carries the
/// row, so the caller dispatches to `handler` (any type: the session never calls it).
pub struct Method<H: 'static = ()> {
    pub name: &'static str,
    pub args: &'static [(&'static str, BlobmsgType)],
    pub handler: H,
}

impl<H> fmt::Debug for Method<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Method")
            .field("name", &self.name)
            .field("args", &self.args)
            .finish_non_exhaustive()
    }
}

/// `enum ubus_msg_status`, the codes a method call can end with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Status {
    Ok = 0,
    InvalidCommand = 1,
    InvalidArgument = 2,
    MethodNotFound = 3,
    NotFound = 4,
    NoData = 5,
    PermissionDenied = 6,
    Timeout = 7,
    NotSupported = 8,
    UnknownError = 9,
}

/// A validated call of one of our methods, to be answered with [`ObjectClient::reply`].
#[derive(Debug, Clone)]
pub struct Call<H: 'static = ()> {
    /// The caller's sequence number, echoed in the reply.
    pub seq: u16,
    /// The caller's client id, the header peer of the reply.
    pub peer: u32,
    /// The method's row of the table.
    pub method: &'static Method<H>,
    /// The arguments the policy knows, as blobmsg (read them with
    /// [`BlobmsgList`](super::BlobmsgList)): each field has a name and type from the
    /// method's policy, none repeated. Fields the policy does not name were dropped;
    /// absent ones are the handler's business.
    pub args: Vec<u8>,
    /// The caller asked for no answer (`UBUS_ATTR_NO_REPLY`); `reply` then sends nothing.
    pub no_reply: bool,
}

/// Calls are equal when they are for the same row of the same table, with the same
/// caller, sequence, arguments and reply mode.
impl<H> PartialEq for Call<H> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.method, other.method)
            && (self.seq, self.peer, self.no_reply) == (other.seq, other.peer, other.no_reply)
            && self.args == other.args
    }
}

impl<H> Eq for Call<H> {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<H: 'static = ()> {
    /// ubusd accepted the object under this id.
    Registered {
        object_id: u32,
    },
    Call(Call<H>),
    /// News from the [`Watcher`] on this connection.
    Watch(WatchEvent),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitHello,
    /// ADD_OBJECT sent; the DATA reply carries the object id, the STATUS closes it.
    AwaitRegistration {
        object_id: Option<u32>,
    },
    Registered {
        object_id: u32,
    },
}

#[derive(Debug)]
pub struct ObjectClient<H: 'static = ()> {
    name: String,
    methods: &'static [Method<H>],
    state: State,
    frames: FrameReassembler,
    out: Vec<u8>,
    watch: Option<Watcher>,
}

impl<H> ObjectClient<H> {
    pub fn new(object_name: &str, methods: &'static [Method<H>]) -> Self {
        ObjectClient {
            name: object_name.to_owned(),
            methods,
            state: State::AwaitHello,
            frames: FrameReassembler::new(),
            out: Vec::new(),
            watch: None,
        }
    }

    /// Also follow a published object on this connection (see [`Watcher`]).
    pub fn with_watch(mut self, watch: Watcher) -> Self {
        self.watch = Some(watch);
        self
    }

    pub fn watch(&self) -> Option<&Watcher> {
        self.watch.as_ref()
    }

    /// [`Watcher::retry_call`], queueing the new call.
    pub fn retry_watch_call(&mut self) -> Result<(), UbusError> {
        match self.watch.as_mut() {
            Some(w) => w.retry_call(&mut self.out),
            None => Ok(()),
        }
    }

    /// Bytes read from the socket, in any chunking.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.frames.push(bytes);
    }

    /// Process buffered frames until one yields an event. Invalid calls are answered
    /// here (STATUS only) without an event. An error means the connection is unusable.
    pub fn next_event(&mut self) -> Result<Option<Event<H>>, UbusError> {
        loop {
            let Some(frame) = self.frames.next_frame()? else {
                return Ok(None);
            };
            let msg = Message::parse(frame)?;
            let attrs = msg.parse_attrs()?;
            let hello = self.state == State::AwaitHello;
            if let (Some(w), false) = (self.watch.as_mut(), hello) {
                match w.handle(msg.header, &attrs, &mut self.out)? {
                    Some(Some(event)) => return Ok(Some(Event::Watch(event))),
                    Some(None) => continue,
                    None => {}
                }
            }
            let session = Session {
                name: &self.name,
                methods: self.methods,
                state: &mut self.state,
                out: &mut self.out,
            };
            let event = session.handle(msg.header, &attrs)?;
            if hello {
                // ADD_OBJECT of the named object went first: it keeps seq 1.
                if let Some(w) = self.watch.as_mut() {
                    w.start(&mut self.out);
                }
            }
            if let Some(event) = event {
                return Ok(Some(event));
            }
        }
    }

    /// Bytes waiting to be written to the socket.
    pub fn outgoing(&self) -> &[u8] {
        &self.out
    }

    /// Drop the first `n` bytes of [`outgoing`](Self::outgoing) after writing them.
    pub fn consume_outgoing(&mut self, n: usize) {
        self.out.drain(..n.min(self.out.len()));
    }

    /// Answer `call`: the reply table as DATA (if any), then STATUS, both with the call's
    /// seq and peer (`ubus_send_reply` + `ubus_complete_deferred_request`). A reply too
    /// large for one frame is replaced by STATUS UNKNOWN_ERROR, since ubusd would drop
    /// the whole connection for it.
    pub fn reply(&mut self, call: &Call<H>, result: Result<Option<Vec<u8>>, Status>) {
        let Some(object_id) = self.object_id() else {
            return;
        };
        if call.no_reply {
            return;
        }
        let status = match result {
            Ok(Some(data)) => match msg::build_data(call.seq, call.peer, object_id, &data) {
                Ok(frame) => {
                    self.out.extend_from_slice(&frame);
                    Status::Ok
                }
                Err(_) => Status::UnknownError,
            },
            Ok(None) => Status::Ok,
            Err(status) => status,
        };
        let frame = msg::build_status(call.seq, call.peer, status as u32, object_id);
        self.out.extend_from_slice(&frame);
    }

    /// The id ubusd gave the object, once registered.
    pub fn object_id(&self) -> Option<u32> {
        match self.state {
            State::Registered { object_id } => Some(object_id),
            _ => None,
        }
    }
}

/// The parts of [`ObjectClient`] a frame may change, borrowed apart from the reassembler
/// that still holds the frame.
struct Session<'c, H: 'static> {
    name: &'c str,
    methods: &'static [Method<H>],
    state: &'c mut State,
    out: &'c mut Vec<u8>,
}

impl<H> Session<'_, H> {
    fn handle(self, hdr: MsgHeader, attrs: &MsgAttrs<'_>) -> Result<Option<Event<H>>, UbusError> {
        let msg_type = MsgType::from_code(hdr.msg_type);
        match (*self.state, msg_type) {
            (State::AwaitHello, Some(MsgType::Hello)) => {
                let add = msg::build_add_object(ADD_OBJECT_SEQ, self.name, &self.signature())?;
                self.out.extend_from_slice(&add);
                *self.state = State::AwaitRegistration { object_id: None };
                Ok(None)
            }
            (State::AwaitHello, _) => Err(UbusError::Protocol("first message is not HELLO")),
            (_, Some(MsgType::Hello)) => Err(UbusError::Protocol("HELLO in an open session")),
            (State::AwaitRegistration { .. }, Some(MsgType::Data)) if hdr.seq == ADD_OBJECT_SEQ => {
                *self.state = State::AwaitRegistration {
                    object_id: attrs.u32(attr::OBJID),
                };
                Ok(None)
            }
            (State::AwaitRegistration { object_id }, Some(MsgType::Status))
                if hdr.seq == ADD_OBJECT_SEQ =>
            {
                match attrs.u32(attr::STATUS) {
                    Some(0) => {}
                    Some(code) => return Err(UbusError::RegistrationFailed(code)),
                    None => return Err(UbusError::Protocol("ADD_OBJECT STATUS without a code")),
                }
                let object_id =
                    object_id.ok_or(UbusError::Protocol("ADD_OBJECT reply without OBJID"))?;
                *self.state = State::Registered { object_id };
                Ok(Some(Event::Registered { object_id }))
            }
            (State::Registered { object_id }, Some(MsgType::Invoke)) => {
                Ok(self.invoke(object_id, hdr, attrs))
            }
            (_, Some(MsgType::Invoke)) => {
                Err(UbusError::Protocol("INVOKE before the object was added"))
            }
            // Subscriber notifications (NOTIFY), stray replies and newer message types
            // concern features we do not use.
            _ => Ok(None),
        }
    }

    /// SIGNATURE of ADD_OBJECT (`ubus_push_method_data`): per method a blobmsg table named
    /// after it holding one INT32 per argument, whose value is the argument's type code.
    fn signature(&self) -> Vec<u8> {
        let mut b = BlobmsgBuilder::new();
        for method in self.methods {
            let table = b.open_table(method.name);
            for &(name, kind) in method.args {
                b.put_u32(name, kind as u32);
            }
            b.close(table);
        }
        b.finish()
    }

    /// `ubus_process_invoke`, with the same order of checks, plus argument validation.
    fn invoke(self, our_id: u32, hdr: MsgHeader, attrs: &MsgAttrs<'_>) -> Option<Event<H>> {
        // Without OBJID a reply could not name the object; libubus ignores such frames.
        let object_id = attrs.u32(attr::OBJID)?;
        let no_reply = attrs.u8(attr::NO_REPLY).is_some_and(|v| v != 0);
        let checked = if object_id != our_id {
            Err(Status::NotFound)
        } else {
            self.check_call(attrs)
        };
        match checked {
            Ok((method, args)) => Some(Event::Call(Call {
                seq: hdr.seq,
                peer: hdr.peer,
                method,
                args,
                no_reply,
            })),
            Err(status) => {
                // README rule 5: a NO_REPLY invoke gets nothing back, errors included.
                if !no_reply {
                    let frame = msg::build_status(hdr.seq, hdr.peer, status as u32, object_id);
                    self.out.extend_from_slice(&frame);
                }
                None
            }
        }
    }

    fn check_call(&self, attrs: &MsgAttrs<'_>) -> Result<(&'static Method<H>, Vec<u8>), Status> {
        let name = attrs.str(attr::METHOD).ok_or(Status::InvalidArgument)?;
        let method = self
            .methods
            .iter()
            .find(|m| m.name == name)
            .ok_or(Status::MethodNotFound)?;
        let args = attrs.nested(attr::DATA).ok_or(Status::InvalidArgument)?;
        Ok((method, parse_args(method, args)?))
    }
}

/// The call's arguments as `blobmsg_parse` (libubox) sees them with the method's policy:
/// malformed data is refused; plain (unnamed) attributes and fields the policy does not
/// name are skipped, so callers may add their own (uhttpd and rpcd add
/// `ubus_rpc_session` to every call); of a repeated field the first counts. Stricter than
/// `blobmsg_parse` in one point: a known field of another type is refused rather than
/// treated as absent, so a caller learns that `"address": 1` is wrong. Returns the kept
/// fields, re-encoded byte for byte. Linear in fields times policy length.
fn parse_args<H>(method: &Method<H>, data: &[u8]) -> Result<Vec<u8>, Status> {
    let mut seen = vec![false; method.args.len()];
    let mut kept = Vec::new();
    for attr in BlobIter::new(data) {
        let attr = attr.map_err(|_| Status::InvalidArgument)?;
        if !attr.is_extended() {
            continue;
        }
        let field = bmsg::decode_field(attr).map_err(|_| Status::InvalidArgument)?;
        let Some(i) = method.args.iter().position(|&(n, _)| n == field.name) else {
            continue;
        };
        if method.args[i].1 != field.value.blobmsg_type() {
            return Err(Status::InvalidArgument);
        }
        if !seen[i] {
            seen[i] = true;
            blob::put_attr(&mut kept, attr.id(), true, attr.payload());
        }
    }
    Ok(kept)
}
