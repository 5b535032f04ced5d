//! Opening evidence: once, read-only, regular files only, read in place.
//!
//! An [`Evidence`] is one open file. Its bytes are reached through a read-only memory map
//! ([`Evidence::map`], for the stores the readers walk: qmgr.db, qmgr*.dat) or through
//! positioned reads ([`Evidence::read_at`], [`Evidence::reader`], for format detection and for
//! streaming a disk image of any size). Nothing here copies a whole file into memory, and
//! nothing ever writes to it.
//!
//! Only regular files are opened. A FIFO would block `open()` forever and a device such as
//! `/dev/zero` never ends, so both are refused from their metadata before anything is opened,
//! and once more from the open handle (the path could have been swapped in between).
// Code that reads evidence: no panicking index, unchecked arithmetic or unwrap (tests aside).
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unwrap_used,
        clippy::expect_used
    )
)]

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::util::text::escape;

/// How many evidence files have been opened by this process: a test checks that each input is
/// opened exactly once per run.
static OPENS: AtomicUsize = AtomicUsize::new(0);

/// Evidence files opened so far by this process.
pub fn opens() -> usize {
    OPENS.load(Ordering::Relaxed)
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{}: {source}", escape(&.path.display().to_string()))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: is a directory, not a file", escape(&.0.display().to_string()))]
    Directory(PathBuf),
    #[error("{}: empty file (0 bytes)", escape(&.0.display().to_string()))]
    Empty(PathBuf),
    #[error("{}: is a {kind}, not a regular file: refused (it could block or never end)", escape(&.path.display().to_string()))]
    NotRegular { path: PathBuf, kind: &'static str },
}

/// One evidence file, open read-only.
#[derive(Debug)]
pub struct Evidence {
    path: PathBuf,
    file: File,
    len: u64,
}

impl Evidence {
    /// Open `path` read-only. Refuses directories, FIFOs, sockets, devices and empty files.
    pub fn open(path: &Path) -> Result<Evidence, InputError> {
        let io = |source| InputError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        check_kind(path, &meta.file_type())?;
        let file = open_read_only(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        check_kind(path, &meta.file_type())?;
        OPENS.fetch_add(1, Ordering::Relaxed);
        if meta.len() == 0 {
            return Err(InputError::Empty(path.to_path_buf()));
        }
        Ok(Evidence {
            path: path.to_path_buf(),
            file,
            len: meta.len(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's size when opened.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The (device, inode) of the open file, so an output can be refused when it is the
    /// evidence under another name (a hard link).
    #[cfg(unix)]
    pub fn identity(&self) -> Option<(u64, u64)> {
        use std::os::unix::fs::MetadataExt;
        let m = self.file.metadata().ok()?;
        Some((m.dev(), m.ino()))
    }

    #[cfg(not(unix))]
    pub fn identity(&self) -> Option<(u64, u64)> {
        None
    }

    /// Read up to `buf.len()` bytes at `offset`, without moving any cursor; fewer only at the
    /// end of the file.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut done = 0;
        while done < buf.len() {
            let Some(rest) = buf.get_mut(done..) else {
                break;
            };
            let n = pread(&self.file, rest, offset.saturating_add(done as u64))?;
            if n == 0 {
                break;
            }
            done = done.saturating_add(n);
        }
        Ok(done)
    }

    /// The first `n` bytes (fewer if the file is shorter): enough to tell the format.
    pub fn head(&self, n: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; n.min(usize::try_from(self.len).unwrap_or(usize::MAX))];
        let got = self.read_at(0, &mut buf)?;
        buf.truncate(got);
        Ok(buf)
    }

    /// A reader over the whole file from its start, by positioned reads (for streaming).
    pub fn reader(&self) -> EvidenceReader<'_> {
        EvidenceReader { ev: self, pos: 0 }
    }

    /// The whole file, mapped read-only.
    pub fn map(&self) -> Result<Mapped, InputError> {
        map_read_only(&self.file)
            .map(|map| Mapped { map })
            .map_err(|source| InputError::Io {
                path: self.path.clone(),
                source,
            })
    }
}

/// A read-only map of an evidence file; derefs to its bytes.
pub struct Mapped {
    map: memmap2::Mmap,
}

impl Mapped {
    /// Drop the map's pages from this process's resident set (they stay in the page cache).
    /// The bytes do not change: the next access maps the same file pages again. The readers
    /// call this between passes, so a large store does not stay resident as a whole.
    pub fn release(&self) {
        release_pages(&self.map);
    }
}

impl std::ops::Deref for Mapped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map
    }
}

/// Sequential reads of an [`Evidence`] by position.
pub struct EvidenceReader<'a> {
    ev: &'a Evidence,
    pos: u64,
}

impl Read for EvidenceReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = pread(&self.ev.file, buf, self.pos)?;
        self.pos = self.pos.saturating_add(n as u64);
        Ok(n)
    }
}

fn check_kind(path: &Path, ft: &std::fs::FileType) -> Result<(), InputError> {
    if ft.is_dir() {
        return Err(InputError::Directory(path.to_path_buf()));
    }
    if ft.is_file() {
        return Ok(());
    }
    Err(InputError::NotRegular {
        path: path.to_path_buf(),
        kind: special_kind(ft),
    })
}

#[cfg(unix)]
fn special_kind(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "FIFO"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_char_device() {
        "character device"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "special file"
}

/// Open read-only; on Linux also non-blocking, so a FIFO swapped in after the metadata check
/// cannot block the open (the handle's own metadata is then checked and refused).
fn open_read_only(path: &Path) -> io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        const O_NONBLOCK: i32 = 0o4000;
        o.custom_flags(O_NONBLOCK);
    }
    #[cfg(windows)]
    share_all(&mut o);
    o.open(path)
}

/// On Windows, let every other handle read, write and delete while this one is open: a file
/// the running BITS service (or any other program) holds open for writing can then still be
/// read, and reading it never stands in that program's way. (std's default is the same; it is
/// set here so it stays so.)
#[cfg(windows)]
pub(crate) fn share_all(o: &mut std::fs::OpenOptions) {
    use std::os::windows::fs::OpenOptionsExt;
    // FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE (winnt.h).
    const SHARE_ALL: u32 = 0x1 | 0x2 | 0x4;
    o.share_mode(SHARE_ALL);
}

/// Read up to `buf.len()` bytes at `offset` (one call: fewer may come back).
#[cfg(unix)]
pub(crate) fn pread(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    loop {
        match file.read_at(buf, offset) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

#[cfg(windows)]
pub(crate) fn pread(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::windows::fs::FileExt;
    file.seek_read(buf, offset)
}

/// Map the whole file read-only.
///
/// memmap2 makes this `unsafe` because the map's bytes change if another process writes the
/// file while it is mapped (and reading past a concurrent truncation raises SIGBUS). Evidence
/// is a copy at rest that no one writes while it is examined, and every reader treats the
/// bytes as hostile anyway, so changed bytes can mislead a decode but cannot break its bounds.
#[allow(unsafe_code)]
fn map_read_only(file: &File) -> io::Result<memmap2::Mmap> {
    // SAFETY: read-only shared map of a file opened read-only; see the note above.
    unsafe { memmap2::MmapOptions::new().map(file) }
}

/// `MADV_DONTNEED` on a shared, read-only file map: the pages leave the resident set and are
/// refilled from the (unchanged) file on the next access.
#[cfg(unix)]
#[allow(unsafe_code)]
fn release_pages(map: &memmap2::Mmap) {
    // SAFETY: memmap2 marks DontNeed unsafe because on a private or written map the bytes a
    // live borrow sees can change. This map is shared, read-only, of a file nobody writes
    // while it is examined (the premise of `map_read_only`), so the refilled pages hold the
    // same bytes. A failure only means the pages stay resident.
    let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
}

#[cfg(not(unix))]
fn release_pages(_: &memmap2::Mmap) {}

/// Read a whole evidence file into memory: for small inputs that are not evidence files (a
/// config, a single page); evidence goes through [`Evidence`].
pub fn read_small(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let ev = Evidence::open(path)?;
    let mut data = Vec::new();
    ev.reader()
        .take(limit)
        .read_to_end(&mut data)
        .map_err(|source| InputError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(data)
}
