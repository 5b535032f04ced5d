//! The one pipeline over arbitrary bytes, live and carving, through every writer; and the
//! explorer's on-demand field ranges over the same bytes.
#![no_main]

use bitscope::pipeline::{run_bytes, Options};
use bitscope::output::bits::{Format, RecordWriter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for carve in [false, true] {
        let opts = Options {
            carve,
            field_ranges: carve,
            ..Options::default()
        };
        let mut parsed = bitscope::pipeline::Parsed::default();
        let _ = run_bytes(data, "fuzz", &opts, &mut parsed);
        for format in [Format::Json, Format::Jsonl, Format::Csv, Format::Timeline] {
            let mut w = RecordWriter::new(std::io::sink(), format).expect("sink");
            for r in &parsed.records {
                w.write(r).expect("sink");
            }
            w.finish().expect("sink");
        }
    }
    let _ = bitscope::bits::fields::record_fields(data);
});
