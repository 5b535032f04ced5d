//! An MFT file record (`FILE`): one entry of the MFT, after its update-sequence fix-ups.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0x00 | 4 | `FILE` |
//! | 0x04 | 2 | offset of the update sequence array |
//! | 0x06 | 2 | its count: the sequence number, then one saved pair per 512-byte stride |
//! | 0x10 | 2 | sequence number (bumped each time the entry is freed) |
//! | 0x12 | 2 | hard link count |
//! | 0x14 | 2 | offset of the first attribute |
//! | 0x16 | 2 | flags: 0x01 in use, 0x02 directory |
//! | 0x18 | 4 | bytes used |
//! | 0x20 | 8 | base record: 0 for a base record, else the file reference of the record this extension record belongs to |
//! | 0x2C | 4 | this record's number (NTFS 3.1 headers only: update sequence array at 0x30 or later) |
//!
//! The last two bytes of every 512-byte stride hold the update sequence number on disk; the
//! real bytes are saved in the array. The stride is 512 bytes whatever the sector size (a 4Kn
//! volume's 4 KiB records carry 8 pairs), as Windows and `ntfs-3g` write it.

use super::attribute::Attribute;
use crate::util::bytes::{array, u16_le, u32_le, u64_le};

/// The update sequence stride.
pub const STRIDE: usize = 512;

/// Attribute type ending a record's attribute list.
const END: u32 = 0xFFFF_FFFF;

/// Apply the update-sequence fix-ups of a record in place; `Err` names what does not match.
pub fn fixup(rec: &mut [u8]) -> Result<(), &'static str> {
    let usa = usize::from(u16_le(rec, 4).ok_or("record cut short")?);
    let count = usize::from(u16_le(rec, 6).ok_or("record cut short")?);
    let strides = rec.len().checked_div(STRIDE).unwrap_or(0);
    let array_end = count.saturating_mul(2).saturating_add(usa);
    if count < 2 || count.saturating_sub(1) > strides || usa < 0x28 || array_end > rec.len() {
        return Err("update sequence array out of place");
    }
    let usn: [u8; 2] = array(rec, usa).ok_or("update sequence array out of place")?;
    for i in 1..count {
        // The last two bytes of stride `i`, and the pair saved for them.
        let end = i.saturating_mul(STRIDE);
        let saved: [u8; 2] = usa
            .checked_add(i.saturating_mul(2))
            .and_then(|at| array(rec, at))
            .ok_or("update sequence array out of place")?;
        let tail = end
            .checked_sub(2)
            .and_then(|at| rec.get_mut(at..end))
            .ok_or("update sequence array out of place")?;
        if *tail != usn {
            return Err("update sequence mismatch (torn write)");
        }
        tail.copy_from_slice(&saved);
    }
    Ok(())
}

/// A file record whose fix-ups are applied.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    b: &'a [u8],
}

/// A file reference: record number (48 bits) and sequence number (16 bits).
pub fn reference(raw: u64) -> (u64, u16) {
    (raw & 0xFFFF_FFFF_FFFF, (raw >> 48) as u16)
}

impl<'a> Record<'a> {
    /// The record in `b` (fix-ups already applied), when it starts with `FILE`.
    pub fn new(b: &'a [u8]) -> Option<Record<'a>> {
        (b.get(..4) == Some(b"FILE")).then_some(Record { b })
    }

    fn flags(&self) -> u16 {
        u16_le(self.b, 0x16).unwrap_or(0)
    }
    pub fn in_use(&self) -> bool {
        self.flags() & 1 != 0
    }
    pub fn is_dir(&self) -> bool {
        self.flags() & 2 != 0
    }
    pub fn sequence(&self) -> u16 {
        u16_le(self.b, 0x10).unwrap_or(0)
    }
    /// The base record's number, 0 for a base record.
    pub fn base(&self) -> u64 {
        reference(u64_le(self.b, 0x20).unwrap_or(0)).0
    }
    /// The record's own number as stored (NTFS 3.1 headers), `None` in an older header.
    pub fn number(&self) -> Option<u32> {
        let usa = u16_le(self.b, 4)?;
        (usa >= 0x30).then(|| u32_le(self.b, 0x2C)).flatten()
    }

    /// The record's attributes, in order, up to the end marker or the bytes used; a malformed
    /// attribute is an error that ends the walk.
    pub fn attributes(&self) -> Attributes<'a> {
        let used = u32_le(self.b, 0x18).map_or(0, |u| u as usize);
        Attributes {
            b: self.b.get(..used.min(self.b.len())).unwrap_or_default(),
            at: u16_le(self.b, 0x14).map_or(usize::MAX, usize::from),
            done: false,
        }
    }
}

/// The attributes of one record (see [`Record::attributes`]).
pub struct Attributes<'a> {
    b: &'a [u8],
    at: usize,
    done: bool,
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Result<Attribute<'a>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let at = self.at;
        let ty = u32_le(self.b, at);
        if ty.is_none_or(|t| t == END) {
            self.done = true;
            return None;
        }
        let len = u32_le(self.b, at.saturating_add(4)).map_or(0, |l| l as usize);
        // Every attribute is at least its 16-byte header and 8-byte aligned.
        let body = (len >= 16 && len % 8 == 0)
            .then(|| self.b.get(at..at.checked_add(len)?))
            .flatten();
        let Some(body) = body else {
            self.done = true;
            return Some(Err(format!(
                "attribute at record offset {at:#x}: length {len} out of bounds"
            )));
        };
        self.at = at.saturating_add(len);
        Some(Attribute::parse(body).map_err(|e| format!("attribute at record offset {at:#x}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixups_use_512_byte_strides_whatever_the_record_size() {
        for size in [1024usize, 4096] {
            let mut rec = vec![0u8; size];
            rec[..4].copy_from_slice(b"FILE");
            rec[4] = 0x30;
            let count = size / STRIDE + 1;
            rec[6] = count as u8;
            rec[0x30..0x32].copy_from_slice(&[0xaa, 0xbb]);
            for i in 1..count {
                rec[0x30 + 2 * i] = i as u8;
                rec[0x31 + 2 * i] = 0x10;
                rec[i * STRIDE - 2..i * STRIDE].copy_from_slice(&[0xaa, 0xbb]);
            }
            let mut ok = rec.clone();
            fixup(&mut ok).unwrap();
            for i in 1..count {
                assert_eq!(&ok[i * STRIDE - 2..i * STRIDE], &[i as u8, 0x10]);
            }
            let mut torn = rec.clone();
            torn[size - 1] = 0;
            assert!(fixup(&mut torn).is_err());
            // An array past the record, or more strides than the record holds, is refused.
            let mut bad = rec.clone();
            bad[4..6].copy_from_slice(&(size as u16 - 2).to_le_bytes());
            assert!(fixup(&mut bad).is_err());
            let mut bad = rec;
            bad[6] = count as u8 + 1;
            assert!(fixup(&mut bad).is_err());
        }
        assert!(fixup(&mut [0u8; 3]).is_err());
    }

    #[test]
    fn a_bad_attribute_length_ends_the_walk() {
        let mut rec = vec![0u8; 1024];
        rec[..4].copy_from_slice(b"FILE");
        rec[0x14] = 0x38;
        rec[0x18..0x1C].copy_from_slice(&1024u32.to_le_bytes());
        rec[0x38..0x3C].copy_from_slice(&0x10u32.to_le_bytes());
        rec[0x3C..0x40].copy_from_slice(&12u32.to_le_bytes()); // not 8-aligned, < 16
        let r = Record::new(&rec).unwrap();
        let got: Vec<_> = r.attributes().collect();
        assert_eq!(got.len(), 1);
        assert!(got[0].is_err());
        // A first-attribute offset past the record: no attributes.
        rec[0x14] = 0xff;
        rec[0x15] = 0xff;
        assert_eq!(Record::new(&rec).unwrap().attributes().count(), 0);
    }
}
