//! VHDX (Hyper-V; KAPE's default container): fixed and dynamic disks.
//!
//! `vhdxfile` at offset 0; two headers (64 and 128 KiB, the higher sequence number wins); two
//! region tables (192 and 256 KiB) locating the block allocation table (BAT) and the metadata
//! region (block size, virtual disk size, logical sector size). Payload block `i` is BAT entry
//! `i + i / chunk_ratio` (a sector-bitmap entry follows every `chunk_ratio` payload entries);
//! an entry's state says whether the block is in the file (its offset in MiB) or reads as
//! zeros. The BAT is read entry by entry where it lies (never past its region or the file), so
//! a thin 64 TB disk costs no memory. Differencing disks (with a parent) are refused, and say
//! so; a header naming a log that was not replayed is a warning (the blocks are read as they
//! are).

use std::io;

use super::field::{le16, le32, le64};
use super::{ReadAt, Refusal};
use crate::util::bytes;
use crate::util::diag::Diagnostic;

/// BAT entries checked per read at open (to count those pointing past the file's end).
const SCAN: u64 = 8 << 10;

/// A GUID's bytes as stored (first three groups little-endian).
fn guid(text: &str) -> [u8; 16] {
    let hex: Vec<u8> = text
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .collect::<Vec<u8>>()
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("0"), 16).unwrap_or(0))
        .collect();
    let mut g = [0u8; 16];
    let order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    for (slot, o) in g.iter_mut().zip(order) {
        *slot = hex.get(o).copied().unwrap_or(0);
    }
    g
}

const BAT: &str = "2DC27766-F623-4200-9D64-115E9BFD4A08";
const METADATA: &str = "8B7CA206-4790-4B9A-B8FE-575F050F886E";
const FILE_PARAMETERS: &str = "CAA16737-FA36-4D43-B3B6-33F0AA44E76B";
const DISK_SIZE: &str = "2FA54224-CD1B-4876-B211-5DBED83BF4B8";
const SECTOR_SIZE: &str = "8141BF1D-A96F-4709-BA47-F233A8FAAB5F";

/// A VHDX's disk, by positioned reads of the file.
pub struct Vhdx<'a> {
    file: &'a dyn ReadAt,
    size: u64,
    block: u64,
    /// The BAT: its offset, its entries (as many as its region and the file hold), and the
    /// payload blocks per sector-bitmap entry.
    bat: u64,
    entries: u64,
    chunk_ratio: u64,
}

impl Vhdx<'_> {
    /// Where BAT entry `e` lies in the file. For `e < self.entries` it lies inside the file
    /// (the entries are cut to what the file holds at open), so the sum cannot saturate.
    fn entry_at(&self, e: u64) -> u64 {
        self.bat.saturating_add(e.saturating_mul(8))
    }

    /// Where payload block `i` lies in the file; `None` reads as zeros.
    fn block_at(&self, i: u64) -> io::Result<Option<u64>> {
        let bitmaps = i.checked_div(self.chunk_ratio.max(1)).unwrap_or(0);
        let e = i.saturating_add(bitmaps);
        if e >= self.entries {
            return Ok(None);
        }
        let mut b = [0u8; 8];
        if self.file.read_at(self.entry_at(e), &mut b)? != 8 {
            return Ok(None);
        }
        Ok(payload_at(u64::from_le_bytes(b), self.file.size()))
    }
}

/// A BAT entry's block offset when the block is in the file (state 6 fully present, 7
/// partially present), `None` otherwise or past `len`.
fn payload_at(e: u64, len: u64) -> Option<u64> {
    match e & 7 {
        6 | 7 => Some((e >> 20) << 20).filter(|at| *at < len),
        _ => None,
    }
}

fn read(file: &dyn ReadAt, at: u64, len: usize) -> Option<Vec<u8>> {
    let mut b = vec![0u8; len];
    (file.read_at(at, &mut b).ok()? == len).then_some(b)
}

/// Whether the CRC-32C a VHDX header or region table stores at offset 4 is that of its bytes
/// (with the field zeroed); a warning when not.
fn checksum_holds(b: &[u8], at: u64, what: &str, warnings: &mut Vec<Diagnostic>) -> bool {
    let stored = le32(b, 4);
    let mut zeroed = b.to_vec();
    if let Some(f) = zeroed.get_mut(4..8) {
        f.fill(0);
    }
    let computed = crate::util::checksum::crc32c(&zeroed);
    if stored != computed {
        warnings.push(Diagnostic::from(format!(
            "VHDX: {what} at offset {at}: CRC-32C {stored:#010x} stored, {computed:#010x} computed (read anyway)"
        )));
    }
    stored == computed
}

/// The disk inside `file` when it is a VHDX; a refusal when it is one that cannot be read.
pub fn open<'a>(
    file: &'a dyn ReadAt,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Result<(String, Vhdx<'a>), Refusal>> {
    if read(file, 0, 8)?.as_slice() != b"vhdxfile" {
        return None;
    }
    Some(open_vhdx(file, warnings))
}

fn open_vhdx<'a>(
    file: &'a dyn ReadAt,
    warnings: &mut Vec<Diagnostic>,
) -> Result<(String, Vhdx<'a>), Refusal> {
    // The current header: the one with the higher sequence number, among those whose
    // CRC-32C holds when one does (a bad checksum is a warning; the header is still read).
    let header = [64u64 << 10, 128 << 10]
        .into_iter()
        .filter_map(|at| Some((at, read(file, at, 4096)?)))
        .filter(|(_, h)| h.get(..4) == Some(b"head"))
        .map(|(at, h)| (checksum_holds(&h, at, "header", warnings), h))
        .max_by_key(|(ok, h)| (*ok, le64(h, 8)))
        .map(|(_, h)| h);
    // The region table (BAT and metadata locations): the first whose checksum holds, else
    // the first found.
    let regions = [192u64 << 10, 256 << 10]
        .into_iter()
        .filter_map(|at| Some((at, read(file, at, 64 << 10)?)))
        .filter(|(_, r)| r.get(..4) == Some(b"regi"))
        .map(|(at, r)| (checksum_holds(&r, at, "region table", warnings), r))
        .reduce(|a, b| if !a.0 && b.0 { b } else { a })
        .map(|(_, r)| r);
    let fail = |why: String| Err(Refusal::new("VHDX", why));
    let Some(header) = header else {
        return fail("no valid header at 64 or 128 KiB".into());
    };
    let log_pending = header
        .get(48..64)
        .is_some_and(|g| g.iter().any(|b| *b != 0));
    let Some(regions) = regions else {
        return fail("no region table at 192 or 256 KiB".into());
    };
    let count = le32(&regions, 8).min(2047) as usize;
    let (mut bat_at, mut bat_len, mut meta_at, mut meta_len) = (0u64, 0u64, 0u64, 0u64);
    for i in 0..count {
        // `i` < 2048: the entry's offset is below 64 KiB.
        let Some(e) = bytes::slice(&regions, i.saturating_mul(32).saturating_add(16), 32) else {
            break;
        };
        let id = e.get(..16);
        if id == Some(&guid(BAT)[..]) {
            (bat_at, bat_len) = (le64(e, 16), u64::from(le32(e, 24)));
        } else if id == Some(&guid(METADATA)[..]) {
            (meta_at, meta_len) = (le64(e, 16), u64::from(le32(e, 24)));
        }
    }
    if bat_len == 0 || meta_len == 0 {
        return fail("the region table lacks the BAT or the metadata region".into());
    }
    let Some(meta) = read(file, meta_at, meta_len.min(1 << 20) as usize) else {
        return fail(format!(
            "metadata region at offset {meta_at} lies past the file's end"
        ));
    };
    if meta.get(..8) != Some(b"metadata") {
        return fail(format!("no metadata signature at offset {meta_at}"));
    }
    let item = |id: &str, len: usize| -> Option<&[u8]> {
        let n = usize::from(le16(&meta, 10)).min(2047);
        (0..n).find_map(|i| {
            // `i` < 2048: the entry's offset is below 64 KiB.
            let e = bytes::slice(&meta, i.saturating_mul(32).saturating_add(32), 32)?;
            if e.get(..16) != Some(&guid(id)[..]) {
                return None;
            }
            let at = le32(e, 16) as usize;
            meta.get(at..at.checked_add(len)?)
        })
    };
    let (Some(params), Some(size), Some(sector)) = (
        item(FILE_PARAMETERS, 8),
        item(DISK_SIZE, 8),
        item(SECTOR_SIZE, 4),
    ) else {
        return fail("metadata lacks the block size, disk size or sector size".into());
    };
    let block = u64::from(le32(params, 0));
    let fixed = le32(params, 4) & 1 != 0;
    let has_parent = le32(params, 4) & 2 != 0;
    let size = le64(size, 0);
    let sector = u64::from(le32(sector, 0));
    if has_parent {
        return Err(Refusal::new(
            "VHDX (differencing)",
            "a differencing disk holds only the changes to its parent disk, which is not read",
        ));
    }
    if !(1 << 20..=256 << 20).contains(&block) || !block.is_power_of_two() {
        return fail(format!("block size {block} is not valid"));
    }
    if sector != 512 && sector != 4096 {
        return fail(format!("logical sector size {sector} is not valid"));
    }
    // sector <= 4096 and block >= 1 MiB (checked above): the ratio is 16 to 32768.
    let chunk_ratio = (1u64 << 23)
        .saturating_mul(sector)
        .checked_div(block)
        .unwrap_or(1);
    let payload = size.div_ceil(block);
    // At most 2^44 payload blocks (block >= 1 MiB): the sum cannot saturate.
    let bitmaps = payload
        .saturating_sub(1)
        .checked_div(chunk_ratio.max(1))
        .unwrap_or(0);
    let want = payload.saturating_add(bitmaps).saturating_add(1);
    // The BAT lies in its region of the file: never more entries than both hold.
    let len = file.size();
    let held = (bat_len / 8).min(len.saturating_sub(bat_at) / 8);
    if held == 0 {
        return fail(format!(
            "the block allocation table at offset {bat_at} lies past the file's end"
        ));
    }
    let entries = want.min(held);
    if entries < want {
        warnings.push(Diagnostic::at(
            bat_at,
            format!(
                "VHDX: the block allocation table here holds {entries} of the disk's {want} entries; the blocks past them read as zeros"
            ),
        ));
    }
    let disk = Vhdx {
        file,
        size,
        block,
        bat: bat_at,
        entries,
        chunk_ratio,
    };
    let bad = count_past_end(&disk);
    if bad > 0 {
        warnings.push(Diagnostic::at(
            bat_at,
            format!(
                "VHDX: {bad} block allocation table entries point past the file's end; read as zeros"
            ),
        ));
    }
    if log_pending {
        warnings.push(Diagnostic::from(
            "VHDX: the header names a log that was not replayed; blocks are read as they are",
        ));
    }
    let kind = if fixed {
        "VHDX (fixed)"
    } else {
        "VHDX (dynamic)"
    };
    Ok((kind.into(), disk))
}

/// BAT entries in the file naming a block past its end, read a slice at a time (sector bitmap
/// entries are never in state 6 or 7, so they do not count).
fn count_past_end(d: &Vhdx) -> u64 {
    let len = d.file.size();
    let mut bad = 0u64;
    let mut buf = vec![0u8; (SCAN * 8) as usize];
    let mut i = 0;
    while i < d.entries {
        let n = d.entries.saturating_sub(i).min(SCAN); // i < entries
        let piece = buf
            .get_mut(..n.saturating_mul(8) as usize)
            .unwrap_or_default();
        if d.file.read_at(d.entry_at(i), piece).ok() != Some(piece.len()) {
            break;
        }
        let past = piece
            .chunks_exact(8)
            .filter(|e| {
                let e = le64(e, 0);
                matches!(e & 7, 6 | 7) && payload_at(e, len).is_none()
            })
            .count() as u64;
        // At most `d.entries` in all, and `i + n <= d.entries`.
        bad = bad.saturating_add(past);
        i = i.saturating_add(n);
    }
    bad
}

impl ReadAt for Vhdx<'_> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let want = usize::try_from(self.size.saturating_sub(offset))
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let read = |at: u64, dst: &mut [u8]| self.file.read_at(at, dst);
        let block_at = |i: u64| self.block_at(i);
        super::read_blocks(&read, &block_at, self.block, offset, buf, want)
    }

    /// The blocks present in the file, each block of the file once.
    fn backed(&self) -> Option<Vec<(u64, u64)>> {
        let len = self.file.size();
        let ratio = self.chunk_ratio.max(1);
        let mut seen = std::collections::HashSet::new();
        let mut kept = Vec::new();
        let mut buf = vec![0u8; (SCAN * 8) as usize];
        let mut e = 0;
        while e < self.entries {
            let n = self.entries.saturating_sub(e).min(SCAN); // e < entries
            let piece = buf
                .get_mut(..n.saturating_mul(8) as usize)
                .unwrap_or_default();
            if self.file.read_at(self.entry_at(e), piece).ok() != Some(piece.len()) {
                break;
            }
            for (k, b) in piece.chunks_exact(8).enumerate() {
                let entry = e.saturating_add(k as u64); // below self.entries
                                                        // Every `ratio + 1`-th entry is a sector bitmap's, not a payload block's
                                                        // (`ratio` is at most 32768: the period cannot saturate).
                let period = ratio.saturating_add(1);
                let (Some(bitmaps), Some(within)) =
                    (entry.checked_div(period), entry.checked_rem(period))
                else {
                    continue;
                };
                if within == ratio {
                    continue;
                }
                let block = entry.saturating_sub(bitmaps);
                if payload_at(le64(b, 0), len).is_some_and(|at| seen.insert(at)) {
                    kept.push(block);
                }
            }
            e = e.saturating_add(n); // e + n <= self.entries
        }
        Some(super::block_runs(kept.into_iter(), self.block, self.size))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn guids_are_stored_mixed_endian() {
        assert_eq!(
            super::guid(super::BAT),
            [
                0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00, 0x42, 0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd,
                0x4a, 0x08
            ]
        );
    }
}
