//! Convenience over the pipeline: the records of one evidence file collected into a
//! [`Parsed`] (tests, fuzzing, small inputs), and many files on all cores.
//!
//! Streaming callers (the command line's writers, the explorer) use the driver instead.

use std::path::{Path, PathBuf};

use super::{run, Diagnostic, Options, ParseError, RunError, Sink, Stop};
use crate::bits::model::BitsInfo;

/// The rows of one evidence file and what went wrong reading it.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub evidence: String,
    pub records: Vec<BitsInfo>,
    pub warnings: Vec<Diagnostic>,
}

/// A sink that keeps everything: for tests and small inputs.
impl Sink for Parsed {
    fn record(&mut self, record: BitsInfo) -> Result<(), Stop> {
        self.records.push(record);
        Ok(())
    }
    fn warning(&mut self, warning: &Diagnostic) -> Result<(), Stop> {
        self.warnings.push(warning.clone());
        Ok(())
    }
}

fn collect(
    evidence: &str,
    run: impl FnOnce(&mut Parsed) -> Result<super::Summary, RunError>,
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
    collect(evidence, |p| run::run_bytes(data, evidence, &opts, p))
}

/// Read and decode one evidence file.
pub fn parse_file(path: &Path) -> Result<Parsed, ParseError> {
    parse_file_with(path, false)
}

/// Read, decode and optionally carve one evidence file (see [`run::run_file`]).
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
    collect(&evidence, |p| run::run_file(path, opts, p))
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
