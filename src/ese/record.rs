//! Table records: the data of a leaf node in a table's B-tree.
//!
//! Record layout (offsets from the start of the node data):
//! ```text
//! 0x00 u8  last fixed column id in the record
//! 0x01 u8  last variable column id (128..=255; 127 when none)
//! 0x02 u16 end of the fixed data (ibEndOfFixedData): fixed values, then a null bitmap of
//!          (last_fixed + 7) / 8 bytes ending here (bit set = null)
//! 0x04 ..  fixed values in column-id order, each its column's size
//! [ibEndOfFixedData] u16 × (last_var - 127): end offset of each variable value, relative to the
//!          end of this array; bit 15 set = null
//! then     the variable values, then the tagged area
//! ```
//! Tagged area: an array of u32 TAGFLD {u16 column id, u16 offset}, the first offset giving the
//! array's size; each value runs to the next entry's offset. On large pages (≥ 16 KiB) the offset
//! is 15 bits and every value starts with a flags byte; on small pages it is 13 bits, bit 14 says
//! a flags byte is present and bit 13 marks null. Flags byte: 0x01 long value, 0x02 compressed,
//! 0x04 separated (the value is a long-value id), 0x08 multi-valued, 0x10 two values,
//! 0x20 null, 0x40 encrypted.

use crate::util::bytes::{u16_le, u32_le, u8_at};

pub const TAGFLD_COMPRESSED: u8 = 0x02;
pub const TAGFLD_SEPARATED: u8 = 0x04;
pub const TAGFLD_MULTI: u8 = 0x08;
pub const TAGFLD_TWO_VALUES: u8 = 0x10;
pub const TAGFLD_NULL: u8 = 0x20;
pub const TAGFLD_ENCRYPTED: u8 = 0x40;

/// JET_coltyp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Nil,
    Bit,
    UnsignedByte,
    Short,
    Long,
    Currency,
    IeeeSingle,
    IeeeDouble,
    DateTime,
    Binary,
    Text,
    LongBinary,
    LongText,
    Slv,
    UnsignedLong,
    LongLong,
    Guid,
    UnsignedShort,
    Other(u32),
}

impl ColumnType {
    pub fn from_u32(v: u32) -> ColumnType {
        use ColumnType::*;
        match v {
            0 => Nil,
            1 => Bit,
            2 => UnsignedByte,
            3 => Short,
            4 => Long,
            5 => Currency,
            6 => IeeeSingle,
            7 => IeeeDouble,
            8 => DateTime,
            9 => Binary,
            10 => Text,
            11 => LongBinary,
            12 => LongText,
            13 => Slv,
            14 => UnsignedLong,
            15 => LongLong,
            16 => Guid,
            17 => UnsignedShort,
            o => Other(o),
        }
    }

    pub fn as_u32(self) -> u32 {
        use ColumnType::*;
        match self {
            Nil => 0,
            Bit => 1,
            UnsignedByte => 2,
            Short => 3,
            Long => 4,
            Currency => 5,
            IeeeSingle => 6,
            IeeeDouble => 7,
            DateTime => 8,
            Binary => 9,
            Text => 10,
            LongBinary => 11,
            LongText => 12,
            Slv => 13,
            UnsignedLong => 14,
            LongLong => 15,
            Guid => 16,
            UnsignedShort => 17,
            Other(o) => o,
        }
    }

    pub fn name(self) -> &'static str {
        use ColumnType::*;
        match self {
            Nil => "Nil",
            Bit => "Bit",
            UnsignedByte => "UnsignedByte",
            Short => "Short",
            Long => "Long",
            Currency => "Currency",
            IeeeSingle => "IEEESingle",
            IeeeDouble => "IEEEDouble",
            DateTime => "DateTime",
            Binary => "Binary",
            Text => "Text",
            LongBinary => "LongBinary",
            LongText => "LongText",
            Slv => "SLV",
            UnsignedLong => "UnsignedLong",
            LongLong => "LongLong",
            Guid => "GUID",
            UnsignedShort => "UnsignedShort",
            Other(_) => "Unknown",
        }
    }

    pub fn fixed_size(self) -> Option<u32> {
        use ColumnType::*;
        Some(match self {
            Bit | UnsignedByte => 1,
            Short | UnsignedShort => 2,
            Long | IeeeSingle | UnsignedLong => 4,
            Currency | IeeeDouble | DateTime | LongLong => 8,
            Guid => 16,
            _ => return None,
        })
    }

    pub fn is_text(self) -> bool {
        matches!(self, ColumnType::Text | ColumnType::LongText)
    }
}

/// Where a column's bytes sit in a record, before long values, compression or typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawCell<'a> {
    /// The record stops before the column (its default applies).
    Missing,
    /// Present but null.
    Null,
    /// The value bytes; `flags` is the tagged flags byte (0 for fixed/variable values).
    Bytes {
        data: &'a [u8],
        offset: usize,
        flags: u8,
    },
}

/// The parsed frame of one record: enough to find any column's bytes.
#[derive(Debug, Clone)]
pub struct RecordLayout<'a> {
    pub data: &'a [u8],
    pub last_fixed: u8,
    pub last_var: u8,
    end_fixed: usize,
    var_data_start: usize,
    tagged_start: usize,
    large: bool,
}

impl<'a> RecordLayout<'a> {
    /// `large`: the page is 16 KiB or more (15-bit tagged offsets, flags byte always present).
    pub fn parse(data: &'a [u8], large: bool) -> Option<RecordLayout<'a>> {
        let last_fixed = u8_at(data, 0)?;
        let last_var = u8_at(data, 1)?;
        let end_fixed = u16_le(data, 2)? as usize;
        if end_fixed > data.len() || end_fixed < 4 {
            return None;
        }
        let n_var = (last_var as usize).saturating_sub(127);
        // All within the record: `end_fixed <= data.len()`, `n_var <= 128`.
        let var_data_start = end_fixed.checked_add(n_var.checked_mul(2)?)?;
        if var_data_start > data.len() {
            return None;
        }
        let last_end = if n_var > 0 {
            (u16_le(data, var_data_start.checked_sub(2)?)? & 0x7FFF) as usize
        } else {
            0
        };
        let tagged_start = var_data_start.saturating_add(last_end).min(data.len());
        Some(RecordLayout {
            data,
            last_fixed,
            last_var,
            end_fixed,
            var_data_start,
            tagged_start,
            large,
        })
    }

    /// A fixed column's bytes, given its offset after the header and its size.
    pub fn fixed(&self, id: u32, fixed_offset: u32, size: u32) -> RawCell<'a> {
        if id == 0 || id > self.last_fixed as u32 {
            return RawCell::Missing;
        }
        let bitmap_len = (self.last_fixed as usize).div_ceil(8);
        let bitmap_start = self.end_fixed.saturating_sub(bitmap_len);
        // 1 <= id <= last_fixed (a u8): the bit lies in the bitmap.
        let bit = (id.saturating_sub(1)) as usize;
        match u8_at(self.data, bitmap_start.saturating_add(bit / 8)) {
            Some(b) if b & (1 << (bit % 8)) != 0 => return RawCell::Null,
            None => return RawCell::Null,
            _ => {}
        }
        let start = (fixed_offset as usize).saturating_add(4);
        let end = start.saturating_add(size as usize);
        // A fixed value may not run into the null bitmap.
        match self.data.get(start..end) {
            Some(data) if end <= bitmap_start => RawCell::Bytes {
                data,
                offset: start,
                flags: 0,
            },
            _ => RawCell::Null,
        }
    }

    /// A variable column's bytes (ids 128..=255).
    pub fn variable(&self, id: u32) -> RawCell<'a> {
        if !(128..=255).contains(&id) || id > self.last_var as u32 {
            return RawCell::Missing;
        }
        // 128 <= id <= 255: a small index into the offsets after the fixed columns.
        let idx = (id.saturating_sub(128)) as usize;
        let Some(end_raw) = u16_le(
            self.data,
            self.end_fixed.saturating_add(idx.saturating_mul(2)),
        ) else {
            return RawCell::Null;
        };
        if end_raw & 0x8000 != 0 {
            return RawCell::Null;
        }
        let start = if idx == 0 {
            0
        } else {
            let prev = self
                .end_fixed
                .saturating_add(idx.saturating_sub(1).saturating_mul(2));
            u16_le(self.data, prev).map_or(0, |v| (v & 0x7FFF) as usize)
        };
        let (s, e) = (
            self.var_data_start.saturating_add(start),
            self.var_data_start.saturating_add(end_raw as usize),
        );
        match self.data.get(s..e) {
            Some(data) => RawCell::Bytes {
                data,
                offset: s,
                flags: 0,
            },
            None => RawCell::Null,
        }
    }

    fn tag_entry(&self, i: usize) -> Option<(u16, u16)> {
        let v = u32_le(self.data, self.tagged_start.checked_add(i.checked_mul(4)?)?)?;
        Some((v as u16, (v >> 16) as u16))
    }

    fn tag_offset(&self, raw: u16) -> usize {
        (raw & if self.large { 0x7FFF } else { 0x1FFF }) as usize
    }

    /// Number of TAGFLD entries (the first entry's offset is the array's size).
    pub fn tagged_count(&self) -> usize {
        match self.tag_entry(0) {
            Some((_, off)) => {
                let n = self.tag_offset(off) / 4;
                n.min(self.data.len().saturating_sub(self.tagged_start) / 4)
            }
            None => 0,
        }
    }

    /// A tagged column's bytes; the flags byte is split off into `flags`.
    pub fn tagged(&self, id: u32) -> RawCell<'a> {
        let n = self.tagged_count();
        // The TAGFLD array is sorted by column id (ESE binary-searches it too), which keeps a
        // record with thousands of tagged columns linear to decode rather than quadratic.
        let key = |i: usize| self.tag_entry(i).map_or(u32::MAX, |(c, _)| c as u32);
        let i = partition_point(n, |i| key(i) < id);
        if i >= n || key(i) != id {
            return RawCell::Missing;
        }
        let Some((_, raw_off)) = self.tag_entry(i) else {
            return RawCell::Missing;
        };
        let start = self.tagged_start.saturating_add(self.tag_offset(raw_off));
        let next = i.saturating_add(1);
        let end = match self.tag_entry(next).filter(|_| next < n) {
            Some((_, next)) => self.tagged_start.saturating_add(self.tag_offset(next)),
            None => self.data.len(),
        };
        if start > end || end > self.data.len() {
            return RawCell::Null;
        }
        let has_flags_byte = self.large || raw_off & 0x4000 != 0;
        if !self.large && raw_off & 0x2000 != 0 {
            return RawCell::Null;
        }
        let mut flags = 0;
        let mut s = start;
        if has_flags_byte {
            match self.data.get(start) {
                Some(&f) => flags = f,
                None => return RawCell::Null,
            }
            s = s.saturating_add(1);
            if flags & TAGFLD_NULL != 0 {
                return RawCell::Null;
            }
        }
        match self.data.get(s..end) {
            Some(data) => RawCell::Bytes {
                data,
                offset: s,
                flags,
            },
            None => RawCell::Null,
        }
    }
}

/// First index in `0..n` for which `below` is false, `below` being true then false.
fn partition_point(n: usize, below: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo.midpoint(hi);
        if below(mid) {
            lo = mid.saturating_add(1);
        } else {
            hi = mid;
        }
    }
    lo
}
