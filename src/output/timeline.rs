//! Timeline entries (Timesketch JSONL): one per distinct timestamp of a record.
//!
//! Each entry has `datetime`, `timestamp_desc` ("BITS Created", "BITS Modified", ...; joined
//! with ", " when several coincide), `message`, `artifact` and `data_type` as artemis writes
//! them, plus all the record's fields. Entries come in a fixed order: the record order, then
//! created, modified, completed, expiration, remote file modification.
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
    let fields = match serde_json::to_value(record) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    distinct
        .into_iter()
        .map(|(t, descs)| {
            let mut m = Map::new();
            m.insert("datetime".into(), json!(t));
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
    let mut out: Vec<(u64, Value)> = Vec::new();
    for f in record.story.iter().filter(|f| f.filetime > 0) {
        let mut m = Map::new();
        m.insert("datetime".into(), json!(f.time));
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

/// Distinct non-empty timestamps of a record (the number of timeline entries it yields).
pub fn distinct_times(record: &BitsInfo) -> usize {
    entries(record).len()
}
