//! Timeline entries (Timesketch JSONL): one per distinct timestamp of a record.
//!
//! Each entry has `datetime`, `timestamp_desc` ("BITS Created", "BITS Modified", ...; joined
//! with ", " when several coincide), `message`, `artifact` and `data_type` as artemis writes
//! them, plus all the record's fields. Entries come in a fixed order: the record order, then
//! created, modified, completed, expiration, remote file modification.

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
