//! The VHD reader on arbitrary bytes: the footer, the dynamic header and its BAT, as the disk
//! is read.
#![no_main]

use bitscope::container::vhd;
use libfuzzer_sys::fuzz_target;

#[path = "shared/read_disk.rs"]
mod shared;

fuzz_target!(|data: &[u8]| {
    let data = data.to_vec();
    let mut warnings = Vec::new();
    if let Some(Ok((_, disk))) = vhd::open(&data, &mut warnings) {
        shared::read_disk(&disk);
        let _ = bitscope::container::ReadAt::backed(&disk);
    }
});
