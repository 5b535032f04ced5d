//! A private temporary folder (owner-only, a name no one else holds) that is removed with
//! everything in it when dropped: where `bitscope demo` puts its evidence while the explorer
//! runs. Made with the standard library: the one folder it needs does not call for a crate.
//!
//! A demo killed with its terminal never drops its folder; the next demo removes such stale
//! folders (see [`remove_stale`]).

use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// A folder under [`std::env::temp_dir`], removed on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Create `bitscope-demo-PID-NANOS-N` under the system's temporary folder, mode 0700 on
    /// Unix. Creation fails on any existing entry (a symlink included), so the folder is new
    /// and ours; a taken name is retried with the next N. Then stale folders of demos that
    /// are gone are removed.
    pub fn new() -> io::Result<TempDir> {
        let made = TempDir::create()?;
        remove_stale(&std::env::temp_dir(), &made.path);
        Ok(made)
    }

    fn create() -> io::Result<TempDir> {
        let base = std::env::temp_dir();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let mut n = 0u32;
        loop {
            let path = base.join(format!("bitscope-demo-{}-{nanos}-{n}", std::process::id()));
            match create_private(&path) {
                Ok(()) => return Ok(TempDir { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 100 => n += 1,
                Err(e) => return Err(e),
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(0o700).create(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> io::Result<()> {
    std::fs::create_dir(path)
}

/// The pid in a name exactly as [`TempDir::new`] makes it: `bitscope-demo-PID-NANOS-N`.
/// (Only Linux removes stale folders by it.)
#[cfg(any(target_os = "linux", test))]
fn demo_pid(name: &str) -> Option<u32> {
    let mut parts = name.strip_prefix("bitscope-demo-")?.split('-');
    let (pid, nanos, n) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if parts.next().is_some() || !digits(pid) || !digits(nanos) || !digits(n) {
        return None;
    }
    pid.parse().ok()
}

/// Remove the demo folders under `base` whose process is gone: named exactly as a demo names
/// them, a real folder (not a symlink), owned by the user who owns `ours` (the folder just
/// made, so no uid call is needed). Linux only, where /proc/PID says whether a process runs;
/// elsewhere they are left.
#[cfg(target_os = "linux")]
fn remove_stale(base: &Path, ours: &Path) {
    use std::os::unix::fs::MetadataExt;
    let (Ok(me), true) = (ours.symlink_metadata(), Path::new("/proc/self").exists()) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(demo_pid) else {
            continue;
        };
        if Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        let path = entry.path();
        match path.symlink_metadata() {
            Ok(m) if m.is_dir() && m.uid() == me.uid() => {
                let _ = std::fs::remove_dir_all(&path);
            }
            _ => {}
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn remove_stale(_: &Path, _: &Path) {}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_name_gives_a_pid() {
        assert_eq!(demo_pid("bitscope-demo-42-123-0"), Some(42));
        for name in [
            "bitscope-demo-42-123",
            "bitscope-demo-42-123-0-1",
            "bitscope-demo-x-123-0",
            "bitscope-demo--123-0",
            "bitscope-demo-42-123-0 ",
            "bitscope-demo-99999999999-1-0",
            "other-42-123-0",
        ] {
            assert_eq!(demo_pid(name), None, "{name}");
        }
    }

    #[test]
    fn private_unique_and_removed_on_drop() {
        let a = TempDir::new().unwrap();
        let b = TempDir::new().unwrap();
        assert_ne!(a.path(), b.path());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(a.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        std::fs::create_dir_all(a.path().join("x/y")).unwrap();
        std::fs::write(a.path().join("x/y/f"), b"1").unwrap();
        let p = a.path().to_path_buf();
        drop(a);
        assert!(!p.exists());
        assert!(b.path().is_dir());
    }
}
