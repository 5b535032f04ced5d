//! NTFS volumes: find the BITS stores by name in the MFT, live and deleted.
//!
//! The `ntfs` crate (Colin Finck's, read-only, pure Rust) parses the boot sector, file records,
//! attributes and data runs; it reads the volume through [`Window`], a `Read + Seek` over
//! positioned reads of the image limited to the volume's byte range.
//!
//! The MFT is walked entry by entry, deleted (not-in-use) entries included. Each entry's raw
//! bytes are read once here and only entries whose bytes hold a store name (UTF-16,
//! case-insensitive `qmgr`) are handed to the crate, so most of a large MFT never reaches it.
//! Every call into the crate is bounded (the record count, attribute and run counts, store
//! sizes are capped here) and guarded: an error is a warning with the entry and its offset, and
//! a panic inside the crate on a corrupt record is caught and reported as a warning as well.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};

use ntfs::structured_values::{NtfsFileName, NtfsFileNamespace};
use ntfs::{Ntfs, NtfsAttributeFlags, NtfsAttributeType, NtfsFile, NtfsFileFlags};

use super::{is_wanted_name, Extent, ReadAt, Store, StoreData, MAX_STORE};
use crate::util::diag::Diagnostic;

/// MFT entries walked in one volume (16 Mi entries: a 16 GiB MFT at 1 KiB records).
const MAX_MFT_ENTRIES: u64 = 1 << 24;
/// Attributes looked at in one file record.
const MAX_ATTRIBUTES: usize = 512;
/// Data runs followed for one file.
const MAX_RUNS: usize = 1 << 16;
/// Parent directories followed when building a path.
const MAX_DEPTH: usize = 64;
/// Warnings kept per volume (the rest are counted).
const MAX_WARNINGS: usize = 64;
/// The root directory's MFT entry.
const ROOT: u64 = 5;

/// Whether a whole NTFS boot sector starts at `offset`.
///
/// The whole sector must be there: the `ntfs` crate panics (an `unreachable!` on a binrw
/// error) when the boot sector it parses is cut short, which the fuzz target found.
pub fn is_ntfs(image: &dyn ReadAt, offset: u64) -> bool {
    let mut b = [0u8; 512];
    matches!(image.read_at(offset, &mut b), Ok(512)) && &b[3..11] == b"NTFS    "
}

/// `Read + Seek` over `len` bytes of an image from `start`, by positioned reads.
pub struct Window<'a> {
    image: &'a dyn ReadAt,
    start: u64,
    len: u64,
    pos: u64,
}

impl<'a> Window<'a> {
    pub fn new(image: &'a dyn ReadAt, start: u64, len: u64) -> Window<'a> {
        let len = len.min(image.size().saturating_sub(start));
        Window {
            image,
            start,
            len,
            pos: 0,
        }
    }
}

impl Read for Window<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        if n == 0 {
            return Ok(0);
        }
        let got = self
            .image
            .read_at(self.start + self.pos, buf.get_mut(..n).unwrap_or_default())?;
        self.pos += got as u64;
        Ok(got)
    }
}

impl Seek for Window<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let new = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
        };
        let Some(new) = new else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the volume's start",
            ));
        };
        self.pos = new;
        Ok(new)
    }
}

/// Per-volume state of the walk.
struct Walk<'a, 'n> {
    image: &'a dyn ReadAt,
    fs: Window<'a>,
    ntfs: &'n Ntfs,
    /// The volume's offset in the image.
    base: u64,
    /// Directory entries already resolved: name and parent, or `None` when unreadable.
    dirs: HashMap<u64, Option<(String, u64)>>,
    warnings: Vec<Diagnostic>,
    dropped: usize,
}

impl Walk<'_, '_> {
    fn warn(&mut self, w: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(Diagnostic::from(w));
        } else {
            self.dropped += 1;
        }
    }
}

/// Find the stores in the NTFS volume of `len` bytes at `offset`; `chain` is the containers
/// above it (`raw image`, `partition 1 (...)`).
pub fn find_stores(
    image: &dyn ReadAt,
    offset: u64,
    len: u64,
    chain: &[String],
    stores: &mut Vec<Store>,
    warnings: &mut Vec<Diagnostic>,
) {
    let mut fs = Window::new(image, offset, len);
    if fs.len < 512 {
        warnings.push(Diagnostic::from(format!(
            "NTFS volume at offset {offset}: {} bytes, less than a boot sector",
            fs.len
        )));
        return;
    }
    let ntfs = match guard(|| Ntfs::new(&mut fs)) {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => {
            warnings.push(Diagnostic::from(format!(
                "NTFS volume at offset {offset}: boot sector: {e}"
            )));
            return;
        }
        Err(p) => {
            warnings.push(Diagnostic::from(format!(
                "NTFS volume at offset {offset}: boot sector: the NTFS reader failed ({p})"
            )));
            return;
        }
    };
    let mut walk = Walk {
        image,
        fs,
        ntfs: &ntfs,
        base: offset,
        dirs: HashMap::new(),
        warnings: Vec::new(),
        dropped: 0,
    };
    let mut chain = chain.to_vec();
    chain.push("NTFS".into());
    walk_mft(&mut walk, &chain, stores);
    warnings.append(&mut walk.warnings);
    if walk.dropped > 0 {
        warnings.push(Diagnostic::from(format!(
            "NTFS volume at offset {offset}: {} more warnings not shown",
            walk.dropped
        )));
    }
}

/// Run `f`, turning a panic inside the NTFS crate into an error text.
fn guard<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into())
    })
}

/// The MFT's own data runs, as (offset in the volume, length) pairs, and its size.
/// Runs of the MFT: (offset in the volume or `None` when sparse, length).
type Runs = Vec<(Option<u64>, u64)>;

fn mft_runs(w: &mut Walk) -> Result<(Runs, u64), String> {
    let mft = w.ntfs.file(&mut w.fs, 0).map_err(|e| e.to_string())?;
    let item = mft
        .data(&mut w.fs, "")
        .ok_or("the MFT has no $DATA attribute")?
        .map_err(|e| e.to_string())?;
    let attr = item.to_attribute().map_err(|e| e.to_string())?;
    let value = attr.value(&mut w.fs).map_err(|e| e.to_string())?;
    let size = value.len();
    let ntfs::attribute_value::NtfsAttributeValue::NonResident(v) = value else {
        return Err("the MFT's $DATA is not a plain non-resident attribute".into());
    };
    let mut runs = Vec::new();
    let mut total = 0u64;
    for run in v.data_runs().take(MAX_RUNS) {
        let run = run.map_err(|e| e.to_string())?;
        let at = run.data_position().value().map(|p| p.get());
        runs.push((at, run.allocated_size()));
        total = total.saturating_add(run.allocated_size());
        if total >= size {
            break;
        }
    }
    Ok((runs, size))
}

/// The volume offset of MFT entry `n`, when the whole record lies in one run.
fn record_offset(runs: &[(Option<u64>, u64)], n: u64, size: u64) -> Option<u64> {
    let mut at = n.checked_mul(size)?;
    for (pos, len) in runs {
        if at < *len {
            return if at + size <= *len {
                pos.map(|p| p + at)
            } else {
                None
            };
        }
        at -= len;
    }
    None
}

/// Apply a file record's update-sequence fixups in place; false when they do not match.
pub(super) fn fixup(rec: &mut [u8], sector: usize) -> bool {
    let usa = u16::from_le_bytes([rec[4], rec[5]]) as usize;
    let count = u16::from_le_bytes([rec[6], rec[7]]) as usize;
    if count < 2 || sector < 2 || usa + 2 * count > rec.len() || (count - 1) * sector > rec.len() {
        return false;
    }
    let usn = [rec[usa], rec[usa + 1]];
    for i in 1..count {
        let end = i * sector;
        if rec[end - 2..end] != usn {
            return false;
        }
        rec[end - 2] = rec[usa + 2 * i];
        rec[end - 1] = rec[usa + 2 * i + 1];
    }
    true
}

/// Whether the record's bytes hold `qmgr` or `edb` (the start of every store and log name
/// looked for), `evtx`, `sam` or `software` (the companions'; see [`is_wanted_name`]) in
/// UTF-16LE, any case: most records never reach the NTFS crate.
fn mentions_qmgr(rec: &[u8]) -> bool {
    [&b"qmgr"[..], b"edb", b"evtx", b"sam", b"software"]
        .iter()
        .any(|w| mentions_utf16(rec, w))
}

/// Whether `rec` holds the ASCII `word` as UTF-16LE, any case.
fn mentions_utf16(rec: &[u8], word: &[u8]) -> bool {
    rec.windows(word.len() * 2).any(|w| {
        w.chunks_exact(2).zip(word).all(|(c, l)| {
            c.get(1) == Some(&0) && c.first().is_some_and(|b| b.eq_ignore_ascii_case(l))
        })
    })
}

fn walk_mft(w: &mut Walk, chain: &[String], stores: &mut Vec<Store>) {
    let base = w.base;
    let (runs, mft_size) = match guard(|| mft_runs(w)) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) | Err(e) => {
            w.warn(format!(
                "NTFS volume at offset {base}: the MFT cannot be read: {e}"
            ));
            return;
        }
    };
    let rs = u64::from(w.ntfs.file_record_size());
    let mut entries = mft_size / rs.max(1);
    if entries > MAX_MFT_ENTRIES {
        w.warn(format!(
            "NTFS volume at offset {base}: the MFT claims {entries} entries; only the first {MAX_MFT_ENTRIES} are read"
        ));
        entries = MAX_MFT_ENTRIES;
    }
    let sector = usize::from(w.ntfs.sector_size());
    let mut rec = vec![0u8; rs as usize];
    for n in 0..entries {
        let Some(at) = record_offset(&runs, n, rs) else {
            continue;
        };
        match w.image.read_at(base.saturating_add(at), &mut rec) {
            Ok(got) if got == rec.len() => {}
            _ => {
                w.warn(format!(
                    "MFT entry {n} at offset {} lies past the image's end",
                    base.saturating_add(at)
                ));
                break;
            }
        }
        if rec.get(..4) != Some(b"FILE") || !fixup(&mut rec, sector) || !mentions_qmgr(&rec) {
            continue;
        }
        let at = base.saturating_add(at);
        match guard(|| entry_stores(w, n, chain)) {
            Ok(Ok(mut found)) => stores.append(&mut found),
            Ok(Err(e)) => w.warn(format!("MFT entry {n} at offset {at}: {e}")),
            Err(p) => w.warn(format!(
                "MFT entry {n} at offset {at}: the NTFS reader failed on this record ({p})"
            )),
        }
    }
}

/// The $FILE_NAME attributes of a file record (bounded).
fn file_names(w: &mut Walk, file: &NtfsFile) -> Result<Vec<NtfsFileName>, String> {
    let mut names = Vec::new();
    let mut attrs = file.attributes();
    let mut seen = 0;
    while let Some(item) = attrs.next(&mut w.fs) {
        seen += 1;
        if seen > MAX_ATTRIBUTES {
            return Err(format!("more than {MAX_ATTRIBUTES} attributes"));
        }
        let item = item.map_err(|e| e.to_string())?;
        let attr = item.to_attribute().map_err(|e| e.to_string())?;
        if attr.ty().ok() != Some(NtfsAttributeType::FileName) {
            continue;
        }
        if let Ok(name) = attr.structured_value::<_, NtfsFileName>(&mut w.fs) {
            names.push(name);
        }
    }
    Ok(names)
}

/// The stores one MFT entry is (one per distinct store name and parent: hard links).
fn entry_stores(w: &mut Walk, n: u64, chain: &[String]) -> Result<Vec<Store>, String> {
    let file = w.ntfs.file(&mut w.fs, n).map_err(|e| e.to_string())?;
    if file.is_directory() {
        return Ok(Vec::new());
    }
    let deleted = !file.flags().contains(NtfsFileFlags::IN_USE);
    let mut seen = HashSet::new();
    let mut named = Vec::new();
    for name in file_names(w, &file)? {
        let text = name.name().to_string_lossy();
        if !is_wanted_name(&text) {
            continue;
        }
        let parent = name.parent_directory_reference().file_record_number();
        // A DOS name and a long name of the same link: keep the first (long names come first).
        let dos = name.namespace() == NtfsFileNamespace::Dos;
        if seen.insert(parent) || !dos {
            if dos && named.iter().any(|(_, p)| *p == parent) {
                continue;
            }
            named.push((text, parent));
        }
    }
    if named.is_empty() {
        return Ok(Vec::new());
    }
    let (size, data) = file_data(w, &file, n)?;
    let mut out = Vec::new();
    for (name, parent) in named {
        let path = format!("{}\\{name}", dir_path(w, parent));
        let state = if deleted { ", deleted" } else { "" };
        let mut chain = chain.to_vec();
        chain.push(format!("{path} (MFT entry {n}{state})"));
        out.push(Store {
            chain,
            path,
            name,
            mft_entry: Some(n),
            deleted,
            size,
            data: data.clone(),
        });
    }
    Ok(out)
}

/// A file's unnamed $DATA: its size and where its bytes are.
fn file_data(w: &mut Walk, file: &NtfsFile, n: u64) -> Result<(u64, StoreData), String> {
    use ntfs::attribute_value::NtfsAttributeValue as V;
    let item = file
        .data(&mut w.fs, "")
        .ok_or("no $DATA attribute")?
        .map_err(|e| e.to_string())?;
    let attr = item.to_attribute().map_err(|e| e.to_string())?;
    let compressed = attr.flags().contains(NtfsAttributeFlags::COMPRESSED);
    let value = attr.value(&mut w.fs).map_err(|e| e.to_string())?;
    let size = value.len();
    if size > MAX_STORE {
        return Err(format!(
            "$DATA of {size} bytes, more than the {MAX_STORE} a store is read to"
        ));
    }
    match value {
        V::Resident(v) => Ok((size, StoreData::Resident(v.data().to_vec()))),
        V::NonResident(v) => {
            let vol = w.fs.len;
            let mut extents = Vec::new();
            let mut total = 0u64;
            for (i, run) in v.data_runs().enumerate() {
                if total >= size {
                    break;
                }
                if i >= MAX_RUNS {
                    return Err(format!("more than {MAX_RUNS} data runs"));
                }
                let run = run.map_err(|e| e.to_string())?;
                let len = run.allocated_size().min(size - total);
                let at = run.data_position().value().map(|p| p.get());
                if let Some(at) = at {
                    if at.saturating_add(len) > vol {
                        return Err(format!(
                            "data run at volume offset {at} ({len} bytes) ends past the volume's end"
                        ));
                    }
                }
                extents.push(Extent {
                    offset: at.map(|a| a + w.base),
                    len,
                });
                total += len;
            }
            if total < size {
                return Err(format!(
                    "data runs cover {total} of the file's {size} bytes (MFT entry {n})"
                ));
            }
            if compressed {
                return Ok((size, StoreData::Compressed(extents)));
            }
            Ok((size, StoreData::Extents(extents)))
        }
        // Compressed and spread over several records: where its clusters are is not listed.
        _ if compressed => Ok((size, StoreData::Compressed(Vec::new()))),
        other => {
            // Spread over several records (an attribute list): read through the crate.
            let mut bytes = Vec::new();
            other
                .attach(&mut w.fs)
                .take(MAX_STORE)
                .read_to_end(&mut bytes)
                .map_err(|e| e.to_string())?;
            Ok((size, StoreData::Resident(bytes)))
        }
    }
}

/// Free runs: (offset in the image, length).
type FreeRuns = Vec<(u64, u64)>;

/// Free-cluster runs listed at most (the rest are dropped with a warning).
const MAX_FREE_RUNS: usize = 1 << 20;

/// The unallocated clusters of the NTFS volume of `len` bytes at `offset`, from its $Bitmap:
/// the cluster size and the free runs as (offset in the image, length), in volume order.
pub fn unallocated(
    image: &dyn ReadAt,
    offset: u64,
    len: u64,
    warnings: &mut Vec<Diagnostic>,
) -> (u64, FreeRuns) {
    let mut fs = Window::new(image, offset, len);
    if fs.len < 512 {
        return (0, Vec::new());
    }
    let result = guard(|| -> Result<(u64, FreeRuns, bool), String> {
        let ntfs = Ntfs::new(&mut fs).map_err(|e| e.to_string())?;
        let cluster = u64::from(ntfs.cluster_size());
        let clusters = fs.len / cluster.max(1);
        let file = ntfs.file(&mut fs, 6).map_err(|e| e.to_string())?;
        let item = file
            .data(&mut fs, "")
            .ok_or("$Bitmap has no $DATA")?
            .map_err(|e| e.to_string())?;
        let attr = item.to_attribute().map_err(|e| e.to_string())?;
        let value = attr.value(&mut fs).map_err(|e| e.to_string())?;
        let mut reader = value.attach(&mut fs).take(clusters.div_ceil(8));
        let mut runs: Vec<(u64, u64)> = Vec::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut c = 0u64;
        let mut truncated = false;
        'read: loop {
            let n = reader.read(&mut buf).map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            for byte in &buf[..n] {
                for bit in 0..8 {
                    if c >= clusters {
                        break 'read;
                    }
                    if byte >> bit & 1 == 0 {
                        let at = offset + c * cluster;
                        let full = runs.len() >= MAX_FREE_RUNS;
                        match runs.last_mut() {
                            Some((start, l)) if *start + *l == at => *l += cluster,
                            _ if full => {
                                truncated = true;
                                break 'read;
                            }
                            _ => runs.push((at, cluster)),
                        }
                    }
                    c += 1;
                }
            }
        }
        Ok((cluster, runs, truncated))
    });
    match result {
        Ok(Ok((cluster, runs, truncated))) => {
            if truncated {
                warnings.push(Diagnostic::from(format!(
                    "NTFS volume at offset {offset}: more than {MAX_FREE_RUNS} runs of free clusters; the rest are not carved"
                )));
            }
            (cluster, runs)
        }
        Ok(Err(e)) | Err(e) => {
            warnings.push(Diagnostic::from(format!(
                "NTFS volume at offset {offset}: unallocated clusters: {e}"
            )));
            (0, Vec::new())
        }
    }
}

/// The path of directory `n` from the root (`""` for the root itself, `?` for a component
/// whose name cannot be read).
fn dir_path(w: &mut Walk, mut n: u64) -> String {
    let mut parts = Vec::new();
    let mut seen = HashSet::new();
    while n != ROOT {
        if parts.len() >= MAX_DEPTH || !seen.insert(n) {
            parts.push("?".to_string());
            break;
        }
        let entry = match w.dirs.get(&n) {
            Some(e) => e.clone(),
            None => {
                let e = guard(|| dir_entry(w, n)).ok().flatten();
                w.dirs.insert(n, e.clone());
                e
            }
        };
        match entry {
            Some((name, parent)) => {
                parts.push(name);
                n = parent;
            }
            None => {
                parts.push("?".to_string());
                break;
            }
        }
    }
    parts.reverse();
    if parts.is_empty() {
        String::new()
    } else {
        format!("\\{}", parts.join("\\"))
    }
}

/// A directory's long name and parent.
fn dir_entry(w: &mut Walk, n: u64) -> Option<(String, u64)> {
    let file = w.ntfs.file(&mut w.fs, n).ok()?;
    let names = file_names(w, &file).ok()?;
    let name = names
        .iter()
        .find(|f| f.namespace() != NtfsFileNamespace::Dos)
        .or(names.first())?;
    Some((
        name.name().to_string_lossy(),
        name.parent_directory_reference().file_record_number(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixups_restore_sector_ends_and_reject_mismatches() {
        let mut rec = vec![0u8; 1024];
        rec[..4].copy_from_slice(b"FILE");
        rec[4] = 0x30; // update sequence array at 0x30
        rec[6] = 3; // USN + 2 sectors
        rec[0x30..0x36].copy_from_slice(&[0xaa, 0xbb, 1, 2, 3, 4]);
        rec[510..512].copy_from_slice(&[0xaa, 0xbb]);
        rec[1022..1024].copy_from_slice(&[0xaa, 0xbb]);
        let mut ok = rec.clone();
        assert!(fixup(&mut ok, 512));
        assert_eq!(&ok[510..512], &[1, 2]);
        assert_eq!(&ok[1022..1024], &[3, 4]);
        rec[1023] = 0;
        assert!(!fixup(&mut rec, 512));
        // An array past the record, or a count past the sectors, is refused.
        let mut bad = ok.clone();
        bad[4] = 0xff;
        bad[5] = 0x03;
        assert!(!fixup(&mut bad, 512));
        let mut bad = ok;
        bad[6] = 0xff;
        assert!(!fixup(&mut bad, 512));
    }

    #[test]
    fn record_offsets_follow_the_mft_runs() {
        let runs = [(Some(4096), 2048), (None, 1024), (Some(100_000), 1536)];
        assert_eq!(record_offset(&runs, 0, 1024), Some(4096));
        assert_eq!(record_offset(&runs, 1, 1024), Some(5120));
        assert_eq!(record_offset(&runs, 2, 1024), None); // sparse
        assert_eq!(record_offset(&runs, 3, 1024), Some(100_000));
        assert_eq!(record_offset(&runs, 4, 1024), None); // straddles the end
        assert_eq!(record_offset(&runs, u64::MAX, 1024), None);
    }

    #[test]
    fn names_are_found_in_any_case() {
        let utf16 = |s: &str| {
            s.encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>()
        };
        assert!(mentions_qmgr(&utf16("xxQMGR0.DAT")));
        assert!(mentions_qmgr(&utf16("qmgr.db")));
        assert!(mentions_qmgr(&utf16("EDB00001.log")));
        assert!(!mentions_qmgr(b"qmgr.db"));
        assert!(!mentions_qmgr(&utf16("qmg.db")));
        assert!(super::super::is_store_name("QMgr1.dat"));
        assert!(!super::super::is_store_name("qmgr2.dat"));
    }

    #[test]
    fn a_cut_short_boot_sector_never_reaches_the_crate() {
        // The fuzz target's first find: 395 bytes starting like an NTFS boot sector made the
        // crate's boot sector parser panic (unreachable! on a binrw error).
        let mut img = vec![0u8; 395];
        img[..11].copy_from_slice(b"\xebR\x90NTFS    ");
        assert!(!is_ntfs(&img, 0));
        assert!(super::super::open(&img).is_none());
        let mut stores = Vec::new();
        let mut warnings = Vec::new();
        find_stores(&img, 0, 395, &[], &mut stores, &mut warnings);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].what.contains("less than a boot sector"));
    }

    #[test]
    fn garbage_volume_is_a_warning() {
        let mut img = vec![0u8; 1 << 20];
        img[3..11].copy_from_slice(b"NTFS    ");
        let found = super::super::open(&img).expect("a bare NTFS volume");
        assert!(found.stores.is_empty());
        assert_eq!(found.warnings.len(), 1, "{:?}", found.warnings);
    }
}
