//! Shared by the per-format targets: read a translated disk (E01, VHD, VHDX) the way the
//! container layer does, by positioned reads at the start, across block and chunk edges, and
//! at the end, bounded so that one input stays fast.

use bitscope::container::ReadAt;

pub fn read_disk(disk: &dyn ReadAt) {
    let size = disk.size();
    let mut buf = vec![0u8; 64 * 1024];
    let mut at = 0u64;
    // The first MiB, then a few far offsets (a corrupt size can be huge: never a loop over it).
    for _ in 0..16 {
        if disk.read_at(at, &mut buf).unwrap_or(0) == 0 {
            break;
        }
        at += buf.len() as u64;
    }
    for far in [
        size / 2,
        size.saturating_sub(4096),
        size.saturating_sub(1),
        u64::MAX - 8,
    ] {
        let _ = disk.read_at(far, &mut buf[..4096]);
    }
}
