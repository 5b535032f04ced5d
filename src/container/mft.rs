//! What an NTFS volume's MFT says of files by name: for each entry (in use or deleted) whose
//! `$FILE_NAME` is one of the names asked for, its path, MFT entry and sequence, whether it is
//! deleted, its size, and its `$STANDARD_INFORMATION` and `$FILE_NAME` times, read straight from
//! the file records (no crate: only these few fields).
//!
//! The structures (offsets in bytes):
//! - boot sector: bytes per sector (u16) at 0x0b, sectors per cluster (u8) at 0x0d, the MFT's
//!   first cluster (u64) at 0x30, clusters per file record (i8) at 0x40 (negative: 2^-n bytes);
//! - file record: `FILE`, update sequence offset (u16) at 4 and count (u16) at 6, sequence
//!   number (u16) at 0x10, first attribute offset (u16) at 0x14, flags (u16) at 0x16 (1: in
//!   use, 2: directory);
//! - attribute: type (u32), length (u32), non-resident flag (u8) at 8, name length (u8) at 9;
//!   resident: content length (u32) at 0x10, content offset (u16) at 0x14; non-resident: runs
//!   offset (u16) at 0x20, real size (u64) at 0x30;
//! - `$STANDARD_INFORMATION` (0x10): created, modified, MFT modified, accessed (FILETIMEs);
//! - `$FILE_NAME` (0x30): parent reference (u64), the same four times at 8, real size (u64) at
//!   0x30, name length (u8) at 0x40, namespace (u8) at 0x41 (2: DOS), name (UTF-16) at 0x42;
//! - `$DATA` (0x80), unnamed: the file's size.
//!
//! Bounded: at most `MAX_ENTRIES` records read, parents followed to a depth of 64, attributes
//! walked within the record's bytes.

use std::collections::{HashMap, HashSet};

use super::ntfs::fixup;
use super::ReadAt;
use crate::util::bytes::{slice, u16_le, u32_le, u64_le, u8_at};
use crate::util::utf16::decode_utf16le;

const MAX_ENTRIES: u64 = 1 << 24;
const MAX_RUNS: usize = 1 << 16;
const MAX_DEPTH: usize = 64;
const ROOT: u64 = 5;

/// The four NTFS times: created, modified, MFT entry modified, accessed (FILETIMEs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Times {
    pub created: u64,
    pub modified: u64,
    pub changed: u64,
    pub accessed: u64,
}

/// A file the MFT knows by one of the names asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MftFile {
    /// From the volume's root, `\`-separated (`?` for a parent whose name is gone).
    pub path: String,
    pub entry: u64,
    pub sequence: u16,
    pub deleted: bool,
    pub directory: bool,
    /// The unnamed `$DATA`'s size (the `$FILE_NAME`'s when there is none).
    pub size: u64,
    pub si: Times,
    pub fname: Times,
    /// The file record's offset in the disk.
    pub record_offset: u64,
}

/// A volume's geometry, from its boot sector.
struct Geometry {
    cluster: u64,
    record: u64,
    mft: u64,
}

fn geometry(disk: &dyn ReadAt, base: u64) -> Option<Geometry> {
    let mut boot = [0u8; 512];
    if disk.read_at(base, &mut boot).ok()? < 512 || boot.get(3..7)? != b"NTFS" {
        return None;
    }
    let sector = usize::from(u16_le(&boot, 0x0b)?);
    let cluster = u64::from(u8_at(&boot, 0x0d)?).checked_mul(sector as u64)?;
    let per = u8_at(&boot, 0x40)? as i8;
    let record = if per < 0 {
        1u64.checked_shl(u32::from(per.unsigned_abs()))?
    } else {
        u64::from(per as u8).checked_mul(cluster)?
    };
    if !(512..=65536).contains(&record) || sector < 256 || cluster == 0 {
        return None;
    }
    Some(Geometry {
        cluster,
        record,
        mft: u64_le(&boot, 0x30)?.checked_mul(cluster)?,
    })
}

/// A data run list: (volume offset or `None` when sparse, length in bytes).
fn runs(attr: &[u8], cluster: u64) -> Vec<(Option<u64>, u64)> {
    let mut out = Vec::new();
    let Some(start) = u16_le(attr, 0x20) else {
        return out;
    };
    let mut at = usize::from(start);
    let mut lcn: i64 = 0;
    while out.len() < MAX_RUNS {
        let Some(head) = u8_at(attr, at) else { break };
        if head == 0 {
            break;
        }
        let (len_size, off_size) = (usize::from(head & 0x0f), usize::from(head >> 4));
        let Some(len_bytes) = slice(attr, at + 1, len_size) else {
            break;
        };
        let Some(off_bytes) = slice(attr, at + 1 + len_size, off_size) else {
            break;
        };
        let len = le_unsigned(len_bytes);
        at += 1 + len_size + off_size;
        let bytes = len.saturating_mul(cluster);
        if off_size == 0 {
            out.push((None, bytes));
            continue;
        }
        lcn = lcn.saturating_add(le_signed(off_bytes));
        let pos = u64::try_from(lcn).ok().and_then(|l| l.checked_mul(cluster));
        out.push((pos, bytes));
    }
    out
}

fn le_unsigned(b: &[u8]) -> u64 {
    b.iter()
        .rev()
        .take(8)
        .fold(0u64, |a, &x| (a << 8) | u64::from(x))
}

fn le_signed(b: &[u8]) -> i64 {
    let n = b.len().min(8);
    if n == 0 {
        return 0;
    }
    let v = le_unsigned(&b[..n]);
    let shift = 64 - 8 * n as u32;
    ((v << shift) as i64) >> shift
}

/// The attributes of a (fixed-up) file record: (type, bytes of the attribute).
fn attributes(rec: &[u8]) -> Vec<(u32, &[u8])> {
    let mut out = Vec::new();
    let mut at = usize::from(u16_le(rec, 0x14).unwrap_or(0));
    while let (Some(ty), Some(len)) = (u32_le(rec, at), u32_le(rec, at + 4)) {
        if ty == 0xffff_ffff || len < 16 || out.len() > 512 {
            break;
        }
        let Some(a) = slice(rec, at, len as usize) else {
            break;
        };
        out.push((ty, a));
        at += len as usize;
    }
    out
}

/// A resident attribute's content.
fn content(attr: &[u8]) -> Option<&[u8]> {
    if u8_at(attr, 8)? != 0 {
        return None;
    }
    let len = u32_le(attr, 0x10)? as usize;
    let off = usize::from(u16_le(attr, 0x14)?);
    slice(attr, off, len)
}

fn times(b: &[u8], at: usize) -> Times {
    let t = |i: usize| u64_le(b, at + i * 8).unwrap_or(0);
    Times {
        created: t(0),
        modified: t(1),
        changed: t(2),
        accessed: t(3),
    }
}

/// One parsed file record: flags, sequence, names (name, parent, namespace, times, size),
/// $SI times, $DATA size.
struct Record {
    in_use: bool,
    directory: bool,
    sequence: u16,
    names: Vec<(String, u64, u8, Times, u64)>,
    si: Times,
    data_size: Option<u64>,
}

fn parse(rec: &[u8]) -> Record {
    let flags = u16_le(rec, 0x16).unwrap_or(0);
    let mut r = Record {
        in_use: flags & 1 != 0,
        directory: flags & 2 != 0,
        sequence: u16_le(rec, 0x10).unwrap_or(0),
        names: Vec::new(),
        si: Times::default(),
        data_size: None,
    };
    for (ty, attr) in attributes(rec) {
        match ty {
            0x10 => {
                if let Some(c) = content(attr) {
                    r.si = times(c, 0);
                }
            }
            0x30 => {
                let Some(c) = content(attr) else { continue };
                let n = usize::from(u8_at(c, 0x40).unwrap_or(0));
                let Some(raw) = slice(c, 0x42, n * 2) else {
                    continue;
                };
                let parent = u64_le(c, 0).unwrap_or(0) & 0xffff_ffff_ffff;
                let space = u8_at(c, 0x41).unwrap_or(0);
                let size = u64_le(c, 0x30).unwrap_or(0);
                r.names
                    .push((decode_utf16le(raw), parent, space, times(c, 8), size));
            }
            0x80 if u8_at(attr, 9) == Some(0) => {
                r.data_size = if u8_at(attr, 8) == Some(0) {
                    u32_le(attr, 0x10).map(u64::from)
                } else {
                    u64_le(attr, 0x30)
                };
            }
            _ => {}
        }
    }
    r
}

/// The MFT of the NTFS volume at `base` in `disk`, read record by record.
struct Mft<'a> {
    disk: &'a dyn ReadAt,
    base: u64,
    geo: Geometry,
    runs: Vec<(Option<u64>, u64)>,
    entries: u64,
}

impl Mft<'_> {
    /// Record `n`, fixed up, and its offset in the disk.
    fn record(&self, n: u64) -> Option<(Vec<u8>, u64)> {
        let mut at = n.checked_mul(self.geo.record)?;
        let mut pos = None;
        for (p, len) in &self.runs {
            if at < *len {
                pos = p.map(|p| p.saturating_add(at));
                break;
            }
            at -= len;
        }
        let disk_at = self.base.checked_add(pos?)?;
        let mut rec = vec![0u8; self.geo.record as usize];
        if self.disk.read_at(disk_at, &mut rec).ok()? != rec.len() || rec.get(..4)? != b"FILE" {
            return None;
        }
        fixup(&mut rec).is_ok().then_some((rec, disk_at))
    }
}

fn open(disk: &dyn ReadAt, base: u64) -> Option<Mft<'_>> {
    let geo = geometry(disk, base)?;
    let mut rec = vec![0u8; geo.record as usize];
    if disk.read_at(base.checked_add(geo.mft)?, &mut rec).ok()? != rec.len() {
        return None;
    }
    if fixup(&mut rec).is_err() {
        return None;
    }
    let data = attributes(&rec)
        .into_iter()
        .find(|(ty, a)| *ty == 0x80 && u8_at(a, 9) == Some(0) && u8_at(a, 8) == Some(1))?
        .1
        .to_vec();
    let runs = runs(&data, geo.cluster);
    let size = u64_le(&data, 0x30)?;
    let entries = (size / geo.record).min(MAX_ENTRIES);
    Some(Mft {
        disk,
        base,
        geo,
        runs,
        entries,
    })
}

/// Every file of the NTFS volume at `base` in `disk` whose name (any case) is in `names`
/// (lower case), with its path. Empty when the volume cannot be read.
pub fn lookup(disk: &dyn ReadAt, base: u64, names: &HashSet<String>) -> Vec<MftFile> {
    let Some(mft) = open(disk, base) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut dirs: HashMap<u64, Option<(String, u64)>> = HashMap::new();
    for n in 0..mft.entries {
        let Some((rec, at)) = mft.record(n) else {
            continue;
        };
        let r = parse(&rec);
        let Some((name, parent, _, fname, fsize)) = r
            .names
            .iter()
            .filter(|(name, ..)| names.contains(&name.to_lowercase()))
            .min_by_key(|(_, _, space, ..)| *space == 2)
            .cloned()
        else {
            continue;
        };
        out.push(MftFile {
            path: format!("{}\\{name}", dir_path(&mft, parent, &mut dirs)),
            entry: n,
            sequence: r.sequence,
            deleted: !r.in_use,
            directory: r.directory,
            size: r.data_size.unwrap_or(fsize),
            si: r.si,
            fname,
            record_offset: at,
        });
    }
    out
}

/// The path of directory `n` from the root (`""` for the root itself).
fn dir_path(mft: &Mft, mut n: u64, dirs: &mut HashMap<u64, Option<(String, u64)>>) -> String {
    let mut parts = Vec::new();
    for _ in 0..MAX_DEPTH {
        if n == ROOT {
            break;
        }
        let entry = dirs
            .entry(n)
            .or_insert_with(|| {
                let (rec, _) = mft.record(n)?;
                let r = parse(&rec);
                r.names
                    .into_iter()
                    .min_by_key(|(_, _, space, ..)| *space == 2)
                    .map(|(name, parent, ..)| (name, parent))
            })
            .clone();
        match entry {
            Some((name, parent)) if parent != n => {
                parts.push(name);
                n = parent;
            }
            _ => {
                parts.push("?".into());
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
