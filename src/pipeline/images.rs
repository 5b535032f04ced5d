//! The pipeline's way into images (feature `images`): an evidence file whose header is not a
//! store goes to the container layer; every store it finds runs the store path as the walk
//! finds it, with the container chain and the record's place in the evidence in its records'
//! provenance. With `--carve` each NTFS volume's unallocated clusters are carved too (whether
//! or not a store was found in it by name), each record read no further than the end of its
//! free run, and placed back at its disk offset.
//!
//! A volume's free clusters are carved before its stores are read: a record carved there that
//! a store's record covers (the same bytes of a deleted store's freed clusters) is dropped, and
//! a byte-identical copy of a deleted store's record elsewhere in free clusters is listed in
//! that record's `in_evidence.also_at`, so each record is reported once.

use std::cell::Cell;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};

use super::free::{self, Free};
use super::store::{carve_raw, run_store};
use super::{detect, Diagnostic, Format, Options, Phase, RunError, Sink, Stop, HEAD};
use crate::bits::carve;
use crate::bits::model::{BitsInfo, Piece, Placement, Source, MAX_EXTENTS};
use crate::container;
use crate::input::Evidence;

/// The further segment files of `ev` (E01: `.E02`, `.E03`, ... beside it, same case), each
/// read through `wrap` (the pipeline counts reads; the hex view reads plainly).
pub(crate) fn segments<'a>(
    ev: &'a Evidence,
    wrap: &'a dyn Fn(Evidence) -> Box<dyn container::ReadAt + 'a>,
) -> impl Fn(u32) -> Option<Box<dyn container::ReadAt + 'a>> + 'a {
    move |n: u32| {
        let ext = ev.path().extension()?.to_str()?;
        let letter = if ext.starts_with('e') { 'e' } else { 'E' };
        let path = ev.path().with_extension(format!("{letter}{n:02}"));
        Some(wrap(Evidence::open(&path).ok()?))
    }
}

/// A disk image, volume or archive: run every BITS store the container layer finds in it
/// through the store path, each record's provenance carrying the container chain and its place
/// in the evidence. False when no container is recognized, or nothing in it was read (no store
/// found, and no volume carved): the caller's other paths apply.
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
    let seg_bytes = Cell::new(0u64);
    let file = Counted {
        inner: ev,
        read: &read,
    };
    let wrap = |seg: Evidence| -> Box<dyn container::ReadAt + '_> {
        seg_bytes.set(seg_bytes.get().saturating_add(seg.len()));
        Box::new(Counted {
            inner: seg,
            read: &read,
        })
    };
    let more = segments(ev, &wrap);
    let Some(found) = container::open_with(&file, &more) else {
        return Ok(false);
    };
    for w in &found.warnings {
        sink.warning(w)?;
    }
    let total = ev.len().saturating_add(seg_bytes.get());
    run_found(&found, &read, total, label, opts, sink)
}

/// Run the stores of a container already opened (by [`run_container`], or the live host's
/// volume: `live/volume.rs`): the stores found while opening, each volume's stores as its walk
/// finds them, and with `--carve` its volumes' free clusters; `read` counts the bytes read of
/// the evidence, `total` its size, for the gauge. The container's warnings are the caller's to
/// tell. False when nothing was read (no store, no volume carved).
pub(super) fn run_found(
    found: &container::Found,
    read: &AtomicU64,
    total: u64,
    label: &str,
    opts: &Options,
    sink: &mut dyn Sink,
) -> Result<bool, RunError> {
    let gauge = Gauge { read, total };
    let ctx = Ctx {
        found,
        coordinate: found.coordinate(),
        label,
        opts,
        gauge: &gauge,
    };
    gauge.report(sink, Phase::Decoding)?;
    let mut any = false;
    for store in &found.stores {
        any = true;
        run_one(&ctx, store, None, sink)?;
    }
    for vol in &found.volumes {
        let mut free = if opts.carve {
            let mut warnings = Vec::new();
            let unallocated = found.unallocated(vol, &mut warnings);
            let deleted = found.deleted_files(vol, &unallocated, &mut warnings);
            for w in &warnings {
                sink.warning(w)?;
            }
            any = true;
            let mut report = || gauge.report(sink, Phase::Carving);
            Some(free::carve_free(
                &*found.disk,
                vol,
                &unallocated,
                &deleted,
                &ctx.coordinate,
                label,
                &mut report,
            )?)
        } else {
            None
        };
        let mut warnings = Vec::new();
        let mut result = Ok(());
        let _ = found.walk_volume(
            vol,
            &mut |store| {
                any = true;
                result = run_one(&ctx, &store, free.as_mut(), sink);
                if result.is_ok() {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(())
                }
            },
            &mut warnings,
        );
        result?;
        for w in &warnings {
            sink.warning(w)?;
        }
        if let Some(free) = free {
            free.finish(opts, sink)?;
        }
    }
    if !any {
        return Ok(false);
    }
    let phase = if opts.carve {
        Phase::Carving
    } else {
        Phase::Decoding
    };
    sink.progress(phase, gauge.total, gauge.total)?;
    Ok(true)
}

/// What every store of one container shares.
struct Ctx<'c> {
    found: &'c container::Found<'c>,
    /// What the disk's offsets count (see [`container::Found::coordinate`]).
    coordinate: String,
    label: &'c str,
    opts: &'c Options,
    gauge: &'c Gauge<'c>,
}

/// One store found in an image: read back, detected, and run through the store path with its
/// container chain. A deleted store whose bytes no longer read as a store is carved as raw
/// bytes when carving (its records follow the file's runs, not the disk's order).
fn run_one(
    ctx: &Ctx,
    store: &container::Store,
    mut free: Option<&mut Free<'_>>,
    sink: &mut dyn Sink,
) -> Result<(), RunError> {
    let about = |what: String| Diagnostic::new(what).within(&store.chain);
    if let Some(f) = free.as_deref_mut() {
        f.note(store);
    }
    let is_log = container::is_log_name(&store.name);
    if is_log && !ctx.opts.carve {
        // Named, not read: its bytes are only of use to the carver.
        let note = format!(
            "{} of the BITS database, not read (--carve carves it)",
            log_kind(store)
        );
        return Ok(sink.warning(&about(note))?);
    }
    let data = match ctx.found.read_store(store, container::MAX_STORE) {
        Ok(d) => d,
        Err(e) => return Ok(sink.warning(&about(e.to_string()))?),
    };
    ctx.gauge.report(sink, Phase::Decoding)?;
    let mut chained = Chained {
        sink: &mut *sink,
        store,
        data: &data,
        coordinate: &ctx.coordinate,
        gauge: ctx.gauge,
        free,
    };
    if is_log {
        let note = format!(
            "{} of the BITS database, carved as raw bytes",
            log_kind(store)
        );
        chained.sink.warning(&about(note))?;
        return carve_raw(&data, ctx.label, "ese-log", ctx.opts, &mut chained);
    }
    let format = detect(data.get(..HEAD.min(data.len())).unwrap_or(&data));
    if format == Format::Unknown {
        let why = if store.deleted {
            "its clusters no longer hold a BITS store (reused since the deletion?)"
        } else {
            "not a BITS store"
        };
        if store.deleted && ctx.opts.carve {
            let note = format!("{why}: carved as raw bytes, following the file's runs");
            chained.sink.warning(&about(note))?;
            return carve_raw(&data, ctx.label, "deleted file", ctx.opts, &mut chained);
        }
        return Ok(chained.sink.warning(&about(why.to_string()))?);
    }
    match run_store(&data, format, ctx.label, ctx.opts, &mut chained, &|| {}) {
        Err(RunError::Parse(e)) => chained.sink.warning(&about(e.to_string()))?,
        other => other?,
    }
    Ok(())
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

/// Puts a store's container chain and the records' places in the evidence into their
/// provenance (and the store's path into its warnings), and lets each record claim its copies
/// carved from the volume's free clusters.
struct Chained<'s, 'f> {
    sink: &'s mut dyn Sink,
    store: &'s container::Store,
    /// The store's bytes (a record's bytes are compared with the free clusters' finds).
    data: &'s [u8],
    coordinate: &'s str,
    gauge: &'s Gauge<'s>,
    free: Option<&'s mut Free<'f>>,
}

/// Where a source's bytes (file pieces) lie in the disk, through the store's extents; at most
/// [`MAX_EXTENTS`] pieces listed, adjacent ones merged.
pub(crate) fn placement(store: &container::Store, coordinate: &str, src: &Source) -> Placement {
    let mut p = Placement {
        coordinate: coordinate.to_string(),
        ..Placement::default()
    };
    let mut pieces: Vec<Piece> = Vec::new();
    let mut omitted = src.extents_omitted;
    for (o, l) in src.pieces() {
        let Some(extents) = store.locate(o, l) else {
            p.note = match store.unplaced() {
                "" => "past the end of the file".to_string(),
                why => why.to_string(),
            };
            return p;
        };
        for e in extents {
            let merged = pieces
                .last_mut()
                .is_some_and(|last| match (last.offset, e.offset) {
                    (Some(a), Some(b)) if a.saturating_add(last.length) == b => {
                        last.length = last.length.saturating_add(e.len);
                        true
                    }
                    (None, None) => {
                        last.length = last.length.saturating_add(e.len);
                        true
                    }
                    _ => false,
                });
            if merged {
                continue;
            }
            if pieces.len() < MAX_EXTENTS {
                pieces.push(Piece {
                    offset: e.offset,
                    length: e.len,
                });
            } else {
                omitted = omitted.saturating_add(1);
            }
        }
    }
    p.offset = pieces.first().and_then(|f| f.offset);
    p.extents = pieces;
    p.extents_omitted = omitted;
    p.also_at = src
        .also_at
        .iter()
        .filter_map(|a| store.locate(*a, 1)?.first()?.offset)
        .collect();
    p
}

impl Chained<'_, '_> {
    /// A source's bytes, read again from the store (at most a carved record's length).
    fn bytes_of(&self, src: &Source) -> Vec<u8> {
        let mut out = Vec::new();
        for (o, l) in src.pieces() {
            let (Ok(o), Ok(l)) = (usize::try_from(o), usize::try_from(l)) else {
                break;
            };
            match self.data.get(o..o.saturating_add(l)) {
                Some(b) if out.len() + b.len() <= carve::MAX_BLOB => out.extend_from_slice(b),
                _ => break,
            }
        }
        out
    }

    fn place(&mut self, src: &mut Source) {
        src.container_chain = self.store.chain.clone();
        let mut p = placement(self.store, self.coordinate, src);
        let bytes = if self.free.is_some() {
            self.bytes_of(src)
        } else {
            Vec::new()
        };
        if let Some(free) = self.free.as_deref_mut() {
            if !bytes.is_empty() {
                for at in free.claim(p.offset, &bytes, self.store.deleted) {
                    if !p.also_at.contains(&at) {
                        p.also_at.push(at);
                    }
                }
            }
        }
        src.in_evidence = Some(p);
    }
}

impl Sink for Chained<'_, '_> {
    fn record(&mut self, mut record: BitsInfo) -> Result<(), Stop> {
        if let Some(s) = record.job_source.as_mut() {
            self.place(s);
        }
        if let Some(s) = record.file_source.as_mut() {
            self.place(s);
        }
        self.sink.record(record)
    }
    /// The store's chain goes in front; an offset stays the store's own (inside the file).
    fn warning(&mut self, warning: &Diagnostic) -> Result<(), Stop> {
        self.sink
            .warning(&warning.clone().within(&self.store.chain))
    }
    /// The gauge counts the image's bytes, not the store's.
    fn progress(&mut self, phase: Phase, _done: u64, _total: u64) -> Result<(), Stop> {
        self.gauge.report(self.sink, phase)
    }
}
