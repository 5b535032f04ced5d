//! Zips inside zips on arbitrary bytes: the input wrapped as a stored member named `.zip` of
//! an outer archive (so the nested archive's own structures are what is mutated), its stores
//! found through both levels and read within the one budget.
#![no_main]

use bitscope::container::{self, zip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let outer = wrap(data);
    let (mut stores, mut warnings) = (Vec::new(), Vec::new());
    let budget = zip::Budget::for_archive(outer.len() as u64);
    zip::find_stores_within(&outer, None, &["zip".into()], 1, &budget, &mut stores, &mut warnings);
    for s in &stores {
        let _ = container::read_store_within(&outer, s, 16 << 20, &budget, &mut Vec::new());
    }
});

/// `inner` as the one stored member `c.zip` of a zip.
fn wrap(inner: &[u8]) -> Vec<u8> {
    let name = b"c.zip";
    let mut c = flate2_crc(inner).to_le_bytes().to_vec();
    c.extend_from_slice(&(inner.len() as u32).to_le_bytes());
    c.extend_from_slice(&(inner.len() as u32).to_le_bytes());
    let mut out = b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0".to_vec();
    out.extend_from_slice(&c);
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(inner);
    let dir_at = out.len() as u32;
    let mut dir = b"PK\x01\x02\x14\0\x14\0\0\0\0\0\0\0\0\0".to_vec();
    dir.extend_from_slice(&c);
    dir.extend_from_slice(&(name.len() as u16).to_le_bytes());
    dir.extend_from_slice(&[0; 12]);
    dir.extend_from_slice(&0u32.to_le_bytes());
    dir.extend_from_slice(name);
    out.extend_from_slice(&dir);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
    out.extend_from_slice(&(dir.len() as u32).to_le_bytes());
    out.extend_from_slice(&dir_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// CRC-32 (the zip polynomial), bit by bit: the fuzz crate has no flate2 of its own.
fn flate2_crc(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}
