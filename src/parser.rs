//! The library's front door: open evidence, iterate its BITS records.
//!
//! A [`Parser`] names the evidence (a qmgr.db, a qmgr0/1.dat, a Downloader folder, a
//! collection, a disk image) and how to read it; [`Parser::records`] runs the same pipeline as
//! `bitscope parse` on a background thread and hands the records over one at a time through a
//! bounded channel, so memory stays bounded whatever the evidence's size.

use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use crate::bits::model::BitsInfo;
use crate::pipeline::driver::{self, Inputs};
use crate::pipeline::{Options, Sink, Stop};
use crate::util::diag::Diagnostic;

/// Records in flight between the pipeline's thread and the caller.
const IN_FLIGHT: usize = 1024;
/// Diagnostics kept word for word by [`Records`]; later ones are only counted.
const MAX_DIAGNOSTICS: usize = 10_000;

/// The evidence to read and how.
///
/// ```no_run
/// let parser = bitscope::Parser::new("qmgr.db").carve(true);
/// for record in parser.records() {
///     match record {
///         Ok(r) => println!("{} {} {}", r.job_id, r.job_name, r.url),
///         Err(e) => eprintln!("{e}"),
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Parser {
    paths: Vec<PathBuf>,
    options: Options,
}

impl Parser {
    /// Evidence at `path`: a store, a folder searched for stores, or an image or archive.
    pub fn new(path: impl Into<PathBuf>) -> Parser {
        Parser {
            paths: vec![path.into()],
            options: Options::default(),
        }
    }

    /// Also read the evidence at `path`, after the paths already named.
    pub fn and(mut self, path: impl Into<PathBuf>) -> Parser {
        self.paths.push(path.into());
        self
    }

    /// Also carve deleted records from free space and unallocated clusters (off by default).
    pub fn carve(mut self, carve: bool) -> Parser {
        self.options.carve = carve;
        self
    }

    /// Attach each field's byte range to the records' provenance (off by default).
    pub fn field_ranges(mut self, on: bool) -> Parser {
        self.options.field_ranges = on;
        self
    }

    /// Start reading: the records, in the order `bitscope parse` writes them.
    pub fn records(self) -> Records {
        let (tx, rx) = sync_channel(IN_FLIGHT);
        let Parser { paths, options } = self;
        let spawned = std::thread::Builder::new()
            .name("bitscope-parser".into())
            .spawn(move || {
                let mut sink = ToChannel { tx };
                // A stop means the caller dropped its `Records`: nothing is left to tell.
                let _ = driver::run_inputs(Inputs::find(&paths), &options, false, &mut sink);
            });
        let failed = spawned
            .err()
            .map(|e| Error::new(format!("cannot start the reading thread: {e}")));
        Records {
            rx,
            failed,
            diagnostics: Vec::new(),
            dropped: 0,
        }
    }
}

/// Why an input could not be read (the others are still read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    fn new(message: String) -> Error {
        Error { message }
    }

    /// What went wrong, naming the input (escaped for a terminal).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The records of a [`Parser`], as they are made. Dropping it stops the reading.
#[derive(Debug)]
pub struct Records {
    rx: Receiver<Event>,
    failed: Option<Error>,
    diagnostics: Vec<Diagnostic>,
    dropped: usize,
}

impl Records {
    /// What was wrong with the evidence so far (each with its place), without stopping the
    /// reading; the first [`MAX_DIAGNOSTICS`] are kept.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Diagnostics seen beyond those kept.
    pub fn diagnostics_dropped(&self) -> usize {
        self.dropped
    }
}

impl Iterator for Records {
    type Item = Result<BitsInfo, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failed.take() {
            return Some(Err(e));
        }
        loop {
            match self.rx.recv().ok()? {
                Event::Record(r) => return Some(Ok(*r)),
                Event::Failed(e) => return Some(Err(Error::new(e))),
                Event::Diagnostic(d) if self.diagnostics.len() < MAX_DIAGNOSTICS => {
                    self.diagnostics.push(d)
                }
                Event::Diagnostic(_) => self.dropped += 1,
            }
        }
    }
}

/// What the pipeline's thread hands over.
enum Event {
    Record(Box<BitsInfo>),
    Diagnostic(Diagnostic),
    Failed(String),
}

/// The pipeline's sink on its thread: every event into the channel; a closed channel (the
/// caller dropped its [`Records`]) stops the pipeline.
struct ToChannel {
    tx: SyncSender<Event>,
}

impl Sink for ToChannel {
    fn record(&mut self, record: BitsInfo) -> Result<(), Stop> {
        self.tx
            .send(Event::Record(Box::new(record)))
            .map_err(|_| Stop)
    }
    fn warning(&mut self, warning: &Diagnostic) -> Result<(), Stop> {
        self.tx
            .send(Event::Diagnostic(warning.clone()))
            .map_err(|_| Stop)
    }
    fn finished(&mut self, report: &driver::Report) -> Result<(), Stop> {
        match &report.error {
            Some(e) => self.tx.send(Event::Failed(e.clone())).map_err(|_| Stop),
            None => Ok(()),
        }
    }
}
