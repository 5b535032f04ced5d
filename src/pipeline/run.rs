//! Running one evidence file: tell its format from its first bytes, then hand it to the
//! store path (`store.rs`), to the container layer (`images.rs`), or, when carving, to the
//! raw carver; the records reach the sink as they are made.

use std::path::Path;
use std::sync::Arc;

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

/// Open one evidence file and run it through the pipeline (with its further segment files,
/// when it is a segmented image).
pub fn run_file(path: &Path, opts: &Options, sink: &mut dyn Sink) -> Result<Summary, RunError> {
    let ev = Evidence::open(path).map_err(ParseError::from)?;
    run_evidence(&ev, opts, sink)
}

/// Run an already opened evidence file through the pipeline; the further segment files of a
/// segmented image are opened beside it.
pub fn run_evidence(
    ev: &Evidence,
    opts: &Options,
    sink: &mut dyn Sink,
) -> Result<Summary, RunError> {
    let (parts, notes) = further_files(ev);
    for n in &notes {
        sink.warning(n)?;
    }
    let parts: Vec<Arc<Evidence>> = parts.into_iter().map(Arc::new).collect();
    run_evidence_parts(ev, &parts, opts, sink)
}

/// The further files an evidence file is read with (a segmented E01's .E02, .E03, ...),
/// opened, and what cut the search short.
pub(super) fn further_files(ev: &Evidence) -> (Vec<Evidence>, Vec<Diagnostic>) {
    #[cfg(feature = "images")]
    {
        images::segment_files(ev)
    }
    #[cfg(not(feature = "images"))]
    {
        let _ = ev;
        (Vec::new(), Vec::new())
    }
}

/// [`run_evidence`] with the further files already opened (the driver opens and hashes them
/// with the evidence).
pub fn run_evidence_parts(
    ev: &Evidence,
    parts: &[Arc<Evidence>],
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
    let changed = |ev: &Evidence, map: Option<&crate::input::Mapped>| {
        ev.changed(map).map(|why| {
            RunError::Parse(ParseError::Changed {
                path: ev.path().display().to_string(),
                why,
            })
        })
    };
    let head = ev.head(HEAD).map_err(io)?;
    let format = detect(&head);
    drop(head);
    let mut counted = Counting { sink, records: 0 };
    #[cfg_attr(not(feature = "images"), allow(unused_mut))]
    let mut note =
        "not a BITS queue (no ESE or legacy queue header): carved as raw bytes".to_string();
    #[cfg(feature = "images")]
    if format == Format::Unknown {
        let outcome = images::run_container(ev, parts, &label, opts, &mut counted);
        for f in std::iter::once(ev).chain(parts.iter().map(|p| &**p)) {
            if let Some(e) = changed(f, None) {
                return Err(e);
            }
        }
        match outcome? {
            images::Outcome::Done(facts) => {
                return Ok(Summary {
                    format,
                    records: counted.records,
                    container: Some(facts),
                })
            }
            images::Outcome::NotContainer => {}
            images::Outcome::Unsupported(what) if !opts.carve => {
                return Err(ParseError::Unsupported { path: label, what }.into())
            }
            images::Outcome::Unsupported(what) => {
                note = format!(
                    "{what}: a container format bitscope does not read; its file is carved as raw bytes (offsets in the file, not in its disk)"
                );
            }
        }
    }
    #[cfg(not(feature = "images"))]
    let _ = parts;
    match format {
        Format::Unknown if !opts.carve => return Err(ParseError::NotBits(label).into()),
        Format::Unknown => {
            counted.warning(&Diagnostic::new(note))?;
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
            if let Some(e) = changed(ev, None) {
                return Err(e);
            }
            let mut join = Join::new(opts.field_ranges, Vec::new());
            join.add_candidates(found);
            join.finish(&mut counted)?;
        }
        Format::Ese | Format::Legacy => {
            let map = ev.map().map_err(ParseError::from)?;
            let release = || map.release();
            let result = run_store(
                &map,
                format,
                &label,
                opts,
                &mut counted,
                &release,
                ev.held(),
            );
            // A store that shrank under its map was read partly as zeros: whatever came of
            // it, the input fails, naming the file.
            if let Some(e) = changed(ev, Some(&map)) {
                return Err(e);
            }
            result?;
        }
    }
    Ok(Summary {
        format,
        records: counted.records,
        container: None,
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
        _ => run_store(
            data,
            format,
            evidence,
            opts,
            &mut counted,
            &|| {},
            data.len() as u64,
        )?,
    }
    Ok(Summary {
        format,
        records: counted.records,
        container: None,
    })
}

/// Counts the records that reach the sink.
struct Counting<'s> {
    sink: &'s mut dyn Sink,
    records: u64,
}

impl Sink for Counting<'_> {
    fn record(&mut self, record: BitsInfo) -> Result<(), Stop> {
        self.records = self.records.saturating_add(1);
        self.sink.record(record)
    }
    fn warning(&mut self, warning: &Diagnostic) -> Result<(), Stop> {
        self.sink.warning(warning)
    }
    fn progress(&mut self, phase: Phase, done: u64, total: u64) -> Result<(), Stop> {
        self.sink.progress(phase, done, total)
    }
    fn companion(
        &mut self,
        label: &str,
        kind: super::story::Companion,
        bytes: &[u8],
    ) -> Result<(), Stop> {
        self.sink.companion(label, kind, bytes)
    }
    fn container(&mut self, facts: &super::ContainerFacts) -> Result<(), Stop> {
        self.sink.container(facts)
    }
}
