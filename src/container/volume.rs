//! A raw volume read as a disk: `\\.\C:` on a running Windows system, where the BITS service
//! holds qmgr.db and its logs open and the volume underneath still reads them whole.
//!
//! A volume handle is not a file. Its length reads as 0, so the volume's size comes from its
//! NTFS boot sector: bytes per sector (u16 at 0x0B) times the sector count (u64 at 0x28), the
//! two fields read here; everything else in the boot sector is `ntfs.rs`'s. And it takes only
//! reads of whole sectors at sector-aligned offsets (anything else fails with
//! ERROR_INVALID_PARAMETER), into memory that "should be" sector-aligned (Microsoft's
//! CreateFile notes on volumes; not every disk enforces it). [`RawVolume`] reads into
//! page-aligned memory always; the offset and length rule is kept by
//! [`super::aligned::Aligned`], which the caller puts above it.
//!
//! A test stand-in (a file holding an NTFS volume image, named by `BITSCOPE_LIVE_VOLUME`: see
//! `pipeline/live.rs`) is read under a volume handle's rule, enforced here: a read that is not
//! whole aligned sectors is refused as Windows refuses it, and counted, so a test can tell
//! that every read bitscope made was one a volume handle takes.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::field::{le16, le64};
use super::ReadAt;

/// Memory alignment of every read's buffer: a page, a multiple of every sector size.
const MEMORY_ALIGN: usize = 4096;
/// Bytes read to find the boot sector: whole sectors of any size up to 4 KiB.
const BOOT_READ: usize = 4096;

/// An open raw volume (or its test stand-in), read by position.
#[derive(Debug)]
pub struct RawVolume {
    path: PathBuf,
    file: File,
    size: u64,
    sector: u64,
    /// For the test stand-in: a volume handle's rule, enforced and counted.
    rule: Option<Rule>,
}

/// Reads served and refused under a volume handle's rule.
#[derive(Debug, Default)]
struct Rule {
    served: AtomicU64,
    refused: AtomicU64,
}

impl RawVolume {
    /// Open the volume at `path` (`\\.\C:`), read-only, sharing read, write and delete with
    /// every other handle (the running system keeps writing its volume), and read its size and
    /// sector size from its NTFS boot sector. `stand_in`: `path` is a file standing in for the
    /// volume in a test, read under a volume handle's rule.
    pub fn open(path: &Path, stand_in: bool) -> io::Result<RawVolume> {
        if stand_in && !std::fs::metadata(path)?.is_file() {
            // A FIFO or a device would block or never end: the stand-in is a plain file.
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the volume stand-in is not a regular file",
            ));
        }
        let mut o = std::fs::OpenOptions::new();
        o.read(true);
        #[cfg(windows)]
        crate::input::share_all(&mut o);
        let file = o.open(path)?;
        let mut vol = RawVolume {
            path: path.to_path_buf(),
            file,
            size: BOOT_READ as u64,
            sector: BOOT_READ as u64,
            rule: stand_in.then(Rule::default),
        };
        let mut boot = vec![0u8; BOOT_READ];
        let got = vol.read_at(0, &mut boot)?;
        let (sector, size) = boot_geometry(boot.get(..got).unwrap_or_default())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        vol.sector = sector;
        vol.size = size;
        Ok(vol)
    }

    /// The sector size the boot sector states (512 or 4096, or a power of two between).
    pub fn sector(&self) -> u64 {
        self.sector
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// For a test stand-in: the reads served and refused so far.
    pub fn counts(&self) -> Option<(u64, u64)> {
        self.rule.as_ref().map(|r| {
            (
                r.served.load(Ordering::Relaxed),
                r.refused.load(Ordering::Relaxed),
            )
        })
    }

    /// Reads into `buf` at `offset` until it is full or the volume ends.
    fn read_full(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut done = 0;
        while let Some(rest) = buf.get_mut(done..).filter(|r| !r.is_empty()) {
            let n = crate::input::pread(&self.file, rest, offset.saturating_add(done as u64))?;
            if n == 0 {
                break;
            }
            done = done.saturating_add(n);
        }
        Ok(done)
    }
}

impl ReadAt for RawVolume {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(rule) = &self.rule {
            let sector = self.sector;
            if offset.checked_rem(sector) != Some(0)
                || (buf.len() as u64).checked_rem(sector) != Some(0)
            {
                rule.refused.fetch_add(1, Ordering::Relaxed);
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "read of {} bytes at offset {offset} refused: a volume handle takes whole {sector}-byte sectors at aligned offsets only (ERROR_INVALID_PARAMETER)",
                        buf.len()
                    ),
                ));
            }
            rule.served.fetch_add(1, Ordering::Relaxed);
        }
        if (buf.as_ptr() as usize) % MEMORY_ALIGN == 0 {
            return self.read_full(offset, buf);
        }
        // Through page-aligned memory, then copied out.
        let mut bounce = vec![0u8; buf.len().saturating_add(MEMORY_ALIGN)];
        let skip = bounce.as_ptr().align_offset(MEMORY_ALIGN);
        let Some(aligned) = bounce.get_mut(skip..skip.saturating_add(buf.len())) else {
            return Ok(0);
        };
        let n = self.read_full(offset, aligned)?;
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), aligned.get(..n)) {
            dst.copy_from_slice(src);
        }
        Ok(n)
    }
}

/// (sector size, volume size) from the first bytes of an NTFS volume.
fn boot_geometry(boot: &[u8]) -> Result<(u64, u64), String> {
    if boot.len() < 512 || boot.get(3..11) != Some(b"NTFS    ") {
        return Err("no NTFS boot sector at its start".into());
    }
    let sector = u64::from(le16(boot, 0x0B));
    if !(512..=4096).contains(&sector) || !sector.is_power_of_two() {
        return Err(format!(
            "the NTFS boot sector states {sector} bytes per sector (512 to 4096, a power of two, expected)"
        ));
    }
    let sectors = le64(boot, 0x28);
    let size = sectors
        .checked_mul(sector)
        .filter(|s| *s > 0)
        .ok_or_else(|| {
            format!("the NTFS boot sector states {sectors} sectors of {sector} bytes")
        })?;
    Ok((sector, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot(sector: u16, sectors: u64) -> Vec<u8> {
        let mut b = vec![0u8; 512];
        b[3..11].copy_from_slice(b"NTFS    ");
        b[0x0B..0x0D].copy_from_slice(&sector.to_le_bytes());
        b[0x28..0x30].copy_from_slice(&sectors.to_le_bytes());
        b
    }

    #[test]
    fn the_size_is_the_boot_sectors_count_of_its_sectors() {
        assert_eq!(boot_geometry(&boot(512, 1000)), Ok((512, 512_000)));
        assert_eq!(boot_geometry(&boot(4096, 3)), Ok((4096, 12_288)));
        assert!(boot_geometry(&boot(1000, 3)).is_err());
        assert!(boot_geometry(&boot(512, 0)).is_err());
        assert!(boot_geometry(&boot(4096, u64::MAX)).is_err());
        assert!(boot_geometry(&boot(512, 1)[..300]).is_err());
        assert!(boot_geometry(&[0u8; 512]).is_err());
    }

    #[test]
    fn a_stand_in_refuses_what_a_volume_handle_refuses() {
        let dir = std::env::temp_dir().join(format!("bitscope-volume-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("vol.img");
        let mut bytes = boot(512, 8);
        bytes.resize(4096, 0);
        bytes[1000] = 7;
        std::fs::write(&path, &bytes).unwrap();
        let vol = RawVolume::open(&path, true).unwrap();
        assert_eq!((vol.sector(), vol.size()), (512, 4096));
        assert!(vol.read_at(1, &mut [0u8; 512]).is_err());
        assert!(vol.read_at(512, &mut [0u8; 100]).is_err());
        // An odd buffer address is read through aligned memory, same bytes.
        let mut buf = vec![0u8; 1025];
        let got = vol.read_at(512, &mut buf[1..]).unwrap();
        assert_eq!(got, 1024);
        assert_eq!(buf[1 + 1000 - 512], 7);
        assert_eq!(vol.counts(), Some((2, 2)));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
