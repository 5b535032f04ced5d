//! The partition table reader (MBR with its chain of extended boot records, GPT) on arbitrary
//! bytes: warnings, never a panic, a hang (a looping EBR chain) or a memory blow-up (a GPT
//! claiming millions of entries).
#![no_main]

use bitscope::container::partition;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let data = data.to_vec();
    let mut warnings = Vec::new();
    let _ = partition::read_table(&data, &mut warnings);
});
