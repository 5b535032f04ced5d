//! The NTFS reader on arbitrary bytes taken as a bare volume: the boot sector, the MFT walk
//! (fix-ups, names, data runs, deleted entries, looping runs), the store reads and the
//! $Bitmap's free runs. Seeds: a small `mkntfs -F -Q` volume holding a qmgr.db.
#![no_main]

use bitscope::container::{self, ntfs};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let data = data.to_vec();
    let len = data.len() as u64;
    if !ntfs::is_ntfs(&data, 0) {
        return;
    }
    let (mut stores, mut warnings) = (Vec::new(), Vec::new());
    let _ = ntfs::find_stores(
        &data,
        0,
        len,
        &[],
        &mut |s| {
            stores.push(s);
            std::ops::ControlFlow::Continue(())
        },
        &mut warnings,
    );
    for s in &stores {
        let _ = container::read_store(&data, s, 16 << 20);
    }
    let _ = ntfs::unallocated(&data, 0, len, &mut warnings);
});
