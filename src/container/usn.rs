//! The NTFS change journal (`$Extend\$UsnJrnl:$J`): USN_RECORD_V2 records, as Windows appends
//! them (8-byte aligned; the stream is sparse: its head is zeros where old records were freed).
//!
//! USN_RECORD_V2 (offsets in bytes):
//! - 0 RecordLength (u32), 4 MajorVersion (u16: 2), 6 MinorVersion (u16: 0)
//! - 8 FileReferenceNumber (u64: MFT entry in the low 48 bits, sequence in the high 16)
//! - 16 ParentFileReferenceNumber (u64), 24 Usn (i64: the record's offset in the stream)
//! - 32 TimeStamp (FILETIME), 40 Reason (u32 flags), 44 SourceInfo (u32), 48 SecurityId (u32)
//! - 52 FileAttributes (u32), 56 FileNameLength (u16, bytes), 58 FileNameOffset (u16: 60)
//! - 60 FileName (UTF-16LE)
//!
//! Hostile streams: a length that cannot be a record (short, past the bytes, not a multiple of
//! 8, over 64 KiB) is stepped over 8 bytes at a time, as zeros are; at most [`MAX_RECORDS`]
//! are kept.

use crate::util::bytes::{slice, u16_le, u32_le, u64_le};
use crate::util::utf16::decode_utf16le;

/// The most records kept from one stream.
pub const MAX_RECORDS: usize = 4_000_000;
/// The header before the name.
const HEADER: usize = 60;
/// No record is longer (a name is at most 255 UTF-16 units).
const MAX_LEN: usize = 64 * 1024;

/// One change journal record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UsnRecord {
    /// Offset of the record in the `$J` stream (as given: the caller's base plus its place).
    pub offset: u64,
    pub length: u32,
    pub major: u16,
    pub minor: u16,
    pub entry: u64,
    pub sequence: u16,
    pub parent_entry: u64,
    pub parent_sequence: u16,
    pub usn: i64,
    /// FILETIME.
    pub time: u64,
    pub reason: u32,
    pub source_info: u32,
    pub security_id: u32,
    pub attributes: u32,
    pub name: String,
}

impl UsnRecord {
    /// The reason flags by name, lowest bit first.
    pub fn reasons(&self) -> Vec<&'static str> {
        REASONS
            .iter()
            .filter(|(bit, _)| self.reason & bit != 0)
            .map(|(_, name)| *name)
            .collect()
    }
}

/// USN_REASON_* flags.
pub const REASONS: &[(u32, &str)] = &[
    (0x0000_0001, "DATA_OVERWRITE"),
    (0x0000_0002, "DATA_EXTEND"),
    (0x0000_0004, "DATA_TRUNCATION"),
    (0x0000_0010, "NAMED_DATA_OVERWRITE"),
    (0x0000_0020, "NAMED_DATA_EXTEND"),
    (0x0000_0040, "NAMED_DATA_TRUNCATION"),
    (0x0000_0100, "FILE_CREATE"),
    (0x0000_0200, "FILE_DELETE"),
    (0x0000_0400, "EA_CHANGE"),
    (0x0000_0800, "SECURITY_CHANGE"),
    (0x0000_1000, "RENAME_OLD_NAME"),
    (0x0000_2000, "RENAME_NEW_NAME"),
    (0x0000_4000, "INDEXABLE_CHANGE"),
    (0x0000_8000, "BASIC_INFO_CHANGE"),
    (0x0001_0000, "HARD_LINK_CHANGE"),
    (0x0002_0000, "COMPRESSION_CHANGE"),
    (0x0004_0000, "ENCRYPTION_CHANGE"),
    (0x0008_0000, "OBJECT_ID_CHANGE"),
    (0x0010_0000, "REPARSE_POINT_CHANGE"),
    (0x0020_0000, "STREAM_CHANGE"),
    (0x0040_0000, "TRANSACTED_CHANGE"),
    (0x0080_0000, "INTEGRITY_CHANGE"),
    (0x8000_0000, "CLOSE"),
];

/// Every V2 record in `stream`, whose first byte is at `base` in the `$J` stream.
pub fn records(stream: &[u8], base: u64) -> Vec<UsnRecord> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at.saturating_add(HEADER) <= stream.len() && out.len() < MAX_RECORDS {
        match record(stream, at, base) {
            Some(r) => {
                at = at.saturating_add(r.length as usize);
                out.push(r);
            }
            None => at = at.saturating_add(8),
        }
    }
    out
}

/// The record at `at`, when one is there.
fn record(b: &[u8], at: usize, base: u64) -> Option<UsnRecord> {
    let length = u32_le(b, at)?;
    let len = length as usize;
    if !(HEADER..=MAX_LEN).contains(&len) || len % 8 != 0 || at.checked_add(len)? > b.len() {
        return None;
    }
    let rec = slice(b, at, len)?;
    let (major, minor) = (u16_le(rec, 4)?, u16_le(rec, 6)?);
    if major != 2 {
        return None;
    }
    let name_len = usize::from(u16_le(rec, 56)?);
    let name_off = usize::from(u16_le(rec, 58)?);
    if name_off < HEADER || name_off.checked_add(name_len)? > len || name_len % 2 != 0 {
        return None;
    }
    let file = u64_le(rec, 8)?;
    let parent = u64_le(rec, 16)?;
    Some(UsnRecord {
        offset: base.saturating_add(at as u64),
        length,
        major,
        minor,
        entry: file & 0xffff_ffff_ffff,
        sequence: (file >> 48) as u16,
        parent_entry: parent & 0xffff_ffff_ffff,
        parent_sequence: (parent >> 48) as u16,
        usn: u64_le(rec, 24)? as i64,
        time: u64_le(rec, 32)?,
        reason: u32_le(rec, 40)?,
        source_info: u32_le(rec, 44)?,
        security_id: u32_le(rec, 48)?,
        attributes: u32_le(rec, 52)?,
        name: decode_utf16le(slice(rec, name_off, name_len)?),
    })
}
