//! A small block cache over positioned reads: small reads (file records, boot sectors,
//! attribute lists) are served from the last few 64 KiB blocks read, so a file system walk that
//! looks up the same parent directories and extension records again and again reads the image
//! once per block, not once per lookup; reads of a block or more go straight to the image.
//! Every read of the image it makes is counted ([`Cached::reads`]).

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::ReadAt;

/// Bytes per cached block.
pub const BLOCK: u64 = 64 * 1024;
/// Blocks kept (2 MiB in all).
const SLOTS: usize = 32;

pub struct Cached<'a> {
    inner: &'a dyn ReadAt,
    /// (block number, bytes, last use), most recent use largest.
    slots: Mutex<Vec<(u64, Vec<u8>, u64)>>,
    clock: AtomicU64,
    reads: AtomicU64,
}

impl<'a> Cached<'a> {
    pub fn new(inner: &'a dyn ReadAt) -> Cached<'a> {
        Cached {
            inner,
            slots: Mutex::new(Vec::new()),
            clock: AtomicU64::new(0),
            reads: AtomicU64::new(0),
        }
    }

    /// Reads made of the image below so far.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    fn read_inner(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.read_at(offset, buf)
    }

    /// Copy what block `b` holds from `within` into `dst`; how many bytes it held.
    fn copy_block(&self, b: u64, within: usize, dst: &mut [u8]) -> io::Result<usize> {
        let now = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut slots = self
            .slots
            .lock()
            .map_err(|_| io::Error::other("block cache poisoned"))?;
        let i = match slots.iter().position(|s| s.0 == b) {
            Some(i) => i,
            None => {
                let mut bytes = vec![0u8; BLOCK as usize];
                let got = self.read_inner(b.saturating_mul(BLOCK), &mut bytes)?;
                bytes.truncate(got);
                if slots.len() >= SLOTS {
                    let oldest = slots
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, s)| s.2)
                        .map_or(0, |(i, _)| i);
                    slots.swap_remove(oldest);
                }
                slots.push((b, bytes, now));
                slots.len().saturating_sub(1)
            }
        };
        let Some(slot) = slots.get_mut(i) else {
            return Ok(0);
        };
        slot.2 = now;
        let src = slot.1.get(within..).unwrap_or_default();
        let n = src.len().min(dst.len());
        if let (Some(d), Some(s)) = (dst.get_mut(..n), src.get(..n)) {
            d.copy_from_slice(s);
        }
        Ok(n)
    }
}

impl ReadAt for Cached<'_> {
    fn size(&self) -> u64 {
        self.inner.size()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if buf.len() as u64 >= BLOCK {
            return self.read_inner(offset, buf);
        }
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset.saturating_add(done as u64);
            let within = (at % BLOCK) as usize;
            let dst = buf.get_mut(done..).unwrap_or_default();
            let n = self.copy_block(at / BLOCK, within, dst)?;
            if n == 0 {
                break;
            }
            done = done.saturating_add(n);
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_reads_come_from_cached_blocks_and_equal_the_image() {
        let image: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let c = Cached::new(&image);
        let mut buf = [0u8; 1024];
        for at in [0u64, 1024, 65_000, 130_000, 1024, 299_500] {
            let n = c.read_at(at, &mut buf).unwrap();
            let want = &image[at as usize..(at as usize + 1024).min(image.len())];
            assert_eq!(&buf[..n], want, "at {at}");
        }
        // Blocks 0, 1 (65,000 crosses into it; 130,000 lies in it too) and 4.
        assert_eq!(c.reads(), 3);
        // A block or more goes straight through.
        let mut big = vec![0u8; BLOCK as usize];
        c.read_at(7, &mut big).unwrap();
        assert_eq!(c.reads(), 4);
        assert_eq!(&big[..], &image[7..7 + BLOCK as usize]);
        // Past the end: nothing.
        assert_eq!(c.read_at(400_000, &mut buf).unwrap(), 0);
    }
}
