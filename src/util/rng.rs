//! The one small seeded PRNG (xorshift64*) of the crate, its tests and benches: a seed always
//! yields the same file, the same mutations, the same synthetic records.

/// xorshift64* over a SplitMix64-scrambled seed (a zero seed still works).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // SplitMix64 once, so that nearby seeds give unrelated streams and 0 is not a fixed point.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    /// An independent stream derived from this one and a label.
    pub fn fork(&mut self, label: u64) -> Rng {
        let v = self.next_u64();
        Rng::new(v ^ label.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Multiply-shift: unbiased enough for test data, and branch-free.
        #[allow(
            clippy::arithmetic_side_effects,
            reason = "two u64 factors cannot overflow a u128: (2^64-1)^2 < 2^128"
        )]
        let product = u128::from(self.next_u64()) * u128::from(n);
        (product >> 64) as u64
    }

    /// Uniform index into a collection of `len` items (0 when empty).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        // `hi > lo`, so the span is exact and `lo + below(..) <= hi`. The whole u64 range
        // (`0..=u64::MAX`, 2^64 values) leaves out its top value rather than overflow.
        let span = hi.saturating_sub(lo);
        lo.saturating_add(self.below(span.saturating_add(1)))
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// One element of a non-empty slice (the first when `items` has one element).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.index(items.len()))
    }

    /// A random version-4 GUID in stored (Windows `GUID`) byte order.
    pub fn guid(&mut self) -> [u8; 16] {
        let mut g = [0u8; 16];
        g[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        g[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        // Data3's high nibble is the version (stored little-endian: byte 7), byte 8 the variant.
        g[7] = (g[7] & 0x0F) | 0x40;
        g[8] = (g[8] & 0x3F) | 0x80;
        g
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            // `i < items.len()`: cannot overflow.
            let j = self.index(i.saturating_add(1));
            items.swap(i, j);
        }
    }

    /// `n` random bytes from `alphabet`.
    pub fn string_from(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| {
                char::from(
                    alphabet
                        .get(self.index(alphabet.len()))
                        .copied()
                        .unwrap_or(b'x'),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_spread() {
        let a: Vec<u64> = {
            let mut r = Rng::new(7);
            (0..5).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(7);
            (0..5).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        let mut r = Rng::new(0);
        assert_ne!(r.next_u64(), 0);
        let mut counts = [0u32; 10];
        for _ in 0..10_000 {
            counts[r.index(10)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
        let g = r.guid();
        assert_eq!(g[7] >> 4, 4);
        assert_eq!(g[8] >> 6, 2);
    }
}
