//! `bitscope demo`: built-in evidence to try the explorer and the parser on, made by the
//! generator when asked (nothing is downloaded or read from disk; same bytes every run).
//!
//! ```text
//! WKS-FINANCE-07/ProgramData/Microsoft/Network/Downloader/qmgr.db
//!     a T1197 persistence job among five ordinary updater jobs; three deleted jobs (the
//!     attacker's first stage among them) left in free space for the carver
//! SRV-FILE-01/ProgramData/Microsoft/Network/Downloader/qmgr.db
//!     a job whose text tries to fool the reader (RLO, zero-width space, escape sequence,
//!     a Cyrillic letter in a host) among three updater jobs
//! SRV-FILE-01/ProgramData/Microsoft/Network/Downloader/qmgr0.dat, qmgr1.dat
//!     the legacy queue an early Windows 10 left before the upgrade: two jobs, a third
//!     deleted into the slack of qmgr0.dat and still live in the older qmgr1.dat
//! ```
//!
//! [`jobs`] says what each job is, [`legacy`] how the legacy queue is built, [`tempdir`] where
//! `bitscope demo` puts the files while the explorer runs.

pub mod jobs;
pub mod legacy;
pub mod tempdir;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::qmgr_db::generate_jobs;
use super::rng::Rng;
use super::GenError;

pub use tempdir::TempDir;

/// The seed of everything random in the demo (ids, layout).
const SEED: u64 = 0xB175_C09E;
/// Where Windows keeps the queue, under each host's folder.
pub const DOWNLOADER: &str = "ProgramData/Microsoft/Network/Downloader";
pub const WORKSTATION: &str = "WKS-FINANCE-07";
pub const SERVER: &str = "SRV-FILE-01";

/// One file of the demo evidence.
#[derive(Debug, Clone)]
pub struct DemoFile {
    /// Relative path, `/`-separated.
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Why the demo evidence could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{} already exists (the demo never overwrites a file)", .0.display())]
    Exists(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot make the demo evidence: {0}")]
    Gen(#[from] GenError),
}

/// The demo evidence, file by file, in a fixed order.
pub fn files() -> Result<Vec<DemoFile>, DemoError> {
    let mut rng = Rng::new(SEED);
    let wks = jobs::workstation();
    let mut wks_rng = rng.fork(1);
    let mut live = jobs::ordinary(&mut wks_rng, &wks, 5);
    // The planted job sits among the others, as it would in a queue.
    live.insert(2, jobs::persistence(&mut wks_rng, &wks));
    let deleted = jobs::deleted(&mut wks_rng, &wks);
    let wks_db = generate_jobs(SEED, jobs::NOW, &live, &deleted)?;

    let srv = jobs::server();
    let mut srv_rng = rng.fork(2);
    let mut live = jobs::ordinary(&mut srv_rng, &srv, 3);
    live.push(jobs::hostile_text(&mut srv_rng, &srv));
    let srv_db = generate_jobs(SEED + 1, jobs::NOW, &live, &[])?;

    let (qmgr0, qmgr1) = legacy::queues().ok_or_else(|| {
        GenError::Internal("the legacy fixture is not laid out as expected".into())
    })?;
    let at = |host: &str, name: &str| format!("{host}/{DOWNLOADER}/{name}");
    Ok(vec![
        DemoFile {
            path: at(WORKSTATION, "qmgr.db"),
            bytes: wks_db.bytes,
        },
        DemoFile {
            path: at(SERVER, "qmgr.db"),
            bytes: srv_db.bytes,
        },
        DemoFile {
            path: at(SERVER, "qmgr0.dat"),
            bytes: qmgr0,
        },
        DemoFile {
            path: at(SERVER, "qmgr1.dat"),
            bytes: qmgr1,
        },
    ])
}

/// Write the demo evidence under `dir` (created if missing). Refuses, before writing
/// anything, when any of the files already exists; each file is created new, never replaced.
/// Returns the paths written.
pub fn write_into(dir: &Path) -> Result<Vec<PathBuf>, DemoError> {
    let files = files()?;
    let targets: Vec<PathBuf> = files.iter().map(|f| dir.join(&f.path)).collect();
    if let Some(t) = targets.iter().find(|t| t.symlink_metadata().is_ok()) {
        return Err(DemoError::Exists(t.clone()));
    }
    let mut written = Vec::with_capacity(files.len());
    for (f, target) in files.iter().zip(&targets) {
        if let Err(e) = write_new(target, &f.bytes) {
            // A file created meanwhile: leave what was there, take back what the demo wrote.
            for w in &written {
                let _ = std::fs::remove_file(w);
            }
            return Err(e);
        }
        written.push(target.clone());
    }
    Ok(written)
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<(), DemoError> {
    let io = |source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                DemoError::Exists(path.to_path_buf())
            } else {
                io(e)
            }
        })?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)
}
