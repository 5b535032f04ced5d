//! `$STANDARD_INFORMATION`: a file's times (and attributes, owner and quota, not used).
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0x00 | 8 | created (FILETIME) |
//! | 0x08 | 8 | modified (last written) |
//! | 0x10 | 8 | MFT entry changed |
//! | 0x18 | 8 | accessed (last read) |
//! | 0x20 | 4 | DOS file attributes (not used) |
//!
//! `$FILE_NAME` holds the same four times, in the same order, at its offset 0x08 (see
//! `file_name.rs`): Windows updates them only when the name changes, so where they differ from
//! these they tell of an earlier time.

use crate::util::bytes::u64_le;

/// The four NTFS times: created, modified, MFT entry changed, accessed (FILETIMEs, 0 when
/// absent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Times {
    pub created: u64,
    pub modified: u64,
    pub changed: u64,
    pub accessed: u64,
}

impl Times {
    /// The four times starting at `at` in `b`; a time cut short is 0.
    pub fn parse(b: &[u8], at: usize) -> Times {
        let t = |i: usize| {
            i.checked_mul(8)
                .and_then(|o| o.checked_add(at))
                .and_then(|o| u64_le(b, o))
                .unwrap_or(0)
        };
        Times {
            created: t(0),
            modified: t(1),
            changed: t(2),
            accessed: t(3),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_times_in_order_and_zero_when_cut_short() {
        let b: Vec<u8> = (1u64..=4).flat_map(u64::to_le_bytes).collect();
        let t = Times::parse(&b, 0);
        assert_eq!((t.created, t.modified, t.changed, t.accessed), (1, 2, 3, 4));
        let t = Times::parse(&b[..20], 0);
        assert_eq!((t.created, t.modified, t.changed), (1, 2, 0));
        assert_eq!(Times::parse(&b, usize::MAX), Times::default());
    }
}
