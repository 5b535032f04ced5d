//! Sector-aligned reads over a reader that takes nothing else: a Windows volume handle
//! (`\\.\C:`) refuses a read that does not start on a sector boundary or is not a whole number
//! of sectors long (ERROR_INVALID_PARAMETER), while the NTFS reader above asks for any range
//! (a 1 KiB file record at an odd cluster, a 2-byte fixup). [`Aligned`] turns every read into
//! reads of whole aligned sectors through a small buffer and copies out the range asked for.

use std::io;

use super::ReadAt;

/// The most read from the inner reader at once (a multiple of every sector size).
const CHUNK: u64 = 1 << 20;

/// Reads of whole `sector`-aligned sectors only, from `inner`.
pub struct Aligned<R> {
    inner: R,
    sector: u64,
}

impl<R: ReadAt> Aligned<R> {
    /// `sector` is the device's sector size (512 or 4096; anything from 1 up is accepted, and a
    /// size that does not divide [`CHUNK`] is rounded to one that does).
    pub fn new(inner: R, sector: u64) -> Aligned<R> {
        let sector = sector.clamp(1, CHUNK);
        let sector = if CHUNK.checked_rem(sector) == Some(0) {
            sector
        } else {
            sector.next_power_of_two().min(CHUNK)
        };
        Aligned { inner, sector }
    }
}

impl<R: ReadAt> ReadAt for Aligned<R> {
    fn size(&self) -> u64 {
        self.inner.size()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let size = self.inner.size();
        let want = (buf.len() as u64).min(size.saturating_sub(offset));
        let end = offset.saturating_add(want);
        // The remainder is at most `offset`: the subtraction is exact.
        let mut at = offset.saturating_sub(offset.checked_rem(self.sector).unwrap_or(0));
        let mut done = 0usize;
        let mut chunk = Vec::new();
        while at < end {
            // Whole sectors covering [at, end), at most CHUNK bytes.
            let span = end
                .saturating_sub(at)
                .div_ceil(self.sector)
                .saturating_mul(self.sector);
            let len = usize::try_from(span.min(CHUNK)).unwrap_or(usize::MAX);
            chunk.resize(len, 0);
            let got = self.inner.read_at(at, &mut chunk)?;
            // The part of what came back that lies in the range asked for.
            let from = usize::try_from(offset.saturating_sub(at)).unwrap_or(usize::MAX);
            let upto = usize::try_from(end.saturating_sub(at))
                .unwrap_or(usize::MAX)
                .min(got);
            let Some(src) = chunk.get(from..upto).filter(|s| !s.is_empty()) else {
                break;
            };
            let Some(dst) = buf.get_mut(done..done.saturating_add(src.len())) else {
                break;
            };
            dst.copy_from_slice(src);
            done = done.saturating_add(src.len());
            if got < len {
                break;
            }
            at = at.saturating_add(len as u64);
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Refuses any read not of whole aligned sectors, as a volume handle does.
    struct Strict(Vec<u8>, u64);

    impl ReadAt for Strict {
        fn size(&self) -> u64 {
            self.0.len() as u64
        }
        fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
            if offset % self.1 != 0 || buf.len() as u64 % self.1 != 0 {
                return Err(io::Error::new(io::ErrorKind::InvalidInput, "unaligned"));
            }
            self.0.read_at(offset, buf)
        }
    }

    #[test]
    fn every_range_reads_as_the_bytes_through_whole_sectors() {
        let bytes: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let strict = Strict(bytes.clone(), 512);
        assert!(strict.read_at(1, &mut [0u8; 4]).is_err());
        let r = Aligned::new(strict, 512);
        for (off, len) in [
            (0, 0),
            (0, 1),
            (1, 2),
            (511, 2),
            (512, 512),
            (700, 3000),
            (9990, 50),
        ] {
            let mut buf = vec![0u8; len];
            let got = r.read_at(off as u64, &mut buf).unwrap();
            let want = &bytes[off.min(bytes.len())..(off + len).min(bytes.len())];
            assert_eq!(&buf[..got], want, "{off} {len}");
        }
        // Past the end: nothing.
        assert_eq!(r.read_at(20_000, &mut [0u8; 8]).unwrap(), 0);
    }

    #[test]
    fn a_range_larger_than_the_buffer_comes_back_whole() {
        let bytes: Vec<u8> = (0..(3 * CHUNK as u32 + 777))
            .map(|i| (i % 253) as u8)
            .collect();
        let r = Aligned::new(Strict(bytes.clone(), 4096), 4096);
        let mut buf = vec![0u8; 2 * CHUNK as usize + 5];
        assert_eq!(r.read_at(333, &mut buf).unwrap(), buf.len());
        assert_eq!(buf, bytes[333..333 + buf.len()]);
    }
}
