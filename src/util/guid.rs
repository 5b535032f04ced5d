//! GUIDs in the Windows `GUID` layout: u32, u16, u16 little-endian, then 8 bytes in order.

use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    pub fn from_slice(b: &[u8]) -> Option<Guid> {
        b.get(..16)?.try_into().ok().map(Guid)
    }

    pub fn is_nil(&self) -> bool {
        self.0 == [0u8; 16]
    }
}

impl fmt::Display for Guid {
    /// Canonical lowercase `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_le_bytes([b[4], b[5]]),
            u16::from_le_bytes([b[6], b[7]]),
            b[8],
            b[9],
            b[10],
            b[11],
            b[12],
            b[13],
            b[14],
            b[15]
        )
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn canonical_form() {
        // The Win10+ job marker A15609E143AFC94292E66F9856EBA7F6 as stored bytes.
        let b = [
            0xA1, 0x56, 0x09, 0xE1, 0x43, 0xAF, 0xC9, 0x42, 0x92, 0xE6, 0x6F, 0x98, 0x56, 0xEB,
            0xA7, 0xF6,
        ];
        assert_eq!(Guid(b).to_string(), "e10956a1-af43-42c9-92e6-6f9856eba7f6");
    }
}
