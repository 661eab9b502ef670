"""The router side of the LuCI browser test: an HTTP server on 127.0.0.1 that serves the
app's htdocs and the harness, and answers LuCI's /ubus JSON-RPC the way uhttpd's ubus
handler and rpcd do, with the app's own rpcd ACL file deciding what a session may call:

- session login: a session id for root with the right password;
- ndpresponder status / explain / reload: forwarded over the ubus wire protocol to the
  real daemon, which is registered on a tiny ubusd of ours (TinyUbusd below);
- uci get / set / add / delete / changes / revert / apply: on a temporary UCI directory,
  changes staged per server as rpcd stages them per session, in rpcd's change format;
  apply writes the files and asks the daemon to reload, as the init script's reload
  trigger would;
- luci-rpc getNetworkDevices: the devices of the daemon's network namespace.
"""

import json
import os
import re
import socket
import struct
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
APP = ROOT / "luci-app-ndpresponder"
ACL_FILE = APP / "root/usr/share/rpcd/acl.d/luci-app-ndpresponder.json"

# ubus status codes (libubus ubusmsg.h).
OK, INVALID_ARGUMENT, METHOD_NOT_FOUND, NOT_FOUND, PERMISSION_DENIED, TIMEOUT = 0, 2, 3, 4, 6, 7

# ---------------------------------------------------------------- blob / blobmsg codec

# ubus message types and attributes (libubus ubusmsg.h).
HELLO, STATUS, DATA, INVOKE, ADD_OBJECT = 0, 1, 2, 5, 6
A_STATUS, A_OBJPATH, A_OBJID, A_METHOD, A_OBJTYPE, A_DATA, A_USER, A_GROUP = 1, 2, 3, 4, 5, 7, 12, 13
# blobmsg types (libubox blobmsg.h).
T_ARRAY, T_TABLE, T_STRING, T_INT64, T_INT32, T_INT16, T_INT8, T_DOUBLE = 1, 2, 3, 4, 5, 6, 7, 8


def pad4(n):
    return (n + 3) & ~3


def blob_attr(attr_id, payload, extended=False):
    head = struct.pack(">I", (0x80000000 if extended else 0) | attr_id << 24 | (4 + len(payload)))
    return head + payload + b"\0" * (pad4(len(payload)) - len(payload))


def blobmsg(name, value):
    """One blobmsg attribute; strings, bools, ints, dicts and lists as JSON maps them."""
    nm = name.encode()
    head = struct.pack(">H", len(nm)) + nm + b"\0"
    head += b"\0" * (pad4(4 + len(head)) - 4 - len(head))
    if isinstance(value, bool):
        kind, body = T_INT8, bytes([value])
    elif isinstance(value, int):
        kind, body = T_INT32, struct.pack(">i", value)
    elif isinstance(value, str):
        kind, body = T_STRING, value.encode() + b"\0"
    elif isinstance(value, dict):
        kind, body = T_TABLE, b"".join(blobmsg(k, v) for k, v in value.items())
    elif isinstance(value, list):
        kind, body = T_ARRAY, b"".join(blobmsg("", v) for v in value)
    else:
        raise TypeError(f"cannot send {value!r} over ubus")
    return blob_attr(kind, head + body, extended=True)


def attrs_of(data):
    """(id, extended, payload) of each attribute in a run of blob attributes."""
    out, at = [], 0
    while at + 4 <= len(data):
        (id_len,) = struct.unpack(">I", data[at : at + 4])
        length = id_len & 0xFFFFFF
        if length < 4 or at + length > len(data):
            raise ValueError("truncated blob attribute")
        out.append((id_len >> 24 & 0x7F, bool(id_len >> 31), data[at + 4 : at + length]))
        at += pad4(length)
    return out


def decode_blobmsg(data, array=False):
    """A blobmsg table (or array) body as a dict (or list)."""
    items = []
    for kind, _ext, payload in attrs_of(data):
        (namelen,) = struct.unpack(">H", payload[:2])
        name = payload[2 : 2 + namelen].decode()
        body = payload[pad4(4 + 2 + namelen + 1) - 4 :]
        if kind == T_TABLE:
            value = decode_blobmsg(body)
        elif kind == T_ARRAY:
            value = decode_blobmsg(body, array=True)
        elif kind == T_STRING:
            value = body.split(b"\0", 1)[0].decode()
        elif kind == T_INT64:
            value = struct.unpack(">q", body[:8])[0]
        elif kind == T_INT32:
            value = struct.unpack(">i", body[:4])[0]
        elif kind == T_INT16:
            value = struct.unpack(">h", body[:2])[0]
        elif kind == T_INT8:
            value = body[0] != 0
        elif kind == T_DOUBLE:
            value = struct.unpack(">d", body[:8])[0]
        else:
            raise ValueError(f"unknown blobmsg type {kind}")
        items.append((name, value))
    return [v for _, v in items] if array else dict(items)


def ubus_frame(kind, seq, peer, attrs):
    return struct.pack(">BBHI", 0, kind, seq, peer) + blob_attr(0, attrs)


# ---------------------------------------------------------------- tiny ubusd

class TinyUbusd:
    """The ubusd side of one object's connection: accepts the daemon, says HELLO, accepts
    its ADD_OBJECT, then invokes its methods. A daemon that reconnects is accepted again."""

    OBJID = 0x2F3A4B5C
    CALLER = 0x0A0B0C0D

    def __init__(self, path):
        self.path = str(path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(4)
        self.conn = None
        self.object = None
        self.registered = threading.Event()
        self.lock = threading.Lock()
        self.seq = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _read_frame(self, sock):
        def exact(n):
            buf = b""
            while len(buf) < n:
                chunk = sock.recv(n - len(buf))
                if not chunk:
                    raise ConnectionError("the daemon closed its ubus connection")
                buf += chunk
            return buf

        head = exact(12)
        _ver, kind, seq, peer = struct.unpack(">BBHI", head[:8])
        (length,) = struct.unpack(">I", head[8:12])
        body = exact(pad4(length & 0xFFFFFF) - 4)
        return kind, seq, peer, {i: p for i, _e, p in attrs_of(body)}

    def _accept(self):
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            sock.settimeout(5)
            try:
                sock.sendall(ubus_frame(HELLO, 0, 0x1376F324, b""))
                kind, seq, _peer, attrs = self._read_frame(sock)
                if kind != ADD_OBJECT:
                    raise ValueError(f"expected ADD_OBJECT, got message type {kind}")
                reply = blob_attr(A_OBJID, struct.pack(">I", self.OBJID))
                reply += blob_attr(A_OBJTYPE, struct.pack(">I", 0x5EED))
                sock.sendall(ubus_frame(DATA, seq, 0, reply))
                sock.sendall(ubus_frame(STATUS, seq, 0, blob_attr(A_STATUS, struct.pack(">I", 0))))
            except (OSError, ValueError, ConnectionError):
                sock.close()
                continue
            with self.lock:
                if self.conn:
                    self.conn.close()
                self.conn = sock
                self.object = attrs[A_OBJPATH].split(b"\0", 1)[0].decode()
            self.registered.set()

    def call(self, obj, method, args):
        """(status, data or None) of one call, as ubus would answer it."""
        with self.lock:
            if self.conn is None or obj != self.object:
                return NOT_FOUND, None
            self.seq = (self.seq + 1) & 0xFFFF
            attrs = blob_attr(A_OBJID, struct.pack(">I", self.OBJID))
            attrs += blob_attr(A_METHOD, method.encode() + b"\0")
            attrs += blob_attr(A_USER, b"root\0") + blob_attr(A_GROUP, b"root\0")
            attrs += blob_attr(A_DATA, b"".join(blobmsg(k, v) for k, v in args.items()))
            try:
                self.conn.sendall(ubus_frame(INVOKE, self.seq, self.CALLER, attrs))
                data = None
                while True:
                    kind, seq, _peer, reply = self._read_frame(self.conn)
                    if seq != self.seq:
                        continue
                    if kind == DATA:
                        data = decode_blobmsg(reply[A_DATA])
                    elif kind == STATUS:
                        return struct.unpack(">I", reply[A_STATUS])[0], data
            except (OSError, ConnectionError):
                return TIMEOUT, None

    def close(self):
        self.listener.close()
        with self.lock:
            if self.conn:
                self.conn.close()


# ---------------------------------------------------------------- UCI files

UCI_LINE = re.compile(r"""^\s*(config|option|list)\s+(\S+)(?:\s+(?:'([^']*)'|"([^"]*)"|(\S+)))?\s*$""")


def uci_parse(text):
    """The sections of a UCI file in the form `uci get` returns, for files written with
    one statement per line and quoted values (what this test and ndpresponder ship)."""
    sections, current, anon = {}, None, 0
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = UCI_LINE.match(line)
        if not m:
            raise ValueError(f"line {n}: cannot read {line!r}")
        kind, key = m.group(1), m.group(2)
        value = next((g for g in m.groups()[2:] if g is not None), None)
        if kind == "config":
            name = value or f"cfg{anon:02x}{len(sections):04x}"
            anon += value is None
            current = sections[name] = {
                ".anonymous": value is None, ".type": key, ".name": name, ".index": len(sections)}
        elif current is None or value is None:
            raise ValueError(f"line {n}: {kind} outside a section or without a value")
        elif kind == "option":
            current[key] = value
        else:
            current.setdefault(key, [])
            if isinstance(current[key], list):
                current[key].append(value)
    return sections


def uci_quote(v):
    return "'" + v.replace("'", "'\\''") + "'"


def uci_write(sections):
    out = []
    for s in sorted(sections.values(), key=lambda s: s[".index"]):
        out.append(f"config {s['.type']}" + ("" if s[".anonymous"] else f" {uci_quote(s['.name'])}"))
        for k, v in s.items():
            if k.startswith("."):
                continue
            for item in v if isinstance(v, list) else [v]:
                out.append(f"\t{'list' if isinstance(v, list) else 'option'} {k} {uci_quote(item)}")
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------- JSON-RPC

class Backend:
    def __init__(self, uci_dir, ubusd, netns, password):
        self.uci_dir = Path(uci_dir)
        self.ubusd = ubusd
        self.netns = netns
        self.password = password
        self.sessions = set()
        self.changes = {}  # config -> rpcd-style change list
        self.staged = {}  # config -> sections with the changes applied
        self.lock = threading.Lock()
        acl = json.loads(ACL_FILE.read_text())
        self.grants = {"read": {"ubus": {}, "uci": set()}, "write": {"ubus": {}, "uci": set()}}
        for group in acl.values():
            for mode in ("read", "write"):
                for obj, methods in group.get(mode, {}).get("ubus", {}).items():
                    self.grants[mode]["ubus"].setdefault(obj, set()).update(methods)
                self.grants[mode]["uci"].update(group.get(mode, {}).get("uci", []))
        # What luci-base's own ACL grants every logged-in user and the views rely on: the
        # uci object's methods (each config still needs its own grant), the device list
        # and reading the network config.
        self.grants["read"]["ubus"].setdefault("uci", set()).update(("changes", "get"))
        self.grants["write"]["ubus"].setdefault("uci", set()).update(
            ("add", "apply", "confirm", "delete", "order", "rename", "revert", "set"))
        self.grants["read"]["ubus"].setdefault("luci-rpc", set()).add("getNetworkDevices")
        self.grants["read"]["uci"].add("network")

    def allowed_ubus(self, obj, method):
        return any(method in self.grants[m]["ubus"].get(obj, ()) for m in ("read", "write"))

    def allowed_uci(self, config, write):
        return config in self.grants["write" if write else "read"]["uci"]

    def config(self, name):
        if name not in self.staged:
            path = self.uci_dir / name
            self.staged[name] = uci_parse(path.read_text()) if path.exists() else None
        return self.staged[name]

    def call(self, sid, obj, method, args):
        """The result list, or None when uhttpd would refuse the call (the session's ACL
        lacks the object's method)."""
        with self.lock:
            answer = self._call(sid, obj, method, args)
        if answer is None:
            return None
        status, data = answer
        return [status] if data is None else [status, data]

    def _call(self, sid, obj, method, args):
        if obj == "session" and method == "login":
            if args.get("username") != "root" or args.get("password") != self.password:
                return PERMISSION_DENIED, None
            new = os.urandom(16).hex()
            self.sessions.add(new)
            return OK, {"ubus_rpc_session": new, "timeout": 300, "expires": 300}
        if sid not in self.sessions or not self.allowed_ubus(obj, method):
            return None
        if obj == "uci":
            return self.uci(method, args)
        if obj == "luci-rpc" and method == "getNetworkDevices":
            links = json.loads(subprocess.run(
                ["ip", "-n", self.netns, "-j", "link", "show"], check=True,
                capture_output=True, text=True).stdout)
            return OK, {ln["ifname"]: {"name": ln["ifname"], "up": "UP" in ln.get("flags", []),
                                       "mac": ln.get("address")} for ln in links}
        return self.ubusd.call(obj, method, args)

    def record(self, config, change):
        self.changes.setdefault(config, []).append(change)

    def uci(self, method, args):
        config = args.get("config")
        write = method in ("set", "add", "delete", "revert")
        if method == "apply":
            if not all(self.allowed_uci(c, True) for c in self.changes):
                return PERMISSION_DENIED, None
            return self.apply()
        if method == "changes" and config is None:
            return OK, {"changes": {c: list(v) for c, v in self.changes.items() if v}}
        if not isinstance(config, str) or not self.allowed_uci(config, write):
            return PERMISSION_DENIED, None
        sections = self.config(config)
        if sections is None:
            return NOT_FOUND, None
        sec = args.get("section")
        if method == "get":
            if sec is None:
                return OK, {"values": sections}
            if sec not in sections:
                return NOT_FOUND, None
            opt = args.get("option")
            if opt is None:
                return OK, {"values": sections[sec]}
            return (OK, {"value": sections[sec][opt]}) if opt in sections[sec] else (NOT_FOUND, None)
        if method == "changes":
            return OK, {"changes": list(self.changes.get(config, []))}
        if method == "revert":
            self.changes.pop(config, None)
            self.staged.pop(config, None)
            return OK, None
        if method == "add":
            name = args.get("name") or f"cfg{os.urandom(3).hex()}"
            if name in sections or not isinstance(args.get("type"), str):
                return INVALID_ARGUMENT, None
            sections[name] = {".anonymous": "name" not in args, ".type": args["type"], ".name": name,
                              ".index": max((s[".index"] for s in sections.values()), default=-1) + 1}
            self.record(config, ["add", name, args["type"]])
            sec = name
            result = {"section": name}
        else:
            result = None
        if sec not in sections:
            return NOT_FOUND, None
        if method in ("set", "add"):
            for opt, value in (args.get("values") or {}).items():
                # rpcd sets an array by deleting the option and adding each item.
                if isinstance(value, list):
                    if opt in sections[sec]:
                        self.record(config, ["remove", sec, opt])
                    for item in value:
                        self.record(config, ["list-add", sec, opt, item])
                    sections[sec][opt] = list(value)
                else:
                    self.record(config, ["set", sec, opt, str(value)])
                    sections[sec][opt] = str(value)
            return OK, result
        if method == "delete":
            opts = args.get("options") or ([args["option"]] if "option" in args else None)
            if opts is None:
                del sections[sec]
                self.record(config, ["remove", sec])
            for opt in opts or []:
                if sections[sec].pop(opt, None) is not None:
                    self.record(config, ["remove", sec, opt])
            return OK, None
        return METHOD_NOT_FOUND, None

    def apply(self):
        """Commits every staged config and, as procd's reload trigger for the init script
        does on a router, has the daemon reload when its config changed."""
        changed = [c for c, v in self.changes.items() if v]
        for c in changed:
            (self.uci_dir / c).write_text(uci_write(self.staged[c]))
        self.changes.clear()
        self.staged.clear()
        if "ndpresponder" in changed:
            status, _ = self.ubusd.call("ndpresponder", "reload", {})
            if status != OK:
                return status, None
        return OK, None


class Handler(BaseHTTPRequestHandler):
    backend = None
    routes = {
        "/luci-static/resources/": APP / "htdocs/luci-static/resources",
        "/harness/": HERE / "harness",
    }
    types = {".js": "application/javascript", ".css": "text/css", ".html": "text/html"}

    def log_message(self, *args):
        pass

    def send(self, code, body, ctype):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The browser left the page (the test navigates) while a status poll was in
            # flight; nobody is waiting for the answer.
            pass

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/":
            path = "/harness/index.html"
        for prefix, base in self.routes.items():
            if path.startswith(prefix):
                target = (base / path[len(prefix):]).resolve()
                if target.is_relative_to(base) and target.is_file():
                    return self.send(200, target.read_bytes(),
                                     self.types.get(target.suffix, "application/octet-stream"))
        self.send(404, b"not found", "text/plain")

    def do_POST(self):
        if self.path.split("?", 1)[0].rstrip("/") != "/ubus":
            return self.send(404, b"not found", "text/plain")
        try:
            req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        except (ValueError, TypeError):
            return self.send(400, b"bad request", "text/plain")
        batch = req if isinstance(req, list) else [req]
        replies = [self.answer(r) for r in batch]
        out = replies if isinstance(req, list) else replies[0]
        self.send(200, json.dumps(out).encode(), "application/json")

    def answer(self, r):
        # uhttpd's ubus handler: "call" with [sid, object, method, args].
        params = r.get("params")
        if r.get("method") != "call" or not isinstance(params, list) or len(params) != 4:
            return {"jsonrpc": "2.0", "id": r.get("id"), "error": {"code": -32601, "message": "Method not found"}}
        sid, obj, method, args = params
        result = self.backend.call(sid, obj, method, args or {})
        if result is None:
            return {"jsonrpc": "2.0", "id": r.get("id"), "error": {"code": -32002, "message": "Access denied"}}
        return {"jsonrpc": "2.0", "id": r.get("id"), "result": result}


def serve(backend):
    """Starts the HTTP server on 127.0.0.1 (a free port) in a thread; returns it."""
    handler = type("BoundHandler", (Handler,), {"backend": backend})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd
