//! BitsInfo: the output record, one per (job, file) pair, with the seed interface's exact
//! field names and JSON types, plus where its bytes came from.

use serde::Serialize;

use super::file::FileRecord;
use super::job::JobRecord;
use crate::util::guid::Guid;
use crate::winsec::AccessControl;

/// How a record was found: through the store's own structures, or by the carver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SourceKind {
    /// Read through the store's own structures (a table row, the queue's job list).
    #[default]
    Live,
    /// Found by the carver in free space, slack or unallocated clusters.
    Carved,
    /// A job known only from the BITS client's event log (gone from the queue).
    #[serde(rename = "event_log")]
    EventLog,
}

/// Compares with the JSON spelling (`"live"`, `"carved"`).
impl PartialEq<&str> for SourceKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl SourceKind {
    /// The JSON spelling: `live` or `carved`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Live => "live",
            SourceKind::Carved => "carved",
            SourceKind::EventLog => "event_log",
        }
    }
}

/// A decoded job with the blob it came from and where that lies.
#[derive(Debug, Clone)]
pub struct JobEntry {
    pub job: JobRecord,
    /// The job's bytes; field offsets in `job` are relative to its start.
    pub blob: Vec<u8>,
    pub source: Source,
}

/// A decoded file; `id` is the `Files.Id` (ESE) when known.
#[derive(Debug, Clone)]
pub struct FileEntry {
    pub id: Option<Guid>,
    pub file: FileRecord,
    /// The record's bytes (empty for files inside a legacy job, which keeps them).
    pub blob: Vec<u8>,
    pub source: Source,
}

impl FileEntry {
    /// The files a legacy job carries inline: no id, no bytes of their own, and the job's
    /// source without its field ranges (the files are inside the job's bytes).
    pub fn inline(files: Vec<FileRecord>, job: &Source) -> Vec<FileEntry> {
        files
            .into_iter()
            .map(|file| FileEntry {
                id: None,
                file,
                blob: Vec::new(),
                source: Source {
                    fields: Vec::new(),
                    ..job.clone()
                },
            })
            .collect()
    }
}

/// Where a job or file record was read from, so the hex view and the analyst can go back to
/// the bytes.
///
/// Two places, named apart. `offset`, `extents` and `also_at` are offsets in the file the
/// record was read from: the evidence file itself for a bare store, else the file the
/// `container_chain` ends in (a qmgr.db inside a disk image, a zip member). `in_evidence` says
/// where the same bytes lie in the evidence as read (images and archives only), in the
/// coordinate it names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Source {
    /// The evidence file.
    pub evidence: String,
    /// Byte offset of the record (blob) in the file it was read from (see above), and its
    /// length.
    pub offset: u64,
    pub length: u64,
    /// `live` (read through the store's own structures) or `carved`.
    pub kind: SourceKind,
    /// What structure held it: `ese:Jobs`, `ese:Files`, `legacy-queue`, `ese-free-space`, ...
    pub container: String,
    /// ESE page and tag, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<u32>,
    /// The pieces the record is stored in, when not contiguous (long-value chunks): file
    /// offset and length of each, in record order; at most [`MAX_EXTENTS`] listed.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub extents: Vec<(u64, u64)>,
    /// Pieces past the first [`MAX_EXTENTS`], not listed (counted).
    #[serde(skip_serializing_if = "is_zero", default)]
    pub extents_omitted: u64,
    /// Other file offsets holding a byte-identical copy (carving).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub also_at: Vec<u64>,
    /// Byte-identical copies in other evidence files: the other file of a legacy queue's
    /// qmgr0.dat / qmgr1.dat pair holds the same job.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub also_in: Vec<OtherCopy>,
    /// Fields of the record with their byte ranges (offset relative to the record's start).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub fields: Vec<FieldRange>,
    /// The containers the store was found in, outermost first, when the evidence is an image:
    /// `["raw image", "partition 1 (MBR, offset 1048576)", "NTFS",
    /// "\\ProgramData\\...\\qmgr.db (MFT entry 76)"]` (", deleted" in the last one for a
    /// deleted file). `offset` is then the offset in that file. Empty for a bare store.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub container_chain: Vec<String>,
    /// Where the record's bytes lie in the evidence as read, for a record inside a container
    /// (absent for a bare store, whose `offset` already is the evidence file's).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub in_evidence: Option<Placement>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Pieces listed per record (in `extents` and in `in_evidence.extents`); more are counted.
pub const MAX_EXTENTS: usize = 64;

/// Where a record's bytes lie in the evidence as read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Placement {
    /// What the offsets count: `image file` (the evidence file's own bytes, a raw image),
    /// `zip file`, or the logical media inside a disk format (`E01 logical media`,
    /// `VHDX (dynamic) logical media`: offsets in the disk the format holds, not in its
    /// files).
    pub coordinate: String,
    /// Offset of the record's first byte, when it is stored somewhere (see `note`).
    pub offset: Option<u64>,
    /// The record's bytes in order, split where they change runs: `offset` null for bytes
    /// stored nowhere (a sparse run, past the valid data length), which read as zeros.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub extents: Vec<Piece>,
    /// Pieces past the first [`MAX_EXTENTS`], not listed (counted).
    #[serde(skip_serializing_if = "is_zero", default)]
    pub extents_omitted: u64,
    /// Other offsets holding a byte-identical copy, in the same coordinate (the store's own
    /// copies, and copies carved from free clusters).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub also_at: Vec<u64>,
    /// Why the bytes have no place in the evidence, when they have none (resident in an MFT
    /// record, NTFS-compressed, inflated from a zip member).
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub note: String,
}

/// One piece of a record in the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Piece {
    pub offset: Option<u64>,
    pub length: u64,
}

/// How a container chain's last step begins for a record carved from a volume's unallocated
/// clusters: `unallocated cluster 9 (volume offset 36864)`.
pub const UNALLOCATED: &str = "unallocated cluster";

/// A byte-identical copy of a record in another evidence file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtherCopy {
    pub evidence: String,
    pub offset: u64,
    /// `live` (in the other file's job list) or `carved` (outside it).
    pub kind: SourceKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldRange {
    pub name: &'static str,
    pub offset: u64,
    pub length: u64,
}

impl Source {
    /// Take `other`, a byte-identical copy of this record, into this source's list of other
    /// copies: its offset and the copies it already names, in `also_at` when they lie in the
    /// same evidence file, in `also_in` when in another.
    pub fn absorb(&mut self, other: Source) {
        let Source {
            evidence,
            offset,
            kind,
            also_at,
            also_in,
            ..
        } = other;
        let place = |s: &mut Source, evidence: &str, offset: u64, kind: SourceKind| {
            if evidence == s.evidence {
                s.also_at.push(offset);
            } else {
                s.also_in.push(OtherCopy {
                    evidence: evidence.to_string(),
                    offset,
                    kind,
                });
            }
        };
        for at in also_at {
            place(self, &evidence, at, kind);
        }
        place(self, &evidence, offset, kind);
        for c in also_in {
            place(self, &c.evidence, c.offset, c.kind);
        }
    }

    /// This source with a decoder's field list attached (see [`FieldRange::from_fields`]).
    pub fn with_fields(mut self, fields: &[(&'static str, usize, usize)]) -> Source {
        self.fields = FieldRange::from_fields(fields);
        self
    }

    /// Set the record's pieces (file offset, length), the first [`MAX_EXTENTS`] listed and the
    /// rest counted: a long value of thousands of chunks does not repeat them all in every row.
    pub fn set_extents(&mut self, pieces: impl IntoIterator<Item = (u64, u64)>) {
        self.extents.clear();
        self.extents_omitted = 0;
        for p in pieces {
            if self.extents.len() < MAX_EXTENTS {
                self.extents.push(p);
            } else {
                self.extents_omitted = self.extents_omitted.saturating_add(1);
            }
        }
    }

    /// The record's pieces in the file it was read from: its extents, or its one range.
    pub fn pieces(&self) -> Vec<(u64, u64)> {
        if self.extents.is_empty() {
            vec![(self.offset, self.length)]
        } else {
            self.extents.clone()
        }
    }
}

impl FieldRange {
    /// Field ranges from a decoder's (name, offset, length) list. Runs of one repeated field
    /// (a job's file GUIDs, a file's ranges) merge into one range, so the list stays short
    /// however many entries a record holds.
    pub fn from_fields(fields: &[(&'static str, usize, usize)]) -> Vec<FieldRange> {
        let mut out: Vec<FieldRange> = Vec::new();
        for (name, offset, len) in fields {
            let (offset, len) = (*offset as u64, *len as u64);
            if let Some(last) = out.last_mut() {
                if last.name == *name && last.offset.saturating_add(last.length) == offset {
                    last.length = last.length.saturating_add(len);
                    continue;
                }
            }
            out.push(FieldRange {
                name,
                offset,
                length: len,
            });
        }
        out
    }
}

/// One BITS (job, file) row. Field names, order and JSON types follow the seed interface;
/// the extra fields after `tmp_fullpath` carry provenance and diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BitsInfo {
    pub job_id: String,
    pub file_id: String,
    pub owner_sid: String,
    pub created: String,
    pub modified: String,
    pub completed: String,
    pub expiration: String,
    /// Bytes received so far (the file record's first u64).
    pub bytes_downloaded: u64,
    /// The file's total size (18446744073709551615 when BITS did not know it).
    pub bytes_transferred: u64,
    pub job_name: String,
    pub job_description: String,
    pub job_command: String,
    pub job_arguments: String,
    pub error_count: u32,
    pub job_type: String,
    pub job_state: String,
    pub priority: String,
    pub flags: String,
    pub http_method: String,
    pub full_path: String,
    pub filename: String,
    pub target_path: String,
    pub volume: String,
    pub url: String,
    pub carved: bool,
    pub transient_error_count: u32,
    /// Shared between the rows of jobs with the same security descriptor (a queue holds
    /// thousands of jobs but a handful of descriptors); serialized as a plain array.
    pub acls: std::sync::Arc<[AccessControl]>,
    pub timeout: u32,
    pub retry_delay: u32,
    pub additional_sids: Vec<String>,
    pub drive: String,
    pub tmp_fullpath: String,

    /// The evidence file the record came from.
    pub evidence: String,
    /// Well-known name of the owner SID, when it has one.
    pub owner_account: String,
    /// The job's whole security descriptor in SDDL.
    pub sddl: String,
    /// Remote file's last-modified time (from the file record).
    pub remote_modified: String,
    pub job_source: Option<Source>,
    pub file_source: Option<Source>,
    /// The fields the records did not yield (every row, live or carved): unknown, not empty.
    pub missing_fields: Vec<String>,
    /// Copies of one job found more than once (carving) share a version group.
    pub versions: u32,
    pub warnings: Vec<String>,
    /// What else the evidence says about the job, in time order, each fact with its source and
    /// provenance (events, accounts, the files on disk, the queue's own times): see
    /// `bits::story`. Empty (and not written) when nothing joined.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub story: Vec<super::story::Fact>,
    /// The host the evidence was collected from, when the pipeline's driver named it (see
    /// `pipeline::host`): the SYSTEM hive's ComputerName, else a folder or file name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// How `host` was named: `system hive`, `folder name` or `file name`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host_source: String,

    // The fields below were added after the ones above (issue 20); those keep their order.
    /// What the job's marker says it is, e.g. `download job (BITS 10.3.2)`, `Windows 7`; a
    /// blob opened by two markers names both.
    pub job_version: String,
    /// Win11 24H2: the package family name of the packaged app that made the job.
    pub package_family_name: String,
    /// Win11 24H2: its application id as stored, with the leading `!` (family name + it =
    /// the AUMID).
    pub application_id: String,
    /// Win11 24H2: the GUID of the package identity (meaning unknown; the machine's client
    /// GUID in every sample).
    pub package_guid: String,
    /// `Preconfig`, `NoProxy`, `Override`, `AutoDetect` (BG_JOB_PROXY_USAGE).
    pub proxy_usage: String,
    pub proxy_list: String,
    pub proxy_bypass: String,
    /// The custom HTTP headers: what their DPAPI blob says in clear (they are encrypted).
    pub custom_headers: String,
    /// BG_SSL_* and BG_HTTP_REDIRECT_POLICY_* names (0 is `RedirectAllowSilent`).
    pub security_flags: String,
    /// Seconds.
    pub max_download_time: u32,
    /// The job's error: its HRESULT (`0x80190194 (HTTP 404)`) and BG_ERROR_CONTEXT.
    pub error_code: String,
    pub error_context: String,
    /// Runs of bytes of unknown meaning that differ from what every sample holds:
    /// `offset+length: hex` in the job record.
    pub unknown_bytes: Vec<String>,
    /// Fields no public source or sample places in the job's bytes: always empty and listed
    /// in `missing_fields` (unknown, not "none"). Their bytes, if the job holds them, are
    /// among `undecoded`. `BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE`, bytes.
    pub max_download_size: String,
    /// `IBackgroundCopyJobHttpOptions::SetClientCertificateByName/ByID`: the store and subject.
    pub client_certificate: String,
    /// `IBackgroundCopyJob2::SetCredentials`: the targets and schemes (never a secret).
    pub credential_targets: String,
    /// Upload-reply jobs only: the reply file (`GetReplyFileName`) and the second GUID.
    pub reply_file: String,
    pub reply_guid: String,
    /// Every range of the job record read but not decoded into a value, whatever it holds:
    /// `offset+length: hex` (the whole range; see `JobRecord::undecoded`).
    pub undecoded: Vec<String>,
}

impl BitsInfo {
    /// The record's sources (job, file), for the sinks that place them.
    pub fn sources_mut(&mut self) -> impl Iterator<Item = &mut Source> {
        [&mut self.job_source, &mut self.file_source]
            .into_iter()
            .flatten()
    }
}

/// The BitsInfo fields a job record did not yield (decoding stopped, or a section had a layout
/// of its own): they are unknown, not empty.
pub fn missing_job_fields(j: &JobRecord) -> Vec<String> {
    let mut m = Vec::new();
    let read = |name: &str| j.fields.iter().any(|f| f.0 == name);
    let mut need = |present: bool, name: &str| {
        if !present {
            m.push(name.to_string());
        }
    };
    need(j.name.is_some(), "job_name");
    need(j.description.is_some(), "job_description");
    need(j.notify_command.is_some(), "job_command");
    need(j.notify_arguments.is_some(), "job_arguments");
    need(j.owner_sid.is_some(), "owner_sid");
    need(j.notify_flags.is_some(), "flags");
    need(j.security_descriptor.is_some(), "acls");
    need(j.file_count.is_some(), "file_id");
    need(j.error_count.is_some(), "error_count");
    need(j.transient_error_count.is_some(), "transient_error_count");
    need(j.retry_delay.is_some(), "retry_delay");
    need(j.no_progress_timeout.is_some(), "timeout");
    need(j.created.is_some(), "created");
    need(j.modified.is_some(), "modified");
    need(j.completed.is_some(), "completed");
    need(j.expiration.is_some(), "expiration");
    // Legacy jobs have no client-section or HTTP-verb fields to recover.
    let legacy = super::job::job_delimiter_label(&j.marker.0).is_some();
    need(legacy || j.client_path.is_some(), "target_path");
    need(legacy || j.http_method.is_some(), "http_method");
    for f in ["package_family_name", "application_id", "package_guid"] {
        need(legacy || j.identity.is_some(), f);
    }
    need(read("proxy usage"), "proxy_usage");
    need(read("proxy list"), "proxy_list");
    need(read("proxy bypass list"), "proxy_bypass");
    let headers =
        read("custom headers flag") && (j.custom_headers.is_some() || !read("custom headers size"));
    need(headers, "custom_headers");
    need(j.security_flags.is_some(), "security_flags");
    need(j.max_download_time.is_some(), "max_download_time");
    let errors = j.error_count.is_some_and(|n| j.errors.len() >= n as usize);
    need(errors, "error_code");
    need(errors, "error_context");
    // Not placed by any source or sample (see `BitsInfo::max_download_size`): unknown for
    // every job; the reply fields for upload-reply jobs (either type reading), the only ones
    // that have them.
    m.extend(NOT_PLACED.iter().map(|f| (*f).to_string()));
    if j.type_at_16 == 2 || j.type_at_28 == 2 {
        m.extend(["reply_file", "reply_guid"].map(String::from));
    }
    m
}

/// The BitsInfo fields of a job whose place in the record is not known (README, "Fields").
pub const NOT_PLACED: [&str; 3] = [
    "max_download_size",
    "client_certificate",
    "credential_targets",
];

/// The BitsInfo fields of a file the row has no record of although its job lists one.
pub const FILE_FIELDS: [&str; 9] = [
    "full_path",
    "filename",
    "url",
    "tmp_fullpath",
    "bytes_downloaded",
    "bytes_transferred",
    "drive",
    "volume",
    "remote_modified",
];

/// The BitsInfo fields a file record did not yield.
pub fn missing_file_fields(f: &FileRecord) -> Vec<String> {
    let mut m = Vec::new();
    let mut need = |present: bool, name: &str| {
        if !present {
            m.push(name.to_string());
        }
    };
    need(f.destination.is_some(), "full_path");
    need(f.destination.is_some(), "filename");
    need(f.url.is_some(), "url");
    need(f.temp_path.is_some(), "tmp_fullpath");
    need(f.bytes_transferred.is_some(), "bytes_downloaded");
    need(f.total_bytes.is_some(), "bytes_transferred");
    need(f.drive.is_some(), "drive");
    need(f.volume.is_some(), "volume");
    need(f.remote_mtime.is_some(), "remote_modified");
    m
}
