//! Typed column values and their JSON form (the `bitscope ese dump` contract).

use super::record::ColumnType;
use crate::util::bytes::hex;
use crate::util::guid::Guid;
use crate::util::time::{iso, ole_date};
use serde_json::{json, Value as Json};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    /// An OLE automation date (days since 1899-12-30).
    DateTime(f64),
    Guid(Guid),
    Binary(Vec<u8>),
    Text(String),
    Multi(Vec<Value>),
    /// Bytes the reader found but could not decode (unsupported compression, missing long
    /// value, encryption): the reason and the raw bytes, so nothing is silently dropped.
    Undecoded {
        reason: String,
        raw: Vec<u8>,
    },
}

impl Value {
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => json!(i),
            Value::UInt(u) => json!(u),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::DateTime(d) => ole_date(*d).map_or(Json::Null, |t| Json::String(iso(t))),
            Value::Guid(g) => Json::String(g.to_string()),
            Value::Binary(b) => Json::String(hex(b)),
            Value::Text(s) => Json::String(s.clone()),
            Value::Multi(v) => Json::Array(v.iter().map(Value::to_json).collect()),
            Value::Undecoded { reason, raw } => json!({"undecoded": reason, "raw": hex(raw)}),
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Binary(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::UInt(u) => i64::try_from(*u).ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// Type plain bytes (already resolved from long values and decompressed) as `coltype`.
pub fn typed(coltype: ColumnType, codepage: u32, b: &[u8]) -> Value {
    use ColumnType as T;
    let fixed = |n: usize| b.get(..n);
    let v = match coltype {
        T::Bit => b.first().map(|x| Value::Bool(*x != 0)),
        T::UnsignedByte => b.first().map(|x| Value::UInt(u64::from(*x))),
        T::Short => fixed(2)
            .and_then(|x| x.try_into().ok())
            .map(|x| Value::Int(i64::from(i16::from_le_bytes(x)))),
        T::UnsignedShort => fixed(2)
            .and_then(|x| x.try_into().ok())
            .map(|x| Value::UInt(u64::from(u16::from_le_bytes(x)))),
        T::Long => fixed(4)
            .and_then(|x| x.try_into().ok())
            .map(|x| Value::Int(i32::from_le_bytes(x) as i64)),
        T::UnsignedLong => fixed(4)
            .and_then(|x| x.try_into().ok())
            .map(|x| Value::UInt(u32::from_le_bytes(x) as u64)),
        T::Currency | T::LongLong => fixed(8)
            .and_then(|x| x.try_into().ok())
            .map(|x| Value::Int(i64::from_le_bytes(x))),
        T::IeeeSingle => fixed(4)
            .and_then(|x| x.try_into().ok())
            .map(|x| Value::Float(f32::from_le_bytes(x) as f64)),
        T::IeeeDouble => fixed(8)
            .and_then(|x| x.try_into().ok())
            .map(|x| Value::Float(f64::from_le_bytes(x))),
        T::DateTime => fixed(8)
            .and_then(|x| x.try_into().ok())
            .map(|x| Value::DateTime(f64::from_le_bytes(x))),
        T::Guid => Guid::from_slice(b).map(Value::Guid),
        T::Text | T::LongText => Some(Value::Text(decode_text(codepage, b))),
        _ => Some(Value::Binary(b.to_vec())),
    };
    v.unwrap_or_else(|| Value::Undecoded {
        reason: format!("{} value of {} bytes is too short", coltype.name(), b.len()),
        raw: b.to_vec(),
    })
}

/// Text by code page: 1200 is UTF-16LE; 1252 and others are single-byte. Trailing NULs dropped.
pub fn decode_text(codepage: u32, b: &[u8]) -> String {
    let mut s = if codepage == 1200 {
        let mut padded = b.to_vec();
        if padded.len() % 2 == 1 {
            padded.push(0);
        }
        crate::util::utf16::decode_utf16le(&padded)
    } else {
        b.iter().map(|&c| cp1252(c)).collect()
    };
    while s.ends_with('\0') {
        s.pop();
    }
    s
}

/// Windows-1252 to Unicode (0x80–0x9F differ from Latin-1; undefined bytes map to themselves).
fn cp1252(c: u8) -> char {
    const HIGH: [u16; 32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013,
        0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ];
    match c {
        0x80..=0x9F => HIGH
            .get(usize::from(c.saturating_sub(0x80)))
            .and_then(|&u| char::from_u32(u as u32))
            .unwrap_or(c as char),
        _ => c as char,
    }
}
