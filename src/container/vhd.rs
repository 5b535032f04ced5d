//! VHD (Virtual PC / Hyper-V "vpc"): fixed and dynamic disks.
//!
//! A fixed VHD is the raw disk followed by a 512-byte footer (`conectix`). A dynamic VHD has a
//! copy of the footer at its start, a dynamic header (`cxsparse`) and a block allocation table
//! (BAT) of big-endian sector numbers; each allocated block is a sector bitmap followed by the
//! block's data, an unallocated block reads as zeros. The BAT is read entry by entry where it
//! lies (never more entries than the file holds), so no header field sizes any memory.
//! Differencing disks (which need their parent) are refused, and say so.

use std::io;

use super::field::{be32, be64};
use super::{ReadAt, Refusal};
use crate::util::diag::Diagnostic;

/// BAT entries checked per read at open (to count those pointing past the file's end).
const SCAN: u64 = 16 << 10;

/// A VHD's disk, by positioned reads of the file.
pub struct Vhd<'a> {
    file: &'a dyn ReadAt,
    size: u64,
    /// Dynamic disks: where the block allocation table is (read entry by entry).
    dynamic: Option<Dynamic>,
}

/// A dynamic disk's blocks: `entries` BAT entries (big-endian sector numbers) at `bat`, each
/// block's data after its sector bitmap of `bitmap` bytes.
struct Dynamic {
    block: u64,
    bat: u64,
    entries: u64,
    bitmap: u64,
}

impl Vhd<'_> {
    /// Where block `i`'s data lies in the file; `None` reads as zeros (not allocated, or
    /// pointing past the file's end: counted at open).
    fn block_at(&self, d: &Dynamic, i: u64) -> io::Result<Option<u64>> {
        if i >= d.entries {
            return Ok(None);
        }
        let mut e = [0u8; 4];
        if self.file.read_at(entry_at(d, i), &mut e)? != 4 {
            return Ok(None);
        }
        Ok(data_at(u32::from_be_bytes(e), d, self.file.size()))
    }
}

/// Where BAT entry `i` lies in the file. For `i < d.entries` it lies inside the file (the
/// entries are cut to what the file holds at open), so the sum cannot saturate.
fn entry_at(d: &Dynamic, i: u64) -> u64 {
    d.bat.saturating_add(i.saturating_mul(4))
}

/// A BAT entry's block data offset, `None` for an unallocated block or one past `len`.
fn data_at(sector: u32, d: &Dynamic, len: u64) -> Option<u64> {
    if sector == u32::MAX {
        return None;
    }
    // A u32 sector number times 512 is below 2^41, the bitmap at most 64 KiB: no saturation.
    let at = u64::from(sector)
        .saturating_mul(512)
        .saturating_add(d.bitmap);
    (at.saturating_add(d.block) <= len).then_some(at)
}

/// The disk inside `file` when it is a VHD, with its kind (`VHD (fixed)`, `VHD (dynamic)`); a
/// refusal when it is a VHD that cannot be read (a differencing disk, a bad header).
pub fn open<'a>(
    file: &'a dyn ReadAt,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Result<(String, Vhd<'a>), Refusal>> {
    let len = file.size();
    if len < 512 {
        return None;
    }
    let mut footer = [0u8; 512];
    if file.read_at(len.saturating_sub(512), &mut footer).ok()? != 512 {
        return None;
    }
    if &footer[..8] != b"conectix" {
        // A dynamic disk always starts with a copy; its end may be cut off.
        if file.read_at(0, &mut footer).ok()? != 512 || &footer[..8] != b"conectix" {
            return None;
        }
        warnings.push("VHD: no footer at the file's end; the copy at its start is used".into());
    }
    let size = be64(&footer, 48);
    match be32(&footer, 60) {
        2 => {
            let data = len.saturating_sub(512); // len >= 512, checked above
            let mut size = size;
            if size > data {
                warnings.push(Diagnostic::new(format!(
                    "VHD (fixed): the footer says {size} bytes but the file holds {data}; cut"
                )));
                size = data;
            }
            Some(Ok((
                "VHD (fixed)".into(),
                Vhd {
                    file,
                    size,
                    dynamic: None,
                },
            )))
        }
        3 => Some(dynamic(file, &footer, size, warnings)),
        4 => Some(Err(Refusal::new(
            "VHD (differencing)",
            "a differencing disk holds only the changes to its parent disk, which is not read",
        ))),
        other => Some(Err(Refusal::new(
            "VHD",
            format!("unknown disk type {other} in the footer"),
        ))),
    }
}

/// A dynamic disk: the dynamic header and the BAT's place; its entries are read when used.
fn dynamic<'a>(
    file: &'a dyn ReadAt,
    footer: &[u8],
    size: u64,
    warnings: &mut Vec<Diagnostic>,
) -> Result<(String, Vhd<'a>), Refusal> {
    let kind = "VHD (dynamic)";
    let len = file.size();
    let hdr_at = be64(footer, 16);
    let mut hdr = [0u8; 1024];
    if file.read_at(hdr_at, &mut hdr).ok() != Some(1024) || &hdr[..8] != b"cxsparse" {
        return Err(Refusal::new(
            kind,
            format!("no dynamic header at offset {hdr_at}"),
        ));
    }
    let bat = be64(&hdr, 16);
    let mut entries = u64::from(be32(&hdr, 28));
    let block = u64::from(be32(&hdr, 32));
    if block < 512 || !block.is_power_of_two() || block > 1 << 28 {
        return Err(Refusal::new(
            kind,
            format!("block size {block} is not valid"),
        ));
    }
    // The BAT lies in the file: never more entries than it holds.
    let room = len.saturating_sub(bat) / 4;
    if room == 0 {
        return Err(Refusal::new(
            kind,
            format!("the block allocation table at offset {bat} lies past the file's end"),
        ));
    }
    if entries > room {
        warnings.push(Diagnostic::at(
            bat,
            format!(
                "VHD (dynamic): the block allocation table here lists {entries} blocks but the file holds {room} entries; the rest read as zeros"
            ),
        ));
        entries = room;
    }
    // Each block starts with its sector bitmap (one bit a sector, in whole sectors).
    // `block` is at most 2^28 (checked above): the bitmap is at most 64 KiB.
    let bitmap = (block / 512).div_ceil(8).div_ceil(512).saturating_mul(512);
    let d = Dynamic {
        block,
        bat,
        entries,
        bitmap,
    };
    let bad = count_past_end(file, &d);
    if bad > 0 {
        warnings.push(Diagnostic::at(
            bat,
            format!(
                "VHD (dynamic): {bad} block allocation table entries point past the file's end; read as zeros"
            ),
        ));
    }
    let size = size.min(entries.saturating_mul(block));
    Ok((
        kind.into(),
        Vhd {
            file,
            size,
            dynamic: Some(d),
        },
    ))
}

/// BAT entries naming a block past the file's end, read a slice at a time.
fn count_past_end(file: &dyn ReadAt, d: &Dynamic) -> u64 {
    let len = file.size();
    let mut bad = 0u64;
    let mut buf = vec![0u8; (SCAN * 4) as usize];
    let mut i = 0;
    while i < d.entries {
        let n = d.entries.saturating_sub(i).min(SCAN); // i < entries
        let piece = buf
            .get_mut(..n.saturating_mul(4) as usize)
            .unwrap_or_default();
        if file.read_at(entry_at(d, i), piece).ok() != Some(piece.len()) {
            break;
        }
        let past = piece
            .chunks_exact(4)
            .filter(|e| {
                let s = be32(e, 0);
                s != u32::MAX && data_at(s, d, len).is_none()
            })
            .count() as u64;
        // At most `d.entries` in all, and `i + n <= d.entries`.
        bad = bad.saturating_add(past);
        i = i.saturating_add(n);
    }
    bad
}

impl ReadAt for Vhd<'_> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let want = usize::try_from(self.size.saturating_sub(offset))
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let Some(d) = &self.dynamic else {
            let Some(dst) = buf.get_mut(..want) else {
                return Ok(0);
            };
            return self.file.read_at(offset, dst);
        };
        let read = |at: u64, dst: &mut [u8]| self.file.read_at(at, dst);
        let block_at = |i: u64| self.block_at(d, i);
        super::read_blocks(&read, &block_at, d.block, offset, buf, want)
    }

    /// The allocated blocks, each block of the file once: a block whose bytes in the file
    /// overlap one kept already (a table entry pointing a few sectors into another block) is
    /// the same bytes again, and is not carved twice.
    fn backed(&self) -> Option<Vec<(u64, u64)>> {
        let d = self.dynamic.as_ref()?;
        let len = self.file.size();
        let mut seen = Taken::default();
        let mut kept = Vec::new();
        let mut buf = vec![0u8; (SCAN * 4) as usize];
        let mut i = 0;
        while i < d.entries {
            let n = d.entries.saturating_sub(i).min(SCAN); // i < entries
            let piece = buf
                .get_mut(..n.saturating_mul(4) as usize)
                .unwrap_or_default();
            if self.file.read_at(entry_at(d, i), piece).ok() != Some(piece.len()) {
                break;
            }
            for (k, e) in piece.chunks_exact(4).enumerate() {
                if data_at(be32(e, 0), d, len).is_some_and(|at| seen.take(at, d.block)) {
                    kept.push(i.saturating_add(k as u64)); // below d.entries
                }
            }
            i = i.saturating_add(n); // i + n <= d.entries
        }
        Some(super::block_runs(kept.into_iter(), d.block, self.size))
    }
}

/// Ranges of the file already kept, start → end, never overlapping.
#[derive(Default)]
struct Taken(std::collections::BTreeMap<u64, u64>);

impl Taken {
    /// Keep `len` bytes at `at` unless they overlap a range kept already.
    fn take(&mut self, at: u64, len: u64) -> bool {
        let end = at.saturating_add(len);
        // The kept ranges are disjoint: only the last one starting before `end` can reach `at`.
        if self
            .0
            .range(..end)
            .next_back()
            .is_some_and(|(_, e)| *e > at)
        {
            return false;
        }
        self.0.insert(at, end);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dynamic VHD of `blocks` 4 KiB blocks whose BAT holds `bat`.
    fn dynamic(blocks: u32, bat: &[u32], file_len: usize) -> Vec<u8> {
        let mut f = vec![0u8; file_len];
        let mut footer = [0u8; 512];
        footer[..8].copy_from_slice(b"conectix");
        footer[16..24].copy_from_slice(&512u64.to_be_bytes());
        footer[48..56].copy_from_slice(&(u64::from(blocks) * 4096).to_be_bytes());
        footer[60..64].copy_from_slice(&3u32.to_be_bytes());
        f[..512].copy_from_slice(&footer);
        let end = f.len() - 512;
        f[end..].copy_from_slice(&footer);
        f[512..520].copy_from_slice(b"cxsparse");
        f[512 + 16..512 + 24].copy_from_slice(&1536u64.to_be_bytes());
        f[512 + 28..512 + 32].copy_from_slice(&blocks.to_be_bytes());
        f[512 + 32..512 + 36].copy_from_slice(&4096u32.to_be_bytes());
        for (i, e) in bat.iter().enumerate() {
            f[1536 + 4 * i..1540 + 4 * i].copy_from_slice(&e.to_be_bytes());
        }
        f
    }

    #[test]
    fn dynamic_blocks_map_and_unallocated_read_as_zeros() {
        // Block 0 at sector 8 (bitmap 512 bytes, then data at 4608), block 1 unallocated.
        let mut f = dynamic(2, &[8, u32::MAX], 16384);
        f[4608..4612].copy_from_slice(b"DATA");
        let mut w = Vec::new();
        let (kind, d) = open(&f, &mut w).unwrap().unwrap();
        assert_eq!(kind, "VHD (dynamic)");
        assert!(w.is_empty(), "{w:?}");
        let mut buf = vec![0xffu8; 8192];
        assert_eq!(d.read_at(0, &mut buf).unwrap(), 8192);
        assert_eq!(&buf[..4], b"DATA");
        assert!(buf[4096..].iter().all(|b| *b == 0));
        assert_eq!(d.read_at(8192, &mut buf).unwrap(), 0);
    }

    #[test]
    fn hostile_bat_and_header_are_warnings() {
        let f = dynamic(2, &[u32::MAX - 1, 8], 16384);
        let mut w = Vec::new();
        let (_, d) = open(&f, &mut w).unwrap().unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
        let mut buf = vec![0xffu8; 4096];
        d.read_at(0, &mut buf).unwrap();
        assert!(buf.iter().all(|b| *b == 0));
        // A BAT claiming 2^31 entries: only those the file holds are read (the footer's bytes
        // among them, pointing past the end), none allocated.
        let f = dynamic(1 << 31, &[], 16384);
        let mut w = Vec::new();
        let (_, d) = open(&f, &mut w).unwrap().unwrap();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].what.contains("the file holds 3712 entries"), "{w:?}");
        assert_eq!(d.size(), (16384 - 1536) / 4 * 4096);
        // A differencing disk is refused, and says so.
        let mut f = dynamic(2, &[8, 8], 16384);
        let end = f.len() - 512;
        f[end + 63] = 4;
        match open(&f, &mut Vec::new()) {
            Some(Err(r)) => assert_eq!(r.kind, "VHD (differencing)"),
            _ => panic!("not refused"),
        }
    }
}
