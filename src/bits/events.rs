//! BITS events: what the `Microsoft-Windows-Bits-Client/Operational` log says about jobs, read
//! from the event log reader's plain events (`crate::evtx`), and the process-creation events
//! (Sysmon 1, Security 4688) whose parent is the BITS service host: a notify command running.
//!
//! The events and their values (names as Windows writes them; the templates differ by version):
//! - 3 created: Windows 8+ `jobTitle`, `jobId`, `jobOwner`, `processPath`, `processId`;
//!   Windows 7 `string` (title), `string2` (owner), `string3`: no job id, so the join goes by
//!   title and says so.
//! - 4 complete, 5 cancelled: `User`, `jobTitle`, `jobId`, `jobOwner`, `fileCount`.
//! - 59 transfer started, 60 stopped, 61 stopped with an error: `transferId`, `name` (title),
//!   `Id` (job id), `url`, `peer`, `fileTime`, `fileLength`, `bytesTotal`,
//!   `bytesTransferred`, and (60, 61) `hr`: the status code.
//! - 63 notify program returned an error, 64 could not be launched (both: BITS will retry):
//!   `Job` (title), `Url`, `Pgm`, `hr`: no job id.
//! - 16403 a file added to the job (its values kept as given: job id, title, names).
//! - Every other event id is kept as a generic event with all its values.

use crate::evtx::{filetime_of, Event, Log};
use crate::util::guid::Guid;

/// The BITS client's provider name.
pub const PROVIDER: &str = "Microsoft-Windows-Bits-Client";

/// What an event says happened to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Created,
    Completed,
    Cancelled,
    TransferStarted,
    TransferStopped,
    TransferError,
    FileAdded,
    NotifyFailed,
    NotifyLaunchFailed,
    Other,
}

impl EventKind {
    fn of(id: u32) -> EventKind {
        match id {
            3 => EventKind::Created,
            4 => EventKind::Completed,
            5 => EventKind::Cancelled,
            59 => EventKind::TransferStarted,
            60 => EventKind::TransferStopped,
            61 => EventKind::TransferError,
            16403 => EventKind::FileAdded,
            63 => EventKind::NotifyFailed,
            64 => EventKind::NotifyLaunchFailed,
            _ => EventKind::Other,
        }
    }

    /// A short phrase for a timeline.
    pub fn label(self) -> &'static str {
        match self {
            EventKind::Created => "job created",
            EventKind::Completed => "job complete",
            EventKind::Cancelled => "job cancelled",
            EventKind::TransferStarted => "transfer started",
            EventKind::TransferStopped => "transfer stopped",
            EventKind::TransferError => "transfer stopped with an error",
            EventKind::FileAdded => "file added",
            EventKind::NotifyFailed => "notify program returned an error (will retry)",
            EventKind::NotifyLaunchFailed => "notify program could not be launched (will retry)",
            EventKind::Other => "event",
        }
    }
}

/// Where an event lies in its log.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct EventPlace {
    /// The record header's number and `System/EventRecordID`.
    pub record: u64,
    pub event_record_id: u64,
    /// Offset and length of the record in the log file.
    pub offset: u64,
    pub length: u64,
}

/// One event of the BITS client's log, its values given their meaning.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BitsEvent {
    pub event_id: u32,
    pub kind: EventKind,
    /// `TimeCreated` as a FILETIME (0 when absent).
    pub time: u64,
    pub place: EventPlace,
    pub computer: String,
    pub user_sid: Option<String>,
    pub job_id: Option<Guid>,
    pub title: Option<String>,
    pub owner: Option<String>,
    /// Event 3 (Windows 8+): the creating process.
    pub process_path: Option<String>,
    pub process_id: Option<u32>,
    pub url: Option<String>,
    /// Events 59/60/61: the remote file's time (FILETIME) and sizes.
    pub file_time: Option<u64>,
    pub bytes_total: Option<u64>,
    pub bytes_transferred: Option<u64>,
    /// Events 60/61/63/64: the status code (HRESULT).
    pub hr: Option<u32>,
    /// Events 63/64: the notify program.
    pub program: Option<String>,
    /// Event 3 from Windows 7: no job id; a join must go by title.
    pub legacy_template: bool,
    /// Every value of the event, as read.
    pub values: Vec<(String, String)>,
}

/// How sure it is that a process was started by the BITS service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BitsHost {
    /// The parent's command line names the service: `svchost.exe -k netsvcs -s BITS`.
    Named,
    /// The parent is the shared `svchost.exe -k netsvcs` (Windows 7 runs BITS there, among
    /// other services): a match needs the job's notify command too.
    SharedNetsvcs,
}

/// A process the BITS service host started (Sysmon 1 or Security 4688): a notify command ran.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProcessRun {
    pub event_id: u32,
    pub provider: String,
    pub time: u64,
    pub place: EventPlace,
    pub image: String,
    pub command_line: String,
    pub parent_image: String,
    pub parent_command_line: String,
    pub process_id: Option<u32>,
    pub user: Option<String>,
    pub host: BitsHost,
}

/// What one log gave: BITS events and process runs, in log order.
#[derive(Debug, Clone, Default)]
pub struct Events {
    pub bits: Vec<BitsEvent>,
    pub runs: Vec<ProcessRun>,
}

/// Decode every BITS event and every process run under the BITS host of a log.
pub fn decode_log(log: &Log) -> Events {
    decode_events(log.events.iter().cloned())
}

/// [`decode_log`] of events given up (their values move into the BITS events, not copied).
pub fn decode_events(events: impl IntoIterator<Item = Event>) -> Events {
    let mut out = Events::default();
    for e in events {
        if e.provider == PROVIDER {
            out.bits.push(decode(e));
        } else if let Some(run) = process_run(&e) {
            out.runs.push(run);
        }
    }
    out
}

fn place(e: &Event) -> EventPlace {
    EventPlace {
        record: e.record_id,
        event_record_id: e.event_record_id,
        offset: e.offset,
        length: e.length,
    }
}

fn first<'e>(e: &'e Event, names: &[&str]) -> Option<&'e str> {
    names
        .iter()
        .find_map(|n| e.get(n))
        .filter(|v| !v.is_empty())
}

fn number(v: Option<&str>) -> Option<u64> {
    let v = v?.trim();
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => v
            .parse::<u64>()
            .ok()
            .or_else(|| v.parse::<i64>().ok().map(|n| n as u64)),
    }
}

/// One BITS client event.
pub fn decode(e: Event) -> BitsEvent {
    let mut event = decode_ref(&e);
    event.values = e.data;
    event
}

/// One BITS client event, all but its values.
fn decode_ref(e: &Event) -> BitsEvent {
    let kind = EventKind::of(e.event_id);
    let legacy =
        kind == EventKind::Created && e.get("jobId").is_none() && e.get("string").is_some();
    let (title, owner) = if legacy {
        (first(e, &["string"]), first(e, &["string2"]))
    } else {
        (
            first(e, &["jobTitle", "name", "Job", "jobName"]),
            first(e, &["jobOwner", "owner"]),
        )
    };
    BitsEvent {
        event_id: e.event_id,
        kind,
        time: filetime_of(&e.time_created).unwrap_or(0),
        place: place(e),
        computer: e.computer.clone(),
        user_sid: e.user_sid.clone(),
        job_id: first(e, &["jobId", "Id", "jobGuid", "JobId"]).and_then(Guid::parse),
        title: title.map(str::to_string),
        owner: owner.map(str::to_string),
        process_path: first(e, &["processPath"]).map(str::to_string),
        process_id: number(first(e, &["processId"])).and_then(|n| u32::try_from(n).ok()),
        url: first(e, &["url", "Url", "RemoteName", "remoteName"]).map(str::to_string),
        file_time: first(e, &["fileTime"]).and_then(filetime_of),
        bytes_total: number(first(e, &["bytesTotal"])),
        bytes_transferred: number(first(e, &["bytesTransferred"])),
        hr: number(first(e, &["hr"])).map(|n| n as u32),
        program: first(e, &["Pgm"]).map(str::to_string),
        legacy_template: legacy,
        values: Vec::new(),
    }
}

/// The file name of a Windows path, lower-cased.
fn base_name(path: &str) -> String {
    path.rsplit(['\\', '/'])
        .next()
        .unwrap_or(path)
        .to_lowercase()
}

/// A Sysmon 1 or Security 4688 process creation whose parent is the BITS service host.
fn process_run(e: &Event) -> Option<ProcessRun> {
    let (image, command_line, parent_image, parent_command_line, pid, user) =
        match (e.provider.as_str(), e.event_id) {
            ("Microsoft-Windows-Sysmon", 1) => (
                e.get("Image")?,
                e.get("CommandLine").unwrap_or(""),
                e.get("ParentImage")?,
                e.get("ParentCommandLine").unwrap_or(""),
                e.get("ProcessId"),
                e.get("User"),
            ),
            ("Microsoft-Windows-Security-Auditing", 4688) => (
                e.get("NewProcessName")?,
                e.get("CommandLine").unwrap_or(""),
                e.get("ParentProcessName")?,
                "",
                e.get("NewProcessId"),
                e.get("SubjectUserName"),
            ),
            _ => return None,
        };
    if base_name(parent_image) != "svchost.exe" {
        return None;
    }
    let parent = parent_command_line.to_lowercase();
    let words: Vec<&str> = parent.split_whitespace().collect();
    let has = |a: &str, b: &str| {
        words
            .windows(2)
            .any(|w| matches!(w, [x, y] if *x == a && *y == b))
    };
    let host = if has("-s", "bits") {
        BitsHost::Named
    } else if has("-k", "netsvcs") {
        BitsHost::SharedNetsvcs
    } else {
        return None;
    };
    Some(ProcessRun {
        event_id: e.event_id,
        provider: e.provider.clone(),
        time: filetime_of(&e.time_created).unwrap_or(0),
        place: place(e),
        image: image.to_string(),
        command_line: command_line.to_string(),
        parent_image: parent_image.to_string(),
        parent_command_line: parent_command_line.to_string(),
        process_id: number(pid).and_then(|n| u32::try_from(n).ok()),
        user: user.map(str::to_string),
        host,
    })
}

/// Whether a process run is a job's notify command: the image's file name is the notify
/// program's, or the command line holds the job's notify arguments.
pub fn runs_notify(run: &ProcessRun, program: &str, args: &str) -> bool {
    let program = program.trim().trim_matches('"');
    if program.is_empty() {
        return false;
    }
    let same_image = base_name(&run.image) == base_name(program);
    let args = args.trim();
    let cmd = run.command_line.to_lowercase();
    same_image && (args.is_empty() || cmd.contains(&args.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_of_every_form() {
        assert_eq!(number(Some("0x80190194")), Some(0x8019_0194));
        assert_eq!(number(Some("-2145844844")), Some((-2145844844i64) as u64));
        assert_eq!(number(Some("12")), Some(12));
        assert_eq!(number(Some("x")), None);
    }
}
