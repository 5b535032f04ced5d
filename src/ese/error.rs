//! Errors of the ESE reader. Each names what was being read and the file offset.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum EseError {
    #[error("file is too small to be an ESE database ({len} bytes)")]
    TooSmall { len: usize },
    #[error(
        "not an ESE database: bad signature {found:#010x} at offset 0x4 (expected 0x89abcdef)"
    )]
    BadSignature { found: u32 },
    #[error("unsupported page size {page_size} at offset 0xec")]
    BadPageSize { page_size: u32 },
    #[error("page {page} is out of range (file has {pages} pages)")]
    PageOutOfRange { page: u32, pages: u32 },
    #[error("page {page} (offset {offset:#x}): {what}")]
    BadPage {
        page: u32,
        offset: u64,
        what: String,
    },
    #[error("catalog: {0}")]
    Catalog(String),
    #[error("catalog unreadable: no table in the catalog (page {root}, offset {offset:#x}) nor in its shadow (page {shadow_root}, offset {shadow_offset:#x})")]
    CatalogUnreadable {
        root: u32,
        offset: u64,
        shadow_root: u32,
        shadow_offset: u64,
    },
    #[error("no table named {0:?}")]
    NoSuchTable(String),
}
