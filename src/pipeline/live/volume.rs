//! The live host through its raw volume (see the folder's notes): the Downloader folder
//! looked up by path in the volume's NTFS, its files run as an image's stores are.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use super::super::images::{run_found, Counted};
use super::{hand_on_event_log, Target, VOLUME_ENV};
use crate::bits::model::BitsInfo;
use crate::container::{self, aligned::Aligned, lookup::Lookup, volume::RawVolume, ReadAt};
use crate::pipeline::driver::Report;
use crate::pipeline::host::Host;
use crate::pipeline::{Diagnostic, Options, RunError, Sink, Stop};
use crate::util::text::escape;

/// The live host through its volume at `path`: one report, or why the volume could not be
/// read (the files are then opened by path).
pub(super) fn run(
    target: &Target,
    path: &Path,
    opts: &Options,
    host: &Host,
    sink: &mut dyn Sink,
) -> Result<Result<Report, String>, Stop> {
    let name = target.volume_name();
    if target.stand_in {
        sink.warning(&Diagnostic::new(format!(
            "{name}: read from the test stand-in {} ({})",
            path.display(),
            VOLUME_ENV
        )))?;
    }
    let vol = match RawVolume::open(path, target.stand_in) {
        Ok(v) => v,
        Err(e) => {
            let hint = if e.kind() == std::io::ErrorKind::PermissionDenied {
                " (opening a volume takes administrator rights)"
            } else {
                ""
            };
            return Ok(Err(format!("{name}: not opened: {e}{hint}")));
        }
    };
    let read = AtomicU64::new(0);
    let ran = if target.unaligned {
        through(target, &vol, &vol, &read, opts, host, sink)
    } else {
        let aligned = Aligned::new(&vol, vol.sector());
        through(target, &aligned, &vol, &read, opts, host, sink)
    };
    if let Some((served, refused)) = vol.counts() {
        sink.warning(&Diagnostic::new(format!(
            "{name} (stand-in): {served} reads of whole {}-byte sectors served, {refused} other reads refused",
            vol.sector()
        )))?;
    }
    ran
}

/// The Downloader folder's files looked up in the volume read through `disk`, and run.
fn through(
    target: &Target,
    disk: &dyn ReadAt,
    vol: &RawVolume,
    read: &AtomicU64,
    opts: &Options,
    host: &Host,
    sink: &mut dyn Sink,
) -> Result<Result<Report, String>, Stop> {
    let name = target.volume_name();
    let kind = format!("live volume {name}");
    let disk = Counted { inner: disk, read };
    let size = vol.size();
    let (stores, log) = {
        let mut lookup = match Lookup::open(&disk, 0, size, std::slice::from_ref(&kind)) {
            Ok(l) => l,
            Err(e) => return Ok(Err(format!("{name}: not read as NTFS: {e}"))),
        };
        let folder = shown(&target.downloader);
        let stores = match lookup.folder(&names(&target.downloader), &container::is_wanted_name) {
            Ok(Some(s)) => s,
            Ok(None) => Vec::new(),
            Err(e) => return Ok(Err(format!("{name}: {folder} not read: {e}"))),
        };
        let log = match lookup.file(&names(&target.event_log)) {
            Ok(log) => log,
            Err(e) => {
                let path = shown(&target.event_log);
                sink.warning(&Diagnostic::new(format!("{name}: {path} not read: {e}")))?;
                None
            }
        };
        (stores, log)
    };
    let mut report = Report {
        path: PathBuf::from(&name),
        index: 1,
        count: 1,
        size,
        ..Report::default()
    };
    if let Some(log) = &log {
        hand_on_event_log(&log.chain, Some(log.size), sink)?;
    }
    if !stores.iter().any(|s| container::is_store_name(&s.name)) {
        let error = format!(
            "{name}: no qmgr.db or qmgr*.dat in {}",
            shown(&target.downloader)
        );
        report.error = Some(escape(&error).into_owned());
        sink.finished(&report)?;
        return Ok(Ok(report));
    }
    let total = stores.iter().map(|s| s.size).sum();
    // No volume to carve: its free clusters are being rewritten (see the folder's notes).
    let mut found = container::Found::new(Box::new(disk), kind, Vec::new());
    found.stores = stores;
    let mut named = Named {
        sink: &mut *sink,
        host,
        records: 0,
    };
    let ran = run_found(&found, read, total, &name, opts, &mut named);
    report.records = named.records;
    match ran {
        Ok(_) => {}
        Err(RunError::Stopped) => return Err(Stop),
        Err(RunError::Parse(e)) => report.error = Some(e.to_string()),
    }
    sink.finished(&report)?;
    Ok(Ok(report))
}

/// Names from the volume's root as the volume spells a path (`\ProgramData\...`).
fn shown(names: &[String]) -> String {
    names.iter().map(|n| format!("\\{n}")).collect()
}

/// Names as the lookup takes them.
fn names(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Names this machine as each record's host and counts the records.
struct Named<'s> {
    sink: &'s mut dyn Sink,
    host: &'s Host,
    records: u64,
}

impl Sink for Named<'_> {
    fn record(&mut self, mut record: BitsInfo) -> Result<(), Stop> {
        record.host.clone_from(&self.host.name);
        record.host_source = self.host.source.as_str().to_string();
        self.records = self.records.saturating_add(1);
        self.sink.record(record)
    }
    fn warning(&mut self, warning: &Diagnostic) -> Result<(), Stop> {
        self.sink.warning(warning)
    }
    fn forward(&mut self) -> Option<&mut dyn Sink> {
        Some(&mut *self.sink)
    }
}
