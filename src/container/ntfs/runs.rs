//! Data runs (mapping pairs): where a non-resident value's clusters are.
//!
//! Each run is a header byte (low nibble: bytes of the length, high nibble: bytes of the
//! offset), the length in clusters (unsigned), then the offset of its first cluster from the
//! previous run's (signed, little-endian); no offset bytes is a sparse run (zeros, nothing
//! stored). A 0 header byte ends the list.

/// One run: `len` clusters from virtual cluster `vcn`, stored at logical cluster `lcn` of the
/// volume, or nowhere (`None`, sparse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub vcn: u64,
    pub lcn: Option<u64>,
    pub len: u64,
}

/// The runs in `b`, starting at `first_vcn`; at most `max` runs (more is an error).
pub fn decode(b: &[u8], first_vcn: u64, max: usize) -> Result<Vec<Run>, String> {
    let mut runs = Vec::new();
    let mut at = 0usize;
    let mut vcn = first_vcn;
    let mut lcn: i64 = 0;
    while let Some(&head) = b.get(at) {
        if head == 0 {
            break;
        }
        if runs.len() >= max {
            return Err(format!("more than {max} data runs"));
        }
        let (len_bytes, off_bytes) = (usize::from(head & 0x0F), usize::from(head >> 4));
        if len_bytes == 0 || len_bytes > 8 || off_bytes > 8 {
            return Err(format!("data run header {head:#04x} at run offset {at}"));
        }
        let field = |from: usize, n: usize| b.get(from..from.checked_add(n)?);
        let len_b = field(at.saturating_add(1), len_bytes).ok_or("data runs cut short")?;
        let off_b = field(at.saturating_add(1).saturating_add(len_bytes), off_bytes)
            .ok_or("data runs cut short")?;
        let len = le_unsigned(len_b);
        if len == 0 {
            return Err(format!("data run of 0 clusters at run offset {at}"));
        }
        let start = if off_bytes == 0 {
            None
        } else {
            lcn = lcn
                .checked_add(le_signed(off_b))
                .filter(|l| *l >= 0)
                .ok_or_else(|| format!("data run at run offset {at} points before the volume"))?;
            Some(lcn.unsigned_abs())
        };
        runs.push(Run {
            vcn,
            lcn: start,
            len,
        });
        vcn = vcn.checked_add(len).ok_or("data runs overflow")?;
        at = at
            .saturating_add(1)
            .saturating_add(len_bytes)
            .saturating_add(off_bytes);
    }
    Ok(runs)
}

fn le_unsigned(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x))
}

fn le_signed(b: &[u8]) -> i64 {
    let Some(&last) = b.last() else { return 0 };
    let fill: u8 = if last & 0x80 != 0 { 0xFF } else { 0 };
    let mut full = [fill; 8];
    for (d, s) in full.iter_mut().zip(b) {
        *d = *s;
    }
    i64::from_le_bytes(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_relative_offsets_and_sparse_runs() {
        // 0x21: 1 length byte, 2 offset bytes. 0x01: sparse. 0x11 with a negative offset.
        let b = [
            0x21, 0x10, 0x00, 0x10, // 16 clusters at 4096
            0x01, 0x08, // 8 sparse
            0x11, 0x04, 0xF0, // 4 clusters at 4096 - 16
            0x00,
        ];
        let runs = decode(&b, 0, 16).unwrap();
        assert_eq!(
            runs,
            [
                Run {
                    vcn: 0,
                    lcn: Some(4096),
                    len: 16
                },
                Run {
                    vcn: 16,
                    lcn: None,
                    len: 8
                },
                Run {
                    vcn: 24,
                    lcn: Some(4080),
                    len: 4
                },
            ]
        );
        assert!(decode(&b, 0, 2).is_err());
        assert!(decode(&[0x11, 0x04, 0x80], 0, 4).is_err()); // before the volume
        assert!(decode(&[0x21, 0x04, 0x01], 0, 4).is_err()); // cut short
        assert!(decode(&[0x91, 0x04, 0x01], 0, 4).is_err()); // 9 offset bytes
        assert!(decode(&[0x10, 0x01], 0, 4).is_err()); // no length bytes
        assert_eq!(decode(&[], 0, 4).unwrap(), []);
        // The first VCN of a later piece carries on.
        assert_eq!(decode(&[0x11, 1, 1, 0], 300, 4).unwrap()[0].vcn, 300);
    }
}
