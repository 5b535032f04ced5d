//! The store path: one qmgr.db or legacy queue, in memory or mapped, opened once, carved,
//! decoded and joined; and the raw carver's path for bytes with no store structure.

use super::join::Join;
use super::{Diagnostic, Format, Options, ParseError, Phase, RunError, Sink, Stop};
use crate::bits::carve::{self, Carved};
use crate::bits::legacy::decode_legacy_queue;
use crate::bits::model::{FieldRange, FileEntry, JobEntry, Source, SourceKind};
use crate::bits::qmgr;
use crate::ese::Database;

/// Carve bytes in memory that have no store structure to read (raw bytes, an ESE log), each
/// record's source naming `container`.
pub(super) fn carve_raw(
    data: &[u8],
    evidence: &str,
    container: &str,
    opts: &Options,
    sink: &mut dyn Sink,
) -> Result<(), RunError> {
    let found = carve::carve_buffer(data, 0, evidence, &|_| (container.into(), None));
    let mut join = Join::new(opts.field_ranges, Vec::new());
    join.add_candidates(found);
    join.finish(sink)
}

/// Jobs decoded between two releases of the store's mapped pages.
const RELEASE_EVERY: usize = 2048;

/// Decode (and carve) one store. `release` drops the store's mapped pages from the resident
/// set between passes: each pass touches the whole file, and a store of hundreds of MB need
/// not stay resident while records stream out. `held` is how many of `data`'s bytes the file
/// really holds (a sparse file's allocated blocks): the ESE reader's budget is based on them.
pub(super) fn run_store(
    data: &[u8],
    format: Format,
    evidence: &str,
    opts: &Options,
    sink: &mut dyn Sink,
    release: &dyn Fn(),
    held: u64,
) -> Result<(), RunError> {
    match format {
        Format::Ese => run_ese(data, evidence, opts, sink, release, held),
        _ => run_legacy(data, evidence, opts, sink),
    }
}

/// How many databases this process has opened through the pipeline (a test checks one per
/// evidence file).
static DB_OPENS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
/// How many legacy queues this process has decoded through the pipeline.
static QUEUE_DECODES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// (databases opened, legacy queues decoded) so far by this process.
pub fn decode_counts() -> (usize, usize) {
    use std::sync::atomic::Ordering::Relaxed;
    (DB_OPENS.load(Relaxed), QUEUE_DECODES.load(Relaxed))
}

fn run_ese(
    data: &[u8],
    evidence: &str,
    opts: &Options,
    sink: &mut dyn Sink,
    release: &dyn Fn(),
    held: u64,
) -> Result<(), RunError> {
    DB_OPENS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let db = Database::open_holding(data, held).map_err(|error| ParseError::Ese {
        path: evidence.to_string(),
        error,
    })?;
    for w in &db.warnings {
        sink.warning(w)?;
    }
    if db.table("Jobs").is_none() && db.table("Files").is_none() {
        // Another program's database (SRUDB, WebCache...): nothing of BITS to read live.
        if !opts.carve {
            return Err(ParseError::NotBitsEse(evidence.to_string()).into());
        }
        sink.warning(&Diagnostic::new(
            "an ESE database with neither a Jobs nor a Files table: carved only",
        ))?;
    }
    let total = data.len() as u64;
    let mut candidates = Vec::new();
    if opts.carve {
        sink.progress(Phase::Carving, 0, total)?;
        let (found, warnings) = carve::carve_ese(&db, evidence);
        for w in &warnings {
            sink.warning(&Diagnostic::new(w.as_str()))?;
        }
        candidates = found;
        release();
    }
    sink.progress(Phase::Decoding, 0, total)?;
    let mut warnings = Vec::new();
    let files = qmgr::read_files(&db, evidence, opts.field_ranges, &mut warnings);
    let live_ids = qmgr::job_id_counts(&db);
    release();
    let mut join = Join::new(opts.field_ranges, files);
    join.add_candidates(candidates);
    join.live_counts = live_ids;
    let mut result = Ok(());
    let mut done = 0usize;
    qmgr::for_each_job(
        &db,
        evidence,
        opts.field_ranges,
        &mut warnings,
        &mut |job| {
            result = join.live_job(job, sink);
            done = done.saturating_add(1);
            if done % RELEASE_EVERY == 0 {
                release();
            }
            result.is_ok()
        },
    );
    release();
    // Long values the ESE reader refused while the blobs were read (over its budget).
    warnings.extend(db.value_warnings());
    for w in &warnings {
        sink.warning(w)?;
    }
    result?;
    sink.progress(Phase::Decoding, total, total)?;
    join.finish(sink)
}

fn run_legacy(
    data: &[u8],
    evidence: &str,
    opts: &Options,
    sink: &mut dyn Sink,
) -> Result<(), RunError> {
    let queue = decode_legacy(data, evidence, opts, sink)?;
    join_legacy(vec![queue], opts, sink)
}

/// A legacy queue decoded (and carved, when asked), its live jobs as entries with their
/// inline files: what [`join_legacy`] joins. It holds copies of the jobs' bytes, so the
/// file's map need not outlive it.
pub(super) struct LegacyDecoded {
    pub(super) jobs: Vec<(JobEntry, Vec<FileEntry>)>,
    pub(super) carved: Vec<Carved>,
}

/// Decode (and carve) one legacy queue; its warnings go to the sink now.
pub(super) fn decode_legacy(
    data: &[u8],
    evidence: &str,
    opts: &Options,
    sink: &mut dyn Sink,
) -> Result<LegacyDecoded, Stop> {
    QUEUE_DECODES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let queue = match decode_legacy_queue(data) {
        Ok(q) => q,
        Err(e) => {
            // The header said legacy; the queue itself does not decode.
            sink.warning(&Diagnostic::at(e.offset(), format!("legacy queue: {e}")))?;
            Default::default()
        }
    };
    for w in &queue.warnings {
        sink.warning(w)?;
    }
    let carved = if opts.carve {
        let label = "legacy queue (outside the live job list)";
        carve::carve_buffer(data, 0, evidence, &|_| (label.into(), None))
    } else {
        Vec::new()
    };
    let jobs = queue
        .jobs
        .into_iter()
        .filter_map(|lj| legacy_entry(data, lj, evidence, opts))
        .collect();
    Ok(LegacyDecoded { jobs, carved })
}

/// Join decoded legacy queues into rows: one queue, or the two files of a qmgr0/qmgr1 pair
/// after [`super::pair::merge`]. The carved records of every queue are candidates for every
/// live job, and copies of one job are counted across the files.
pub(super) fn join_legacy(
    queues: Vec<LegacyDecoded>,
    opts: &Options,
    sink: &mut dyn Sink,
) -> Result<(), RunError> {
    let mut join = Join::new(opts.field_ranges, Vec::new());
    let mut jobs = Vec::new();
    let mut carved = Vec::new();
    for q in queues {
        jobs.extend(q.jobs);
        carved.extend(q.carved);
    }
    if opts.carve {
        join.add_candidates(carved);
    }
    for (job, _) in &jobs {
        let n = join.live_counts.entry(job.job.job_id).or_default();
        *n = n.saturating_add(1);
    }
    for (job, files) in jobs {
        join.live_legacy(job, files, sink)?;
    }
    join.finish(sink)
}

/// A live legacy job as an entry: its bytes, its source, and its inline files (which share
/// the job's source: they have no record of their own).
fn legacy_entry(
    data: &[u8],
    mut lj: crate::bits::legacy::LegacyJob,
    evidence: &str,
    opts: &Options,
) -> Option<(JobEntry, Vec<FileEntry>)> {
    let bytes = data.get(lj.offset..lj.offset.saturating_add(lj.job.len))?;
    // The queue decoder's offsets are in the file; a record's start at the record.
    lj.job.rebase(lj.offset);
    let mut source = Source {
        evidence: evidence.to_string(),
        offset: lj.offset as u64,
        length: bytes.len() as u64,
        kind: SourceKind::Live,
        container: "legacy-queue".into(),
        ..Source::default()
    };
    let files = FileEntry::inline(lj.files, &source);
    if opts.field_ranges {
        source.fields = FieldRange::from_fields(&lj.job.fields);
    }
    let job = JobEntry {
        job: lj.job,
        blob: bytes.to_vec(),
        source,
    };
    Some((job, files))
}
