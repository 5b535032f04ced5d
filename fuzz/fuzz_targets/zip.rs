//! The zip reader on arbitrary bytes: the end of central directory (and Zip64's), the entries,
//! and each store's bytes (stored or inflated, bounded).
#![no_main]

use bitscope::container::{self, zip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let data = data.to_vec();
    if !zip::is_zip(&data) {
        return;
    }
    let (mut stores, mut warnings) = (Vec::new(), Vec::new());
    zip::find_stores(&data, &[], &mut stores, &mut warnings);
    for s in &stores {
        let _ = container::read_store(&data, s, 16 << 20);
    }
});
