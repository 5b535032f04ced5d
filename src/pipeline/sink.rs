//! The pipeline's sinks for the command line and the collection: each record goes to a
//! [`RecordWriter`] as it is made (at once, or through a writing thread); warnings and inputs
//! that could not be read go to a callback (stderr, or a report) as [`Note`]s.

use std::io::{self, Write};

use super::driver::{Opened, Report};
use super::{Diagnostic, Sink, Stop};
use crate::bits::model::BitsInfo;
use crate::output::bits::RecordWriter;

/// What a writing front end hears besides records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note<'n> {
    /// A problem with the evidence, after the path of the input it is about.
    Diagnostic(&'n str),
    /// An input that could not be read, and why.
    Failed(&'n str),
    /// A fact about an input worth a line: a stored media hash checked (`--verify`).
    Info(&'n str),
}

/// The notes callback, with the input being run (from [`Sink::opened`]) to name in warnings.
struct Notes<'a> {
    on_note: &'a mut dyn FnMut(Note<'_>),
    current: String,
}

impl Notes<'_> {
    fn warning(&mut self, warning: &Diagnostic) {
        if self.current.is_empty() {
            (self.on_note)(Note::Diagnostic(&warning.to_string()));
        } else {
            (self.on_note)(Note::Diagnostic(&format!("{}: {warning}", self.current)));
        }
    }
    fn opened(&mut self, input: &Opened) {
        self.current = input.path.display().to_string();
    }
    fn finished(&mut self, report: &Report) {
        for v in report.container.iter().flat_map(|c| &c.verified) {
            let kind = report.container.as_ref().map_or("", |c| c.kind.as_str());
            let line = if v.matches() {
                format!(
                    "{}: {kind}: the media's {} is {}, as the image stores: verified",
                    report.path.display(),
                    v.algorithm,
                    v.computed
                )
            } else {
                format!(
                    "{}: {kind}: the media's {} is {}, but the image stores {}: NOT verified",
                    report.path.display(),
                    v.algorithm,
                    v.computed,
                    v.stored
                )
            };
            (self.on_note)(Note::Info(&line));
        }
        if let Some(e) = &report.error {
            (self.on_note)(Note::Failed(e));
        }
        self.current.clear();
    }
}

/// Writes each record as it comes, on the pipeline's thread.
pub struct WriterSink<'a, W: Write> {
    writer: RecordWriter<W>,
    /// The first write error: the pipeline stops on it, and the caller reports it.
    error: Option<io::Error>,
    notes: Notes<'a>,
}

impl<'a, W: Write> WriterSink<'a, W> {
    pub fn new(writer: RecordWriter<W>, on_note: &'a mut dyn FnMut(Note<'_>)) -> Self {
        WriterSink {
            writer,
            error: None,
            notes: Notes {
                on_note,
                current: String::new(),
            },
        }
    }

    /// Records written so far.
    pub fn count(&self) -> u64 {
        self.writer.count()
    }

    /// The writer back, or the write error that stopped the pipeline.
    pub fn into_writer(self) -> io::Result<RecordWriter<W>> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.writer),
        }
    }
}

impl<W: Write> Sink for WriterSink<'_, W> {
    fn record(&mut self, record: BitsInfo) -> Result<(), Stop> {
        if self.error.is_some() {
            return Err(Stop);
        }
        self.writer.write(&record).map_err(|e| {
            self.error = Some(e);
            Stop
        })
    }

    fn warning(&mut self, warning: &Diagnostic) -> Result<(), Stop> {
        self.notes.warning(warning);
        Ok(())
    }
    fn opened(&mut self, input: &Opened) -> Result<(), Stop> {
        self.notes.opened(input);
        Ok(())
    }
    fn finished(&mut self, report: &Report) -> Result<(), Stop> {
        self.notes.finished(report);
        Ok(())
    }
}

/// Records per hand-over between the decoding thread and the writing thread.
const BATCH: usize = 256;
/// Batches in flight: bounds the memory between the two threads.
const IN_FLIGHT: usize = 8;

/// Run `produce` with a sink whose records are serialized and written on a second thread, so
/// decoding and writing use two cores. Memory between them is bounded ([`IN_FLIGHT`] batches
/// of [`BATCH`] records). Returns what `produce` returned, and the writer or its first error.
pub fn with_writer_thread<W: Write + Send, T>(
    writer: RecordWriter<W>,
    on_note: &mut dyn FnMut(Note<'_>),
    produce: impl FnOnce(&mut dyn Sink) -> T,
) -> (T, io::Result<RecordWriter<W>>) {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<BitsInfo>>(IN_FLIGHT);
    let failed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let failed = &failed;
        let handle = scope.spawn(move || {
            let mut writer = writer;
            for batch in rx {
                for r in &batch {
                    if let Err(e) = writer.write(r) {
                        failed.store(true, std::sync::atomic::Ordering::Relaxed);
                        return Err(e);
                    }
                }
            }
            Ok(writer)
        });
        let mut sink = Batcher {
            tx: Some(tx),
            batch: Vec::with_capacity(BATCH),
            failed,
            notes: Notes {
                on_note,
                current: String::new(),
            },
        };
        let out = produce(&mut sink);
        sink.send();
        drop(sink);
        let written = handle
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writer thread panicked")));
        (out, written)
    })
}

/// The decoding side of [`with_writer_thread`].
struct Batcher<'a> {
    tx: Option<std::sync::mpsc::SyncSender<Vec<BitsInfo>>>,
    batch: Vec<BitsInfo>,
    failed: &'a std::sync::atomic::AtomicBool,
    notes: Notes<'a>,
}

impl Batcher<'_> {
    fn send(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.tx.as_ref().is_some_and(|tx| tx.send(batch).is_ok())
    }
}

impl Sink for Batcher<'_> {
    fn record(&mut self, record: BitsInfo) -> Result<(), Stop> {
        if self.failed.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Stop);
        }
        self.batch.push(record);
        if self.batch.len() >= BATCH && !self.send() {
            return Err(Stop);
        }
        Ok(())
    }

    fn warning(&mut self, warning: &Diagnostic) -> Result<(), Stop> {
        self.notes.warning(warning);
        Ok(())
    }
    fn opened(&mut self, input: &Opened) -> Result<(), Stop> {
        self.notes.opened(input);
        Ok(())
    }
    fn finished(&mut self, report: &Report) -> Result<(), Stop> {
        self.notes.finished(report);
        Ok(())
    }
}
