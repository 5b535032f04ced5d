//! The VHDX reader on arbitrary bytes: headers, region table, metadata, and the BAT (entries
//! past the end, huge block sizes) as the disk is read.
#![no_main]

use bitscope::container::vhdx;
use libfuzzer_sys::fuzz_target;

#[path = "shared/read_disk.rs"]
mod shared;

fuzz_target!(|data: &[u8]| {
    let data = data.to_vec();
    let mut warnings = Vec::new();
    if let Some(Ok((_, disk))) = vhdx::open(&data, &mut warnings) {
        shared::read_disk(&disk);
        let _ = bitscope::container::ReadAt::backed(&disk);
    }
});
