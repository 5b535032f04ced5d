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

    /// A GUID written as text (`{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`, braces optional, any
    /// case), as event logs and the registry write them; `None` for anything else.
    pub fn parse(text: &str) -> Option<Guid> {
        let t = text.trim();
        let t = t
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(t);
        if !t.chars().all(|c| c == '-' || c.is_ascii_hexdigit()) {
            return None;
        }
        let parts: Vec<&str> = t.split('-').collect();
        let [p0, p1, p2, p3, p4] = parts.as_slice() else {
            return None;
        };
        let lens = [8, 4, 4, 4, 12];
        if parts.iter().zip(lens).any(|(p, n)| p.len() != n) {
            return None;
        }
        let hex = |s: &str| u64::from_str_radix(s, 16).ok();
        let (a, b, c) = (hex(p0)?, hex(p1)?, hex(p2)?);
        // The last two groups are 8 bytes stored in text order: 16 hex digits, big-endian.
        let tail = hex(&format!("{p3}{p4}"))?;
        let mut g = [0u8; 16];
        g[..4].copy_from_slice(&u32::try_from(a).ok()?.to_le_bytes());
        g[4..6].copy_from_slice(&u16::try_from(b).ok()?.to_le_bytes());
        g[6..8].copy_from_slice(&u16::try_from(c).ok()?.to_le_bytes());
        g[8..].copy_from_slice(&tail.to_be_bytes());
        Some(Guid(g))
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

/// As its canonical text (JSON exports show GUIDs as strings).
impl serde::Serialize for Guid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
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
        assert_eq!(
            Guid::parse("{E10956A1-AF43-42C9-92E6-6F9856EBA7F6}"),
            Some(Guid(b))
        );
        assert_eq!(
            Guid::parse("e10956a1-af43-42c9-92e6-6f9856eba7f6"),
            Some(Guid(b))
        );
        assert_eq!(Guid::parse("e10956a1-af43-42c9-92e6-6f9856eba7f"), None);
        assert_eq!(Guid::parse("e10956a1-af43-42c9-92e6-6f9856eba7fé"), None);
    }
}
