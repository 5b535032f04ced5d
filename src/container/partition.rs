//! Partition tables: MBR (with the chain of extended boot records) and GPT.
//!
//! An MBR counts in 512-byte sectors, or in 4096-byte ones on a 4Kn disk: the table does not
//! say which, so the size under which more of its entries point at a boot sector (`55 AA` at
//! +510) is taken, 512 when tied (as `mmls -b 4096` must be told). GPT is looked for at 512 and
//! at 4096 bytes. Every partition is clamped to the image, every chain is bounded and
//! loop-checked.

use super::ReadAt;
use crate::util::bytes;
use crate::util::diag::Diagnostic;

/// Which table a partition came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Mbr,
    Gpt,
}

/// A partition: its number (1-based, as tools count: MBR primaries 1-4, logicals from 5; GPT
/// entries in table order), byte range in the image, and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub number: u32,
    pub scheme: Scheme,
    /// The sector size the table counts in (4096 on a 4Kn disk).
    pub sector: u64,
    pub offset: u64,
    pub len: u64,
    /// MBR type byte, or the GPT type GUID as text.
    pub kind: String,
}

impl Partition {
    /// The chain label: `partition 1 (MBR, offset 1048576)`; an MBR in 4096-byte sectors says
    /// so (a GPT's header says its own sector size).
    pub fn label(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Mbr => "MBR",
            Scheme::Gpt => "GPT",
        };
        if self.sector == SECTOR || self.scheme == Scheme::Gpt {
            format!(
                "partition {} ({scheme}, offset {})",
                self.number, self.offset
            )
        } else {
            format!(
                "partition {} ({scheme}, {}-byte sectors, offset {})",
                self.number, self.sector, self.offset
            )
        }
    }
}

const SECTOR: u64 = 512;
/// Logical partitions followed in an extended partition's chain.
const MAX_LOGICAL: usize = 128;
/// GPT entries read.
const MAX_GPT_ENTRIES: u32 = 1024;

fn read(image: &dyn ReadAt, offset: u64, len: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let got = image.read_at(offset, &mut buf).ok()?;
    (got == len).then_some(buf)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    bytes::u16_le(b, at).unwrap_or(0)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    bytes::u32_le(b, at).unwrap_or(0)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    bytes::u64_le(b, at).unwrap_or(0)
}

/// Offsets of the four MBR partition entries (16 bytes each) in the boot sector.
const MBR_ENTRIES: [usize; 4] = [446, 462, 478, 494];

/// One MBR partition entry: (type, start LBA, sector count), `None` when empty or invalid.
fn mbr_entry(sector: &[u8], i: usize) -> Option<(u8, u64, u64)> {
    let e = bytes::slice(sector, *MBR_ENTRIES.get(i)?, 16)?;
    let status = bytes::u8_at(e, 0)?;
    let kind = bytes::u8_at(e, 4)?;
    let start = u64::from(u32_at(e, 8));
    let count = u64::from(u32_at(e, 12));
    if kind == 0 || count == 0 || (status != 0 && status != 0x80) {
        return None;
    }
    Some((kind, start, count))
}

fn is_extended(kind: u8) -> bool {
    matches!(kind, 0x05 | 0x0f | 0x85)
}

/// The partitions of `image`, or `None` when it has no partition table.
pub fn read_table(image: &dyn ReadAt, warnings: &mut Vec<Diagnostic>) -> Option<Vec<Partition>> {
    let size = image.size();
    let mbr = read(image, 0, SECTOR as usize)?;
    if u16_at(&mbr, 510) != 0xaa55 {
        return None;
    }
    // Entry status bytes other than 0/0x80 mean this is not an MBR (a boot sector of some
    // file system): no partitions at all.
    let statuses_ok = MBR_ENTRIES
        .iter()
        .all(|&at| matches!(mbr.get(at), Some(0 | 0x80)));
    if !statuses_ok {
        return None;
    }
    let entries: Vec<(usize, (u8, u64, u64))> = (0..4)
        .filter_map(|i| mbr_entry(&mbr, i).map(|e| (i, e)))
        .collect();
    if entries.is_empty() {
        return None;
    }
    if entries.iter().any(|(_, (k, _, _))| *k == 0xee) {
        if let Some(parts) = read_gpt(image, warnings) {
            return Some(parts);
        }
        warnings.push(Diagnostic::from(
            "protective MBR (type 0xee) but no readable GPT header at offset 512 or 4096",
        ));
    }
    let sector = mbr_sector(image, &entries);
    let mut listed = Vec::new();
    let mut next_logical = 5u32;
    for (i, (kind, start, count)) in entries {
        if is_extended(kind) {
            let mut chain = Vec::new();
            read_extended(image, sector, start, count, &mut chain, warnings);
            for (k, s, c) in chain {
                listed.push((next_logical, k, s, c));
                // At most 4 + MAX_LOGICAL numbers: never saturates.
                next_logical = next_logical.saturating_add(1);
            }
        } else {
            // `i` is an MBR entry's index, 0 to 3.
            listed.push(((i as u32).saturating_add(1), kind, start, count));
        }
    }
    let mut parts = Vec::new();
    let mut push = |parts: &mut Vec<Partition>, number: u32, kind: u8, start: u64, count: u64| {
        let offset = start.saturating_mul(sector);
        let mut len = count.saturating_mul(sector);
        if offset >= size {
            warnings.push(Diagnostic::from(format!(
                "partition {number} (MBR) starts at offset {offset}, past the image's end ({size})"
            )));
            return;
        }
        if offset.saturating_add(len) > size {
            warnings.push(Diagnostic::from(format!(
                "partition {number} (MBR, offset {offset}) ends past the image's end: cut to the image"
            )));
            len = size.saturating_sub(offset); // offset < size, checked above
        }
        parts.push(Partition {
            number,
            scheme: Scheme::Mbr,
            sector,
            offset,
            len,
            kind: format!("0x{kind:02x}"),
        });
    };
    for (number, kind, start, count) in listed {
        push(&mut parts, number, kind, start, count);
    }
    Some(parts)
}

/// The sector size an MBR's entries count in (see the module's notes).
fn mbr_sector(image: &dyn ReadAt, entries: &[(usize, (u8, u64, u64))]) -> u64 {
    let boots = |sector: u64| {
        entries
            .iter()
            .filter(|(_, (_, start, _))| {
                read(image, start.saturating_mul(sector), 512)
                    .is_some_and(|b| u16_at(&b, 510) == 0xaa55)
            })
            .count()
    };
    if boots(4096) > boots(SECTOR) {
        4096
    } else {
        SECTOR
    }
}

/// Follow the chain of extended boot records from the extended partition at `ext_start`
/// (sectors of `sector` bytes): each holds one logical partition (relative to itself) and a
/// link to the next (relative to the extended partition).
fn read_extended(
    image: &dyn ReadAt,
    sector_size: u64,
    ext_start: u64,
    ext_count: u64,
    out: &mut Vec<(u8, u64, u64)>,
    warnings: &mut Vec<Diagnostic>,
) {
    let mut ebr = ext_start;
    let mut seen = std::collections::HashSet::new();
    while out.len() < MAX_LOGICAL {
        if !seen.insert(ebr) {
            warnings.push(Diagnostic::from(format!(
                "extended partition: the chain of boot records loops back to offset {}",
                ebr.saturating_mul(sector_size)
            )));
            return;
        }
        let Some(sector) = read(image, ebr.saturating_mul(sector_size), 512) else {
            warnings.push(Diagnostic::from(format!(
                "extended partition: boot record at offset {} is past the image's end",
                ebr.saturating_mul(sector_size)
            )));
            return;
        };
        if u16_at(&sector, 510) != 0xaa55 {
            warnings.push(Diagnostic::from(format!(
                "extended partition: no boot record signature at offset {}",
                ebr.saturating_mul(sector_size)
            )));
            return;
        }
        if let Some((kind, start, count)) = mbr_entry(&sector, 0) {
            if !is_extended(kind) {
                out.push((kind, ebr.saturating_add(start), count));
            }
        }
        match mbr_entry(&sector, 1) {
            Some((kind, start, _)) if is_extended(kind) => {
                if start >= ext_count {
                    warnings.push(Diagnostic::from(format!(
                        "extended partition: next boot record (sector {start}) lies outside the extended partition"
                    )));
                    return;
                }
                ebr = ext_start.saturating_add(start);
            }
            _ => return,
        }
    }
    warnings.push(Diagnostic::from(format!(
        "extended partition: more than {MAX_LOGICAL} logical partitions; the rest are ignored"
    )));
}

/// A GPT GUID (mixed-endian, as every Windows GUID) in canonical form; empty when cut short.
fn guid_text(b: &[u8]) -> String {
    crate::util::guid::Guid::from_slice(b).map_or_else(String::new, |g| g.to_string())
}

/// The GPT's partitions, from the header at LBA 1 (512- or 4096-byte sectors).
fn read_gpt(image: &dyn ReadAt, warnings: &mut Vec<Diagnostic>) -> Option<Vec<Partition>> {
    let size = image.size();
    for sector in [512u64, 4096] {
        let Some(hdr) = read(image, sector, 92) else {
            continue;
        };
        if hdr.get(..8) != Some(b"EFI PART") {
            continue;
        }
        let table_lba = u64_at(&hdr, 72);
        let count = u32_at(&hdr, 80);
        let entry_size = u32_at(&hdr, 84);
        if !(128..=4096).contains(&entry_size) || entry_size % 8 != 0 {
            warnings.push(Diagnostic::from(format!(
                "GPT at offset {sector}: entry size {entry_size} is not valid"
            )));
            return Some(Vec::new());
        }
        if count > MAX_GPT_ENTRIES {
            warnings.push(Diagnostic::from(format!(
                "GPT at offset {sector}: {count} entries, only the first {MAX_GPT_ENTRIES} read"
            )));
        }
        let count = count.min(MAX_GPT_ENTRIES);
        let table_at = table_lba.saturating_mul(sector);
        // At most 1024 entries of at most 4096 bytes (checked above): 4 MiB.
        let table_len = (count as usize).saturating_mul(entry_size as usize);
        let Some(table) = read(image, table_at, table_len) else {
            warnings.push(Diagnostic::from(format!(
                "GPT at offset {sector}: partition entries at offset {table_at} lie past the image's end"
            )));
            return Some(Vec::new());
        };
        let mut parts = Vec::new();
        for i in 0..count as usize {
            let Some(e) = bytes::slice(
                &table,
                i.saturating_mul(entry_size as usize),
                entry_size as usize,
            ) else {
                break;
            };
            if e.get(..16).is_none_or(|t| t.iter().all(|b| *b == 0)) {
                continue;
            }
            let first = u64_at(e, 32);
            let last = u64_at(e, 40);
            // `i` < MAX_GPT_ENTRIES.
            let number = (i as u32).saturating_add(1);
            if last < first {
                warnings.push(Diagnostic::from(format!(
                    "GPT entry {number}: last sector {last} before first {first}"
                )));
                continue;
            }
            let offset = first.saturating_mul(sector);
            let mut len = last
                .saturating_sub(first) // last >= first, checked above
                .saturating_add(1)
                .saturating_mul(sector);
            if offset >= size {
                warnings.push(Diagnostic::from(format!(
                    "partition {number} (GPT) starts at offset {offset}, past the image's end ({size})"
                )));
                continue;
            }
            if offset.saturating_add(len) > size {
                warnings.push(Diagnostic::from(format!(
                    "partition {number} (GPT, offset {offset}) ends past the image's end: cut to the image"
                )));
                len = size.saturating_sub(offset); // offset < size, checked above
            }
            parts.push(Partition {
                number,
                scheme: Scheme::Gpt,
                sector,
                offset,
                len,
                kind: guid_text(e.get(..16).unwrap_or_default()),
            });
        }
        return Some(parts);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(b: &mut [u8], at: usize, kind: u8, start: u32, count: u32) {
        b[at + 4] = kind;
        b[at + 8..at + 12].copy_from_slice(&start.to_le_bytes());
        b[at + 12..at + 16].copy_from_slice(&count.to_le_bytes());
    }

    fn disk(sectors: usize) -> Vec<u8> {
        let mut d = vec![0u8; sectors * 512];
        d[510] = 0x55;
        d[511] = 0xaa;
        d
    }

    #[test]
    fn mbr_primary_and_extended_chain() {
        let mut d = disk(4096);
        entry(&mut d, 446, 0x07, 2048, 100);
        entry(&mut d, 462, 0x05, 3000, 1000);
        // EBR 1 at 3000: logical at +10, next EBR at ext+200.
        let e1 = 3000 * 512;
        d[e1 + 510] = 0x55;
        d[e1 + 511] = 0xaa;
        entry(&mut d[e1..], 446, 0x07, 10, 50);
        entry(&mut d[e1..], 462, 0x05, 200, 100);
        let e2 = 3200 * 512;
        d[e2 + 510] = 0x55;
        d[e2 + 511] = 0xaa;
        entry(&mut d[e2..], 446, 0x07, 10, 20);
        let mut w = Vec::new();
        let parts = read_table(&d, &mut w).unwrap();
        let got: Vec<(u32, u64, u64)> = parts.iter().map(|p| (p.number, p.offset, p.len)).collect();
        assert_eq!(
            got,
            vec![
                (1, 2048 * 512, 100 * 512),
                (5, 3010 * 512, 50 * 512),
                (6, 3210 * 512, 20 * 512)
            ]
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(parts[0].label(), "partition 1 (MBR, offset 1048576)");
    }

    #[test]
    fn an_mbr_of_a_4kn_disk_counts_in_4096_byte_sectors() {
        // A partition at LBA 256: a boot sector at 256 × 4096 (1 MiB), nothing at 256 × 512.
        let mut d = disk(4096);
        entry(&mut d, 446, 0x07, 256, 200);
        d[(1 << 20) + 510] = 0x55;
        d[(1 << 20) + 511] = 0xaa;
        let mut w = Vec::new();
        let parts = read_table(&d, &mut w).unwrap();
        assert_eq!((parts[0].offset, parts[0].sector), (1 << 20, 4096));
        assert_eq!(
            parts[0].label(),
            "partition 1 (MBR, 4096-byte sectors, offset 1048576)"
        );
        assert_eq!(parts[0].len, 200 * 4096);
        // With a boot sector at 256 × 512 as well, 512 wins the tie.
        d[256 * 512 + 510] = 0x55;
        d[256 * 512 + 511] = 0xaa;
        let parts = read_table(&d, &mut w).unwrap();
        assert_eq!(parts[0].sector, 512);
    }

    #[test]
    fn looping_extended_chain_is_a_warning() {
        let mut d = disk(4096);
        entry(&mut d, 446, 0x05, 3000, 1000);
        let e1 = 3000 * 512;
        d[e1 + 510] = 0x55;
        d[e1 + 511] = 0xaa;
        entry(&mut d[e1..], 446, 0x07, 10, 50);
        // Next EBR at ext+0: itself.
        entry(&mut d[e1..], 462, 0x05, 0, 100);
        let mut w = Vec::new();
        let parts = read_table(&d, &mut w).unwrap();
        assert_eq!(parts.len(), 1);
        assert!(w.iter().any(|w| w.what.contains("loops")), "{w:?}");
    }

    #[test]
    fn gpt_entries() {
        let mut d = disk(200);
        entry(&mut d, 446, 0xee, 1, 199);
        d[512..520].copy_from_slice(b"EFI PART");
        d[512 + 72..512 + 80].copy_from_slice(&2u64.to_le_bytes());
        d[512 + 80..512 + 84].copy_from_slice(&128u32.to_le_bytes());
        d[512 + 84..512 + 88].copy_from_slice(&128u32.to_le_bytes());
        let e = 1024 + 128; // second entry
        d[e] = 0xa2;
        d[e + 32..e + 40].copy_from_slice(&40u64.to_le_bytes());
        d[e + 40..e + 48].copy_from_slice(&99u64.to_le_bytes());
        // An entry past the end of the image.
        let e = 1024 + 256;
        d[e] = 0xa2;
        d[e + 32..e + 40].copy_from_slice(&4000u64.to_le_bytes());
        d[e + 40..e + 48].copy_from_slice(&u64::MAX.to_le_bytes());
        let mut w = Vec::new();
        let parts = read_table(&d, &mut w).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(
            (parts[0].number, parts[0].offset, parts[0].len),
            (2, 40 * 512, 60 * 512)
        );
        assert_eq!(parts[0].scheme, Scheme::Gpt);
        assert_eq!(w.len(), 1, "{w:?}");
    }

    #[test]
    fn partition_past_end_is_cut() {
        let mut d = disk(100);
        entry(&mut d, 446, 0x07, 50, u32::MAX);
        let mut w = Vec::new();
        let parts = read_table(&d, &mut w).unwrap();
        assert_eq!(parts[0].len, 50 * 512);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn no_signature_no_table() {
        let d = vec![0u8; 4096];
        assert!(read_table(&d, &mut Vec::new()).is_none());
    }
}
