//! An attribute of a file record: its header, and a resident value or non-resident runs.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0x00 | 4 | type (0x10 `$STANDARD_INFORMATION`, 0x20 `$ATTRIBUTE_LIST`, 0x30 `$FILE_NAME`, 0x80 `$DATA`, ...) |
//! | 0x04 | 4 | length of the attribute (header and value) |
//! | 0x08 | 1 | non-resident flag |
//! | 0x09 | 1 | name length, in UTF-16 units (a named `$DATA` is an alternate data stream) |
//! | 0x0A | 2 | name offset |
//! | 0x0C | 2 | flags: 0x0001 compressed, 0x4000 encrypted, 0x8000 sparse |
//! | 0x0E | 2 | attribute id (not used) |
//!
//! Resident: 0x10 value length (4), 0x14 value offset (2).
//!
//! Non-resident: 0x10 first VCN (8), 0x18 last VCN (8), 0x20 offset of the data runs (2),
//! 0x28 allocated size (8), 0x30 data size (8), 0x38 initialized size (8, the valid data
//! length: bytes past it read as zeros). The sizes are those of the whole value and are
//! meaningful in the piece whose first VCN is 0 (a value split over extension records has one
//! piece per record).

use crate::util::bytes::{slice, u16_le, u32_le, u64_le, u8_at};
use crate::util::utf16::decode_utf16le;

pub const STANDARD_INFORMATION: u32 = 0x10;
pub const ATTRIBUTE_LIST: u32 = 0x20;
pub const FILE_NAME: u32 = 0x30;
pub const DATA: u32 = 0x80;
pub const INDEX_ROOT: u32 = 0x90;
pub const INDEX_ALLOCATION: u32 = 0xA0;
pub const BITMAP: u32 = 0xB0;

pub const COMPRESSED: u16 = 0x0001;
pub const ENCRYPTED: u16 = 0x4000;

/// One attribute, borrowed from its record.
#[derive(Debug, Clone)]
pub struct Attribute<'a> {
    pub ty: u32,
    pub name: String,
    pub flags: u16,
    pub value: Value<'a>,
}

/// Where an attribute's value is.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    Resident(&'a [u8]),
    NonResident {
        first_vcn: u64,
        last_vcn: u64,
        /// The mapping pairs (see `runs.rs`).
        runs: &'a [u8],
        size: u64,
        initialized: u64,
    },
}

impl<'a> Attribute<'a> {
    /// Parse one attribute from its bytes (exactly its length).
    pub fn parse(b: &'a [u8]) -> Result<Attribute<'a>, String> {
        let ty = u32_le(b, 0).ok_or("cut short")?;
        let name_len = usize::from(u8_at(b, 9).ok_or("cut short")?);
        let name_at = usize::from(u16_le(b, 0x0A).ok_or("cut short")?);
        let name = slice(b, name_at, 2 * name_len).ok_or("name out of bounds")?;
        let flags = u16_le(b, 0x0C).ok_or("cut short")?;
        let value = if u8_at(b, 8) == Some(0) {
            let len = u32_le(b, 0x10).ok_or("cut short")? as usize;
            let at = usize::from(u16_le(b, 0x14).ok_or("cut short")?);
            Value::Resident(slice(b, at, len).ok_or("resident value out of bounds")?)
        } else {
            let at = usize::from(u16_le(b, 0x20).ok_or("cut short")?);
            let field = |o: usize| u64_le(b, o).ok_or("non-resident header cut short");
            Value::NonResident {
                first_vcn: field(0x10)?,
                last_vcn: field(0x18)?,
                runs: b
                    .get(at..)
                    .filter(|_| at >= 0x40)
                    .ok_or("data runs out of bounds")?,
                size: field(0x30)?,
                initialized: field(0x38)?,
            }
        };
        Ok(Attribute {
            ty,
            name: decode_utf16le(name),
            flags,
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_and_non_resident_headers() {
        let mut a = vec![0u8; 0x48];
        a[..4].copy_from_slice(&DATA.to_le_bytes());
        a[4] = 0x48;
        a[9] = 2; // name "ab"
        a[0x0A] = 0x18;
        a[0x10] = 8; // value length
        a[0x14] = 0x20;
        a[0x18..0x1C].copy_from_slice(b"a\0b\0");
        a[0x20..0x28].copy_from_slice(b"12345678");
        let r = Attribute::parse(&a).unwrap();
        assert_eq!((r.ty, r.name.as_str()), (DATA, "ab"));
        assert!(matches!(r.value, Value::Resident(v) if v == b"12345678"));
        a[0x10] = 0x40; // past the attribute
        assert!(Attribute::parse(&a).is_err());

        let mut n = vec![0u8; 0x48];
        n[8] = 1;
        n[0x20] = 0x40;
        n[0x30] = 100;
        n[0x38] = 50;
        n[0x40] = 0x11;
        match Attribute::parse(&n).unwrap().value {
            Value::NonResident {
                size,
                initialized,
                runs,
                ..
            } => assert_eq!((size, initialized, runs.len()), (100, 50, 8)),
            other => panic!("{other:?}"),
        }
        n[0x20] = 0x10; // runs inside the header
        assert!(Attribute::parse(&n).is_err());
        assert!(Attribute::parse(&n[..0x30]).is_err());
    }
}
