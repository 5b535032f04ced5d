//! The ground truth written beside a generated file (`FILE.truth.json`).
//!
//! Field names of the decoded values follow the BitsInfo record (`bits/model.rs`) where one
//! exists (`job_id`, `owner_sid`, `job_name`, `url`, `full_path`, `tmp_fullpath`, ...); times
//! are ISO-8601 UTC with milliseconds (empty when the FILETIME is 0), as bitscope prints them.

use serde::Serialize;

use super::blobs::{FileSpec, JobSpec};
use crate::bits::job::{notify_flag_names, priority_name, state_name, type_name};
use crate::util::guid::Guid;
use crate::util::time::filetime_iso;

/// Everything a generated database holds, and where.
#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    /// `bitscope-gen ese`.
    pub generator: String,
    /// Version of this JSON layout.
    pub truth_format: u32,
    pub options: OptionsTruth,
    pub database: DatabaseTruth,
    /// Live `Jobs` rows, in table (key) order.
    pub jobs: Vec<LiveRecord>,
    /// Live `Files` rows, in table (key) order.
    pub files: Vec<LiveRecord>,
    /// Deleted job and file blobs planted where Windows leaves them.
    pub deleted: Vec<DeletedRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OptionsTruth {
    pub jobs: usize,
    pub files_per_job: usize,
    pub deleted: usize,
    pub seed: u64,
    pub win11_header: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatabaseTruth {
    pub file_size: u64,
    pub page_size: u32,
    /// Database pages (the two header pages not counted).
    pub pages: u32,
    /// Pages that were never written (all zero): their checksum is not checked.
    pub blank_pages: Vec<u32>,
    pub format_version: u32,
    pub format_revision: u32,
    /// 2: dirty shutdown.
    pub state: u32,
    pub db_time: u64,
    pub trees: Vec<TreeTruth>,
}

/// One B-tree of the database.
#[derive(Debug, Clone, Serialize)]
pub struct TreeTruth {
    pub name: String,
    pub objid: u32,
    pub root: u32,
    /// Levels including the leaves (1: the root is a leaf).
    pub depth: usize,
    pub leaf_pages: usize,
    pub branch_pages: usize,
    /// Leaf nodes (rows, or long-value roots and chunks).
    pub nodes: usize,
    /// Pages the tree owns but does not use (unreferenced pages, in its available extents).
    pub available_pages: Vec<u32>,
}

/// A byte range of the file holding (part of) a blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Piece {
    pub offset: u64,
    pub length: u64,
    /// Database page (file offset / page size - 1).
    pub page: u32,
}

/// A live row of `Jobs` or `Files`.
#[derive(Debug, Clone, Serialize)]
pub struct LiveRecord {
    /// Canonical GUID of the row's `Id` (column 1).
    pub id: String,
    pub table: String,
    /// Page and file offset of the row's record.
    pub row_page: u32,
    pub row_offset: u64,
    /// The long-value id (the 8 bytes of the record's reference, as a number).
    pub lid: String,
    pub blob_len: usize,
    pub blob_sha256: String,
    /// Only with `--truth-hex`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob_hex: Option<String>,
    /// The long-value chunks, in value order.
    pub pieces: Vec<Piece>,
    /// The row's and its long value's nodes carry the version flag (0x1).
    pub versioned: bool,
    pub values: Values,
}

/// A deleted blob left in the file.
#[derive(Debug, Clone, Serialize)]
pub struct DeletedRecord {
    /// `orphan_lv` (long value with reference count 0, still in the tree), `deleted_lv` (its
    /// nodes flagged deleted), `page_slack` (free space past a live page's data), `page_hole`
    /// (freed space between a live page's nodes), `freed_page` (a page the tree released: no
    /// nodes in its header, old bytes in its body), `stale_page` (an unreferenced leaf page with
    /// its old nodes), `split_pages` (a blob in two chunks on two consecutive unreferenced
    /// pages).
    pub kind: String,
    /// The blob lies in more than one piece (chunks on different pages).
    pub split: bool,
    pub table: String,
    pub id: String,
    pub lid: String,
    pub blob_len: usize,
    pub blob_sha256: String,
    pub blob_hex: String,
    pub pieces: Vec<Piece>,
    pub values: Values,
}

/// Decoded values of a job or a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
// A job's values are three times a file's; the truth holds one per generated record, never
// enough for the difference to matter, and boxing either side only moves the warning.
#[allow(clippy::large_enum_variant)]
pub enum Values {
    Job(JobValues),
    File(FileValues),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobValues {
    pub job_id: String,
    pub job_name: String,
    pub job_description: String,
    pub job_command: String,
    pub job_arguments: String,
    pub owner_sid: String,
    pub job_type: String,
    pub job_state: String,
    pub priority: String,
    pub notify_flags: u32,
    pub flags: Vec<String>,
    pub file_ids: Vec<String>,
    pub created: String,
    pub modified: String,
    pub completed: String,
    pub expiration: String,
    pub error_count: u32,
    pub transient_error_count: u32,
    pub retry_delay: u32,
    pub timeout: u32,
    pub target_path: String,
    pub http_method: String,
    /// The settings beyond the default ones ([`crate::gen::blobs::JobExtras`], error text or
    /// context), under their BitsInfo names; absent for a job that has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extras: Option<ExtraValues>,
}

/// A job's settings beyond the default ones, as BitsInfo shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExtraValues {
    pub package_family_name: String,
    pub application_id: String,
    pub package_guid: String,
    pub proxy_usage: String,
    pub proxy_list: String,
    pub proxy_bypass: String,
    /// The headers' plain size, 0 when the job has none.
    pub custom_headers_size: u64,
    pub security_flags: String,
    pub error_context: Vec<u32>,
    pub error_text: Vec<String>,
}

impl ExtraValues {
    fn of(j: &JobSpec) -> Option<ExtraValues> {
        let x = &j.extras;
        let plain_errors = j.errors.iter().all(|e| e.context == 5 && e.text.is_none());
        if *x == crate::gen::blobs::JobExtras::default() && plain_errors {
            return None;
        }
        let p = x.package.as_ref();
        Some(ExtraValues {
            package_family_name: p.map(|p| p.family_name.clone()).unwrap_or_default(),
            application_id: p.map(|p| p.app_id.clone()).unwrap_or_default(),
            package_guid: p.map(|p| Guid(p.guid).to_string()).unwrap_or_default(),
            proxy_usage: crate::bits::decoded::proxy_usage_name(x.proxy_usage),
            proxy_list: x.proxy_list.clone().unwrap_or_default(),
            proxy_bypass: x.proxy_bypass.clone().unwrap_or_default(),
            custom_headers_size: x.custom_headers.as_ref().map_or(0, |h| h.plain_size),
            security_flags: crate::bits::decoded::security_flag_names(x.security_flags),
            error_context: j.errors.iter().map(|e| e.context).collect(),
            error_text: j.errors.iter().filter_map(|e| e.text.clone()).collect(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileValues {
    pub file_id: String,
    pub job_id: String,
    pub full_path: String,
    pub filename: String,
    pub url: String,
    pub tmp_fullpath: String,
    /// The file record's first u64 (bytes received).
    pub bytes_transferred: u64,
    /// The total (18446744073709551615 when unknown).
    pub bytes_total: u64,
    pub drive: String,
    pub volume: String,
    pub remote_modified: String,
}

impl JobValues {
    pub fn of(j: &JobSpec) -> JobValues {
        JobValues {
            job_id: Guid(j.id).to_string(),
            job_name: j.name.clone(),
            job_description: j.description.clone(),
            job_command: j.notify_command.clone(),
            job_arguments: j.notify_arguments.clone(),
            owner_sid: j.owner_sid.clone(),
            job_type: type_name(j.job_type).to_string(),
            job_state: state_name(j.state).to_string(),
            priority: priority_name(j.priority).to_string(),
            notify_flags: j.notify_flags,
            flags: notify_flag_names(j.notify_flags)
                .into_iter()
                .map(str::to_string)
                .collect(),
            file_ids: j.file_ids.iter().map(|g| Guid(*g).to_string()).collect(),
            created: filetime_iso(j.created),
            modified: filetime_iso(j.modified),
            completed: filetime_iso(j.completed),
            expiration: filetime_iso(j.expiration),
            error_count: j.errors.len() as u32,
            transient_error_count: j.transient_errors,
            retry_delay: j.retry_delay,
            timeout: j.no_progress_timeout,
            target_path: j.client_path.clone(),
            http_method: j.http_method.clone(),
            extras: ExtraValues::of(j),
        }
    }
}

impl FileValues {
    pub fn of(f: &FileSpec, job_id: &[u8; 16]) -> FileValues {
        FileValues {
            file_id: Guid(f.id).to_string(),
            job_id: Guid(*job_id).to_string(),
            full_path: f.destination.clone(),
            filename: f.file_name().to_string(),
            url: f.url.clone(),
            tmp_fullpath: f.temp_path.clone(),
            bytes_transferred: f.bytes_transferred,
            bytes_total: f.total_bytes,
            drive: f.drive.clone(),
            volume: f.volume.clone(),
            remote_modified: filetime_iso(f.remote_mtime),
        }
    }
}
