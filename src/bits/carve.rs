//! The carver: BITS jobs and files that the bytes still hold but no live structure lists.
//!
//! Every byte range is scanned for all known markers at once (Win10+ job markers, the file
//! marker, each legacy job delimiter on its own). Each hit is decoded as far as its bytes go,
//! validated, and kept only if it is plausible: job id not null and not text, enums in range,
//! timestamps between 1990 and 2100. Hits inside a record already decoded are not decoded
//! again, so the closing marker of one blob is never read as the start of another.
//! Copies byte-identical to a live record (or a cut-off prefix of one) are dropped; identical
//! carved copies are reported once with the other offsets; distinct versions of one job are kept.

use std::collections::HashMap;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};

use super::file::{decode_file_blob, FileRecord, FILE_MARKER};
use super::job::{decode_job_blob, JobRecord, JOB_DELIMITERS, JOB_MARKERS};
use super::legacy::decode_legacy_job;
use super::model::{FileEntry, JobEntry, Source, SourceKind};
use crate::util::guid::Guid;

/// The longest blob the carver decodes from one hit (real blobs are 1–10 KiB).
pub const MAX_BLOB: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    Job,
    File,
    LegacyJob,
}

fn searcher() -> Option<&'static (AhoCorasick, Vec<MarkerKind>)> {
    static S: OnceLock<Option<(AhoCorasick, Vec<MarkerKind>)>> = OnceLock::new();
    S.get_or_init(|| {
        let mut pats: Vec<[u8; 16]> = Vec::new();
        let mut kinds = Vec::new();
        for (m, _) in JOB_MARKERS.iter() {
            pats.push(*m);
            kinds.push(MarkerKind::Job);
        }
        pats.push(FILE_MARKER);
        kinds.push(MarkerKind::File);
        for (m, _) in JOB_DELIMITERS.iter() {
            pats.push(*m);
            kinds.push(MarkerKind::LegacyJob);
        }
        // Fixed, valid patterns: building does not fail in practice.
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(pats)
            .ok()?;
        Some((ac, kinds))
    })
    .as_ref()
}

/// Every marker in `buf`: (offset, kind), in order. Markers are 16 bytes and never overlap.
pub fn find_markers(buf: &[u8]) -> Vec<(usize, MarkerKind)> {
    let Some((ac, kinds)) = searcher() else {
        return Vec::new();
    };
    ac.find_iter(buf)
        .filter_map(|m| Some((m.start(), *kinds.get(m.pattern().as_usize())?)))
        .collect()
}

/// A record the carver recovered, with its bytes (for deduplication and the hex view).
#[derive(Debug, Clone)]
pub enum Carved {
    Job(JobEntry),
    File(FileEntry),
    /// A legacy job with its inline files.
    Legacy(JobEntry, Vec<FileEntry>),
}

impl Carved {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Carved::Job(j) | Carved::Legacy(j, _) => &j.blob,
            Carved::File(f) => &f.blob,
        }
    }
    pub fn source(&self) -> &Source {
        match self {
            Carved::Job(j) | Carved::Legacy(j, _) => &j.source,
            Carved::File(f) => &f.source,
        }
    }

    /// The record was decoded through its closing marker (or delimiter).
    pub fn closed(&self) -> bool {
        match self {
            Carved::Job(j) | Carved::Legacy(j, _) => j.job.closed,
            Carved::File(f) => f.file.closed,
        }
    }

    pub(crate) fn source_mut(&mut self) -> &mut Source {
        match self {
            Carved::Job(j) | Carved::Legacy(j, _) => &mut j.source,
            Carved::File(f) => &mut f.source,
        }
    }
}

/// Describes where a file offset lies (ESE page and what part of it), for provenance.
pub type Locator<'a> = dyn Fn(u64) -> (String, Option<u32>) + Sync + 'a;

/// Carve `buf`, which sits at file offset `base` of `evidence`.
pub fn carve_buffer(buf: &[u8], base: u64, evidence: &str, locate: &Locator<'_>) -> Vec<Carved> {
    carve_buffer_skipping(buf, base, evidence, locate, &|_| false)
}

/// [`carve_buffer`], passing over the hits at file offsets `skip` says are already read.
pub fn carve_buffer_skipping(
    buf: &[u8],
    base: u64,
    evidence: &str,
    locate: &Locator<'_>,
    skip: &dyn Fn(u64) -> bool,
) -> Vec<Carved> {
    carve_buffer_within(buf, base, evidence, locate, skip, &|_| u64::MAX)
}

/// [`carve_buffer_skipping`], a record starting at file offset `o` read no further than
/// `end_of(o)`: the end of the run of bytes it lies in, when the buffer joins runs that are
/// not adjacent where they come from (free clusters of a volume).
pub fn carve_buffer_within(
    buf: &[u8],
    base: u64,
    evidence: &str,
    locate: &Locator<'_>,
    skip: &dyn Fn(u64) -> bool,
    end_of: &dyn Fn(u64) -> u64,
) -> Vec<Carved> {
    let mut out = Vec::new();
    let mut covered_until = 0usize;
    for (at, kind) in find_markers(buf) {
        // A position in the evidence (a file or a stream read so far): far below 2^64.
        let offset = base.saturating_add(at as u64);
        if at < covered_until || skip(offset) {
            continue;
        }
        let room = end_of(offset).saturating_sub(offset);
        let room = usize::try_from(room).unwrap_or(usize::MAX).min(MAX_BLOB);
        let window = buf
            .get(at..at.saturating_add(room).min(buf.len()))
            .unwrap_or(&[]);
        let (container, page) = locate(offset);
        let source = |len: usize| Source {
            evidence: evidence.to_string(),
            offset,
            length: len as u64,
            kind: SourceKind::Carved,
            container: container.clone(),
            page,
            ..Source::default()
        };
        match kind {
            MarkerKind::Job => {
                let Ok(job) = decode_job_blob(window) else {
                    continue;
                };
                if !plausible_job(&job) {
                    continue;
                }
                let len = job.len.clamp(16, window.len());
                covered_until = at.saturating_add(len); // within `buf`: `len <= window.len()`
                let blob = window.get(..len).unwrap_or(window).to_vec();
                let src = source(len).with_fields(&job.fields);
                out.push(Carved::Job(JobEntry {
                    job,
                    blob,
                    source: src,
                }));
            }
            MarkerKind::File => {
                let Ok(file) = decode_file_blob(window) else {
                    continue;
                };
                if !plausible_file(&file) {
                    continue;
                }
                let len = file.len.clamp(16, window.len());
                covered_until = at.saturating_add(len); // within `buf`: `len <= window.len()`
                let blob = window.get(..len).unwrap_or(window).to_vec();
                let src = source(len).with_fields(&file.fields);
                out.push(Carved::File(FileEntry {
                    id: None,
                    file,
                    blob,
                    source: src,
                }));
            }
            MarkerKind::LegacyJob => {
                let Ok((lj, len)) = decode_legacy_job(window) else {
                    continue;
                };
                if !plausible_job(&lj.job) {
                    continue;
                }
                let len = len.clamp(16, window.len());
                covered_until = at.saturating_add(len); // within `buf`: `len <= window.len()`
                let blob = window.get(..len).unwrap_or(window).to_vec();
                let src = source(len).with_fields(&lj.job.fields);
                let files = FileEntry::inline(lj.files, &src);
                out.push(Carved::Legacy(
                    JobEntry {
                        job: lj.job,
                        blob,
                        source: src,
                    },
                    files,
                ));
            }
        }
    }
    out
}

/// FILETIMEs between 1990-01-01 and 2100-01-01.
const FT_1990: u64 = 125_911_584_000_000_000;
const FT_2100: u64 = 157_766_016_000_000_000;

fn plausible_time(ft: Option<u64>) -> bool {
    ft.is_none_or(|t| t == 0 || (FT_1990..FT_2100).contains(&t))
}

/// 16 bytes that read as UTF-16LE text (printable ASCII and NUL high bytes) are text, not a GUID.
fn looks_like_text(g: &Guid) -> bool {
    g.0.chunks_exact(2)
        .all(|c| matches!(c, [lo, 0] if *lo == 0 || (0x20..0x7f).contains(lo)))
}

pub fn plausible_job(j: &JobRecord) -> bool {
    !j.job_id.is_nil()
        && !looks_like_text(&j.job_id)
        && j.state <= 8
        && j.priority <= 3
        && j.type_at_16 <= 2
        && j.type_at_28 <= 2
        && j.name.is_some()
        && [
            j.created,
            j.modified,
            j.modified2,
            j.completed,
            j.expiration,
        ]
        .into_iter()
        .all(plausible_time)
}

pub fn plausible_file(f: &FileRecord) -> bool {
    let printable = |s: &Option<String>| {
        s.as_deref()
            .is_some_and(|s| !s.is_empty() && s.chars().all(|c| !c.is_control()))
    };
    printable(&f.destination)
        && (f.url.is_none() || printable(&f.url))
        && plausible_time(f.remote_mtime)
}

/// Drop carved records whose bytes equal, or are a cut-off prefix of, a live record's or an
/// earlier carved record's bytes. Identical carved copies leave their offsets in `also_at`.
pub fn dedup(live: &[&[u8]], carved: Vec<Carved>) -> Vec<Carved> {
    // Index by the first 48 bytes (marker, header words, job id): equal records share them.
    let key = |b: &[u8]| b.get(..48.min(b.len())).unwrap_or(b).to_vec();
    // The live records sorted: those starting with `b` follow each other from the first one
    // not below `b`, so one binary search answers what a scan of every live record with `b`'s
    // key did (files to one folder share their first 48 bytes: that scan was quadratic, 40%
    // of a 200k-job db's time).
    let mut live_sorted: Vec<&[u8]> = live.to_vec();
    live_sorted.sort_unstable();
    let mut kept: Vec<Carved> = Vec::new();
    let mut kept_by_key: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
    for c in carved {
        let b = c.bytes().to_vec();
        if b.is_empty() {
            continue;
        }
        let k = key(&b);
        if live_copies(&live_sorted, &b) {
            continue;
        }
        let dup = kept_by_key.get(&k).and_then(|idx| {
            idx.iter().copied().find(|&i| {
                kept.get(i)
                    .is_some_and(|x| x.bytes().starts_with(&b) || b.starts_with(x.bytes()))
            })
        });
        match dup {
            Some(i) => {
                if let Some(x) = kept.get_mut(i) {
                    // Keep the longer copy: a cut copy adds nothing the whole one lacks. The
                    // other's place is kept (in another file, for a qmgr0/qmgr1 pair: also_in).
                    if b.len() > x.bytes().len() {
                        let old = std::mem::replace(x, c);
                        x.source_mut().absorb(old.source().clone());
                    } else {
                        x.source_mut().absorb(c.source().clone());
                    }
                }
            }
            None => {
                kept_by_key.entry(k).or_default().push(kept.len());
                kept.push(c);
            }
        }
    }
    kept
}

/// Whether a live record (in `sorted`, sorted) starts with `b` and has `b`'s 48-byte key:
/// a `b` of 48 bytes or more may be a cut-off live record, a shorter one only an equal one.
fn live_copies(sorted: &[&[u8]], b: &[u8]) -> bool {
    let first = sorted.partition_point(|l| *l < b);
    sorted.get(first).is_some_and(|l| {
        if b.len() >= 48 {
            l.starts_with(b)
        } else {
            *l == b
        }
    })
}

/// Carve an open qmgr.db page-aware: unreferenced long values first (reassembled from their
/// chunks, so a blob split across pages comes back whole), then every byte of the file, each
/// hit labelled with its page and what part of the page holds it.
pub fn carve_ese(db: &crate::ese::Database<'_>, evidence: &str) -> (Vec<Carved>, Vec<String>) {
    let data = db.data;
    let warnings = Vec::new();
    let mut found = Vec::new();
    // Chunks of long values that reassemble whole (live or unreferenced): a raw hit inside one
    // is already read through the tree, and reading on past the chunk's end would splice in
    // the next node's header.
    let mut assembled = Ranges::default();
    for t in &db.tables {
        let (lv, _) = db.long_values(t);
        for root in lv.roots().into_iter().filter(|r| r.refcount > 0) {
            let reference: Vec<u8> = root.id.iter().rev().copied().collect();
            // Whole and plain in its chunks: checked from the tree alone, since a compressed
            // value shows no markers in its raw bytes anyway (and assembling every live value
            // here would copy every blob once more).
            if lv.is_whole(&reference)
                || lv.get(&reference, crate::ese::database::MAX_VALUE).is_ok()
            {
                assembled.extend(lv.extents(&reference));
            }
        }
        for (root, bytes) in lv.orphans() {
            let extents = lv.extents(&root.id.iter().rev().copied().collect::<Vec<_>>());
            let Ok(bytes) = bytes else { continue };
            assembled.extend(extents.clone());
            let Some(&(page, first, _)) = extents.first() else {
                continue;
            };
            let container = if extents.len() > 1 {
                format!(
                    "ese:{} unreferenced long value, rejoined from {} chunks",
                    t.name,
                    extents.len()
                )
            } else {
                format!("ese:{} unreferenced long value", t.name)
            };
            for mut c in carve_buffer(&bytes, first, evidence, &|_| {
                (container.clone(), Some(page))
            }) {
                c.source_mut()
                    .set_extents(extents.iter().map(|(_, o, l)| (*o, *l as u64)));
                found.push(c);
            }
        }
    }
    assembled.sort();
    let reachable = db.reachable_pages();
    let page_size = db.page_size as u64;
    let pages = db.page_count();
    // The end of the last whole page (a page size of 0, which opening refuses, leaves none).
    let whole_pages_end = (data.len() as u64)
        .checked_div(page_size)
        .map_or(0, |n| n.saturating_mul(page_size));
    let locate = |off: u64| -> (String, Option<u32>) {
        let pgno = off.checked_div(page_size).and_then(|n| n.checked_sub(1));
        match pgno {
            None | Some(0) => ("ese file header".into(), None),
            Some(p) if p > pages as u64 || off >= whole_pages_end => {
                ("ese bytes past the last page".into(), None)
            }
            Some(p) => {
                let p = p as u32;
                let Ok(page) = db.page(p) else {
                    return ("ese page".into(), Some(p));
                };
                // `p` is the page `off` lies in: it starts at or before `off`.
                let within = off.saturating_sub(db.page_offset(p)) as usize;
                let what = if !reachable.contains(&p) {
                    "ese unreferenced page"
                } else if page
                    .free_ranges()
                    .iter()
                    .any(|(s, e)| (*s..*e).contains(&within))
                {
                    "ese page free space"
                } else if (0..page.tag_count()).filter_map(|i| page.tag(i)).any(|t| {
                    (t.offset..t.offset.saturating_add(t.size)).contains(&within)
                        && t.flags & crate::ese::page::NODE_DELETED != 0
                }) {
                    "ese deleted tag"
                } else {
                    "ese page in use"
                };
                (what.into(), Some(p))
            }
        }
    };
    let chunks = ChunkIndex::build(db);
    let skip = |off: u64| assembled.contains(off);
    found.extend(
        carve_buffer_skipping(data, 0, evidence, &locate, &skip)
            .into_iter()
            .map(|c| chunks.rejoin(c, evidence)),
    );
    (found, warnings)
}

/// File byte ranges, sorted by start, answering "does any range hold this offset?" by binary
/// search (a qmgr.db holds tens of thousands of long-value chunks).
#[derive(Default)]
struct Ranges {
    /// (start, end), end exclusive.
    spans: Vec<(u64, u64)>,
    /// `reach[i]`: the greatest end among `spans[..=i]`, so overlapping spans still answer.
    reach: Vec<u64>,
}

impl Ranges {
    fn extend(&mut self, extents: Vec<(u32, u64, usize)>) {
        self.spans.extend(
            extents
                .into_iter()
                .map(|(_, o, l)| (o, o.saturating_add(l as u64))),
        );
    }

    fn sort(&mut self) {
        self.spans.sort_unstable();
        let mut max = 0;
        self.reach = self
            .spans
            .iter()
            .map(|(_, e)| {
                max = max.max(*e);
                max
            })
            .collect();
    }

    fn contains(&self, off: u64) -> bool {
        // The spans starting at or before `off`; the last of them reaches furthest.
        let n = self.spans.partition_point(|(s, _)| *s <= off);
        n.checked_sub(1)
            .and_then(|last| self.reach.get(last))
            .is_some_and(|e| off < *e)
    }
}

/// Bytes each worker scans at a time when streaming; records may run into the next
/// [`MAX_BLOB`] bytes, which are read along (the overlap) but scanned by the next chunk.
pub const CHUNK: usize = 8 << 20;

/// Carve a stream of any size (a disk image, a log, unknown bytes) with bounded memory: the
/// reader is consumed in chunks with overlap, scanned by `threads` workers, and the records
/// merged in offset order, a record starting inside an earlier one dropped. `progress` is
/// called with the bytes read so far.
pub fn carve_stream(
    reader: impl std::io::Read,
    evidence: &str,
    threads: usize,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<Vec<Carved>> {
    carve_stream_until(reader, evidence, threads, &mut |done| {
        progress(done);
        true
    })
}

/// [`carve_stream`], stopping early (with what was found so far) when `progress` returns
/// false: the explorer cancels a load of a large image without waiting for its end.
pub fn carve_stream_until(
    reader: impl std::io::Read,
    evidence: &str,
    threads: usize,
    progress: &mut dyn FnMut(u64) -> bool,
) -> std::io::Result<Vec<Carved>> {
    carve_stream_within(reader, evidence, threads, progress, &[])
}

/// [`carve_stream_until`] over a stream that joins runs of bytes not adjacent where they come
/// from (a volume's free clusters): `ends` are the stream offsets where each run ends, sorted,
/// and no record is read across one.
pub fn carve_stream_within(
    mut reader: impl std::io::Read,
    evidence: &str,
    threads: usize,
    progress: &mut dyn FnMut(u64) -> bool,
    ends: &[u64],
) -> std::io::Result<Vec<Carved>> {
    let end_of = |o: u64| -> u64 {
        let i = ends.partition_point(|e| *e <= o);
        ends.get(i).copied().unwrap_or(u64::MAX)
    };
    use std::sync::mpsc;
    let threads = threads.max(1);
    // At most two chunks queued per worker: memory stays near (2·threads + 1) chunks.
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Vec<u8>, usize)>(threads);
    let work_rx = std::sync::Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<Vec<Carved>>();
    let result = std::thread::scope(|scope| -> std::io::Result<()> {
        for _ in 0..threads {
            let done_tx = done_tx.clone();
            let work_rx = &work_rx;
            let end_of = &end_of;
            scope.spawn(move || loop {
                let job = match work_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((base, buf, own)) = job else { return };
                let raw = |_| ("raw bytes".into(), None);
                let mut found = carve_buffer_within(&buf, base, evidence, &raw, &|_| false, end_of);
                found.retain(|c| start(c) < base.saturating_add(own as u64));
                if done_tx.send(found).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);
        let mut base = 0u64;
        let mut carry: Vec<u8> = Vec::new();
        loop {
            let mut buf = std::mem::take(&mut carry);
            let want = CHUNK + MAX_BLOB;
            let filled = fill(&mut reader, &mut buf, want)?;
            if buf.is_empty() {
                break;
            }
            let own = buf.len().min(CHUNK);
            if let Some(rest) = buf.get(own..) {
                carry = rest.to_vec();
            }
            let len = buf.len();
            // Bytes read so far: far below 2^64.
            if !progress(base.saturating_add(len as u64)) {
                break;
            }
            if work_tx.send((base, buf, own)).is_err() {
                break;
            }
            base = base.saturating_add(own as u64);
            if !filled && carry.is_empty() {
                break;
            }
        }
        drop(work_tx);
        Ok(())
    });
    result?;
    let mut all: Vec<Carved> = done_rx.into_iter().flatten().collect();
    all.sort_by_key(start);
    let mut merged: Vec<Carved> = Vec::with_capacity(all.len());
    let mut covered = 0u64;
    for c in all {
        let s = start(&c);
        if s < covered {
            continue;
        }
        covered = s.saturating_add(c.bytes().len().max(16) as u64);
        merged.push(c);
    }
    Ok(merged)
}

fn start(c: &Carved) -> u64 {
    c.source().offset
}

/// Read until `buf` holds `want` bytes or the reader ends; false when it ended.
fn fill(reader: &mut impl std::io::Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
    let mut chunk = vec![0u8; 1 << 20];
    while buf.len() < want {
        let room = want.saturating_sub(buf.len()).min(chunk.len());
        let n = reader.read(chunk.get_mut(..room).unwrap_or(&mut []))?;
        if n == 0 {
            return Ok(false);
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
    }
    Ok(true)
}

/// Every long-value chunk node in the file (referenced or not, flagged deleted or not), by
/// key: a blob whose chunks were left on pages no tree reaches can still be followed from one
/// chunk to the next, because each chunk's key is its value id and byte offset.
struct ChunkIndex<'a> {
    /// key (id ‖ u32 BE offset) → every (file offset of the data, data) with that key: ids
    /// are reused, so stale chunks of other values can share a key.
    by_key: HashMap<Vec<u8>, Vec<(u64, &'a [u8])>>,
    /// file offset of a chunk's data → its key
    by_offset: HashMap<u64, Vec<u8>>,
}

impl<'a> ChunkIndex<'a> {
    fn build(db: &crate::ese::Database<'a>) -> ChunkIndex<'a> {
        let mut idx = ChunkIndex {
            by_key: HashMap::new(),
            by_offset: HashMap::new(),
        };
        for page in db
            .pages()
            .filter(|p| p.header.is_long_value() && p.header.is_leaf())
        {
            let prefix = page.key_prefix();
            for node in page.nodes() {
                let key = node.key(prefix);
                if key.len() != 8 && key.len() != 12 {
                    continue;
                }
                // A page's offset plus a position within it: within the file.
                let at = db
                    .page_offset(page.number)
                    .saturating_add(node.data_offset as u64);
                idx.by_offset.insert(at, key.clone());
                idx.by_key.entry(key).or_default().push((at, node.data));
            }
        }
        idx
    }

    /// A record cut short that starts a chunk: follow the chunks by key and decode the joined
    /// bytes. The rejoined record replaces the cut one only if it then closes.
    fn rejoin(&self, c: Carved, evidence: &str) -> Carved {
        let at = start(&c);
        let Some(first_key) = self.by_offset.get(&at).filter(|_| !c.closed()) else {
            return c;
        };
        let Some((id, off)) = first_key
            .split_last_chunk::<4>()
            .map(|(id, off)| (id.to_vec(), u32::from_be_bytes(*off)))
        else {
            return c;
        };
        let mut bytes = Vec::new();
        let mut extents: Vec<(u64, u64)> = Vec::new();
        let mut next = off;
        while extents.len() < 64 && bytes.len() < MAX_BLOB {
            let mut key = id.clone();
            key.extend_from_slice(&next.to_be_bytes());
            // The first piece is the hit itself; each next one the nearest chunk with the
            // right key that lies after the previous piece (else the nearest before it).
            let prev = extents.last().map_or(at, |(o, _)| *o);
            let Some((o, data)) = self.by_key.get(&key).and_then(|cands| {
                if extents.is_empty() {
                    return cands.iter().find(|(o, _)| *o == at);
                }
                cands
                    .iter()
                    .filter(|(o, _)| *o > prev)
                    .min_by_key(|(o, _)| *o)
                    .or_else(|| cands.iter().min_by_key(|(o, _)| prev.abs_diff(*o)))
            }) else {
                break;
            };
            bytes.extend_from_slice(data);
            extents.push((*o, data.len() as u64));
            let Ok(n) = u32::try_from(data.len()) else {
                break;
            };
            next = next.saturating_add(n);
            if data.is_empty() {
                break;
            }
        }
        if extents.len() < 2 {
            return c;
        }
        let container = format!(
            "ese long-value chunks, rejoined from {} pieces",
            extents.len()
        );
        let mut joined = carve_buffer(&bytes, at, evidence, &|_| (container.clone(), None));
        let whole = joined.first_mut().filter(|j| start(j) == at && j.closed());
        match whole {
            Some(w) => {
                let page = c.source().page;
                let src = w.source_mut();
                src.set_extents(extents);
                src.page = page;
                joined.swap_remove(0)
            }
            None => c,
        }
    }
}
