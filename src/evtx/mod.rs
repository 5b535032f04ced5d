//! Windows XML event logs (`.evtx`), read with the `evtx` crate: every record as a plain
//! [`Event`] (its System fields and its named `EventData`/`UserData` values as text), with
//! where it lies in the log. This reader knows nothing of BITS or Sysmon: the decoders
//! (`bits/events.rs`) give the values their meaning.
//!
//! The file (see `gen/evtx.rs` for the layout, written there):
//! - a 4 KiB file header (`ElfFile\0`),
//! - 64 KiB chunks (`ElfChnk\0`, a 512-byte header with CRC32s of header and records), each
//!   holding records: `2a 2a 00 00`, size (u32), record number (u64), written FILETIME (u64),
//!   BinXML, the size again.
//!
//! Hostile logs: the crate reads one 64 KiB chunk at a time (the chunk count comes from the
//! bytes present), bounds its template and node expansion per chunk, and reports a record it
//! cannot read as an error we keep as a [`Warning`]; on top of it we cap the events kept
//! ([`MAX_EVENTS`]), the values per event and the length of each value, and catch a panic in
//! the crate as one more warning, so no log can stop or balloon a run.
use std::io::Cursor;

use evtx::err::{EvtxError, SerializationError};
use evtx::{EvtxParser, ParserSettings};

mod json;
use json::Json;

/// The file header's size: the first chunk starts here.
pub const FILE_HEADER_SIZE: u64 = 4096;
/// A chunk's size.
pub const CHUNK_SIZE: u64 = 65536;
/// A record's header before its BinXML: magic, size, number, FILETIME.
const RECORD_HEADER: u64 = 24;
/// The most events kept from one log (a full 20 MiB log holds ~60,000 BITS events; a larger
/// log is kept to its first million).
pub const MAX_EVENTS: usize = 1_000_000;
/// The most named values kept from one event.
const MAX_VALUES: usize = 256;
/// The longest value kept, in bytes (longer ones are cut at a character boundary).
const MAX_VALUE: usize = 64 * 1024;
/// The most warnings kept from one log.
const MAX_WARNINGS: usize = 1000;

/// One event record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// The record header's number (what the crate calls `event_record_id`).
    pub record_id: u64,
    /// `System/EventRecordID` (the same as `record_id` in a log Windows wrote; an exported or
    /// re-written log may number its records anew in the header).
    pub event_record_id: u64,
    /// When the record was written (the record header's FILETIME; 100 ns since 1601).
    pub written: u64,
    /// `System/TimeCreated/@SystemTime` as rendered by the crate (RFC 3339).
    pub time_created: String,
    pub event_id: u32,
    pub version: Option<u32>,
    /// `System/Provider/@Name`.
    pub provider: String,
    pub channel: String,
    pub computer: String,
    /// `System/Security/@UserID`, when present.
    pub user_sid: Option<String>,
    /// `System/Execution/@ProcessID` and `@ThreadID` (the writing process: the BITS service).
    pub process_id: Option<u32>,
    pub thread_id: Option<u32>,
    /// The named values of `EventData` (`<Data Name="..">`) or of `UserData`'s element, in
    /// order; unnamed `Data` are named `Data`, `Data[1]`, ...
    pub data: Vec<(String, String)>,
    /// The record's offset in the log file (its `**` magic).
    pub offset: u64,
    /// The record's length in the log file, header to trailing size.
    pub length: u64,
    /// Carved from the unused space of a chunk (a record overwritten, not a live one).
    pub recovered: bool,
}

impl Event {
    /// The value named `name` (exact).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.data
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Something in the log that could not be read; reading went on past it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Offset in the log file, when known.
    pub offset: Option<u64>,
    pub what: String,
}

/// What a log gave.
#[derive(Debug, Clone, Default)]
pub struct Log {
    pub events: Vec<Event>,
    pub warnings: Vec<Warning>,
    /// More than [`MAX_EVENTS`] records: the rest were not kept.
    pub truncated: bool,
}

/// Whether `head` starts like an event log (`ElfFile\0`).
pub fn is_evtx(head: &[u8]) -> bool {
    head.starts_with(b"ElfFile\0")
}

/// Read every record of a log held in `bytes` (a map of the file, or a stream read out of an
/// image), oldest chunk first as Windows reads a log that wrapped around.
pub fn read(bytes: &[u8]) -> Log {
    let mut log = Log::default();
    // The crate is fuzzed and bounded, but a panic in a dependency must not end a run: it
    // becomes a warning and the events read so far are kept.
    let caught =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_into(bytes, &mut log)));
    if caught.is_err() {
        warn(
            &mut log,
            None,
            "the evtx reader failed inside (a panic): events after the last one read are missing"
                .into(),
        );
    }
    log
}

fn warn(log: &mut Log, offset: Option<u64>, what: String) {
    if log.warnings.len() < MAX_WARNINGS {
        log.warnings.push(Warning { offset, what });
    }
}

fn read_into(bytes: &[u8], log: &mut Log) {
    let parser = match EvtxParser::from_read_seek(Cursor::new(bytes)) {
        Ok(p) => p,
        Err(e) => {
            warn(log, Some(0), format!("not an event log: {e}"));
            return;
        }
    };
    let settings = ParserSettings::new().num_threads(1);
    let mut parser = parser.with_configuration(settings.clone());
    let settings = std::sync::Arc::new(settings);
    // Chunks are independent: a batch of them (a few MiB, so memory stays bounded) is decoded
    // on all cores, and the events are kept in chunk order.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut batch = Vec::new();
    for chunk in parser.chunks() {
        match chunk {
            Ok(c) => batch.push(c),
            Err(e) => warn(log, None, e.to_string()),
        }
        if batch.len() >= threads.saturating_mul(BATCH_PER_THREAD) {
            decode_batch(std::mem::take(&mut batch), &settings, threads, log);
            if log.truncated {
                return;
            }
        }
    }
    decode_batch(batch, &settings, threads, log);
}

/// Chunks decoded per thread at a time.
const BATCH_PER_THREAD: usize = 16;

/// Decode `batch` on up to `threads` threads, appending its events (in order) to `log`.
fn decode_batch(
    batch: Vec<evtx::EvtxChunkData>,
    settings: &std::sync::Arc<ParserSettings>,
    threads: usize,
    log: &mut Log,
) {
    if batch.is_empty() {
        return;
    }
    let per = batch.len().div_ceil(threads.max(1)).max(1);
    let mut groups: Vec<Vec<evtx::EvtxChunkData>> = Vec::new();
    let mut batch = batch.into_iter().peekable();
    while batch.peek().is_some() {
        groups.push(batch.by_ref().take(per).collect());
    }
    let parts: Vec<Log> = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .into_iter()
            .map(|group| {
                scope.spawn(move || {
                    let mut part = Log::default();
                    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        for chunk in group {
                            decode_chunk(chunk, settings, &mut part);
                        }
                    }));
                    if caught.is_err() {
                        warn(&mut part, None, "the evtx reader failed inside (a panic): events of these chunks are missing".into());
                    }
                    part
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for part in parts {
        for w in part.warnings {
            warn(log, w.offset, w.what);
        }
        for e in part.events {
            if log.events.len() >= MAX_EVENTS {
                log.truncated = true;
                return;
            }
            log.events.push(e);
        }
    }
}

/// Every record of one chunk into `log`.
fn decode_chunk(
    mut chunk: evtx::EvtxChunkData,
    settings: &std::sync::Arc<ParserSettings>,
    log: &mut Log,
) {
    let base = chunk
        .number
        .and_then(|n| n.checked_mul(CHUNK_SIZE))
        .and_then(|o| o.checked_add(FILE_HEADER_SIZE));
    let mut parsed = match chunk.parse(std::sync::Arc::clone(settings)) {
        Ok(p) => p,
        Err(e) => {
            warn(log, base, format!("chunk: {e}"));
            return;
        }
    };
    for record in parsed.iter() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                warn(log, base, e.to_string());
                continue;
            }
        };
        let in_chunk = record.binxml_offset.saturating_sub(RECORD_HEADER);
        let offset = base.map_or(0, |b| b.saturating_add(in_chunk));
        let written = usize::try_from(in_chunk)
            .ok()
            .and_then(|at| crate::util::bytes::u64_le(record.chunk.data, at.checked_add(16)?))
            .unwrap_or(0);
        let length = u64::from(record.binxml_size).saturating_add(RECORD_HEADER + 4);
        let recovered = record.recovered;
        match json_of(record) {
            Ok((record_id, text)) => match json::parse(&text) {
                Ok(json) => {
                    let mut event = event_of(&json);
                    event.record_id = record_id;
                    event.written = written;
                    event.offset = offset;
                    event.length = length;
                    event.recovered = recovered;
                    log.events.push(event);
                }
                Err(e) => warn(
                    log,
                    Some(offset),
                    EvtxError::from(SerializationError::from(e)).to_string(),
                ),
            },
            Err(e) => warn(log, Some(offset), e.to_string()),
        }
    }
}

/// A record rendered by the crate as JSON text, and its number. The text is read into a
/// light tree ([`json`]) rather than the crate's `into_json_value` (a `serde_json::Value`):
/// the same shape at a fraction of the cost; the errors are the crate's own.
fn json_of(record: evtx::EvtxRecord<'_>) -> Result<(u64, String), EvtxError> {
    let rendered = record.into_json_bytes()?;
    let text = String::from_utf8(rendered.data).map_err(SerializationError::from)?;
    Ok((rendered.event_record_id, text))
}

/// The crate's JSON form of a record (`{"Event": {"System": .., "EventData": ..}}`, attributes
/// under `#attributes`) as an [`Event`].
fn event_of(json: &Json) -> Event {
    let event = json.get("Event").unwrap_or(&Json::Null);
    let system = event.get("System").unwrap_or(&Json::Null);
    let attr = |v: &Json, name: &str| -> Option<String> {
        v.get("#attributes")
            .and_then(|a| a.get(name))
            .and_then(text)
    };
    let number = |v: Option<&Json>| v.and_then(text).and_then(|s| s.parse::<u32>().ok());
    let event_id = system.get("EventID").and_then(|e| match e {
        // With qualifiers the crate gives {"#attributes": {"Qualifiers": ..}, "#text": 3}.
        Json::Object(o) => o.get("#text").and_then(text),
        other => text(other),
    });
    let execution = system.get("Execution").unwrap_or(&Json::Null);
    let mut data = Vec::new();
    if let Some(ed) = event.get("EventData") {
        values("", ed, &mut data);
    } else if let Some(Json::Object(ud)) = event.get("UserData") {
        // UserData holds one element of the provider's own schema: its children are the values.
        for (_, inner) in ud.iter().filter(|(k, _)| !k.starts_with('#')) {
            values("", inner, &mut data);
        }
    }
    Event {
        event_id: event_id.and_then(|s| s.parse().ok()).unwrap_or(0),
        event_record_id: system
            .get("EventRecordID")
            .and_then(text)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        version: number(system.get("Version")),
        provider: system
            .get("Provider")
            .and_then(|p| attr(p, "Name"))
            .unwrap_or_default(),
        channel: system.get("Channel").and_then(text).unwrap_or_default(),
        computer: system.get("Computer").and_then(text).unwrap_or_default(),
        user_sid: system.get("Security").and_then(|s| attr(s, "UserID")),
        time_created: system
            .get("TimeCreated")
            .and_then(|t| attr(t, "SystemTime"))
            .unwrap_or_default(),
        process_id: attr(execution, "ProcessID").and_then(|s| s.parse().ok()),
        thread_id: attr(execution, "ThreadID").and_then(|s| s.parse().ok()),
        data,
        ..Event::default()
    }
}

/// The named values under `v` (EventData's object), flattened one level: `{"a": 1, "b": "x"}`
/// gives `a`, `b`; `"Data": [..]` (unnamed values) gives `Data`, `Data[1]`, ...
fn values(prefix: &str, v: &Json, out: &mut Vec<(String, String)>) {
    let Json::Object(map) = v else {
        if let Some(t) = text(v) {
            push(out, name_of(prefix, "Data"), t);
        }
        return;
    };
    for (k, v) in map.iter().filter(|(k, _)| *k != "#attributes") {
        let key = if k == "#text" { "Data" } else { k };
        match v {
            Json::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let name = if i == 0 {
                        key.to_string()
                    } else {
                        format!("{key}[{i}]")
                    };
                    push(out, name_of(prefix, &name), text(item).unwrap_or_default());
                }
            }
            Json::Object(o) if o.contains_key("#text") || o.contains_key("#attributes") => {
                push(
                    out,
                    name_of(prefix, key),
                    o.get("#text").and_then(text).unwrap_or_default(),
                );
            }
            Json::Object(_) => values(&name_of(prefix, key), v, out),
            other => push(out, name_of(prefix, key), text(other).unwrap_or_default()),
        }
    }
}

fn name_of(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn push(out: &mut Vec<(String, String)>, name: String, mut value: String) {
    if out.len() >= MAX_VALUES {
        return;
    }
    if value.len() > MAX_VALUE {
        // The last character boundary at or before MAX_VALUE (0 is always one).
        let end = (0..=MAX_VALUE)
            .rev()
            .find(|&i| value.is_char_boundary(i))
            .unwrap_or(0);
        value.truncate(end);
    }
    out.push((name, value));
}

/// A time as the crate renders it (RFC 3339, 100 ns digits) as a FILETIME (100 ns since
/// 1601); `None` when it is not one.
pub fn filetime_of(text: &str) -> Option<u64> {
    let t = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    let unix_100ns = t
        .timestamp()
        .checked_mul(10_000_000)?
        .checked_add(i64::from(t.timestamp_subsec_nanos() / 100))?;
    u64::try_from(unix_100ns.checked_add(116_444_736_000_000_000)?).ok()
}

/// A JSON scalar as text (`null` as empty); `None` for objects.
fn text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.to_string()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(if *b { "true" } else { "false" }.to_string()),
        Json::Null => Some(String::new()),
        Json::Array(items) => Some(items.iter().filter_map(text).collect::<Vec<_>>().join(",")),
        Json::Object(_) => None,
    }
}
