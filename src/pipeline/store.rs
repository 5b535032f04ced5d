//! The store path: one qmgr.db or legacy queue, in memory or mapped, opened once, carved,
//! decoded and joined; and the raw carver's path for bytes with no store structure.

use super::join::Join;
use super::{Diagnostic, Format, Options, ParseError, Phase, RunError, Sink};
use crate::bits::carve;
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
/// not stay resident while records stream out.
pub(super) fn run_store(
    data: &[u8],
    format: Format,
    evidence: &str,
    opts: &Options,
    sink: &mut dyn Sink,
    release: &dyn Fn(),
) -> Result<(), RunError> {
    match format {
        Format::Ese => run_ese(data, evidence, opts, sink, release),
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
) -> Result<(), RunError> {
    DB_OPENS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let db = Database::open(data).map_err(|error| ParseError::Ese {
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
            done += 1;
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
    let mut join = Join::new(opts.field_ranges, Vec::new());
    if opts.carve {
        let label = "legacy queue (outside the live job list)";
        join.add_candidates(carve::carve_buffer(data, 0, evidence, &|_| {
            (label.into(), None)
        }));
    }
    let jobs: Vec<(JobEntry, Vec<FileEntry>)> = queue
        .jobs
        .into_iter()
        .filter_map(|lj| legacy_entry(data, lj, evidence, opts))
        .collect();
    for (job, _) in &jobs {
        *join.live_counts.entry(job.job.job_id).or_default() += 1;
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
