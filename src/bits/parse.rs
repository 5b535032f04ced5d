//! Convenience over the pipeline: the records of one evidence file collected into a
//! [`Parsed`], many files on all cores, and finding the queue files under a folder.
//!
//! Streaming callers (the CLI's writers, the explorer) use [`super::pipeline`] directly.

use std::path::{Path, PathBuf};

use super::model::BitsInfo;
use super::pipeline::{self, Options, RunError, Sink, Stop, Warning};
use crate::input::InputError;
use crate::util::text::escape;

pub use super::pipeline::detect;

/// What an evidence file looks like from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An ESE database (signature 0x89abcdef at offset 4).
    Ese,
    /// A legacy queue (FILE_HEADER + QUEUE_HEADER after a short preamble).
    Legacy,
    Unknown,
}

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{}: not a BITS queue: neither an ESE database (no signature 0x89abcdef at offset 4) nor a legacy queue (no FILE_HEADER+QUEUE_HEADER in the first 4096 bytes)", escape(.0))]
    NotBits(String),
    #[error("{}: not a BITS queue: an ESE database with neither a Jobs nor a Files table", escape(.0))]
    NotBitsEse(String),
    #[error("{}: {error}", escape(.path))]
    Ese {
        path: String,
        error: crate::ese::EseError,
    },
}

/// The rows of one evidence file and what went wrong reading it.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub evidence: String,
    pub records: Vec<BitsInfo>,
    pub warnings: Vec<Warning>,
}

/// A sink that keeps everything: for tests and small inputs.
impl Sink for Parsed {
    fn record(&mut self, record: BitsInfo) -> Result<(), Stop> {
        self.records.push(record);
        Ok(())
    }
    fn warning(&mut self, warning: &Warning) -> Result<(), Stop> {
        self.warnings.push(warning.clone());
        Ok(())
    }
}

fn collect(
    evidence: &str,
    run: impl FnOnce(&mut Parsed) -> Result<pipeline::Summary, RunError>,
) -> Result<Parsed, ParseError> {
    let mut parsed = Parsed {
        evidence: evidence.to_string(),
        ..Parsed::default()
    };
    match run(&mut parsed) {
        Ok(_) | Err(RunError::Stopped) => Ok(parsed),
        Err(RunError::Parse(e)) => Err(e),
    }
}

/// Decode one evidence file held in memory.
pub fn parse_bytes(data: &[u8], evidence: &str) -> Result<Parsed, ParseError> {
    parse_bytes_with(data, evidence, false)
}

/// Decode one evidence file held in memory, and carve it when `carve` is set. With carving,
/// a file that is neither format is carved as raw bytes instead of refused.
pub fn parse_bytes_with(data: &[u8], evidence: &str, carve: bool) -> Result<Parsed, ParseError> {
    let opts = Options {
        carve,
        ..Options::default()
    };
    collect(evidence, |p| pipeline::run_bytes(data, evidence, &opts, p))
}

/// Read and decode one evidence file.
pub fn parse_file(path: &Path) -> Result<Parsed, ParseError> {
    parse_file_with(path, false)
}

/// Read, decode and optionally carve one evidence file (see [`pipeline::run_file`]).
pub fn parse_file_with(path: &Path, carve: bool) -> Result<Parsed, ParseError> {
    let opts = Options {
        carve,
        ..Options::default()
    };
    parse_file_opts(path, &opts)
}

/// [`parse_file_with`] with every option.
pub fn parse_file_opts(path: &Path, opts: &Options) -> Result<Parsed, ParseError> {
    let evidence = path.display().to_string();
    collect(&evidence, |p| pipeline::run_file(path, opts, p))
}

/// Parse many files on all cores; results in input order.
pub fn parse_files(paths: &[PathBuf], carve: bool) -> Vec<Result<Parsed, ParseError>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    parse_files_with_threads(paths, carve, threads)
}

/// Parse many files with `threads` workers taking the next file as they finish.
pub fn parse_files_with_threads(
    paths: &[PathBuf],
    carve: bool,
    threads: usize,
) -> Vec<Result<Parsed, ParseError>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<Result<Parsed, ParseError>>>> =
        std::sync::Mutex::new((0..paths.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, paths.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(path) = paths.get(i) else { return };
                let r = parse_file_with(path, carve);
                if let Ok(mut v) = results.lock() {
                    if let Some(slot) = v.get_mut(i) {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(ParseError::NotBits("worker failed".into()))))
        .collect()
}

/// The evidence files under `path`: the path itself if a file, else every `qmgr.db` and
/// `qmgr*.dat` below it (case-insensitive), sorted. See [`find_inputs_reporting`].
pub fn find_inputs(path: &Path) -> Vec<PathBuf> {
    find_inputs_reporting(path, &mut Vec::new())
}

/// [`find_inputs`], saying in `warnings` what was passed over: a subfolder that cannot be
/// read, a symlinked folder (never followed: no loops). Anything else with a queue's name is
/// an input (a FIFO or a dangling link is then refused when opened, and counted as failed); a
/// symlinked queue file is followed, and a file reached by two names is read once.
pub fn find_inputs_reporting(path: &Path, warnings: &mut Vec<String>) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_path_buf()];
    }
    let shown = |p: &Path| escape(&p.display().to_string()).into_owned();
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                warnings.push(format!("{}: folder not read: {e}", shown(&dir)));
                continue;
            }
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_symlink() && std::fs::metadata(&p).is_ok_and(|m| m.is_dir()) {
                warnings.push(format!("{}: symlinked folder not followed", shown(&p)));
            } else if is_queue_name(&p) {
                // Symlinks, FIFOs and devices with a queue's name are inputs too: opening
                // one says what it is (and refuses it), rather than passing it over unseen.
                out.push(p);
            }
        }
    }
    out.sort();
    // One file under two names (a symlink beside its target) is read once.
    out.retain(|p| match std::fs::canonicalize(p) {
        Ok(c) => seen.insert(c),
        Err(_) => true,
    });
    out
}

fn is_queue_name(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name == "qmgr.db" || (name.starts_with("qmgr") && name.ends_with(".dat"))
}
