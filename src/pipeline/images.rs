//! The pipeline's way into images (feature `images`): an evidence file whose header is not a
//! store goes to the container layer; every store it finds runs the store path with the
//! container chain in its records' provenance, and with `--carve` each NTFS volume's
//! unallocated clusters are carved, streamed, and placed back at their disk offsets.

use super::join::Join;
use super::store::{carve_raw, run_store};
use super::{detect, Diagnostic, Format, Options, ParseError, Phase, RunError, Sink, Stop, HEAD};
use crate::bits::carve;
use crate::bits::model::{BitsInfo, Source, UNALLOCATED};
use crate::container;
use crate::input::Evidence;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// A disk or volume image: run every BITS store the container layer finds in it through the
/// store path, each record's provenance carrying the container chain. False when no container
/// is recognized or no store is found in it (the caller's other paths apply).
///
/// Each store is read into memory by positioned reads (the readers walk one slice; a qmgr.db
/// is a few MB, and [`crate::container::MAX_STORE`] caps it), never the image.
pub(super) fn run_container(
    ev: &Evidence,
    label: &str,
    opts: &Options,
    sink: &mut dyn Sink,
) -> Result<bool, RunError> {
    // Every read of the evidence file(s) is counted, for a gauge over the image's bytes.
    let read = AtomicU64::new(0);
    let segments = Cell::new(0u64);
    let file = Counted {
        inner: ev,
        read: &read,
    };
    // Further segment files (E01: .E02, .E03, ...) beside the evidence, same case.
    let more = |n: u32| -> Option<Box<dyn container::ReadAt + '_>> {
        let ext = ev.path().extension()?.to_str()?;
        let letter = if ext.starts_with('e') { 'e' } else { 'E' };
        let path = ev.path().with_extension(format!("{letter}{n:02}"));
        let seg = Evidence::open(&path).ok()?;
        segments.set(segments.get().saturating_add(seg.len()));
        Some(Box::new(Counted {
            inner: seg,
            read: &read,
        }))
    };
    let Some(found) = container::open_with(&file, &more) else {
        return Ok(false);
    };
    for w in &found.warnings {
        sink.warning(w)?;
    }
    if found.stores.is_empty() {
        return Ok(false);
    }
    let total = ev.len().saturating_add(segments.get());
    run_found(&found, &read, total, label, opts, sink)?;
    Ok(true)
}

/// Run the stores of a container already opened (by [`run_container`], or the live host's
/// volume: `live.rs`), and with `--carve` its volumes' unallocated clusters; `read` counts the
/// bytes read of the evidence, `total` its size, for the gauge. The container's warnings are
/// the caller's to tell.
pub(super) fn run_found(
    found: &container::Found,
    read: &AtomicU64,
    total: u64,
    label: &str,
    opts: &Options,
    sink: &mut dyn Sink,
) -> Result<(), RunError> {
    let gauge = Gauge { read, total };
    gauge.report(sink, Phase::Decoding)?;
    for store in &found.stores {
        run_one(found, store, label, opts, &gauge, sink)?;
    }
    if opts.carve {
        for vol in &found.volumes {
            let mut warnings = Vec::new();
            let free = found.unallocated(vol, &mut warnings);
            for w in &warnings {
                sink.warning(w)?;
            }
            carve_unallocated(found, vol, &free, label, opts, &gauge, sink)?;
        }
    }
    let phase = if opts.carve {
        Phase::Carving
    } else {
        Phase::Decoding
    };
    sink.progress(phase, gauge.total, gauge.total)?;
    Ok(())
}

/// One store found in an image: read back, detected, and run through the store path with its
/// container chain.
fn run_one(
    found: &container::Found,
    store: &container::Store,
    label: &str,
    opts: &Options,
    gauge: &Gauge,
    sink: &mut dyn Sink,
) -> Result<(), RunError> {
    let about = |what: String| Diagnostic::new(what).within(&store.chain);
    let is_log = container::is_log_name(&store.name);
    if is_log && !opts.carve {
        // Named, not read: its bytes are only of use to the carver.
        let note = format!(
            "{} of the BITS database, not read (--carve carves it)",
            log_kind(store)
        );
        return Ok(sink.warning(&about(note))?);
    }
    let data = match found.read_store(store, container::MAX_STORE) {
        Ok(d) => d,
        Err(e) => return Ok(sink.warning(&about(e.to_string()))?),
    };
    gauge.report(sink, Phase::Decoding)?;
    if is_log {
        return run_log(&data, store, label, opts, gauge, sink);
    }
    let format = detect(data.get(..HEAD.min(data.len())).unwrap_or(&data));
    if format == Format::Unknown {
        let why = if store.deleted {
            "its clusters no longer hold a BITS store (reused since the deletion?)"
        } else {
            "not a BITS store"
        };
        return Ok(sink.warning(&about(why.to_string()))?);
    }
    let mut chained = Chained {
        sink: &mut *sink,
        chain: &store.chain,
        gauge,
    };
    match run_store(&data, format, label, opts, &mut chained, &|| {}) {
        Err(RunError::Parse(e)) => sink.warning(&about(e.to_string()))?,
        other => other?,
    }
    Ok(())
}

/// An ESE log, reserve log or flush map beside a BITS store: not a database, so it is named in
/// the warnings (the analyst learns it exists) and, with `--carve`, carved as raw bytes for
/// the job and file records its page images hold, with its path as provenance.
fn run_log(
    data: &[u8],
    store: &container::Store,
    label: &str,
    opts: &Options,
    gauge: &Gauge,
    sink: &mut dyn Sink,
) -> Result<(), RunError> {
    let note = format!(
        "{} of the BITS database, carved as raw bytes",
        log_kind(store)
    );
    sink.warning(&Diagnostic::new(note).within(&store.chain))?;
    let mut chained = Chained {
        sink: &mut *sink,
        chain: &store.chain,
        gauge,
    };
    carve_raw(data, label, "ese-log", opts, &mut chained)
}

fn log_kind(store: &container::Store) -> &'static str {
    if store.name.eq_ignore_ascii_case("qmgr.jfm") {
        "the ESE flush map"
    } else {
        "an ESE log"
    }
}

/// Reads of a container file, counted.
pub(super) struct Counted<'c, R> {
    pub(super) inner: R,
    pub(super) read: &'c AtomicU64,
}

impl<R: container::ReadAt> container::ReadAt for Counted<'_, R> {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read_at(offset, buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The progress of an image: bytes read of the evidence file(s) (the container walk, the
/// stores, the unallocated clusters carved) out of their size. Allocated clusters outside the
/// stores are never read, so the gauge jumps to its end when the image is done.
struct Gauge<'c> {
    read: &'c AtomicU64,
    total: u64,
}

impl Gauge<'_> {
    fn done(&self) -> u64 {
        self.read.load(Ordering::Relaxed).min(self.total)
    }
    fn report(&self, sink: &mut dyn Sink, phase: Phase) -> Result<(), Stop> {
        sink.progress(phase, self.done(), self.total)
    }
}

/// Carve a volume's unallocated clusters: streamed (in volume order, on all cores) as the raw
/// carver streams an image, each record placed back at its disk offset and cluster, and in
/// the deleted store whose bytes it lies in, when one does.
fn carve_unallocated(
    found: &container::Found,
    vol: &container::Volume,
    free: &container::Unallocated,
    label: &str,
    opts: &Options,
    gauge: &Gauge,
    sink: &mut dyn Sink,
) -> Result<(), RunError> {
    use container::StoreData;
    if free.runs.is_empty() {
        return Ok(());
    }
    let reader = RunsReader {
        disk: &*found.disk,
        runs: &free.runs,
        run: 0,
        within: 0,
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut stopped = false;
    let carved = {
        let mut progress = |_: u64| {
            stopped = gauge.report(sink, Phase::Carving).is_err();
            !stopped
        };
        carve::carve_stream_until(reader, label, threads, &mut progress).map_err(|source| {
            ParseError::Input(crate::input::InputError::Io {
                path: label.into(),
                source,
            })
        })?
    };
    if stopped {
        return Err(RunError::Stopped);
    }
    // Stream offset → disk offset: the runs' starts in the stream.
    let mut starts = Vec::with_capacity(free.runs.len());
    let mut at = 0u64;
    for (disk, len) in &free.runs {
        starts.push((at, *disk, *len));
        at += len;
    }
    // The deleted stores' bytes in this volume: (disk offset, length, file offset, store);
    // no file offset for an NTFS-compressed file, whose clusters hold compressed units. (A
    // resident file's bytes lie in the MFT, never in unallocated clusters.)
    let mut known = Vec::new();
    for s in &found.stores {
        if !s.chain.starts_with(&vol.chain) {
            continue;
        }
        let (extents, compressed) = match &s.data {
            StoreData::Extents(e) => (e, false),
            StoreData::Compressed(e) => (e, true),
            StoreData::Resident(_) => continue,
        };
        let mut file_at = 0u64;
        for e in extents {
            if let Some(d) = e.offset {
                let at = (!compressed).then_some(file_at);
                known.push((d, e.len, at, s.chain.last().cloned().unwrap_or_default()));
            }
            file_at += e.len;
        }
    }
    let mut placed = Placed {
        sink,
        starts,
        known,
        vol,
        cluster: free.cluster.max(1),
    };
    let mut join = Join::new(opts.field_ranges, Vec::new());
    join.add_candidates(carved);
    join.finish(&mut placed)
}

/// The free runs of a volume read one after the other, by positioned reads of the disk.
struct RunsReader<'a> {
    disk: &'a dyn container::ReadAt,
    runs: &'a [(u64, u64)],
    run: usize,
    within: u64,
}

impl std::io::Read for RunsReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while let Some((at, len)) = self.runs.get(self.run) {
            if self.within >= *len {
                self.run += 1;
                self.within = 0;
                continue;
            }
            let n = usize::try_from(len - self.within)
                .unwrap_or(usize::MAX)
                .min(buf.len());
            let got = self.disk.read_at(at + self.within, &mut buf[..n])?;
            if got == 0 {
                // The disk ends inside the run: skip the rest of it.
                self.within = *len;
                continue;
            }
            self.within += got as u64;
            return Ok(got);
        }
        Ok(0)
    }
}

/// Puts records carved from a volume's unallocated clusters back at their disk offsets, with
/// the volume, cluster and (when they lie in a known file's bytes) the file in the chain.
struct Placed<'s> {
    sink: &'s mut dyn Sink,
    /// (stream offset, disk offset, length) of each free run.
    starts: Vec<(u64, u64, u64)>,
    known: Vec<(u64, u64, Option<u64>, String)>,
    vol: &'s container::Volume,
    cluster: u64,
}

impl Placed<'_> {
    fn disk(&self, stream: u64) -> u64 {
        let i = self.starts.partition_point(|(s, _, _)| *s <= stream);
        match i.checked_sub(1).and_then(|i| self.starts.get(i)) {
            Some((s, d, _)) => d + (stream - s),
            None => stream,
        }
    }

    fn place(&self, src: &mut Source) {
        let disk = self.disk(src.offset);
        src.offset = disk;
        for e in &mut src.extents {
            e.0 = self.disk(e.0);
        }
        for a in &mut src.also_at {
            *a = self.disk(*a);
        }
        let within = disk.saturating_sub(self.vol.offset);
        let mut what = format!(
            "{UNALLOCATED} {} (volume offset {within})",
            within / self.cluster
        );
        if let Some((d, _, f, name)) = self
            .known
            .iter()
            .find(|(d, l, _, _)| (*d..d + l).contains(&disk))
        {
            match f {
                Some(f) => what.push_str(&format!(
                    ", inside {name} at file offset {}",
                    f + (disk - d)
                )),
                None => what.push_str(&format!(
                    ", inside {name}, NTFS-compressed: its offset in the file cannot be told"
                )),
            }
        }
        src.container_chain = self.vol.chain.clone();
        src.container_chain.push(what);
    }
}

impl Sink for Placed<'_> {
    fn record(&mut self, mut record: BitsInfo) -> Result<(), Stop> {
        if let Some(s) = record.job_source.as_mut() {
            self.place(s);
        }
        if let Some(s) = record.file_source.as_mut() {
            self.place(s);
        }
        self.sink.record(record)
    }
    fn warning(&mut self, warning: &Diagnostic) -> Result<(), Stop> {
        self.sink.warning(warning)
    }
    fn progress(&mut self, phase: Phase, done: u64, total: u64) -> Result<(), Stop> {
        self.sink.progress(phase, done, total)
    }
}

/// Puts a store's container chain into the provenance of its records (and its path into its
/// warnings).
struct Chained<'s> {
    sink: &'s mut dyn Sink,
    chain: &'s [String],
    gauge: &'s Gauge<'s>,
}

impl Sink for Chained<'_> {
    fn record(&mut self, mut record: BitsInfo) -> Result<(), Stop> {
        for s in [&mut record.job_source, &mut record.file_source]
            .into_iter()
            .flatten()
        {
            s.container_chain = self.chain.to_vec();
        }
        self.sink.record(record)
    }
    /// The store's chain goes in front; an offset stays the store's own (inside the file).
    fn warning(&mut self, warning: &Diagnostic) -> Result<(), Stop> {
        self.sink.warning(&warning.clone().within(self.chain))
    }
    /// The gauge counts the image's bytes, not the store's.
    fn progress(&mut self, phase: Phase, _done: u64, _total: u64) -> Result<(), Stop> {
        self.gauge.report(self.sink, phase)
    }
}
