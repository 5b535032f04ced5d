//! The one per-input driver: find the evidence files under the paths given, open each once
//! (read-only), hash it when asked, run it through the pipeline, and say what it gave.
//! `parse`, `collect`, the explorer's worker and the demo all run their inputs through
//! [`run_inputs`]; they differ only in their sink and in what they make of the reports.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::host::{host_of, Host};
use super::{find_inputs_reporting, run_evidence, Format, Options, Phase, RunError, Sink, Stop};
use crate::bits::model::BitsInfo;
use crate::input::Evidence;
use crate::util::text::escape;

/// One evidence file to run: its path and, when opened ahead (the explorer opens every input
/// before it takes the terminal, to refuse a path that cannot be read), its open handle or
/// why it could not be opened.
#[derive(Debug)]
pub struct Input {
    pub path: PathBuf,
    pub opened: Option<Result<Arc<Evidence>, String>>,
    /// The host its records are named with (see [`super::host`]).
    pub host: Host,
}

/// The evidence files under the paths given, and what finding them passed over.
#[derive(Debug, Default)]
pub struct Inputs {
    pub files: Vec<Input>,
    /// Unreadable subfolders, symlinked folders not followed (see [`find_inputs_reporting`]).
    pub warnings: Vec<String>,
}

impl Inputs {
    /// Every `qmgr.db` and `qmgr*.dat` under `paths` (a file is itself an input), not yet
    /// opened: each is opened when its turn comes, so a folder of thousands of collections
    /// holds one file open at a time.
    pub fn find(paths: &[PathBuf]) -> Inputs {
        let mut warnings = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let files = paths
            .iter()
            .flat_map(|given| {
                find_inputs_reporting(given, &mut warnings)
                    .into_iter()
                    .map(move |path| (given, path))
            })
            // One file named twice (two paths, a folder and a file in it) is read once.
            .filter(|(_, p)| std::fs::canonicalize(p).map_or(true, |c| seen.insert(c)))
            .map(|(given, path)| Input {
                host: host_of(given, &path),
                path,
                opened: None,
            })
            .collect();
        Inputs { files, warnings }
    }

    /// [`Inputs::find`], then open every input now. An error (one line, names escaped) when
    /// nothing is found or nothing opens.
    pub fn open_all(paths: &[PathBuf]) -> Result<Inputs, String> {
        let mut inputs = Inputs::find(paths);
        if inputs.files.is_empty() {
            let shown: Vec<String> = paths
                .iter()
                .map(|p| escape(&p.display().to_string()).into_owned())
                .collect();
            return Err(format!(
                "{}: no qmgr.db or qmgr*.dat found in this folder",
                shown.join(", ")
            ));
        }
        for input in &mut inputs.files {
            let ev = Evidence::open(&input.path)
                .map(Arc::new)
                .map_err(|e| e.to_string());
            input.opened = Some(ev);
        }
        let errors: Vec<&str> = inputs
            .files
            .iter()
            .filter_map(|i| i.opened.as_ref()?.as_ref().err().map(String::as_str))
            .collect();
        if errors.len() == inputs.files.len() {
            return Err(errors.join("; "));
        }
        Ok(inputs)
    }
}

/// An input as opened, told to the sink before its records (see [`Sink::opened`]).
#[derive(Debug, Clone)]
pub struct Opened {
    pub path: PathBuf,
    /// Which input (1-based) of how many.
    pub index: usize,
    pub count: usize,
    pub size: u64,
    /// The whole file's SHA-256, in lower-case hex, when hashing was asked for.
    pub sha256: Option<String>,
    /// The open file: a hex view reads through it (the file is never opened twice).
    pub evidence: Arc<Evidence>,
}

/// What one input gave, told to the sink after its records (see [`Sink::finished`]).
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub path: PathBuf,
    pub index: usize,
    pub count: usize,
    pub size: u64,
    pub sha256: Option<String>,
    /// The format found, when the input could be opened.
    pub format: Option<Format>,
    pub records: u64,
    /// Why the input could not be read (escaped for a terminal), when it could not.
    pub error: Option<String>,
}

/// Run every input, in order, through the pipeline into `sink`, hashing each first when
/// `hash` is set. The sink hears [`Sink::opened`] before an input's records and
/// [`Sink::finished`] after them (a failed input too); an input that cannot be read does not
/// stop the others. Returns the reports, or `Err(Stop)` when the sink stopped the run.
pub fn run_inputs(
    inputs: Inputs,
    opts: &Options,
    hash: bool,
    sink: &mut dyn Sink,
) -> Result<Vec<Report>, Stop> {
    let count = inputs.files.len();
    let mut reports = Vec::with_capacity(count);
    for (i, input) in inputs.files.into_iter().enumerate() {
        reports.push(run_one(input, i + 1, count, opts, hash, sink)?);
    }
    Ok(reports)
}

/// Open (unless opened ahead), hash when asked, and run one input, the `index`-th of `count`;
/// the sink hears its records with their host, then [`Sink::finished`].
pub(crate) fn run_one(
    input: Input,
    index: usize,
    count: usize,
    opts: &Options,
    hash: bool,
    sink: &mut dyn Sink,
) -> Result<Report, Stop> {
    let mut report = Report {
        path: input.path.clone(),
        index,
        count,
        ..Report::default()
    };
    let opened = match input.opened {
        Some(o) => o,
        None => Evidence::open(&input.path)
            .map(Arc::new)
            .map_err(|e| e.to_string()),
    };
    let mut named = Named {
        sink: &mut *sink,
        host: &input.host,
    };
    match opened {
        Ok(ev) => run_opened(ev, opts, hash, &mut named, &mut report)?,
        Err(e) => report.error = Some(e),
    }
    sink.finished(&report)?;
    Ok(report)
}

/// Hash (when asked) and run one open input, filling `report`.
fn run_opened(
    ev: Arc<Evidence>,
    opts: &Options,
    hash: bool,
    sink: &mut dyn Sink,
    report: &mut Report,
) -> Result<(), Stop> {
    report.size = ev.len();
    if hash {
        match sha256(&ev, &mut |done| {
            sink.progress(Phase::Hashing, done, ev.len())
        }) {
            Ok(h) => report.sha256 = Some(h),
            Err(HashError::Stopped) => return Err(Stop),
            Err(HashError::Io(e)) => {
                report.error = Some(format!("{}: {e}", escape(&ev.path().display().to_string())));
                return Ok(());
            }
        }
    }
    sink.opened(&Opened {
        path: report.path.clone(),
        index: report.index,
        count: report.count,
        size: report.size,
        sha256: report.sha256.clone(),
        evidence: Arc::clone(&ev),
    })?;
    match run_evidence(&ev, opts, sink) {
        Ok(summary) => {
            report.format = Some(summary.format);
            report.records = summary.records;
        }
        Err(RunError::Stopped) => return Err(Stop),
        Err(RunError::Parse(e)) => report.error = Some(e.to_string()),
    }
    Ok(())
}

/// Names each record's host on its way to the sink.
struct Named<'s> {
    sink: &'s mut dyn Sink,
    host: &'s Host,
}

impl Sink for Named<'_> {
    fn record(&mut self, mut record: BitsInfo) -> Result<(), Stop> {
        record.host.clone_from(&self.host.name);
        record.host_source = self.host.source.as_str().to_string();
        self.sink.record(record)
    }
    fn warning(&mut self, warning: &super::Diagnostic) -> Result<(), Stop> {
        self.sink.warning(warning)
    }
    fn progress(&mut self, phase: Phase, done: u64, total: u64) -> Result<(), Stop> {
        self.sink.progress(phase, done, total)
    }
    fn opened(&mut self, input: &Opened) -> Result<(), Stop> {
        self.sink.opened(input)
    }
    fn finished(&mut self, report: &Report) -> Result<(), Stop> {
        self.sink.finished(report)
    }
}

/// Why hashing ended early.
#[derive(Debug)]
pub enum HashError {
    Io(std::io::Error),
    Stopped,
}

/// Bytes hashed per read.
const HASH_CHUNK: usize = 1 << 20;

/// The SHA-256 of a whole open evidence file (lower-case hex), read by positioned reads in
/// chunks; `progress` hears the bytes done after each chunk and may stop the hashing. The
/// one hashing function of the project: reports, the explorer and the collection all use it.
pub fn sha256(
    ev: &Evidence,
    progress: &mut dyn FnMut(u64) -> Result<(), Stop>,
) -> Result<String, HashError> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; HASH_CHUNK];
    let mut reader = ev.reader();
    let mut done = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(HashError::Io)?;
        let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
            break;
        };
        hasher.update(chunk);
        done = done.saturating_add(n as u64);
        progress(done).map_err(|_| HashError::Stopped)?;
    }
    Ok(crate::util::bytes::hex(&hasher.finalize()))
}
