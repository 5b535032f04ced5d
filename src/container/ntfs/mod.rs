//! NTFS volumes: find the BITS stores by name in the MFT, live and deleted, and the volume's
//! free clusters.
//!
//! bitscope reads NTFS itself, one file per on-disk structure: the boot sector (`boot.rs`), file
//! records and their fix-ups (`record.rs`), attributes (`attribute.rs`), data runs
//! (`runs.rs`), `$ATTRIBUTE_LIST` (`list.rs`), `$STANDARD_INFORMATION`
//! (`standard_information.rs`), `$FILE_NAME` (`file_name.rs`), a file gathered
//! from its base and extension records (`file.rs`), paths with TSK's orphan rule
//! (`paths.rs`), `$Bitmap` (`bitmap.rs`), all over an open volume (`volume.rs`) that reads
//! through a small block cache. (The `ntfs` crate it replaces hid what the image analyst needs:
//! a value's runs when it is spread over extension records, the valid data length, skipped list
//! entries; and it read attributes one byte per read.)
//!
//! The MFT is walked in chunks of records, deleted (not-in-use) entries included. Only base
//! records whose bytes hold a name looked for (UTF-16, any case: `qmgr`, `edb`, and the story's
//! companions: `evtx`, `sam`, `software`) or that have an
//! `$ATTRIBUTE_LIST` (their names may lie in extension records) are gathered; extension records
//! are read through their base. Each store is handed on as it is found. The same walk finds
//! files by name for a job's story ([`files_named`], `by_name.rs`), and the deleted files
//! carved along their runs ([`deleted_files`]).
//!
//! What the walk refuses to be fooled by, each a warning: an MFT longer than the volume (read up
//! to the volume's end), records whose stored number is not their place (the same clusters
//! mapped again and again, by the MFT's runs or a disk format below: after
//! [`MAX_MISPLACED`] of them the walk stops), byte-identical records (read once), more than
//! [`MAX_STORES`] stores in a volume, records failing their fix-ups (counted). Every count
//! and length is bounded, and nothing here panics on any bytes.

// The lints that keep evidence-reading code from panicking are denied in `container/mod.rs`.

mod attribute;
mod bitmap;
mod boot;
mod by_name;
mod file;
mod file_name;
mod index;
mod list;
pub mod lookup;
mod paths;
mod record;
mod runs;
mod standard_information;
mod upcase;
mod volume;

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

use super::{
    is_companion_name, is_log_name, is_wanted_name, DeletedFile, Extent, ReadAt, Store, StoreData,
    MAX_STORE,
};
use crate::util::diag::Diagnostic;
use attribute::{COMPRESSED, ENCRYPTED};
use file::{File, Stream, StreamData};
use file_name::DOS;
use paths::{best_name, Dirs};
use record::fixup;
use record::Record;
use volume::Vol;

pub use by_name::{files_named, MftFile, MAX_FOUND};
pub use standard_information::Times;

/// MFT entries walked in one volume (16 Mi entries: a 16 GiB MFT at 1 KiB records).
pub const MAX_MFT_ENTRIES: u64 = 1 << 24;
/// Stores (and ESE logs) found in one volume; the walk stops past it.
pub const MAX_STORES: usize = 4096;
/// Records whose stored number is not their place in the MFT tolerated before the walk stops:
/// the MFT's clusters are mapped more than once (aliased), and what follows is copies.
pub const MAX_MISPLACED: u64 = 4096;
/// Warnings kept per volume (the rest are counted).
const MAX_WARNINGS: usize = 64;
/// Records read per chunk of the walk.
const CHUNK: u64 = 1 << 20;
/// Free-cluster runs listed at most (the rest are dropped with a warning).
const MAX_FREE_RUNS: usize = 1 << 20;

/// Whether a whole NTFS boot sector starts at `offset`.
pub fn is_ntfs(image: &dyn ReadAt, offset: u64) -> bool {
    let mut b = [0u8; 512];
    matches!(image.read_at(offset, &mut b), Ok(512)) && &b[3..11] == b"NTFS    "
}

/// The sector size an NTFS boot sector at `offset` states (512 for anything unreadable).
pub fn sector_size(image: &dyn ReadAt, offset: u64) -> u64 {
    let mut b = [0u8; 512];
    match image.read_at(offset, &mut b) {
        Ok(512) => boot::Boot::parse(&b).map_or(512, |g| g.sector),
        _ => 512,
    }
}

/// UTF-16LE `qmgr` and `edb` (the start of every store and log name looked for), `evtx`, `sam`,
/// `software` and `system` (the companions': see [`super::COMPANION_NAMES`]), any case.
fn names_searcher() -> Option<&'static AhoCorasick> {
    static AC: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build([
                "q\0m\0g\0r\0",
                "e\0d\0b\0",
                "e\0v\0t\0x\0",
                "s\0a\0m\0",
                "s\0o\0f\0t\0w\0a\0r\0e\0",
                "s\0y\0s\0t\0e\0m\0",
            ])
            .ok()
    })
    .as_ref()
}

/// Whether a record's bytes hold one of those words in UTF-16LE, any case: most records never
/// get further.
fn mentions_names(rec: &[u8]) -> bool {
    names_searcher().is_some_and(|ac| ac.is_match(rec))
}

/// Whether a record has an `$ATTRIBUTE_LIST` (its names and streams may lie elsewhere).
fn has_list(rec: &Record) -> bool {
    rec.attributes()
        .filter_map(Result::ok)
        .any(|a| a.ty == attribute::ATTRIBUTE_LIST)
}

/// Per-volume state of the walk.
struct Walk<'v, 'a> {
    vol: &'v Vol<'a>,
    chain: Vec<String>,
    dirs: Dirs,
    warnings: Vec<Diagnostic>,
    dropped: usize,
    /// Records already gathered, by their bytes (aliased copies are read once).
    seen: HashMap<u64, Vec<Vec<u8>>>,
    duplicates: u64,
    misplaced: u64,
    torn: (u64, Option<u64>),
    stores: usize,
    /// Logs held until the walk ends (kept only beside a store), and the stores' folders.
    logs: Vec<Store>,
    folders: HashSet<String>,
    /// Whether directories are visited too (the stores' walk leaves them out).
    directories: bool,
}

impl<'v, 'a> Walk<'v, 'a> {
    fn new(vol: &'v Vol<'a>, chain: Vec<String>) -> Walk<'v, 'a> {
        Walk {
            vol,
            chain,
            dirs: Dirs::default(),
            warnings: Vec::new(),
            dropped: 0,
            seen: HashMap::new(),
            duplicates: 0,
            misplaced: 0,
            torn: (0, None),
            stores: 0,
            logs: Vec::new(),
            folders: HashSet::new(),
            directories: false,
        }
    }

    fn warn(&mut self, w: Diagnostic) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(w);
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    /// Whether these record bytes were gathered already (and remember them if not).
    fn seen_before(&mut self, bytes: &[u8]) -> bool {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut h);
        let same = self.seen.entry(h.finish()).or_default();
        if same.iter().any(|b| b == bytes) {
            return true;
        }
        same.push(bytes.to_vec());
        false
    }
}

/// Find the stores in the NTFS volume of `len` bytes at `offset` of `disk`, handing each to
/// `each` as it is found (an ESE log once the volume is walked, and only when a store lies
/// in its folder or the folder is `Network\Downloader`); `chain` is the containers above it.
/// `Break` from `each` stops the walk.
pub fn find_stores(
    disk: &dyn ReadAt,
    offset: u64,
    len: u64,
    chain: &[String],
    each: &mut dyn FnMut(Store) -> ControlFlow<()>,
    warnings: &mut Vec<Diagnostic>,
) -> ControlFlow<()> {
    let vol = match Vol::open(disk, offset, len) {
        Ok(v) => v,
        Err(e) => {
            warnings.push(Diagnostic::at(offset, format!("NTFS volume: {e}")));
            return ControlFlow::Continue(());
        }
    };
    let mut chain = chain.to_vec();
    chain.push("NTFS".into());
    let mut walk = Walk::new(&vol, chain);
    let flow = walk_mft(&mut walk, &mut |w, n, at, bytes| {
        examine(w, n, at, bytes, each)
    });
    let logs = std::mem::take(&mut walk.logs);
    let mut flow_logs = ControlFlow::Continue(());
    if flow.is_continue() {
        for log in logs {
            let folder = folder_of(&log.path);
            if folder.ends_with("\\network\\downloader") || walk.folders.contains(&folder) {
                flow_logs = each(log);
                if flow_logs.is_break() {
                    break;
                }
            }
        }
    }
    summarize(&mut walk, offset);
    warnings.append(&mut walk.warnings);
    if walk.dropped > 0 {
        warnings.push(Diagnostic::at(
            offset,
            format!("NTFS volume: {} more warnings not shown", walk.dropped),
        ));
    }
    if flow.is_break() {
        flow
    } else {
        flow_logs
    }
}

/// The counted oddities of a walk, as warnings.
fn summarize(w: &mut Walk, offset: u64) {
    if w.torn.0 > 0 {
        let first = w.torn.1.unwrap_or(offset);
        w.warn(Diagnostic::at(
            first,
            format!(
                "{} MFT entries fail their update sequence check (torn or overwritten records, the first here): not read",
                w.torn.0
            ),
        ));
    }
    if w.duplicates > 0 {
        w.warn(Diagnostic::at(
            offset,
            format!(
                "{} MFT entries are byte-identical copies of entries already read: each read once",
                w.duplicates
            ),
        ));
    }
}

/// A path's folder, lower case, `\`-separated (for the logs' rule).
fn folder_of(path: &str) -> String {
    let p = path.replace('/', "\\").to_ascii_lowercase();
    p.rsplit_once('\\')
        .map_or(String::new(), |(f, _)| f.to_string())
}

/// What the walk does with each base record that passes the checks: (walk, entry number, disk
/// offset of the record, its bytes with fix-ups applied).
type Visit<'x> = dyn FnMut(&mut Walk, u64, u64, &[u8]) -> ControlFlow<()> + 'x;

/// Walk the MFT in chunks of records, handing each sound base record (not a directory,
/// unless the walk asks for them) to `visit`.
fn walk_mft(w: &mut Walk, visit: &mut Visit) -> ControlFlow<()> {
    let vol = w.vol;
    let rs = vol.boot.record;
    let mut size = vol.mft_size;
    if size > vol.fs_len {
        w.warn(Diagnostic::at(
            vol.base,
            format!(
                "the MFT claims {size} bytes, more than the volume's {}: read up to the volume's size",
                vol.fs_len
            ),
        ));
        size = vol.fs_len;
    }
    let mut entries = size.checked_div(rs).unwrap_or(0);
    if entries > MAX_MFT_ENTRIES {
        w.warn(Diagnostic::at(
            vol.base,
            format!("the MFT claims {entries} entries; only the first {MAX_MFT_ENTRIES} are read"),
        ));
        entries = MAX_MFT_ENTRIES;
    }
    let per_chunk = CHUNK.checked_div(rs).unwrap_or(1).max(1);
    let mut chunk = vec![0u8; usize::try_from(per_chunk.saturating_mul(rs)).unwrap_or(1 << 20)];
    let mut n = 0u64;
    while n < entries {
        let at = n.saturating_mul(rs);
        let Some((pos, room)) = vol.mft_pos(at) else {
            // Sparse or unmapped: on to the next mapped piece.
            let next = vol.mft.iter().map(|p| p.at).find(|p| *p > at);
            n = next.map_or(entries, |p| p.div_ceil(rs.max(1)));
            continue;
        };
        let count = room
            .checked_div(rs)
            .unwrap_or(0)
            .min(per_chunk)
            .min(entries.saturating_sub(n));
        if count == 0 {
            // A record split between two pieces of the MFT.
            let mut rec = vec![0u8; vol.record_len()];
            if vol.read_record(n, &mut rec).is_ok() {
                check(w, n, None, &mut rec, visit)?;
            }
            n = n.saturating_add(1);
            continue;
        }
        let bytes = usize::try_from(count.saturating_mul(rs)).unwrap_or(0);
        let Some(buf) = chunk.get_mut(..bytes) else {
            break;
        };
        if let Err(e) = vol.read_exact(pos, buf) {
            w.warn(Diagnostic::at(
                vol.base.saturating_add(pos),
                format!("MFT entries from {n}: {e}"),
            ));
            break;
        }
        for (i, rec) in buf.chunks_exact_mut(vol.record_len()).enumerate() {
            let disk = vol
                .base
                .saturating_add(pos)
                .saturating_add((i as u64).saturating_mul(rs));
            check(w, n.saturating_add(i as u64), Some(disk), rec, visit)?;
        }
        n = n.saturating_add(count);
    }
    ControlFlow::Continue(())
}

/// MFT entry `n`'s raw bytes: a sound base record that is not a directory (unless
/// [`Walk::directories`]) goes to `visit`; torn records and records holding another entry's
/// number are counted.
fn check(
    w: &mut Walk,
    n: u64,
    disk: Option<u64>,
    bytes: &mut [u8],
    visit: &mut Visit,
) -> ControlFlow<()> {
    if bytes.get(..4) != Some(b"FILE") {
        return ControlFlow::Continue(());
    }
    let disk = disk
        .or_else(|| w.vol.record_disk_offset(n))
        .unwrap_or(w.vol.base);
    if fixup(bytes).is_err() {
        w.torn.0 = w.torn.0.saturating_add(1);
        w.torn.1 = w.torn.1.or(Some(disk));
        return ControlFlow::Continue(());
    }
    let bytes: &[u8] = bytes;
    let Some(rec) = Record::new(bytes) else {
        return ControlFlow::Continue(());
    };
    // Extension records are read through their base record's attribute list.
    if rec.base() != 0 || (rec.is_dir() && !w.directories) {
        return ControlFlow::Continue(());
    }
    if rec
        .number()
        .is_some_and(|k| u64::from(k) != n & 0xFFFF_FFFF)
    {
        w.misplaced = w.misplaced.saturating_add(1);
        if w.misplaced > MAX_MISPLACED {
            w.warn(Diagnostic::at(
                disk,
                format!(
                    "more than {MAX_MISPLACED} MFT entries hold another entry's record (the MFT's clusters are mapped more than once): the walk stops at entry {n}"
                ),
            ));
            return ControlFlow::Break(());
        }
        return ControlFlow::Continue(());
    }
    visit(w, n, disk, bytes)
}

/// A base record that may be a store (or hold one in a stream): gathered once (byte-identical
/// copies are counted), its stores handed on.
fn examine(
    w: &mut Walk,
    n: u64,
    at: u64,
    bytes: &[u8],
    each: &mut dyn FnMut(Store) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let Some(rec) = Record::new(bytes) else {
        return ControlFlow::Continue(());
    };
    if !mentions_names(bytes) && !has_list(&rec) {
        return ControlFlow::Continue(());
    }
    if w.seen_before(bytes) {
        w.duplicates = w.duplicates.saturating_add(1);
        return ControlFlow::Continue(());
    }
    let f = file::gather(w.vol, n, &rec);
    for s in stores_of(w, &f, at) {
        if w.stores >= MAX_STORES {
            w.warn(Diagnostic::at(
                at,
                format!(
                    "more than {MAX_STORES} stores in this volume: the walk stops at MFT entry {n}"
                ),
            ));
            return ControlFlow::Break(());
        }
        w.stores = w.stores.saturating_add(1);
        if is_log_name(&s.name) {
            w.logs.push(s);
        } else {
            // A log is kept beside a BITS store, not beside an event log or hive.
            if !is_companion_name(&s.name) {
                w.folders.insert(folder_of(&s.path));
            }
            each(s)?;
        }
    }
    ControlFlow::Continue(())
}

/// The stores a file is: its unnamed stream when one of its names is a store's or a log's (one
/// store however many hard links name it), and each named stream whose name is.
fn stores_of(w: &mut Walk, f: &File, at: u64) -> Vec<Store> {
    let wanted: Vec<&file_name::FileName> =
        f.names.iter().filter(|n| is_wanted_name(&n.name)).collect();
    let streams: Vec<&Stream> = f
        .streams
        .iter()
        .filter(|s| !s.name.is_empty() && is_wanted_name(&s.name))
        .collect();
    if wanted.is_empty() && streams.is_empty() {
        return Vec::new();
    }
    let deleted = !f.in_use;
    let state = if deleted { ", deleted" } else { "" };
    let mut out = Vec::new();
    // The unnamed stream, under its first long store name (a DOS name only if it has no other).
    let primary = wanted
        .iter()
        .find(|n| n.namespace != DOS)
        .or(wanted.first())
        .copied();
    if let Some(name) = primary {
        let path = format!(
            "{}\\{}",
            w.dirs.path(w.vol, name.parent, name.parent_sequence),
            name.name
        );
        let mut chain = w.chain.clone();
        chain.push(format!("{path} (MFT entry {}{state})", f.number));
        note_file(w, f, at, &chain);
        note_links(w, f, &wanted, at, &chain);
        match f.streams.iter().find(|s| s.name.is_empty()) {
            Some(s) => match store_data(w.vol, s) {
                Ok((size, data)) => out.push(Store {
                    chain,
                    path,
                    name: name.name.clone(),
                    mft_entry: Some(f.number),
                    deleted,
                    size,
                    data,
                }),
                Err(e) => w.warn(Diagnostic::at(at, e).within(&chain)),
            },
            None => w.warn(Diagnostic::at(at, "no $DATA attribute").within(&chain)),
        }
    }
    // Alternate data streams named like a store: `host.txt:qmgr.db`.
    if !streams.is_empty() {
        let base = match best_name(f) {
            Some(n) => format!(
                "{}\\{}",
                w.dirs.path(w.vol, n.parent, n.parent_sequence),
                n.name
            ),
            None => format!("\\?(MFT entry {})", f.number),
        };
        for s in streams {
            let path = format!("{base}:{}", s.name);
            let mut chain = w.chain.clone();
            chain.push(format!("{path} (MFT entry {}{state})", f.number));
            if primary.is_none() {
                note_file(w, f, at, &chain);
            }
            match store_data(w.vol, s) {
                Ok((size, data)) => out.push(Store {
                    chain,
                    path,
                    name: s.name.clone(),
                    mft_entry: Some(f.number),
                    deleted,
                    size,
                    data,
                }),
                Err(e) => w.warn(Diagnostic::at(at, e).within(&chain)),
            }
        }
    }
    out
}

/// What gathering the file could not follow.
fn note_file(w: &mut Walk, f: &File, at: u64, chain: &[String]) {
    for note in &f.notes {
        w.warn(Diagnostic::at(at, note.clone()).within(chain));
    }
}

/// A file with more than one store name (hard links) is one store: say so, with its names.
fn note_links(w: &mut Walk, f: &File, wanted: &[&file_name::FileName], at: u64, chain: &[String]) {
    let links: Vec<&&file_name::FileName> = wanted.iter().filter(|n| n.namespace != DOS).collect();
    if links.len() < 2 && f.more_names == 0 {
        return;
    }
    const SHOWN: usize = 4;
    let mut shown = Vec::new();
    for n in links.iter().take(SHOWN) {
        shown.push(format!(
            "{}\\{}",
            w.dirs.path(w.vol, n.parent, n.parent_sequence),
            n.name
        ));
    }
    let total = f
        .names
        .iter()
        .filter(|n| n.namespace != DOS)
        .count()
        .saturating_add(f.more_names);
    let rest = links.len().saturating_sub(SHOWN);
    let more = if rest > 0 {
        format!(" and {rest} more")
    } else {
        String::new()
    };
    w.warn(
        Diagnostic::at(
            at,
            format!(
                "one file with {total} names (hard links), read once: {}{more}",
                shown.join(", ")
            ),
        )
        .within(chain),
    );
}

/// A stream's size and where its bytes are, in disk offsets: runs cut at the size, and the
/// part past the valid data length (initialized size) as zeros, which is what Windows and
/// `icat` read there.
fn store_data(vol: &Vol, s: &Stream) -> Result<(u64, StoreData), String> {
    let (size, initialized, runs) = match &s.data {
        StreamData::Resident(b) => return Ok((b.len() as u64, StoreData::Resident(b.clone()))),
        StreamData::NonResident {
            size,
            initialized,
            runs,
        } => (*size, (*initialized).min(*size), runs),
    };
    if size > MAX_STORE {
        return Err(format!(
            "$DATA of {size} bytes, more than the {MAX_STORE} a store is read to"
        ));
    }
    if s.flags & ENCRYPTED != 0 {
        return Err("EFS-encrypted: its clusters hold ciphertext, not read".into());
    }
    let c = vol.boot.cluster;
    let mut extents: Vec<Extent> = Vec::new();
    let mut total = 0u64;
    for r in runs {
        let from = r.vcn.saturating_mul(c);
        if from >= size {
            break;
        }
        if from != total {
            return Err(format!(
                "data runs leave a gap at file offset {total} (next run at {from})"
            ));
        }
        let len = r.len.saturating_mul(c).min(size.saturating_sub(from));
        if let Some(l) = r.lcn {
            let at = l.saturating_mul(c);
            if at.saturating_add(len) > vol.len {
                return Err(format!(
                    "data run at volume offset {at} ({len} bytes) ends past the volume's end"
                ));
            }
        }
        // Split at the valid data length: beyond it, zeros.
        let real = initialized.saturating_sub(from).min(len);
        if real > 0 {
            extents.push(Extent {
                offset: r.lcn.map(|l| vol.base.saturating_add(l.saturating_mul(c))),
                len: real,
            });
        }
        if len > real {
            extents.push(Extent {
                offset: None,
                len: len.saturating_sub(real),
            });
        }
        total = from.saturating_add(len);
    }
    if total < size {
        return Err(format!(
            "data runs cover {total} of the file's {size} bytes"
        ));
    }
    if s.flags & COMPRESSED != 0 {
        return Ok((size, StoreData::Compressed(extents)));
    }
    Ok((size, StoreData::Extents(extents)))
}

/// Pieces of deleted files kept for carving along their runs, all files together.
pub const MAX_DELETED_PIECES: usize = 1 << 20;

/// The deleted files of the NTFS volume of `len` bytes at `offset` whose clusters are free now
/// (`free`: the free runs, as [`unallocated`] gives them), each with the free parts of its
/// unnamed `$DATA` in file order, so a carver can follow a record from one run of the file to
/// the next instead of into whatever cluster follows on the disk. The files come latest
/// written first: a cluster freed by one file and written by another before that one was
/// deleted too holds the second's bytes. NTFS-compressed and
/// encrypted files are left out (their clusters hold no plain bytes), as is anything past
/// [`MAX_DELETED_PIECES`] (a warning says how many files).
pub fn deleted_files(
    image: &dyn ReadAt,
    offset: u64,
    len: u64,
    free: &[(u64, u64)],
    warnings: &mut Vec<Diagnostic>,
) -> Vec<DeletedFile> {
    let vol = match Vol::open(image, offset, len) {
        Ok(v) => v,
        Err(e) => {
            warnings.push(Diagnostic::at(
                offset,
                format!("NTFS volume: deleted files: {e}"),
            ));
            return Vec::new();
        }
    };
    let mut walk = Walk::new(&vol, Vec::new());
    let mut out: Vec<DeletedFile> = Vec::new();
    let mut pieces = 0usize;
    let mut left_out = 0usize;
    let _ = walk_mft(&mut walk, &mut |w, n, _, bytes| {
        let Some(rec) = Record::new(bytes) else {
            return ControlFlow::Continue(());
        };
        if rec.in_use() || !has_runs(&rec) {
            return ControlFlow::Continue(());
        }
        let f = file::gather(w.vol, n, &rec);
        let Some(d) = deleted_file(w.vol, &f, free) else {
            return ControlFlow::Continue(());
        };
        if pieces.saturating_add(d.pieces.len()) > MAX_DELETED_PIECES {
            left_out = left_out.saturating_add(1);
            return ControlFlow::Continue(());
        }
        pieces = pieces.saturating_add(d.pieces.len());
        out.push(d);
        ControlFlow::Continue(())
    });
    // What this walk met in the MFT (torn, aliased, duplicated records) the stores' walk of
    // the same MFT says too: said once, there.
    drop(walk);
    // Clusters two deleted files claim hold the bytes of the one written last.
    out.sort_by_key(|d| std::cmp::Reverse(d.modified));
    if left_out > 0 {
        warnings.push(Diagnostic::at(
            offset,
            format!(
                "NTFS volume: {left_out} deleted files past {MAX_DELETED_PIECES} pieces: their clusters are carved as free runs, not along the files' runs"
            ),
        ));
    }
    out
}

/// Whether a record has a non-resident unnamed `$DATA`, or an attribute list (which may
/// name one).
fn has_runs(rec: &Record) -> bool {
    rec.attributes().filter_map(Result::ok).any(|a| {
        a.ty == attribute::ATTRIBUTE_LIST
            || (a.ty == attribute::DATA
                && a.name.is_empty()
                && matches!(a.value, attribute::Value::NonResident { .. }))
    })
}

/// The free parts of a deleted file's unnamed stream, in file order.
fn deleted_file(vol: &Vol, f: &File, free: &[(u64, u64)]) -> Option<DeletedFile> {
    let s = f.streams.iter().find(|s| s.name.is_empty())?;
    if s.flags & (COMPRESSED | ENCRYPTED) != 0 {
        return None;
    }
    let StreamData::NonResident { size, runs, .. } = &s.data else {
        return None;
    };
    let c = vol.boot.cluster;
    let mut pieces = Vec::new();
    for r in runs {
        let Some(lcn) = r.lcn else { continue };
        let file_at = r.vcn.saturating_mul(c);
        if file_at >= *size {
            break;
        }
        let len = r.len.saturating_mul(c).min(size.saturating_sub(file_at));
        let disk = vol.base.saturating_add(lcn.saturating_mul(c));
        // The parts of [disk, disk + len) that are free now.
        let end = disk.saturating_add(len);
        let first = free.partition_point(|(o, l)| o.saturating_add(*l) <= disk);
        for (o, l) in free.get(first..).unwrap_or_default() {
            if *o >= end {
                break;
            }
            let a = disk.max(*o);
            let b = end.min(o.saturating_add(*l));
            if a < b {
                pieces.push((
                    file_at.saturating_add(a.saturating_sub(disk)),
                    a,
                    b.saturating_sub(a),
                ));
            }
        }
    }
    if pieces.is_empty() {
        return None;
    }
    Some(DeletedFile {
        mft_entry: f.number,
        modified: f.si.modified,
        name: best_name(f).map(|n| n.name.clone()).unwrap_or_default(),
        pieces,
    })
}

/// The unallocated clusters of the NTFS volume of `len` bytes at `offset`, from its $Bitmap:
/// the cluster size and the free runs as (offset in the disk, length), in volume order.
pub fn unallocated(
    image: &dyn ReadAt,
    offset: u64,
    len: u64,
    warnings: &mut Vec<Diagnostic>,
) -> (u64, Vec<(u64, u64)>) {
    let vol = match Vol::open(image, offset, len) {
        Ok(v) => v,
        Err(e) => {
            warnings.push(Diagnostic::at(
                offset,
                format!("NTFS volume: unallocated clusters: {e}"),
            ));
            return (0, Vec::new());
        }
    };
    match bitmap::free_runs(&vol, MAX_FREE_RUNS) {
        Ok((runs, truncated)) => {
            if truncated {
                warnings.push(Diagnostic::at(
                    offset,
                    format!("NTFS volume: more than {MAX_FREE_RUNS} runs of free clusters; the rest are not carved"),
                ));
            }
            (vol.boot.cluster, runs)
        }
        Err(e) => {
            warnings.push(Diagnostic::at(
                offset,
                format!("NTFS volume: unallocated clusters: {e}"),
            ));
            (0, Vec::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_in_any_case() {
        let utf16 = |s: &str| {
            s.encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>()
        };
        assert!(mentions_names(&utf16("xxQMGR0.DAT")));
        assert!(mentions_names(&utf16("qmgr.db")));
        assert!(mentions_names(&utf16("EDB00001.log")));
        assert!(!mentions_names(b"qmgr.db"));
        assert!(!mentions_names(&utf16("qmg.db")));
        assert!(super::super::is_store_name("QMgr1.dat"));
        assert!(!super::super::is_store_name("qmgr2.dat"));
    }

    #[test]
    fn a_cut_short_boot_sector_is_a_warning() {
        let mut img = vec![0u8; 395];
        img[..11].copy_from_slice(b"\xebR\x90NTFS    ");
        assert!(!is_ntfs(&img, 0));
        assert!(super::super::open(&img).is_none());
        let mut warnings = Vec::new();
        let _ = find_stores(
            &img,
            0,
            395,
            &[],
            &mut |_| ControlFlow::Continue(()),
            &mut warnings,
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].what.contains("boot sector"), "{warnings:?}");
    }

    #[test]
    fn garbage_volume_is_a_warning() {
        let mut img = vec![0u8; 1 << 20];
        img[3..11].copy_from_slice(b"NTFS    ");
        let mut warnings = Vec::new();
        let _ = find_stores(
            &img,
            0,
            1 << 20,
            &[],
            &mut |_| ControlFlow::Continue(()),
            &mut warnings,
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }
}
