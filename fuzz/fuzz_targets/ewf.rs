//! The E01 (Expert Witness) reader on arbitrary bytes: the section chain (looping or past the
//! end), the volume and table sections, and the chunks read back (zlib or stored).
#![no_main]

use bitscope::container::{ewf, ReadAt};
use libfuzzer_sys::fuzz_target;

#[path = "shared/read_disk.rs"]
mod shared;

fuzz_target!(|data: &[u8]| {
    let data = data.to_vec();
    let mut warnings = Vec::new();
    let opened = ewf::open(&data, &no_more, &mut warnings);
    if let Some(Ok((_, disk))) = &opened {
        shared::read_disk(disk);
        let _ = disk.backed();
    }
});

/// One segment only.
fn no_more<'a>(_: u32) -> Option<Box<dyn ReadAt + 'a>> {
    None
}
