//! The one per-input driver: find the evidence files under the paths given, open each once
//! (read-only), hash it when asked, run it through the pipeline, and say what it gave.
//! `parse`, `collect`, the explorer's worker and the demo all run their inputs through
//! [`run_inputs`]; they differ only in their sink and in what they make of the reports.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::host::{host_of, is_system_hive_place, Host, HostSource, Namer};
use super::story::{add_companion, companions_of, Companion, StorySink, MAX_COMPANION};
use super::{
    find_inputs_reporting, run_evidence_parts, ContainerFacts, Diagnostic, Format, Options, Phase,
    RunError, Sink, Stop,
};
use crate::bits::model::BitsInfo;
use crate::bits::story::Story;
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
        let mut namer = Namer::default();
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
                host: namer.host_of(given, &path),
                path,
                opened: None,
            })
            .collect();
        warnings.append(&mut namer.warnings);
        Inputs { files, warnings }
    }

    /// Every file the inputs will be read from: each input, and the further segment files of
    /// a segmented image beside it (by name: `.E02`, `.E03`, ...), whether or not the image
    /// turns out to use them. Outputs are checked against these before anything is read.
    pub fn evidence_paths(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for i in &self.files {
            out.push(i.path.clone());
            #[cfg(feature = "images")]
            {
                let Some(first) = i.path.extension().and_then(|e| e.to_str()) else {
                    continue;
                };
                for n in 2u32.. {
                    let Some(ext) = crate::container::ewf::segment_extension(first, n) else {
                        break;
                    };
                    let p = i.path.with_extension(ext);
                    if std::fs::symlink_metadata(&p).is_err() {
                        break;
                    }
                    out.push(p);
                }
            }
        }
        out
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
    /// The further files the input is read with (a segmented E01's .E02, .E03, ...), each
    /// opened once and hashed with it.
    pub parts: Vec<Part>,
}

/// A further file of an input (a segment of a segmented image).
#[derive(Debug, Clone)]
pub struct Part {
    pub path: PathBuf,
    pub size: u64,
    /// Its SHA-256 (lower-case hex), when hashing was asked for.
    pub sha256: Option<String>,
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
    /// The further files it was read with (see [`Opened::parts`]).
    pub parts: Vec<Part>,
    /// What the container was, when the input is one (its stored hashes, their check).
    pub container: Option<ContainerFacts>,
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
    let opened = open_story(inputs.files, sink)?;
    let count = opened.count();
    let mut sink = StorySink::new(sink, opened.story);
    let mut reports = run_units(opened.files, count, opts, hash, &mut sink)?;
    close_story(&mut sink, &opened.logs, &opened.host, &mut reports)?;
    Ok(reports)
}

/// The inputs with their story read: the stores to run, the story of the logs and hives
/// named among the inputs or found beside or above the stores, and those logs' paths.
pub(crate) struct StoryInputs {
    pub files: Vec<Input>,
    pub story: Story,
    pub logs: Vec<PathBuf>,
    /// The hosts the logs' own jobs are named with.
    pub host: LogHosts,
}

/// The host each event log's own jobs (those no store holds) are named with: the host of the
/// store nearest the log in the case (the most leading path components in common: the same
/// collection, in a case folder of many hosts); the first log's own name without a store.
pub(crate) struct LogHosts {
    by_log: Vec<(String, Host)>,
    fallback: Host,
}

impl LogHosts {
    fn new(files: &[Input], logs: &[PathBuf]) -> LogHosts {
        let shared = |a: &Path, b: &Path| {
            a.components()
                .zip(b.components())
                .take_while(|(x, y)| x == y)
                .count()
        };
        let nearest = |log: &Path| {
            files
                .iter()
                .rev()
                .max_by_key(|f| shared(&f.path, log))
                .map(|f| f.host.clone())
        };
        let fallback = match (files.first(), logs.first()) {
            (Some(f), _) => f.host.clone(),
            (None, Some(log)) => host_of(log, log),
            (None, None) => host_of(Path::new(""), Path::new("")),
        };
        let by_log = logs
            .iter()
            .filter_map(|l| Some((l.display().to_string(), nearest(l)?)))
            .collect();
        LogHosts { by_log, fallback }
    }

    /// The host of a log-only record, by its evidence (the log it was read from).
    fn of(&self, evidence: &str) -> &Host {
        self.by_log
            .iter()
            .find(|(l, _)| l == evidence)
            .map_or(&self.fallback, |(_, h)| h)
    }
}

impl StoryInputs {
    /// The inputs the sink will hear of: the stores, and the logs' own jobs when no store.
    pub fn count(&self) -> usize {
        self.files
            .len()
            .saturating_add(usize::from(!self.logs.is_empty() && self.files.is_empty()))
    }
}

/// Read the event logs and hives named among `files`, and those beside or above the stores,
/// before any store runs: the records then carry what they say (see `story.rs`).
pub(crate) fn open_story(files: Vec<Input>, sink: &mut dyn Sink) -> Result<StoryInputs, Stop> {
    let (files, named) = split_companions(files);
    let store_paths: Vec<PathBuf> = files.iter().map(|i| i.path.clone()).collect();
    let mut story = Story::default();
    let mut logs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (path, kind) in named.into_iter().chain(
        companions_of(&store_paths)
            .into_iter()
            .filter_map(|p| companion_kind(&p).map(|k| (p, k))),
    ) {
        if !std::fs::canonicalize(&path).is_ok_and(|c| seen.insert(c)) {
            continue;
        }
        let label = path.display().to_string();
        match read_companion(&path) {
            Ok(bytes) => {
                add_companion(&mut story, &label, kind, &bytes);
                if kind == Companion::EventLog {
                    logs.push(path.clone());
                }
            }
            Err(e) => sink.warning(&Diagnostic::new(format!("{}: {e}", escape(&label))))?,
        }
    }
    for w in std::mem::take(&mut story.warnings) {
        sink.warning(&Diagnostic::new(escape(&w).into_owned()))?;
    }
    let host = LogHosts::new(&files, &logs);
    Ok(StoryInputs {
        files,
        story,
        logs,
        host,
    })
}

/// After the stores: the jobs only the logs know, as one more input (the first log).
pub(crate) fn close_story(
    sink: &mut StorySink,
    logs: &[PathBuf],
    hosts: &LogHosts,
    reports: &mut Vec<Report>,
) -> Result<(), Stop> {
    let mut only = sink.log_only();
    for r in &mut only {
        let host = hosts.of(&r.evidence);
        r.host.clone_from(&host.name);
        r.host_source = host.source.as_str().to_string();
    }
    if let (Some(log), false) = (logs.first(), only.is_empty()) {
        let index = reports.len().saturating_add(1);
        reports.push(run_log_only(log, only, index, index, sink.inner)?);
    }
    Ok(())
}

/// The jobs only the logs know, as an input of their own (the first log), so every sink
/// sees them as it sees a store's records.
fn run_log_only(
    log: &Path,
    rows: Vec<BitsInfo>,
    index: usize,
    count: usize,
    sink: &mut dyn Sink,
) -> Result<Report, Stop> {
    let mut report = Report {
        path: log.to_path_buf(),
        index,
        count,
        format: Some(Format::Unknown),
        ..Report::default()
    };
    match Evidence::open(log) {
        Ok(ev) => {
            report.size = ev.len();
            sink.opened(&Opened {
                path: report.path.clone(),
                index,
                count,
                size: report.size,
                sha256: None,
                evidence: Arc::new(ev),
                parts: Vec::new(),
            })?;
            for r in rows {
                report.records = report.records.saturating_add(1);
                sink.record(r)?;
            }
        }
        Err(e) => report.error = Some(e.to_string()),
    }
    sink.finished(&report)?;
    Ok(report)
}

/// The stores in order, the two files of a legacy queue run as one unit (see [`partners`]);
/// `count` is how many inputs the sink hears of.
pub(crate) fn run_units(
    files: Vec<Input>,
    count: usize,
    opts: &Options,
    hash: bool,
    sink: &mut dyn Sink,
) -> Result<Vec<Report>, Stop> {
    let partner = partners(&files);
    let n = files.len();
    let mut files: Vec<Option<Input>> = files.into_iter().map(Some).collect();
    let mut reports = Vec::with_capacity(n);
    for i in 0..n {
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
        None => Ok(vec![run_one(
            input,
            i.saturating_add(1),
            count,
            opts,
            hash,
            sink,
        )?]),
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
    let mut named = Named {
        sink: &mut *sink,
        host: input.host.clone(),
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
        index: i.saturating_add(1),
        count,
        size: ev.len(),
        format: Some(Format::Legacy),
        ..Report::default()
    });
    let mut queues = Vec::with_capacity(2);
    for (report, ev) in reports.iter_mut().zip([&ea, &eb]) {
        if hash_and_announce(ev, hash, sink, report)?.is_none() {
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
        out.push(run_one(
            input,
            i.saturating_add(1),
            count,
            opts,
            hash,
            sink,
        )?);
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
            *n = n.saturating_add(1);
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

/// Hash `ev` and its further files (a segmented image's, opened once, hashed under one
/// gauge) when asked, and tell the sink they are open: the further files, or `None` when
/// hashing failed (the report then says why and the input is not run).
fn hash_and_announce(
    ev: &Arc<Evidence>,
    hash: bool,
    sink: &mut dyn Sink,
    report: &mut Report,
) -> Result<Option<Vec<Part>>, Stop> {
    let (further, notes) = super::run::further_files(ev);
    let mut parts: Vec<Part> = further
        .into_iter()
        .map(|p| Part {
            path: p.path().to_path_buf(),
            size: p.len(),
            sha256: None,
            evidence: Arc::new(p),
        })
        .collect();
    if hash {
        let total = parts.iter().fold(ev.len(), |t, p| t.saturating_add(p.size));
        let mut before = 0u64;
        let files = std::iter::once(ev).chain(parts.iter().map(|p| &p.evidence));
        let mut hashes = Vec::new();
        for file in files {
            let r = sha256(file, &mut |done| {
                sink.progress(Phase::Hashing, before.saturating_add(done), total)
            });
            match r {
                Ok(h) => hashes.push(h),
                Err(HashError::Stopped) => return Err(Stop),
                Err(HashError::Io(e)) => {
                    report.error = Some(format!(
                        "{}: {e}",
                        escape(&file.path().display().to_string())
                    ));
                    return Ok(None);
                }
            }
            before = before.saturating_add(file.len());
        }
        let mut hashes = hashes.into_iter();
        report.sha256 = hashes.next();
        for (p, h) in parts.iter_mut().zip(hashes) {
            p.sha256 = Some(h);
        }
    }
    report.parts = parts.clone();
    sink.opened(&Opened {
        path: report.path.clone(),
        index: report.index,
        count: report.count,
        size: report.size,
        sha256: report.sha256.clone(),
        evidence: Arc::clone(ev),
        parts: parts.clone(),
    })?;
    for n in &notes {
        sink.warning(n)?;
    }
    Ok(Some(parts))
}

/// The inputs that are event logs or hives (by their first bytes), apart from the others.
fn split_companions(files: Vec<Input>) -> (Vec<Input>, Vec<(PathBuf, Companion)>) {
    let mut stores = Vec::new();
    let mut named = Vec::new();
    for input in files {
        let kind = match &input.opened {
            Some(Ok(ev)) => ev.head(8).ok().and_then(|h| Companion::of(&h)),
            Some(Err(_)) => None,
            None if is_store_path(&input.path) => None,
            None => companion_kind(&input.path),
        };
        match kind {
            Some(k) => named.push((input.path, k)),
            None => stores.push(input),
        }
    }
    (stores, named)
}

fn is_store_path(p: &Path) -> bool {
    p.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|n| n == "qmgr.db" || (n.starts_with("qmgr") && n.ends_with(".dat")))
}

/// What the file at `path` is, from its first bytes, when a log or a hive.
fn companion_kind(path: &Path) -> Option<Companion> {
    let ev = Evidence::open(path).ok()?;
    Companion::of(&ev.head(8).ok()?)
}

/// A companion's bytes, mapped read-only (at most [`MAX_COMPANION`]).
fn read_companion(path: &Path) -> Result<crate::input::Mapped, String> {
    let ev = Evidence::open(path).map_err(|e| e.to_string())?;
    if ev.len() > MAX_COMPANION {
        return Err(format!(
            "{} bytes: larger than the {MAX_COMPANION} bytes bitscope reads of a log or hive",
            ev.len()
        ));
    }
    ev.map().map_err(|e| e.to_string())
}

/// Hash (when asked) and run one open input, filling `report`: the file and its further
/// files (a segmented image's), opened once, hashed under one gauge.
fn run_opened(
    ev: Arc<Evidence>,
    opts: &Options,
    hash: bool,
    sink: &mut dyn Sink,
    report: &mut Report,
) -> Result<(), Stop> {
    report.size = ev.len();
    let Some(parts) = hash_and_announce(&ev, hash, sink, report)? else {
        return Ok(());
    };
    let files: Vec<Arc<Evidence>> = parts.iter().map(|p| Arc::clone(&p.evidence)).collect();
    let mut watched = Watch {
        sink: &mut *sink,
        facts: None,
    };
    let result = run_evidence_parts(&ev, &files, opts, &mut watched);
    report.container = watched.facts.take();
    match result {
        Ok(summary) => {
            report.format = Some(summary.format);
            report.records = summary.records;
            if summary.container.is_some() {
                report.container = summary.container;
            }
        }
        Err(RunError::Stopped) => return Err(Stop),
        Err(RunError::Parse(e)) => report.error = Some(e.to_string()),
    }
    // An image that is not what was acquired fails, its records kept.
    if report.error.is_none() {
        report.error = report.container.as_ref().and_then(|c| {
            c.mismatch()
                .map(|m| format!("{}: {}", escape(&ev.path().display().to_string()), m))
        });
    }
    Ok(())
}

/// Passes everything on to the sink, keeping what the container said of itself (even when
/// the input fails later).
struct Watch<'s> {
    sink: &'s mut dyn Sink,
    facts: Option<ContainerFacts>,
}

impl Sink for Watch<'_> {
    fn record(&mut self, record: BitsInfo) -> Result<(), Stop> {
        self.sink.record(record)
    }
    fn warning(&mut self, warning: &super::Diagnostic) -> Result<(), Stop> {
        self.sink.warning(warning)
    }
    fn forward(&mut self) -> Option<&mut dyn Sink> {
        Some(&mut *self.sink)
    }
    fn container(&mut self, facts: &ContainerFacts) -> Result<(), Stop> {
        self.facts = Some(facts.clone());
        self.sink.container(facts)
    }
}

/// Names each record's host on its way to the sink. A zip's or an image's SYSTEM hive, handed
/// over with the container's other companions before its stores run, names the host of the
/// records that follow (see `host.rs`): the collection's file name gives way to its
/// computer's name, or stays with a warning saying why the hive named none.
struct Named<'s> {
    sink: &'s mut dyn Sink,
    host: Host,
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
    fn forward(&mut self) -> Option<&mut dyn Sink> {
        Some(&mut *self.sink)
    }
    fn companion(&mut self, label: &str, kind: Companion, bytes: &[u8]) -> Result<(), Stop> {
        let named = self.host.source == HostSource::SystemHive;
        if kind == Companion::Hive && !named && is_system_hive_place(label) {
            match crate::hive::system::computer_name_of(bytes) {
                Ok(found) => {
                    self.host = Host {
                        name: found.name,
                        source: HostSource::SystemHive,
                    }
                }
                Err(why) => self.sink.warning(&Diagnostic::new(format!(
                    "{}: this SYSTEM hive names no computer ({}): the host stays {} ({})",
                    escape(label),
                    escape(&why),
                    escape(&self.host.name),
                    self.host.source.as_str()
                )))?,
            }
        }
        self.sink.companion(label, kind, bytes)
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
