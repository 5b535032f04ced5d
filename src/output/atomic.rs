//! Output files, written so that no output ever replaces evidence, a device, a FIFO or a
//! symlink, and a reader never sees half a file.
//!
//! An [`AtomicFile`] writes to a new temporary file beside the target (created exclusively)
//! and renames it over the target only on [`AtomicFile::commit`]. Before it starts, and again
//! just before the rename, the target is checked: if it exists it must be a regular file, not
//! a symlink, and not the same file (device and inode) as any evidence: the inputs named
//! ([`Protected`]) and every file this process has opened as evidence (each E01 segment, each
//! store found in a folder: `input::is_evidence`), so a hard link or another path to the
//! evidence is caught too. Dropped uncommitted, it removes its temporary file and leaves the
//! target as it was; a signal ending the process removes it too (`util::cleanup`).

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Identities (device, inode) of the evidence files an output must never replace.
#[derive(Debug, Clone, Default)]
pub struct Protected {
    // Off Unix no file identity is read (see `identity`): always empty there.
    #[cfg_attr(not(unix), allow(dead_code))]
    ids: Vec<(u64, u64)>,
}

impl Protected {
    /// The identities of `inputs` (those that exist).
    pub fn of(inputs: &[&Path]) -> Protected {
        Protected {
            ids: inputs.iter().filter_map(|p| identity(p)).collect(),
        }
    }

    /// Whether the file of `m` is evidence: named here, or held open as evidence by this
    /// process.
    #[cfg(unix)]
    pub fn contains(&self, m: &std::fs::Metadata) -> bool {
        use std::os::unix::fs::MetadataExt;
        self.ids.contains(&(m.dev(), m.ino())) || crate::input::is_evidence(m)
    }

    #[cfg(not(unix))]
    pub fn contains(&self, _: &std::fs::Metadata) -> bool {
        false
    }

    /// Whether the open file `f` (stdout, say) is evidence.
    #[cfg(unix)]
    pub fn holds(&self, f: &impl std::os::fd::AsFd) -> bool {
        let Ok(f) = f.as_fd().try_clone_to_owned() else {
            return false;
        };
        let Ok(m) = File::from(f).metadata() else {
            return false;
        };
        m.file_type().is_file() && self.contains(&m)
    }
}

#[cfg(unix)]
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(_: &Path) -> Option<(u64, u64)> {
    None
}

/// The refusal; callers name the path (escaped) in front of it.
fn refuse(_path: &Path, why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::AlreadyExists, format!("{why}: refused"))
}

/// May `path` be replaced? Yes if it does not exist, or is a regular file (not a symlink)
/// that is none of the evidence.
pub fn check_target(path: &Path, protected: &Protected) -> io::Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let ft = meta.file_type();
    if ft.is_symlink() {
        return Err(refuse(path, "is a symlink (an output never replaces one)"));
    }
    if !ft.is_file() {
        return Err(refuse(
            path,
            "exists and is not a regular file (a device, FIFO, socket or folder)",
        ));
    }
    if std::fs::metadata(path).is_ok_and(|m| protected.contains(&m)) {
        return Err(refuse(path, "is one of the evidence files"));
    }
    Ok(())
}

/// A file being written: a temporary beside the target until [`AtomicFile::commit`].
pub struct AtomicFile {
    target: PathBuf,
    tmp: PathBuf,
    protected: Protected,
    out: Option<BufWriter<File>>,
    /// The temporary file, removed if a signal ends the process first.
    tracked: Option<crate::util::cleanup::Tracked>,
}

impl AtomicFile {
    /// Start writing `target`, refusing it now if it may not be replaced.
    pub fn create(target: &Path, protected: &Protected) -> io::Result<AtomicFile> {
        check_target(target, protected)?;
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let mut n = 0u32;
        loop {
            let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
            match OpenOptions::new().write(true).create_new(true).open(&tmp) {
                Ok(f) => {
                    let tracked = crate::util::cleanup::track(&tmp);
                    return Ok(AtomicFile {
                        target: target.to_path_buf(),
                        tmp,
                        protected: protected.clone(),
                        out: Some(BufWriter::with_capacity(256 << 10, f)),
                        tracked: Some(tracked),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 100 => n += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Flush, sync, check the target once more, and rename the file into place.
    pub fn commit(mut self) -> io::Result<()> {
        let Some(out) = self.out.take() else {
            return Err(io::Error::other("output already closed"));
        };
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        check_target(&self.target, &self.protected)?;
        std::fs::rename(&self.tmp, &self.target)?;
        // Renamed: nothing left for Drop (or a signal) to remove.
        self.tracked = None;
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.out.as_mut() {
            Some(o) => o.write(buf),
            None => Err(io::Error::other("output already closed")),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self.out.as_mut() {
            Some(o) => o.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        self.out = None;
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Write `bytes` to `path` atomically, refusing to replace any of the evidence `inputs`.
pub fn write_file_atomic(path: &Path, bytes: &[u8], inputs: &[&Path]) -> io::Result<()> {
    let mut f = AtomicFile::create(path, &Protected::of(inputs))?;
    f.write_all(bytes)?;
    f.commit()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("bitscope-atomic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn refuses_symlinks_devices_and_hard_links_to_evidence() {
        let d = dir("refuse");
        let ev = d.join("qmgr.db");
        std::fs::write(&ev, b"evidence").unwrap();
        let hard = d.join("hard.db");
        std::fs::hard_link(&ev, &hard).unwrap();
        let link = d.join("link.json");
        std::os::unix::fs::symlink("/proc/self/fd/1", &link).unwrap();
        let p = Protected::of(&[ev.as_path()]);
        for target in [
            ev.as_path(),
            hard.as_path(),
            link.as_path(),
            Path::new("/dev/null"),
        ] {
            let e = write_file_atomic(target, b"x", &[ev.as_path()]);
            assert!(e.is_err(), "{} was replaced", target.display());
            assert!(AtomicFile::create(target, &p).is_err());
        }
        assert_eq!(std::fs::read(&ev).unwrap(), b"evidence");
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        // Nothing left behind.
        let names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn replaces_a_regular_file_only_on_commit() {
        let d = dir("commit");
        let out = d.join("out.json");
        std::fs::write(&out, b"old").unwrap();
        let mut f = AtomicFile::create(&out, &Protected::default()).unwrap();
        f.write_all(b"new").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"old");
        f.commit().unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"new");
        let f = AtomicFile::create(&out, &Protected::default()).unwrap();
        drop(f);
        assert_eq!(std::fs::read(&out).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
