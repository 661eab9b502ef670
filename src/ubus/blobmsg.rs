//! blobmsg: named, typed blob attributes (libubox `blobmsg.h`, `blobmsg.c`) - the
//! encoding of every ubus method argument and reply table.
//!
//! A blobmsg is an *extended* blob attribute whose id is the type code and whose payload
//! starts with a name header: `u16 namelen` (big-endian), the name, a NUL, zero padding so
//! the header is `pad4(2 + namelen + 1)` bytes (`blobmsg_hdrlen`). The value follows.

use super::blob::{self, BlobAttr, BlobError, BlobIter};

/// blobmsg type codes (`enum blobmsg_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum BlobmsgType {
    Unspec = 0,
    Array = 1,
    Table = 2,
    String = 3,
    Int64 = 4,
    Int32 = 5,
    Int16 = 6,
    /// Also `BLOBMSG_TYPE_BOOL`: the CLI turns JSON booleans into INT8.
    Int8 = 7,
    Double = 8,
}

impl BlobmsgType {
    /// `BLOBMSG_TYPE_BOOL` is an alias of `BLOBMSG_TYPE_INT8`.
    pub const BOOL: BlobmsgType = BlobmsgType::Int8;

    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => BlobmsgType::Unspec,
            1 => BlobmsgType::Array,
            2 => BlobmsgType::Table,
            3 => BlobmsgType::String,
            4 => BlobmsgType::Int64,
            5 => BlobmsgType::Int32,
            6 => BlobmsgType::Int16,
            7 => BlobmsgType::Int8,
            8 => BlobmsgType::Double,
            _ => return None,
        })
    }
}

/// Longest name a blobmsg header can describe (`u16 namelen`).
const MAX_NAME_LEN: usize = u16::MAX as usize;

/// An open table or array inside a [`BlobmsgBuilder`]; hand it back to
/// [`BlobmsgBuilder::close`].
#[must_use = "an opened table or array must be closed"]
#[derive(Debug)]
pub struct Nest {
    depth: usize,
}

/// Builds a list of blobmsg attributes: the payload of a ubus DATA attribute (a reply
/// table without an outer name), like a libubox `blob_buf` after `blob_buf_init`.
#[derive(Debug, Default)]
pub struct BlobmsgBuilder {
    buf: Vec<u8>,
    /// Open containers, innermost last: (offset of the header, whether it is an array).
    open: Vec<(usize, bool)>,
}

impl BlobmsgBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A string value; like `blobmsg_add_string` (which uses `strlen`) it ends at the
    /// first NUL, so readers never see an embedded one.
    pub fn put_string(&mut self, name: &str, v: &str) {
        let v = v.split('\0').next().unwrap_or_default();
        let start = self.begin(name, BlobmsgType::String);
        self.buf.extend_from_slice(v.as_bytes());
        // blobmsg_add_string stores strlen + 1: the NUL is part of the value.
        self.buf.push(0);
        blob::end_nested(&mut self.buf, start);
        blob::pad_to_4(&mut self.buf);
    }

    /// blobmsg INT32 (`blobmsg_add_u32`). The CLI prints it signed.
    pub fn put_u32(&mut self, name: &str, v: u32) {
        self.put_fixed(name, BlobmsgType::Int32, &v.to_be_bytes());
    }

    /// blobmsg INT64 (`blobmsg_add_u64`); use for counters that may pass 2^31.
    pub fn put_u64(&mut self, name: &str, v: u64) {
        self.put_fixed(name, BlobmsgType::Int64, &v.to_be_bytes());
    }

    /// blobmsg BOOL, i.e. INT8 0 or 1 (`blobmsg_add_u8`).
    pub fn put_bool(&mut self, name: &str, v: bool) {
        self.put_fixed(name, BlobmsgType::BOOL, &[u8::from(v)]);
    }

    pub fn open_table(&mut self, name: &str) -> Nest {
        self.open_nest(name, BlobmsgType::Table)
    }

    pub fn open_array(&mut self, name: &str) -> Nest {
        self.open_nest(name, BlobmsgType::Array)
    }

    /// Close `n`, and any container opened inside it that is still open.
    pub fn close(&mut self, n: Nest) {
        while self.open.len() > n.depth {
            if let Some((start, _)) = self.open.pop() {
                blob::end_nested(&mut self.buf, start);
            }
        }
    }

    /// The finished attribute list; containers left open are closed first.
    pub fn finish(mut self) -> Vec<u8> {
        self.close(Nest { depth: 0 });
        self.buf
    }

    fn open_nest(&mut self, name: &str, kind: BlobmsgType) -> Nest {
        let depth = self.open.len();
        let start = self.begin(name, kind);
        self.open.push((start, kind == BlobmsgType::Array));
        Nest { depth }
    }

    fn put_fixed(&mut self, name: &str, kind: BlobmsgType, value: &[u8]) {
        let start = self.begin(name, kind);
        self.buf.extend_from_slice(value);
        blob::end_nested(&mut self.buf, start);
        blob::pad_to_4(&mut self.buf);
    }

    /// Write the blob header and the name header (`blobmsg_new`); returns the header's
    /// offset so the caller can fix the length once the value is written.
    fn begin(&mut self, name: &str, kind: BlobmsgType) -> usize {
        // Array elements are unnamed (libubox callers pass NULL, stored as namelen 0).
        let in_array = self.open.last().is_some_and(|&(_, array)| array);
        let name = if in_array { &[][..] } else { name.as_bytes() };
        // A name longer than u16 cannot be described; keep the header self-consistent.
        let name = &name[..name.len().min(MAX_NAME_LEN)];
        let start = blob::begin_nested(&mut self.buf, kind as u8, true);
        self.buf
            .extend_from_slice(&(name.len() as u16).to_be_bytes());
        self.buf.extend_from_slice(name);
        self.buf.push(0);
        blob::pad_to_4(&mut self.buf);
        start
    }
}

/// A decoded blobmsg value, borrowing from the input.
#[derive(Debug, Clone, PartialEq)]
pub enum BlobmsgValue<'a> {
    Unspec,
    Array(BlobmsgList<'a>),
    Table(BlobmsgList<'a>),
    String(&'a str),
    Int64(i64),
    Int32(i32),
    Int16(i16),
    /// INT8/BOOL: any non-zero byte is true, as in `blobmsg_get_bool`.
    Bool(bool),
    Double(f64),
}

impl BlobmsgValue<'_> {
    pub fn blobmsg_type(&self) -> BlobmsgType {
        match self {
            BlobmsgValue::Unspec => BlobmsgType::Unspec,
            BlobmsgValue::Array(_) => BlobmsgType::Array,
            BlobmsgValue::Table(_) => BlobmsgType::Table,
            BlobmsgValue::String(_) => BlobmsgType::String,
            BlobmsgValue::Int64(_) => BlobmsgType::Int64,
            BlobmsgValue::Int32(_) => BlobmsgType::Int32,
            BlobmsgValue::Int16(_) => BlobmsgType::Int16,
            BlobmsgValue::Bool(_) => BlobmsgType::BOOL,
            BlobmsgValue::Double(_) => BlobmsgType::Double,
        }
    }
}

/// One attribute of a table or array: its name (empty for array elements) and value.
#[derive(Debug, Clone, PartialEq)]
pub struct BlobmsgField<'a> {
    pub name: &'a str,
    pub value: BlobmsgValue<'a>,
}

/// The content of a table or array (or a whole DATA payload), decoded lazily.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobmsgList<'a> {
    data: &'a [u8],
}

impl<'a> BlobmsgList<'a> {
    /// Wrap a DATA payload or container content for reading.
    pub fn new(data: &'a [u8]) -> Self {
        BlobmsgList { data }
    }

    pub fn iter(&self) -> BlobmsgIter<'a> {
        BlobmsgIter {
            inner: BlobIter::new(self.data),
        }
    }

    /// The first field called `name` (at this level only).
    pub fn get(&self, name: &str) -> Result<Option<BlobmsgValue<'a>>, BlobError> {
        for field in self.iter() {
            let field = field?;
            if field.name == name {
                return Ok(Some(field.value));
            }
        }
        Ok(None)
    }
}

/// Iterator over the fields of a [`BlobmsgList`]; yields one error then stops on
/// malformed data.
#[derive(Debug, Clone)]
pub struct BlobmsgIter<'a> {
    inner: BlobIter<'a>,
}

impl<'a> Iterator for BlobmsgIter<'a> {
    type Item = Result<BlobmsgField<'a>, BlobError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.inner.next()?.and_then(decode_field);
        if item.is_err() {
            self.inner = BlobIter::new(&[]);
        }
        Some(item)
    }
}

/// Decode one blobmsg attribute, checking it the way `blobmsg_check_attr` does.
pub(crate) fn decode_field(attr: BlobAttr<'_>) -> Result<BlobmsgField<'_>, BlobError> {
    if !attr.is_extended() {
        // A plain blob has no name header; libubox's blobmsg_check_attr rejects it too.
        return Err(BlobError::BadName);
    }
    let payload = attr.payload();
    let name_len = match payload {
        [hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
        _ => return Err(BlobError::BadName),
    };
    let hdr_len = blob::pad4(2 + name_len + 1);
    if payload.len() < hdr_len || payload[2 + name_len] != 0 {
        return Err(BlobError::BadName);
    }
    let name = core::str::from_utf8(&payload[2..2 + name_len]).map_err(|_| BlobError::BadName)?;
    let data = &payload[hdr_len..];
    let kind = BlobmsgType::from_code(attr.id()).ok_or(BlobError::UnknownType(attr.id()))?;
    let value = match kind {
        BlobmsgType::Unspec => BlobmsgValue::Unspec,
        BlobmsgType::Array => BlobmsgValue::Array(BlobmsgList::new(data)),
        BlobmsgType::Table => BlobmsgValue::Table(BlobmsgList::new(data)),
        BlobmsgType::String => {
            BlobmsgValue::String(blob::nul_terminated_str(data).ok_or(BlobError::BadString)?)
        }
        BlobmsgType::Int64 => BlobmsgValue::Int64(i64::from_be_bytes(fixed(data)?)),
        BlobmsgType::Int32 => BlobmsgValue::Int32(i32::from_be_bytes(fixed(data)?)),
        BlobmsgType::Int16 => BlobmsgValue::Int16(i16::from_be_bytes(fixed(data)?)),
        BlobmsgType::Int8 => BlobmsgValue::Bool(u8::from_be_bytes(fixed(data)?) != 0),
        BlobmsgType::Double => {
            BlobmsgValue::Double(f64::from_bits(u64::from_be_bytes(fixed(data)?)))
        }
    };
    Ok(BlobmsgField { name, value })
}

/// Exactly `N` bytes, as `blob_check_type` demands of integer types.
fn fixed<const N: usize>(data: &[u8]) -> Result<[u8; N], BlobError> {
    data.try_into().map_err(|_| BlobError::BadValueLength)
}

/// Deepest container nesting [`to_json`] follows; bounds recursion on untrusted input.
const MAX_JSON_DEPTH: usize = 32;

/// Format a DATA payload (a table's content) exactly as the `ubus call` CLI prints it:
/// libubox `blobmsg_format_json_indent(msg, true, indent ? 0 : -1)`. With `indent`, one
/// tab per level and `": "` after names; without (`ubus -S`), a single line and `":"`.
/// No trailing newline (the CLI adds one).
pub fn to_json(data: &[u8], indent: bool) -> Result<String, BlobError> {
    let mut json = JsonWriter {
        out: String::new(),
        indent,
        level: 0,
    };
    json.list(BlobmsgList::new(data), false, 0)?;
    Ok(json.out)
}

struct JsonWriter {
    out: String,
    indent: bool,
    level: usize,
}

impl JsonWriter {
    /// `add_separator` in blobmsg_json.c: a newline and one tab per level.
    fn separator(&mut self) {
        if self.indent {
            self.out.push('\n');
            for _ in 0..self.level {
                self.out.push('\t');
            }
        }
    }

    /// `blobmsg_format_json_list`: arrays omit element names.
    fn list(&mut self, list: BlobmsgList<'_>, array: bool, depth: usize) -> Result<(), BlobError> {
        if depth > MAX_JSON_DEPTH {
            return Err(BlobError::TooDeep);
        }
        self.out.push(if array { '[' } else { '{' });
        self.level += 1;
        self.separator();
        for (i, field) in list.iter().enumerate() {
            let field = field?;
            if i > 0 {
                self.out.push(',');
                self.separator();
            }
            if !array && !field.name.is_empty() {
                self.string(field.name);
                self.out.push_str(if self.indent { ": " } else { ":" });
            }
            self.value(&field.value, depth)?;
        }
        self.level -= 1;
        self.separator();
        self.out.push(if array { ']' } else { '}' });
        Ok(())
    }

    /// `blobmsg_format_element`: integers signed, doubles as C `%lf`.
    fn value(&mut self, value: &BlobmsgValue<'_>, depth: usize) -> Result<(), BlobError> {
        use core::fmt::Write;
        // Writing to a String cannot fail.
        let _ = match value {
            BlobmsgValue::Unspec => write!(self.out, "null"),
            BlobmsgValue::Bool(b) => write!(self.out, "{b}"),
            BlobmsgValue::Int16(v) => write!(self.out, "{v}"),
            BlobmsgValue::Int32(v) => write!(self.out, "{v}"),
            BlobmsgValue::Int64(v) => write!(self.out, "{v}"),
            BlobmsgValue::Double(v) => write!(self.out, "{}", c_lf(*v)),
            BlobmsgValue::String(s) => {
                self.string(s);
                Ok(())
            }
            BlobmsgValue::Array(l) => return self.list(*l, true, depth + 1),
            BlobmsgValue::Table(l) => return self.list(*l, false, depth + 1),
        };
        Ok(())
    }

    /// `blobmsg_format_string`: escapes `"` `\` and control characters only; other
    /// bytes (including non-ASCII UTF-8) are copied through.
    fn string(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '\u{8}' => self.out.push_str("\\b"),
                '\n' => self.out.push_str("\\n"),
                '\t' => self.out.push_str("\\t"),
                '\r' => self.out.push_str("\\r"),
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                c if u32::from(c) < 0x20 => {
                    self.out.push_str(&format!("\\u{:04x}", u32::from(c)));
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }
}

/// glibc `printf("%lf")`: six decimals; `inf`, `-inf`, `nan`, `-nan`.
fn c_lf(v: f64) -> String {
    if v.is_nan() {
        if v.is_sign_negative() { "-nan" } else { "nan" }.to_string()
    } else if v.is_infinite() {
        if v < 0.0 { "-inf" } else { "inf" }.to_string()
    } else {
        format!("{v:.6}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::recorded_status_reply;
    use super::*;

    #[test]
    fn builder_names_and_padding() {
        let mut b = BlobmsgBuilder::new();
        b.put_u32("ttl", 300);
        assert_eq!(
            b.finish(),
            [0x85, 0, 0, 0x10, 0, 3, b't', b't', b'l', 0, 0, 0, 0, 0, 1, 0x2c]
        );
        let mut b = BlobmsgBuilder::new();
        let t = b.open_table("status");
        b.close(t);
        assert_eq!(
            b.finish(),
            [0x82, 0, 0, 0x10, 0, 6, b's', b't', b'a', b't', b'u', b's', 0, 0, 0, 0]
        );
    }

    #[test]
    fn strings_end_at_the_first_nul() {
        let mut b = BlobmsgBuilder::new();
        b.put_string("s", "ab\0cd");
        let data = b.finish();
        let field = BlobmsgList::new(&data).iter().next().unwrap().unwrap();
        assert_eq!(field.value, BlobmsgValue::String("ab"));
    }

    #[test]
    fn finish_closes_open_containers() {
        let mut open = BlobmsgBuilder::new();
        let outer = open.open_table("a");
        let _inner = open.open_array("b");
        open.put_bool("", true);
        drop(outer);
        let mut closed = BlobmsgBuilder::new();
        let outer = closed.open_table("a");
        let inner = closed.open_array("b");
        closed.put_bool("", true);
        closed.close(inner);
        closed.close(outer);
        assert_eq!(open.finish(), closed.finish());
    }

    #[test]
    fn reader_round_trips_builder() {
        let data = recorded_status_reply(7);
        let list = BlobmsgList::new(&data);
        let fields: Vec<_> = list.iter().collect::<Result<_, _>>().unwrap();
        assert_eq!(fields.len(), 8);
        assert_eq!(fields[0].name, "version");
        assert_eq!(fields[0].value, BlobmsgValue::String("0.1.0"));
        assert_eq!(fields[3].value, BlobmsgValue::Int64(5_000_000_000));
        assert_eq!(list.get("reloads").unwrap(), Some(BlobmsgValue::Int32(7)));
        assert_eq!(list.get("missing").unwrap(), None);
        let Some(BlobmsgValue::Array(prefixes)) = list.get("prefixes").unwrap() else {
            panic!("prefixes is not an array");
        };
        let names: Vec<_> = prefixes.iter().map(|f| f.unwrap().name).collect();
        assert_eq!(names, ["", ""]);
        let Some(BlobmsgValue::Table(config)) = list.get("config").unwrap() else {
            panic!("config is not a table");
        };
        assert_eq!(
            config.get("enabled").unwrap(),
            Some(BlobmsgValue::Bool(false))
        );
    }

    #[test]
    fn reader_rejects_malformed_fields() {
        let ok = {
            let mut b = BlobmsgBuilder::new();
            b.put_u32("ttl", 300);
            b.finish()
        };
        fn first(bytes: &[u8]) -> Result<BlobmsgField<'_>, BlobError> {
            BlobmsgList::new(bytes).iter().next().unwrap()
        }
        assert!(first(&ok).is_ok());
        // Wrong integer size: declare INT64 over a 4-byte value.
        let mut bad = ok.clone();
        bad[0] = 0x84;
        assert_eq!(first(&bad), Err(BlobError::BadValueLength));
        // Name length overrunning the attribute.
        let mut bad = ok.clone();
        bad[5] = 40;
        assert_eq!(first(&bad), Err(BlobError::BadName));
        // Name without its NUL.
        let mut bad = ok.clone();
        bad[9] = b'x';
        assert_eq!(first(&bad), Err(BlobError::BadName));
        // Not extended: no name header.
        let mut bad = ok.clone();
        bad[0] = 0x05;
        assert_eq!(first(&bad), Err(BlobError::BadName));
        // Unknown type.
        let mut bad = ok.clone();
        bad[0] = 0x89;
        assert_eq!(first(&bad), Err(BlobError::UnknownType(9)));
        // String without NUL.
        let mut bad = ok;
        bad[0] = 0x83;
        assert_eq!(first(&bad), Err(BlobError::BadString));
    }

    #[test]
    fn json_escapes_like_libubox() {
        let mut b = BlobmsgBuilder::new();
        b.put_string("q\"", "a\\b\n\u{1}\u{7f}é");
        let t = b.open_table("empty");
        b.close(t);
        let data = b.finish();
        assert_eq!(
            to_json(&data, false).unwrap(),
            "{\"q\\\"\":\"a\\\\b\\n\\u0001\u{7f}é\",\"empty\":{}}"
        );
        // libubox prints the separators even around an empty container.
        assert_eq!(
            to_json(&data, true).unwrap(),
            "{\n\t\"q\\\"\": \"a\\\\b\\n\\u0001\u{7f}é\",\n\t\"empty\": {\n\t\t\n\t}\n}"
        );
    }

    #[test]
    fn json_numbers_are_signed_and_doubles_use_six_decimals() {
        let mut data = Vec::new();
        blob::put_attr(
            &mut data,
            8,
            true,
            &[0, 0, 0, 0, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0],
        );
        blob::put_attr(&mut data, 6, true, &[0, 0, 0, 0, 0xff, 0xfe]);
        let mut b = BlobmsgBuilder::new();
        b.put_u32("", u32::MAX);
        data.extend(b.finish());
        assert_eq!(to_json(&data, false).unwrap(), "{1.500000,-2,-1}");
        assert_eq!(c_lf(f64::NEG_INFINITY), "-inf");
        assert_eq!(c_lf(f64::NAN), "nan");
    }

    #[test]
    fn json_depth_is_bounded() {
        let mut b = BlobmsgBuilder::new();
        let nests: Vec<_> = (0..MAX_JSON_DEPTH + 2).map(|_| b.open_array("")).collect();
        drop(nests);
        assert_eq!(to_json(&b.finish(), true), Err(BlobError::TooDeep));
    }
}
