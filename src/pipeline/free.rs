//! Carving a volume's free clusters (feature `images`), so that a record is read only where its
//! bytes can continue: along a deleted file's runs (its next run, wherever it lies on the disk),
//! or to the end of a free run, never into the next free cluster of the disk when the two are
//! not adjacent.
//!
//! The free clusters are laid out as one stream: first the free parts of every deleted file the
//! MFT still describes, each in file order, then what is left of the free runs, each on its
//! own. The carver reads the stream on all cores and stops every record at the end of its
//! piece of the stream ([`carve::carve_stream_within`]); each find is placed back at its disk
//! offsets (split where the file's runs break) with the volume, cluster and deleted file in its
//! chain.
//!
//! The finds are held while the volume's stores are read (see [`Free::claim`]), then emitted.

use std::collections::{BTreeMap, HashMap};

use super::join::Join;
use super::{Diagnostic, Options, ParseError, RunError, Sink, Stop};
use crate::bits::carve::{self, Carved};
use crate::bits::model::{BitsInfo, Piece, Placement, Source, UNALLOCATED};
use crate::container;

/// A piece of the carved stream: `len` bytes at disk offset `disk`, from stream offset `at`;
/// `file`: the deleted file (index into [`Free::files`]) and the offset in it, when the piece
/// follows a deleted file's runs.
#[derive(Debug, Clone, Copy)]
struct Seg {
    at: u64,
    disk: u64,
    len: u64,
    file: Option<(usize, u64)>,
}

/// The records carved from one volume's free clusters, held while the volume's stores are
/// read: a store's record claims those at its own place (dropped) and, for a deleted store,
/// its byte-identical copies (dropped, their places listed in its `also_at`); the rest are
/// emitted at the end, placed.
pub(super) struct Free<'v> {
    vol: &'v container::Volume,
    coordinate: String,
    cluster: std::num::NonZeroU64,
    segs: Vec<Seg>,
    /// The deleted files followed: (MFT entry, name).
    files: Vec<(u64, String)>,
    /// The finds, in stream order; `None` once claimed.
    carved: Vec<Option<Carved>>,
    /// Each find's disk offset and length (kept after it is claimed).
    keys: Vec<(u64, usize)>,
    by_start: HashMap<u64, usize>,
    by_bytes: HashMap<u64, Vec<usize>>,
    /// The chain label of each deleted store met while the volume is walked, by MFT entry.
    labels: HashMap<u64, String>,
    /// NTFS-compressed deleted stores (not followed: their clusters hold compressed units):
    /// (disk offset, length, label).
    compressed: Vec<(u64, u64, String)>,
}

fn hash(b: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    b.hash(&mut h);
    h.finish()
}

/// Take the parts of `[a, b)` no earlier piece took: the ranges taken so far, start → end.
fn take(taken: &mut BTreeMap<u64, u64>, a: u64, b: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut at = a;
    // A range taken earlier that starts before `a` may reach into it.
    if let Some((_, &end)) = taken.range(..=a).next_back() {
        at = at.max(end);
    }
    let later: Vec<(u64, u64)> = taken.range(a..b).map(|(s, e)| (*s, *e)).collect();
    for (s, e) in later {
        if s > at {
            out.push((at, s));
        }
        at = at.max(e);
    }
    if at < b {
        out.push((at, b));
    }
    for &(s, e) in &out {
        taken.insert(s, e);
    }
    out
}

/// The stream's layout: the deleted files' free pieces in file order (a cluster goes to the first
/// file that claims it: the container layer lists the latest written first), then the rest of
/// the free runs; and the stream offsets where a record must stop.
fn layout(
    free: &container::Unallocated,
    deleted: &[container::DeletedFile],
) -> (Vec<Seg>, Vec<u64>, Vec<(u64, String)>) {
    let mut taken = BTreeMap::new();
    let mut segs = Vec::new();
    let mut ends = Vec::new();
    let mut files = Vec::new();
    let mut at = 0u64;
    for d in deleted {
        let index = files.len();
        let mut next_file = None;
        let mut any = false;
        for &(file_at, disk, len) in &d.pieces {
            // `take` hands out pieces `disk <= a < b`: the differences below cannot wrap.
            for (a, b) in take(&mut taken, disk, disk.saturating_add(len)) {
                let f = file_at.saturating_add(a.saturating_sub(disk));
                // A record carries on into this piece only if it follows the last one in the
                // file.
                if next_file.is_some_and(|n| n != f) {
                    ends.push(at);
                }
                segs.push(Seg {
                    at,
                    disk: a,
                    len: b.saturating_sub(a),
                    file: Some((index, f)),
                });
                at = at.saturating_add(b.saturating_sub(a));
                next_file = Some(f.saturating_add(b.saturating_sub(a)));
                any = true;
            }
        }
        if any {
            ends.push(at);
            files.push((d.mft_entry, d.name.clone()));
        }
    }
    for &(disk, len) in &free.runs {
        for (a, b) in take(&mut taken, disk, disk.saturating_add(len)) {
            segs.push(Seg {
                at,
                disk: a,
                len: b.saturating_sub(a),
                file: None,
            });
            at = at.saturating_add(b.saturating_sub(a));
            ends.push(at);
        }
    }
    ends.sort_unstable();
    ends.dedup();
    (segs, ends, files)
}

/// Carve a volume's unallocated clusters (see the module's notes). The finds are held until
/// the volume's stores are read; bytes that could not be read are carved as zeros and told in
/// one of `warnings`.
#[allow(clippy::too_many_arguments)]
pub(super) fn carve_free<'v>(
    disk: &dyn container::ReadAt,
    vol: &'v container::Volume,
    free: &container::Unallocated,
    deleted: &[container::DeletedFile],
    coordinate: &str,
    label: &str,
    report: &mut dyn FnMut() -> Result<(), Stop>,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Free<'v>, RunError> {
    let (segs, ends, files) = layout(free, deleted);
    let mut out = Free {
        vol,
        coordinate: coordinate.to_string(),
        cluster: std::num::NonZeroU64::new(free.cluster).unwrap_or(std::num::NonZeroU64::MIN),
        segs,
        files,
        carved: Vec::new(),
        keys: Vec::new(),
        by_start: HashMap::new(),
        by_bytes: HashMap::new(),
        labels: HashMap::new(),
        compressed: Vec::new(),
    };
    if out.segs.is_empty() {
        return Ok(out);
    }
    let unreadable = Unreadable::default();
    let reader = SegReader {
        disk,
        segs: &out.segs,
        seg: 0,
        within: 0,
        unreadable: &unreadable,
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut stopped = false;
    let carved = {
        let mut progress = |_: u64| {
            stopped = report().is_err();
            !stopped
        };
        carve::carve_stream_within(reader, label, threads, &mut progress, &ends).map_err(
            |source| {
                ParseError::Input(crate::input::InputError::Io {
                    path: label.into(),
                    source,
                })
            },
        )?
    };
    if stopped {
        return Err(RunError::Stopped);
    }
    warnings.extend(unreadable.warning());
    for c in carved {
        let start = out.disk(c.source().offset);
        let i = out.carved.len();
        out.by_start.entry(start).or_insert(i);
        out.by_bytes.entry(hash(c.bytes())).or_default().push(i);
        out.keys.push((start, c.bytes().len()));
        out.carved.push(Some(c));
    }
    Ok(out)
}

impl Free<'_> {
    /// The piece of the stream holding stream offset `at`.
    fn seg(&self, at: u64) -> Option<&Seg> {
        let i = self.segs.partition_point(|s| s.at <= at).checked_sub(1)?;
        self.segs.get(i)
    }

    fn disk(&self, stream: u64) -> u64 {
        match self.seg(stream) {
            // The piece holding `stream` starts at or before it.
            Some(s) => s.disk.saturating_add(stream.saturating_sub(s.at)),
            None => stream,
        }
    }

    /// The disk pieces of stream range `[at, at + len)`, split where the stream's pieces are.
    fn pieces(&self, at: u64, len: u64) -> Vec<Piece> {
        let mut out: Vec<Piece> = Vec::new();
        let end = at.saturating_add(len);
        let first = self.segs.partition_point(|s| s.at <= at).saturating_sub(1);
        for s in self.segs.get(first..).unwrap_or_default() {
            if s.at >= end {
                break;
            }
            let a = at.max(s.at);
            let b = end.min(s.at.saturating_add(s.len));
            if a >= b {
                continue;
            }
            // `s.at <= a < b` here.
            let disk = s.disk.saturating_add(a.saturating_sub(s.at));
            let length = b.saturating_sub(a);
            match out.last_mut() {
                Some(p) if p.offset.map(|o| o.saturating_add(p.length)) == Some(disk) => {
                    p.length = p.length.saturating_add(length);
                }
                _ => out.push(Piece {
                    offset: Some(disk),
                    length,
                }),
            }
        }
        out
    }

    /// A store of this volume, met in the walk: a deleted one names the finds in its clusters.
    pub(super) fn note(&mut self, s: &container::Store) {
        if !s.deleted {
            return;
        }
        let label = s.chain.last().cloned().unwrap_or_default();
        if let Some(n) = s.mft_entry {
            self.labels.insert(n, label.clone());
        }
        if let container::StoreData::Compressed(extents) = &s.data {
            for e in extents {
                if let Some(d) = e.offset {
                    self.compressed.push((d, e.len, label.clone()));
                }
            }
        }
    }

    /// A store's record whose bytes `bytes` begin at disk offset `start`: drop the find at
    /// the same place and, for a deleted store (`copies`), its byte-identical copies found
    /// elsewhere, whose disk offsets are returned. (A live store's copies in free clusters
    /// stay records of their own: they may be the only trace of a deleted file that cannot
    /// be read back, such as an NTFS-compressed one.)
    pub(super) fn claim(&mut self, start: Option<u64>, bytes: &[u8], copies: bool) -> Vec<u64> {
        if let Some(i) = start.and_then(|s| self.by_start.get(&s)).copied() {
            if let Some(slot) = self.carved.get_mut(i) {
                *slot = None;
            }
        }
        let mut elsewhere = Vec::new();
        if !copies {
            return elsewhere;
        }
        for &i in self.by_bytes.get(&hash(bytes)).into_iter().flatten() {
            let Some(&(at, len)) = self.keys.get(i) else {
                continue;
            };
            if Some(at) == start || len != bytes.len() {
                continue;
            }
            let same = match self.carved.get(i) {
                Some(Some(c)) => c.bytes() == bytes,
                // Claimed by an earlier row of the same record.
                _ => true,
            };
            if same {
                if let Some(slot) = self.carved.get_mut(i) {
                    *slot = None;
                }
                elsewhere.push(at);
            }
        }
        elsewhere
    }

    /// Emit the finds no store claimed, joined (jobs with their files) and placed.
    pub(super) fn finish(self, opts: &Options, sink: &mut dyn Sink) -> Result<(), RunError> {
        let carved: Vec<Carved> = self.carved.iter().flatten().cloned().collect();
        if carved.is_empty() {
            return Ok(());
        }
        let mut placed = Placed { sink, free: &self };
        let mut join = Join::new(opts.field_ranges, Vec::new());
        join.add_candidates(carved);
        join.finish(&mut placed)
    }

    /// What holds stream offset `at` beyond the cluster: the deleted file and the offset in it.
    fn inside(&self, at: u64, disk: u64) -> Option<String> {
        let file = self.seg(at).and_then(|s| Some((s.file?, s.at)));
        if let Some(((index, file_at), seg_at)) = file {
            let (n, name) = self.files.get(index)?;
            let within = file_at.saturating_add(at.saturating_sub(seg_at)); // seg_at <= at
            let what = match self.labels.get(n) {
                Some(label) => label.clone(),
                None if name.is_empty() => format!("MFT entry {n} (deleted)"),
                None => format!("MFT entry {n} (deleted, named {name})"),
            };
            return Some(format!("inside {what} at file offset {within}"));
        }
        self.compressed
            .iter()
            .find(|(d, l, _)| (*d..d.saturating_add(*l)).contains(&disk))
            .map(|(_, _, label)| {
                format!("inside {label}, NTFS-compressed: its offset in the file cannot be told")
            })
    }
}

/// Bytes of a disk that could not be read while it was carved, handed on as zeros: how many, and
/// the first failure with its offset. Shared by the readers that stream a disk's pieces
/// ([`SegReader`] here, `images::RunsReader` for a bare media), so that a bad chunk or a piece
/// whose offsets pass 2^64 costs a warning, never the carve.
#[derive(Default)]
pub(super) struct Unreadable {
    bytes: std::sync::atomic::AtomicU64,
    first: std::sync::Mutex<Option<String>>,
}

/// The most handed on at once when a read failed (so one bad chunk costs no more than this).
const UNREADABLE_STEP: usize = 64 << 10;

impl Unreadable {
    /// Read `dst` at `base + within` of `disk`; where that fails, or the offset passes 2^64,
    /// the first [`UNREADABLE_STEP`] bytes of `dst` are zeros, counted: the bytes handed on.
    pub(super) fn read(
        &self,
        disk: &dyn container::ReadAt,
        base: u64,
        within: u64,
        dst: &mut [u8],
    ) -> usize {
        let pos = base.checked_add(within);
        let read = match pos {
            Some(pos) => disk.read_at(pos, dst),
            None => Err(std::io::Error::other("the offset overflows")),
        };
        match read {
            Ok(got) => got,
            Err(e) => {
                let step = dst.len().min(UNREADABLE_STEP);
                if let Some(zeros) = dst.get_mut(..step) {
                    zeros.fill(0);
                }
                self.bytes
                    .fetch_add(step as u64, std::sync::atomic::Ordering::Relaxed);
                if let Ok(mut first) = self.first.lock() {
                    first.get_or_insert_with(|| match pos {
                        Some(pos) => format!("offset {pos}: {e}"),
                        None => format!("offset {base} + {within}: {e}"),
                    });
                }
                step
            }
        }
    }

    /// The warning to give when anything could not be read.
    pub(super) fn warning(&self) -> Option<Diagnostic> {
        let lost = self.bytes.load(std::sync::atomic::Ordering::Relaxed);
        if lost == 0 {
            return None;
        }
        let first = self
            .first
            .lock()
            .ok()
            .and_then(|mut e| e.take())
            .unwrap_or_default();
        Some(Diagnostic::new(format!(
            "{lost} bytes could not be read and were carved as zeros (the first: {first})"
        )))
    }
}

/// The free clusters of a volume read one piece of the stream after the other, by positioned
/// reads of the disk. A piece that cannot be read (a bad chunk, offsets past 2^64) is handed
/// on as zeros and counted in `unreadable`, as `images::RunsReader` does.
struct SegReader<'a> {
    disk: &'a dyn container::ReadAt,
    segs: &'a [Seg],
    seg: usize,
    within: u64,
    unreadable: &'a Unreadable,
}

impl std::io::Read for SegReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while let Some(s) = self.segs.get(self.seg) {
            let Some(left) = s.len.checked_sub(self.within).filter(|&l| l > 0) else {
                self.seg = self.seg.saturating_add(1);
                self.within = 0;
                continue;
            };
            let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
            let Some(dst) = buf.get_mut(..n) else {
                return Ok(0);
            };
            let got = self.unreadable.read(self.disk, s.disk, self.within, dst);
            if got == 0 {
                // The disk ends inside the piece: zeros for the rest, so the stream's offsets
                // stay those of the layout.
                dst.fill(0);
                // `got <= n <= left`: the piece is not passed.
                self.within = self.within.saturating_add(n as u64);
                return Ok(n);
            }
            self.within = self.within.saturating_add(got as u64);
            return Ok(got);
        }
        Ok(0)
    }
}

/// Puts records carved from a volume's free clusters back at their disk offsets, with the
/// volume, cluster and (when they lie in a deleted file) the file in the chain.
struct Placed<'s> {
    sink: &'s mut dyn Sink,
    free: &'s Free<'s>,
}

impl Placed<'_> {
    fn place(&self, src: &mut Source) {
        let free = self.free;
        let stream = src.offset;
        let disk = free.disk(stream);
        let pieces: Vec<Piece> = src
            .pieces()
            .into_iter()
            .flat_map(|(o, l)| free.pieces(o, l))
            .collect();
        src.offset = disk;
        for e in &mut src.extents {
            e.0 = free.disk(e.0);
        }
        for a in &mut src.also_at {
            *a = free.disk(*a);
        }
        let within = disk.saturating_sub(free.vol.offset);
        let mut what = format!(
            "{UNALLOCATED} {} (volume offset {within})",
            within / free.cluster // a NonZeroU64
        );
        if let Some(inside) = free.inside(stream, disk) {
            what.push_str(", ");
            what.push_str(&inside);
        }
        src.container_chain = free.vol.chain.clone();
        src.container_chain.push(what);
        // The chain ends in the volume's free space: `offset` above is the disk's (the first
        // byte's), and the pieces say where the rest lies.
        src.in_evidence = Some(Placement {
            coordinate: free.coordinate.clone(),
            offset: Some(disk),
            extents: pieces,
            also_at: src.also_at.clone(),
            ..Placement::default()
        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A disk that holds 0xab everywhere, hands out at most two bytes a read, and fails every
    /// read at offsets 1000..2000 (a bad chunk).
    struct Flaky;

    impl container::ReadAt for Flaky {
        fn size(&self) -> u64 {
            u64::MAX
        }
        fn read_at(&self, at: u64, buf: &mut [u8]) -> std::io::Result<usize> {
            if (1000..2000).contains(&at) {
                return Err(std::io::Error::other("a bad chunk"));
            }
            let n = buf.len().min(2);
            buf.iter_mut().take(n).for_each(|b| *b = 0xab);
            Ok(n)
        }
    }

    /// A piece of free clusters whose disk offsets would pass 2^64 (a hostile volume's runs)
    /// is read while its offsets exist, then handed on as zeros counted as unreadable with the
    /// offset named, as `images::RunsReader` does (it used to be clamped to offset 2^64 - 1
    /// and read there again and again); a bad chunk is zeros and counted too, never the end
    /// of the carve. The stream keeps the layout's offsets either way.
    #[test]
    fn a_piece_past_two_to_the_64_reads_as_unreadable() {
        let seg = |at, disk, len| Seg {
            at,
            disk,
            len,
            file: None,
        };
        let segs = [
            seg(0, 16, 4),
            seg(4, u64::MAX - 1, 8),
            seg(12, 1000, 3),
            seg(15, 40, 2),
        ];
        let unreadable = Unreadable::default();
        let mut reader = SegReader {
            disk: &Flaky,
            segs: &segs,
            seg: 0,
            within: 0,
            unreadable: &unreadable,
        };
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        let mut want = vec![0xab; 6];
        want.extend([0; 6 + 3]);
        want.extend([0xab; 2]);
        assert_eq!(out, want);
        assert_eq!(
            unreadable.warning().map(|w| w.to_string()),
            Some(
                "9 bytes could not be read and were carved as zeros (the first: offset 18446744073709551614 + 2: the offset overflows)"
                    .to_string()
            )
        );
    }

    #[test]
    fn ranges_are_taken_once() {
        let mut t = BTreeMap::new();
        assert_eq!(take(&mut t, 10, 20), [(10, 20)]);
        assert_eq!(take(&mut t, 5, 30), [(5, 10), (20, 30)]);
        assert_eq!(take(&mut t, 12, 18), []);
        assert_eq!(take(&mut t, 29, 40), [(30, 40)]);
    }

    #[test]
    fn a_deleted_file_is_followed_and_the_rest_cut_at_each_free_run() {
        // Free: [0, 40) and [100, 140). A deleted file: its bytes 0..20 at disk 100, 20..40 at
        // disk 0 (out of disk order), then 40..60 at 30 (not free: taken away to 30..40).
        let free = container::Unallocated {
            cluster: 10,
            runs: vec![(0, 40), (100, 40)],
        };
        let deleted = [container::DeletedFile {
            mft_entry: 70,
            modified: 0,
            name: "x.db".into(),
            pieces: vec![(0, 100, 20), (20, 0, 20), (40, 30, 10)],
        }];
        let (segs, ends, files) = layout(&free, &deleted);
        type Row = (u64, u64, u64, Option<(usize, u64)>);
        let got: Vec<Row> = segs.iter().map(|s| (s.at, s.disk, s.len, s.file)).collect();
        assert_eq!(
            got,
            [
                (0, 100, 20, Some((0, 0))),
                (20, 0, 20, Some((0, 20))),
                (40, 30, 10, Some((0, 40))),
                (50, 20, 10, None),
                (60, 120, 20, None),
            ]
        );
        // The file runs on from piece to piece; each leftover free range stands alone.
        assert_eq!(ends, [50, 60, 80]);
        assert_eq!(files, [(70, "x.db".to_string())]);
    }
}
