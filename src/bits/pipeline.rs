//! The one path from evidence to records. `parse`, `collect`, the explorer's worker and the
//! demo all call [`run_file`] (or [`run_bytes`] for bytes already in memory), so the same
//! evidence gives the same records everywhere.
//!
//! Each store is opened once and decoded once:
//! - **qmgr.db**: the database is opened once. The carver runs first, on that open database,
//!   and its finds are held as *candidates* (deleted records are few next to live ones). Then
//!   the Files table is decoded (the join needs it) and the Jobs table is walked one row at a
//!   time: each live job drops the candidates that merely copy it, and its rows go to the sink
//!   at once, with their final `versions` (live copies plus surviving carved copies).
//!   Surviving candidates, files no job claims, and carved files follow.
//! - **legacy queue**: parsed once; the carver scans the same bytes, and the live jobs'
//!   blobs drop the candidates that copy them, as above.
//! - **anything else**, when carving: streamed in chunks by positioned reads (a disk image of
//!   any size in bounded memory), never mapped whole.

use std::collections::HashMap;
use std::path::Path;

use super::carve::{self, Carved};
use super::decoded::{join_job, row};
use super::legacy::{decode_legacy_queue, is_legacy_queue};
use super::model::{missing_file_fields, missing_job_fields, BitsInfo, FieldRange};
use super::model::{FileEntry, JobEntry, Source, SourceKind};
use super::parse::{Format, ParseError};
use super::qmgr;
pub use super::reader::Warning;
use crate::ese::Database;
use crate::input::Evidence;
use crate::util::guid::Guid;

/// Disk images, volumes and archives: the stores the container layer finds, run through
/// [`run_store`].
#[cfg(feature = "images")]
mod images;

/// How much of an evidence file to read to tell its format.
pub const HEAD: usize = 64 * 1024;

/// What to produce.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Also carve deleted records.
    pub carve: bool,
    /// Attach each record's per-field byte ranges to its provenance (`--provenance fields`).
    /// Off by default: the explorer decodes one record again when its hex view opens.
    pub field_ranges: bool,
}

/// The sink wants no more records (cancelled, or its writer failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop;

/// What the pipeline is doing, for a progress gauge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Decoding,
    Carving,
}

/// Where records go as they are made.
pub trait Sink {
    fn record(&mut self, record: BitsInfo) -> Result<(), Stop>;
    /// A problem with the evidence (the record-level ones travel in `BitsInfo.warnings`).
    fn warning(&mut self, warning: &Warning) -> Result<(), Stop>;
    /// `done` of `total` bytes (0/0 when it cannot say) in `phase`.
    fn progress(&mut self, _phase: Phase, _done: u64, _total: u64) -> Result<(), Stop> {
        Ok(())
    }
}

/// What a run did, for the caller's summary and exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub format: Format,
    pub records: u64,
}

/// A pipeline failure: the evidence could not be read, or the sink stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("stopped")]
    Stopped,
}

impl From<Stop> for RunError {
    fn from(_: Stop) -> Self {
        RunError::Stopped
    }
}

/// What the first bytes of a file say it is. Reads only the header: never the whole file.
///
/// An ESE database is known by its signature in the header at 0 or, when that header is
/// wiped, in the shadow header one page further (at 2, 4, 8, 16 or 32 KiB: all within
/// [`HEAD`]); the reader then falls back to the shadow.
pub fn detect(head: &[u8]) -> Format {
    let ese_at =
        |at: usize| crate::util::bytes::u32_le(head, at + 4) == Some(crate::ese::header::SIGNATURE);
    if [0, 2048, 4096, 8192, 16384, 32768].into_iter().any(ese_at) {
        Format::Ese
    } else if is_legacy_queue(head) {
        Format::Legacy
    } else {
        Format::Unknown
    }
}

/// Open one evidence file and run it through the pipeline.
pub fn run_file(path: &Path, opts: &Options, sink: &mut dyn Sink) -> Result<Summary, RunError> {
    let ev = Evidence::open(path).map_err(ParseError::from)?;
    run_evidence(&ev, opts, sink)
}

/// Run an already opened evidence file through the pipeline.
pub fn run_evidence(
    ev: &Evidence,
    opts: &Options,
    sink: &mut dyn Sink,
) -> Result<Summary, RunError> {
    let label = ev.path().display().to_string();
    let io = |source| {
        ParseError::Input(crate::input::InputError::Io {
            path: ev.path().to_path_buf(),
            source,
        })
    };
    let head = ev.head(HEAD).map_err(io)?;
    let format = detect(&head);
    drop(head);
    let mut counted = Counting { sink, records: 0 };
    #[cfg(feature = "images")]
    if format == Format::Unknown && images::run_container(ev, &label, opts, &mut counted)? {
        return Ok(Summary {
            format,
            records: counted.records,
        });
    }
    match format {
        Format::Unknown if !opts.carve => return Err(ParseError::NotBits(label).into()),
        Format::Unknown => {
            counted.warning(&Warning::new(
                "not a BITS queue (no ESE or legacy queue header): carved as raw bytes",
            ))?;
            let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
            let total = ev.len();
            let mut stopped = false;
            let mut progress = |done: u64| {
                stopped = counted.sink.progress(Phase::Carving, done, total).is_err();
                !stopped
            };
            let found = carve::carve_stream_until(ev.reader(), &label, threads, &mut progress)
                .map_err(io)?;
            if stopped {
                return Err(RunError::Stopped);
            }
            let mut join = Join::new(*opts, Vec::new());
            join.add_candidates(found);
            join.finish(&mut counted)?;
        }
        Format::Ese | Format::Legacy => {
            let map = ev.map().map_err(ParseError::from)?;
            let release = || map.release();
            run_store(&map, format, &label, opts, &mut counted, &release)?;
        }
    }
    Ok(Summary {
        format,
        records: counted.records,
    })
}

/// Run bytes already in memory (tests, fuzzing, the demo) through the pipeline.
pub fn run_bytes(
    data: &[u8],
    evidence: &str,
    opts: &Options,
    sink: &mut dyn Sink,
) -> Result<Summary, RunError> {
    let format = detect(data.get(..HEAD.min(data.len())).unwrap_or(data));
    let mut counted = Counting { sink, records: 0 };
    match format {
        Format::Unknown if !opts.carve => {
            return Err(ParseError::NotBits(evidence.to_string()).into())
        }
        Format::Unknown => {
            counted.warning(&Warning::new(
                "not a BITS queue (no ESE or legacy queue header): carved as raw bytes",
            ))?;
            carve_raw(data, evidence, "raw bytes", opts, &mut counted)?;
        }
        _ => run_store(data, format, evidence, opts, &mut counted, &|| {})?,
    }
    Ok(Summary {
        format,
        records: counted.records,
    })
}

/// Carve bytes in memory that have no store structure to read (raw bytes, an ESE log), each
/// record's source naming `container`.
fn carve_raw(
    data: &[u8],
    evidence: &str,
    container: &str,
    opts: &Options,
    sink: &mut dyn Sink,
) -> Result<(), RunError> {
    let found = carve::carve_buffer(data, 0, evidence, &|_| (container.into(), None));
    let mut join = Join::new(*opts, Vec::new());
    join.add_candidates(found);
    join.finish(sink)
}

/// Jobs decoded between two releases of the store's mapped pages.
const RELEASE_EVERY: usize = 2048;

/// Decode (and carve) one store. `release` drops the store's mapped pages from the resident
/// set between passes: each pass touches the whole file, and a store of hundreds of MB need
/// not stay resident while records stream out.
fn run_store(
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
        sink.warning(&Warning::new(w.as_str()))?;
    }
    if db.table("Jobs").is_none() && db.table("Files").is_none() {
        // Another program's database (SRUDB, WebCache...): nothing of BITS to read live.
        if !opts.carve {
            return Err(ParseError::NotBitsEse(evidence.to_string()).into());
        }
        sink.warning(&Warning::new(
            "an ESE database with neither a Jobs nor a Files table: carved only",
        ))?;
    }
    let total = data.len() as u64;
    let mut candidates = Vec::new();
    if opts.carve {
        sink.progress(Phase::Carving, 0, total)?;
        let (found, warnings) = carve::carve_ese(&db, evidence);
        for w in &warnings {
            sink.warning(&Warning::new(w.as_str()))?;
        }
        candidates = found;
        release();
    }
    sink.progress(Phase::Decoding, 0, total)?;
    let mut warnings = Vec::new();
    let files = qmgr::read_files(&db, evidence, opts, &mut warnings);
    let live_ids = qmgr::job_id_counts(&db);
    release();
    let mut join = Join::new(*opts, files);
    join.add_candidates(candidates);
    join.live_counts = live_ids;
    let mut result = Ok(());
    let mut done = 0usize;
    qmgr::for_each_job(&db, evidence, opts, &mut warnings, &mut |job| {
        result = join.live_job(job, sink);
        done += 1;
        if done % RELEASE_EVERY == 0 {
            release();
        }
        result.is_ok()
    });
    release();
    // Long values the ESE reader refused while the blobs were read (over its budget).
    warnings.extend(db.value_warnings().into_iter().map(Warning::new));
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
            sink.warning(&Warning::at(e.offset(), format!("legacy queue: {e}")))?;
            Default::default()
        }
    };
    for w in &queue.warnings {
        sink.warning(w)?;
    }
    let mut join = Join::new(*opts, Vec::new());
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
    mut lj: super::legacy::LegacyJob,
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

/// Counts the records that reach the sink.
struct Counting<'s> {
    sink: &'s mut dyn Sink,
    records: u64,
}

impl Sink for Counting<'_> {
    fn record(&mut self, record: BitsInfo) -> Result<(), Stop> {
        self.records += 1;
        self.sink.record(record)
    }
    fn warning(&mut self, warning: &Warning) -> Result<(), Stop> {
        self.sink.warning(warning)
    }
    fn progress(&mut self, phase: Phase, done: u64, total: u64) -> Result<(), Stop> {
        self.sink.progress(phase, done, total)
    }
}

/// Joins of an already joined file allowed beyond one per file (see [`join_job`]).
const SHARED_JOINS: usize = 1024;

/// A carved record with its place in the carver's output (the order rows are emitted in).
type Candidate = (usize, Carved);

/// The join of jobs and files into rows, and of live records with their carved copies.
struct Join {
    opts: Options,
    files: Vec<FileEntry>,
    by_id: HashMap<Guid, Vec<usize>>,
    claimed: Vec<bool>,
    /// How many more times a file already joined to one job may join another (see
    /// [`join_job`]): rows stay bounded by the records present, whatever the file lists say.
    shared_left: usize,
    /// Carved jobs (Win10+ and legacy) not yet settled, by job id.
    pending: HashMap<Guid, Vec<Candidate>>,
    /// Carved files, settled against the live files when added.
    carved_files: Vec<Candidate>,
    /// Carved jobs whose live copies have all been seen: they will be emitted.
    settled: Vec<Candidate>,
    /// Live jobs per id (from the table's Id column, or the queue), so a job's carved copies
    /// are settled once its last live copy has been seen.
    live_counts: HashMap<Guid, u32>,
    /// Live copies seen so far per id: (offset, blob) and, for ids with several live copies,
    /// the entries held back until the last one.
    live_seen: HashMap<Guid, Vec<LiveCopy>>,
}

struct LiveCopy {
    offset: u64,
    blob: Vec<u8>,
    held: Option<(JobEntry, Option<Vec<FileEntry>>)>,
}

impl Join {
    fn new(opts: Options, files: Vec<FileEntry>) -> Join {
        let mut by_id: HashMap<Guid, Vec<usize>> = HashMap::new();
        for (i, f) in files.iter().enumerate() {
            if let Some(id) = f.id {
                by_id.entry(id).or_default().push(i);
            }
        }
        let claimed = vec![false; files.len()];
        Join {
            opts,
            shared_left: files.len().saturating_add(SHARED_JOINS),
            files,
            by_id,
            claimed,
            pending: HashMap::new(),
            carved_files: Vec::new(),
            settled: Vec::new(),
            live_counts: HashMap::new(),
            live_seen: HashMap::new(),
        }
    }

    /// Take the carver's finds. Carved files are settled at once against the live files
    /// (already decoded); carved jobs wait for their live copies.
    fn add_candidates(&mut self, found: Vec<Carved>) {
        let mut files = Vec::new();
        for (i, mut c) in found.into_iter().enumerate() {
            if !self.opts.field_ranges {
                c.source_mut().fields = Vec::new();
            }
            match c {
                Carved::File(_) => files.push((i, c)),
                Carved::Job(ref j) | Carved::Legacy(ref j, _) => {
                    let id = j.job.job_id;
                    self.pending.entry(id).or_default().push((i, c));
                }
            }
        }
        let live: Vec<&[u8]> = self.files.iter().map(|f| f.blob.as_slice()).collect();
        self.carved_files = dedup_indexed(&live, files);
        // The live files' bytes were kept for this comparison only.
        for f in &mut self.files {
            f.blob = Vec::new();
        }
    }

    /// A live Win10+ job: settle its carved copies and emit its rows (or hold it back while
    /// more live copies of its id are to come).
    fn live_job(&mut self, job: JobEntry, sink: &mut dyn Sink) -> Result<(), Stop> {
        self.live(job, None, sink)
    }

    /// A live legacy job with its inline files.
    fn live_legacy(
        &mut self,
        job: JobEntry,
        files: Vec<FileEntry>,
        sink: &mut dyn Sink,
    ) -> Result<(), Stop> {
        self.live(job, Some(files), sink)
    }

    fn live(
        &mut self,
        job: JobEntry,
        inline: Option<Vec<FileEntry>>,
        sink: &mut dyn Sink,
    ) -> Result<(), Stop> {
        let id = job.job.job_id;
        let expected = self.live_counts.get(&id).copied().unwrap_or(1).max(1);
        let seen = self.live_seen.entry(id).or_default();
        let last = seen.len() + 1 >= expected as usize;
        let copy = LiveCopy {
            offset: job.source.offset,
            blob: if self.pending.contains_key(&id) {
                job.blob.clone()
            } else {
                Vec::new()
            },
            held: None,
        };
        if !last {
            seen.push(LiveCopy {
                held: Some((job, inline)),
                ..copy
            });
            return Ok(());
        }
        seen.push(copy);
        let versions = self.settle_and_emit_held(id, sink)?;
        self.emit_job(&job, inline.as_deref(), None, versions, sink)
    }

    /// Settle `id` and emit the live copies held back for it; returns its version count.
    fn settle_and_emit_held(&mut self, id: Guid, sink: &mut dyn Sink) -> Result<u32, Stop> {
        let versions = self.settle(id);
        let held: Vec<_> = self
            .live_seen
            .get_mut(&id)
            .map(|v| v.iter_mut().filter_map(|c| c.held.take()).collect())
            .unwrap_or_default();
        for (j, files) in held {
            self.emit_job(&j, files.as_deref(), None, versions, sink)?;
        }
        Ok(versions)
    }

    /// All live copies of `id` are in: drop the carved candidates that copy one of them,
    /// merge identical carved copies, and return the number of distinct copies.
    fn settle(&mut self, id: Guid) -> u32 {
        let copies = self.live_seen.get(&id);
        let live: Vec<&[u8]> = copies
            .map(|v| v.iter().map(|c| c.blob.as_slice()).collect())
            .unwrap_or_default();
        let mut offsets: Vec<u64> = copies
            .map(|v| v.iter().map(|c| c.offset).collect())
            .unwrap_or_default();
        if let Some(group) = self.pending.remove(&id) {
            let kept = dedup_indexed(&live, group);
            offsets.extend(kept.iter().map(|(_, c)| c.source().offset));
            self.settled.extend(kept);
        }
        // Free the blobs: only the offsets are needed from here on.
        if let Some(v) = self.live_seen.get_mut(&id) {
            for c in v.iter_mut() {
                c.blob = Vec::new();
            }
        }
        offsets.sort_unstable();
        offsets.dedup();
        u32::try_from(offsets.len()).unwrap_or(u32::MAX)
    }

    /// The rows of one job: joined with the files it lists (Win10+) or with its inline files
    /// (legacy).
    fn emit_job(
        &mut self,
        j: &JobEntry,
        inline: Option<&[FileEntry]>,
        missing: Option<&[String]>,
        versions: u32,
        sink: &mut dyn Sink,
    ) -> Result<(), Stop> {
        let mut rows = Vec::new();
        match inline {
            Some([]) => rows.push(row(Some(j), None, None)),
            Some(files) => rows.extend(files.iter().map(|f| row(Some(j), Some(f), None))),
            None => {
                let extra = join_job(
                    j,
                    &self.files,
                    &self.by_id,
                    &mut self.claimed,
                    &mut self.shared_left,
                    &mut rows,
                );
                rows.extend(extra);
            }
        }
        for mut r in rows {
            r.versions = versions;
            if let Some(m) = missing {
                r.missing_fields = m.to_vec();
            }
            sink.record(r)?;
        }
        Ok(())
    }

    /// After the live records: the carved jobs, the files no job claims, the carved files,
    /// the carved legacy jobs, each group in the carver's order.
    fn finish(mut self, sink: &mut dyn Sink) -> Result<(), RunError> {
        self.flush_held(sink)?;
        let ids: Vec<Guid> = self.pending.keys().copied().collect();
        for id in ids {
            self.settle(id);
        }
        let mut settled = std::mem::take(&mut self.settled);
        settled.sort_by_key(|(i, _)| *i);
        let counts = self.version_counts(&settled);
        let versions = |id: &Guid| counts.get(id).copied().unwrap_or(1);
        let mut legacy = Vec::new();
        for (_, c) in settled {
            match c {
                Carved::Job(j) => {
                    let missing = missing_job_fields(&j.job);
                    self.emit_job(&j, None, Some(&missing), versions(&j.job.job_id), sink)?;
                }
                Carved::Legacy(j, files) => legacy.push((j, files)),
                Carved::File(_) => {}
            }
        }
        let orphans: Vec<usize> = (0..self.files.len())
            .filter(|i| !self.claimed.get(*i).copied().unwrap_or(true))
            .collect();
        for i in orphans {
            if let Some(f) = self.files.get(i) {
                sink.record(row(None, Some(f), f.id))?;
            }
        }
        for (_, c) in std::mem::take(&mut self.carved_files) {
            if let Carved::File(f) = c {
                let mut r = row(None, Some(&f), None);
                r.missing_fields = missing_file_fields(&f.file);
                sink.record(r)?;
            }
        }
        for (j, files) in legacy {
            let missing = missing_job_fields(&j.job);
            self.emit_job(
                &j,
                Some(&files),
                Some(&missing),
                versions(&j.job.job_id),
                sink,
            )?;
        }
        Ok(())
    }

    /// Live jobs held back for more copies of their id that never came (the Id column and
    /// the blobs disagree): settle and emit them now.
    fn flush_held(&mut self, sink: &mut dyn Sink) -> Result<(), Stop> {
        let ids: Vec<Guid> = self
            .live_seen
            .iter()
            .filter(|(_, v)| v.iter().any(|c| c.held.is_some()))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.settle_and_emit_held(id, sink)?;
        }
        Ok(())
    }

    /// Distinct copies (live offsets and carved offsets) of each carved job's id.
    fn version_counts(&self, settled: &[Candidate]) -> HashMap<Guid, u32> {
        let mut offsets: HashMap<Guid, Vec<u64>> = HashMap::new();
        for (_, c) in settled {
            if let Carved::Job(j) | Carved::Legacy(j, _) = c {
                offsets
                    .entry(j.job.job_id)
                    .or_default()
                    .push(j.source.offset);
            }
        }
        for (id, v) in offsets.iter_mut() {
            if let Some(live) = self.live_seen.get(id) {
                v.extend(live.iter().map(|c| c.offset));
            }
            v.sort_unstable();
            v.dedup();
        }
        offsets
            .into_iter()
            .map(|(id, v)| (id, u32::try_from(v.len()).unwrap_or(u32::MAX)))
            .collect()
    }
}

/// [`carve::dedup`] keeping each survivor's place in the carver's output.
fn dedup_indexed(live: &[&[u8]], group: Vec<Candidate>) -> Vec<Candidate> {
    let (order, carved): (Vec<usize>, Vec<Carved>) = group.into_iter().unzip();
    let first_offset: HashMap<u64, usize> = order
        .iter()
        .zip(&carved)
        .map(|(i, c)| (c.source().offset, *i))
        .collect();
    carve::dedup(live, carved)
        .into_iter()
        .map(|c| {
            // A merged copy keeps the place of whichever offset it now carries.
            let i = first_offset
                .get(&c.source().offset)
                .copied()
                .unwrap_or(usize::MAX);
            (i, c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bits::file::FileRecord;
    use crate::bits::job::JobRecord;

    fn guid(n: u32) -> Guid {
        let mut g = [0x11u8; 16];
        g[..4].copy_from_slice(&n.to_le_bytes());
        Guid(g)
    }

    fn job(n: u32, files: Vec<Guid>) -> JobEntry {
        JobEntry {
            job: JobRecord {
                job_id: guid(1_000_000 + n),
                file_ids: files,
                ..JobRecord::default()
            },
            blob: Vec::new(),
            source: Source {
                offset: u64::from(n),
                ..Source::default()
            },
        }
    }

    fn file(id: Guid, n: u64) -> FileEntry {
        FileEntry {
            id: Some(id),
            file: FileRecord::default(),
            blob: Vec::new(),
            source: Source {
                offset: n,
                ..Source::default()
            },
        }
    }

    fn rows_of(files: Vec<FileEntry>, jobs: Vec<JobEntry>) -> Parsed {
        let mut join = Join::new(Options::default(), files);
        let mut out = Parsed::default();
        for j in jobs {
            join.live_job(j, &mut out).unwrap();
        }
        join.finish(&mut out).unwrap();
        out
    }

    use crate::bits::parse::Parsed;

    #[test]
    fn one_shared_file_id_listed_over_and_over_is_joined_once_per_job() {
        // 800 Files rows all with one Id; 200 jobs each listing that Id 800 times: once
        // 160,000 rows, now one row per job, each saying why.
        let id = guid(7);
        let files = (0..800).map(|n| file(id, n)).collect();
        let jobs = (0..200).map(|n| job(n, vec![id; 800])).collect();
        let out = rows_of(files, jobs);
        // 200 job rows and the 799 Files rows no job joined (they are records too).
        assert_eq!(out.records.len(), 200 + 799);
        let w = &out.records[0].warnings;
        assert!(
            w.iter()
                .any(|w| w.starts_with("799 file id(s) listed more than once")),
            "{w:?}"
        );
        assert!(
            w.iter()
                .any(|w| w.starts_with("799 more Files row(s) share an Id")),
            "{w:?}"
        );
    }

    #[test]
    fn files_claimed_by_every_job_stop_at_the_bound() {
        // 800 distinct files, 200 jobs each listing all of them: 160,000 pairs, of which
        // the first job's 800 and then files + 1,024 shared joins are made (jobs 1 to 3);
        // the 196 jobs after the bound still get a row each, saying so.
        let ids: Vec<Guid> = (0..800).map(guid).collect();
        let files = ids
            .iter()
            .enumerate()
            .map(|(n, id)| file(*id, n as u64))
            .collect();
        let jobs = (0..200).map(|n| job(n, ids.clone())).collect();
        let out = rows_of(files, jobs);
        assert_eq!(out.records.len(), 800 + (800 + SHARED_JOINS) + 196);
        let last = out.records.last().unwrap();
        assert!(
            last.warnings
                .iter()
                .any(|w| w.contains("already claimed by other jobs")),
            "{:?}",
            last.warnings
        );
    }
}
