//! A Windows volume handle (`\\.\C:`) takes only reads of whole aligned sectors. Over an NTFS
//! disk made with mkntfs (`common/disk_image.rs`), read through a reader that refuses any
//! other read: bitscope's own NTFS reader (64 KiB cache blocks, whole clusters) finds every
//! store with the same bytes as through the plain file even so (the `ntfs` crate it replaced
//! asked for odd ranges and found nothing), and through `container::aligned::Aligned` no read
//! at all is refused.

mod common;
#[path = "common/disk_image.rs"]
mod disk_image;

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

use bitscope::container::{self, aligned::Aligned, ReadAt};
use bitscope::input::Evidence;

/// Refuses (with an error) any read that does not start on a sector boundary or is not whole
/// sectors long, as Windows does for a volume handle; counts both kinds.
struct VolumeHandle {
    inner: Evidence,
    sector: u64,
    refused: AtomicU64,
    served: AtomicU64,
}

impl ReadAt for VolumeHandle {
    fn size(&self) -> u64 {
        self.inner.len()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset % self.sector != 0 || buf.len() as u64 % self.sector != 0 {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(io::Error::from_raw_os_error(87)); // ERROR_INVALID_PARAMETER
        }
        self.served.fetch_add(1, Ordering::Relaxed);
        self.inner.read_at(offset, buf)
    }
}

fn handle(path: &std::path::Path) -> VolumeHandle {
    VolumeHandle {
        inner: Evidence::open(path).expect("the disk image"),
        sector: 512,
        refused: AtomicU64::new(0),
        served: AtomicU64::new(0),
    }
}

/// (NTFS path, size, bytes) of every store found.
fn stores(file: &dyn ReadAt) -> Vec<(String, u64, Vec<u8>)> {
    let Some(found) = container::open(file) else {
        return Vec::new();
    };
    let (stores, _) = found.all_stores();
    stores
        .iter()
        .map(|s| {
            let bytes = found
                .read_store(s, container::MAX_STORE)
                .unwrap_or_default();
            (s.path.clone(), s.size, bytes)
        })
        .collect()
}

#[test]
fn a_reader_that_issues_unaligned_reads_fails_on_a_volume_handle_and_aligned_passes() {
    let Some(image) = disk_image::disk_image() else {
        return;
    };
    let plain = Evidence::open(&image.path).unwrap();
    let want = stores(&plain);
    assert!(want.len() >= 4, "{} stores", want.len());
    assert!(want
        .iter()
        .all(|(_, size, bytes)| *size == bytes.len() as u64));

    // The container layer straight on the handle: the NTFS reader's reads are whole sectors,
    // so every store reads back the same (the reads refused are none a store needs).
    let bare = handle(&image.path);
    let got = stores(&bare);
    let refused = bare.refused.load(Ordering::Relaxed);
    assert!(
        got == want,
        "the NTFS reader on a volume handle found other stores or bytes"
    );

    // Through Aligned: every read the handle sees is whole sectors, and the stores are equal.
    let strict = handle(&image.path);
    let got = stores(&Aligned::new(&strict, 512));
    assert_eq!(strict.refused.load(Ordering::Relaxed), 0);
    assert!(strict.served.load(Ordering::Relaxed) > 0);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((&g.0, g.1), (&w.0, w.1));
        assert!(g.2 == w.2, "{}: bytes differ", g.0);
    }
    eprintln!(
        "aligned: {} stores; bare: the same stores, {refused} reads refused (none a store needed); through Aligned: {} whole-sector reads, 0 refused",
        got.len(),
        strict.served.load(Ordering::Relaxed)
    );
}
