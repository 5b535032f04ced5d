//! The container formats' checksums: CRC-32C (Castagnoli; VHDX headers and region tables),
//! CRC-32 (IEEE; event log headers and chunks) and Adler-32 (E01 section descriptors and
//! tables). Small enough to keep here rather than add
//! a crate; checked against the published check values below.

/// CRC-32C of `data` (reflected polynomial 0x82F63B78, initial and final XOR 0xFFFFFFFF).
pub fn crc32c(data: &[u8]) -> u32 {
    crc32_with(&CRC32C, data)
}

/// CRC-32 (IEEE 802.3, as zlib: reflected polynomial 0xEDB88320) of the pieces of `data` in
/// turn.
#[allow(
    clippy::indexing_slicing,
    reason = "a byte (0..=255) indexes the 256-entry table"
)]
pub fn crc32(data: &[&[u8]]) -> u32 {
    !data.iter().fold(!0u32, |c, piece| {
        piece
            .iter()
            .fold(c, |c, b| CRC32[usize::from((c as u8) ^ b)] ^ (c >> 8))
    })
}

#[allow(
    clippy::indexing_slicing,
    reason = "a byte (0..=255) indexes the 256-entry table"
)]
fn crc32_with(table: &[u32; 256], data: &[u8]) -> u32 {
    !data
        .iter()
        .fold(!0u32, |c, b| table[usize::from((c as u8) ^ b)] ^ (c >> 8))
}

const CRC32: [u32; 256] = table(0xEDB8_8320);
const CRC32C: [u32; 256] = table(0x82F6_3B78);

#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "run at compile time only (the two tables): an overflow or a bad index fails the build"
)]
const fn table(poly: u32) -> [u32; 256] {
    {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 { poly ^ (c >> 1) } else { c >> 1 };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    }
}

/// Adler-32 of `data`.
pub fn adler32(data: &[u8]) -> u32 {
    let mut a = Adler32::new();
    a.update(data);
    a.sum()
}

/// Adler-32 fed piece by piece (a table's entries read in slices, never whole).
#[derive(Debug, Clone, Copy)]
pub struct Adler32 {
    a: u32,
    b: u32,
}

impl Default for Adler32 {
    fn default() -> Self {
        Adler32::new()
    }
}

impl Adler32 {
    const MOD: u32 = 65_521;

    pub fn new() -> Adler32 {
        Adler32 { a: 1, b: 0 }
    }

    #[allow(
        clippy::arithmetic_side_effects,
        reason = "5552 is zlib's NMAX, the longest run whose sums stay below 2^32 from reduced \
                  starting values: 255·n(n+1)/2 + (n+1)(MOD-1) < 2^32"
    )]
    pub fn update(&mut self, data: &[u8]) {
        // 5552 bytes is the most that can be summed before the 32-bit sums must be reduced.
        for chunk in data.chunks(5552) {
            for &x in chunk {
                self.a += u32::from(x);
                self.b += self.a;
            }
            self.a %= Self::MOD;
            self.b %= Self::MOD;
        }
    }

    pub fn sum(&self) -> u32 {
        (self.b << 16) | self.a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_values() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
        assert_eq!(crc32(&[b"123456789"]), 0xCBF4_3926);
        assert_eq!(crc32(&[b"1234", b"56789"]), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(b""), 1);
        let mut pieces = Adler32::new();
        for part in b"Wiki pedia".split(|b| *b == b' ') {
            pieces.update(part);
        }
        assert_eq!(pieces.sum(), 0x11E6_0398);
        assert_eq!(adler32(&[0xff; 100_000]), {
            // The same sums without the chunking shortcut.
            let (mut a, mut b) = (1u64, 0u64);
            for _ in 0..100_000 {
                a = (a + 0xff) % 65_521;
                b = (b + a) % 65_521;
            }
            ((b << 16) | a) as u32
        });
    }
}
