//! From decoded jobs and files to BitsInfo rows.
//!
//! Rows: one per (job, file) the job's file list names; a job without files gives one row with
//! empty file fields; a file no job claims gives one row with empty job fields. Legacy jobs
//! carry their files inline, so they are joined by position. The order rows are made in, and
//! which carved copies are kept, is the pipeline's business ([`super::pipeline`]).

use std::collections::HashMap;

use super::dpapi;
use super::job::{self, JobRecord};
use super::job::{ClientIdentity, JobError};
use super::model::{
    missing_file_fields, missing_job_fields, BitsInfo, FileEntry, JobEntry, SourceKind, FILE_FIELDS,
};
use crate::util::guid::Guid;
use crate::util::time::filetime_iso;
use crate::winsec::{parse_security_descriptor, well_known_name, AccessControl};

/// Rows for one job: one per listed file that was found. Listed files that were not found
/// collapse into a single row (returned) with a warning, so a job that lists thousands of
/// absent files cannot multiply its row thousands of times.
///
/// Hostile joins are bounded: a job lists each file id once (repeats are ignored), a Files Id
/// held by several rows (it is the table's key: corruption) joins its first row only, and a
/// file another job already claimed joins again only while `shared_left` lasts (BITS never
/// shares a file between jobs). Each bound that bites says so in the row's warnings.
pub(crate) fn join_job(
    j: &JobEntry,
    files: &[FileEntry],
    by_id: &HashMap<Guid, Vec<usize>>,
    claimed: &mut [bool],
    shared_left: &mut usize,
    rows: &mut Vec<BitsInfo>,
) -> Option<BitsInfo> {
    let first = rows.len();
    let mut absent = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let (mut repeated, mut duplicate_rows, mut shared_dropped) = (0usize, 0usize, 0usize);
    for id in &j.job.file_ids {
        // The counters below count ids of this job's list, at most its length.
        if !seen.insert(*id) {
            repeated = repeated.saturating_add(1);
            continue;
        }
        let Some(idx) = by_id.get(id) else {
            absent.push(*id);
            continue;
        };
        duplicate_rows = duplicate_rows.saturating_add(idx.len().saturating_sub(1));
        let Some(&i) = idx.first() else { continue };
        let Some(c) = claimed.get_mut(i) else {
            continue;
        };
        if *c {
            let Some(left) = shared_left.checked_sub(1) else {
                shared_dropped = shared_dropped.saturating_add(1);
                continue;
            };
            *shared_left = left;
        }
        *c = true;
        rows.push(row(Some(j), files.get(i), Some(*id)));
    }
    let bounds = [
        (
            repeated,
            "file id(s) listed more than once by the job: joined once",
        ),
        (
            duplicate_rows,
            "more Files row(s) share an Id the job lists: joined the first",
        ),
        (
            shared_dropped,
            "file(s) already claimed by other jobs not joined again (bound reached)",
        ),
    ];
    let warnings: Vec<String> = bounds
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    let any_found = rows.len() > first;
    let extra = match absent.as_slice() {
        [] if any_found => None,
        [] => Some(row(Some(j), None, None)),
        [one] if !any_found => {
            let mut r = row(Some(j), None, Some(*one));
            r.warnings
                .push(format!("file {one} listed by the job was not found"));
            Some(r)
        }
        many => {
            let shown: Vec<String> = many.iter().take(8).map(Guid::to_string).collect();
            let more = if many.len() > 8 { ", ..." } else { "" };
            let mut r = row(Some(j), None, None);
            r.warnings.push(format!(
                "{} file(s) listed by the job were not found: {}{more}",
                many.len(),
                shown.join(", ")
            ));
            Some(r)
        }
    };
    if !warnings.is_empty() {
        for r in rows.iter_mut().skip(first) {
            r.warnings.extend(warnings.iter().cloned());
        }
    }
    extra.map(|mut r| {
        r.warnings.extend(warnings);
        r
    })
}

/// One BitsInfo from a job and/or a file. `missing_fields` lists what the records did not
/// yield: a job's fields its decoding did not reach, a file's likewise, and all of a file's
/// fields when its job lists files but the row has none of them (not "0 bytes of 0").
pub fn row(job: Option<&JobEntry>, file: Option<&FileEntry>, file_id: Option<Guid>) -> BitsInfo {
    let mut r = BitsInfo {
        file_id: file_id.map(|g| g.to_string()).unwrap_or_default(),
        ..BitsInfo::default()
    };
    if let Some(j) = job {
        fill_job(&mut r, j);
        r.missing_fields = missing_job_fields(&j.job);
    }
    if let Some(f) = file {
        fill_file(&mut r, f);
        r.missing_fields.extend(missing_file_fields(&f.file));
    } else if job.is_some_and(|j| j.job.file_count != Some(0)) {
        if file_id.is_none() {
            r.missing_fields.push("file_id".into());
        }
        r.missing_fields
            .extend(FILE_FIELDS.iter().map(|f| (*f).to_string()));
    }
    r.missing_fields.dedup();
    r.carved = job.is_some_and(|j| j.source.kind == SourceKind::Carved)
        || file.is_some_and(|f| f.source.kind == SourceKind::Carved);
    r.evidence = job
        .map(|j| j.source.evidence.clone())
        .or_else(|| file.map(|f| f.source.evidence.clone()))
        .unwrap_or_default();
    r
}

fn fill_job(r: &mut BitsInfo, e: &JobEntry) {
    let j = &e.job;
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    r.job_id = j.job_id.to_string();
    r.owner_sid = s(&j.owner_sid);
    r.owner_account = well_known_name(&r.owner_sid)
        .unwrap_or_default()
        .to_string();
    r.created = JobRecord::iso(j.created);
    r.modified = JobRecord::iso(j.modified);
    r.completed = JobRecord::iso(j.completed);
    r.expiration = JobRecord::iso(j.expiration);
    r.job_name = s(&j.name);
    r.job_description = s(&j.description);
    r.job_command = s(&j.notify_command);
    r.job_arguments = s(&j.notify_arguments);
    r.error_count = j.error_count.unwrap_or(0);
    r.job_type = match j.job_type() {
        Some(t) => type_name(t),
        None => format!(
            "{} (or {})",
            type_name(j.type_at_28),
            type_name(j.type_at_16)
        ),
    };
    r.job_state = state_name(j.state);
    r.priority = priority_name(j.priority);
    r.flags = j.notify_flags.map(flag_names).unwrap_or_default();
    r.http_method = s(&j.http_method);
    r.target_path = s(&j.client_path);
    r.transient_error_count = j.transient_error_count.unwrap_or(0);
    r.timeout = j.no_progress_timeout.unwrap_or(0);
    r.retry_delay = j.retry_delay.unwrap_or(0);
    r.additional_sids = j.additional_sids.clone();
    if let Some((off, len)) = j.security_descriptor {
        match e.blob.get(off..off.saturating_add(len)).map(descriptor) {
            Some(Ok(sd)) => {
                r.sddl = sd.sddl.clone();
                // The descriptor's owner and group: the SIDs artemis reports here, cut short.
                let extra = sd.owner_group.iter().cloned();
                r.additional_sids = extra.chain(j.additional_sids.iter().cloned()).collect();
                r.acls = sd.acls.clone();
                r.warnings.extend(sd.warnings.iter().cloned());
            }
            Some(Err(err)) => r.warnings.push(format!("security descriptor: {err}")),
            None => r
                .warnings
                .push("security descriptor range outside the blob".into()),
        }
    }
    // The decoder's own stop message says "job" here, once (it used to come twice).
    let stop = j.stopped.as_ref().map(|e| format!("decoding stopped: {e}"));
    r.warnings.extend(j.warnings.iter().map(|w| {
        if Some(w) == stop.as_ref() {
            format!("job {w}")
        } else {
            w.clone()
        }
    }));
    fill_job_settings(r, e);
    r.job_source = Some(e.source.clone());
}

/// The fields added after the seed's: version, client package, proxy, headers, security
/// flags, the error, unknown bytes.
fn fill_job_settings(r: &mut BitsInfo, e: &JobEntry) {
    let j = &e.job;
    r.job_version = match j.leading_marker {
        Some(first) => format!("{} (after a first marker: {first})", j.marker_label),
        None => j.marker_label.to_string(),
    };
    if let Some(ClientIdentity::Package(p)) = &j.identity {
        r.package_family_name = p.family_name.clone().unwrap_or_default();
        r.application_id = p.app_id.clone().unwrap_or_default();
        r.package_guid = p.guid.map(|g| g.to_string()).unwrap_or_default();
    }
    r.proxy_usage = j.proxy_usage.map(proxy_usage_name).unwrap_or_default();
    r.proxy_list = j.proxy_list.clone().unwrap_or_default();
    r.proxy_bypass = j.proxy_bypass.clone().unwrap_or_default();
    if let Some((off, len)) = j.custom_headers {
        let bytes = e.blob.get(off..off.saturating_add(len)).unwrap_or_default();
        let plain = j
            .custom_headers_size
            .map(|n| format!("{n} bytes of headers "))
            .unwrap_or_default();
        r.custom_headers = match dpapi::parse_header(bytes) {
            Ok(h) => format!("{plain}{}", h.summary()),
            Err(err) => {
                r.warnings
                    .push(format!("custom headers at {off}: not a DPAPI blob ({err})"));
                format!("{plain}in {len} bytes that are not a DPAPI blob")
            }
        };
    }
    r.security_flags = j
        .security_flags
        .map(security_flag_names)
        .unwrap_or_default();
    r.max_download_time = j.max_download_time.unwrap_or(0);
    let (codes, contexts): (Vec<String>, Vec<String>) = j.errors.iter().map(error_texts).unzip();
    r.error_code = codes.join("; ");
    r.error_context = contexts.join("; ");
    r.unknown_bytes = j
        .unknown
        .iter()
        .map(|&(off, len)| {
            let bytes = e.blob.get(off..off.saturating_add(len)).unwrap_or_default();
            let shown = crate::util::bytes::hex(bytes.get(..64).unwrap_or(bytes));
            let more = if bytes.len() > 64 { "…" } else { "" };
            format!("{off:#x}+{len}: {shown}{more}")
        })
        .collect();
    r.undecoded = j
        .undecoded
        .iter()
        .map(|&(off, len)| {
            let bytes = e.blob.get(off..off.saturating_add(len)).unwrap_or_default();
            format!("{off:#x}+{len}: {}", crate::util::bytes::hex(bytes))
        })
        .collect();
}

/// An error entry's code (`0x80190194 (HTTP 404)`) and context (`remote file (5)`).
fn error_texts(e: &JobError) -> (String, String) {
    let code = match e.hresult() {
        Some(hr) if hr & 0xFFFF_0000 == 0x8019_0000 => format!("{hr:#010x} (HTTP {})", hr & 0xFFFF),
        Some(hr) => format!("{hr:#010x}"),
        None => String::new(),
    };
    let context = e
        .context()
        .map(|c| format!("{} ({c})", job::error_context_name(c)))
        .unwrap_or_default();
    (code, context)
}

/// BG_JOB_PROXY_USAGE names.
pub fn proxy_usage_name(v: u32) -> String {
    match v {
        0 => "Preconfig".into(),
        1 => "NoProxy".into(),
        2 => "Override".into(),
        3 => "AutoDetect".into(),
        _ => format!("Unknown ({v})"),
    }
}

/// IBackgroundCopyJobHttpOptions security flag names, joined with " | ". The redirect policy
/// is a 3-bit field (0x700) whose 0 is a value: `RedirectAllowSilent`, the default.
pub fn security_flag_names(flags: u32) -> String {
    const BITS: [(u32, &str); 6] = [
        (0x01, "EnableCrlCheck"),
        (0x02, "IgnoreCertCnInvalid"),
        (0x04, "IgnoreCertDateInvalid"),
        (0x08, "IgnoreUnknownCa"),
        (0x10, "IgnoreCertWrongUsage"),
        (0x800, "RedirectAllowHttpsToHttp"),
    ];
    let mut out: Vec<String> = BITS
        .iter()
        .filter(|(b, _)| flags & b != 0)
        .map(|(_, n)| (*n).to_string())
        .collect();
    let policy = match flags & 0x700 {
        0 => "RedirectAllowSilent".to_string(),
        0x100 => "RedirectAllowReport".to_string(),
        0x200 => "RedirectDisallow".to_string(),
        p => format!("RedirectPolicy {p:#x}"),
    };
    out.insert(
        out.len().saturating_sub(usize::from(flags & 0x800 != 0)),
        policy,
    );
    let unknown = flags & !0xF1F;
    if unknown != 0 {
        out.push(format!("{unknown:#x}"));
    }
    out.join(" | ")
}

/// What a row takes from a job's security descriptor.
#[derive(Clone)]
struct Descriptor {
    sddl: String,
    owner_group: Vec<String>,
    acls: std::sync::Arc<[AccessControl]>,
    warnings: Vec<String>,
}

/// Descriptors already parsed, by their bytes: a queue holds thousands of jobs but only a
/// handful of distinct descriptors, and parsing one (SIDs, ACEs, SDDL) costs more than the
/// rest of a row. Bounded: cleared when it holds [`SD_CACHE`] entries.
const SD_CACHE: usize = 256;

thread_local! {
    static DESCRIPTORS: std::cell::RefCell<HashMap<Vec<u8>, std::rc::Rc<Descriptor>>> =
        std::cell::RefCell::new(HashMap::new());
}

fn descriptor(bytes: &[u8]) -> Result<std::rc::Rc<Descriptor>, String> {
    if let Some(d) = DESCRIPTORS.with(|c| c.borrow().get(bytes).cloned()) {
        return Ok(d);
    }
    let sd = parse_security_descriptor(bytes).map_err(|e| e.to_string())?;
    let d = std::rc::Rc::new(Descriptor {
        sddl: sd.to_sddl(),
        owner_group: sd.owner.iter().chain(sd.group.iter()).cloned().collect(),
        acls: sd.dacl.clone().unwrap_or_default().into(),
        warnings: sd
            .warnings
            .iter()
            .map(|w| format!("security descriptor: {w}"))
            .collect(),
    });
    DESCRIPTORS.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= SD_CACHE {
            c.clear();
        }
        c.insert(bytes.to_vec(), d.clone());
    });
    Ok(d)
}

fn fill_file(r: &mut BitsInfo, e: &FileEntry) {
    let f = &e.file;
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    r.full_path = s(&f.destination);
    r.filename = f.file_name().unwrap_or_default().to_string();
    r.url = s(&f.url);
    r.tmp_fullpath = s(&f.temp_path);
    r.drive = s(&f.drive);
    r.volume = s(&f.volume);
    r.bytes_downloaded = f.bytes_transferred.unwrap_or(0);
    r.bytes_transferred = f.total_bytes.unwrap_or(0);
    r.remote_modified = f.remote_mtime.map(filetime_iso).unwrap_or_default();
    let stop = f.stopped.as_ref().map(|e| format!("decoding stopped: {e}"));
    r.warnings.extend(f.warnings.iter().map(|w| {
        if Some(w) == stop.as_ref() {
            format!("file {w}")
        } else {
            w.clone()
        }
    }));
    r.file_source = Some(e.source.clone());
}

/// Names as artemis spells them (Download, Transferred, Foreground, ...).
pub fn type_name(v: u32) -> String {
    title(job::type_name(v), v)
}
pub fn state_name(v: u32) -> String {
    title(job::state_name(v), v)
}
pub fn priority_name(v: u32) -> String {
    title(job::priority_name(v), v)
}

fn title(name: &str, v: u32) -> String {
    if name == "unknown" {
        return format!("Unknown ({v})");
    }
    name.split(['-', ' '])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// Every BG_NOTIFY bit by name, joined with " | " (artemis keeps only one).
pub fn flag_names(flags: u32) -> String {
    const NAMES: [(u32, &str); 6] = [
        (0x01, "Transferred"),
        (0x02, "Error"),
        (0x04, "Disable"),
        (0x08, "Modification"),
        (0x10, "FileTransferred"),
        (0x20, "FileRangesTransferred"),
    ];
    let mut out: Vec<String> = NAMES
        .iter()
        .filter(|(b, _)| flags & b != 0)
        .map(|(_, n)| (*n).to_string())
        .collect();
    let unknown = flags & !0x3F;
    if unknown != 0 {
        out.push(format!("{unknown:#x}"));
    }
    out.join(" | ")
}
