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
pub mod unsupported;
pub mod usn;
pub mod vhd;
pub mod vhdx;
pub mod volume;
pub mod zip;

use std::io;
use std::ops::ControlFlow;

use crate::input::Evidence;
use crate::util::diag::Diagnostic;

pub use partition::{Partition, Scheme};

/// Positioned reads of an image: the evidence file itself (raw images) or a translation layer
/// (E01, VHD, VHDX).
pub trait ReadAt: Sync {
    /// The image's size in bytes.
    fn size(&self) -> u64;
    /// Read up to `buf.len()` bytes at `offset`; fewer only at the end.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
    /// The parts of the image that hold bytes of their own, as (offset, length) runs in image
    /// order: a dynamic disk's allocated blocks, each block of the file once (a block its table
    /// names twice is listed once). What is carved of a disk with no file system: a thin 64 TB
    /// disk is as long to carve as its file. `None`: all of it.
    fn backed(&self) -> Option<Vec<(u64, u64)>> {
        None
    }
}

impl<T: ReadAt + ?Sized> ReadAt for &T {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        (**self).read_at(offset, buf)
    }
    fn backed(&self) -> Option<Vec<(u64, u64)>> {
        (**self).backed()
    }
}

/// Runs of `len`-byte blocks, merged where they touch, cut to `size`: what
/// [`ReadAt::backed`] returns from the blocks kept.
pub(crate) fn block_runs(
    blocks: impl Iterator<Item = u64>,
    len: u64,
    size: u64,
) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for i in blocks {
        let at = i.saturating_mul(len);
        if at >= size {
            continue;
        }
        // `at < size`, and a run touching `at` ends there: neither sum nor difference can wrap.
        let n = len.min(size.saturating_sub(at));
        match runs.last_mut() {
            Some((s, l)) if s.checked_add(*l) == Some(at) => *l = l.saturating_add(n),
            _ => runs.push((at, n)),
        }
    }
    runs
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

/// The files that tell a job's story beside its store (compared case-insensitively): the
/// BITS client's event log, Sysmon's and the Security log (process runs), and the SAM and
/// SOFTWARE hives (account names), and the SYSTEM hive (the computer's name, for the records'
/// host). The pipeline reads them; this layer only finds them.
pub const COMPANION_NAMES: [&str; 6] = [
    "Microsoft-Windows-Bits-Client%4Operational.evtx",
    "Microsoft-Windows-Sysmon%4Operational.evtx",
    "Security.evtx",
    "SAM",
    "SOFTWARE",
    "SYSTEM",
];

/// Whether `name` is one of [`COMPANION_NAMES`].
pub fn is_companion_name(name: &str) -> bool {
    COMPANION_NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Whether a file named `name` is looked for: a store, a log or a companion.
pub fn is_wanted_name(name: &str) -> bool {
    is_store_name(name) || is_log_name(name) || is_companion_name(name)
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
    /// A member of a zip archive (stored or deflated): read, and inflated, only when the store
    /// is read, its CRC-32 checked (see [`zip::read_member`]).
    Zipped(zip::Member),
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
        let end = offset.checked_add(len).filter(|e| *e <= self.size)?;
        let extents = match &self.data {
            StoreData::Extents(extents) => extents,
            // A member stored (not deflated) in the archive file itself: one run of that file.
            StoreData::Zipped(m) if !m.deflated && m.within.is_none() => {
                return Some(vec![Extent {
                    offset: m.offset.checked_add(offset),
                    len: end.saturating_sub(offset),
                }]);
            }
            _ => return None,
        };
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
            // `from <= a <= b`: the overlap of [from, to) with [offset, end), not empty here.
            let a = offset.max(from);
            let b = end.min(to);
            out.push(Extent {
                offset: e.offset.map(|o| o.saturating_add(a.saturating_sub(from))),
                len: b.saturating_sub(a),
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
            StoreData::Zipped(ref m) if m.within.is_some() => {
                "a member of a zip that was itself inflated: not a range of the file"
            }
            StoreData::Zipped(_) => "inflated from a compressed member: not a range of the file",
        }
    }
}

/// A container of a known format that cannot be read, and why (a differencing disk without its
/// parent, a geometry out of range, an unreadable first sector...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What the file is: `E01`, `VHD (differencing)`, `VHDX`, ...
    pub kind: String,
    pub why: String,
}

impl Refusal {
    pub fn new(kind: impl Into<String>, why: impl Into<String>) -> Refusal {
        Refusal {
            kind: kind.into(),
            why: why.into(),
        }
    }
}

/// A disk format's kind and its disk.
type Disk<'a> = (String, Box<dyn ReadAt + 'a>);

/// What an evidence file is, as far as the container layer can tell.
pub enum Opened<'a> {
    /// No container recognized: the caller's other paths apply (a bare store, raw carving).
    Not,
    /// A container format bitscope does not read (qcow2, VMDK, ...): its name.
    Unsupported(&'static str),
    /// A container of a format bitscope reads, refused for its own reasons; the warnings seen
    /// on the way.
    Refused(Refusal, Vec<Diagnostic>),
    /// A container, and what was found in it.
    Found(Found<'a>),
}

impl<'a> Opened<'a> {
    /// What was found, if anything.
    pub fn found(self) -> Option<Found<'a>> {
        match self {
            Opened::Found(f) => Some(f),
            _ => None,
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
    /// The bytes a zip may inflate, shared by all its members and the zips inside it.
    budget: zip::Budget,
    /// The media hashes the image stores (E01), for `--verify`.
    pub stored: ewf::StoredHashes,
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

impl<'a> Found<'a> {
    /// A container of `kind` over `disk`, holding nothing found yet.
    pub fn new(disk: Box<dyn ReadAt + 'a>, kind: String, warnings: Vec<Diagnostic>) -> Found<'a> {
        let budget = zip::Budget::for_archive(disk.size());
        Found {
            disk,
            kind,
            partitions: Vec::new(),
            volumes: Vec::new(),
            stores: Vec::new(),
            warnings,
            budget,
            stored: ewf::StoredHashes::default(),
        }
    }

    /// A store's bytes, read from the disk (see [`read_store`]).
    pub fn read_store(&self, store: &Store, limit: u64) -> io::Result<Vec<u8>> {
        self.read_store_checked(store, limit, &mut Vec::new())
    }

    /// [`Found::read_store`], adding to `warnings` what was wrong with the bytes read (a zip
    /// member's CRC-32, its size), inflating within the archive's one budget.
    pub fn read_store_checked(
        &self,
        store: &Store,
        limit: u64,
        warnings: &mut Vec<Diagnostic>,
    ) -> io::Result<Vec<u8>> {
        read_store_within(&*self.disk, store, limit, &self.budget, warnings)
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

/// Overlapping partitions named one by one in the warnings; the rest are counted.
const OVERLAPS_NAMED: usize = 4;

/// The largest store read back into memory (see [`read_store`]).
pub const MAX_STORE: u64 = 512 * 1024 * 1024;

/// Look for containers in `file`: a zip of collected files, or a disk format (E01, VHDX, VHD)
/// or a raw image, then a partition table (MBR, GPT) or a bare NTFS volume. `None` when
/// nothing is recognized or the container is refused (see [`recognize`] for why).
pub fn open<'a>(file: &'a dyn ReadAt) -> Option<Found<'a>> {
    open_with(file, &|_| None)
}

/// [`open`], with `more` opening the further segment files of a segmented image (E01: number
/// 2 is `.E02`).
pub fn open_with<'a>(file: &'a dyn ReadAt, more: &ewf::NextSegment<'a>) -> Option<Found<'a>> {
    recognize(file, more).found()
}

/// What `file` is: a container and what it holds, a container refused (and why), a format
/// named but not read, or none of these.
pub fn recognize<'a>(file: &'a dyn ReadAt, more: &ewf::NextSegment<'a>) -> Opened<'a> {
    let mut warnings = Vec::new();
    if zip::is_zip(file) {
        let mut found = Found::new(Box::new(file), "zip".into(), warnings);
        zip::find_stores_within(
            file,
            None,
            &["zip".into()],
            1,
            &found.budget,
            &mut found.stores,
            &mut found.warnings,
        );
        keep_logs_beside_stores(&mut found.stores);
        return Opened::Found(found);
    }
    if let Some(name) = unsupported::name(file) {
        return Opened::Unsupported(name);
    }
    let mut stored = ewf::StoredHashes::default();
    let opened: Option<Result<Disk<'a>, Refusal>> =
        if let Some(r) = ewf::open(file, more, &mut warnings) {
            Some(r.map(|(kind, d)| {
                stored = d.stored().clone();
                (kind, Box::new(d) as Box<dyn ReadAt + 'a>)
            }))
        } else if let Some(r) = vhdx::open(file, &mut warnings) {
            Some(r.map(|(kind, d)| (kind, Box::new(d) as Box<dyn ReadAt + 'a>)))
        } else {
            vhd::open(file, &mut warnings)
                .map(|r| r.map(|(kind, d)| (kind, Box::new(d) as Box<dyn ReadAt + 'a>)))
        };
    let (kind, disk) = match opened {
        Some(Ok(d)) => d,
        Some(Err(refusal)) => return Opened::Refused(refusal, warnings),
        None => (
            "raw image".to_string(),
            Box::new(file) as Box<dyn ReadAt + 'a>,
        ),
    };
    if kind != "raw image" {
        // A disk whose first sector cannot be read (an unreadable first chunk) is no disk to
        // walk: say so rather than find nothing in it.
        let mut first = [0u8; 512];
        if let Err(e) = disk.read_at(0, &mut first) {
            return Opened::Refused(
                Refusal::new(
                    kind,
                    format!("its media's first sector cannot be read: {e}"),
                ),
                warnings,
            );
        }
    }
    let mut found = Found::new(disk, kind, warnings);
    found.stored = stored;
    let disk: &dyn ReadAt = &*found.disk;
    if ntfs::is_ntfs(disk, 0) {
        found.volumes.push(Volume {
            chain: vec![found.kind.clone(), "NTFS".into()],
            offset: 0,
            len: disk.size(),
        });
        return Opened::Found(found);
    }
    let Some(parts) = partition::read_table(disk, &mut found.warnings) else {
        // A disk format with nothing recognized inside is still a container.
        if found.kind == "raw image" {
            return Opened::Not;
        }
        return Opened::Found(found);
    };
    let mut read: Vec<&Partition> = Vec::new();
    let mut overlaps: Vec<(&Partition, &Partition)> = Vec::new();
    for p in &parts {
        if !ntfs::is_ntfs(disk, p.offset) {
            continue;
        }
        // Partitions never overlap on a real disk: one that does is a copy of a volume read
        // already (1,024 GPT entries naming one partition are one volume, read once).
        let end = |q: &Partition| q.offset.saturating_add(q.len);
        if let Some(q) = read.iter().find(|q| p.offset < end(q) && q.offset < end(p)) {
            overlaps.push((p, q));
            continue;
        }
        read.push(p);
        found.volumes.push(Volume {
            chain: vec![found.kind.clone(), p.label(), "NTFS".into()],
            offset: p.offset,
            len: p.len,
        });
    }
    for (p, q) in overlaps.iter().take(OVERLAPS_NAMED) {
        found.warnings.push(Diagnostic::at(
            p.offset,
            format!(
                "{} overlaps {}: its NTFS volume is read once, as {}",
                p.label(),
                q.label(),
                q.label()
            ),
        ));
    }
    if overlaps.len() > OVERLAPS_NAMED {
        found.warnings.push(Diagnostic::new(format!(
            "{} more partitions overlap one read already: not read again",
            overlaps.len().saturating_sub(OVERLAPS_NAMED)
        )));
    }
    found.partitions = parts;
    Opened::Found(found)
}

/// A store's bytes, read back by positioned reads (sparse runs as zeros; a zip member
/// inflated). Stores larger than `limit` are refused: a qmgr.db is a few MB, and the readers
/// want the whole store as one slice; a store past the limit is a corrupt size or not worth
/// holding in memory.
pub fn read_store(image: &dyn ReadAt, store: &Store, limit: u64) -> io::Result<Vec<u8>> {
    let budget = zip::Budget::for_archive(image.size());
    read_store_within(image, store, limit, &budget, &mut Vec::new())
}

/// [`read_store`] within a zip's inflating `budget`, adding to `warnings` what was wrong with
/// the bytes read.
pub fn read_store_within(
    image: &dyn ReadAt,
    store: &Store,
    limit: u64,
    budget: &zip::Budget,
    warnings: &mut Vec<Diagnostic>,
) -> io::Result<Vec<u8>> {
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
        StoreData::Zipped(member) => zip::read_member(image, member, limit, budget, warnings),
        StoreData::Extents(extents) => {
            let size = usize::try_from(store.size).unwrap_or(usize::MAX);
            let mut out = vec![0u8; size];
            let mut at = 0usize;
            for e in extents {
                // `at <= size` throughout: each step adds at most what is left.
                let len = usize::try_from(e.len)
                    .unwrap_or(usize::MAX)
                    .min(size.saturating_sub(at));
                if let Some(off) = e.offset {
                    let dst = out.get_mut(at..at.saturating_add(len)).unwrap_or_default();
                    let got = image.read_at(off, dst)?;
                    if got < len {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("run at image offset {off} ends past the image"),
                        ));
                    }
                }
                at = at.saturating_add(len);
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
/// `block_at(i)` says where block `i` lies in the container file (its block allocation table,
/// read entry by entry, never held whole), read through `read`; an absent block reads as
/// zeros, as does a block cut short by the file's end. `want` bytes are read in all.
pub(crate) fn read_blocks(
    read: &dyn Fn(u64, &mut [u8]) -> io::Result<usize>,
    block_at: &dyn Fn(u64) -> io::Result<Option<u64>>,
    block: u64,
    offset: u64,
    buf: &mut [u8],
    want: usize,
) -> io::Result<usize> {
    let mut done = 0;
    while done < want && block > 0 {
        let at = offset.saturating_add(done as u64);
        let (Some(index), Some(within)) = (at.checked_div(block), at.checked_rem(block)) else {
            break;
        };
        // `within < block` and `done < want`: the differences cannot wrap.
        let n = usize::try_from(block.saturating_sub(within))
            .unwrap_or(usize::MAX)
            .min(want.saturating_sub(done));
        let Some(dst) = buf.get_mut(done..done.saturating_add(n)) else {
            break;
        };
        match block_at(index)? {
            Some(data) => {
                let got = read(data.saturating_add(within), dst)?;
                if let Some(rest) = dst.get_mut(got..) {
                    rest.fill(0);
                }
            }
            None => dst.fill(0),
        }
        done = done.saturating_add(n);
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
