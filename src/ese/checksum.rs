//! ESE database page checksums: verified and reported, never enforced.
//!
//! A mismatch is a fact about the bytes to be shown to the examiner, not a
//! reason to refuse the page; callers decide what to do with it.
//!
//! # Layout
//!
//! All values are little-endian. "Word" means a `u32`.
//!
//! ```text
//! small pages (2/4/8 KiB), 40-byte header        large pages (16/32 KiB), 80-byte header
//! 0x00 u32  XOR checksum                          0x00 u64  checksum of block 0 (as left)
//! 0x04 u32  page number (old) / ECC (new)         0x04      (high half of the above)
//! 0x24 u32  page flags, 0x2000 = new format       0x24 u32  page flags (0x2000 always set)
//!                                                 0x28 u64  checksum of block 1
//!                                                 0x30 u64  checksum of block 2
//!                                                 0x38 u64  checksum of block 3
//!                                                 0x40 u32  page number (+12 reserved bytes)
//! ```
//!
//! The page number a checksum is computed with is the logical database page
//! number: database page `N` (from 1) lives at file offset `(N + 1) * page_size`,
//! file pages 0 and 1 being the database header and its shadow copy.
//!
//! **Old format** (flag 0x2000 clear; Windows up to XP/2003): the whole 8-byte
//! value at 0x00 must equal `pgno << 32 | x` where
//! `x = 0x89abcdef ^ (XOR of every word of the page except the one at 0x00)`.
//! The stored page number at 0x04 is therefore both compared and XORed in.
//!
//! **New format** (flag 0x2000 set): each checksummed block yields a 64-bit
//! value `ecc << 32 | (xor ^ pgno)`. In the block that holds the page header
//! (the whole page for small pages, block 0 for large pages) the first 8 bytes
//! (the checksum itself) are read as zero; other blocks are covered entirely.
//! So block 0 of a large page covers the checksums of blocks 1-3 at 0x28-0x3f.
//! With the block seen as `n = len / 4` words `w[0..n]`:
//!
//! * `xor` = XOR of all words (no seed).
//! * `p` = XOR of the indices `i` of the words with odd bit parity, `q` the same
//!   over `!i`; both truncated to `log2(n)` bits.
//! * `r` = XOR of the bit positions `c` (0..32) set in `xor`, `s` the same over
//!   `!c`; both 5 bits.
//! * `ecc = q << 21 | s << 16 | p << 5 | r`.
//!
//! This is a Hsiao-style single-error-correcting code: ESE uses it to repair a
//! single flipped bit; we only compare. Large pages are split into four equal
//! blocks (4 KiB each for 16 KiB pages, 8 KiB each for 32 KiB pages), each with
//! its own checksum, stored at 0x00, 0x28, 0x30, 0x38 respectively.
//!
//! (Confirmed against Microsoft's MIT-licensed ESE source, `checksumu.cxx` and
//! `checksum.cxx`, and against real databases in the tests below; the code
//! here is our own.)

/// Seed of the old-format XOR checksum (also the database-header checksum).
pub const XOR_SEED: u32 = 0x89ab_cdef;

/// Page flag: the page carries the new (XOR + ECC) checksum format.
pub const FLAG_NEW_CHECKSUM: u32 = 0x2000;

/// Offset of the page flags in the page header.
pub(crate) const OFF_FLAGS: usize = 0x24;

/// Offsets of the four per-block checksums of a large page.
pub(crate) const LARGE_SLOTS: [usize; 4] = [0x00, 0x28, 0x30, 0x38];

/// Offset of the page number in the 80-byte large-page header.
pub const OFF_LARGE_PGNO: usize = 0x40;

/// Outcome of verifying one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumStatus {
    /// Every checksum on the page matches.
    Ok,
    /// A checksum does not match (the first failing block of a large page).
    ///
    /// For a buffer whose size is not a supported page size (2, 4, 8, 16 or
    /// 32 KiB) `stored` is the first 8 bytes as available and `computed` is 0.
    Mismatch { stored: u64, computed: u64 },
    /// The page is all zero bytes: never written, nothing to verify.
    Blank,
}

/// XOR of the little-endian `u32` words of `buf`, starting from `seed`.
///
/// A trailing partial word is zero-padded. The database header's checksum at
/// offset 0 is `xor32(&header[4..], XOR_SEED)` over the header page.
pub fn xor32(buf: &[u8], seed: u32) -> u32 {
    let mut acc: u64 = 0;
    let mut chunks = buf.chunks_exact(32);
    for c in &mut chunks {
        let mut x = 0u64;
        for w in c.chunks_exact(8) {
            x ^= le_u64(w);
        }
        acc ^= x;
    }
    let mut rest = chunks.remainder();
    let mut r8 = rest.chunks_exact(8);
    for w in &mut r8 {
        acc ^= le_u64(w);
    }
    rest = r8.remainder();
    let mut folded = (acc as u32) ^ ((acc >> 32) as u32) ^ seed;
    for w in rest.chunks(4) {
        let mut b = [0u8; 4];
        for (d, s) in b.iter_mut().zip(w) {
            *d = *s;
        }
        folded ^= u32::from_le_bytes(b);
    }
    folded
}

/// Verifies the checksum(s) of one database page.
///
/// `pgno` is the logical database page number (see the module docs). Never
/// panics: unsupported sizes yield [`ChecksumStatus::Mismatch`].
pub fn verify_page(page: &[u8], pgno: u32) -> ChecksumStatus {
    let len = page.len();
    let stored0 = read_u64(page, 0);
    if !matches!(len, 2048 | 4096 | 8192 | 16384 | 32768) {
        return ChecksumStatus::Mismatch {
            stored: stored0,
            computed: 0,
        };
    }
    let new_format = read_u32(page, OFF_FLAGS) & FLAG_NEW_CHECKSUM != 0;
    let mismatch = if !new_format {
        // Old format; ESE never writes large pages this way, but if the flag
        // is clear it checksums the whole page the old way, so do we.
        let computed = (u64::from(pgno) << 32) | u64::from(old_xor(page));
        (stored0 != computed).then_some((stored0, computed))
    } else if len <= 8192 {
        let computed = xe_block(page, pgno, true);
        (stored0 != computed).then_some((stored0, computed))
    } else {
        let cb = len / 4;
        let mut first_bad = None;
        for (i, (block, slot)) in page.chunks_exact(cb).zip(LARGE_SLOTS).enumerate() {
            let stored = read_u64(page, slot);
            let computed = xe_block(block, pgno, i == 0);
            if stored != computed {
                first_bad = Some((stored, computed));
                break;
            }
        }
        first_bad
    };
    match mismatch {
        None => ChecksumStatus::Ok,
        Some(_) if page.iter().all(|&b| b == 0) => ChecksumStatus::Blank,
        Some((stored, computed)) => ChecksumStatus::Mismatch { stored, computed },
    }
}

/// Old-format XOR: seed ^ every word except the first.
fn old_xor(page: &[u8]) -> u32 {
    // XORing the first word in twice removes it.
    xor32(page, XOR_SEED) ^ read_u32(page, 0)
}

/// New-format (ECC + XOR) checksum of one block.
///
/// `block.len()` must be a power of two and a multiple of 128 (callers only
/// pass 2, 4 or 8 KiB). If `header`, the first 8 bytes are treated as zero.
///
/// The block is walked in 128-byte rows of 32 words. Per row we XOR the row
/// into 16 `u64` column accumulators and, if the row has odd parity, XOR the
/// row index into `p_hi` — that gives the bits of `p` above bit 4. The low 5
/// bits of `p` come from the column accumulators at the end: bit `k` is the
/// parity of the columns whose index has bit `k` set. Everything is linear
/// over GF(2), so this equals the word-by-word definition in the module docs.
pub(crate) fn xe_block(block: &[u8], pgno: u32, header: bool) -> u64 {
    let n_words = (block.len() / 4) as u32;
    let mut cols = [0u64; 16];
    if header {
        // Pre-load the first 8 bytes so they cancel out.
        cols[0] = read_u64(block, 0);
    }
    let mut p_hi = 0u32;
    for (row_idx, row) in block.chunks_exact(128).enumerate() {
        let mut row_x = 0u64;
        for (c, w) in cols.iter_mut().zip(row.chunks_exact(8)) {
            let v = le_u64(w);
            *c ^= v;
            row_x ^= v;
        }
        let odd = parity32((row_x as u32) ^ ((row_x >> 32) as u32));
        p_hi ^= (row_idx as u32) & 0u32.wrapping_sub(odd);
    }
    // (Row 0's parity still saw the skipped words, but row 0 has index 0 and
    // contributes nothing to p_hi either way.)

    // Split the 16 u64 accumulators into the 32 word-columns.
    let mut words = [0u32; 32];
    for (pair, c) in words.chunks_exact_mut(2).zip(cols) {
        if let [lo, hi] = pair {
            *lo = c as u32;
            *hi = (c >> 32) as u32;
        }
    }
    let mut xor = 0u32;
    let mut lane = [0u32; 5];
    for (j, &w) in words.iter().enumerate() {
        xor ^= w;
        for (k, l) in lane.iter_mut().enumerate() {
            if j & (1 << k) != 0 {
                *l ^= w;
            }
        }
    }
    let mut p_lo = 0u32;
    for (k, &l) in lane.iter().enumerate() {
        p_lo |= parity32(l) << k;
    }
    let row_mask = n_words.wrapping_sub(1);
    let all_odd = 0u32.wrapping_sub(parity32(xor));
    let p = ((p_hi << 5) | p_lo) & row_mask;
    let q = (p ^ all_odd) & row_mask;

    let mut r = 0u32;
    let mut bits = xor;
    while bits != 0 {
        r ^= bits.trailing_zeros();
        // Clear the lowest set bit (`bits` is not 0 here).
        bits &= bits.wrapping_sub(1);
    }
    let s = (r ^ all_odd) & 0x1f;
    let ecc = (q << 21) | (s << 16) | (p << 5) | r;
    (u64::from(ecc) << 32) | u64::from(xor ^ pgno)
}

#[inline]
fn parity32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x ^= x >> 8;
    x ^= x >> 4;
    (0x6996 >> (x & 0xf)) & 1
}

#[inline]
fn le_u64(b: &[u8]) -> u64 {
    b.try_into().map(u64::from_le_bytes).unwrap_or(0)
}

fn read_u64(b: &[u8], off: usize) -> u64 {
    b.get(off..off.saturating_add(8)).map_or(0, le_u64)
}

pub(crate) fn read_u32(b: &[u8], off: usize) -> u32 {
    b.get(off..off.saturating_add(4))
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::path::PathBuf;

    /// Straight from the definition, word by word, for cross-checking.
    fn xe_block_reference(block: &[u8], pgno: u32, header: bool) -> u64 {
        let words: Vec<u32> = block
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let n = words.len() as u32;
        let (mut p, mut q, mut col) = (0u32, 0u32, 0u32);
        for (i, &w) in words.iter().enumerate() {
            let w = if header && i < 2 { 0 } else { w };
            col ^= w;
            if w.count_ones() % 2 == 1 {
                p ^= i as u32;
                q ^= !(i as u32);
            }
        }
        let (mut r, mut s) = (0u32, 0u32);
        for c in 0..32u32 {
            if col & (1 << c) != 0 {
                r ^= c;
                s ^= !c;
            }
        }
        let ecc = ((q & (n - 1)) << 21) | ((s & 31) << 16) | ((p & (n - 1)) << 5) | (r & 31);
        (u64::from(ecc) << 32) | u64::from(col ^ pgno)
    }

    fn samples_dir() -> Option<PathBuf> {
        let dir = std::env::var_os("BITSCOPE_SAMPLES")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/samples"));
        if dir.join("ese").is_dir() {
            return Some(dir);
        }
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("samples missing at {} (CI=true)", dir.display());
        }
        eprintln!("SKIP: ESE samples not found at {}", dir.display());
        None
    }

    fn load(path: &std::path::Path) -> Vec<u8> {
        let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if path.extension().is_some_and(|e| e == "gz") {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .unwrap();
            out
        } else {
            raw
        }
    }

    #[derive(Default, Debug)]
    struct Counts {
        ok: usize,
        mismatch: usize,
        blank: usize,
        old_format: usize,
    }

    fn verify_file(data: &[u8]) -> (usize, Counts) {
        let page_size = read_u32(data, 0xec) as usize;
        assert!(
            matches!(page_size, 2048 | 4096 | 8192 | 16384 | 32768),
            "page size {page_size}"
        );
        assert_eq!(data.len() % page_size, 0);
        // Both header copies carry the old 4-byte XOR over the header page.
        for hdr in data.chunks_exact(page_size).take(2) {
            assert_eq!(xor32(&hdr[4..], XOR_SEED), read_u32(hdr, 0), "db header");
        }
        let mut counts = Counts::default();
        for (i, page) in data.chunks_exact(page_size).enumerate().skip(2) {
            let pgno = (i - 1) as u32;
            if page.iter().any(|&b| b != 0) && read_u32(page, OFF_FLAGS) & FLAG_NEW_CHECKSUM == 0 {
                counts.old_format += 1;
            }
            match verify_page(page, pgno) {
                ChecksumStatus::Ok => counts.ok += 1,
                ChecksumStatus::Blank => counts.blank += 1,
                ChecksumStatus::Mismatch { stored, computed } => {
                    counts.mismatch += 1;
                    eprintln!("  pgno {pgno}: stored {stored:#018x} computed {computed:#018x}");
                }
            }
            if page_size > 8192 && page.iter().any(|&b| b != 0) {
                assert_eq!(
                    read_u32(page, OFF_LARGE_PGNO),
                    pgno,
                    "large-page pgno field"
                );
            }
        }
        (page_size, counts)
    }

    #[test]
    fn real_databases_verify() {
        let Some(dir) = samples_dir() else { return };
        let ese = dir.join("ese");
        let mut files = vec![
            ese.join("win10/qmgr.db"),
            ese.join("win11/qmgr.db"),
            ese.join("other/decompress_test.edb"),
        ];
        let mut gz: Vec<PathBuf> = std::fs::read_dir(ese.join("other"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".edb.gz"))
            .collect();
        gz.sort();
        assert!(!gz.is_empty());
        files.extend(gz);
        for f in &files {
            let data = load(f);
            let (page_size, c) = verify_file(&data);
            eprintln!(
                "{}: page {} KiB, ok {} mismatch {} blank {} (old-format pages {})",
                f.strip_prefix(&ese).unwrap_or(f).display(),
                page_size / 1024,
                c.ok,
                c.mismatch,
                c.blank,
                c.old_format
            );
            assert_eq!(c.mismatch, 0, "{}", f.display());
            assert!(c.ok > 0, "{}", f.display());
        }
    }

    #[test]
    fn single_raw_pages_verify() {
        let Some(dir) = samples_dir() else { return };
        let pages = dir.join("ese/pages");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(pages.join("win10"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "raw"))
            .collect();
        paths.sort();
        paths.push(pages.join("win11/catalog_24h2.raw"));
        paths.push(pages.join("win11/edge_catalog_24h2.raw"));
        for p in &paths {
            let page = load(p);
            let pgno = read_u32(&page, OFF_LARGE_PGNO);
            let st = verify_page(&page, pgno);
            eprintln!(
                "{}: {} bytes, pgno {pgno}: {st:?}",
                p.strip_prefix(&pages).unwrap_or(p).display(),
                page.len()
            );
            assert_eq!(st, ChecksumStatus::Ok, "{}", p.display());
            // The wrong page number must be caught.
            assert!(matches!(
                verify_page(&page, pgno ^ 1),
                ChecksumStatus::Mismatch { .. }
            ));
        }
    }

    #[test]
    fn fast_block_matches_reference() {
        let mut rng = crate::util::rng::Rng::new(0x1234_5678_9abc_def0);
        let mut buf = vec![0u8; 8192];
        for round in 0..50 {
            for b in buf.iter_mut() {
                *b = (rng.next_u64() >> 24) as u8;
            }
            for len in [2048usize, 4096, 8192] {
                for header in [false, true] {
                    let pgno = round * 7919 + 1;
                    assert_eq!(
                        xe_block(&buf[..len], pgno, header),
                        xe_block_reference(&buf[..len], pgno, header),
                        "len {len} header {header}"
                    );
                }
            }
        }
    }

    /// Builds a valid new-format page (small or large) the way ESE would.
    fn seal(page: &mut [u8], pgno: u32) {
        let flags = read_u32(page, OFF_FLAGS) | FLAG_NEW_CHECKSUM;
        page[OFF_FLAGS..OFF_FLAGS + 4].copy_from_slice(&flags.to_le_bytes());
        if page.len() > 8192 {
            page[OFF_LARGE_PGNO..OFF_LARGE_PGNO + 4].copy_from_slice(&pgno.to_le_bytes());
            let cb = page.len() / 4;
            for i in 1..4 {
                let x = xe_block(&page[i * cb..(i + 1) * cb], pgno, false);
                let off = LARGE_SLOTS[i];
                page[off..off + 8].copy_from_slice(&x.to_le_bytes());
            }
            let x = xe_block(&page[..cb], pgno, true);
            page[..8].copy_from_slice(&x.to_le_bytes());
        } else {
            let x = xe_block(page, pgno, true);
            page[..8].copy_from_slice(&x.to_le_bytes());
        }
    }

    #[test]
    fn any_flipped_bit_mismatches() {
        for size in [2048usize, 4096, 8192, 16384, 32768] {
            let mut page: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
            seal(&mut page, 42);
            assert_eq!(verify_page(&page, 42), ChecksumStatus::Ok, "size {size}");
            assert!(matches!(
                verify_page(&page, 43),
                ChecksumStatus::Mismatch { .. }
            ));
            // Every bit of a few spread-out bytes, and one bit of every byte.
            for byte in 0..size {
                let bits: &[u8] = if byte % 997 == 0 || byte < 80 {
                    &[0, 1, 2, 3, 4, 5, 6, 7]
                } else {
                    &[(byte % 8) as u8]
                };
                for &bit in bits {
                    page[byte] ^= 1 << bit;
                    assert!(
                        matches!(verify_page(&page, 42), ChecksumStatus::Mismatch { .. }),
                        "size {size} byte {byte} bit {bit}"
                    );
                    page[byte] ^= 1 << bit;
                }
            }
        }
    }

    #[test]
    fn old_format_page() {
        let mut page: Vec<u8> = (0..4096).map(|i| (i * 7 % 256) as u8).collect();
        page[OFF_FLAGS..OFF_FLAGS + 4].copy_from_slice(&0u32.to_le_bytes());
        page[4..8].copy_from_slice(&9u32.to_le_bytes());
        let x = xor32(&page[4..], XOR_SEED);
        page[..4].copy_from_slice(&x.to_le_bytes());
        assert_eq!(verify_page(&page, 9), ChecksumStatus::Ok);
        assert!(matches!(
            verify_page(&page, 10),
            ChecksumStatus::Mismatch { .. }
        ));
        page[1000] ^= 0x10;
        assert!(matches!(
            verify_page(&page, 9),
            ChecksumStatus::Mismatch { .. }
        ));
    }

    #[test]
    fn flipped_bit_in_real_page() {
        let Some(dir) = samples_dir() else { return };
        let data = load(&dir.join("ese/win11/qmgr.db"));
        let ps = 16384;
        let mut flipped = 0;
        for (i, page) in data.chunks_exact(ps).enumerate().skip(2) {
            let pgno = (i - 1) as u32;
            if verify_page(page, pgno) != ChecksumStatus::Ok {
                continue;
            }
            let mut p = page.to_vec();
            for off in [9usize, 0x2a, 0x41, 5000, 9000, 16383] {
                p[off] ^= 0x04;
                assert!(
                    matches!(verify_page(&p, pgno), ChecksumStatus::Mismatch { .. }),
                    "pgno {pgno} off {off}"
                );
                p[off] ^= 0x04;
                flipped += 1;
            }
        }
        assert!(flipped > 0);
    }

    #[test]
    fn blank_and_hostile_sizes() {
        for size in [2048usize, 4096, 8192, 16384, 32768] {
            assert_eq!(verify_page(&vec![0; size], 5), ChecksumStatus::Blank);
        }
        for size in [
            0usize, 1, 3, 7, 8, 39, 40, 79, 100, 4095, 4097, 12288, 65536,
        ] {
            let buf = vec![0xa5u8; size];
            assert!(matches!(
                verify_page(&buf, 1),
                ChecksumStatus::Mismatch { computed: 0, .. }
            ));
            let _ = xor32(&buf, 0);
        }
        assert_eq!(xor32(&[], 7), 7);
        assert_eq!(xor32(&[1, 0, 0, 0, 2], 0), 3);
    }

    #[test]
    #[ignore = "throughput measurement; run with --release --ignored --nocapture"]
    fn throughput() {
        // 64 MiB of distinct sealed pages, so the data comes from memory, not cache.
        const TOTAL: usize = 64 << 20;
        for size in [4096usize, 8192, 16384, 32768] {
            let mut buf: Vec<u8> = (0..TOTAL).map(|i| (i * 31 % 251) as u8).collect();
            for (i, page) in buf.chunks_exact_mut(size).enumerate() {
                seal(page, i as u32 + 1);
            }
            let passes = 4;
            let t = std::time::Instant::now();
            let mut ok = 0usize;
            for _ in 0..passes {
                for (i, page) in buf.chunks_exact(size).enumerate() {
                    if verify_page(std::hint::black_box(page), i as u32 + 1) == ChecksumStatus::Ok {
                        ok += 1;
                    }
                }
            }
            let secs = t.elapsed().as_secs_f64();
            assert_eq!(ok, passes * TOTAL / size);
            eprintln!(
                "{} KiB pages: {:.0} MB/s",
                size / 1024,
                (passes * TOTAL) as f64 / secs / 1e6
            );
        }
    }
}
