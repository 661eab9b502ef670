//! Replays of frames captured from a real ubusd (see `tests/fixtures/ubus/README.md`):
//! we play ubusd's side byte for byte and compare what the client sends with what the
//! libubus server sent. Ids are read from the recorded frames, never typed in.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};

use super::blob;
use super::blobmsg::{to_json, BlobmsgBuilder, BlobmsgList, BlobmsgType, BlobmsgValue};
use super::conn::UbusConnection;
use super::fixtures::{self, frames, recorded_status_reply};
use super::msg::{self, attr, Message, MsgType};
use super::object::{Call, Event, Method, ObjectClient, Status};
use super::UbusError;

/// The methods of the recorded test server, neither with arguments.
const STATUS: Method = Method {
    name: "status",
    args: &[],
    handler: (),
};
const RELOAD: Method = Method {
    name: "reload",
    args: &[],
    handler: (),
};

/// The object of the recorded test server.
static NDP_METHODS: [Method; 2] = [STATUS, RELOAD];

/// ubus's `examples/server.c` object "test" (see 20-example-server-register.txt).
static EXAMPLE_METHODS: [Method; 3] = [
    Method {
        name: "hello",
        args: &[("id", BlobmsgType::Int32), ("msg", BlobmsgType::String)],
        handler: (),
    },
    Method {
        name: "watch",
        args: &[("id", BlobmsgType::Int32), ("counter", BlobmsgType::Int32)],
        handler: (),
    },
    Method {
        name: "count",
        args: &[("to", BlobmsgType::Int32), ("string", BlobmsgType::String)],
        handler: (),
    },
];

const FROM_UBUSD: (&str, &str) = ("ubusd", "server");
const TO_UBUSD: (&str, &str) = ("server", "ubusd");

fn from_ubusd(name: &str) -> Vec<Vec<u8>> {
    frames(name, FROM_UBUSD.0, FROM_UBUSD.1)
}

fn to_ubusd(name: &str) -> Vec<Vec<u8>> {
    frames(name, TO_UBUSD.0, TO_UBUSD.1)
}

/// The object id in the recorded ADD_OBJECT reply (the DATA frame with OBJID).
fn recorded_object_id(register: &str) -> u32 {
    from_ubusd(register)
        .iter()
        .find_map(|f| {
            let m = Message::parse(f).ok()?;
            (m.msg_type() == Some(MsgType::Data)).then_some(())?;
            m.parse_attrs().ok()?.u32(attr::OBJID)
        })
        .expect("no OBJID in the ADD_OBJECT reply")
}

fn drain_events<H>(client: &mut ObjectClient<H>) -> Vec<Event<H>> {
    std::iter::from_fn(|| client.next_event().unwrap()).collect()
}

fn take_outgoing(client: &mut ObjectClient) -> Vec<u8> {
    let out = client.outgoing().to_vec();
    client.consume_outgoing(out.len());
    out
}

/// Replay a registration transcript; check the ADD_OBJECT against the recorded one.
fn register(transcript: &str, name: &str, methods: &'static [Method]) -> ObjectClient {
    let mut client = ObjectClient::new(name, methods);
    let ubusd = from_ubusd(transcript);
    client.receive(&ubusd[0]);
    assert_eq!(drain_events(&mut client), []);
    assert_eq!(
        take_outgoing(&mut client),
        to_ubusd(transcript)[0],
        "ADD_OBJECT"
    );
    for f in &ubusd[1..] {
        client.receive(f);
    }
    let object_id = recorded_object_id(transcript);
    assert_eq!(drain_events(&mut client), [Event::Registered { object_id }]);
    assert_eq!(client.object_id(), Some(object_id));
    assert_eq!(client.outgoing(), []);
    client
}

fn ndp_client() -> ObjectClient {
    register("01-server-register.txt", "ndpresponder", &NDP_METHODS)
}

/// Feed the INVOKE ubusd forwarded to the server in `transcript`; return the events.
fn invoke(client: &mut ObjectClient, transcript: &str) -> Vec<Event> {
    let ubusd = from_ubusd(transcript);
    assert_eq!(ubusd.len(), 1, "{transcript}: one INVOKE to the server");
    client.receive(&ubusd[0]);
    drain_events(client)
}

fn single_call(events: Vec<Event>) -> Call {
    match <[Event; 1]>::try_from(events) {
        Ok([Event::Call(call)]) => call,
        other => panic!("expected one call, got {other:?}"),
    }
}

#[test]
fn add_object_without_arguments_matches_recording() {
    ndp_client();
}

#[test]
fn add_object_signature_with_arguments_matches_example_server() {
    register("20-example-server-register.txt", "test", &EXAMPLE_METHODS);
}

#[test]
fn status_reply_matches_recording() {
    let mut client = ndp_client();
    let call = single_call(invoke(&mut client, "04-call-status.txt"));
    let recorded = from_ubusd("04-call-status.txt");
    let invoke = Message::parse(&recorded[0]).unwrap().header;
    assert_eq!((call.seq, call.peer), (invoke.seq, invoke.peer));
    assert!(!call.no_reply);
    answer_as_recorded_status(&mut client, &call);
}

/// Checks that `call` is `status` without arguments, answers it with the recorded reply
/// and checks that the client sent exactly what the recorded server did (04-call-status.txt).
fn answer_as_recorded_status(client: &mut ObjectClient, call: &Call) {
    assert_eq!(
        (call.method.name, call.args.as_slice()),
        ("status", &[][..])
    );
    client.reply(call, Ok(Some(recorded_status_reply(0))));
    assert_eq!(
        take_outgoing(client),
        to_ubusd("04-call-status.txt").concat()
    );
}

#[test]
fn reload_replies_status_only() {
    let mut client = ndp_client();
    let call = single_call(invoke(&mut client, "05-call-reload.txt"));
    assert_eq!(call.method.name, "reload");
    client.reply(&call, Ok(None));
    assert_eq!(
        take_outgoing(&mut client),
        to_ubusd("05-call-reload.txt").concat()
    );
}

#[test]
fn unknown_method_is_answered_without_event() {
    let mut client = ndp_client();
    assert_eq!(invoke(&mut client, "06-call-unknown-method.txt"), []);
    assert_eq!(
        take_outgoing(&mut client),
        to_ubusd("06-call-unknown-method.txt").concat()
    );
}

#[test]
fn unknown_argument_is_ignored_like_libubus_server() {
    // `ubus call ndpresponder status '{"verbose":true}'` to a method without arguments:
    // the recorded libubus server ignored the field (blobmsg_parse), and so do we, down to
    // the reply bytes.
    let mut client = ndp_client();
    let call = single_call(invoke(&mut client, "07-call-status-with-args.txt"));
    assert_eq!(
        (call.method.name, call.args.as_slice()),
        ("status", &[][..])
    );
    let recorded = to_ubusd("07-call-status-with-args.txt");
    client.reply(&call, Ok(Some(data_payload(&recorded[0]))));
    assert_eq!(take_outgoing(&mut client), recorded.concat());
}

/// The daemon's object: `status`, `reload`, and `explain` with two string arguments.
static EXPLAIN_METHODS: [Method; 3] = [
    STATUS,
    RELOAD,
    Method {
        name: "explain",
        args: &[
            ("address", BlobmsgType::String),
            ("interface", BlobmsgType::String),
        ],
        handler: (),
    },
];

/// The INVOKE of 04-call-status.txt (same seq, caller, object, user and group) calling
/// `method` with the blobmsg arguments `args`.
fn invoke_with(method: &str, args: &[u8]) -> Vec<u8> {
    let recorded = &from_ubusd("04-call-status.txt")[0];
    let m = Message::parse(recorded).unwrap();
    let attrs = m.parse_attrs().unwrap();
    let mut out = recorded[..msg::MSGHDR_LEN].to_vec();
    let root = blob::begin_nested(&mut out, 0, false);
    blob::put_u32(&mut out, attr::OBJID, attrs.u32(attr::OBJID).unwrap());
    blob::put_string(&mut out, attr::METHOD, method);
    blob::put_string(&mut out, attr::USER, attrs.str(attr::USER).unwrap());
    blob::put_string(&mut out, attr::GROUP, attrs.str(attr::GROUP).unwrap());
    blob::put_attr(&mut out, attr::DATA, false, args);
    blob::end_nested(&mut out, root);
    out
}

/// The object of [`EXPLAIN_METHODS`] registered through the recorded ubusd replies (its own
/// ADD_OBJECT differs from the recorded one in the signature only).
fn explain_client() -> ObjectClient {
    let mut client = ObjectClient::new("ndpresponder", &EXPLAIN_METHODS);
    for f in from_ubusd("01-server-register.txt") {
        client.receive(&f);
    }
    let object_id = recorded_object_id("01-server-register.txt");
    assert_eq!(drain_events(&mut client), [Event::Registered { object_id }]);
    take_outgoing(&mut client);
    client
}

/// What uhttpd's `/ubus` endpoint and rpcd add to every call.
fn with_session(b: &mut BlobmsgBuilder) {
    b.put_string("ubus_rpc_session", "6f1b6e1c4a5d7e8f9a0b1c2d3e4f5a6b");
}

#[test]
fn session_and_unknown_fields_are_ignored_for_status() {
    for extra in [
        with_session as fn(&mut BlobmsgBuilder),
        |b| b.put_bool("verbose", true),
        |b| {
            let t = b.open_table("filter");
            b.put_u32("limit", 3);
            b.close(t);
        },
    ] {
        let mut client = explain_client();
        let mut args = BlobmsgBuilder::new();
        extra(&mut args);
        client.receive(&invoke_with("status", &args.finish()));
        let call = single_call(drain_events(&mut client));
        // Answered exactly as the recorded status call without arguments.
        answer_as_recorded_status(&mut client, &call);
    }
}

#[test]
fn session_and_unknown_fields_are_ignored_for_explain() {
    let mut only_address = BlobmsgBuilder::new();
    only_address.put_string("address", "2001:db8::1");
    let only_address = only_address.finish();
    // Unknown fields before, between and after the known one; a repeated field counts
    // once, first one first (blobmsg_parse).
    let mut args = BlobmsgBuilder::new();
    with_session(&mut args);
    args.put_string("address", "2001:db8::1");
    args.put_u32("verbose", 1);
    args.put_string("address", "2001:db8::2");
    let mut client = explain_client();
    client.receive(&invoke_with("explain", &args.finish()));
    let call = single_call(drain_events(&mut client));
    assert_eq!(call.method.name, "explain");
    assert_eq!(call.args, only_address);
    let list = BlobmsgList::new(&call.args);
    assert_eq!(
        list.get("address").unwrap(),
        Some(BlobmsgValue::String("2001:db8::1"))
    );
    assert_eq!(list.get("ubus_rpc_session").unwrap(), None);

    // A plain (unnamed) blob attribute among the arguments is skipped too.
    let mut args = Vec::new();
    blob::put_string(&mut args, BlobmsgType::String as u8, "stray");
    args.extend_from_slice(&only_address);
    client.receive(&invoke_with("explain", &args));
    assert_eq!(single_call(drain_events(&mut client)).args, only_address);
}

#[test]
fn known_field_of_another_type_is_invalid() {
    let mut client = explain_client();
    let mut args = BlobmsgBuilder::new();
    with_session(&mut args);
    args.put_u32("address", 1);
    let frame = invoke_with("explain", &args.finish());
    client.receive(&frame);
    assert_eq!(drain_events(&mut client), []);
    let hdr = Message::parse(&frame).unwrap().header;
    let objid = recorded_object_id("01-server-register.txt");
    assert_eq!(
        take_outgoing(&mut client),
        msg::build_status(hdr.seq, hdr.peer, Status::InvalidArgument as u32, objid)
    );
}

#[test]
fn wrongly_typed_argument_is_invalid_like_example_server() {
    let mut client = register("20-example-server-register.txt", "test", &EXAMPLE_METHODS);
    assert_eq!(
        invoke(&mut client, "23-example-call-count-invalid-argument.txt"),
        []
    );
    assert_eq!(
        take_outgoing(&mut client),
        to_ubusd("23-example-call-count-invalid-argument.txt").concat()
    );
}

#[test]
fn call_with_typed_arguments_matches_example_server() {
    let mut client = register("20-example-server-register.txt", "test", &EXAMPLE_METHODS);
    let call = single_call(invoke(&mut client, "22-example-call-hello-deferred-fd.txt"));
    assert_eq!(call.method.name, "hello");
    let args = BlobmsgList::new(&call.args);
    assert_eq!(args.get("id").unwrap(), Some(BlobmsgValue::Int32(1)));
    let Some(BlobmsgValue::String(text)) = args.get("msg").unwrap() else {
        panic!("msg missing");
    };
    let mut reply = BlobmsgBuilder::new();
    reply.put_string("message", &format!("test received a message: {text}"));
    client.reply(&call, Ok(Some(reply.finish())));
    assert_eq!(
        take_outgoing(&mut client),
        to_ubusd("22-example-call-hello-deferred-fd.txt").concat()
    );
}

/// Data payload of the DATA frame (seq 2) in `frame`.
fn data_payload(frame: &[u8]) -> Vec<u8> {
    let m = Message::parse(frame).unwrap();
    assert_eq!(m.msg_type(), Some(MsgType::Data));
    m.parse_attrs()
        .unwrap()
        .nested(attr::DATA)
        .unwrap()
        .to_vec()
}

#[test]
fn json_matches_cli_indented() {
    let data = data_payload(&to_ubusd("04-call-status.txt")[0]);
    let expected = fixtures::read("cli-output/call-status.stdout");
    assert_eq!(to_json(&data, true).unwrap() + "\n", expected);
}

#[test]
fn json_matches_cli_single_line() {
    // `ubus -S call` ran as connection 9 of the raw capture, after one reload.
    let capture = fixtures::read("capture-ndpresponder.jsonl");
    let frame = capture
        .lines()
        .filter(|l| l.contains("\"conn\": 9,") && l.contains("\"dir\": \"ubusd->client\""))
        .filter_map(|l| l.split("\"hex\": \"").nth(1)?.split('"').next())
        .map(fixtures::hex)
        .find(|f| f.get(1) == Some(&(MsgType::Data as u8)) && f.get(2..4) == Some(&[0, 2]))
        .expect("DATA reply of the -S call");
    let data = data_payload(&frame);
    assert_eq!(data, recorded_status_reply(1));
    let expected = fixtures::read("cli-output/call-status-S.stdout");
    assert_eq!(to_json(&data, false).unwrap() + "\n", expected);
}

/// Replace INVOKE `frame`'s root with its attributes plus NO_REPLY=1.
fn with_no_reply(frame: &[u8]) -> Vec<u8> {
    let m = Message::parse(frame).unwrap();
    let mut out = frame[..msg::MSGHDR_LEN].to_vec();
    let root = blob::begin_nested(&mut out, 0, false);
    out.extend_from_slice(m.attrs);
    blob::put_attr(&mut out, attr::NO_REPLY, false, &[1]);
    blob::end_nested(&mut out, root);
    out
}

#[test]
fn no_reply_sends_nothing() {
    let mut client = ndp_client();
    client.receive(&with_no_reply(&from_ubusd("05-call-reload.txt")[0]));
    let call = single_call(drain_events(&mut client));
    assert!(call.no_reply);
    client.reply(&call, Ok(None));
    client.receive(&with_no_reply(&from_ubusd("06-call-unknown-method.txt")[0]));
    assert_eq!(drain_events(&mut client), []);
    assert_eq!(client.outgoing(), []);
}

#[test]
fn invoke_for_another_object_is_not_found() {
    let mut client = ndp_client();
    let mut frame = from_ubusd("04-call-status.txt")[0].clone();
    // OBJID is the first attribute: payload at offset 16..20.
    frame[19] ^= 1;
    let objid = u32::from_be_bytes(frame[16..20].try_into().unwrap());
    client.receive(&frame);
    assert_eq!(drain_events(&mut client), []);
    let hdr = Message::parse(&frame).unwrap().header;
    assert_eq!(
        take_outgoing(&mut client),
        msg::build_status(hdr.seq, hdr.peer, Status::NotFound as u32, objid)
    );
}

#[test]
fn oversized_reply_becomes_unknown_error() {
    let mut client = ndp_client();
    let call = single_call(invoke(&mut client, "04-call-status.txt"));
    let mut big = BlobmsgBuilder::new();
    big.put_string("x", &"y".repeat(msg::UBUS_MAX_MSGLEN));
    client.reply(&call, Ok(Some(big.finish())));
    let objid = recorded_object_id("01-server-register.txt");
    assert_eq!(
        take_outgoing(&mut client),
        msg::build_status(call.seq, call.peer, Status::UnknownError as u32, objid)
    );
}

#[test]
fn registration_failure_and_protocol_errors() {
    let hello = &from_ubusd("01-server-register.txt")[0];
    let mut client = ObjectClient::new("ndpresponder", &NDP_METHODS);
    client.receive(hello);
    client.receive(&msg::build_status(1, 0, Status::PermissionDenied as u32, 0));
    assert_eq!(client.next_event(), Err(UbusError::RegistrationFailed(6)));

    let mut client = ObjectClient::new("ndpresponder", &NDP_METHODS);
    client.receive(&from_ubusd("04-call-status.txt")[0]);
    assert!(matches!(client.next_event(), Err(UbusError::Protocol(_))));

    let mut client = ObjectClient::new("ndpresponder", &NDP_METHODS);
    client.receive(hello);
    client.receive(&from_ubusd("04-call-status.txt")[0]);
    assert!(matches!(client.next_event(), Err(UbusError::Protocol(_))));
}

/// The recorded ubusd side of the ndpresponder session (register, status, reload,
/// bogus) as one byte stream, and what the server answered.
fn ndp_session() -> (Vec<u8>, Vec<u8>) {
    let names = [
        "01-server-register.txt",
        "04-call-status.txt",
        "05-call-reload.txt",
        "06-call-unknown-method.txt",
    ];
    let input = names.iter().flat_map(|n| from_ubusd(n).concat()).collect();
    let output = names.iter().flat_map(|n| to_ubusd(n).concat()).collect();
    (input, output)
}

/// The recorded server's behaviour: status with a reload counter, reload bumps it.
fn ndp_handler(reloads: &mut u32) -> impl FnMut(&Event) -> Result<Option<Vec<u8>>, Status> + '_ {
    move |event| match event {
        Event::Call(call) => match call.method.name {
            "status" => Ok(Some(recorded_status_reply(*reloads))),
            "reload" => {
                *reloads += 1;
                Ok(None)
            }
            _ => Err(Status::MethodNotFound),
        },
        Event::Registered { .. } | Event::Watch(_) => Ok(None),
    }
}

/// Feed `parts` to a fresh client, answering calls; return everything it sent.
fn run_session(parts: &[&[u8]]) -> Vec<u8> {
    let mut client = ObjectClient::new("ndpresponder", &NDP_METHODS);
    let mut reloads = 0;
    let mut handler = ndp_handler(&mut reloads);
    let mut sent = Vec::new();
    for part in parts {
        client.receive(part);
        while let Some(event) = client.next_event().unwrap() {
            let result = handler(&event);
            if let Event::Call(call) = event {
                client.reply(&call, result);
            }
        }
        sent.extend(take_outgoing(&mut client));
    }
    sent
}

#[test]
fn session_split_at_every_byte_boundary() {
    let (input, output) = ndp_session();
    assert_eq!(run_session(&[&input]), output, "all frames glued together");
    for cut in 0..=input.len() {
        assert_eq!(
            run_session(&[&input[..cut], &input[cut..]]),
            output,
            "split at {cut}"
        );
    }
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(run_session(&bytes), output, "one byte per read");
}

/// Read from the fake ubusd's side until `want` bytes arrived (blocking with timeout).
fn read_exact_from(stream: &mut UnixStream, want: usize) -> Vec<u8> {
    let mut got = vec![0; want];
    stream.read_exact(&mut got).unwrap();
    got
}

#[test]
fn end_to_end_over_socketpair_with_split_frames() {
    let (input, output) = ndp_session();
    let (ours, mut ubusd) = UnixStream::pair().unwrap();
    ubusd
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut conn =
        UbusConnection::from_stream(ours, ObjectClient::new("ndpresponder", &NDP_METHODS)).unwrap();
    let mut reloads = 0;
    let mut handler = ndp_handler(&mut reloads);
    // Odd-sized writes so frames are both split and glued.
    for chunk in input.chunks(7) {
        ubusd.write_all(chunk).unwrap();
        conn.on_readable(&mut handler).unwrap();
    }
    while conn.wants_write() {
        conn.on_writable().unwrap();
    }
    assert_eq!(read_exact_from(&mut ubusd, output.len()), output);
    assert_eq!(
        conn.object_id(),
        Some(recorded_object_id("01-server-register.txt"))
    );
    // Nothing to read is not an error.
    conn.on_readable(&mut handler).unwrap();
    drop(ubusd);
    let err = conn.on_readable(&mut handler).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
}

#[test]
fn end_to_end_connect_to_listener_in_temp_dir() {
    let dir = std::env::temp_dir().join(format!("ndpresponder-ubus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ubus.sock");
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    let mut conn =
        UbusConnection::connect(&path, ObjectClient::new("ndpresponder", &NDP_METHODS)).unwrap();
    let (mut ubusd, _) = listener.accept().unwrap();
    ubusd
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let register = from_ubusd("01-server-register.txt");
    ubusd.write_all(&register[0]).unwrap();
    let mut handler = |_: &Event| Err(Status::UnknownError);
    conn.on_readable(&mut handler).unwrap();
    let add = &to_ubusd("01-server-register.txt")[0];
    assert_eq!(&read_exact_from(&mut ubusd, add.len()), add);
    // A frame that is not version 0 breaks the session.
    ubusd
        .write_all(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4])
        .unwrap();
    let err = conn.on_readable(&mut handler).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    drop(ubusd);
    let _ = std::fs::remove_dir_all(&dir);
}

/// xorshift64*: deterministic pseudo-random bytes for the robustness tests.
struct Prng(u64);

impl Prng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Everything a peer can make us parse, exercised on `bytes`: must return, not panic.
fn parse_everything(register_input: &[u8], bytes: &[u8]) {
    let _ = to_json(bytes, true);
    for field in BlobmsgList::new(bytes).iter().flatten() {
        let _ = field.value.blobmsg_type();
    }
    if let Ok(m) = Message::parse(bytes) {
        let _ = m.parse_attrs();
    }
    let mut client = ObjectClient::new("ndpresponder", &NDP_METHODS);
    client.receive(register_input);
    assert!(matches!(
        drain_events(&mut client)[..],
        [Event::Registered { .. }]
    ));
    client.receive(bytes);
    while let Ok(Some(Event::Call(call))) = client.next_event() {
        client.reply(&call, Ok(None));
    }
}

#[test]
fn truncated_frames_are_errors() {
    let all: Vec<Vec<u8>> = [
        "04-call-status.txt",
        "07-call-status-with-args.txt",
        "22-example-call-hello-deferred-fd.txt",
    ]
    .iter()
    .flat_map(|n| fixtures::transcript(n))
    .map(|f| f.bytes)
    .collect();
    for frame in &all {
        for cut in 0..frame.len() {
            assert!(Message::parse(&frame[..cut]).is_err());
        }
        let data = &frame[msg::MSGHDR_LEN + blob::BLOB_HDR_LEN..];
        for cut in 0..data.len() {
            let _ = to_json(&data[..cut], false);
        }
    }
    // A DATA payload cut inside its first field is malformed.
    let data = data_payload(&to_ubusd("04-call-status.txt")[0]);
    for cut in 1..20 {
        assert!(to_json(&data[..cut], true).is_err(), "cut at {cut}");
    }
}

#[test]
fn malformed_call_arguments_get_invalid_argument() {
    let mut client = ndp_client();
    let frame = &from_ubusd("07-call-status-with-args.txt")[0];
    let m = Message::parse(frame).unwrap();
    // Corrupt the blobmsg name length inside DATA (INVOKE attrs end with DATA).
    let data_at = frame.len() - m.parse_attrs().unwrap().nested(attr::DATA).unwrap().len();
    let mut bad = frame.clone();
    bad[data_at + 4] = 0xff;
    client.receive(&bad);
    assert_eq!(drain_events(&mut client), []);
    let out = take_outgoing(&mut client);
    let reply = Message::parse(&out).unwrap();
    assert_eq!(
        reply.parse_attrs().unwrap().u32(attr::STATUS),
        Some(Status::InvalidArgument as u32)
    );
}

#[test]
fn random_and_mutated_input_never_panics() {
    let mut rng = Prng(0x9e37_79b9_7f4a_7c15);
    let register_input = from_ubusd("01-server-register.txt").concat();
    let seeds: Vec<Vec<u8>> = ["04-call-status.txt", "07-call-status-with-args.txt"]
        .iter()
        .flat_map(|n| fixtures::transcript(n))
        .map(|f| f.bytes)
        .collect();
    for _ in 0..3000 {
        let mut bytes = seeds[rng.below(seeds.len())].clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(bytes.len());
            bytes[i] = rng.next() as u8;
        }
        parse_everything(&register_input, &bytes);
        let len = rng.below(96);
        let random: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        parse_everything(&register_input, &random);
    }
}

// ---- Following netifd (tests/fixtures/ubus/30-34) ----

/// The recorded frame `n` (1-based, in transcript order) of `name`.
fn recorded(name: &str, n: usize) -> Vec<u8> {
    fixtures::transcript(name)[n - 1].bytes.clone()
}

fn u32_at(frame: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(frame[at..at + 4].try_into().unwrap())
}

#[test]
fn client_requests_match_libubus_byte_for_byte() {
    let sub = "30-netifd-subscribe.txt";
    let frames = fixtures::transcript(sub);
    let pick = |from: &str, ty: MsgType| {
        frames
            .iter()
            .find(|f| f.from == from && f.bytes[1] == ty as u8)
            .unwrap()
            .bytes
            .clone()
    };
    // libubus's subscriber: anonymous ADD_OBJECT seq 1, LOOKUP seq 2, SUBSCRIBE seq 3.
    assert_eq!(
        msg::build_add_anonymous(1),
        pick("subscriber", MsgType::AddObject)
    );
    assert_eq!(
        msg::build_lookup(2, "network.interface").unwrap(),
        pick("subscriber", MsgType::Lookup)
    );
    let subscribe = pick("subscriber", MsgType::Subscribe);
    // OBJID and TARGET as ubusd handed them out in that run.
    let (own, target) = (u32_at(&subscribe, 16), u32_at(&subscribe, 24));
    assert_eq!(msg::build_subscribe(3, own, target), subscribe);

    // libubus's event handler: INVOKE register on object 1, seq 2.
    let register = recorded("31-netifd-listen-object-add.txt", 5);
    let mut b = BlobmsgBuilder::new();
    b.put_u32("object", u32_at(&register, 56));
    b.put_string("pattern", "ubus.object.add");
    assert_eq!(
        msg::build_invoke(2, 1, "register", &b.finish()).unwrap(),
        register
    );

    // The CLI's `call network.interface dump`: INVOKE seq 2 with an empty DATA.
    let dump = recorded("32-netifd-dump.txt", 5);
    assert_eq!(
        msg::build_invoke(2, u32_at(&dump, 16), "dump", &[]).unwrap(),
        dump
    );
}

/// The daemon's own session following netifd on the real ubusd.
const SESSION: &str = "34-ndpresponder-follows-netifd.txt";

/// The daemon's object with its watch on netifd, as `daemon::bus` makes them.
fn watching_client() -> ObjectClient<crate::daemon::bus::Handler> {
    ObjectClient::new("ndpresponder", &crate::daemon::bus::METHODS)
        .with_watch(super::watch::Watcher::new("network.interface", "dump"))
}

/// [`watching_client`] fed the first `n` frames ubusd sent it in [`SESSION`], its events
/// and what it sent dropped.
fn watching_client_after(n: usize) -> ObjectClient<crate::daemon::bus::Handler> {
    let mut client = watching_client();
    let frames = fixtures::transcript(SESSION);
    for f in frames.iter().filter(|f| f.to == "ndpresponder").take(n) {
        client.receive(&f.bytes);
        while client.next_event().unwrap().is_some() {}
    }
    let sent = client.outgoing().len();
    client.consume_outgoing(sent);
    client
}

/// The daemon's own session on the real ubusd, replayed: every frame it sent then, it
/// sends now, byte for byte and in the same order, and it reports what happened.
#[test]
fn watch_replays_the_recorded_session() {
    use super::watch::WatchEvent;
    let frames = fixtures::transcript(SESSION);
    let mut client = watching_client();
    let mut sent = Vec::new();
    let mut events = Vec::new();
    for f in frames.iter().filter(|f| f.to == "ndpresponder") {
        client.receive(&f.bytes);
        while let Some(ev) = client.next_event().unwrap() {
            events.push(ev);
        }
        sent.extend_from_slice(client.outgoing());
        let n = client.outgoing().len();
        client.consume_outgoing(n);
    }
    let expected: Vec<u8> = frames
        .iter()
        .filter(|f| f.from == "ndpresponder")
        .flat_map(|f| f.bytes.clone())
        .collect();
    assert_eq!(sent, expected);
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            Event::Registered { .. } => "registered",
            Event::Watch(WatchEvent::Absent) => "absent",
            Event::Watch(WatchEvent::Subscribed { .. }) => "subscribed",
            Event::Watch(WatchEvent::Reply(_)) => "reply",
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    // Four notifications made two dumps: one at the first, one for the rest.
    assert_eq!(
        kinds,
        [
            "registered",
            "absent",
            "subscribed",
            "reply",
            "reply",
            "reply",
            "absent"
        ]
    );
}

/// A notification for an object that went away, or a stale reply, changes nothing.
#[test]
fn watch_ignores_what_is_not_its_own() {
    let mut client = watching_client_after(7);
    // A DATA and STATUS for a seq nobody asked for.
    client.receive(&msg::build_data(99, 0, 5, &[]).unwrap());
    client.receive(&msg::build_status(99, 0, 0, 5));
    assert_eq!(client.next_event().unwrap(), None);
    assert!(client.outgoing().is_empty());
    // Before the subscription, a notification does not make a call.
    assert_eq!(client.watch().unwrap().target(), None);
}

/// What ubusd sent the daemon in [`SESSION`], frame by frame, and the id it gave the
/// watch's anonymous object (its DATA reply to that ADD_OBJECT, seq 2).
fn recorded_watch() -> (Vec<Vec<u8>>, u32) {
    let to_daemon: Vec<Vec<u8>> = fixtures::transcript(SESSION)
        .into_iter()
        .filter(|f| f.to == "ndpresponder")
        .map(|f| f.bytes)
        .collect();
    let own = Message::parse(&to_daemon[3])
        .unwrap()
        .parse_attrs()
        .unwrap()
        .u32(attr::OBJID)
        .unwrap();
    (to_daemon, own)
}

/// Found by fuzzing (`netifd_watch`): a LOOKUP reply, or a `ubus.object.add` event, naming
/// one of ubusd's own ids (below `UBUS_SYSTEM_OBJECT_MAX`) made the watch subscribe to
/// ubusd's event object and call `dump` on it. Such an id is no publisher: the lookup
/// finds nothing, the event is ignored, and a real publisher is still followed.
#[test]
fn fuzz_a_system_object_id_is_not_followed() {
    use super::watch::{WatchEvent, OBJECT_ADD_EVENT};
    let (to_daemon, own) = recorded_watch();
    let event_object = 1;
    // HELLO, both ADD_OBJECT replies: the watch then sent register (seq 3) and LOOKUP (4).
    let mut client = watching_client_after(5);
    let mut lookup = Vec::new();
    let root = blob::begin_nested(&mut lookup, 0, false);
    blob::put_string(&mut lookup, attr::OBJPATH, "network.interface");
    blob::put_u32(&mut lookup, attr::OBJID, event_object);
    blob::end_nested(&mut lookup, root);
    let mut data = msg::build_status(4, 0, 0, 0)[..msg::MSGHDR_LEN].to_vec();
    data[1] = MsgType::Data as u8;
    data.extend_from_slice(&lookup);
    client.receive(&data);
    client.receive(&msg::build_status(4, 0, 0, 0));
    assert_eq!(
        drain_events(&mut client),
        [Event::Watch(WatchEvent::Absent)]
    );
    assert_eq!(client.outgoing(), []);

    let mut added = BlobmsgBuilder::new();
    added.put_u32("id", event_object);
    added.put_string("path", "network.interface");
    client.receive(&msg::build_invoke(1, own, OBJECT_ADD_EVENT, &added.finish()).unwrap());
    assert_eq!(drain_events(&mut client), []);
    assert_eq!(client.outgoing(), []);
    assert_eq!(client.watch().unwrap().target(), None);

    // The recorded event for the real netifd is followed: SUBSCRIBE, then the dump.
    client.receive(&to_daemon[7]);
    assert_eq!(drain_events(&mut client), []);
    assert!(client.watch().unwrap().target().is_some());
    let mut frames = msg::FrameReassembler::new();
    frames.push(client.outgoing());
    let mut kinds = Vec::new();
    while let Some(f) = frames.next_frame().unwrap() {
        kinds.push(f[1]);
    }
    assert_eq!(kinds, [MsgType::Subscribe as u8, MsgType::Invoke as u8]);
}

/// A `ubus.object.add` event that does not come from ubusd (peer 0) but from another
/// client is ignored: it could otherwise move the watch to an object of its choosing.
#[test]
fn an_object_add_event_from_another_client_is_ignored() {
    use super::watch::OBJECT_ADD_EVENT;
    let (_, own) = recorded_watch();
    // HELLO, both ADD_OBJECT replies, and LOOKUP finding nothing: waiting for the event.
    let mut client = watching_client_after(5);
    client.receive(&msg::build_status(4, 0, 4, 0));
    drain_events(&mut client);
    let mut added = BlobmsgBuilder::new();
    added.put_u32("id", 0x1234_5678);
    added.put_string("path", "network.interface");
    let mut event = msg::build_invoke(1, own, OBJECT_ADD_EVENT, &added.finish()).unwrap();
    // The header's peer (bytes 4..8, big-endian): a client's id instead of ubusd's 0.
    event[4..8].copy_from_slice(&0x0bad_cafe_u32.to_be_bytes());
    client.receive(&event);
    assert_eq!(drain_events(&mut client), []);
    assert_eq!(client.outgoing(), []);
    assert_eq!(client.watch().unwrap().target(), None);
    // The same event from ubusd is followed.
    event[4..8].copy_from_slice(&0u32.to_be_bytes());
    client.receive(&event);
    assert_eq!(drain_events(&mut client), []);
    assert_eq!(client.watch().unwrap().target(), Some(0x1234_5678));
}

/// ubusd refusing the event registration and the subscription (ACLs): each is reported
/// once, and the dump still goes out and is answered.
#[test]
fn watch_reports_refusals() {
    use super::watch::WatchEvent;
    // HELLO, both ADD_OBJECT replies: the watch then sent register (seq 3) and LOOKUP (4).
    let mut client = watching_client_after(5);
    let mut events = Vec::new();
    let target = 0x0abc_def0;
    let permission_denied = 6;
    let mut feed = |client: &mut ObjectClient<_>, frame: Vec<u8>| {
        client.receive(&frame);
        while let Some(e) = client.next_event().unwrap() {
            events.push(e);
        }
    };
    feed(&mut client, msg::build_status(3, 1, permission_denied, 0));
    feed(&mut client, msg::build_data(4, 0, target, &[]).unwrap());
    feed(&mut client, msg::build_status(4, 0, 0, 0));
    feed(&mut client, msg::build_status(5, 0, permission_denied, 0));
    let mut b = BlobmsgBuilder::new();
    let a = b.open_array("interface");
    b.close(a);
    let dump = b.finish();
    feed(
        &mut client,
        msg::build_data(6, target, target, &dump).unwrap(),
    );
    feed(&mut client, msg::build_status(6, target, 0, target));
    assert_eq!(
        events,
        [
            Event::Watch(WatchEvent::Refused {
                what: "register for ubus.object.add",
                status: permission_denied
            }),
            Event::Watch(WatchEvent::Refused {
                what: "subscribe",
                status: permission_denied
            }),
            Event::Watch(WatchEvent::Reply(dump)),
        ]
    );
    // SUBSCRIBE and the dump INVOKE went out after the LOOKUP answer, and nothing else.
    let sent = client.outgoing();
    let mut r = msg::FrameReassembler::new();
    r.push(sent);
    let mut kinds = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        kinds.push(f[1]);
    }
    assert_eq!(kinds, [MsgType::Subscribe as u8, MsgType::Invoke as u8]);
}
