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
//!     deleted into the slack of qmgr0.dat and still live in the older qmgr1.dat (read as one
//!     queue: three jobs, each row naming the other file's copy)
//!
//! WKS-FINANCE-07/Windows/System32/winevt/Logs/Microsoft-Windows-Bits-Client%4Operational.evtx,
//! SRV-FILE-01/... the same
//!     each host's BITS client log: the events of its jobs (the deleted ones too), and on the
//!     workstation a job the queue no longer holds (bitsadmin, a failing notify program)
//! WKS-FINANCE-07/Windows/System32/config/SAM, SRV-FILE-01/... the same
//!     each host's local accounts (m.keller, svc.backup), so owner SIDs read as names
//! ```
//!
//! [`jobs`] says what each job is, [`legacy`] how the legacy queue is built, [`write`] how the
//! files are written into a folder, [`tempdir`] where `bitscope demo` puts them while the
//! explorer runs.

pub mod jobs;
pub mod legacy;
pub mod story;
pub mod tempdir;
mod write;

use std::path::PathBuf;

use super::qmgr_db::generate_jobs;
use super::rng::Rng;
use super::GenError;

pub use tempdir::TempDir;
pub use write::{write_into, MARKER};

/// The seed of everything random in the demo (ids, layout).
const SEED: u64 = 0xB175_C09E;
/// Where Windows keeps the queue, under each host's folder.
pub const DOWNLOADER: &str = "ProgramData/Microsoft/Network/Downloader";
pub const WORKSTATION: &str = "WKS-FINANCE-07";
/// Where Windows keeps the event logs and the hives, under each host's folder.
pub const LOGS: &str = "Windows/System32/winevt/Logs";
pub const CONFIG: &str = "Windows/System32/config";
pub const BITS_LOG: &str = "Microsoft-Windows-Bits-Client%4Operational.evtx";
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
    #[error("{} is not an empty folder (the demo writes only into a new or empty one)", .0.display())]
    NotEmpty(PathBuf),
    #[error("{} is a symbolic link (the demo does not write through one)", .0.display())]
    Symlink(PathBuf),
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
    let mut live = jobs::ordinary(&mut wks_rng, &wks, 5)?;
    // The planted job sits among the others, as it would in a queue.
    live.insert(2, jobs::persistence(&mut wks_rng, &wks));
    let deleted = jobs::deleted(&mut wks_rng, &wks);
    let wks_db = generate_jobs(SEED, jobs::NOW, &live, &deleted)?;
    let powershell = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";
    let creators: Vec<(&super::blobs::JobWithFiles, &str)> = live
        .iter()
        .map(|j| {
            let planted = j.job.owner_sid.ends_with("-1104");
            (
                j,
                if planted {
                    powershell
                } else {
                    r"C:\Windows\System32\svchost.exe"
                },
            )
        })
        .chain(deleted.iter().map(|j| {
            let by = if j.job.owner_sid.ends_with("-1104") {
                r"C:\Windows\System32\bitsadmin.exe"
            } else {
                r"C:\Windows\System32\svchost.exe"
            };
            (j, by)
        }))
        .collect();
    let first = deleted
        .iter()
        .map(|j| j.job.created)
        .min()
        .unwrap_or(jobs::NOW);
    let gone = story::gone_job(&wks, WORKSTATION, first - 2 * super::blobs::FT_DAY);
    let wks_log = story::log(WORKSTATION, &creators, gone);
    let wks_sam = super::hive::sam(
        &wks.domain_sid,
        &[("Administrator", 500), ("Guest", 501), ("m.keller", 1104)],
        jobs::NOW,
    );

    let srv = jobs::server();
    let mut srv_rng = rng.fork(2);
    let mut live = jobs::ordinary(&mut srv_rng, &srv, 3)?;
    live.push(jobs::hostile_text(&mut srv_rng, &srv));
    let srv_db = generate_jobs(SEED + 1, jobs::NOW, &live, &[])?;
    let creators: Vec<(&super::blobs::JobWithFiles, &str)> = live
        .iter()
        .map(|j| (j, r"C:\Windows\System32\svchost.exe"))
        .collect();
    let srv_log = story::log(SERVER, &creators, Vec::new());
    let srv_sam = super::hive::sam(
        &srv.domain_sid,
        &[("Administrator", 500), ("Guest", 501), ("svc.backup", 1107)],
        jobs::NOW,
    );

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
        DemoFile {
            path: format!("{WORKSTATION}/{LOGS}/{BITS_LOG}"),
            bytes: wks_log,
        },
        DemoFile {
            path: format!("{WORKSTATION}/{CONFIG}/SAM"),
            bytes: wks_sam,
        },
        DemoFile {
            path: format!("{SERVER}/{LOGS}/{BITS_LOG}"),
            bytes: srv_log,
        },
        DemoFile {
            path: format!("{SERVER}/{CONFIG}/SAM"),
            bytes: srv_sam,
        },
    ])
}
