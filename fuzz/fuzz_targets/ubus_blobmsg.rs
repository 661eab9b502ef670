//! `ubus::BlobmsgList` and `ubus::to_json` on an arbitrary DATA payload. Invariants:
//! - `to_json` succeeds exactly when every field at every level decodes and containers nest
//!   at most 32 deep, with or without indentation;
//! - a payload of the types `BlobmsgBuilder` can write, rebuilt with it, decodes to the same
//!   tree (array elements unnamed) and prints the same JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndpresponder::ubus::{to_json, BlobmsgBuilder, BlobmsgList, BlobmsgValue};

/// `to_json`'s nesting limit (`MAX_JSON_DEPTH` in ubus/blobmsg.rs).
const MAX_JSON_DEPTH: usize = 32;

#[derive(Debug, PartialEq)]
enum Node {
    Unspec,
    Array(Vec<(String, Node)>),
    Table(Vec<(String, Node)>),
    String(String),
    Int64(i64),
    Int32(i32),
    Int16(i16),
    Bool(bool),
    Double(u64),
}

/// The fields of `list`, fully decoded; `Err` if any field anywhere is malformed.
fn decode(list: BlobmsgList<'_>) -> Result<Vec<(String, Node)>, ()> {
    let mut fields = Vec::new();
    for field in list.iter() {
        let field = field.map_err(|_| ())?;
        let node = match field.value {
            BlobmsgValue::Unspec => Node::Unspec,
            BlobmsgValue::Array(l) => Node::Array(decode(l)?),
            BlobmsgValue::Table(l) => Node::Table(decode(l)?),
            BlobmsgValue::String(s) => Node::String(s.to_owned()),
            BlobmsgValue::Int64(v) => Node::Int64(v),
            BlobmsgValue::Int32(v) => Node::Int32(v),
            BlobmsgValue::Int16(v) => Node::Int16(v),
            BlobmsgValue::Bool(v) => Node::Bool(v),
            BlobmsgValue::Double(v) => Node::Double(v.to_bits()),
        };
        fields.push((field.name.to_owned(), node));
    }
    Ok(fields)
}

/// Deepest container nesting below a list (0 for a list of scalars).
fn depth(fields: &[(String, Node)]) -> usize {
    fields
        .iter()
        .map(|(_, node)| match node {
            Node::Array(f) | Node::Table(f) => 1 + depth(f),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

/// Writes `fields` with the builder; false if a type has no builder method.
fn rebuild(b: &mut BlobmsgBuilder, fields: &[(String, Node)]) -> bool {
    for (name, node) in fields {
        match node {
            Node::String(s) => b.put_string(name, s),
            Node::Int64(v) => b.put_u64(name, *v as u64),
            Node::Int32(v) => b.put_u32(name, *v as u32),
            Node::Bool(v) => b.put_bool(name, *v),
            Node::Array(f) | Node::Table(f) => {
                let nest = match node {
                    Node::Array(_) => b.open_array(name),
                    _ => b.open_table(name),
                };
                if !rebuild(b, f) {
                    return false;
                }
                b.close(nest);
            }
            Node::Unspec | Node::Int16(_) | Node::Double(_) => return false,
        }
    }
    true
}

/// The tree as the builder writes it: array elements lose their names.
fn unname_array_elements(fields: &mut [(String, Node)], in_array: bool) {
    for (name, node) in fields {
        if in_array {
            name.clear();
        }
        match node {
            Node::Array(f) => unname_array_elements(f, true),
            Node::Table(f) => unname_array_elements(f, false),
            _ => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let tree = decode(BlobmsgList::new(data));
    let json = to_json(data, true);
    let json_line = to_json(data, false);
    let printable = matches!(&tree, Ok(fields) if depth(fields) <= MAX_JSON_DEPTH);
    assert_eq!(
        json.is_ok(),
        printable,
        "to_json {json:?} for tree {tree:?}"
    );
    assert_eq!(json.is_ok(), json_line.is_ok());
    let Ok(mut fields) = tree else {
        return;
    };
    let mut b = BlobmsgBuilder::new();
    if !rebuild(&mut b, &fields) {
        return;
    }
    let rebuilt = b.finish();
    unname_array_elements(&mut fields, false);
    assert_eq!(
        decode(BlobmsgList::new(&rebuilt)),
        Ok(fields),
        "rebuilt tree differs"
    );
    assert_eq!(to_json(&rebuilt, true), json, "rebuilt JSON differs");
});
