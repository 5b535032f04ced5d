//! `$UpCase` (MFT entry 10): the volume's own upper-case table, one UTF-16 unit per unit
//! (65,536 of them, 128 KiB). File names compare case-insensitively through it, as Windows
//! compares them, and a directory index is sorted by it.

use std::cmp::Ordering;

/// MFT entry of `$UpCase`.
pub const ENTRY: u64 = 10;
/// The table's size.
pub const SIZE: u64 = 2 << 16;

pub struct UpCase(Vec<u16>);

impl UpCase {
    /// The table from its bytes; short tables leave the units past them unchanged.
    pub fn new(bytes: &[u8]) -> UpCase {
        UpCase(
            bytes
                .chunks_exact(2)
                .filter_map(|c| c.try_into().ok().map(u16::from_le_bytes))
                .collect(),
        )
    }

    fn up(&self, u: u16) -> u16 {
        self.0.get(usize::from(u)).copied().unwrap_or(u)
    }

    /// Compare two names as the index collates them (upper-cased, unit by unit).
    pub fn compare(&self, a: &[u16], b: &[u16]) -> Ordering {
        let up = |s: &[u16]| s.iter().map(|u| self.up(*u)).collect::<Vec<u16>>();
        up(a).cmp(&up(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_through_the_table() {
        let mut bytes = Vec::new();
        for u in 0..=u16::MAX {
            let up = if (0x61..=0x7a).contains(&u) {
                u - 0x20
            } else {
                u
            };
            bytes.extend(up.to_le_bytes());
        }
        let t = UpCase::new(&bytes);
        let w = |s: &str| s.encode_utf16().collect::<Vec<u16>>();
        assert_eq!(t.compare(&w("qmgr.DB"), &w("QMGR.db")), Ordering::Equal);
        assert_eq!(t.compare(&w("a"), &w("B")), Ordering::Less);
        // `_` (0x5F) sorts after the upper-case letters, as on NTFS.
        assert_eq!(t.compare(&w("_x"), &w("b")), Ordering::Greater);
    }
}
