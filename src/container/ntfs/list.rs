//! `$ATTRIBUTE_LIST`: where a file's attributes are when they do not fit in its base record
//! (a fragmented file's data runs, hundreds of hard links, many named streams). One entry per
//! attribute (or per piece of a split non-resident value):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0x00 | 4 | attribute type |
//! | 0x04 | 2 | entry length |
//! | 0x06 | 1 | name length (UTF-16 units) |
//! | 0x07 | 1 | name offset |
//! | 0x08 | 8 | first VCN of this piece |
//! | 0x10 | 8 | file reference of the record holding it (the base record itself, or an extension record) |
//! | 0x18 | 2 | attribute id |

use super::record::reference;
use crate::util::bytes::{u16_le, u32_le, u64_le};

/// One entry: the attribute's type and the record (number, sequence) that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub ty: u32,
    pub record: u64,
    pub sequence: u16,
}

/// The entries of a list's bytes, at most `max` (the rest are counted in the second value);
/// a malformed entry ends the list (third value: why).
pub fn entries(b: &[u8], max: usize) -> (Vec<Entry>, usize, Option<String>) {
    let mut out = Vec::new();
    let mut more = 0usize;
    let mut at = 0usize;
    while at < b.len() {
        let (Some(ty), Some(len)) = (u32_le(b, at), u16_le(b, at.saturating_add(4))) else {
            return (
                out,
                more,
                Some(format!("entry at list offset {at} cut short")),
            );
        };
        let len = usize::from(len);
        if len < 0x1A || at.saturating_add(len) > b.len() {
            return (
                out,
                more,
                Some(format!("entry at list offset {at}: length {len}")),
            );
        }
        let (record, sequence) = reference(u64_le(b, at.saturating_add(0x10)).unwrap_or(0));
        if out.len() < max {
            out.push(Entry {
                ty,
                record,
                sequence,
            });
        } else {
            more = more.saturating_add(1);
        }
        at = at.saturating_add(len);
    }
    (out, more, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ty: u32, record: u64) -> Vec<u8> {
        let mut e = vec![0u8; 0x20];
        e[..4].copy_from_slice(&ty.to_le_bytes());
        e[4] = 0x20;
        e[0x10..0x18].copy_from_slice(&(record | 3 << 48).to_le_bytes());
        e
    }

    #[test]
    fn entries_are_bounded_and_a_bad_length_ends_the_list() {
        let mut b = [entry(0x10, 74), entry(0x30, 76), entry(0x80, 77)].concat();
        let (e, more, bad) = entries(&b, 2);
        assert_eq!(
            e[1],
            Entry {
                ty: 0x30,
                record: 76,
                sequence: 3
            }
        );
        assert_eq!((e.len(), more, bad), (2, 1, None));
        b[0x24] = 0; // second entry's length
        let (e, _, bad) = entries(&b, 10);
        assert_eq!(e.len(), 1);
        assert!(bad.unwrap().contains("list offset 32"));
        assert!(entries(&b[..5], 10).2.is_some());
    }
}
