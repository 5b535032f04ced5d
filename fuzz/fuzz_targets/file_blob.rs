//! The Win10+ file blob decoder and the legacy file record decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bitscope::bits::file::decode_file_blob(data);
    let _ = bitscope::bits::file::decode_legacy_file(data);
});
