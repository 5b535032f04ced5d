//! Running one evidence file: tell its format from its first bytes, then hand it to the
//! store path (`store.rs`), to the container layer (`images.rs`), or, when carving, to the
//! raw carver; the records reach the sink as they are made.

use std::path::Path;

#[cfg(feature = "images")]
use super::images;
use super::join::Join;
use super::store::{carve_raw, run_store};
use super::{
    detect, Diagnostic, Format, Options, ParseError, Phase, RunError, Sink, Stop, Summary, HEAD,
};
use crate::bits::carve;
use crate::bits::model::BitsInfo;
use crate::input::Evidence;

/// Open one evidence file and run it through the pipeline.
pub fn run_file(path: &Path, opts: &Options, sink: &mut dyn Sink) -> Result<Summary, RunError> {
    let ev = Evidence::open(path).map_err(ParseError::from)?;
    run_evidence(&ev, opts, sink)
}

/// Run an already opened evidence file through the pipeline.
pub fn run_evidence(
    ev: &Evidence,
    opts: &Options,
    sink: &mut dyn Sink,
) -> Result<Summary, RunError> {
    let label = ev.path().display().to_string();
    let io = |source| {
        ParseError::Input(crate::input::InputError::Io {
            path: ev.path().to_path_buf(),
            source,
        })
    };
    let head = ev.head(HEAD).map_err(io)?;
    let format = detect(&head);
    drop(head);
    let mut counted = Counting { sink, records: 0 };
    #[cfg(feature = "images")]
    if format == Format::Unknown && images::run_container(ev, &label, opts, &mut counted)? {
        return Ok(Summary {
            format,
            records: counted.records,
        });
    }
    match format {
        Format::Unknown if !opts.carve => return Err(ParseError::NotBits(label).into()),
        Format::Unknown => {
            counted.warning(&Diagnostic::new(
                "not a BITS queue (no ESE or legacy queue header): carved as raw bytes",
            ))?;
            let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
            let total = ev.len();
            let mut stopped = false;
            let mut progress = |done: u64| {
                stopped = counted.sink.progress(Phase::Carving, done, total).is_err();
                !stopped
            };
            let found = carve::carve_stream_until(ev.reader(), &label, threads, &mut progress)
                .map_err(io)?;
            if stopped {
                return Err(RunError::Stopped);
            }
            let mut join = Join::new(opts.field_ranges, Vec::new());
            join.add_candidates(found);
            join.finish(&mut counted)?;
        }
        Format::Ese | Format::Legacy => {
            let map = ev.map().map_err(ParseError::from)?;
            let release = || map.release();
            run_store(&map, format, &label, opts, &mut counted, &release)?;
        }
    }
    Ok(Summary {
        format,
        records: counted.records,
    })
}

/// Run bytes already in memory (tests, fuzzing, the demo) through the pipeline.
pub fn run_bytes(
    data: &[u8],
    evidence: &str,
    opts: &Options,
    sink: &mut dyn Sink,
) -> Result<Summary, RunError> {
    let format = detect(data.get(..HEAD.min(data.len())).unwrap_or(data));
    let mut counted = Counting { sink, records: 0 };
    match format {
        Format::Unknown if !opts.carve => {
            return Err(ParseError::NotBits(evidence.to_string()).into())
        }
        Format::Unknown => {
            counted.warning(&Diagnostic::new(
                "not a BITS queue (no ESE or legacy queue header): carved as raw bytes",
            ))?;
            carve_raw(data, evidence, "raw bytes", opts, &mut counted)?;
        }
        _ => run_store(data, format, evidence, opts, &mut counted, &|| {})?,
    }
    Ok(Summary {
        format,
        records: counted.records,
    })
}

/// Counts the records that reach the sink.
struct Counting<'s> {
    sink: &'s mut dyn Sink,
    records: u64,
}

impl Sink for Counting<'_> {
    fn record(&mut self, record: BitsInfo) -> Result<(), Stop> {
        self.records += 1;
        self.sink.record(record)
    }
    fn warning(&mut self, warning: &Diagnostic) -> Result<(), Stop> {
        self.sink.warning(warning)
    }
    fn progress(&mut self, phase: Phase, done: u64, total: u64) -> Result<(), Stop> {
        self.sink.progress(phase, done, total)
    }
}
