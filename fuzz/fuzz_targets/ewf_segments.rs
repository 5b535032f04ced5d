//! A segmented E01 on arbitrary bytes: the input cut into up to four segment files at offsets
//! it chooses (its first bytes), so segment numbers, set identifiers, chains of `next`
//! sections and tables spanning segments are all mutated; then the media read and what would
//! be carved of it listed.
#![no_main]

use bitscope::container::{ewf, ReadAt};
use libfuzzer_sys::fuzz_target;

#[path = "shared/read_disk.rs"]
mod shared;

fuzz_target!(|data: &[u8]| {
    let Some((cuts, rest)) = data.split_first_chunk::<6>() else {
        return;
    };
    let mut files: Vec<Vec<u8>> = Vec::new();
    let mut rest = rest;
    for pair in cuts.chunks_exact(2) {
        let at = usize::from(u16::from_le_bytes([pair[0], pair[1]])).min(rest.len());
        let (head, tail) = rest.split_at(at);
        files.push(head.to_vec());
        rest = tail;
    }
    files.push(rest.to_vec());
    let first = files.remove(0);
    let more = files;
    let next = move |n: u32| -> Option<Box<dyn ReadAt>> {
        let f = more.get(usize::try_from(n).ok()?.checked_sub(2)?)?;
        Some(Box::new(f.clone()))
    };
    let mut warnings = Vec::new();
    let opened = ewf::open(&first, &next, &mut warnings);
    if let Some(Ok((_, disk))) = &opened {
        shared::read_disk(disk);
        let _ = disk.backed();
        let _ = disk.stored();
    }
    drop(opened);
});
