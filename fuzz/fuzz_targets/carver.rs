//! The carver over arbitrary bytes: as a database (page-aware), as raw bytes, and streamed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bitscope::pipeline::parse_bytes_with(data, "fuzz", true);
    let _ = bitscope::bits::carve::carve_stream(data, "fuzz", 2, &mut |_| {});
});
