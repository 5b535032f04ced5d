//! Containers: from an evidence file to the byte ranges of the named stores inside it.
//!
//! A disk image holds partitions (MBR, with extended partitions, or GPT), a partition holds a
//! file system (NTFS), and the file system holds files by name. This layer walks that chain
//! and hands back every file whose name is a BITS store's (`qmgr.db`, `qmgr0.dat`,
//! `qmgr1.dat`, compared case-insensitively), or an ESE log beside one (`edb*.log`,
//! `edb*.jrs`, `qmgr.jfm`), live or deleted, as a list of byte ranges of the image. It knows nothing of ESE or BITS: what the bytes mean is the readers' business.
//!
//! [`open`] finds the disk format, the partitions and the file systems (cheap: headers and
//! tables); the stores of each NTFS volume are found by walking its MFT
//! ([`Found::walk_volume`]), each handed on as it is found, so a volume with a hostile MFT never
//! piles up stores in memory.
//!
//! Everything is read by position ([`ReadAt`]), never whole, and everything is bounded:
//! partition counts, extended-partition chains, MFT entries, data runs and store sizes all have
//! caps, and a corrupt structure is a warning, never a panic or a hang.

pub mod aligned;
pub mod cache;
pub mod ewf;
pub mod ntfs;
pub use ntfs::lookup;
pub mod partition;
pub mod vhd;
pub mod vhdx;
pub mod volume;
pub mod zip;

use std::io;
use std::ops::ControlFlow;

use crate::input::Evidence;
use crate::util::diag::Diagnostic;

pub use partition::{Partition, Scheme};

/// Positioned reads of an image: the evidence file itself (raw images) or, later, a
/// translation layer (E01, VHDX).
pub trait ReadAt: Sync {
    /// The image's size in bytes.
    fn size(&self) -> u64;
    /// Read up to `buf.len()` bytes at `offset`; fewer only at the end.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
}

impl<T: ReadAt + ?Sized> ReadAt for &T {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        (**self).read_at(offset, buf)
    }
}

impl ReadAt for Evidence {
    fn size(&self) -> u64 {
        self.len()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        Evidence::read_at(self, offset, buf)
    }
}

/// Bytes in memory (tests, fuzzing).
impl ReadAt for Vec<u8> {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let src = self.get(start..).unwrap_or_default();
        let n = src.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), src.get(..n)) {
            dst.copy_from_slice(src);
        }
        Ok(n)
    }
}

/// The names of the BITS stores looked for (compared case-insensitively).
pub const STORE_NAMES: [&str; 3] = ["qmgr.db", "qmgr0.dat", "qmgr1.dat"];

/// Whether `name` is one of [`STORE_NAMES`].
pub fn is_store_name(name: &str) -> bool {
    STORE_NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Whether `name` is a companion file of an ESE database (compared case-insensitively): a
/// transaction log (`edb.log`, `edb00001.log`, `edbtmp.log`), a reserve log
/// (`edbres00001.jrs`) or the BITS database's flush map (`qmgr.jfm`). Logs hold page images
/// of the database, so job and file records can be carved from them. Other ESE databases
/// (catroot2, ...) use the same log names: a log is kept only beside a BITS store (see
/// [`keep_logs_beside_stores`]).
pub fn is_log_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "qmgr.jfm" || (n.starts_with("edb") && (n.ends_with(".log") || n.ends_with(".jrs")))
}

/// Whether a file named `name` is looked for: a store or a log.
pub fn is_wanted_name(name: &str) -> bool {
    is_store_name(name) || is_log_name(name)
}

/// The folder a store lies in, as (the containers above its file system's path, the folder's
/// path in lower case with `\` separators).
fn folder_of(s: &Store) -> (&[String], String) {
    let above = s.chain.split_last().map_or(&[][..], |(_, a)| a);
    let path = s.path.replace('/', "\\").to_ascii_lowercase();
    let folder = path.rsplit_once('\\').map_or("", |(f, _)| f).to_string();
    (above, folder)
}

/// Keep a log (see [`is_log_name`]) only in a folder that also holds a BITS store (live or
/// deleted) or whose path ends in `Network\Downloader`; stores are always kept.
fn keep_logs_beside_stores(stores: &mut Vec<Store>) {
    let folders: std::collections::HashSet<(Vec<String>, String)> = stores
        .iter()
        .filter(|s| !is_log_name(&s.name))
        .map(|s| {
            let (above, folder) = folder_of(s);
            (above.to_vec(), folder)
        })
        .collect();
    stores.retain(|s| {
        if !is_log_name(&s.name) {
            return true;
        }
        let (above, folder) = folder_of(s);
        folder.ends_with("network\\downloader") || folders.contains(&(above.to_vec(), folder))
    });
}

/// A run of a store's bytes: `len` bytes at `offset` in the image, or zeros (a sparse run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// Offset in the image, `None` for a sparse run (reads as zeros).
    pub offset: Option<u64>,
    pub len: u64,
}

/// Where a store's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreData {
    /// Runs of the image, in file order; their lengths add up to the store's size.
    Extents(Vec<Extent>),
    /// Bytes kept inside the file system's own record (an NTFS resident $DATA). They lie in
    /// the MFT, whose clusters are allocated even for a deleted entry: the unallocated
    /// clusters carved never hold them.
    Resident(Vec<u8>),
    /// An NTFS-compressed (LZNT1) file: where its clusters are, but not its bytes (bitscope
    /// does not decompress), so neither the file nor an offset in it can be read back.
    Compressed(Vec<Extent>),
}

/// A store found inside a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    /// The containers from the image down to the file, outermost first, e.g.
    /// `["raw image", "partition 1 (MBR, offset 1048576)", "NTFS", "\\...\\qmgr.db (MFT entry 76)"]`.
    pub chain: Vec<String>,
    /// The file's path in its volume (`\`-separated, from the root); `?` for a parent directory
    /// whose name is gone.
    pub path: String,
    /// The file's name (one of [`STORE_NAMES`], or a log's: [`is_log_name`]; as spelled on
    /// disk).
    pub name: String,
    /// The MFT entry (file record number), for a file in an NTFS volume.
    pub mft_entry: Option<u64>,
    /// The MFT entry is not in use: the file was deleted and its data runs may or may not
    /// still hold its bytes.
    pub deleted: bool,
    /// The file's size in bytes.
    pub size: u64,
    pub data: StoreData,
}

impl Store {
    /// Where bytes `offset..offset + len` of the file lie in the disk: its extents cut to that
    /// range, in file order (a sparse piece, or one past the valid data length, has no offset:
    /// zeros). `None` when the file's bytes have no place in the disk (resident in the MFT,
    /// inflated from a zip member, NTFS-compressed), or the range lies past the file's end.
    pub fn locate(&self, offset: u64, len: u64) -> Option<Vec<Extent>> {
        let StoreData::Extents(extents) = &self.data else {
            return None;
        };
        let end = offset.checked_add(len).filter(|e| *e <= self.size)?;
        let mut out = Vec::new();
        let mut at = 0u64;
        for e in extents {
            let (from, to) = (at, at.saturating_add(e.len));
            at = to;
            if to <= offset {
                continue;
            }
            if from >= end {
                break;
            }
            let a = offset.max(from);
            let b = end.min(to);
            out.push(Extent {
                offset: e.offset.map(|o| o.saturating_add(a - from)),
                len: b - a,
            });
        }
        Some(out)
    }

    /// Why [`Store::locate`] gives no place for this store's bytes, in words.
    pub fn unplaced(&self) -> &'static str {
        match self.data {
            StoreData::Extents(_) => "",
            StoreData::Resident(_) => {
                if self.mft_entry.is_some() {
                    "resident in its MFT record: not a range of the disk"
                } else {
                    "inflated from a compressed member: not a range of the file"
                }
            }
            StoreData::Compressed(_) => {
                "NTFS-compressed: no byte of the file maps to one of the disk"
            }
        }
    }
}

/// What the container layer found in an image.
pub struct Found<'a> {
    /// The disk inside the evidence file (the file itself for a raw image); store extents
    /// are offsets in it.
    pub disk: Box<dyn ReadAt + 'a>,
    /// What the evidence file is: `raw image`, `VHD (dynamic)`, `VHDX`, ...
    pub kind: String,
    pub partitions: Vec<Partition>,
    /// File systems recognized: their stores are found by [`Found::walk_volume`].
    pub volumes: Vec<Volume>,
    /// Stores found while opening (the members of a zip); those of the volumes are not here.
    pub stores: Vec<Store>,
    /// Problems with the containers, each with the offset it is about.
    pub warnings: Vec<Diagnostic>,
}

/// A file system in the disk: its chain (down to `NTFS`) and byte range in the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub chain: Vec<String>,
    pub offset: u64,
    pub len: u64,
}

/// A deleted file whose clusters are free, for carving along its runs (see
/// [`Found::deleted_files`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedFile {
    pub mft_entry: u64,
    /// When it was last written (`$STANDARD_INFORMATION`, FILETIME; 0 when unknown).
    pub modified: u64,
    /// Its name (no folder), empty when none is left.
    pub name: String,
    /// The free parts of its bytes, in file order: (file offset, disk offset, length).
    pub pieces: Vec<(u64, u64, u64)>,
}

/// The unallocated clusters of a volume: the cluster size and the free runs as (offset in the
/// disk, length), in volume order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unallocated {
    pub cluster: u64,
    pub runs: Vec<(u64, u64)>,
}

impl Found<'_> {
    /// A store's bytes, read from the disk (see [`read_store`]).
    pub fn read_store(&self, store: &Store, limit: u64) -> io::Result<Vec<u8>> {
        read_store(&*self.disk, store, limit)
    }

    /// The unallocated clusters of `volume` (from its allocation bitmap); problems are added
    /// to `warnings`.
    pub fn unallocated(&self, volume: &Volume, warnings: &mut Vec<Diagnostic>) -> Unallocated {
        let (cluster, runs) = ntfs::unallocated(&*self.disk, volume.offset, volume.len, warnings);
        Unallocated { cluster, runs }
    }

    /// The deleted files of `volume` whose clusters lie in `free` (its free runs), for carving
    /// along their runs (see [`ntfs::deleted_files`]).
    pub fn deleted_files(
        &self,
        volume: &Volume,
        free: &Unallocated,
        warnings: &mut Vec<Diagnostic>,
    ) -> Vec<DeletedFile> {
        ntfs::deleted_files(&*self.disk, volume.offset, volume.len, &free.runs, warnings)
    }

    /// Walk `volume`'s MFT, handing each store to `each` as it is found (see
    /// [`ntfs::find_stores`]); problems are added to `warnings`. `Break` from `each` stops.
    pub fn walk_volume(
        &self,
        volume: &Volume,
        each: &mut dyn FnMut(Store) -> ControlFlow<()>,
        warnings: &mut Vec<Diagnostic>,
    ) -> ControlFlow<()> {
        let above = volume.chain.split_last().map_or(&[][..], |(_, a)| a);
        ntfs::find_stores(
            &*self.disk,
            volume.offset,
            volume.len,
            above,
            each,
            warnings,
        )
    }

    /// Every store: those found while opening, then each volume's in turn (at most
    /// [`ntfs::MAX_STORES`] per volume), with the walks' warnings. For tests and small tools;
    /// the pipeline takes each store as the walk finds it.
    pub fn all_stores(&self) -> (Vec<Store>, Vec<Diagnostic>) {
        let mut stores = self.stores.clone();
        let mut warnings = Vec::new();
        for v in &self.volumes {
            let _ = self.walk_volume(
                v,
                &mut |s| {
                    stores.push(s);
                    ControlFlow::Continue(())
                },
                &mut warnings,
            );
        }
        (stores, warnings)
    }

    /// What the disk's offsets count, in words, for provenance: the evidence file's own bytes
    /// (a raw image, a zip), or the logical media inside a disk format (E01, VHD, VHDX),
    /// which are not offsets in the container file.
    pub fn coordinate(&self) -> String {
        match self.kind.as_str() {
            "raw image" => "image file".into(),
            "zip" => "zip file".into(),
            kind => format!("{kind} logical media"),
        }
    }
}

/// The largest store read back into memory (see [`read_store`]).
pub const MAX_STORE: u64 = 512 * 1024 * 1024;

/// Look for containers in `file`: a zip of collected files, or a disk format (E01, VHDX, VHD) or a raw image, then a partition
/// table (MBR, GPT) or a bare NTFS volume. `None` when nothing is recognized (the caller's
/// other paths apply).
pub fn open<'a>(file: &'a dyn ReadAt) -> Option<Found<'a>> {
    open_with(file, &|_| None)
}

/// [`open`], with `more` opening the further segment files of a segmented image (E01: number
/// 2 is `.E02`).
pub fn open_with<'a>(file: &'a dyn ReadAt, more: &ewf::NextSegment<'a>) -> Option<Found<'a>> {
    let mut warnings = Vec::new();
    if zip::is_zip(file) {
        let mut found = Found {
            disk: Box::new(file),
            kind: "zip".into(),
            partitions: Vec::new(),
            volumes: Vec::new(),
            stores: Vec::new(),
            warnings,
        };
        zip::find_stores(
            file,
            &["zip".into()],
            &mut found.stores,
            &mut found.warnings,
        );
        keep_logs_beside_stores(&mut found.stores);
        return Some(found);
    }
    let (kind, disk): (String, Box<dyn ReadAt + 'a>) =
        if let Some((kind, d)) = ewf::open(file, more, &mut warnings) {
            (kind, Box::new(d))
        } else if let Some((kind, d)) = vhdx::open(file, &mut warnings) {
            (kind, Box::new(d))
        } else if let Some((kind, d)) = vhd::open(file, &mut warnings) {
            (kind, Box::new(d))
        } else {
            ("raw image".into(), Box::new(file))
        };
    let mut found = Found {
        disk,
        kind,
        partitions: Vec::new(),
        volumes: Vec::new(),
        stores: Vec::new(),
        warnings,
    };
    let disk: &dyn ReadAt = &*found.disk;
    if ntfs::is_ntfs(disk, 0) {
        found.volumes.push(Volume {
            chain: vec![found.kind.clone(), "NTFS".into()],
            offset: 0,
            len: disk.size(),
        });
        return Some(found);
    }
    let Some(parts) = partition::read_table(disk, &mut found.warnings) else {
        // A disk format with nothing recognized inside is still a container.
        return (found.kind != "raw image").then_some(found);
    };
    for p in &parts {
        if ntfs::is_ntfs(disk, p.offset) {
            found.volumes.push(Volume {
                chain: vec![found.kind.clone(), p.label(), "NTFS".into()],
                offset: p.offset,
                len: p.len,
            });
        }
    }
    found.partitions = parts;
    Some(found)
}

/// A store's bytes, read back by positioned reads (sparse runs as zeros). Stores larger than
/// `limit` are refused: a qmgr.db is a few MB, and the readers want the whole store as one
/// slice; a store past the limit is a corrupt size or not worth holding in memory.
pub fn read_store(image: &dyn ReadAt, store: &Store, limit: u64) -> io::Result<Vec<u8>> {
    if store.size > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} bytes, more than the {limit} read back", store.size),
        ));
    }
    match &store.data {
        StoreData::Resident(bytes) => Ok(bytes.clone()),
        StoreData::Compressed(_) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "NTFS-compressed (LZNT1): not read back",
        )),
        StoreData::Extents(extents) => {
            let size = usize::try_from(store.size).unwrap_or(usize::MAX);
            let mut out = vec![0u8; size];
            let mut at = 0usize;
            for e in extents {
                let len = usize::try_from(e.len).unwrap_or(usize::MAX).min(size - at);
                if let Some(off) = e.offset {
                    let dst = out.get_mut(at..at + len).unwrap_or_default();
                    let got = image.read_at(off, dst)?;
                    if got < len {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("run at image offset {off} ends past the image"),
                        ));
                    }
                }
                at += len;
                if at >= size {
                    break;
                }
            }
            Ok(out)
        }
    }
}

/// Field readers for the container formats' headers: a field past the end of the bytes read
/// reads as 0, which every format's checks then refuse (a zero size, count or signature).
pub(crate) mod field {
    use crate::util::bytes;

    pub fn le16(b: &[u8], at: usize) -> u16 {
        bytes::u16_le(b, at).unwrap_or(0)
    }
    pub fn le32(b: &[u8], at: usize) -> u32 {
        bytes::u32_le(b, at).unwrap_or(0)
    }
    pub fn le64(b: &[u8], at: usize) -> u64 {
        bytes::u64_le(b, at).unwrap_or(0)
    }
    pub fn be32(b: &[u8], at: usize) -> u32 {
        bytes::u32_be(b, at).unwrap_or(0)
    }
    pub fn be64(b: &[u8], at: usize) -> u64 {
        bytes::u64_be(b, at).unwrap_or(0)
    }
}

/// Read `buf` at `offset` of a disk stored in fixed-size blocks (VHD and VHDX dynamic disks):
/// block `i` lies at `blocks[i]` in the container file, read through `read`; an absent block
/// reads as zeros, as does a block cut short by the file's end. `want` bytes are read in all.
pub(crate) fn read_blocks(
    read: &dyn Fn(u64, &mut [u8]) -> io::Result<usize>,
    blocks: &[Option<u64>],
    block: u64,
    offset: u64,
    buf: &mut [u8],
    want: usize,
) -> io::Result<usize> {
    let mut done = 0;
    while done < want && block > 0 {
        let at = offset.saturating_add(done as u64);
        let i = usize::try_from(at / block).unwrap_or(usize::MAX);
        let within = at % block;
        let n = usize::try_from(block - within)
            .unwrap_or(usize::MAX)
            .min(want - done);
        let Some(dst) = buf.get_mut(done..done + n) else {
            break;
        };
        match blocks.get(i).copied().flatten() {
            Some(data) => {
                let got = read(data.saturating_add(within), dst)?;
                if let Some(rest) = dst.get_mut(got..) {
                    rest.fill(0);
                }
            }
            None => dst.fill(0),
        }
        done += n;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(volume: &str, path: &str) -> Store {
        let name = path.rsplit(['\\', '/']).next().unwrap_or(path).to_string();
        Store {
            chain: vec!["raw image".into(), volume.into(), path.into()],
            path: path.into(),
            name,
            mft_entry: None,
            deleted: false,
            size: 0,
            data: StoreData::Resident(Vec::new()),
        }
    }

    #[test]
    fn logs_are_kept_beside_a_store_or_in_network_downloader_only() {
        assert!(is_log_name("EDB00001.LOG") && is_log_name("edbres00002.jrs"));
        assert!(is_log_name("QMGR.jfm") && !is_log_name("edb.chk") && !is_log_name("x.log"));
        let mut stores = vec![
            file("NTFS", "\\Temp\\qmgr.db"),
            file("NTFS", "\\Temp\\edb.log"),
            // The same folder in another volume holds no store.
            file("NTFS 2", "\\Temp\\edbtmp.log"),
            file("NTFS", "\\Windows\\System32\\catroot2\\edb.log"),
            file(
                "NTFS",
                "C/ProgramData/Microsoft/Network/Downloader/qmgr.jfm",
            ),
        ];
        keep_logs_beside_stores(&mut stores);
        let kept: Vec<&str> = stores.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(
            kept,
            [
                "\\Temp\\qmgr.db",
                "\\Temp\\edb.log",
                "C/ProgramData/Microsoft/Network/Downloader/qmgr.jfm"
            ]
        );
    }
}
