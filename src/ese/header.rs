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
//!
//! The shadow copy starts one page in, so it sits at the offset its own page size names. When
//! the primary copy is implausible (unreadable, an unsupported page size, a page size the shadow
//! contradicts, or a failed checksum where the shadow's passes), [`choose`] takes the shadow
//! and says so.

use super::error::EseError;
use crate::util::bytes::{u32_le, u64_le};
use crate::util::diag::Diagnostic;

pub const SIGNATURE: u32 = 0x89AB_CDEF;
/// The checksummed header block; the header page itself may be larger.
pub const HEADER_BLOCK: usize = 4096;
/// Page sizes ESE writes.
pub const PAGE_SIZES: [usize; 5] = [2048, 4096, 8192, 16384, 32768];
/// Bytes the reader needs of the primary header (through the fields it reads).
pub const MIN_HEADER: usize = 668;

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
        .map(|c| u32::from_le_bytes(c.try_into().unwrap_or([0; 4])))
        .fold(SIGNATURE, |acc, v| acc ^ v)
}

/// The header copy a database is read with, the shadow as found, and what was decided.
#[derive(Debug, Clone, PartialEq)]
pub struct ChosenHeader {
    pub header: FileHeader,
    /// The shadow copy (page 1), found at the offset of the chosen page size.
    pub shadow: Option<FileHeader>,
    pub used_shadow: bool,
    pub warnings: Vec<Diagnostic>,
}

/// Pick the primary header (offset 0) or its shadow (page 1). Errors only when neither copy
/// is usable: then with the primary's own error.
pub fn choose(data: &[u8]) -> Result<ChosenHeader, EseError> {
    let primary = FileHeader::parse(data).and_then(|h| {
        if PAGE_SIZES.contains(&(h.page_size as usize)) {
            Ok(h)
        } else {
            Err(EseError::BadPageSize {
                page_size: h.page_size,
            })
        }
    });
    let preferred = primary.as_ref().ok().map(|h| h.page_size);
    let shadow = consistent_shadow(data, preferred);
    let problem = match (&primary, &shadow) {
        (Err(e), _) => Some(e.to_string()),
        (Ok(p), Some((offset, _))) if *offset != p.page_size as usize => Some(format!(
            "its page size {} disagrees with the shadow header's {offset}",
            p.page_size
        )),
        (Ok(p), Some((_, s))) if !p.checksum_ok() && s.checksum_ok() => Some(format!(
            "checksum mismatch (stored {:#010x}, computed {:#010x}) where the shadow's passes",
            p.checksum, p.computed_checksum
        )),
        _ => None,
    };
    match (primary, problem, shadow) {
        (Ok(header), None, shadow) => {
            // A shadow that is not where the primary's page size puts it is still worth naming.
            let at = shadow
                .map(|(_, s)| s)
                .or_else(|| shadow_at(data, header.page_size as usize));
            Ok(primary_chosen(header, at))
        }
        (_, why, Some((offset, shadow))) => {
            Ok(shadow_chosen(shadow, offset, &why.unwrap_or_default()))
        }
        (primary, _, None) => primary.map(|h| {
            let at = shadow_at(data, h.page_size as usize);
            primary_chosen(h, at)
        }),
    }
}

/// The primary header, with the warnings about it and about its shadow.
fn primary_chosen(header: FileHeader, shadow: Option<FileHeader>) -> ChosenHeader {
    let mut warnings = Vec::new();
    if !header.checksum_ok() {
        warnings.push(format!(
            "header checksum mismatch: stored {:#010x}, computed {:#010x} over the 4 KiB header block",
            header.checksum, header.computed_checksum
        ));
    }
    match &shadow {
        None => warnings.push(format!(
            "shadow header (page 1, offset {:#x}) is missing or unreadable",
            header.page_size
        )),
        Some(s) if s.page_size != header.page_size => warnings.push(format!(
            "shadow header (page 1, offset {:#x}) disagrees on the page size ({}); the primary header's {} is used",
            header.page_size, s.page_size, header.page_size
        )),
        Some(_) => {}
    }
    ChosenHeader {
        header,
        shadow,
        used_shadow: false,
        warnings: warnings.into_iter().map(Diagnostic::new).collect(),
    }
}

fn shadow_chosen(shadow: FileHeader, offset: usize, why: &str) -> ChosenHeader {
    let mut warnings = vec![format!(
        "primary header (offset 0) is implausible: {why}; using the shadow header (page 1, offset {offset:#x})"
    )];
    if !shadow.checksum_ok() {
        warnings.push(format!(
            "shadow header checksum mismatch: stored {:#010x}, computed {:#010x}",
            shadow.checksum, shadow.computed_checksum
        ));
    }
    ChosenHeader {
        header: shadow.clone(),
        shadow: Some(shadow),
        used_shadow: true,
        warnings: warnings.into_iter().map(Diagnostic::new).collect(),
    }
}

/// The header copy at `offset`, if one parses there.
fn shadow_at(data: &[u8], offset: usize) -> Option<FileHeader> {
    data.get(offset..).and_then(|b| FileHeader::parse(b).ok())
}

/// A shadow header that sits where its own page size says page 1 starts: at `first` if given
/// (where the primary header says), else the smallest size that fits.
fn consistent_shadow(data: &[u8], first: Option<u32>) -> Option<(usize, FileHeader)> {
    let first = first.map(|s| s as usize).filter(|s| PAGE_SIZES.contains(s));
    first.into_iter().chain(PAGE_SIZES).find_map(|size| {
        shadow_at(data, size)
            .filter(|h| h.page_size as usize == size)
            .map(|h| (size, h))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header block with `page_size` and a valid checksum, at `offset` in `file`.
    fn put_header(file: &mut [u8], offset: usize, page_size: u32) {
        let h = &mut file[offset..offset + HEADER_BLOCK];
        h[4..8].copy_from_slice(&SIGNATURE.to_le_bytes());
        h[0xec..0xf0].copy_from_slice(&page_size.to_le_bytes());
        let c = xor_checksum(&h[4..]);
        h[..4].copy_from_slice(&c.to_le_bytes());
    }

    fn file(primary: u32) -> Vec<u8> {
        let mut f = vec![0u8; 3 * 8192];
        put_header(&mut f, 0, primary);
        put_header(&mut f, 8192, 8192);
        f
    }

    #[test]
    fn a_sound_primary_is_used() {
        let c = choose(&file(8192)).unwrap();
        assert!(!c.used_shadow);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn an_unsupported_or_contradicted_page_size_yields_to_the_shadow() {
        for bad in [1234, 4096, 16384] {
            let c = choose(&file(bad)).unwrap();
            assert!(c.used_shadow, "primary page size {bad}");
            assert_eq!(c.header.page_size, 8192);
            assert!(c.warnings[0]
                .what
                .contains("using the shadow header (page 1, offset 0x2000)"));
        }
    }

    #[test]
    fn a_failed_checksum_yields_to_a_passing_shadow() {
        let mut f = file(8192);
        f[0x300] ^= 1;
        let c = choose(&f).unwrap();
        assert!(c.used_shadow);
        assert!(
            c.warnings[0].what.contains("checksum mismatch"),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn without_a_shadow_the_primary_stands_or_falls_alone() {
        let mut f = file(8192);
        f[8192..8200].fill(0);
        let c = choose(&f).unwrap();
        assert!(!c.used_shadow);
        assert!(c.warnings[0]
            .what
            .contains("shadow header (page 1, offset 0x2000) is missing"));
        put_header(&mut f, 0, 1234);
        assert_eq!(choose(&f), Err(EseError::BadPageSize { page_size: 1234 }));
    }
}
