//! The NTFS boot sector (the volume's first sector): its geometry.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0x03 | 8 | OEM id `NTFS    ` |
//! | 0x0B | 2 | bytes per sector (256 to 4096, a power of two; 4096 on a 4Kn disk) |
//! | 0x0D | 1 | sectors per cluster; above 0x80, the cluster is 2^(256 − n) sectors (64 KiB and up) |
//! | 0x28 | 8 | sectors in the volume |
//! | 0x30 | 8 | first cluster of `$MFT` |
//! | 0x38 | 8 | first cluster of `$MFTMirr` |
//! | 0x40 | 1 | file record size: clusters when positive, else 2^(−n) bytes (signed) |
//! | 0x44 | 1 | index record size, coded the same way |
//! | 0x1FE | 2 | `55 AA` (not checked: a volume whose end marker is damaged is still read) |

use crate::util::bytes::{u16_le, u64_le, u8_at};

/// The geometry of an NTFS volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Boot {
    pub sector: u64,
    pub cluster: u64,
    /// The volume's size in bytes (sectors × sector size).
    pub size: u64,
    /// Byte offset of the MFT's first cluster in the volume.
    pub mft: u64,
    /// Bytes per file record (MFT entry).
    pub record: u64,
}

/// The largest cluster accepted (Windows formats up to 2 MiB).
const MAX_CLUSTER: u64 = 2 << 20;

/// A size coded as at 0x40: clusters when positive, else 2^(−n) bytes.
fn coded_size(raw: u8, cluster: u64) -> Option<u64> {
    let n = i8::from_le_bytes([raw]);
    if n > 0 {
        u64::from(n.unsigned_abs()).checked_mul(cluster)
    } else {
        1u64.checked_shl(u32::from(n.unsigned_abs()))
    }
}

impl Boot {
    /// The geometry from the boot sector's bytes, or why it is not a readable NTFS volume.
    pub fn parse(b: &[u8]) -> Result<Boot, String> {
        if b.get(3..11) != Some(b"NTFS    ") {
            return Err("no NTFS signature".into());
        }
        let sector = u64::from(u16_le(b, 0x0B).unwrap_or(0));
        if !(256..=4096).contains(&sector) || !sector.is_power_of_two() {
            return Err(format!("{sector} bytes per sector"));
        }
        let spc = u8_at(b, 0x0D).unwrap_or(0);
        let sectors_per_cluster = if spc > 0x80 {
            1u64.checked_shl(256u32.saturating_sub(u32::from(spc)))
                .unwrap_or(0)
        } else {
            u64::from(spc)
        };
        let cluster = sector.saturating_mul(sectors_per_cluster);
        if sectors_per_cluster == 0
            || !sectors_per_cluster.is_power_of_two()
            || cluster > MAX_CLUSTER
        {
            return Err(format!("{spc:#04x} sectors per cluster"));
        }
        let record = coded_size(u8_at(b, 0x40).unwrap_or(0), cluster).unwrap_or(0);
        // A record is at least one fix-up stride and at most 64 KiB.
        if !(512..=65536).contains(&record) || !record.is_power_of_two() {
            return Err(format!("file records of {record} bytes"));
        }
        let size = u64_le(b, 0x28).unwrap_or(0).saturating_mul(sector);
        let mft = u64_le(b, 0x30)
            .and_then(|c| c.checked_mul(cluster))
            .ok_or("the MFT's cluster number overflows")?;
        Ok(Boot {
            sector,
            cluster,
            size,
            mft,
            record,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot(sector: u16, spc: u8, record: u8) -> Vec<u8> {
        let mut b = vec![0u8; 512];
        b[3..11].copy_from_slice(b"NTFS    ");
        b[0x0B..0x0D].copy_from_slice(&sector.to_le_bytes());
        b[0x0D] = spc;
        b[0x28..0x30].copy_from_slice(&1000u64.to_le_bytes());
        b[0x30..0x38].copy_from_slice(&4u64.to_le_bytes());
        b[0x40] = record;
        b
    }

    #[test]
    fn geometry_of_512_4kn_and_large_clusters() {
        let g = Boot::parse(&boot(512, 8, 0xF6)).unwrap();
        assert_eq!(
            (g.sector, g.cluster, g.record, g.mft),
            (512, 4096, 1024, 16384)
        );
        // 4Kn: 4096-byte sectors and records, one sector per cluster.
        let g = Boot::parse(&boot(4096, 1, 0xF4)).unwrap();
        assert_eq!(
            (g.sector, g.cluster, g.record, g.size),
            (4096, 4096, 4096, 4_096_000)
        );
        // 0xF7: 2^9 = 512 sectors of 512 bytes, 256 KiB clusters; records 1 KiB.
        let g = Boot::parse(&boot(512, 0xF7, 0xF6)).unwrap();
        assert_eq!(g.cluster, 256 * 1024);
        // A positive record size counts clusters.
        let g = Boot::parse(&boot(512, 1, 2)).unwrap();
        assert_eq!(g.record, 1024);
    }

    #[test]
    fn nonsense_geometry_is_refused() {
        assert!(Boot::parse(&boot(500, 8, 0xF6)).is_err());
        assert!(Boot::parse(&boot(512, 0, 0xF6)).is_err());
        assert!(Boot::parse(&boot(512, 3, 0xF6)).is_err());
        assert!(Boot::parse(&boot(512, 8, 0x80)).is_err());
        assert!(Boot::parse(&boot(512, 8, 0x20)).is_err()); // 32 clusters: 128 KiB records
        assert!(Boot::parse(&boot(512, 8, 0xF6)[..10]).is_err());
        assert!(Boot::parse(&boot(4096, 0x81, 0xF6)).is_err()); // 2^127 sectors
    }
}
