//! The pipeline's way into images (feature `images`): an evidence file whose header is not a
//! store goes to the container layer; every store it finds runs the store path with the
//! container chain and the record's place in the evidence in its records' provenance. With
//! `--carve` each NTFS volume's unallocated clusters are carved too (whether or not a store was
//! found in it by name), each record read no further than the end of its free run, and placed
//! back at its disk offset. A disk image with no file system found in it (an E01, VHD or VHDX
//! of a bare media) has its logical media carved, never its container file.
//!
//! Each volume's MFT is walked first and what it names held (names and extents, at most
//! [`container::ntfs::MAX_STORES`] per volume, never their bytes), so that the event logs and
//! hives are read before any store and the stores' records carry what they say. A volume's
//! free clusters are carved before its stores are read: a record carved there that a store's
//! record covers (the same bytes of a deleted store's freed clusters) is dropped, and a
//! byte-identical copy of a deleted store's record elsewhere in free clusters is listed in that
//! record's `in_evidence.also_at`, so each record is reported once.
//!
//! A container that cannot be read says what it is and why; one whose stores all fail fails
//! as a bare store that fails does.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::free::{self, Free};
use super::join::Join;
use super::payload::{attach, Held};
use super::store::{carve_raw, run_store};
use super::story::Companion;
use super::{
    detect, ContainerFacts, Diagnostic, Format, Options, ParseError, Phase, RunError, Sink, Stop,
    Verified, HEAD,
};
use crate::bits::carve;
use crate::bits::model::{BitsInfo, Piece, Placement, Source, MAX_EXTENTS};
use crate::container;
use crate::input::Evidence;

/// What the container layer made of an evidence file.
pub(super) enum Outcome {
    /// A container, run through: what it was.
    Done(ContainerFacts),
    /// Not a container: the caller's other paths apply (a bare store, raw carving).
    NotContainer,
    /// A container format bitscope does not read: its name.
    Unsupported(&'static str),
}

/// The further segment files of a segmented E01 `ev` (.E02, .E03, ... by libewf's naming, as
/// long as each segment's chain says another follows), opened read-only; with what stopped
/// the search early (a segment that is another's file under a second name). Empty for any
/// other file.
pub(super) fn segment_files(ev: &Evidence) -> (Vec<Evidence>, Vec<Diagnostic>) {
    let mut parts: Vec<Evidence> = Vec::new();
    let mut notes = Vec::new();
    if !container::ewf::continues(ev) {
        return (parts, notes);
    }
    let Some(first) = ev.path().extension().and_then(|e| e.to_str()) else {
        return (parts, notes);
    };
    let mut seen = vec![ev.identity()];
    for n in 2u32.. {
        let Some(ext) = container::ewf::segment_extension(first, n) else {
            break;
        };
        let path = ev.path().with_extension(ext);
        // A missing segment is the container layer's to report (it knows which chunks).
        let Ok(seg) = Evidence::open(&path) else {
            break;
        };
        if let Some(k) = seen
            .iter()
            .position(|id| id.is_some() && *id == seg.identity())
        {
            notes.push(Diagnostic::new(format!(
                "E01: segment {n} ({}) is the same file as segment {}: not read twice",
                path.display(),
                k.saturating_add(1)
            )));
            break;
        }
        seen.push(seg.identity());
        let goes_on = container::ewf::continues(&seg);
        parts.push(seg);
        if !goes_on {
            break;
        }
    }
    (parts, notes)
}

/// Up to `len` bytes (at most 1 MiB) at `offset` of the logical media inside the disk format
/// `ev` holds (its further segments opened beside it), and the media's size: the hex view
/// reads through the container chain the pipeline read through.
pub(crate) fn read_media(ev: &Evidence, offset: u64, len: u64) -> std::io::Result<(Vec<u8>, u64)> {
    let (parts, _) = segment_files(ev);
    let more = |n: u32| -> Option<Box<dyn container::ReadAt + '_>> {
        let part = parts.get(usize::try_from(n).ok()?.checked_sub(2)?)?;
        Some(Box::new(part))
    };
    let found = container::recognize(ev, &more)
        .found()
        .ok_or_else(|| std::io::Error::other("its disk format no longer opens"))?;
    let size = found.disk.size();
    let mut buf = vec![0u8; usize::try_from(len.min(1 << 20)).unwrap_or(0)];
    let n = found.disk.read_at(offset, &mut buf)?;
    buf.truncate(n);
    Ok((buf, size))
}

/// A disk or volume image, or an archive: run every BITS store the container layer finds in
/// it through the store path, each record's provenance carrying the container chain; with
/// `--carve`, carve what holds no store (unallocated clusters, a bare media). `parts` are the
/// further files of a segmented image ([`segment_files`]).
///
/// Each store is read into memory by positioned reads (the readers walk one slice; a qmgr.db
/// is a few MB, and [`crate::container::MAX_STORE`] caps it), never the image.
pub(super) fn run_container(
    ev: &Evidence,
    parts: &[Arc<Evidence>],
    label: &str,
    opts: &Options,
    sink: &mut dyn Sink,
) -> Result<Outcome, RunError> {
    // Every read of the evidence file(s) is counted, for a gauge over the image's bytes.
    let read = AtomicU64::new(0);
    let file = Counted {
        inner: ev,
        read: &read,
    };
    let more = |n: u32| -> Option<Box<dyn container::ReadAt + '_>> {
        let part = parts.get(usize::try_from(n).ok()?.checked_sub(2)?)?;
        Some(Box::new(Counted {
            inner: &**part,
            read: &read,
        }))
    };
    let refused = |kind: String, why: String| {
        RunError::Parse(ParseError::Container {
            path: label.to_string(),
            kind,
            why,
        })
    };
    let found = match container::recognize(&file, &more) {
        container::Opened::Not => return Ok(Outcome::NotContainer),
        container::Opened::Unsupported(name) => return Ok(Outcome::Unsupported(name)),
        container::Opened::Refused(r, warnings) => {
            for w in &warnings {
                sink.warning(w)?;
            }
            return Err(refused(r.kind, r.why));
        }
        container::Opened::Found(found) => found,
    };
    for w in &found.warnings {
        sink.warning(w)?;
    }
    let gauge = Gauge {
        read: &read,
        total: parts
            .iter()
            .fold(ev.len(), |t, p| t.saturating_add(p.len())),
    };
    let mut facts = ContainerFacts {
        kind: found.kind.clone(),
        stored_hashes: stored_hashes(&found.stored),
        ..ContainerFacts::default()
    };
    if opts.verify {
        facts.verified = verify(&found, label, sink)?;
    }
    sink.container(&facts)?;
    let walked = walk_volumes(&found, opts.max_held, sink)?;
    let named = || found.stores.iter().chain(walked.iter().flatten());
    let bits_stores = named()
        .filter(|s| !container::is_log_name(&s.name) && !container::is_companion_name(&s.name))
        .count();
    let companions = named()
        .filter(|s| container::is_companion_name(&s.name))
        .count();
    let logs = named().filter(|s| container::is_log_name(&s.name)).count();
    if bits_stores == 0 && companions == 0 {
        if let Some(why) = nothing_inside(&found, logs, opts) {
            return Err(refused(found.kind.clone(), why));
        }
    }
    // With --carve a volume's free clusters are carved whether or not it names a store.
    let carves_volumes = opts.carve && !found.volumes.is_empty();
    if named().next().is_none() && !carves_volumes {
        if opts.carve && found.kind != "raw image" && found.kind != "zip" {
            carve_media(&found, label, opts, &gauge, sink)?;
            sink.progress(Phase::Carving, gauge.total, gauge.total)?;
            return Ok(Outcome::Done(facts));
        }
        // A raw disk or archive with nothing of BITS found by name: carved as raw bytes by
        // the caller (it is its own media), as before.
        return Ok(Outcome::NotContainer);
    }
    let ran = run_walked(&found, walked, &read, gauge.total, label, opts, sink)?;
    facts.failed = ran.failed;
    facts.stores = bits_stores;
    if bits_stores > 0 && facts.failed == bits_stores {
        // Nothing readable: as a bare store that cannot be read, the input fails.
        let why = format!(
            "none of its {bits_stores} BITS store{} could be read (the first: {})",
            if bits_stores == 1 { "" } else { "s" },
            ran.first_failure.unwrap_or_default()
        );
        return Err(refused(found.kind.clone(), why));
    }
    Ok(Outcome::Done(facts))
}

/// How the stores of a container went: how many BITS stores could not be read, and why the
/// first of them could not.
#[derive(Default)]
pub(super) struct Ran {
    pub failed: usize,
    pub first_failure: Option<String>,
}

/// Run the stores of a container already opened (by [`run_container`], or the live host's
/// volume: `live/volume.rs`): its volumes walked first (see [`walk_volumes`]), then as
/// [`run_walked`]. The container's warnings are the caller's to tell.
pub(super) fn run_found(
    found: &container::Found,
    read: &AtomicU64,
    total: u64,
    label: &str,
    opts: &Options,
    sink: &mut dyn Sink,
) -> Result<Ran, RunError> {
    let walked = walk_volumes(found, opts.max_held, sink)?;
    run_walked(found, walked, read, total, label, opts, sink)
}

/// Walk each volume's MFT, holding what it names (`walked[i]` for `found.volumes[i]`).
///
/// Why held, not run as found: a store's records carry what the event logs and hives of the
/// same image say (the story), so those are read before any store, and the MFT gives them in
/// entry order, mixed with the stores. So the walk keeps each store's description (names,
/// extents, resident bytes; never a non-resident store's bytes, read one store at a time
/// later) and the stores run after it. That stays bounded three ways: at most
/// [`container::ntfs::MAX_STORES`] stores a volume (the walk's own warning), at most
/// 65,536 runs a store (`MAX_RUNS` of the NTFS reader), and at most `max_held` bytes
/// ([`Options::max_held`], 32 MiB by default) of descriptions in all volumes together,
/// counted as each is handed on: past it the walk stops, with a warning, and the stores
/// already held are still run. Byte-identical MFT records are handed on once by the walk.
fn walk_volumes(
    found: &container::Found,
    max_held: usize,
    sink: &mut dyn Sink,
) -> Result<Vec<Vec<container::Store>>, Stop> {
    let mut walked = Vec::with_capacity(found.volumes.len());
    let mut held = 0usize;
    for vol in &found.volumes {
        let mut stores = Vec::new();
        let mut warnings = Vec::new();
        let mut full = false;
        let _ = found.walk_volume(
            vol,
            &mut |s| {
                held = held.saturating_add(held_bytes(&s));
                if held > max_held {
                    full = true;
                    return ControlFlow::Break(());
                }
                stores.push(s);
                ControlFlow::Continue(())
            },
            &mut warnings,
        );
        for w in &warnings {
            sink.warning(w)?;
        }
        if full {
            sink.warning(&Diagnostic::at(
                vol.offset,
                format!(
                    "the stores named in this volume take more than {} to describe (runs, names): the walk stops, the rest are not read",
                    budget(max_held)
                ),
            ))?;
        }
        walked.push(stores);
        if full {
            break;
        }
    }
    Ok(walked)
}

/// A budget of bytes, in MiB when it is whole MiBs.
fn budget(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// The memory a store's description takes, roughly.
fn held_bytes(s: &container::Store) -> usize {
    use container::StoreData;
    let data = match &s.data {
        StoreData::Extents(e) | StoreData::Compressed(e) => e
            .len()
            .saturating_mul(std::mem::size_of::<container::Extent>()),
        StoreData::Resident(b) => b.len(),
        StoreData::Zipped(_) => 0,
    };
    let names = s.chain.iter().map(String::len).sum::<usize>();
    data.saturating_add(names)
        .saturating_add(s.path.len())
        .saturating_add(std::mem::size_of::<container::Store>())
}

/// Run the stores found while opening and those the volumes' walks named (`walked`, as
/// [`walk_volumes`] gives them): the event logs and hives first, then each store; with
/// `--carve` each volume's free clusters are carved before its stores are read (see the
/// module's notes). `read` counts the bytes read of the evidence, `total` its size, for the
/// gauge.
fn run_walked(
    found: &container::Found,
    walked: Vec<Vec<container::Store>>,
    read: &AtomicU64,
    total: u64,
    label: &str,
    opts: &Options,
    sink: &mut dyn Sink,
) -> Result<Ran, RunError> {
    let gauge = Gauge { read, total };
    let ctx = Ctx {
        found,
        coordinate: found.coordinate(),
        label,
        opts,
        gauge: &gauge,
    };
    gauge.report(sink, Phase::Decoding)?;
    // The event logs and hives first: the stores' records then carry what they say.
    for store in found
        .stores
        .iter()
        .chain(walked.iter().flatten())
        .filter(|s| container::is_companion_name(&s.name))
    {
        companion(found, store, sink)?;
    }
    let mut ran = Ran::default();
    let mut count = |store: &container::Store, failed: Option<String>| {
        if let Some(why) = failed.filter(|_| !container::is_log_name(&store.name)) {
            ran.failed = ran.failed.saturating_add(1);
            ran.first_failure.get_or_insert(why);
        }
    };
    for store in found
        .stores
        .iter()
        .filter(|s| !container::is_companion_name(&s.name))
    {
        count(store, run_one(&ctx, store, None, sink)?);
    }
    for (vol, stores) in found.volumes.iter().zip(walked) {
        let mut free = if opts.carve {
            let mut warnings = Vec::new();
            let unallocated = found.unallocated(vol, &mut warnings);
            let deleted = found.deleted_files(vol, &unallocated, &mut warnings);
            for w in warnings.drain(..) {
                sink.warning(&w)?;
            }
            let mut report = || gauge.report(sink, Phase::Carving);
            let free = free::carve_free(
                &*found.disk,
                vol,
                &unallocated,
                &deleted,
                &ctx.coordinate,
                label,
                &mut report,
                &mut warnings,
            )?;
            for w in &warnings {
                sink.warning(w)?;
            }
            Some(free)
        } else {
            None
        };
        for store in stores
            .iter()
            .filter(|s| !container::is_companion_name(&s.name))
        {
            count(store, run_one(&ctx, store, free.as_mut(), sink)?);
        }
        if let Some(free) = free {
            free.finish(opts, sink)?;
        }
    }
    let phase = if opts.carve {
        Phase::Carving
    } else {
        Phase::Decoding
    };
    sink.progress(phase, gauge.total, gauge.total)?;
    Ok(ran)
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

/// Why a container with no BITS store by name is not read any further without `--carve`
/// (`None` when the caller's raw carving applies).
fn nothing_inside(found: &container::Found, logs: usize, opts: &Options) -> Option<String> {
    if opts.carve {
        return None;
    }
    let what = if found.kind == "zip" {
        "no qmgr.db, qmgr0.dat or qmgr1.dat among its entries".to_string()
    } else if !found.volumes.is_empty() {
        format!(
            "{} NTFS volume{} but no qmgr.db, qmgr0.dat or qmgr1.dat in {}",
            found.volumes.len(),
            if found.volumes.len() == 1 { "" } else { "s" },
            if found.volumes.len() == 1 {
                "it"
            } else {
                "them"
            }
        )
    } else if !found.partitions.is_empty() {
        format!(
            "{} partition{} but no NTFS volume",
            found.partitions.len(),
            if found.partitions.len() == 1 { "" } else { "s" }
        )
    } else {
        "no partition table and no NTFS volume in its media".to_string()
    };
    let logs = if logs > 0 {
        format!(
            " ({logs} ESE log{} found, read only with --carve)",
            if logs == 1 { "" } else { "s" }
        )
    } else {
        String::new()
    };
    Some(format!(
        "{what}{logs}: no BITS store to read (--carve carves it)"
    ))
}

/// The hashes an image stores, as (name, hex).
fn stored_hashes(h: &container::ewf::StoredHashes) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(md5) = &h.md5 {
        out.push(("MD5".to_string(), crate::util::bytes::hex(md5)));
    }
    if let Some(sha1) = &h.sha1 {
        out.push(("SHA-1".to_string(), crate::util::bytes::hex(sha1)));
    }
    out
}

/// Bytes hashed per read while verifying.
const VERIFY_CHUNK: usize = 8 << 20;

/// `--verify`: the media read whole, its MD5 and SHA-1 computed and set beside those the image
/// stores. A media read error fails the input; an image storing no hash is a warning.
fn verify(
    found: &container::Found,
    label: &str,
    sink: &mut dyn Sink,
) -> Result<Vec<Verified>, RunError> {
    use md5::Digest;
    let stored = stored_hashes(&found.stored);
    if stored.is_empty() {
        sink.warning(&Diagnostic::new(format!(
            "--verify: the {} stores no media hash: nothing to verify",
            found.kind
        )))?;
        return Ok(Vec::new());
    }
    let disk = &*found.disk;
    let total = disk.size();
    let (mut md5, mut sha1) = (md5::Md5::new(), sha1::Sha1::new());
    let mut buf = vec![0u8; VERIFY_CHUNK];
    let mut at = 0u64;
    while at < total {
        let got = disk.read_at(at, &mut buf).map_err(|e| {
            RunError::Parse(ParseError::Container {
                path: label.to_string(),
                kind: found.kind.clone(),
                why: format!("--verify: the media cannot be read at offset {at}: {e}"),
            })
        })?;
        let Some(piece) = buf.get(..got).filter(|p| !p.is_empty()) else {
            break;
        };
        md5.update(piece);
        sha1.update(piece);
        at = at.saturating_add(got as u64); // below `total` plus one chunk
        sink.progress(Phase::Verifying, at, total)?;
    }
    let computed = [
        ("MD5", crate::util::bytes::hex(&md5.finalize())),
        ("SHA-1", crate::util::bytes::hex(&sha1.finalize())),
    ];
    Ok(stored
        .into_iter()
        .filter_map(|(alg, hex)| {
            let (_, c) = computed.iter().find(|(a, _)| *a == alg)?;
            Some(Verified {
                algorithm: alg,
                stored: hex,
                computed: c.clone(),
            })
        })
        .collect())
}

/// The bytes a store's budgets are based on: those it holds (a sparse run is not held).
fn held(store: &container::Store, data: &[u8]) -> u64 {
    match &store.data {
        container::StoreData::Extents(e) => e
            .iter()
            .filter(|e| e.offset.is_some())
            .fold(0u64, |t, e| t.saturating_add(e.len))
            .min(data.len() as u64),
        _ => data.len() as u64,
    }
}

/// One store found in an image: read back, detected, and run through the store path with its
/// container chain and its records' places in the evidence. A deleted store whose bytes no
/// longer read as a store is carved as raw bytes when carving (its records follow the file's
/// runs, not the disk's order). `Some(why)` when it could not be read.
fn run_one(
    ctx: &Ctx,
    store: &container::Store,
    mut free: Option<&mut Free<'_>>,
    sink: &mut dyn Sink,
) -> Result<Option<String>, RunError> {
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
        sink.warning(&about(note))?;
        return Ok(None);
    }
    let mut read_warnings = Vec::new();
    let data = ctx
        .found
        .read_store_checked(store, container::MAX_STORE, &mut read_warnings);
    for w in read_warnings {
        sink.warning(&w.within(&store.chain))?;
    }
    let data = match data {
        Ok(d) => d,
        Err(e) => {
            sink.warning(&about(e.to_string()))?;
            return Ok(Some(e.to_string()));
        }
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
        carve_raw(&data, ctx.label, "ese-log", ctx.opts, &mut chained)?;
        return Ok(None);
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
            carve_raw(&data, ctx.label, "deleted file", ctx.opts, &mut chained)?;
            return Ok(None);
        }
        chained.sink.warning(&about(why.to_string()))?;
        return Ok(Some(why.to_string()));
    }
    let basis = held(store, &data);
    // Held until the store is done, so its volume's MFT is read once for all their files.
    let mut holding = Held {
        sink: &mut chained,
        records: Vec::new(),
    };
    let ran = run_store(
        &data,
        format,
        ctx.label,
        ctx.opts,
        &mut holding,
        &|| {},
        basis,
    );
    let mut records = holding.records;
    attach(ctx.found, store, &mut records);
    for r in records {
        chained.record(r)?;
    }
    match ran {
        Err(RunError::Parse(e)) => {
            chained.sink.warning(&about(e.to_string()))?;
            Ok(Some(e.to_string()))
        }
        Err(e) => Err(e),
        Ok(()) => Ok(None),
    }
}

/// An event log or hive found in the image: read and handed to the sink (the story), with
/// its container chain as its name.
fn companion(
    found: &container::Found,
    store: &container::Store,
    sink: &mut dyn Sink,
) -> Result<(), Stop> {
    let about = |what: String| Diagnostic::new(what).within(&store.chain);
    let data = match found.read_store(store, container::MAX_STORE) {
        Ok(d) => d,
        Err(e) => return sink.warning(&about(e.to_string())),
    };
    let Some(kind) = Companion::of(&data) else {
        let why = if store.deleted {
            "deleted, and its clusters no longer hold an event log or hive"
        } else {
            "not an event log or hive"
        };
        return sink.warning(&about(why.to_string()));
    };
    sink.companion(&store.chain.join(" > "), kind, &data)
}

fn log_kind(store: &container::Store) -> &'static str {
    if store.name.eq_ignore_ascii_case("qmgr.jfm") {
        "the ESE flush map"
    } else {
        "an ESE log"
    }
}

/// Carve a disk with no file system found in it: its logical media (the blocks its file
/// holds), streamed, each record placed at its media offset.
fn carve_media(
    found: &container::Found,
    label: &str,
    opts: &Options,
    gauge: &Gauge,
    sink: &mut dyn Sink,
) -> Result<(), RunError> {
    let size = found.disk.size();
    let runs = found.disk.backed().unwrap_or_else(|| vec![(0, size)]);
    sink.warning(&Diagnostic::new(format!(
        "{}: no partition table and no NTFS volume: its logical media ({size} bytes, {} held in the file) is carved",
        found.kind,
        runs.iter().fold(0u64, |t, r| t.saturating_add(r.1))
    )))?;
    let chain = vec![found.kind.clone(), "logical media".to_string()];
    let carved = carve_runs(&*found.disk, &runs, label, gauge, sink)?;
    let mut placed = Placed {
        sink,
        starts: starts(&runs),
        chain,
    };
    let mut join = Join::new(opts.field_ranges, Vec::new());
    join.add_candidates(carved);
    join.finish(&mut placed)
}

/// (stream offset, disk offset, length) of each run, the runs read one after the other.
fn starts(runs: &[(u64, u64)]) -> Vec<(u64, u64, u64)> {
    let mut out = Vec::with_capacity(runs.len());
    let mut at = 0u64;
    for (disk, len) in runs {
        out.push((at, *disk, *len));
        at = at.saturating_add(*len);
    }
    out
}

/// Carve `runs` of `disk`, streamed on all cores; bytes that cannot be read are carved as
/// zeros and counted in one warning.
fn carve_runs(
    disk: &dyn container::ReadAt,
    runs: &[(u64, u64)],
    label: &str,
    gauge: &Gauge,
    sink: &mut dyn Sink,
) -> Result<Vec<carve::Carved>, RunError> {
    let unreadable = free::Unreadable::default();
    let reader = RunsReader {
        disk,
        runs,
        run: 0,
        within: 0,
        unreadable: &unreadable,
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
    if let Some(w) = unreadable.warning() {
        sink.warning(&w)?;
    }
    Ok(carved)
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

/// Runs of a disk read one after the other, by positioned reads. A piece that cannot be read
/// (a bad chunk, a run past 2^64) is handed on as zeros and counted in `unreadable` (the
/// carver goes on past a bad chunk), as `free::SegReader` does.
struct RunsReader<'a> {
    disk: &'a dyn container::ReadAt,
    runs: &'a [(u64, u64)],
    run: usize,
    within: u64,
    unreadable: &'a free::Unreadable,
}

impl std::io::Read for RunsReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while let Some((at, len)) = self.runs.get(self.run) {
            let Some(left) = len.checked_sub(self.within).filter(|&l| l > 0) else {
                self.run = self.run.saturating_add(1);
                self.within = 0;
                continue;
            };
            let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
            let Some(dst) = buf.get_mut(..n) else {
                return Ok(0);
            };
            let got = self.unreadable.read(self.disk, *at, self.within, dst);
            if got == 0 {
                // The disk ends inside the run: skip the rest of it.
                self.within = *len;
                continue;
            }
            // `got <= n <= left`: stays within the run.
            self.within = self.within.saturating_add(got as u64);
            return Ok(got);
        }
        Ok(0)
    }
}

/// Puts records carved from a disk's logical media back at their media offsets, with the
/// chain of what they were carved from.
struct Placed<'s> {
    sink: &'s mut dyn Sink,
    /// (stream offset, disk offset, length) of each run carved.
    starts: Vec<(u64, u64, u64)>,
    chain: Vec<String>,
}

impl Placed<'_> {
    fn disk(&self, stream: u64) -> u64 {
        let i = self.starts.partition_point(|(s, _, _)| *s <= stream);
        match i.checked_sub(1).and_then(|i| self.starts.get(i)) {
            // `s <= stream`; a carved offset lies in bytes read from the run, whose disk
            // offsets did not overflow (`RunsReader`).
            Some((s, d, _)) => d.saturating_add(stream.saturating_sub(*s)),
            None => stream,
        }
    }

    fn place(&self, src: &mut Source) {
        src.offset = self.disk(src.offset);
        for e in &mut src.extents {
            e.0 = self.disk(e.0);
        }
        for a in &mut src.also_at {
            *a = self.disk(*a);
        }
        src.container_chain = self.chain.clone();
    }
}

impl Sink for Placed<'_> {
    fn record(&mut self, mut record: BitsInfo) -> Result<(), Stop> {
        for s in record.sources_mut() {
            self.place(s);
        }
        self.sink.record(record)
    }
    fn warning(&mut self, warning: &Diagnostic) -> Result<(), Stop> {
        self.sink.warning(warning)
    }
    fn forward(&mut self) -> Option<&mut dyn Sink> {
        Some(&mut *self.sink)
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
                Some(b) if out.len().saturating_add(b.len()) <= carve::MAX_BLOB => {
                    out.extend_from_slice(b)
                }
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
        for s in record.sources_mut() {
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
    fn forward(&mut self) -> Option<&mut dyn Sink> {
        Some(&mut *self.sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A disk that holds 0xab everywhere and hands out at most two bytes a read.
    struct Endless;

    impl container::ReadAt for Endless {
        fn size(&self) -> u64 {
            u64::MAX
        }
        fn read_at(&self, _: u64, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(2);
            buf.iter_mut().take(n).for_each(|b| *b = 0xab);
            Ok(n)
        }
    }

    /// A run whose disk offsets would pass 2^64 (a hostile volume's cluster runs) is read
    /// while its offsets exist, then handed on as zeros and counted as unreadable, with the
    /// offset named: no wrapped offset is read and nothing panics.
    #[test]
    fn a_run_past_two_to_the_64_reads_as_unreadable() {
        let runs = [(16u64, 4u64), (u64::MAX - 1, 8)];
        let unreadable = free::Unreadable::default();
        let mut reader = RunsReader {
            disk: &Endless,
            runs: &runs,
            run: 0,
            within: 0,
            unreadable: &unreadable,
        };
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        let mut want = vec![0xab; 6];
        want.extend([0; 6]);
        assert_eq!(out, want);
        assert_eq!(
            unreadable.warning().map(|w| w.to_string()),
            Some(
                "6 bytes could not be read and were carved as zeros (the first: offset 18446744073709551614 + 2: the offset overflows)"
                    .to_string()
            )
        );
    }
}
