//! The `evtx` crate's JSON rendering of one record, read into a light tree that borrows its
//! strings from the rendered text.
//!
//! It has the shape of `serde_json::Value` with `preserve_order` (what the reader used to
//! build, and what `mod.rs` walks): objects keep their keys in document order, a repeated key
//! keeps its first place and its last value, numbers are `serde_json::Number`s made as
//! `Value` makes them. Only the containers differ: a vector of entries instead of an
//! `IndexMap` (no hashing, no allocation per key), and strings borrowed where the JSON text
//! holds them unescaped. Reading a 100,000-event log into `Value`s was the largest cost of the
//! event log (issue 19's benchmark); this tree is what that cost was for.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

/// A JSON value (see the module's notes).
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Object<'a>),
}

/// A JSON object: its entries in document order, each key once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object<'a>(Vec<(Cow<'a, str>, Json<'a>)>);

/// The most entries an object holds before its repeated keys are found through a hash map
/// rather than a scan (keeps a hostile object of many keys linear).
const SCAN: usize = 16;

impl<'a> Object<'a> {
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Json<'a>)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

impl<'a> Json<'a> {
    /// The value under `key` of an object; `None` for anything else (as `Value::get`).
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(o) => o.get(key),
            _ => None,
        }
    }
}

/// The JSON text of a record as a tree borrowing from it.
pub fn parse(text: &str) -> Result<Json<'_>, serde_json::Error> {
    serde_json::from_str(text)
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json<'de>, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json<'de>, E> {
        // As `Value`: a float JSON cannot hold (never parsed from text) is null.
        Ok(Number::from_f64(v).map_or(Json::Null, Json::Number))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v)))
    }
    fn visit_none<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut entries: Vec<(Cow<'de, str>, Json<'de>)> = Vec::new();
        let mut index: Option<HashMap<Cow<'de, str>, usize>> = None;
        while let Some(key) = map.next_key_seed(Key)? {
            let value: Json<'de> = map.next_value()?;
            if entries.len() == SCAN && index.is_none() {
                index = Some(
                    entries
                        .iter()
                        .enumerate()
                        .map(|(i, (k, _))| (k.clone(), i))
                        .collect(),
                );
            }
            let at = match &index {
                Some(ix) => ix.get(&key).copied(),
                None => entries.iter().position(|(k, _)| *k == key),
            };
            match at.and_then(|i| entries.get_mut(i)) {
                // A repeated key: its first place, its last value (as `IndexMap::insert`).
                Some(slot) => slot.1 = value,
                None => {
                    if let Some(ix) = &mut index {
                        ix.insert(key.clone(), entries.len());
                    }
                    entries.push((key, value));
                }
            }
        }
        Ok(Json::Object(Object(entries)))
    }
}

/// An object's key, borrowed where the text holds it unescaped (serde's own `Cow` always
/// copies).
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The tree has the shape `Value` gives the same text: compared through `Value`.
    fn as_value(j: &Json) -> Value {
        match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.clone()),
            Json::String(s) => Value::String(s.to_string()),
            Json::Array(a) => Value::Array(a.iter().map(as_value).collect()),
            Json::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.to_string(), as_value(v)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn same_shape_as_value() {
        let many: Vec<String> = (0..40).map(|i| format!("\"k{}\": {i}", i % 23)).collect();
        for text in [
            r##"{"Event": {"System": {"EventID": {"#attributes": {"Qualifiers": 0}, "#text": 3}}}}"##,
            r#"{"a": 1, "b": "x\u0041\n", "a": [true, null, -5, 1.5, 1e300], "c": {}}"#,
            r#"[1, "2", {"x": {"y": "z"}}]"#,
            &format!("{{{}}}", many.join(",")),
        ] {
            let want: Value = serde_json::from_str(text).unwrap();
            let got = parse(text).unwrap();
            assert_eq!(as_value(&got), want, "{text}");
            // And in the same order (Value's map with preserve_order keeps first places).
            if let (Value::Object(w), Json::Object(g)) = (&want, &got) {
                let wk: Vec<&String> = w.keys().collect();
                let gk: Vec<&str> = g.iter().map(|(k, _)| k).collect();
                assert_eq!(wk, gk, "{text}");
            }
        }
    }
}
