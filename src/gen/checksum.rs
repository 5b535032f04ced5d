//! Page checksums for generated databases: the writer's side of [`crate::ese::checksum`],
//! kept here so the reader never writes.

use crate::ese::checksum::{
    read_u32, xe_block, FLAG_NEW_CHECKSUM, LARGE_SLOTS, OFF_FLAGS, OFF_LARGE_PGNO,
};

/// Writes the new-format checksum(s) of a page whose other bytes are final, so that
/// [`crate::ese::checksum::verify_page`] returns [`ChecksumStatus::Ok`] for `pgno` (for the fixture generator).
///
/// Sets the new-checksum page flag; on large pages also writes `pgno` at 0x40, then the
/// checksums of blocks 1-3 (0x28, 0x30, 0x38) and last that of block 0 (which covers them).
/// Returns `false`, leaving the page alone, for an unsupported page size.
pub fn write_page_checksums(page: &mut [u8], pgno: u32) -> bool {
    let len = page.len();
    if !matches!(len, 2048 | 4096 | 8192 | 16384 | 32768) {
        return false;
    }
    let flags = read_u32(page, OFF_FLAGS) | FLAG_NEW_CHECKSUM;
    page[OFF_FLAGS..OFF_FLAGS + 4].copy_from_slice(&flags.to_le_bytes());
    if len > 8192 {
        page[OFF_LARGE_PGNO..OFF_LARGE_PGNO + 4].copy_from_slice(&pgno.to_le_bytes());
        let cb = len / 4;
        for (i, slot) in LARGE_SLOTS.iter().enumerate().skip(1) {
            let x = xe_block(&page[i * cb..(i + 1) * cb], pgno, false);
            page[*slot..*slot + 8].copy_from_slice(&x.to_le_bytes());
        }
        let x = xe_block(&page[..cb], pgno, true);
        page[..8].copy_from_slice(&x.to_le_bytes());
    } else {
        let x = xe_block(page, pgno, true);
        page[..8].copy_from_slice(&x.to_le_bytes());
    }
    true
}
