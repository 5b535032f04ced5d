//! Zip archives of collected files (Velociraptor and KAPE collections, and a case zip holding
//! them): the central directory's entries whose name is a store's or a log's, and the zips
//! inside the zip, opened in turn (to [`MAX_DEPTH`] levels).
//!
//! The structures (little-endian), found through the central directory, never by scanning:
//! - the end of central directory record (`PK\x05\x06`, within the last 64 KiB + 22 bytes):
//!   entry count (u16) at 10, the directory's size (u32) at 12 and offset (u32) at 16. When a
//!   field is all ones (zip64), the locator (`PK\x06\x07`, the 20 bytes before) gives the zip64
//!   end record's offset (u64 at 8), which holds the count (u64) at 32, size at 40, offset at 48;
//! - a central directory entry (`PK\x01\x02`, 46 bytes, then name, extra field, comment): flags
//!   (u16) at 8 (bit 0 encrypted, bit 11 UTF-8 name), method at 10 (0 stored, 8 deflate), CRC-32
//!   at 16, packed size (u32) at 20, size at 24, name length (u16) at 28, extra length at 30,
//!   comment length at 32, local header offset (u32) at 42. Extra field 0x0001 (zip64) holds the
//!   64-bit size, packed size and offset, in that order, of those that are all ones; 0x7075
//!   (Info-ZIP Unicode path) a UTF-8 name: version (u8), the CRC-32 of the entry's name, name;
//! - a local header (`PK\x03\x04`, 30 bytes, then name and extra field): name length (u16) at
//!   26, extra length at 28; the member's data follows.
//!
//! Names are UTF-8 when flag bit 11 says so (or a 0x7075 field gives one), else CP437, as the
//! zip specification says: every byte is a distinct character, so two names never read alike.
//!
//! Bounds: each distinct member is read once (entries sharing a local header are one store,
//! with a warning; an entry whose data overlaps another's is skipped, with a warning). A
//! deflated member is inflated only when its store is read, one at a time, and every byte
//! inflated from an archive (its members, the zips inside it and theirs) is charged to one
//! [`Budget`]: [`BUDGET_BASE`] + [`BUDGET_PER_BYTE`] × the archive's size. A member inflating
//! past its declared size is cut there with a warning, and its CRC-32 is checked.

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::field::{le16, le32, le64};
use super::{is_wanted_name, ReadAt, Store, StoreData, MAX_STORE};
use crate::util::bytes;
use crate::util::diag::Diagnostic;

/// Central directory entries looked at.
const MAX_ENTRIES: u64 = 1 << 20;
/// The largest central directory read.
const MAX_DIRECTORY: u64 = 256 << 20;
/// Zips inside zips are opened this many levels deep (the outer archive is level 1).
pub const MAX_DEPTH: usize = 4;
/// Every archive may inflate this much...
pub const BUDGET_BASE: u64 = 64 << 20;
/// ... plus this much per byte of the archive (deflate rarely gains 10× on a store).
pub const BUDGET_PER_BYTE: u64 = 32;
/// Entries named in one duplicate or overlap warning.
const NAMED: usize = 4;

/// The bytes one archive may inflate, shared by its members and the zips inside it.
#[derive(Debug)]
pub struct Budget {
    left: AtomicU64,
    limit: u64,
}

impl Budget {
    /// The budget of an archive of `len` bytes.
    pub fn for_archive(len: u64) -> Budget {
        let limit = len
            .saturating_mul(BUDGET_PER_BYTE)
            .saturating_add(BUDGET_BASE);
        Budget {
            left: AtomicU64::new(limit),
            limit,
        }
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes left to inflate.
    pub fn left(&self) -> u64 {
        self.left.load(Ordering::Relaxed)
    }

    /// Take `n` bytes; false (nothing taken) when fewer are left.
    fn take(&self, n: u64) -> bool {
        self.left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(n))
            .is_ok()
    }

    fn give_back(&self, n: u64) {
        let _ = self
            .left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| {
                Some(l.saturating_add(n).min(self.limit))
            });
    }
}

/// An archive inflated into memory (a deflated zip inside a zip): its members are read from
/// these bytes.
#[derive(Clone)]
pub struct Inflated(pub Arc<Vec<u8>>);

impl std::fmt::Debug for Inflated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Inflated({} bytes)", self.0.len())
    }
}

impl PartialEq for Inflated {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Eq for Inflated {}

/// A member of an archive, read (and inflated) when its store is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Deflate (method 8); else stored (method 0).
    pub deflated: bool,
    /// Where the member's data starts in the archive it lies in.
    pub offset: u64,
    /// Its bytes in the archive.
    pub packed: u64,
    /// Its size as the central directory declares it.
    pub size: u64,
    /// The CRC-32 the central directory records.
    pub crc32: u32,
    /// The archive's bytes when that archive was itself inflated (a deflated zip inside a
    /// zip); `None`: the file the archive was found in.
    pub within: Option<Inflated>,
}

/// Whether `file` starts like a zip archive.
pub fn is_zip(file: &dyn ReadAt) -> bool {
    matches!(
        read(file, 0, 4).as_deref(),
        Some(b"PK\x03\x04" | b"PK\x05\x06")
    )
}

fn is_zip_name(name: &str) -> bool {
    name.len() > 4
        && name
            .get(name.len().saturating_sub(4)..)
            .is_some_and(|e| e.eq_ignore_ascii_case(".zip"))
}

fn read(file: &dyn ReadAt, at: u64, len: usize) -> Option<Vec<u8>> {
    let mut b = vec![0u8; len];
    (file.read_at(at, &mut b).ok()? == len).then_some(b)
}

/// Part of an archive, as an archive of its own (a stored zip inside a zip).
struct Slice<'a> {
    file: &'a dyn ReadAt,
    start: u64,
    len: u64,
}

impl ReadAt for Slice<'_> {
    fn size(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let room = usize::try_from(self.len.saturating_sub(offset)).unwrap_or(usize::MAX);
        let n = buf.len().min(room);
        let Some(dst) = buf.get_mut(..n) else {
            return Ok(0);
        };
        self.file.read_at(self.start.saturating_add(offset), dst)
    }
}

/// Sequential reads of `len` bytes at `at` of a [`ReadAt`] (a member's data, for inflating).
struct Reader<'a> {
    file: &'a dyn ReadAt,
    at: u64,
    end: u64,
}

impl Read for Reader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = usize::try_from(self.end.saturating_sub(self.at)).unwrap_or(usize::MAX);
        let n = buf.len().min(room);
        let Some(dst) = buf.get_mut(..n) else {
            return Ok(0);
        };
        let got = self.file.read_at(self.at, dst)?;
        self.at = self.at.saturating_add(got as u64); // got <= end - at
        Ok(got)
    }
}

/// CP437 characters for bytes 0x80–0xFF (0x00–0x7F are ASCII).
const CP437_HIGH: [char; 128] = [
    '\u{00c7}', '\u{00fc}', '\u{00e9}', '\u{00e2}', '\u{00e4}', '\u{00e0}', '\u{00e5}', '\u{00e7}',
    '\u{00ea}', '\u{00eb}', '\u{00e8}', '\u{00ef}', '\u{00ee}', '\u{00ec}', '\u{00c4}', '\u{00c5}',
    '\u{00c9}', '\u{00e6}', '\u{00c6}', '\u{00f4}', '\u{00f6}', '\u{00f2}', '\u{00fb}', '\u{00f9}',
    '\u{00ff}', '\u{00d6}', '\u{00dc}', '\u{00a2}', '\u{00a3}', '\u{00a5}', '\u{20a7}', '\u{0192}',
    '\u{00e1}', '\u{00ed}', '\u{00f3}', '\u{00fa}', '\u{00f1}', '\u{00d1}', '\u{00aa}', '\u{00ba}',
    '\u{00bf}', '\u{2310}', '\u{00ac}', '\u{00bd}', '\u{00bc}', '\u{00a1}', '\u{00ab}', '\u{00bb}',
    '\u{2591}', '\u{2592}', '\u{2593}', '\u{2502}', '\u{2524}', '\u{2561}', '\u{2562}', '\u{2556}',
    '\u{2555}', '\u{2563}', '\u{2551}', '\u{2557}', '\u{255d}', '\u{255c}', '\u{255b}', '\u{2510}',
    '\u{2514}', '\u{2534}', '\u{252c}', '\u{251c}', '\u{2500}', '\u{253c}', '\u{255e}', '\u{255f}',
    '\u{255a}', '\u{2554}', '\u{2569}', '\u{2566}', '\u{2560}', '\u{2550}', '\u{256c}', '\u{2567}',
    '\u{2568}', '\u{2564}', '\u{2565}', '\u{2559}', '\u{2558}', '\u{2552}', '\u{2553}', '\u{256b}',
    '\u{256a}', '\u{2518}', '\u{250c}', '\u{2588}', '\u{2584}', '\u{258c}', '\u{2590}', '\u{2580}',
    '\u{03b1}', '\u{00df}', '\u{0393}', '\u{03c0}', '\u{03a3}', '\u{03c3}', '\u{00b5}', '\u{03c4}',
    '\u{03a6}', '\u{0398}', '\u{03a9}', '\u{03b4}', '\u{221e}', '\u{03c6}', '\u{03b5}', '\u{2229}',
    '\u{2261}', '\u{00b1}', '\u{2265}', '\u{2264}', '\u{2320}', '\u{2321}', '\u{00f7}', '\u{2248}',
    '\u{00b0}', '\u{2219}', '\u{00b7}', '\u{221a}', '\u{207f}', '\u{00b2}', '\u{25a0}', '\u{00a0}',
];

/// `raw` read as CP437.
pub fn cp437(raw: &[u8]) -> String {
    raw.iter()
        .map(|&b| {
            if b < 0x80 {
                char::from(b)
            } else {
                // b >= 0x80: its low seven bits index the table's 128 characters.
                CP437_HIGH
                    .get(usize::from(b & 0x7f))
                    .copied()
                    .unwrap_or(char::REPLACEMENT_CHARACTER)
            }
        })
        .collect()
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}

/// An entry's name: from an Info-ZIP Unicode path field whose CRC-32 matches the name, else
/// UTF-8 when flagged (and valid), else CP437. `Err` holds the CP437 reading of a name flagged
/// UTF-8 that is not.
fn entry_name(raw: &[u8], flags: u16, extra: &[u8]) -> Result<String, String> {
    // `x` stays within 64 KiB of the extra field's end (it is at most 64 KiB itself): the
    // sums below cannot saturate.
    let mut x = 0usize;
    while x.saturating_add(4) <= extra.len() {
        let (id, len) = (
            le16(extra, x),
            usize::from(le16(extra, x.saturating_add(2))),
        );
        if id == 0x7075 {
            let f = bytes::slice(extra, x.saturating_add(4), len).unwrap_or_default();
            if f.first() == Some(&1) && le32(f, 1) == crc32(raw) {
                if let Some(Ok(name)) = f.get(5..).map(std::str::from_utf8) {
                    return Ok(name.to_string());
                }
            }
        }
        x = x.saturating_add(4).saturating_add(len);
    }
    if flags & 0x800 == 0 {
        return Ok(cp437(raw));
    }
    std::str::from_utf8(raw)
        .map(str::to_string)
        .map_err(|_| cp437(raw))
}

/// (entry count, directory size, directory offset) from the end records.
fn directory(file: &dyn ReadAt, warnings: &mut Vec<Diagnostic>) -> Option<(u64, u64, u64)> {
    let len = file.size();
    let tail_len = len.min(65_557);
    let tail_at = len.saturating_sub(tail_len); // tail_len <= len
    let tail = read(file, tail_at, tail_len as usize)?;
    let at = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|i| bytes::slice(&tail, *i, 4) == Some(b"PK\x05\x06"))?;
    let eocd = tail.get(at..)?;
    let (mut entries, mut size, mut offset) = (
        u64::from(le16(eocd, 10)),
        u64::from(le32(eocd, 12)),
        u64::from(le32(eocd, 16)),
    );
    if entries == 0xffff || size == 0xffff_ffff || offset == 0xffff_ffff {
        // Zip64: the locator just before the end record points at the zip64 end record.
        let loc = at.checked_sub(20).and_then(|l| bytes::slice(&tail, l, 20));
        let Some(loc) = loc.filter(|l| l.get(..4) == Some(b"PK\x06\x07")) else {
            // Exactly 65,535 entries fit the 16-bit count: no zip64 record is needed for it.
            if size != 0xffff_ffff && offset != 0xffff_ffff {
                return Some((entries, size, offset));
            }
            warnings.push(Diagnostic::at(
                tail_at.saturating_add(at as u64), // within the file: read above
                "zip: a zip64 archive without its locator",
            ));
            return None;
        };
        let rec_at = le64(loc, 8);
        let Some(rec) = read(file, rec_at, 56).filter(|r| r.get(..4) == Some(b"PK\x06\x06")) else {
            warnings.push(Diagnostic::at(rec_at, "zip: no zip64 end record here"));
            return None;
        };
        (entries, size, offset) = (le64(&rec, 32), le64(&rec, 40), le64(&rec, 48));
    }
    Some((entries, size, offset))
}

/// A central directory entry wanted (a store, a log, or a zip).
struct Entry {
    /// Its place in the central directory (stores keep that order).
    index: usize,
    name: String,
    raw_name: Vec<u8>,
    flags: u16,
    method: u16,
    crc32: u32,
    packed: u64,
    size: u64,
    local: u64,
}

/// The wanted entries of the central directory, in its order.
fn wanted_entries(dir: &[u8], offset: u64, entries: u64, w: &mut Vec<Diagnostic>) -> Vec<Entry> {
    let mut out = Vec::new();
    // `at` is at most the directory's length plus one entry's (46 bytes and three 16-bit
    // lengths), and the directory was read whole at `offset`: no sum here can saturate.
    let mut at = 0usize;
    for index in 0..entries as usize {
        let Some(e) = bytes::slice(dir, at, 46).filter(|e| e.get(..4) == Some(b"PK\x01\x02"))
        else {
            w.push(Diagnostic::at(
                offset.saturating_add(at as u64),
                "zip: the central directory entry here is not valid; the rest are not read",
            ));
            break;
        };
        let flags = le16(e, 8);
        let mut packed = u64::from(le32(e, 20));
        let mut size = u64::from(le32(e, 24));
        let name_len = usize::from(le16(e, 28));
        let extra_len = usize::from(le16(e, 30));
        let comment_len = usize::from(le16(e, 32));
        let mut local = u64::from(le32(e, 42));
        let name_at = at.saturating_add(46);
        let raw_name = bytes::slice(dir, name_at, name_len).unwrap_or_default();
        let extra =
            bytes::slice(dir, name_at.saturating_add(name_len), extra_len).unwrap_or_default();
        let entry_at = offset.saturating_add(at as u64);
        at = name_at
            .saturating_add(name_len)
            .saturating_add(extra_len)
            .saturating_add(comment_len);
        let name = match entry_name(raw_name, flags, extra) {
            Ok(n) => n,
            Err(n) => {
                w.push(Diagnostic::at(
                    entry_at,
                    format!("zip: {n}: the name is flagged UTF-8 but is not; read as CP437"),
                ));
                n
            }
        };
        let base = name.rsplit(['/', '\\']).next().unwrap_or("");
        if !is_wanted_name(base) && !is_zip_name(base) {
            continue;
        }
        // Zip64 extra field: the 64-bit values of the fields set to 0xffffffff, in order.
        // Within 64 KiB of the extra field's end: the sums cannot saturate.
        let mut x = 0usize;
        while x.saturating_add(4) <= extra.len() {
            let (id, len) = (
                le16(extra, x),
                usize::from(le16(extra, x.saturating_add(2))),
            );
            let body = x.saturating_add(4);
            let body_end = body.saturating_add(len);
            if id == 1 {
                let mut f = body;
                for v in [&mut size, &mut packed, &mut local] {
                    if *v == 0xffff_ffff && f.saturating_add(8) <= body_end {
                        *v = le64(extra, f);
                        f = f.saturating_add(8);
                    }
                }
            }
            x = body_end;
        }
        out.push(Entry {
            index,
            name,
            raw_name: raw_name.to_vec(),
            flags,
            method: le16(e, 10),
            crc32: le32(e, 16),
            packed,
            size,
            local,
        });
    }
    out
}

/// Names for a warning: the first few, and how many more.
fn named(names: &[&str]) -> String {
    let mut s = names
        .iter()
        .take(NAMED)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > NAMED {
        s.push_str(&format!(" and {} more", names.len().saturating_sub(NAMED)));
    }
    s
}

/// The stores in a zip archive and in the zips inside it, with one inflating budget for all.
pub fn find_stores(
    file: &dyn ReadAt,
    chain: &[String],
    stores: &mut Vec<Store>,
    warnings: &mut Vec<Diagnostic>,
) {
    let budget = Budget::for_archive(file.size());
    find_stores_within(file, None, chain, 1, &budget, stores, warnings);
}

/// The stores in the archive `file` (level `depth`; the bytes of `within`, when it is an
/// inflated one), each named by `chain` and its path; zips inside it are opened in turn.
pub fn find_stores_within(
    file: &dyn ReadAt,
    within: Option<&Inflated>,
    chain: &[String],
    depth: usize,
    budget: &Budget,
    stores: &mut Vec<Store>,
    warnings: &mut Vec<Diagnostic>,
) {
    let Some((entries, size, offset)) = directory(file, warnings) else {
        warnings.push("zip: no end of central directory record".into());
        return;
    };
    if offset.saturating_add(size) > file.size() {
        warnings.push(Diagnostic::at(
            offset,
            format!("zip: the central directory here ({size} bytes) runs past the archive's end"),
        ));
        return;
    }
    if size > MAX_DIRECTORY || entries > MAX_ENTRIES {
        warnings.push(Diagnostic::at(
            offset,
            format!(
                "zip: a central directory of {size} bytes and {entries} entries is more than is read"
            ),
        ));
        return;
    }
    let Some(dir) = read(file, offset, size as usize) else {
        warnings.push(Diagnostic::at(
            offset,
            "zip: the central directory here cannot be read",
        ));
        return;
    };
    let wanted = wanted_entries(&dir, offset, entries, warnings);
    drop(dir);
    let members = distinct_members(file, wanted, warnings);
    for (e, data_at) in members {
        let what = format!("zip: {}", e.name);
        if e.flags & 1 != 0 {
            warnings.push(Diagnostic::at(
                e.local,
                format!("{what}: encrypted, not read"),
            ));
            continue;
        }
        let deflated = match e.method {
            0 => false,
            8 => true,
            m => {
                warnings.push(Diagnostic::at(
                    e.local,
                    format!("{what}: compression method {m} is not read"),
                ));
                continue;
            }
        };
        let declared = if deflated { e.size } else { e.packed };
        if !deflated && e.size != e.packed {
            warnings.push(Diagnostic::at(
                e.local,
                format!(
                    "{what}: stored, but its sizes differ ({} bytes packed, {} declared): its {} bytes are read",
                    e.packed, e.size, e.packed
                ),
            ));
        }
        let member = Member {
            deflated,
            offset: data_at,
            packed: e.packed,
            size: declared,
            crc32: e.crc32,
            within: within.cloned(),
        };
        let base = e.name.rsplit(['/', '\\']).next().unwrap_or("").to_string();
        let mut inner = chain.to_vec();
        inner.push(e.name.clone());
        if is_zip_name(&base) {
            if depth >= MAX_DEPTH {
                warnings.push(Diagnostic::at(
                    e.local,
                    format!(
                        "{what}: a zip {MAX_DEPTH} levels inside the evidence: not opened (deeper nesting is not followed)"
                    ),
                ));
                continue;
            }
            nested(
                file, within, &member, &inner, depth, budget, stores, warnings,
            );
            continue;
        }
        stores.push(Store {
            chain: inner,
            path: e.name.clone(),
            name: base,
            mft_entry: None,
            deleted: false,
            size: declared,
            data: StoreData::Zipped(member),
        });
    }
}

/// The wanted entries with distinct members, each with its data's offset: entries sharing a
/// local header are read once (a warning names them), and an entry whose data overlaps an
/// earlier one's is skipped (a warning names both). In central directory order.
fn distinct_members(
    file: &dyn ReadAt,
    wanted: Vec<Entry>,
    warnings: &mut Vec<Diagnostic>,
) -> Vec<(Entry, u64)> {
    let mut by_local: HashMap<u64, usize> = HashMap::new();
    let mut sharing: Vec<(u64, Vec<String>)> = Vec::new();
    let mut kept: Vec<Entry> = Vec::new();
    for e in wanted {
        match by_local.get(&e.local) {
            Some(&k) => {
                let first = kept.get(k).map(|f| f.name.clone()).unwrap_or_default();
                match sharing.iter_mut().find(|(at, _)| *at == e.local) {
                    Some((_, names)) => names.push(e.name),
                    None => sharing.push((e.local, vec![first, e.name])),
                }
            }
            None => {
                by_local.insert(e.local, kept.len());
                kept.push(e);
            }
        }
    }
    for (at, names) in &sharing {
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        warnings.push(Diagnostic::at(
            *at,
            format!(
                "zip: {} entries share the local header here ({}): one member, read once as `{}`",
                names.len(),
                named(&refs),
                names.first().map_or("", String::as_str)
            ),
        ));
    }
    // Each member's local header: its name compared, its data placed.
    let mut placed: Vec<(Entry, u64)> = Vec::new();
    for e in kept {
        let what = format!("zip: {}", e.name);
        let Some(lh) = read(file, e.local, 30).filter(|h| h.get(..4) == Some(b"PK\x03\x04")) else {
            warnings.push(Diagnostic::at(
                e.local,
                format!("{what}: no local header here"),
            ));
            continue;
        };
        let name_len = u64::from(le16(&lh, 26));
        // The 30-byte header at `e.local` was read whole, so `e.local + 30` is within the file;
        // two 16-bit lengths more cannot pass u64.
        let name_at = e.local.saturating_add(30);
        let local_name = read(file, name_at, name_len as usize).unwrap_or_default();
        if local_name != e.raw_name {
            warnings.push(Diagnostic::at(
                e.local,
                format!(
                    "{what}: the local header here names `{}`; read by the central directory's name",
                    cp437(&local_name)
                ),
            ));
        }
        let data_at = name_at
            .saturating_add(name_len)
            .saturating_add(u64::from(le16(&lh, 28)));
        if data_at.saturating_add(e.packed) > file.size() {
            warnings.push(Diagnostic::at(
                data_at,
                format!("{what}: its data runs past the archive's end"),
            ));
            continue;
        }
        placed.push((e, data_at));
    }
    // Overlapping data: the first member (by offset) is kept.
    placed.sort_by_key(|(e, at)| (*at, e.index));
    let mut out: Vec<(Entry, u64)> = Vec::with_capacity(placed.len());
    let mut overlaps: Vec<(u64, String, String)> = Vec::new();
    // The kept member whose data reaches furthest: (its end, its name).
    let mut reach: Option<(u64, String)> = None;
    for (e, at) in placed {
        let end = at.saturating_add(e.packed);
        match &reach {
            Some((r, other)) if at < *r => overlaps.push((at, e.name.clone(), other.clone())),
            _ => {
                if reach.as_ref().is_none_or(|(r, _)| end > *r) {
                    reach = Some((end, e.name.clone()));
                }
                out.push((e, at));
            }
        }
    }
    for (at, name, other) in overlaps.iter().take(NAMED) {
        warnings.push(Diagnostic::at(
            *at,
            format!("zip: {name}: its data overlaps `{other}`'s: not read (one member, read once)"),
        ));
    }
    if overlaps.len() > NAMED {
        warnings.push(Diagnostic::new(format!(
            "zip: {} more entries whose data overlaps another's: not read",
            overlaps.len().saturating_sub(NAMED)
        )));
    }
    out.sort_by_key(|(e, _)| e.index);
    out
}

/// A zip inside the archive: opened where it lies (stored) or inflated into memory (deflated,
/// charged to the budget), and its stores added, named by `chain`.
#[allow(clippy::too_many_arguments)]
fn nested(
    file: &dyn ReadAt,
    within: Option<&Inflated>,
    member: &Member,
    chain: &[String],
    depth: usize,
    budget: &Budget,
    stores: &mut Vec<Store>,
    warnings: &mut Vec<Diagnostic>,
) {
    let what = format!("zip: {}", chain.last().map_or("", String::as_str));
    let mut inner_warnings = Vec::new();
    let mut found = Vec::new();
    if member.deflated {
        let bytes = match read_member(file, member, MAX_STORE, budget, warnings) {
            Ok(b) => b,
            Err(e) => {
                warnings.push(Diagnostic::at(member.offset, format!("{what}: {e}")));
                return;
            }
        };
        let inflated = Inflated(Arc::new(bytes));
        if !is_zip(&*inflated.0) {
            warnings.push(Diagnostic::at(
                member.offset,
                format!("{what}: not a zip archive"),
            ));
            return;
        }
        find_stores_within(
            &*inflated.0,
            Some(&inflated),
            chain,
            depth.saturating_add(1),
            budget,
            &mut found,
            &mut inner_warnings,
        );
    } else {
        let slice = Slice {
            file,
            start: member.offset,
            len: member.packed,
        };
        if !is_zip(&slice) {
            warnings.push(Diagnostic::at(
                member.offset,
                format!("{what}: not a zip archive"),
            ));
            return;
        }
        find_stores_within(
            &slice,
            within,
            chain,
            depth.saturating_add(1),
            budget,
            &mut found,
            &mut inner_warnings,
        );
        // Members read from the same bytes as this archive: their offsets, from the inner
        // archive's start, become this archive's.
        for s in &mut found {
            if let StoreData::Zipped(m) = &mut s.data {
                if m.within.as_ref() == within {
                    m.offset = m.offset.saturating_add(member.offset);
                }
            }
        }
    }
    warnings.extend(inner_warnings.into_iter().map(|w| w.within(chain)));
    stores.extend(found);
}

/// A member's bytes, inflated when deflated, at most `limit` of them; every byte inflated is
/// charged to `budget`. Problems with what was read (a CRC-32 mismatch, a size other than the
/// declared one: cut there) are added to `warnings`.
pub fn read_member(
    file: &dyn ReadAt,
    m: &Member,
    limit: u64,
    budget: &Budget,
    warnings: &mut Vec<Diagnostic>,
) -> io::Result<Vec<u8>> {
    let src: &dyn ReadAt = match &m.within {
        Some(archive) => &*archive.0,
        None => file,
    };
    let bad = |kind, what: String| io::Error::new(kind, what);
    if m.size > limit {
        return Err(bad(
            io::ErrorKind::InvalidData,
            format!("{} bytes, more than the {limit} read back", m.size),
        ));
    }
    let out = if m.deflated {
        if !budget.take(m.size) {
            return Err(bad(
                io::ErrorKind::OutOfMemory,
                format!(
                    "inflating its {} bytes would pass the archive's budget ({} bytes inflated in all, {} left: {BUDGET_BASE} + {BUDGET_PER_BYTE} per byte of the archive): not read",
                    m.size,
                    budget.limit(),
                    budget.left()
                ),
            ));
        }
        let reader = Reader {
            file: src,
            at: m.offset,
            end: m.offset.saturating_add(m.packed),
        };
        // Room for the declared size and the one byte that shows it is passed (no doubling
        // of a large buffer), within the limit checked above.
        let mut out = Vec::with_capacity(m.size.saturating_add(1).min(limit) as usize);
        let r = flate2::read::DeflateDecoder::new(reader)
            .take(m.size.saturating_add(1))
            .read_to_end(&mut out);
        if let Err(e) = r {
            budget.give_back(m.size);
            return Err(bad(
                io::ErrorKind::InvalidData,
                format!("does not inflate: {e}"),
            ));
        }
        let got = out.len() as u64;
        if got > m.size {
            out.truncate(m.size as usize);
            warnings.push(Diagnostic::at(
                m.offset,
                format!(
                    "zip: the member here inflates past its declared size of {} bytes: cut there",
                    m.size
                ),
            ));
        } else if got < m.size {
            budget.give_back(m.size.saturating_sub(got)); // got < m.size
            warnings.push(Diagnostic::at(
                m.offset,
                format!(
                    "zip: the member here inflates to {got} of its declared {} bytes",
                    m.size
                ),
            ));
        }
        out
    } else {
        let mut out = vec![0u8; m.packed as usize];
        if src.read_at(m.offset, &mut out)? != out.len() {
            return Err(bad(
                io::ErrorKind::UnexpectedEof,
                format!("its data at offset {} is cut off", m.offset),
            ));
        }
        out
    };
    let computed = crc32(&out);
    if computed != m.crc32 {
        warnings.push(Diagnostic::at(
            m.offset,
            format!(
                "zip: the member here: CRC-32 {computed:#010x} computed, {:#010x} recorded: its bytes are not those archived (read anyway)",
                m.crc32
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cp437_names_are_distinct_and_match_the_table() {
        assert_eq!(cp437(b"qmgr.db"), "qmgr.db");
        assert_eq!(cp437(&[0xff, 0xfe]), "\u{a0}\u{25a0}");
        assert_ne!(cp437(&[0xff, 0xfe]), cp437(&[0xfe, 0xff]));
        let all: std::collections::HashSet<char> =
            cp437(&(0u8..=255).collect::<Vec<u8>>()).chars().collect();
        assert_eq!(all.len(), 256);
    }

    #[test]
    fn unflagged_utf8_and_unicode_path_fields() {
        let raw = "\u{e9}.db".as_bytes();
        assert_eq!(entry_name(raw, 0x800, &[]).unwrap(), "\u{e9}.db");
        assert_eq!(entry_name(raw, 0, &[]).unwrap(), "\u{251c}\u{2310}.db");
        assert!(entry_name(&[0xff], 0x800, &[]).is_err());
        let mut extra = vec![0x75, 0x70, 0, 0, 1];
        extra.extend_from_slice(&crc32(raw).to_le_bytes());
        extra.extend_from_slice("x\u{e9}.db".as_bytes());
        let len = (extra.len() - 4) as u16;
        extra[2..4].copy_from_slice(&len.to_le_bytes());
        assert_eq!(entry_name(raw, 0, &extra).unwrap(), "x\u{e9}.db");
    }

    #[test]
    fn the_budget_is_shared_and_given_back() {
        let b = Budget::for_archive(0);
        assert_eq!(b.limit(), BUDGET_BASE);
        assert!(b.take(BUDGET_BASE - 1));
        assert!(!b.take(2));
        b.give_back(10);
        assert!(b.take(2));
    }
}
