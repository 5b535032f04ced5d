//! The legacy queue decoder (qmgr0.dat / qmgr1.dat) through to BitsInfo rows.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bitscope::bits::legacy::decode_legacy_job(data);
    let _ = bitscope::pipeline::parse_bytes(data, "fuzz");
});
