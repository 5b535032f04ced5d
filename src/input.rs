//! Opening evidence: once, read-only, regular files only, read in place.
//!
//! An [`Evidence`] is one open file. Its bytes are reached through a read-only memory map
//! ([`Evidence::map`], for the stores the readers walk: qmgr.db, qmgr*.dat) or through
//! positioned reads ([`Evidence::read_at`], [`Evidence::reader`], for format detection and for
//! streaming a disk image of any size). Nothing here copies a whole file into memory, and
//! nothing ever writes to it.
//!
//! Only regular files and block devices are opened. A block device (`/dev/sdb` behind a write
//! blocker, `losetup -r`) is read as a disk image: read-only, its size from the device. A FIFO
//! would block `open()` forever and a character device such as `/dev/zero` never ends, so
//! those (and sockets) are refused from their metadata before anything is opened, and once
//! more from the open handle (the path could have been swapped in between).
//!
//! Evidence is read as it was when opened: a file that grows is read to the length it had, and
//! one that shrinks while mapped (reading a page past its new end raises SIGBUS) reads zeros
//! from there on, is found changed ([`Evidence::changed`]), and its input fails with an error
//! naming it instead of the process dying. Every file opened as evidence is remembered
//! ([`is_evidence`]), so no output of this process can replace it.
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
    #[error("{}: is a {kind}, not a regular file or a block device: refused (it could block or never end)", escape(&.path.display().to_string()))]
    NotRegular { path: PathBuf, kind: &'static str },
}

/// (device, inode, birth time) of every file opened as evidence by this process. The birth
/// time (where the file system keeps one) tells the evidence from a new file given its inode
/// after the evidence was closed and deleted (an export of the explorer, say), which must not
/// be refused as evidence.
static OPENED: std::sync::Mutex<Vec<(u64, u64, Option<std::time::SystemTime>)>> =
    std::sync::Mutex::new(Vec::new());

/// Whether the file of `m` is one this process has opened as evidence (see
/// `output::Protected`).
#[cfg(unix)]
pub fn is_evidence(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    let born = m.created().ok();
    OPENED.lock().is_ok_and(|ids| {
        ids.iter().any(|&(dev, ino, b)| {
            dev == m.dev() && ino == m.ino() && (b.is_none() || born.is_none() || b == born)
        })
    })
}

fn remember(id: (u64, u64), born: Option<std::time::SystemTime>) {
    if let Ok(mut ids) = OPENED.lock() {
        let entry = (id.0, id.1, born);
        if !ids.contains(&entry) {
            ids.push(entry);
        }
    }
}

/// One evidence file (or block device), open read-only.
#[derive(Debug)]
pub struct Evidence {
    path: PathBuf,
    file: File,
    len: u64,
    /// Bytes the file holds (its allocated blocks: less than `len` for a sparse file).
    held: u64,
    device: bool,
}

impl Evidence {
    /// Open `path` read-only. Refuses directories, FIFOs, sockets, character devices and empty
    /// files.
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
        let device = !meta.file_type().is_file();
        // A block device's size is not in its metadata: it is where its end is.
        let len = if device {
            use std::io::Seek;
            (&file).seek(std::io::SeekFrom::End(0)).map_err(io)?
        } else {
            meta.len()
        };
        if len == 0 {
            return Err(InputError::Empty(path.to_path_buf()));
        }
        let ev = Evidence {
            path: path.to_path_buf(),
            held: if device { len } else { held(&meta).min(len) },
            file,
            len,
            device,
        };
        if let Some(id) = ev.identity() {
            remember(id, meta.created().ok());
        }
        Ok(ev)
    }

    /// Bytes the file holds: its allocated blocks (a file padded with `truncate -s 8G` holds
    /// the few MB written into it), never more than its length.
    pub fn held(&self) -> u64 {
        self.held
    }

    /// Whether this is a block device (read as a disk image).
    pub fn is_device(&self) -> bool {
        self.device
    }

    /// Why the file is not what it was when opened, if it is not: shorter now, or a page of
    /// its map gone (see the module documentation). Checked after a store is read.
    pub fn changed(&self, map: Option<&Mapped>) -> Option<String> {
        if map.is_some_and(|m| !m.intact()) {
            return Some("pages of it vanished while it was mapped: truncated".into());
        }
        if self.device {
            return None;
        }
        let now = self.file.metadata().ok()?.len();
        (now < self.len).then(|| format!("{} bytes when opened, {now} now", self.len))
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
    /// end of the file (as long as it was when opened: bytes it gained since are not read).
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let room = usize::try_from(self.len.saturating_sub(offset)).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let mut done = 0;
        while done < want {
            let Some(rest) = buf.get_mut(done..want) else {
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

    /// The whole file (as long as it was when opened), mapped read-only, guarded against the
    /// file shrinking (see the module documentation).
    pub fn map(&self) -> Result<Mapped, InputError> {
        let io = |source| InputError::Io {
            path: self.path.clone(),
            source,
        };
        let len = usize::try_from(self.len).map_err(|_| {
            io(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "larger than this machine's address space",
            ))
        })?;
        let map = map_read_only(&self.file, len).map_err(io)?;
        let slot = guard::watch(map.as_ptr() as usize, map.len());
        Ok(Mapped { map, slot })
    }
}

/// A read-only map of an evidence file; derefs to its bytes.
pub struct Mapped {
    map: memmap2::Mmap,
    /// The map's place in the SIGBUS guard, when it has one.
    slot: Option<usize>,
}

impl Mapped {
    /// Drop the map's pages from this process's resident set (they stay in the page cache).
    /// The bytes do not change: the next access maps the same file pages again. The readers
    /// call this between passes, so a large store does not stay resident as a whole.
    pub fn release(&self) {
        release_pages(&self.map);
    }

    /// False when a page of the map was found gone (the file shrank) and zeros were read in
    /// its place.
    pub fn intact(&self) -> bool {
        self.slot.is_none_or(|s| !guard::hit(s))
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // Unwatched before the map goes (the fields are dropped after this).
        if let Some(s) = self.slot.take() {
            guard::unwatch(s);
        }
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
        // Never past the length the file had when opened (a file growing while it is read
        // would be read forever).
        let room = usize::try_from(self.ev.len.saturating_sub(self.pos)).unwrap_or(usize::MAX);
        let Some(buf) = buf.get_mut(..buf.len().min(room)) else {
            return Ok(0);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        let n = pread(&self.ev.file, buf, self.pos)?;
        self.pos = self.pos.saturating_add(n as u64);
        Ok(n)
    }
}

/// The bytes a file's allocated blocks hold (`st_blocks` counts 512-byte units).
#[cfg(unix)]
fn held(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.blocks().saturating_mul(512)
}

#[cfg(not(unix))]
fn held(meta: &std::fs::Metadata) -> u64 {
    meta.len()
}

fn check_kind(path: &Path, ft: &std::fs::FileType) -> Result<(), InputError> {
    if ft.is_dir() {
        return Err(InputError::Directory(path.to_path_buf()));
    }
    if ft.is_file() || is_block_device(ft) {
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

#[cfg(unix)]
fn is_block_device(ft: &std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    ft.is_block_device()
}

#[cfg(not(unix))]
fn is_block_device(_: &std::fs::FileType) -> bool {
    false
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

/// Map the first `len` bytes of the file read-only.
///
/// memmap2 makes this `unsafe` because the map's bytes change if another process writes the
/// file while it is mapped, and reading past a concurrent truncation raises SIGBUS. Every
/// reader treats the bytes as hostile, so changed bytes can mislead a decode but cannot break
/// its bounds; a truncation is caught by the SIGBUS guard (below), which puts zeros where the
/// bytes were and marks the map, so the input fails with a message instead of the process
/// dying.
#[allow(unsafe_code)]
fn map_read_only(file: &File, len: usize) -> io::Result<memmap2::Mmap> {
    // SAFETY: read-only shared map of a file opened read-only; see the note above.
    unsafe { memmap2::MmapOptions::new().len(len).map(file) }
}

/// The SIGBUS guard: the address ranges of the evidence maps alive, and a handler that, for a
/// fault inside one (its file shrank under it), maps a page of zeros over the faulting page,
/// marks the map, and lets the read go on. A fault anywhere else removes the temporary output
/// files (`util::cleanup`) and goes to the handler that was there before (Rust's, or the
/// default: the process ends as it would have).
#[cfg(target_os = "linux")]
mod guard {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Once;

    /// Maps watched at once (one per store being read; more go unwatched).
    const SLOTS: usize = 64;
    /// A slot's start: 0 free, 1 being filled, else the map's first address.
    static START: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    static END: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    static HIT: [AtomicBool; SLOTS] = [const { AtomicBool::new(false) }; SLOTS];
    static PAGE: AtomicUsize = AtomicUsize::new(4096);
    static INSTALL: Once = Once::new();
    /// The handler before ours (read lock-free by the handler: OnceLock::get is an atomic load).
    static OLD: std::sync::OnceLock<libc::sigaction> = std::sync::OnceLock::new();

    pub fn watch(start: usize, len: usize) -> Option<usize> {
        INSTALL.call_once(install);
        if start < 2 {
            return None;
        }
        let slots = START.iter().zip(END.iter().zip(HIT.iter())).enumerate();
        for (i, (first, (end, hit))) in slots {
            if first
                .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                hit.store(false, Ordering::Release);
                end.store(start.saturating_add(len), Ordering::Release);
                first.store(start, Ordering::Release);
                return Some(i);
            }
        }
        None
    }

    pub fn unwatch(slot: usize) {
        if let Some(s) = START.get(slot) {
            s.store(0, Ordering::Release);
        }
    }

    pub fn hit(slot: usize) -> bool {
        HIT.get(slot).is_some_and(|h| h.load(Ordering::Acquire))
    }

    #[allow(unsafe_code)]
    extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
        // SAFETY: the kernel hands a valid siginfo_t for an SA_SIGINFO handler.
        let addr = unsafe { (*info).si_addr() } as usize;
        let page = PAGE.load(Ordering::Relaxed);
        for (first, (end, hit)) in START.iter().zip(END.iter().zip(HIT.iter())) {
            let start = first.load(Ordering::Acquire);
            if start > 1 && addr >= start && addr < end.load(Ordering::Acquire) {
                // The page size is a power of two (at least 1: PAGE starts at 4096).
                let base = addr & !page.wrapping_sub(1);
                // SAFETY: replaces one page inside a read-only map this process owns with a
                // private page of zeros (mmap is a plain system call on Linux, safe here).
                let p = unsafe {
                    libc::mmap(
                        base as *mut libc::c_void,
                        page,
                        libc::PROT_READ,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                        -1,
                        0,
                    )
                };
                if p != libc::MAP_FAILED {
                    hit.store(true, Ordering::Release);
                    return;
                }
            }
        }
        crate::util::cleanup::remove_all();
        // Not an evidence map: the handler that was there before gets the fault (restored,
        // the faulting access runs again and raises it anew).
        // SAFETY: sigaction and signal are async-signal-safe; OLD holds a sigaction read
        // from the kernel.
        unsafe {
            match OLD.get() {
                Some(old) => {
                    libc::sigaction(sig, old, std::ptr::null_mut());
                }
                None => {
                    libc::signal(sig, libc::SIG_DFL);
                }
            }
        }
    }

    #[allow(unsafe_code)]
    fn install() {
        // SAFETY: sysconf and sigaction on zeroed structs; OLD is set before the handler that
        // reads it is installed.
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE);
            if let Ok(page) = usize::try_from(page) {
                if page.is_power_of_two() {
                    PAGE.store(page, Ordering::Relaxed);
                }
            }
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old) != 0 {
                return;
            }
            let _ = OLD.set(old);
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_sigbus
                as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void)
                as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut act.sa_mask);
            libc::sigaction(libc::SIGBUS, &act, std::ptr::null_mut());
        }
    }
}

/// No SIGBUS guard off Linux: a map is as it was.
#[cfg(not(target_os = "linux"))]
mod guard {
    pub fn watch(_: usize, _: usize) -> Option<usize> {
        None
    }
    pub fn unwatch(_: usize) {}
    pub fn hit(_: usize) -> bool {
        false
    }
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
