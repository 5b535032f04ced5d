//! The Win10+ job blob decoder, then the BitsInfo row built from it (SD, ACLs, SDDL).
#![no_main]

use bitscope::bits::decoded::row;
use bitscope::bits::model::JobEntry;
use bitscope::bits::job::decode_job_blob;
use bitscope::bits::model::Source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(job) = decode_job_blob(data) {
        let entry = JobEntry {
            job,
            blob: data.to_vec(),
            source: Source::default(),
        };
        let _ = serde_json::to_string(&row(Some(&entry), None, None));
    }
});
