//! The database file header (page 0) and its shadow copy (page 1).
//!
//! Layout (offsets in the header block, little-endian; libyal's ESE document §2):
//! ```text
//! 0x000 u32 checksum     XOR-32 of the u32s in [4, 4096) seeded with 0x89abcdef
//! 0x004 u32 signature    0x89abcdef
//! 0x008 u32 format version (0x620)
//! 0x00c u32 file type     0 database, 1 streaming file
//! 0x010 u64 database time
//! 0x018 28  database signature (u32 random, 20-byte creation time+host)
//! 0x034 u32 database state  1 just created, 2 dirty shutdown, 3 clean shutdown, 4 being converted, 5 force detach
//! 0x0d8 u32 DAE update major (format revision of the engine that last wrote it)
//! 0x0e8 u32 format revision
//! 0x0ec u32 page size
//! 0x0e0 u32 build number? (engine minor)  -- informational only
//! ```
//! Windows 11 writes data past byte 668 of the header, so the checksum must cover the whole
//! 4 KiB block; a mismatch is reported as a warning, never a refusal.

use super::error::EseError;
use crate::util::bytes::{u32_le, u64_le};

pub const SIGNATURE: u32 = 0x89AB_CDEF;
/// The checksummed header block; the header page itself may be larger.
pub const HEADER_BLOCK: usize = 4096;

#[derive(Debug, Clone, PartialEq)]
pub struct FileHeader {
    pub checksum: u32,
    pub computed_checksum: u32,
    pub format_version: u32,
    pub format_revision: u32,
    pub file_type: u32,
    pub database_time: u64,
    pub state: u32,
    pub page_size: u32,
    pub update_major: u32,
    pub update_minor: u32,
}

impl FileHeader {
    /// Parse a header block. `buf` starts at the header (offset 0 or one page in for the shadow).
    pub fn parse(buf: &[u8]) -> Result<FileHeader, EseError> {
        let field = |off| u32_le(buf, off).ok_or(EseError::TooSmall { len: buf.len() });
        let signature = field(4)?;
        if signature != SIGNATURE {
            return Err(EseError::BadSignature { found: signature });
        }
        Ok(FileHeader {
            checksum: field(0)?,
            computed_checksum: xor_checksum(buf.get(4..HEADER_BLOCK.min(buf.len())).unwrap_or(&[])),
            format_version: field(8)?,
            file_type: field(0x0c)?,
            database_time: u64_le(buf, 0x10).unwrap_or(0),
            state: field(0x34)?,
            update_major: field(0xd8)?,
            update_minor: field(0xdc)?,
            format_revision: field(0xe8)?,
            page_size: field(0xec)?,
        })
    }

    pub fn checksum_ok(&self) -> bool {
        self.checksum == self.computed_checksum
    }

    pub fn state_name(&self) -> &'static str {
        state_name(self.state)
    }
}

pub fn state_name(state: u32) -> &'static str {
    match state {
        1 => "just created",
        2 => "dirty shutdown",
        3 => "clean shutdown",
        4 => "being converted",
        5 => "force detach",
        _ => "unknown",
    }
}

/// XOR of the little-endian u32s of `buf`, seeded with the signature (ESE's header checksum).
pub fn xor_checksum(buf: &[u8]) -> u32 {
    buf.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .fold(SIGNATURE, |acc, v| acc ^ v)
}
