//! The container layer on arbitrary bytes: partition tables, NTFS, VHD, VHDX, E01 and zip
//! readers must end in warnings, never a panic, a hang or a memory blow-up. The seeds worth
//! giving it are small images (a bare NTFS volume made with `mkntfs -F -Q` on a few MiB, and
//! that volume's VHD/VHDX/E01/zip forms).
#![no_main]

use bitscope::container;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let data = data.to_vec();
    let found = container::open(&data);
    if let Some(found) = &found {
        let (stores, _) = found.all_stores();
        for s in &stores {
            let _ = found.read_store(s, 16 << 20);
        }
        for v in &found.volumes {
            let _ = found.unallocated(v, &mut Vec::new());
        }
    }
    drop(found);
});
