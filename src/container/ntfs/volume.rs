//! An open NTFS volume: its geometry, where the MFT's records are, and reads of records and
//! non-resident values by position (through a small block cache, so the records looked up
//! again and again, parents and extension records, are not read from the image each time).

use super::attribute::{Value, DATA};
use super::boot::Boot;
use super::file::{self, StreamData};
use super::record::{fixup, Record};
use super::runs::{self, Run};
use crate::container::cache::Cached;
use crate::container::ReadAt;

/// A piece of the MFT: `len` bytes from MFT offset `at`, stored at volume offset `pos` (`None`:
/// sparse, no records there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub at: u64,
    pub pos: Option<u64>,
    pub len: u64,
}

pub struct Vol<'a> {
    pub disk: Cached<'a>,
    /// The volume's offset in the disk, and its length (the partition's, within the disk).
    pub base: u64,
    pub len: u64,
    /// The file system's own length: the boot sector's, when it is less.
    pub fs_len: u64,
    pub boot: Boot,
    pub mft: Vec<Piece>,
    /// The MFT's size in bytes, as its `$DATA` says.
    pub mft_size: u64,
}

impl<'a> Vol<'a> {
    /// Open the volume of `len` bytes at `base`: boot sector, then the MFT's own record and
    /// its `$DATA` (attribute list included).
    pub fn open(disk: &'a dyn ReadAt, base: u64, len: u64) -> Result<Vol<'a>, String> {
        let len = len.min(disk.size().saturating_sub(base));
        let mut b = [0u8; 512];
        if disk.read_at(base, &mut b).map_err(|e| e.to_string())? < b.len() {
            return Err("the boot sector is cut short".into());
        }
        let boot = Boot::parse(&b).map_err(|e| format!("boot sector: {e}"))?;
        let mut vol = Vol {
            disk: Cached::new(disk),
            base,
            len,
            fs_len: if boot.size > 0 {
                boot.size.min(len)
            } else {
                len
            },
            boot,
            mft: Vec::new(),
            mft_size: 0,
        };
        // The MFT's first record, where the boot sector says; its first $DATA piece maps at
        // least the records its attribute list names.
        let rs = vol.record_len();
        let mut rec = vec![0u8; rs];
        vol.read_exact(boot.mft, &mut rec)
            .map_err(|e| format!("the MFT's first record: {e}"))?;
        fixup(&mut rec).map_err(|e| format!("the MFT's first record: {e}"))?;
        let first = Record::new(&rec).ok_or("the MFT's first record has no FILE signature")?;
        let (runs, size) = first
            .attributes()
            .filter_map(Result::ok)
            .find_map(|a| match a.value {
                Value::NonResident {
                    first_vcn: 0,
                    runs,
                    size,
                    ..
                } if a.ty == DATA && a.name.is_empty() => Some((runs, size)),
                _ => None,
            })
            .ok_or("the MFT's record has no non-resident $DATA")?;
        let runs = runs::decode(runs, 0, file::MAX_RUNS).map_err(|e| format!("the MFT: {e}"))?;
        vol.map_mft(&runs, size);
        // Then the whole of it, through its attribute list when it has one.
        let whole = file::gather(&vol, 0, &first);
        if let Some(StreamData::NonResident { size, runs, .. }) = whole
            .streams
            .iter()
            .find(|s| s.name.is_empty())
            .map(|s| &s.data)
        {
            let runs = runs.clone();
            vol.map_mft(&runs, *size);
        }
        Ok(vol)
    }

    pub fn record_len(&self) -> usize {
        usize::try_from(self.boot.record).unwrap_or(1024)
    }

    fn map_mft(&mut self, runs: &[Run], size: u64) {
        let c = self.boot.cluster;
        self.mft = runs
            .iter()
            .map(|r| Piece {
                at: r.vcn.saturating_mul(c),
                pos: r.lcn.map(|l| l.saturating_mul(c)),
                len: r.len.saturating_mul(c),
            })
            .collect();
        self.mft_size = size;
    }

    /// Read exactly `buf.len()` bytes at volume offset `pos`.
    pub fn read_exact(&self, pos: u64, buf: &mut [u8]) -> Result<(), String> {
        let end = pos.saturating_add(buf.len() as u64);
        if end > self.len {
            return Err(format!("volume offset {pos} lies past the volume's end"));
        }
        let got = self
            .disk
            .read_at(self.base.saturating_add(pos), buf)
            .map_err(|e| e.to_string())?;
        if got < buf.len() {
            return Err(format!("volume offset {pos} lies past the image's end"));
        }
        Ok(())
    }

    /// The volume offset of MFT offset `at`, and how many bytes from there lie in one piece.
    pub fn mft_pos(&self, at: u64) -> Option<(u64, u64)> {
        let i = self.mft.partition_point(|p| p.at <= at).checked_sub(1)?;
        let p = self.mft.get(i)?;
        let within = at.checked_sub(p.at)?;
        (within < p.len).then_some(())?;
        Some((p.pos?.saturating_add(within), p.len.saturating_sub(within)))
    }

    /// Read record `n` into `buf` (one record's length) and apply its fix-ups.
    pub fn read_record(&self, n: u64, buf: &mut [u8]) -> Result<(), String> {
        let mut at = n
            .checked_mul(self.boot.record)
            .filter(|a| *a < self.mft_size)
            .ok_or_else(|| format!("MFT entry {n} lies past the MFT's end"))?;
        let mut done = 0usize;
        while done < buf.len() {
            let (pos, room) = self
                .mft_pos(at)
                .ok_or_else(|| format!("MFT entry {n} is not mapped"))?;
            let n_here = usize::try_from(room)
                .unwrap_or(usize::MAX)
                .min(buf.len().saturating_sub(done));
            let dst = buf
                .get_mut(done..done.saturating_add(n_here))
                .unwrap_or_default();
            self.read_exact(pos, dst)?;
            done = done.saturating_add(n_here);
            at = at.saturating_add(n_here as u64);
        }
        fixup(buf).map_err(|e| format!("MFT entry {n}: {e}"))
    }

    /// The disk offset of record `n`'s first byte, when it is mapped.
    pub fn record_disk_offset(&self, n: u64) -> Option<u64> {
        let (pos, _) = self.mft_pos(n.checked_mul(self.boot.record)?)?;
        Some(self.base.saturating_add(pos))
    }

    /// The first `size` bytes of a non-resident value (sparse runs as zeros).
    pub fn read_runs(&self, runs: &[Run], size: u64) -> Result<Vec<u8>, String> {
        let size = usize::try_from(size).map_err(|_| "value too large")?;
        let mut out = vec![0u8; size];
        let c = self.boot.cluster;
        for r in runs {
            let from = r.vcn.saturating_mul(c);
            let Some(dst_at) = usize::try_from(from).ok().filter(|f| *f < size) else {
                continue;
            };
            let want = usize::try_from(r.len.saturating_mul(c))
                .unwrap_or(usize::MAX)
                .min(size.saturating_sub(dst_at));
            if let Some(lcn) = r.lcn {
                let dst = out
                    .get_mut(dst_at..dst_at.saturating_add(want))
                    .unwrap_or_default();
                self.read_exact(lcn.saturating_mul(c), dst)?;
            }
        }
        Ok(out)
    }
}
