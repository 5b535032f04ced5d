//! The BITS job record: the Win10+ `Jobs.Blob` of qmgr.db, and the job body that the legacy queue
//! (qmgr0.dat / qmgr1.dat) shares with it.
//!
//! # Layout
//!
//! Fields follow each other with no alignment, all little-endian. A *counted string* is a u32 N of
//! UTF-16 code units including the terminating NUL, then 2·N bytes (empty = N 1; N 0 = no string).
//! Offsets below are those of `blobs/win10/job.raw` (2,055 bytes, "Chrome Component Updater");
//! after the first counted string they shift with string lengths.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0x000 | 16 | job marker (one of [`JOB_MARKERS`]); the same 16 bytes close the blob |
//! | 0x010 | 4 | job type as ANSSI bits_parser and BitsParser read it (`type_at_16`) |
//! | 0x014 | 4 | priority: 0 foreground, 1 high, 2 normal, 3 low |
//! | 0x018 | 4 | state: 0 queued … 6 transferred, 7 acknowledged, 8 cancelled |
//! | 0x01c | 4 | job type as dissect.target and artemis read it (`type_at_28`); *unresolved*, both kept |
//! | 0x020 | 16 | job id, Windows `GUID` layout |
//! | 0x030 | 4+50 | display name |
//! | 0x066 | 4+152 | description |
//! | 0x102 | 4+2 | notify command line |
//! | 0x108 | 4+2 | notify arguments |
//! | 0x10e | 4+92 | owner SID, as text |
//! | 0x16e | 4 | notify flags (BG_NOTIFY bits) |
//! | 0x172 | 20 | security area header: five u32 of unknown meaning (0, 0x2000, 1, 1, 0x48386df2) |
//! | 0x186 | 4 | security descriptor length (1,220) |
//! | 0x18a | 1220 | self-relative security descriptor (kept as a byte range; `security.rs` decodes it) |
//! | 0x64e | 16 | XFER marker `36DA5677…` |
//! | 0x65e | 4 | file count n |
//! | 0x662 | 16·n | file GUIDs (each a `Files.Id`). Legacy queues hold full file records here instead |
//! | 0x672 | 16 | XFER marker again |
//! | 0x682 | 4 | error count, then the error entries (*unresolved* size, see [`ErrorLayout`]) |
//! | 0x686 | 4 | transient error count |
//! | 0x68a | 4 | retry delay, seconds (60) |
//! | 0x68e | 4 | no-progress timeout, seconds (86,400) |
//! | 0x692 | 8 | created FILETIME |
//! | 0x69a | 8 | modified FILETIME |
//! | 0x6a2 | 8 | second modification FILETIME (artemis prints it as "completed") |
//! | 0x6aa | 8 | transfer-completed FILETIME: 0 in every queued, suspended or error job sampled |
//! | 0x6b2 | 1 | unknown (0 in every sample) |
//! | 0x6b3 | 4 | `notified`: 0 queued/suspended, 1 transferred, 2 error in the samples |
//! | 0x6b7 | 1+16 | flag 1, then expiration base (= modified) and expiration (= base + 90 days) |
//! | 0x6c8 | 3×(1[+16]) | three optional FILETIME pairs, each a flag byte then two FILETIMEs when set |
//! | 0x6cb | … | proxy settings, custom headers, settings block, client section, client path, HTTP verb, trailer, closing marker: see `tail.rs` |
//!
//! The legacy job (see `legacy.rs`) has the same layout up to and including the custom headers
//! and the settings block as far as it goes; what follows is kept as a trailer up to the
//! closing job delimiter.

use crate::bits::file::{self, FileRecord};
use crate::bits::reader::{bytes_at, find_in_record, note_next_marker, Reader};
pub use crate::bits::reader::{DecodeError, Field};
use crate::bits::tail;
use crate::util::bytes::Cursor;
use crate::util::guid::Guid;
use crate::util::time::filetime_iso;

/// The Win10+ job markers (stored bytes). The labels for four of them come from dissect.target's
/// notes; the other four are known only as markers seen in the wild.
pub const JOB_MARKERS: [([u8; 16], &str); 8] = [
    (
        hex16(b"A15609E143AFC94292E66F9856EBA7F6"),
        "download job (BITS 10.3.2)",
    ),
    (
        hex16(b"D057568F2C013E4EAD2CF4A5D7656FAF"),
        "upload job (BITS 10.3.2)",
    ),
    (
        hex16(b"385C71031F28CA4098139DE91A5A84D1"),
        "download job (BITS 10.3.1)",
    ),
    (
        hex16(b"D81ED368D534E14F892394ABCBF4C1CF"),
        "upload job (BITS 10.3.0)",
    ),
    (hex16(b"9F95D44C6470F24B84D7476A7E62699F"), "job"),
    (hex16(b"F11926A93203BF4C9427898818958831"), "job"),
    (hex16(b"C133BCDDFB5AAF4DB8A12268B39D01AD"), "job"),
    (hex16(b"5067419457031D46A4CC5DD9990706E4"), "job"),
];

/// The XFER marker that brackets the file list of a job.
pub const XFER_MARKER: [u8; 16] = hex16(b"36DA56776F515A43ACAC44A248FFF34D");

/// The legacy job delimiters, one per BITS version; each opens and closes a job.
pub const JOB_DELIMITERS: [([u8; 16], &str); 5] = [
    (hex16(b"93362035A00C104A84F3B17E7B499CD7"), "Windows 7"),
    (hex16(b"101370C83653B34183E581557F361B87"), "legacy v2"),
    (hex16(b"8C93EA64030F6840B46FF97FE51D4DCD"), "legacy v3"),
    (
        hex16(b"B346ED3D3B10F944BC2FE8378BD31986"),
        "early Windows 10 (legacy format)",
    ),
    (hex16(b"74E70C81D2BBCC489E47862E8D58F3C6"), "Windows XP x64"),
];

/// Longest counted string accepted, in UTF-16 units. Paths and URLs stay far below it; a larger
/// count means the bytes are not a string.
pub use crate::bits::reader::MAX_STRING_UNITS;
/// Most error entries a job can claim before the count is treated as corrupt.
const MAX_ERRORS: u32 = 1024;
/// Most file GUIDs (or legacy file records) a job can claim.
const MAX_FILES: u32 = 65_536;
/// Largest security descriptor accepted.
const MAX_BLOB: u32 = 1 << 20;
/// FILETIMEs from 1990-01-01 to 2100-01-01: the range that decides between error-entry readings.
const FILETIME_MIN: u64 = 122_756_256_000_000_000;
const FILETIME_MAX: u64 = 157_469_184_000_000_000;

/// The two published error-entry layouts (FORMATS §3 item 8). Which one a job uses is told by
/// its version: Win10+ blobs use the 21-byte entry (every real entry sampled, Win10 22H2 and
/// Win11 21H2, fits it and nothing else), the legacy queue ANSSI's 25 bytes (read from Win7-era
/// queues; no legacy entry with an error is at hand). The other layout is tried only when the
/// version's leaves implausible times after it, and the record then says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorLayout {
    /// ANSSI bits_parser: 25 bytes each (u64 code, four u32, one byte).
    Fixed25,
    /// dissect.target: 21 bytes (five u32, a flag byte), then a counted string when the flag is set.
    Var21,
}

/// One entry of the job's error list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    pub offset: usize,
    pub len: usize,
    /// The u32 words: 5 ([`ErrorLayout::Var21`]) or 6 ([`ErrorLayout::Fixed25`]). The real
    /// entries sampled hold 0, the HRESULT (0x80072EE7, 0x80190191, 0x80190194), 1, 5, then 3
    /// or 4.
    pub words: Vec<u32>,
    /// The byte after the words; under `Var21` a non-zero value announces `text`.
    pub flag: u8,
    pub text: Option<String>,
}

impl JobError {
    /// The HRESULT: the high half of ANSSI's u64 "code", i.e. the second word.
    pub fn hresult(&self) -> Option<u32> {
        self.words.get(1).copied()
    }

    /// The BG_ERROR_CONTEXT, read from the fourth word: 5 (`BG_ERROR_CONTEXT_REMOTE_FILE`) in
    /// every real entry, each of them an error about the remote file (name not resolved,
    /// HTTP 401, HTTP 404). The 25-byte entry is read the same way by analogy.
    pub fn context(&self) -> Option<u32> {
        self.words.get(3).copied()
    }
}

/// The BG_ERROR_CONTEXT names (bits.h).
pub fn error_context_name(v: u32) -> &'static str {
    match v {
        0 => "none",
        1 => "unknown",
        2 => "general queue manager",
        3 => "queue manager notification",
        4 => "local file",
        5 => "remote file",
        6 => "general transport",
        7 => "remote application",
        8 => "server certificate callback",
        _ => "unknown context",
    }
}

/// What the byte after the client GUID announces (see `tail.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientIdentity {
    /// Kind byte 1: a GUID (in every sample the client GUID again). Every job of Win10 22H2
    /// and Win11 21H2, and those of Win11 24H2 made by a program that is not a packaged app.
    Guid(Guid),
    /// Kind byte 0 (Win11 24H2, jobs made by a packaged app): the client's package identity.
    Package(Package),
}

/// A packaged client's identity (Win11 24H2), each item present when its flag byte is 1.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Package {
    /// The package family name, e.g. `Microsoft.OutlookForWindows_8wekyb3d8bbwe`.
    pub family_name: Option<String>,
    /// The application id as stored, with its leading `!` (family name + it = the AUMID).
    pub app_id: Option<String>,
    /// The u32 before the GUID (0x25 in every sample; meaning unknown).
    pub word: Option<u32>,
    /// The GUID (the client GUID again in every sample).
    pub guid: Option<Guid>,
}

/// A decoded job. Everything after the 48-byte header is optional: a cut or damaged blob still
/// yields what precedes the damage, and `stopped` says where and why decoding ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobRecord {
    /// The marker (Win10+) or delimiter (legacy) that opens the job.
    pub marker: Guid,
    /// What the marker is known as (e.g. "download job (BITS 10.3.2)", "Windows 7").
    pub marker_label: &'static str,
    /// Offset of the marker in the buffer (16 when a second marker followed a first one).
    pub marker_offset: usize,
    /// Job type read at marker+0 (ANSSI, BitsParser). See [`JobRecord::job_type`].
    pub type_at_16: u32,
    pub priority: u32,
    pub state: u32,
    /// Job type read at marker+12 (dissect.target, artemis).
    pub type_at_28: u32,
    pub job_id: Guid,
    pub name: Option<String>,
    pub description: Option<String>,
    pub notify_command: Option<String>,
    pub notify_arguments: Option<String>,
    pub owner_sid: Option<String>,
    pub notify_flags: Option<u32>,
    /// The security area (from after the notify flags up to the XFER marker): offset, length.
    pub security_area: Option<(usize, usize)>,
    /// The security descriptor inside it: offset, length.
    pub security_descriptor: Option<(usize, usize)>,
    /// The file count of the XFER section.
    pub file_count: Option<u32>,
    /// Win10+: the file GUIDs (each a `Files.Id`). Legacy jobs carry full records instead.
    pub file_ids: Vec<Guid>,
    pub error_count: Option<u32>,
    pub errors: Vec<JobError>,
    pub error_layout: Option<ErrorLayout>,
    pub transient_error_count: Option<u32>,
    /// Seconds.
    pub retry_delay: Option<u32>,
    /// Seconds.
    pub no_progress_timeout: Option<u32>,
    /// FILETIMEs, raw (0 stays 0: "not set").
    pub created: Option<u64>,
    pub modified: Option<u64>,
    pub modified2: Option<u64>,
    pub completed: Option<u64>,
    /// The u32 after the times (0 queued/suspended, 1 transferred, 2 error in the samples).
    pub notified: Option<u32>,
    /// The FILETIME the expiration counts from (equal to `modified` in every sample).
    pub expiration_base: Option<u64>,
    pub expiration: Option<u64>,
    /// Three optional FILETIME pairs after the expiration; set only on jobs that met errors.
    pub time_pairs: [Option<(u64, u64)>; 3],
    /// BG_JOB_PROXY_USAGE: 0 preconfig, 1 no proxy, 2 override, 3 autodetect.
    pub proxy_usage: Option<u32>,
    pub proxy_list: Option<String>,
    pub proxy_bypass: Option<String>,
    /// The DPAPI-protected custom HTTP headers ("BITS Job Custom headers"): offset, length.
    pub custom_headers: Option<(usize, usize)>,
    /// The u64 before the DPAPI blob: the headers' plain size in bytes (104 in a sampled job
    /// whose encrypted data is 112 bytes: 104 padded to the AES block).
    pub custom_headers_size: Option<u64>,
    /// IBackgroundCopyJobHttpOptions security flags (BG_SSL_*, BG_HTTP_REDIRECT_POLICY_*).
    pub security_flags: Option<u32>,
    /// Seconds (7,776,000 = 90 days in the samples).
    pub max_download_time: Option<u32>,
    /// BITS_COST_STATE bits (e.g. 0x80000067 = transfer standard).
    pub cost_flags: Option<u32>,
    /// Win10+ client section: a flag byte of unknown meaning and a GUID constant across a
    /// machine's jobs (meaning unknown), then what the kind byte announces.
    pub client_flag: Option<u8>,
    pub client_guid: Option<Guid>,
    pub identity: Option<ClientIdentity>,
    /// The path of the program that made the job (artemis's `target_path`): `chrome.exe` for
    /// "Chrome Component Updater", `msedgewebview2.exe` for Outlook's job; set while the
    /// notify command is empty, so it is not a notify program.
    pub client_path: Option<String>,
    pub http_method: Option<String>,
    /// SID strings found among `trailer_strings` (none in any sample).
    pub additional_sids: Vec<String>,
    /// Counted strings found in the trailer (e.g. "Schedule"): offset, text.
    pub trailer_strings: Vec<(usize, String)>,
    /// The bytes between the last decoded field and the closing marker: offset, length.
    pub trailer: Option<(usize, usize)>,
    /// Every field read: name, offset, length.
    pub fields: Vec<Field>,
    pub warnings: Vec<String>,
    /// Where and why decoding stopped short of the closing marker.
    pub stopped: Option<DecodeError>,
    /// The closing marker (or delimiter) was found.
    pub closed: bool,
    /// Bytes from `marker_offset`'s buffer start consumed, including the closing marker when found.
    pub len: usize,
    /// Runs of bytes of unknown meaning that differ from what every sample holds (offset,
    /// length): the bytes are kept, not guessed at.
    pub unknown: Vec<(usize, usize)>,
    /// Every range read but not decoded into a value (offset, length), whatever its bytes:
    /// the security area header, the byte after the times, the settings words of unknown
    /// meaning, the 2-, 42- and 21-byte runs, the four words after the client path, the
    /// trailer. The fields no source or sample places (maximum download size, client
    /// certificate, credential targets, an upload-reply job's reply file and GUID), if a job
    /// holds them, lie in these ranges or in the trailer: the bytes are kept, not guessed at.
    pub undecoded: Vec<(usize, usize)>,
    /// When the blob opens with two job markers: the label of the first (the header is read
    /// after the second).
    pub leading_marker: Option<&'static str>,
}

impl JobRecord {
    /// The undecoded ranges as fields (for bounds checks and hex views).
    pub fn undecoded_fields(&self) -> Vec<Field> {
        self.undecoded
            .iter()
            .map(|&(o, n)| ("undecoded", o, n))
            .collect()
    }

    /// The job type when both readings agree; `None` when they differ (see the warnings).
    pub fn job_type(&self) -> Option<u32> {
        (self.type_at_16 == self.type_at_28).then_some(self.type_at_16)
    }

    /// A FILETIME field as ISO-8601 UTC, empty when absent or zero.
    pub fn iso(ft: Option<u64>) -> String {
        ft.map(filetime_iso).unwrap_or_default()
    }

    /// Make every offset relative to `start` instead of to the buffer decoded: a job decoded
    /// inside a whole queue file becomes the same record as one decoded from its own bytes.
    pub fn rebase(&mut self, start: usize) {
        let at = |o: &mut usize| *o = o.saturating_sub(start);
        let range = |r: &mut Option<(usize, usize)>| {
            if let Some((o, _)) = r.as_mut() {
                *o = o.saturating_sub(start);
            }
        };
        at(&mut self.marker_offset);
        range(&mut self.security_area);
        range(&mut self.security_descriptor);
        range(&mut self.custom_headers);
        range(&mut self.trailer);
        for (o, _) in &mut self.trailer_strings {
            at(o);
        }
        for (_, o, _) in &mut self.fields {
            at(o);
        }
        for (o, _) in &mut self.unknown {
            at(o);
        }
        for (o, _) in &mut self.undecoded {
            at(o);
        }
        for e in &mut self.errors {
            at(&mut e.offset);
        }
    }
}

/// Decode a Win10+ job blob (`Jobs.Blob`) that starts with a job marker.
///
/// Errors only when there is no job at all: no known marker at offset 0, or fewer than the 48
/// bytes of marker, four words and job id. Anything after that is decoded as far as it goes.
pub fn decode_job_blob(buf: &[u8]) -> Result<JobRecord, DecodeError> {
    decode_job_at(buf, 0, Flavor::Ese).map(|(job, _)| job)
}

/// A job marker name, if these 16 bytes are one.
pub fn job_marker_label(b: &[u8]) -> Option<&'static str> {
    JOB_MARKERS
        .iter()
        .find(|(m, _)| b.get(..16) == Some(&m[..]))
        .map(|(_, l)| *l)
}

/// A legacy job delimiter name, if these 16 bytes are one.
pub fn job_delimiter_label(b: &[u8]) -> Option<&'static str> {
    JOB_DELIMITERS
        .iter()
        .find(|(m, _)| b.get(..16) == Some(&m[..]))
        .map(|(_, l)| *l)
}

pub fn type_name(v: u32) -> &'static str {
    match v {
        0 => "download",
        1 => "upload",
        2 => "upload-reply",
        _ => "unknown",
    }
}

pub fn priority_name(v: u32) -> &'static str {
    match v {
        0 => "foreground",
        1 => "high",
        2 => "normal",
        3 => "low",
        _ => "unknown",
    }
}

pub fn state_name(v: u32) -> &'static str {
    match v {
        0 => "queued",
        1 => "connecting",
        2 => "transferring",
        3 => "suspended",
        4 => "error",
        5 => "transient error",
        6 => "transferred",
        7 => "acknowledged",
        8 => "cancelled",
        _ => "unknown",
    }
}

/// Every BG_NOTIFY bit set, by name (all of them, unlike artemis which keeps one).
pub fn notify_flag_names(flags: u32) -> Vec<&'static str> {
    const BITS: [(u32, &str); 6] = [
        (0x01, "job transferred"),
        (0x02, "job error"),
        (0x04, "disable"),
        (0x08, "job modification"),
        (0x10, "file transferred"),
        (0x20, "file ranges transferred"),
    ];
    BITS.iter()
        .filter(|(b, _)| flags & b != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// Which container the job comes from: the ESE blob or the legacy queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Ese,
    Legacy,
}

/// Decode the job that starts at `start` in `buf`. Offsets in the result are offsets in `buf`;
/// `len` counts from `start`. Legacy jobs also return their file records.
pub(crate) fn decode_job_at(
    buf: &[u8],
    start: usize,
    flavor: Flavor,
) -> Result<(JobRecord, Vec<FileRecord>), DecodeError> {
    let head = bytes_at(buf, start, 16, "job marker")?;
    let mut job = JobRecord::default();
    let mut marker_at = start;
    let label = match flavor {
        Flavor::Ese => job_marker_label(head),
        Flavor::Legacy => job_delimiter_label(head),
    };
    let Some(mut label) = label else {
        return Err(DecodeError::BadMarker {
            what: "job marker",
            offset: start,
        });
    };
    // dissect.target notes that some (upload) blobs carry two markers; the second one is the
    // real start of the header, so skip the first when a second follows it.
    if flavor == Flavor::Ese {
        let next_at = start.checked_add(16);
        let next = next_at
            .and_then(|o| buf.get(o..))
            .and_then(job_marker_label);
        if let (Some(at), Some(l)) = (next_at, next) {
            job.warnings.push(format!(
                "two job markers in a row at {start}; the header is read after the second"
            ));
            job.leading_marker = Some(label);
            marker_at = at;
            label = l;
        }
    }
    let mut r = Reader::new(buf, marker_at);
    job.marker = Guid(r.array("job marker")?);
    job.marker_label = label;
    job.marker_offset = marker_at;
    job.type_at_16 = r.u32("type (ANSSI reading)")?;
    job.priority = r.u32("priority")?;
    job.state = r.u32("state")?;
    job.type_at_28 = r.u32("type (dissect.target reading)")?;
    job.job_id = Guid(r.array("job id")?);
    if job.type_at_16 != job.type_at_28 {
        r.warn(format!(
            "job type unresolved: the word at +16 reads {} ({}), the word at +28 reads {} ({})",
            job.type_at_16,
            type_name(job.type_at_16),
            job.type_at_28,
            type_name(job.type_at_28)
        ));
    }
    if job.priority > 3 || job.state > 8 || job.type_at_16 > 2 {
        r.warn(format!(
            "header values out of range (priority {}, state {}, type {}): probably not a job",
            job.priority, job.state, job.type_at_16
        ));
    }

    let mut files = Vec::new();
    let outcome = decode_body(&mut r, &mut job, &mut files, flavor);
    let marker = job.marker.0;
    match outcome {
        Ok(()) if r.peek(&marker) => {
            r.array::<16>("closing marker")?;
            job.closed = true;
        }
        outcome => {
            let e = outcome.err().unwrap_or(DecodeError::Missing {
                what: "closing marker",
                offset: r.pos(),
            });
            r.warn(format!("decoding stopped: {e}"));
            job.stopped = Some(e);
            note_next_marker(&mut r, &marker);
        }
    }
    job.len = r.pos().saturating_sub(start);
    job.fields = std::mem::take(&mut r.fields);
    job.warnings.append(&mut r.warnings);
    job.unknown = std::mem::take(&mut r.unknown);
    job.undecoded = std::mem::take(&mut r.undecoded);
    if let Some(w) = not_decoded_warning(&job) {
        job.warnings.push(w);
    }
    Ok((job, files))
}

/// Everything after the job id, in order; stops at the first field that cannot be read.
fn decode_body(
    r: &mut Reader<'_>,
    job: &mut JobRecord,
    files: &mut Vec<FileRecord>,
    flavor: Flavor,
) -> Result<(), DecodeError> {
    job.name = Some(r.string("name")?);
    job.description = Some(r.string("description")?);
    job.notify_command = Some(r.string("notify command")?);
    job.notify_arguments = Some(r.string("notify arguments")?);
    let sid = r.string("owner SID")?;
    if !sid.starts_with("S-1-") {
        r.warn(format!("owner SID {sid:?} does not look like a SID"));
    }
    job.owner_sid = Some(sid);
    job.notify_flags = Some(r.u32("notify flags")?);

    decode_security_area(r, job)?;

    // XFER: file count, then the GUIDs (Win10+) or the full records (legacy), then XFER again.
    r.marker("XFER marker", &XFER_MARKER)?;
    let count_at = r.pos();
    let count = r.u32("file count")?;
    job.file_count = Some(count);
    match flavor {
        Flavor::Ese => {
            r.check_count("file count", count_at, count, MAX_FILES, 16)?;
            for _ in 0..count {
                job.file_ids.push(Guid(r.array("file id")?));
            }
            r.marker("XFER marker", &XFER_MARKER)?;
        }
        Flavor::Legacy => {
            // The smallest legacy file record is well over 64 bytes.
            r.check_count("file count", count_at, count, MAX_FILES, 64)?;
            decode_legacy_files(r, count, files, &job.marker.0)?;
        }
    }

    decode_errors(r, job, flavor)?;
    job.transient_error_count = Some(r.u32("transient error count")?);
    job.retry_delay = Some(r.u32("retry delay")?);
    job.no_progress_timeout = Some(r.u32("no-progress timeout")?);
    job.created = Some(r.u64("created")?);
    job.modified = Some(r.u64("modified")?);
    job.modified2 = Some(r.u64("modified (second)")?);
    job.completed = Some(r.u64("completed")?);
    r.undecoded("unknown byte", 1)?;
    job.notified = Some(r.u32("notified")?);
    if let Some((base, exp)) = r.time_pair("expiration")? {
        job.expiration_base = Some(base);
        job.expiration = Some(exp);
    } else {
        r.warn("no expiration time (its flag byte is 0)".to_string());
    }
    for slot in job.time_pairs.iter_mut() {
        *slot = r.time_pair("optional time pair")?;
    }
    tail::decode_tail(r, job, flavor)
}

/// The one warning of an upload or upload-reply job: it has settings a download job lacks
/// (an upload-reply job's reply file and reply GUID) that no public source or sample places,
/// so they are not decoded; its bytes are kept in `undecoded` (and `unknown` where they differ
/// from every sample), nothing is guessed from them. The fields no job's bytes are known to
/// place (maximum download size, client certificate, credential targets) are listed in every
/// record's `missing_fields` instead of warned about in each.
fn not_decoded_warning(job: &JobRecord) -> Option<String> {
    let kind = [job.type_at_16, job.type_at_28]
        .into_iter()
        .filter(|&t| t == 1 || t == 2)
        .max()?;
    let what = if kind == 2 {
        "its reply file and reply GUID"
    } else {
        "its upload settings"
    };
    Some(format!(
        "{} job: {what} are not decoded (no public source or sample places them); the {} ranges not decoded are kept as bytes (undecoded)",
        type_name(kind),
        job.undecoded.len()
    ))
}

/// The security area: five unknown u32, the descriptor length, the descriptor; the XFER marker
/// is expected right after it (it is in every sample, with no padding).
fn decode_security_area(r: &mut Reader<'_>, job: &mut JobRecord) -> Result<(), DecodeError> {
    let area = r.pos();
    let parsed = (|| {
        r.undecoded("security area header", 20)?;
        let len_at = r.pos();
        let len = r.u32("security descriptor length")?;
        r.check_count("security descriptor length", len_at, len, MAX_BLOB, 1)?;
        let at = r.pos();
        let sd = r.take("security descriptor", len as usize)?;
        Ok::<_, DecodeError>((at, sd))
    })();
    match parsed {
        Ok((at, sd)) if r.peek(&XFER_MARKER) => {
            if sd.first() != Some(&1) {
                r.warn(format!(
                    "security descriptor at {at} has revision {:?}, not 1",
                    sd.first()
                ));
            }
            job.security_descriptor = Some((at, sd.len()));
        }
        parsed => {
            // Not the layout of the samples: the descriptor range is unknown, but the XFER
            // marker still tells where the area ends.
            let Some(xfer) = find_in_record(r.buf, &XFER_MARKER, area, &job.marker.0) else {
                return Err(parsed.err().unwrap_or(DecodeError::Missing {
                    what: "XFER marker",
                    offset: area,
                }));
            };
            r.warn(format!(
                "security area at {area} does not follow the sampled layout; resumed at the XFER marker found at {xfer}"
            ));
            // The whole area is kept as bytes: no part of it was decoded.
            let len = xfer.saturating_sub(area); // found at or after `area`
            r.undecoded.retain(|(o, _)| *o < area);
            r.undecoded.push((area, len));
            r.fields.retain(|(_, o, _)| *o < area);
            r.fields.push(("security area (unknown layout)", area, len));
            r.seek(xfer);
        }
    }
    // Read forward from `area`, or resumed at an XFER marker found after it.
    job.security_area = Some((area, r.pos().saturating_sub(area)));
    Ok(())
}

/// The legacy XFER section's file records, then the closing XFER marker.
fn decode_legacy_files(
    r: &mut Reader<'_>,
    count: u32,
    files: &mut Vec<FileRecord>,
    marker: &[u8; 16],
) -> Result<(), DecodeError> {
    for i in 0..count {
        let at = r.pos();
        let (rec, end) = match file::parse_legacy_file_at(r.buf, at) {
            Ok(x) => x,
            Err(e) => {
                r.warn(format!("file record {i} at {at}: {e}"));
                break;
            }
        };
        let whole = rec.stopped.is_none();
        files.push(rec);
        r.seek(end);
        if !whole {
            r.warn(format!(
                "file record {i} at {at} was not fully decoded; the rest of the file list is skipped"
            ));
            break;
        }
    }
    if !r.peek(&XFER_MARKER) {
        let from = r.pos();
        let Some(at) = find_in_record(r.buf, &XFER_MARKER, from, marker) else {
            return Err(DecodeError::Missing {
                what: "XFER marker after the file records",
                offset: from,
            });
        };
        r.warn(format!(
            "file list does not end where its records do ({from}); resumed at the XFER marker found at {at}"
        ));
        r.seek(at);
    }
    r.marker("XFER marker", &XFER_MARKER)
}

/// The error count and entries, in the layout of the job's version (see [`ErrorLayout`]). The
/// other layout is taken only when the version's leaves implausible times after it and the
/// other's does not; the record says so.
fn decode_errors(
    r: &mut Reader<'_>,
    job: &mut JobRecord,
    flavor: Flavor,
) -> Result<(), DecodeError> {
    let count_at = r.pos();
    let count = r.u32("error count")?;
    job.error_count = Some(count);
    if count == 0 {
        return Ok(());
    }
    r.check_count("error count", count_at, count, MAX_ERRORS, 21)?;
    let start = r.pos();
    let (own, other) = match flavor {
        Flavor::Ese => (ErrorLayout::Var21, ErrorLayout::Fixed25),
        Flavor::Legacy => (ErrorLayout::Fixed25, ErrorLayout::Var21),
    };
    let plausible = |x: &Result<(Reader, Vec<JobError>), DecodeError>| match x {
        Ok((sub, _)) => times_plausible(r.buf, sub.pos()),
        Err(_) => false,
    };
    let mut layout = own;
    let mut chosen = read_errors(r.buf, start, count, own);
    if !plausible(&chosen) {
        let alt = read_errors(r.buf, start, count, other);
        if plausible(&alt) {
            r.warn(format!(
                "error entries at {start}: the {} layout of this version leaves implausible times after it, the {} layout does not: kept the latter",
                layout_name(own),
                layout_name(other)
            ));
            layout = other;
            chosen = alt;
        }
    }
    let (mut sub, entries) = chosen?;
    if layout == ErrorLayout::Fixed25 {
        r.warn(format!(
            "error entries at {start} read as ANSSI's 25 bytes: the code and context are placed as in the sampled 21-byte entries (no 25-byte entry is sampled)"
        ));
    }
    r.fields.append(&mut sub.fields);
    r.warnings.append(&mut sub.warnings);
    r.seek(sub.pos());
    job.errors = entries;
    job.error_layout = Some(layout);
    Ok(())
}

fn layout_name(l: ErrorLayout) -> &'static str {
    match l {
        ErrorLayout::Var21 => "21-byte",
        ErrorLayout::Fixed25 => "25-byte",
    }
}

fn read_errors(
    buf: &[u8],
    start: usize,
    count: u32,
    layout: ErrorLayout,
) -> Result<(Reader<'_>, Vec<JobError>), DecodeError> {
    let mut r = Reader::new(buf, start);
    let mut out = Vec::new();
    for _ in 0..count {
        let offset = r.pos();
        let n = if layout == ErrorLayout::Var21 { 5 } else { 6 };
        let mut words = Vec::with_capacity(n);
        for _ in 0..n {
            words.push(r.u32("error entry word")?);
        }
        let flag = r.u8("error entry flag")?;
        let text = if layout == ErrorLayout::Var21 && flag != 0 {
            Some(r.string("error entry text")?)
        } else {
            None
        };
        out.push(JobError {
            offset,
            len: r.pos().saturating_sub(offset), // read forward from `offset`
            words,
            flag,
            text,
        });
    }
    Ok((r, out))
}

/// True when, at `at` (just after the error entries), transient count, retry delay and timeout
/// are followed by creation and modification FILETIMEs in 1990..2100, in order.
fn times_plausible(buf: &[u8], at: usize) -> bool {
    let mut c = Cursor::at(buf, at);
    let (Some(_), Some(created), Some(modified)) = (c.skip(12), c.u64(), c.u64()) else {
        return false;
    };
    let ok = |t: u64| (FILETIME_MIN..FILETIME_MAX).contains(&t);
    ok(created) && ok(modified) && created <= modified
}

/// 32 hex digits to 16 bytes, at compile time.
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "evaluated at compile time only (the marker constants): a bad index fails the build"
)]
const fn hex16(s: &[u8; 32]) -> [u8; 16] {
    const fn nib(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => 0,
        }
    }
    let mut out = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        out[i] = (nib(s[2 * i]) << 4) | nib(s[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Sample loading and fuzzing helpers shared by the bits tests.
    use std::path::PathBuf;

    /// A sample from `$BITSCOPE_SAMPLES` or `../shared/samples`; `None` (with a SKIP notice) when
    /// absent, but a panic under CI=true, where the samples must be there.
    pub(crate) fn sample(rel: &str) -> Option<Vec<u8>> {
        let base = std::env::var_os("BITSCOPE_SAMPLES")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/samples"));
        let path = base.join(rel);
        match std::fs::read(&path) {
            Ok(b) => Some(b),
            Err(e) => {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("sample {} missing under CI: {e}", path.display());
                }
                eprintln!("SKIP: sample {} not found ({e})", path.display());
                None
            }
        }
    }

    pub(crate) use crate::util::rng::Rng;

    /// A copy of `base` with a few random changes: byte flips, large counts written over a u32,
    /// a cut, or a duplicated stretch.
    pub(crate) fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
        let mut b = base.to_vec();
        for _ in 0..1 + rng.index(4) {
            let len = b.len();
            match rng.index(5) {
                0 | 1 => {
                    if len > 0 {
                        let i = rng.index(len);
                        b[i] = rng.next_u64() as u8;
                    }
                }
                2 => {
                    if len >= 4 {
                        let i = rng.index(len - 3);
                        let v: u32 = match rng.index(4) {
                            0 => u32::MAX,
                            1 => 0x8000_0000,
                            2 => rng.next_u64() as u32 % 0x1_0000,
                            _ => 0,
                        };
                        b[i..i + 4].copy_from_slice(&v.to_le_bytes());
                    }
                }
                3 => b.truncate(rng.index(len + 1)),
                _ => {
                    if len > 0 {
                        let i = rng.index(len);
                        let n = rng.index(64).min(len - i);
                        let chunk = b[i..i + n].to_vec();
                        let at = rng.index(b.len() + 1);
                        b.splice(at..at, chunk);
                    }
                }
            }
        }
        b
    }

    /// Every byte from the job's marker to the end of its decoding lies in a field, and every
    /// undecoded range is one of those fields: no byte is passed over unseen.
    pub(crate) fn every_byte_read(j: &super::JobRecord) -> Result<(), String> {
        let end = j.len;
        let mut seen = vec![false; end];
        for &(_, off, n) in &j.fields {
            for b in seen.iter_mut().skip(off).take(n) {
                *b = true;
            }
        }
        if let Some(gap) = (j.marker_offset..end).find(|&i| !seen[i]) {
            return Err(format!("byte {gap} is in no field"));
        }
        match j
            .undecoded
            .iter()
            .find(|&&(o, n)| !j.fields.iter().any(|&(_, fo, fl)| fo == o && fl == n))
        {
            Some(r) => Err(format!("undecoded range {r:?} is not a field")),
            None => Ok(()),
        }
    }

    /// Every field range lies inside the buffer.
    pub(crate) fn fields_in_bounds(fields: &[super::Field], len: usize) -> bool {
        fields
            .iter()
            .all(|(_, off, n)| off.checked_add(*n).is_some_and(|e| e <= len))
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{fields_in_bounds, mutate, sample, Rng};
    use super::*;
    use std::time::{Duration, Instant};

    fn win10_job() -> Option<Vec<u8>> {
        sample("blobs/win10/job.raw")
    }

    #[test]
    fn win10_job_blob_values() {
        let Some(b) = win10_job() else { return };
        let j = decode_job_blob(&b).expect("decodes");
        assert_eq!(j.marker_label, "download job (BITS 10.3.2)");
        assert_eq!(j.job_id.to_string(), "266504ac-d974-446c-96ad-2be13a5665b0");
        assert_eq!(j.name.as_deref(), Some("Chrome Component Updater"));
        assert_eq!(
            j.description.as_deref(),
            Some("lmelglejhemejginpboagddgdfbepgmp_372_all_ZZ_djv5ss66g7sivnpz6ljtwr2zji.crx3")
        );
        assert_eq!(j.notify_command.as_deref(), Some(""));
        assert_eq!(j.notify_arguments.as_deref(), Some(""));
        assert_eq!(
            j.owner_sid.as_deref(),
            Some("S-1-5-21-1079689790-2336414676-942872339-1001")
        );
        assert_eq!((j.type_at_16, j.type_at_28, j.job_type()), (0, 0, Some(0)));
        assert_eq!(priority_name(j.priority), "normal");
        assert_eq!(state_name(j.state), "transferred");
        assert_eq!(j.notify_flags, Some(3));
        assert_eq!(
            notify_flag_names(3),
            vec!["job transferred", "job error"],
            "artemis keeps only \"Transferred\""
        );
        assert_eq!(j.security_area, Some((0x172, 0x64e - 0x172)));
        assert_eq!(j.security_descriptor, Some((394, 1220)));
        assert_eq!(
            b.get(394..398),
            Some(&[1u8, 0, 0x1f, 0x80][..]),
            "control 0x801F"
        );
        assert_eq!(j.file_count, Some(1));
        assert_eq!(
            j.file_ids.iter().map(Guid::to_string).collect::<Vec<_>>(),
            vec!["95d6889c-b2d3-4748-8eb1-9da0650cb892"]
        );
        assert_eq!((j.error_count, j.errors.len()), (Some(0), 0));
        assert_eq!(j.transient_error_count, Some(0));
        assert_eq!(j.retry_delay, Some(60));
        assert_eq!(j.no_progress_timeout, Some(86_400));
        assert_eq!(j.created, Some(133_160_626_831_204_654));
        let iso = JobRecord::iso;
        assert_eq!(iso(j.created), "2022-12-21T02:18:03.120Z");
        assert_eq!(iso(j.modified), "2022-12-21T02:18:43.408Z");
        assert_eq!(iso(j.modified2), "2022-12-21T02:18:43.408Z");
        assert_eq!(iso(j.completed), "2022-12-21T02:18:43.408Z");
        assert_eq!(j.expiration_base, j.modified);
        assert_eq!(iso(j.expiration), "2023-03-21T02:18:43.408Z");
        assert_eq!(j.notified, Some(1));
        assert_eq!(j.time_pairs, [None, None, None]);
        assert_eq!((j.proxy_usage, j.proxy_list.as_deref()), (Some(0), None));
        assert_eq!(j.custom_headers, None);
        assert_eq!(j.max_download_time, Some(7_776_000));
        assert_eq!(j.cost_flags, Some(0x8000_0065));
        assert_eq!(
            j.client_path.as_deref(),
            Some(r"C:\Program Files\Chromium\Application\chrome.exe")
        );
        assert_eq!(j.http_method.as_deref(), Some("GET"));
        assert!(j.additional_sids.is_empty());
        assert_eq!(j.trailer, Some((0x7ed, 10)));
        assert!(j.closed && j.stopped.is_none());
        assert_eq!(j.len, b.len());
        assert!(j.warnings.is_empty(), "{:?}", j.warnings);
        assert!(fields_in_bounds(&j.fields, b.len()));
        let field = |name| j.fields.iter().find(|f| f.0 == name).copied();
        assert_eq!(field("name"), Some(("name", 0x30, 54)));
        assert_eq!(field("client path"), Some(("client path", 0x76b, 102)));
        assert_eq!(field("security flags"), Some(("security flags", 0x6f2, 4)));
        assert_eq!(j.security_flags, Some(0));
        // The settings word at +0x24 holds 0x21 in Chrome's jobs: kept as an unknown run.
        assert_eq!(j.unknown, vec![(0x6fe, 8)]);
        assert_eq!(j.client_flag, Some(1));
        assert!(matches!(j.identity, Some(ClientIdentity::Guid(g)) if Some(g) == j.client_guid));
        assert_eq!(field("HTTP method"), Some(("HTTP method", 0x7e1, 12)));
        // What is read but not decoded, whatever it holds (the offsets of the module table):
        // security area header, the byte after the times, the 2 bytes after the proxy lists,
        // the settings words of unknown meaning, the 42- and 21-byte runs, the four words
        // after the client path, the trailer.
        assert_eq!(
            j.undecoded,
            vec![
                (0x172, 20),
                (0x6b2, 1),
                (0x6d7, 2),
                (0x6da, 24),
                (0x6f6, 4),
                (0x6fe, 8),
                (0x70a, 42),
                (0x756, 21),
                (0x7d1, 16),
                (0x7ed, 10)
            ]
        );
        super::test_support::every_byte_read(&j).expect("every byte read");
        let missing = crate::bits::model::missing_job_fields(&j);
        assert_eq!(
            missing,
            [
                "max_download_size",
                "client_certificate",
                "credential_targets"
            ]
        );
    }

    /// Every value artemis gets right on this job, compared with its reference output.
    #[test]
    fn win10_job_matches_artemis_where_artemis_is_right() {
        let (Some(b), Some(reference)) = (win10_job(), sample("reference/artemis/win10-live.json"))
        else {
            return;
        };
        let rows: serde_json::Value = serde_json::from_slice(&reference).expect("json");
        let row = &rows[0];
        let j = decode_job_blob(&b).expect("decodes");
        let s = |k: &str| row[k].as_str().unwrap_or_default().to_string();
        assert_eq!(j.job_id.to_string(), s("job_id"));
        assert_eq!(j.file_ids[0].to_string(), s("file_id"));
        assert_eq!(j.owner_sid.clone().unwrap_or_default(), s("owner_sid"));
        assert_eq!(JobRecord::iso(j.created), s("created"));
        assert_eq!(JobRecord::iso(j.modified), s("modified"));
        // artemis's "completed" is the second modification time (FORMATS §7).
        assert_eq!(JobRecord::iso(j.modified2), s("completed"));
        assert_eq!(JobRecord::iso(j.expiration), s("expiration"));
        assert_eq!(j.name.clone().unwrap_or_default(), s("job_name"));
        assert_eq!(
            j.description.clone().unwrap_or_default(),
            s("job_description")
        );
        assert_eq!(
            j.notify_command.clone().unwrap_or_default(),
            s("job_command")
        );
        assert_eq!(
            j.notify_arguments.clone().unwrap_or_default(),
            s("job_arguments")
        );
        assert_eq!(j.http_method.clone().unwrap_or_default(), s("http_method"));
        assert_eq!(j.client_path.clone().unwrap_or_default(), s("target_path"));
        assert_eq!(
            u64::from(j.error_count.unwrap_or(9)),
            row["error_count"].as_u64().unwrap_or(8)
        );
        assert_eq!(
            u64::from(j.transient_error_count.unwrap_or(9)),
            row["transient_error_count"].as_u64().unwrap_or(8)
        );
        assert_eq!(
            u64::from(j.no_progress_timeout.unwrap_or(0)),
            row["timeout"].as_u64().unwrap_or(1)
        );
        assert_eq!(
            u64::from(j.retry_delay.unwrap_or(0)),
            row["retry_delay"].as_u64().unwrap_or(1)
        );
        assert_eq!(type_name(j.type_at_16), s("job_type").to_lowercase());
        assert_eq!(state_name(j.state), s("job_state").to_lowercase());
        assert_eq!(priority_name(j.priority), s("priority").to_lowercase());
    }

    #[test]
    fn the_version_decides_the_error_layout_and_the_other_is_the_fallback() {
        let Some(b) = win10_job() else { return };
        // Build a blob with one 21-byte error entry (the layout of the real Win10 22H2 error
        // job in qmgr.db free space: 0, 0x80072EE7, 1, 5, 3, flag 0) inserted at the error count.
        let at = 0x682;
        let mut e = Vec::new();
        e.extend_from_slice(&1u32.to_le_bytes());
        for w in [0u32, 0x8007_2ee7, 1, 5, 3] {
            e.extend_from_slice(&w.to_le_bytes());
        }
        e.push(0);
        let mut v = b[..at].to_vec();
        v.extend_from_slice(&e);
        v.extend_from_slice(&b[at + 4..]);
        let j = decode_job_blob(&v).expect("decodes");
        assert_eq!(j.error_layout, Some(ErrorLayout::Var21));
        assert_eq!(j.errors.len(), 1);
        assert_eq!(j.errors[0].hresult(), Some(0x8007_2ee7));
        assert_eq!(j.errors[0].context(), Some(5));
        // The layout of the version fits: nothing to say.
        assert!(j.warnings.is_empty(), "{:?}", j.warnings);
        assert_eq!(j.http_method.as_deref(), Some("GET"));
        assert!(j.closed);

        // The same entry in ANSSI's 25-byte form is recognised too.
        let mut v = b[..at].to_vec();
        v.extend_from_slice(&e);
        v.extend_from_slice(&[0, 0, 0, 0]);
        v.extend_from_slice(&b[at + 4..]);
        let j = decode_job_blob(&v).expect("decodes");
        assert_eq!(j.error_layout, Some(ErrorLayout::Fixed25));
        assert_eq!(JobRecord::iso(j.created), "2022-12-21T02:18:03.120Z");
        assert!(j.closed && j.stopped.is_none());
        assert!(
            j.warnings
                .iter()
                .any(|w| w.contains("the 21-byte layout of this version leaves implausible times")),
            "{:?}",
            j.warnings
        );
    }

    #[test]
    fn damage_keeps_what_precedes_it() {
        let Some(mut b) = win10_job() else { return };
        // A notify-program count far beyond the bytes present.
        b[0x76b..0x76f].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
        let j = decode_job_blob(&b).expect("decodes");
        assert!(!j.closed);
        assert!(matches!(
            j.stopped,
            Some(DecodeError::BadCount {
                what: "client path",
                offset: 0x76b,
                ..
            })
        ));
        assert_eq!(
            (j.client_path.as_deref(), j.http_method.as_deref()),
            (None, None)
        );
        assert_eq!(
            j.cost_flags,
            Some(0x8000_0065),
            "fields before the damage are kept"
        );
        assert_eq!(j.len, 0x76b);
        assert!(j
            .warnings
            .iter()
            .any(|w| w.contains("the same marker follows at 2039")));
    }

    #[test]
    fn a_cut_blob_does_not_take_the_next_blobs_marker() {
        let Some(b) = win10_job() else { return };
        // A cut inside the 10-byte trailer (0x7ed..0x7f7) cannot be told from a shorter trailer:
        // its layout is not known. Everywhere else the cut shows.
        for cut in [0x100, 0x650, 0x6c0, 0x700, 0x7e0, 0x7ec] {
            let mut v = b[..cut].to_vec();
            v.extend_from_slice(&b);
            let j = decode_job_blob(&v).expect("decodes");
            assert!(!j.closed, "cut at {cut}");
            let next = decode_job_blob(&v[cut..]).expect("decodes");
            assert!(next.closed && next.len == b.len());
        }
    }

    #[test]
    fn type_disagreement_is_reported() {
        let Some(mut b) = win10_job() else { return };
        b[0x1c] = 1;
        let j = decode_job_blob(&b).expect("decodes");
        assert_eq!((j.type_at_16, j.type_at_28, j.job_type()), (0, 1, None));
        assert!(j.warnings.iter().any(|w| w.contains("job type unresolved")));
    }

    #[test]
    fn not_a_job() {
        assert!(matches!(
            decode_job_blob(&[0u8; 64]),
            Err(DecodeError::BadMarker { offset: 0, .. })
        ));
        assert!(matches!(
            decode_job_blob(&[]),
            Err(DecodeError::Truncated { .. })
        ));
    }

    #[test]
    fn every_truncation() {
        let Some(b) = win10_job() else { return };
        for n in 0..b.len() {
            match decode_job_blob(&b[..n]) {
                Ok(j) => {
                    assert!(!j.closed, "cut at {n} reported closed");
                    assert!(j.stopped.is_some(), "cut at {n} has no stop");
                    assert!(j.len <= n && fields_in_bounds(&j.fields, n));
                }
                Err(e) => assert!(n < 48, "cut at {n}: {e}"),
            }
        }
    }

    #[test]
    fn random_mutations() {
        let Some(b) = win10_job() else { return };
        let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
        let start = Instant::now();
        for _ in 0..5000 {
            let m = mutate(&mut rng, &b);
            let t = Instant::now();
            if let Ok(j) = decode_job_blob(&m) {
                assert!(j.len <= m.len() && fields_in_bounds(&j.fields, m.len()));
                assert!(fields_in_bounds(&j.undecoded_fields(), m.len()));
                // A decode that reached its closing marker read every byte.
                if j.closed {
                    super::test_support::every_byte_read(&j).expect("every byte read");
                }
            }
            assert!(t.elapsed() < Duration::from_millis(200));
        }
        assert!(start.elapsed() < Duration::from_secs(60));
    }
}
