//! The story's plumbing: finding the event logs and hives that go with the stores, reading
//! them once, and joining what they say to every record on its way to the sink
//! ([`StorySink`]); the jobs only the logs know follow as rows of their own.
//!
//! Where the companions are found:
//! - named on the command line (a file whose first bytes are `ElfFile` or `regf`);
//! - beside a store (its own folder): any `*.evtx`, `SAM`, `SOFTWARE`;
//! - in a collection: the folder above the store that holds `Windows\System32\winevt\Logs\`
//!   (the BITS client's, Sysmon's and the Security log) and `Windows\System32\config\` (`SAM`,
//!   `SOFTWARE`), names compared case-insensitively;
//! - in an image: the container layer's finds by MFT name (deleted files too), handed to the
//!   sink through [`Sink::companion`] before the image's stores run.
//!
//! Nothing is looked up on this machine: only the evidence's own files.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{Diagnostic, Phase, Sink, Stop};
use crate::bits::model::BitsInfo;
use crate::bits::story::Story;
use crate::util::guid::Guid;

/// The largest companion file read (a log of 1 GiB holds millions of events).
pub const MAX_COMPANION: u64 = 1 << 30;

/// What a companion file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Companion {
    EventLog,
    Hive,
}

impl Companion {
    /// What `head` (a file's first bytes) is, if a companion.
    pub fn of(head: &[u8]) -> Option<Companion> {
        if crate::evtx::is_evtx(head) {
            Some(Companion::EventLog)
        } else if crate::hive::is_hive(head) {
            Some(Companion::Hive)
        } else {
            None
        }
    }
}

/// Logs of interest in `winevt\Logs` (lower case).
const LOG_NAMES: [&str; 3] = [
    "microsoft-windows-bits-client%4operational.evtx",
    "microsoft-windows-sysmon%4operational.evtx",
    "security.evtx",
];
const HIVE_NAMES: [&str; 2] = ["sam", "software"];

/// Whether a file named `name` is a companion the container layer should hand over.
pub fn is_companion_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    LOG_NAMES.contains(&n.as_str()) || HIVE_NAMES.contains(&n.as_str())
}

/// The companion files of the stores at `stores` (see the module's list), each once.
pub fn companions_of(stores: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut push = |p: PathBuf| {
        if p.is_file() && std::fs::canonicalize(&p).is_ok_and(|c| seen.insert(c)) {
            out.push(p);
        }
    };
    for store in stores {
        let Some(dir) = store.parent() else { continue };
        for p in entries(dir) {
            let name = lower_name(&p);
            if name.ends_with(".evtx") || HIVE_NAMES.contains(&name.as_str()) {
                push(p);
            }
        }
        // A collection: an ancestor with Windows\System32 below it.
        for up in dir.ancestors().skip(1).take(8) {
            let Some(system32) = child(up, "windows").and_then(|w| child(&w, "system32")) else {
                continue;
            };
            if let Some(logs) = child(&system32, "winevt").and_then(|w| child(&w, "logs")) {
                for p in entries(&logs) {
                    if LOG_NAMES.contains(&lower_name(&p).as_str()) {
                        push(p);
                    }
                }
            }
            if let Some(config) = child(&system32, "config") {
                for p in entries(&config) {
                    if HIVE_NAMES.contains(&lower_name(&p).as_str()) {
                        push(p);
                    }
                }
            }
            break;
        }
    }
    out
}

fn lower_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// The entry of `dir` named `name`, any case.
fn child(dir: &Path, name: &str) -> Option<PathBuf> {
    entries(dir)
        .into_iter()
        .find(|p| lower_name(p) == name && p.is_dir())
}

/// Read a companion's bytes into the story. False when it is neither a log nor a hive.
pub fn add_companion(story: &mut Story, label: &str, kind: Companion, bytes: &[u8]) {
    match kind {
        Companion::EventLog => story.add_log(label, crate::evtx::read(bytes)),
        Companion::Hive => {
            story.add_hive(label, bytes);
        }
    }
}

/// Passes records on with their story joined; remembers the job ids it saw, so the jobs only
/// the logs know can follow ([`StorySink::log_only`]).
pub struct StorySink<'s> {
    pub inner: &'s mut dyn Sink,
    pub story: Story,
    seen: HashSet<Guid>,
}

impl<'s> StorySink<'s> {
    pub fn new(inner: &'s mut dyn Sink, story: Story) -> StorySink<'s> {
        StorySink {
            inner,
            story,
            seen: HashSet::new(),
        }
    }

    /// The rows of the jobs the logs know and no store held.
    pub fn log_only(&self) -> Vec<BitsInfo> {
        self.story.log_only(&self.seen)
    }
}

impl Sink for StorySink<'_> {
    fn record(&mut self, mut record: BitsInfo) -> Result<(), Stop> {
        if let Some(id) = Guid::parse(&record.job_id) {
            self.seen.insert(id);
        }
        if !self.story.is_empty() || !record.story.is_empty() {
            self.story.enrich(&mut record);
        }
        self.inner.record(record)
    }
    fn warning(&mut self, warning: &Diagnostic) -> Result<(), Stop> {
        self.inner.warning(warning)
    }
    fn progress(&mut self, phase: Phase, done: u64, total: u64) -> Result<(), Stop> {
        self.inner.progress(phase, done, total)
    }
    fn opened(&mut self, input: &super::driver::Opened) -> Result<(), Stop> {
        self.inner.opened(input)
    }
    fn finished(&mut self, report: &super::driver::Report) -> Result<(), Stop> {
        self.inner.finished(report)
    }
    fn companion(&mut self, label: &str, kind: Companion, bytes: &[u8]) -> Result<(), Stop> {
        add_companion(&mut self.story, label, kind, bytes);
        Ok(())
    }
    fn container(&mut self, facts: &super::ContainerFacts) -> Result<(), Stop> {
        self.inner.container(facts)
    }
}
