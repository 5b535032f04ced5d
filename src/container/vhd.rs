//! VHD (Virtual PC / Hyper-V "vpc"): fixed and dynamic disks.
//!
//! A fixed VHD is the raw disk followed by a 512-byte footer (`conectix`). A dynamic VHD has a
//! copy of the footer at its start, a dynamic header (`cxsparse`) and a block allocation table
//! (BAT) of big-endian sector numbers; each allocated block is a sector bitmap followed by the
//! block's data, an unallocated block reads as zeros. Differencing disks (which need their
//! parent) are refused with a warning.

use std::io;

use super::field::{be32, be64};
use super::ReadAt;
use crate::util::diag::Diagnostic;

/// BAT entries accepted (a 2 TiB disk at 2 MiB blocks has 1 Mi entries).
const MAX_BAT: u32 = 1 << 22;

/// A VHD's disk, by positioned reads of the file.
pub struct Vhd<'a> {
    file: &'a dyn ReadAt,
    size: u64,
    /// Dynamic disks: block size and the file offset of each block's data (`None`: zeros).
    blocks: Option<(u64, Vec<Option<u64>>)>,
}

/// The disk inside `file` when it is a VHD, with its kind (`VHD (fixed)`, `VHD (dynamic)`).
pub fn open<'a>(file: &'a dyn ReadAt, warnings: &mut Vec<Diagnostic>) -> Option<(String, Vhd<'a>)> {
    let len = file.size();
    if len < 512 {
        return None;
    }
    let mut footer = [0u8; 512];
    if file.read_at(len - 512, &mut footer).ok()? != 512 {
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
    let kind = be32(&footer, 60);
    match kind {
        2 => {
            let data = len - 512;
            let mut size = size;
            if size > data {
                warnings.push(Diagnostic::from(format!(
                    "VHD (fixed): the footer says {size} bytes but the file holds {data}; cut"
                )));
                size = data;
            }
            Some((
                "VHD (fixed)".into(),
                Vhd {
                    file,
                    size,
                    blocks: None,
                },
            ))
        }
        3 => {
            let hdr_at = be64(&footer, 16);
            let mut hdr = [0u8; 1024];
            if file.read_at(hdr_at, &mut hdr).ok()? != 1024 || &hdr[..8] != b"cxsparse" {
                warnings.push(Diagnostic::from(format!(
                    "VHD (dynamic): no dynamic header at offset {hdr_at}"
                )));
                return None;
            }
            let bat_at = be64(&hdr, 16);
            let entries = be32(&hdr, 28);
            let block = u64::from(be32(&hdr, 32));
            if block < 512 || !block.is_power_of_two() || block > 1 << 28 {
                warnings.push(Diagnostic::from(format!(
                    "VHD (dynamic): block size {block} is not valid"
                )));
                return None;
            }
            if entries > MAX_BAT {
                warnings.push(Diagnostic::from(format!(
                    "VHD (dynamic): {entries} BAT entries, more than the {MAX_BAT} read"
                )));
                return None;
            }
            let mut bat = vec![0u8; entries as usize * 4];
            if file.read_at(bat_at, &mut bat).ok()? != bat.len() {
                warnings.push(Diagnostic::from(format!(
                    "VHD (dynamic): the BAT at offset {bat_at} lies past the file's end"
                )));
                return None;
            }
            // Each block starts with its sector bitmap (one bit a sector, in whole sectors).
            let bitmap = (block / 512).div_ceil(8).div_ceil(512) * 512;
            let mut bad = 0usize;
            let blocks = bat
                .chunks_exact(4)
                .map(|e| {
                    let sector = be32(e, 0);
                    if sector == u32::MAX {
                        return None;
                    }
                    let at = u64::from(sector) * 512 + bitmap;
                    if at.saturating_add(block) > len {
                        bad += 1;
                        return None;
                    }
                    Some(at)
                })
                .collect();
            if bad > 0 {
                warnings.push(Diagnostic::from(format!(
                    "VHD (dynamic): {bad} BAT entries point past the file's end; read as zeros"
                )));
            }
            let size = size.min(u64::from(entries) * block);
            Some((
                "VHD (dynamic)".into(),
                Vhd {
                    file,
                    size,
                    blocks: Some((block, blocks)),
                },
            ))
        }
        4 => {
            warnings.push("VHD: a differencing disk (needs its parent): not read".into());
            None
        }
        other => {
            warnings.push(Diagnostic::from(format!("VHD: unknown disk type {other}")));
            None
        }
    }
}

impl ReadAt for Vhd<'_> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let want = usize::try_from(self.size.saturating_sub(offset))
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let Some((block, blocks)) = &self.blocks else {
            return self.file.read_at(offset, &mut buf[..want]);
        };
        let read = |at: u64, dst: &mut [u8]| self.file.read_at(at, dst);
        super::read_blocks(&read, blocks, *block, offset, buf, want)
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
        let (kind, d) = open(&f, &mut w).unwrap();
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
        let (_, d) = open(&f, &mut w).unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
        let mut buf = vec![0xffu8; 4096];
        d.read_at(0, &mut buf).unwrap();
        assert!(buf.iter().all(|b| *b == 0));
        // A BAT claiming 2^31 entries is refused, not allocated.
        let f = dynamic(1 << 31, &[], 16384);
        let mut w = Vec::new();
        assert!(open(&f, &mut w).is_none());
        assert_eq!(w.len(), 1, "{w:?}");
    }
}
