//! From an evidence file to BitsInfo rows: detect the format, decode, join.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::carve;
use super::decoded::{Decoded, FileEntry, JobEntry};
use super::legacy::{decode_legacy_job, decode_legacy_queue};
use super::model::{BitsInfo, FieldRange, Source};
use super::qmgr::read_qmgr_db;
use crate::input::{read_evidence, InputError};

/// What an evidence file looks like from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An ESE database (signature 0x89abcdef at offset 4).
    Ese,
    /// A legacy queue (FILE_HEADER + QUEUE_HEADER after a short preamble).
    Legacy,
    Unknown,
}

pub fn detect(data: &[u8]) -> Format {
    if crate::util::bytes::u32_le(data, 4) == Some(crate::ese::header::SIGNATURE) {
        return Format::Ese;
    }
    if decode_legacy_queue(data).is_ok() {
        return Format::Legacy;
    }
    Format::Unknown
}

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{0}: not a BITS queue: neither an ESE database (no signature 0x89abcdef at offset 4) nor a legacy queue (no FILE_HEADER+QUEUE_HEADER in the first 64 bytes)")]
    NotBits(String),
    #[error("{path}: {error}")]
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
    pub warnings: Vec<String>,
}

/// Decode one evidence file held in memory.
pub fn parse_bytes(data: &[u8], evidence: &str) -> Result<Parsed, ParseError> {
    parse_bytes_with(data, evidence, false)
}

/// Decode one evidence file held in memory, and carve it when `carve` is set. With carving,
/// a file that is neither format is carved as raw bytes instead of refused.
pub fn parse_bytes_with(data: &[u8], evidence: &str, carve: bool) -> Result<Parsed, ParseError> {
    let format = detect(data);
    let mut decoded = match format {
        Format::Ese => read_qmgr_db(data, evidence).map_err(|error| ParseError::Ese {
            path: evidence.to_string(),
            error,
        })?,
        Format::Legacy => read_legacy(data, evidence),
        Format::Unknown if carve => Decoded::default(),
        Format::Unknown => return Err(ParseError::NotBits(evidence.to_string())),
    };
    if carve {
        let (found, warnings) = match format {
            Format::Ese => carve::carve_ese(data, evidence),
            _ => (
                carve::carve_buffer(data, 0, evidence, &|_| (raw_container(format), None)),
                Vec::new(),
            ),
        };
        decoded.warnings.extend(warnings);
        decoded.add_carved(found);
    }
    let warnings = decoded.warnings.clone();
    Ok(Parsed {
        evidence: evidence.to_string(),
        records: decoded.into_rows(),
        warnings,
    })
}

/// Read and decode one evidence file.
pub fn parse_file(path: &Path) -> Result<Parsed, ParseError> {
    parse_file_with(path, false)
}

/// Read, decode and optionally carve one evidence file. A file that is neither an ESE
/// database nor a legacy queue is carved as a stream (never read whole), so disk images of
/// any size work in bounded memory.
pub fn parse_file_with(path: &Path, carve: bool) -> Result<Parsed, ParseError> {
    let evidence = path.display().to_string();
    if carve && !path.is_dir() {
        let io = |source| InputError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut f = std::fs::File::open(path).map_err(io)?;
        let mut head = Vec::new();
        std::io::Read::by_ref(&mut f)
            .take(64 * 1024)
            .read_to_end(&mut head)
            .map_err(io)?;
        if detect(&head) == Format::Unknown {
            let reader = std::io::Read::chain(std::io::Cursor::new(head), f);
            let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
            let found = carve::carve_stream(reader, &evidence, threads, &mut |_| {}).map_err(io)?;
            let mut decoded = Decoded::default();
            decoded.add_carved(found);
            let warnings = decoded.warnings.clone();
            return Ok(Parsed {
                evidence,
                records: decoded.into_rows(),
                warnings,
            });
        }
    }
    let data = read_evidence(path)?;
    parse_bytes_with(&data, &evidence, carve)
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

fn raw_container(format: Format) -> String {
    match format {
        Format::Legacy => "legacy queue (outside the live job list)".into(),
        _ => "raw bytes".into(),
    }
}

/// The jobs of a legacy queue, each with its inline files.
pub fn read_legacy(data: &[u8], evidence: &str) -> Decoded {
    let mut out = Decoded::default();
    let queue = match decode_legacy_queue(data) {
        Ok(q) => q,
        Err(e) => {
            out.warnings.push(format!("legacy queue: {e}"));
            return out;
        }
    };
    out.warnings.extend(queue.warnings.iter().cloned());
    for lj in &queue.jobs {
        // Decode again from the job's own start so field offsets are relative to the job.
        let Some(bytes) = data.get(lj.offset..lj.offset.saturating_add(lj.job.len)) else {
            continue;
        };
        let Ok((job, _)) = decode_legacy_job(bytes) else {
            continue;
        };
        let source = Source {
            evidence: evidence.to_string(),
            offset: lj.offset as u64,
            length: bytes.len() as u64,
            kind: "live".into(),
            container: "legacy-queue".into(),
            fields: FieldRange::from_fields(&job.job.fields),
            ..Source::default()
        };
        let files = job
            .files
            .iter()
            .map(|f| FileEntry {
                id: None,
                file: f.clone(),
                blob: Vec::new(),
                source: Source {
                    fields: Vec::new(),
                    ..source.clone()
                },
            })
            .collect();
        out.legacy.push((
            JobEntry {
                job: job.job,
                blob: bytes.to_vec(),
                source,
            },
            files,
        ));
    }
    out
}

/// The evidence files under `path`: the path itself if a file, else every `qmgr.db` and
/// `qmgr*.dat` below it (case-insensitive), sorted. Symlinked directories are not followed.
pub fn find_inputs(path: &Path) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() && is_queue_name(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn is_queue_name(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name == "qmgr.db" || (name.starts_with("qmgr") && name.ends_with(".dat"))
}
