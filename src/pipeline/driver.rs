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
/// stop the others. The two files of a legacy queue in one folder (`qmgr0.dat`, `qmgr1.dat`)
/// run as one queue (see `pair.rs`): both are opened, then their records come, then both are
/// finished. Returns the reports in input order, or `Err(Stop)` when the sink stopped the run.
pub fn run_inputs(
    inputs: Inputs,
    opts: &Options,
    hash: bool,
    sink: &mut dyn Sink,
) -> Result<Vec<Report>, Stop> {
    let count = inputs.files.len();
    let partner = partners(&inputs.files);
    let mut files: Vec<Option<Input>> = inputs.files.into_iter().map(Some).collect();
    let mut reports = Vec::with_capacity(count);
    for i in 0..count {
        let Some(input) = files.get_mut(i).and_then(Option::take) else {
            continue; // run already as the second file of a pair
        };
        let second = partner_after(&partner, i).and_then(|j| Some((j, files.get_mut(j)?.take()?)));
        reports.extend(run_unit(i, input, second, count, opts, hash, sink)?);
    }
    reports.sort_by_key(|r| r.index);
    Ok(reports)
}

/// Input `i` (0-based) of `count`, alone or with `second`, the other file of its qmgr0.dat /
/// qmgr1.dat pair (see [`partners`]): its reports, the first file's first.
pub(crate) fn run_unit(
    i: usize,
    input: Input,
    second: Option<(usize, Input)>,
    count: usize,
    opts: &Options,
    hash: bool,
    sink: &mut dyn Sink,
) -> Result<Vec<Report>, Stop> {
    match second {
        Some((j, other)) => Ok(run_pair([(i, input), (j, other)], count, opts, hash, sink)?.into()),
        None => Ok(vec![run_one(input, i + 1, count, opts, hash, sink)?]),
    }
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
    let host = input.host.clone();
    let mut named = Named {
        sink: &mut *sink,
        host: &host,
    };
    match open(input) {
        Ok(ev) => run_opened(ev, opts, hash, &mut named, &mut report)?,
        Err(e) => report.error = Some(e),
    }
    sink.finished(&report)?;
    Ok(report)
}

fn open(input: Input) -> Result<Arc<Evidence>, String> {
    match input.opened {
        Some(o) => o,
        None => Evidence::open(&input.path)
            .map(Arc::new)
            .map_err(|e| e.to_string()),
    }
}

/// For each input, the other file of its qmgr0.dat / qmgr1.dat pair: the same folder (as
/// canonicalized), the two names (compared without case).
pub(crate) fn partners(files: &[Input]) -> Vec<Option<usize>> {
    let slot = |p: &std::path::Path| -> Option<(PathBuf, u8)> {
        let name = p.file_name()?.to_str()?.to_ascii_lowercase();
        let n = match name.as_str() {
            "qmgr0.dat" => 0,
            "qmgr1.dat" => 1,
            _ => return None,
        };
        let dir = std::fs::canonicalize(p).ok()?.parent()?.to_path_buf();
        Some((dir, n))
    };
    let slots: Vec<Option<(PathBuf, u8)>> = files.iter().map(|f| slot(&f.path)).collect();
    slots
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (dir, n) = s.as_ref()?;
            slots
                .iter()
                .enumerate()
                .position(|(j, o)| j != i && o.as_ref().is_some_and(|(d, m)| d == dir && m != n))
        })
        .collect()
}

/// The other file of input `i`'s pair when it comes after `i` (the pair runs at its first
/// file; the second is skipped when its turn comes).
pub(crate) fn partner_after(partner: &[Option<usize>], i: usize) -> Option<usize> {
    partner.get(i).copied().flatten().filter(|&j| j > i)
}

/// The other file of input `i`'s pair when it comes before `i`: `i` runs with it.
pub(crate) fn partner_before(partner: &[Option<usize>], i: usize) -> Option<usize> {
    partner.get(i).copied().flatten().filter(|&j| j < i)
}

/// Run the two files of a legacy queue as one (see `pair.rs`); when either cannot be opened
/// or is not a legacy queue, each runs alone.
fn run_pair(
    pair: [(usize, Input); 2],
    count: usize,
    opts: &Options,
    hash: bool,
    sink: &mut dyn Sink,
) -> Result<[Report; 2], Stop> {
    let [(i, a), (j, b)] = pair;
    let (pa, pb) = (a.path.clone(), b.path.clone());
    let hosts = [a.host.clone(), b.host.clone()];
    let (ea, eb) = match (open(a), open(b)) {
        (Ok(ea), Ok(eb)) if is_legacy(&ea) && is_legacy(&eb) => (ea, eb),
        (ea, eb) => {
            let [ha, hb] = hosts;
            return alone([(i, pa, ea, ha), (j, pb, eb, hb)], count, opts, hash, sink);
        }
    };
    let mut reports = [(i, pa, &ea), (j, pb, &eb)].map(|(i, path, ev)| Report {
        path,
        index: i + 1,
        count,
        size: ev.len(),
        format: Some(Format::Legacy),
        ..Report::default()
    });
    let mut queues = Vec::with_capacity(2);
    for (report, ev) in reports.iter_mut().zip([&ea, &eb]) {
        if !hash_and_announce(ev, hash, sink, report)? {
            continue;
        }
        let label = ev.path().display().to_string();
        match ev.map() {
            Ok(map) => {
                queues.push(super::store::decode_legacy(&map, &label, opts, sink)?);
                map.release();
            }
            Err(e) => report.error = Some(super::ParseError::from(e).to_string()),
        }
    }
    if let [first, second] = queues.as_mut_slice() {
        super::pair::merge(first, second);
    }
    let labels: Vec<String> = reports
        .iter()
        .map(|r| r.path.display().to_string())
        .collect();
    let mut counted = ByEvidence {
        sink,
        labels: &labels,
        hosts: &hosts,
        counts: [0, 0],
    };
    match super::store::join_legacy(queues, opts, &mut counted) {
        Ok(()) => {}
        Err(RunError::Stopped) => return Err(Stop),
        Err(RunError::Parse(e)) => reports[0].error = Some(e.to_string()),
    }
    let counts = counted.counts;
    for (report, n) in reports.iter_mut().zip(counts) {
        report.records = n;
        sink.finished(report)?;
    }
    Ok(reports)
}

/// Does the file start as a legacy queue does?
fn is_legacy(ev: &Evidence) -> bool {
    ev.head(super::HEAD)
        .is_ok_and(|h| super::detect(&h) == Format::Legacy)
}

/// An input of a pair, opened: its index, path, what opening it gave, its host.
type OpenedInput = (usize, PathBuf, Result<Arc<Evidence>, String>, Host);

/// Each of two inputs run alone (a pair that cannot run as one).
fn alone(
    two: [OpenedInput; 2],
    count: usize,
    opts: &Options,
    hash: bool,
    sink: &mut dyn Sink,
) -> Result<[Report; 2], Stop> {
    let mut out = Vec::with_capacity(2);
    for (i, path, opened, host) in two {
        let input = Input {
            path,
            opened: Some(opened),
            host,
        };
        out.push(run_one(input, i + 1, count, opts, hash, sink)?);
    }
    let [a, b]: [Report; 2] = out.try_into().map_err(|_| Stop)?;
    Ok([a, b])
}

/// Counts a pair's records by the file they come from, and names each with that file's host.
struct ByEvidence<'a> {
    sink: &'a mut dyn Sink,
    labels: &'a [String],
    hosts: &'a [Host; 2],
    counts: [u64; 2],
}

impl Sink for ByEvidence<'_> {
    fn record(&mut self, mut record: BitsInfo) -> Result<(), Stop> {
        let at = self.labels.iter().position(|l| *l == record.evidence);
        if let Some(n) = at.and_then(|i| self.counts.get_mut(i)) {
            *n += 1;
        }
        if let Some(host) = at.and_then(|i| self.hosts.get(i)).or(self.hosts.first()) {
            record.host.clone_from(&host.name);
            record.host_source = host.source.as_str().to_string();
        }
        self.sink.record(record)
    }
    fn warning(&mut self, warning: &super::Diagnostic) -> Result<(), Stop> {
        self.sink.warning(warning)
    }
    fn progress(&mut self, phase: Phase, done: u64, total: u64) -> Result<(), Stop> {
        self.sink.progress(phase, done, total)
    }
}

/// Hash `ev` when asked and tell the sink it is open. False when hashing failed (the report
/// then says why and the input is not run).
fn hash_and_announce(
    ev: &Arc<Evidence>,
    hash: bool,
    sink: &mut dyn Sink,
    report: &mut Report,
) -> Result<bool, Stop> {
    if hash {
        match sha256(ev, &mut |done| {
            sink.progress(Phase::Hashing, done, ev.len())
        }) {
            Ok(h) => report.sha256 = Some(h),
            Err(HashError::Stopped) => return Err(Stop),
            Err(HashError::Io(e)) => {
                report.error = Some(format!("{}: {e}", escape(&ev.path().display().to_string())));
                return Ok(false);
            }
        }
    }
    sink.opened(&Opened {
        path: report.path.clone(),
        index: report.index,
        count: report.count,
        size: report.size,
        sha256: report.sha256.clone(),
        evidence: Arc::clone(ev),
    })?;
    Ok(true)
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
    if !hash_and_announce(&ev, hash, sink, report)? {
        return Ok(());
    }
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
