//! `$FILE_NAME`: one name of a file (a hard link is one more) and the directory it is in.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0x00 | 8 | parent directory's file reference (record number, sequence number) |
//! | 0x08 | 32 | times (created, modified, MFT changed, read; see `standard_information.rs`) |
//! | 0x28 | 8 | allocated size (as of the last name change; not used) |
//! | 0x30 | 8 | real size (as of the last name change) |
//! | 0x40 | 1 | name length, UTF-16 units |
//! | 0x41 | 1 | namespace: 0 POSIX, 1 Win32, 2 DOS (8.3 only), 3 Win32 and DOS |
//! | 0x42 | 2·n | the name |

use super::record::reference;
use super::standard_information::Times;
use crate::util::bytes::{slice, u64_le, u8_at};
use crate::util::utf16::decode_utf16le;

/// The DOS (8.3-only) namespace.
pub const DOS: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    pub parent: u64,
    pub parent_sequence: u16,
    pub namespace: u8,
    pub name: String,
    /// The times as of the last name change.
    pub times: Times,
    /// The real size as of the last name change (what a file with no `$DATA` is said to be).
    pub size: u64,
}

impl FileName {
    pub fn parse(b: &[u8]) -> Option<FileName> {
        let (parent, parent_sequence) = reference(u64_le(b, 0)?);
        let len = usize::from(u8_at(b, 0x40)?);
        Some(FileName {
            parent,
            parent_sequence,
            namespace: u8_at(b, 0x41)?,
            name: decode_utf16le(slice(b, 0x42, 2 * len)?),
            times: Times::parse(b, 0x08),
            size: u64_le(b, 0x30)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_and_parent() {
        let mut b = vec![0u8; 0x42 + 14];
        b[..8].copy_from_slice(&(72u64 | 2 << 48).to_le_bytes());
        b[0x08..0x10].copy_from_slice(&11u64.to_le_bytes());
        b[0x30..0x38].copy_from_slice(&4096u64.to_le_bytes());
        b[0x40] = 7;
        b[0x41] = 1;
        for (i, c) in "qmgr.db".encode_utf16().enumerate() {
            b[0x42 + 2 * i..0x44 + 2 * i].copy_from_slice(&c.to_le_bytes());
        }
        let n = FileName::parse(&b).unwrap();
        assert_eq!(
            (n.parent, n.parent_sequence, n.name.as_str()),
            (72, 2, "qmgr.db")
        );
        assert_eq!((n.times.created, n.times.modified, n.size), (11, 0, 4096));
        assert!(FileName::parse(&b[..0x4F]).is_none());
    }
}
