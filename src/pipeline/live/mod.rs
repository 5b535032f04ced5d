//! The live host: `bitscope parse --live`, and `collect` without `alt_path`, on a running
//! Windows system.
//!
//! While it runs, the BITS service holds qmgr.db and its ESE logs open, so they are read as
//! artemis reads them: through the raw system volume (`\\.\C:`, the drive from
//! `%SystemDrive%`), opened read-only and sharing read, write and delete with every other
//! handle. The volume's NTFS (bitscope's own reader, `container/ntfs/`) is asked for the
//! Downloader folder by path through its directory indexes (`container/ntfs/lookup.rs`), never
//! walked whole;
//! each file found is read by its clusters, through [`Aligned`], since a volume handle takes
//! whole sectors at sector-aligned offsets only (`container/volume.rs`). Every record's
//! provenance carries the chain `live volume \\.\C: › NTFS ›
//! \ProgramData\Microsoft\Network\Downloader\qmgr.db (MFT entry N)`.
//!
//! Opening a volume takes administrator rights. When it cannot be opened (not elevated) or not
//! read as NTFS, the files are opened by path instead (`C:\ProgramData\...\Downloader`,
//! sharing as above), which works where their ACL and the service's own sharing let them be
//! read; each record then names the file as its evidence, and a warning says why the volume
//! was not read.
//!
//! `--carve` carves within the files (the database's free space, its ESE logs), never the
//! volume's unallocated clusters: those are being rewritten as bitscope reads them (image the
//! volume and parse the image for that). Deleted files have no index entry and are not found
//! either, for the same reason.
//!
//! The BITS client's event log (`...\winevt\Logs\Microsoft-Windows-Bits-Client%4Operational.evtx`)
//! is found the same way (volume, else path) and named; its events are the event-log reader's
//! ([`hand_on_event_log`]).
//!
//! For tests only, on any system (never for real use): `BITSCOPE_LIVE_VOLUME=FILE` names a
//! file holding an NTFS volume image that stands in for `\\.\C:`, read under a volume handle's
//! rule (a read not of whole aligned sectors is refused, as Windows refuses it, and the reads
//! are counted in a warning at the end); `BITSCOPE_LIVE_ROOT=DIR` stands in for `C:\` when the
//! files are opened by path; `BITSCOPE_LIVE_UNALIGNED=1` takes [`Aligned`] away, so a test can
//! show the stand-in refusing the NTFS reader's own reads.

use std::path::PathBuf;

use super::driver::{self, Input, Report};
use super::host::{this_machine, Host};
use super::{find_inputs_reporting, Diagnostic, Options, Sink, Stop};
use crate::util::text::escape;

#[cfg(feature = "images")]
mod volume;

/// Test only: a file standing in for the system volume.
pub const VOLUME_ENV: &str = "BITSCOPE_LIVE_VOLUME";
/// Test only: a folder standing in for the system drive's root.
pub const ROOT_ENV: &str = "BITSCOPE_LIVE_ROOT";
/// Test only (with a stand-in volume): read it without [`Aligned`].
pub const UNALIGNED_ENV: &str = "BITSCOPE_LIVE_UNALIGNED";

/// The BITS client's event log, in `System32\winevt\Logs`.
pub const EVENT_LOG: &str = "Microsoft-Windows-Bits-Client%4Operational.evtx";

/// Why the live host cannot be read here.
#[derive(Debug, thiserror::Error)]
#[error("reading the live host needs a running Windows system (its system volume \\\\.\\C:, as administrator, or its files in C:\\ProgramData\\Microsoft\\Network\\Downloader); this is not Windows")]
pub struct Unsupported;

/// Where the live host's files are.
#[derive(Debug, Clone)]
pub struct Target {
    /// The system drive, `C:`.
    drive: String,
    /// What is opened as the volume: `\\.\C:`, or a test stand-in file.
    volume: Option<PathBuf>,
    stand_in: bool,
    /// Test only: read the stand-in without [`Aligned`].
    #[cfg_attr(not(feature = "images"), allow(dead_code))]
    unaligned: bool,
    /// The system drive's root, for opening the files by path: `C:\`, or a stand-in folder.
    root: Option<PathBuf>,
    /// The Downloader folder and the event log, as names from the volume's root.
    downloader: Vec<String>,
    event_log: Vec<String>,
}

/// The live host of this machine, or (tests) its stand-ins; [`Unsupported`] off Windows
/// without them.
pub fn target() -> Result<Target, Unsupported> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let drive = system_drive(std::env::var("SystemDrive").ok().as_deref());
    let (volume, root, stand_in) = match (env(VOLUME_ENV), env(ROOT_ENV)) {
        (None, None) if cfg!(windows) => (
            Some(PathBuf::from(format!(r"\\.\{drive}"))),
            Some(PathBuf::from(format!(r"{drive}\"))),
            false,
        ),
        (None, None) => return Err(Unsupported),
        (volume, root) => (volume, root, true),
    };
    let var = |k: &str| std::env::var(k).ok();
    let mut downloader = under_drive(var("ProgramData").as_deref(), &drive, "ProgramData");
    downloader.extend(["Microsoft", "Network", "Downloader"].map(String::from));
    let mut event_log = under_drive(var("SystemRoot").as_deref(), &drive, "Windows");
    event_log.extend(["System32", "winevt", "Logs", EVENT_LOG].map(String::from));
    Ok(Target {
        drive,
        volume,
        stand_in,
        unaligned: stand_in && env(UNALIGNED_ENV).is_some(),
        root,
        downloader,
        event_log,
    })
}

/// `%SystemDrive%` when it is a drive letter and a colon, else `C:`.
fn system_drive(var: Option<&str>) -> String {
    match var {
        Some(d)
            if d.len() == 2
                && d.ends_with(':')
                && d.starts_with(|c: char| c.is_ascii_alphabetic()) =>
        {
            d.to_ascii_uppercase()
        }
        _ => "C:".into(),
    }
}

/// The folder `var` names (`%ProgramData%`, `%SystemRoot%`) as names under `drive`'s root,
/// when it lies on that drive; else `default`.
fn under_drive(var: Option<&str>, drive: &str, default: &str) -> Vec<String> {
    let parts = var.and_then(|v| {
        let rest = v
            .get(..drive.len())
            .filter(|d| d.eq_ignore_ascii_case(drive))
            .and_then(|_| v.get(drive.len()..))?;
        let parts: Vec<String> = rest
            .split(['\\', '/'])
            .filter(|p| !p.is_empty())
            .map(String::from)
            .collect();
        (!parts.is_empty() && parts.iter().all(|p| p != "." && p != "..")).then_some(parts)
    });
    parts.unwrap_or_else(|| vec![default.to_string()])
}

impl Target {
    /// The volume's name: `\\.\C:`.
    pub fn volume_name(&self) -> String {
        format!(r"\\.\{}", self.drive)
    }

    /// The files an output must never replace: the stand-in volume, and the files the live
    /// host's folder holds.
    pub fn evidence(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self
            .volume
            .iter()
            .filter(|_| self.stand_in)
            .cloned()
            .collect();
        if let Some(folder) = self.path_of(&self.downloader) {
            out.extend(find_inputs_reporting(&folder, &mut Vec::new()));
        }
        out.extend(self.path_of(&self.event_log));
        out
    }

    /// Names from the volume's root as a path under the root (`C:\ProgramData\...`).
    fn path_of(&self, names: &[String]) -> Option<PathBuf> {
        let root = self.root.as_ref()?;
        Some(names.iter().fold(root.clone(), |p, n| p.join(n)))
    }
}

/// Read the live host into `sink`: through the volume, else the files by path (see the
/// module's notes). Each input's records carry this machine as their host; the reports say
/// what each input gave (the volume is one input; opened by path, each file is one).
pub fn run(
    target: &Target,
    opts: &Options,
    hash: bool,
    sink: &mut dyn Sink,
) -> Result<Vec<Report>, Stop> {
    let host = this_machine();
    let why = match &target.volume {
        #[cfg(feature = "images")]
        Some(path) => match volume::run(target, path, opts, &host, sink)? {
            Ok(report) => return Ok(vec![report]),
            Err(why) => why,
        },
        #[cfg(not(feature = "images"))]
        Some(_) => format!(
            "{}: not read (this build has no NTFS reader: feature `images`)",
            target.volume_name()
        ),
        None => format!("{}: no volume to open", target.volume_name()),
    };
    run_files(target, &why, opts, hash, &host, sink)
}

/// The files opened by path, when the volume could not be read (`why`).
fn run_files(
    target: &Target,
    why: &str,
    opts: &Options,
    hash: bool,
    host: &Host,
    sink: &mut dyn Sink,
) -> Result<Vec<Report>, Stop> {
    let Some(folder) = target.path_of(&target.downloader) else {
        return failed(target.volume_name(), escape(why).into_owned(), sink);
    };
    // Warnings are escaped where they are shown; a report's error is escaped here.
    let raw = folder.display().to_string();
    let shown = escape(&raw).into_owned();
    sink.warning(&Diagnostic::new(format!(
        "{why}; opening the files in {raw} instead"
    )))?;
    if !folder.is_dir() {
        return failed(
            folder,
            format!("{shown}: not found (or not readable: run bitscope as administrator)"),
            sink,
        );
    }
    let mut warnings = Vec::new();
    let paths = find_inputs_reporting(&folder, &mut warnings);
    for w in warnings {
        sink.warning(&Diagnostic::new(format!(
            "{w} (run bitscope as administrator to read it)"
        )))?;
    }
    if paths.is_empty() {
        return failed(folder, format!("{shown}: no qmgr.db or qmgr*.dat"), sink);
    }
    if let Some(log) = target.path_of(&target.event_log).filter(|p| p.is_file()) {
        let label = [log.display().to_string()];
        hand_on_event_log(&label, None, sink)?;
    }
    // Through the driver, so a qmgr0.dat / qmgr1.dat pair is read as one queue here too.
    let files = paths
        .into_iter()
        .map(|path| Input {
            path,
            opened: None,
            host: host.clone(),
        })
        .collect();
    let inputs = driver::Inputs {
        files,
        warnings: Vec::new(),
    };
    driver::run_inputs(inputs, opts, hash, sink)
}

/// One input that could not be read at all.
fn failed(
    path: impl Into<PathBuf>,
    error: String,
    sink: &mut dyn Sink,
) -> Result<Vec<Report>, Stop> {
    let report = Report {
        path: path.into(),
        index: 1,
        count: 1,
        error: Some(error),
        ..Report::default()
    };
    sink.finished(&report)?;
    Ok(vec![report])
}

/// The BITS client's event log, found (`chain`: its container chain, or its path; `size` when
/// known): named for the analyst. Its events are the event-log reader's to read, which takes
/// it as it takes a log found in an image or beside a store.
fn hand_on_event_log(chain: &[String], size: Option<u64>, sink: &mut dyn Sink) -> Result<(), Stop> {
    let size = size.map(|s| format!(", {s} bytes")).unwrap_or_default();
    sink.warning(
        &Diagnostic::new(format!(
            "the BITS client's event log{size}: found, its events not read (no event-log reader in this build)"
        ))
        .within(chain),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drive_and_folders_come_from_the_environment_when_sane() {
        assert_eq!(system_drive(Some("d:")), "D:");
        assert_eq!(system_drive(Some("C:\\")), "C:");
        assert_eq!(system_drive(Some("")), "C:");
        assert_eq!(system_drive(None), "C:");
        assert_eq!(
            under_drive(Some(r"C:\ProgramData"), "C:", "ProgramData"),
            ["ProgramData"]
        );
        assert_eq!(
            under_drive(Some(r"c:\windows"), "C:", "Windows"),
            ["windows"]
        );
        assert_eq!(
            under_drive(Some(r"D:\Data"), "C:", "ProgramData"),
            ["ProgramData"]
        );
        assert_eq!(under_drive(Some(r"C:\..\x"), "C:", "Windows"), ["Windows"]);
        assert_eq!(under_drive(Some(r"C:\"), "C:", "Windows"), ["Windows"]);
        assert_eq!(under_drive(None, "C:", "Windows"), ["Windows"]);
    }
}
