//! Timeline entries (Timesketch JSONL): one per distinct timestamp of a record.
//!
//! Each entry has what Timesketch's importer requires, `message`, `datetime` (ISO 8601, UTC)
//! and `timestamp_desc` ("BITS Created", "BITS Modified", ...; joined with ", " when several
//! coincide), and `timestamp` (microseconds since 1970, what the importer would otherwise
//! compute from `datetime`); `artifact` and `data_type` as artemis writes them; then all the
//! record's fields, `host` among them whenever the driver named one. Entries come in a fixed
//! order: the record order, then created, modified, completed, expiration, remote file
//! modification.
//!
//! No field starts with `_` (the importer drops those), each field has one JSON type in every
//! entry (OpenSearch maps a field once per index), and no integer exceeds a signed 64-bit
//! `long` (a field that would is left out); `tests/timesketch.rs` checks all three.
//!
//! A record with a story (`BitsInfo.story`: events, accounts, the files on disk joined to it)
//! gives one entry per fact with a time instead, in time order, each labelled with its
//! `source`, `provenance` and `join` (the queue's own times are facts of the story too); the
//! expiration, which no fact holds, keeps its entry. The story itself is not repeated in
//! every entry.

use serde_json::{json, Map, Value};

use crate::bits::model::BitsInfo;

pub fn entries(record: &BitsInfo) -> Vec<Value> {
    if !record.story.is_empty() {
        return story_entries(record);
    }
    let times = [
        (&record.created, "BITS Created"),
        (&record.modified, "BITS Modified"),
        (&record.completed, "BITS Completed"),
        (&record.expiration, "BITS Expired"),
        (&record.remote_modified, "BITS Remote File Modified"),
    ];
    let mut distinct: Vec<(&String, Vec<&str>)> = Vec::new();
    for (t, desc) in times {
        if t.is_empty() {
            continue;
        }
        match distinct.iter_mut().find(|(v, _)| *v == t) {
            Some((_, d)) => d.push(desc),
            None => distinct.push((t, vec![desc])),
        }
    }
    let mut fields = match serde_json::to_value(record) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    // OpenSearch, under Timesketch, keeps a JSON integer in a signed 64-bit `long`: BITS's
    // "size unknown" (2^64 - 1 in bytes_transferred) would have the whole line refused, so
    // such a field is left out of the timeline (the records keep it).
    fields.retain(|_, v| v.as_u64().is_none_or(|n| i64::try_from(n).is_ok()));
    distinct
        .into_iter()
        .map(|(t, descs)| {
            let mut m = Map::new();
            m.insert("datetime".into(), json!(t));
            if let Some(us) = micros(t) {
                m.insert("timestamp".into(), json!(us));
            }
            m.insert("timestamp_desc".into(), json!(descs.join(", ")));
            m.insert(
                "message".into(),
                json!(format!(
                    "Job: {} - Target Path: {}",
                    record.job_name, record.target_path
                )),
            );
            m.insert("artifact".into(), json!("BITS"));
            m.insert("data_type".into(), json!("windows:ese:bits:entry"));
            for (k, v) in &fields {
                m.entry(k.clone()).or_insert_with(|| v.clone());
            }
            Value::Object(m)
        })
        .collect()
}

/// The entries of a record with a story: one per fact with a time, and the expiration.
fn story_entries(record: &BitsInfo) -> Vec<Value> {
    let mut fields = match serde_json::to_value(record) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    fields.remove("story");
    fields.retain(|_, v| v.as_u64().is_none_or(|n| i64::try_from(n).is_ok()));
    let mut out: Vec<(u64, Value)> = Vec::new();
    for f in record.story.iter().filter(|f| f.filetime > 0) {
        let mut m = Map::new();
        m.insert("datetime".into(), json!(f.time));
        if let Some(us) = micros(&f.time) {
            m.insert("timestamp".into(), json!(us));
        }
        m.insert("filetime".into(), json!(f.filetime));
        m.insert("timestamp_desc".into(), json!(f.what));
        m.insert(
            "message".into(),
            json!(format!(
                "Job: {} - {}: {}",
                record.job_name, f.what, f.detail
            )),
        );
        m.insert("artifact".into(), json!("BITS"));
        m.insert("data_type".into(), json!("windows:bits:story"));
        m.insert("source".into(), json!(f.source));
        m.insert("provenance".into(), json!(f.provenance));
        m.insert("join".into(), json!(f.join));
        m.insert("detail".into(), json!(f.detail));
        for (k, v) in &fields {
            m.entry(k.clone()).or_insert_with(|| v.clone());
        }
        out.push((f.filetime, Value::Object(m)));
    }
    if let Some(ft) = crate::evtx::filetime_of(&record.expiration) {
        let mut m = Map::new();
        m.insert("datetime".into(), json!(record.expiration));
        if let Some(us) = micros(&record.expiration) {
            m.insert("timestamp".into(), json!(us));
        }
        m.insert("timestamp_desc".into(), json!("BITS Expired"));
        m.insert(
            "message".into(),
            json!(format!(
                "Job: {} - Target Path: {}",
                record.job_name, record.target_path
            )),
        );
        m.insert("artifact".into(), json!("BITS"));
        m.insert("data_type".into(), json!("windows:ese:bits:entry"));
        m.insert("source".into(), json!("queue"));
        for (k, v) in &fields {
            m.entry(k.clone()).or_insert_with(|| v.clone());
        }
        out.push((ft, Value::Object(m)));
    }
    out.sort_by_key(|(t, _)| *t);
    out.into_iter().map(|(_, v)| v).collect()
}

/// Microseconds since 1970 of an ISO 8601 time (as the records write them), when it reads.
fn micros(t: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.timestamp_micros())
}
