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

use serde_json::{json, Map, Value};

use crate::bits::model::BitsInfo;

pub fn entries(record: &BitsInfo) -> Vec<Value> {
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

/// Microseconds since 1970 of an ISO 8601 time (as the records write them), when it reads.
fn micros(t: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.timestamp_micros())
}
