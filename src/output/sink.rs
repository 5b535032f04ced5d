//! The pipeline's sink for the command line and the collection: each record goes straight to
//! a [`RecordWriter`] as it is made; warnings go to a callback (stderr, or a report).

use std::io::{self, Write};

use super::bits::RecordWriter;
use crate::bits::model::BitsInfo;
use crate::bits::pipeline::{Sink, Stop, Warning};

pub struct WriterSink<'a, W: Write> {
    writer: RecordWriter<W>,
    /// The first write error: the pipeline stops on it, and the caller reports it.
    error: Option<io::Error>,
    on_warning: &'a mut dyn FnMut(&str),
}

impl<'a, W: Write> WriterSink<'a, W> {
    pub fn new(writer: RecordWriter<W>, on_warning: &'a mut dyn FnMut(&str)) -> Self {
        WriterSink {
            writer,
            error: None,
            on_warning,
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

    fn warning(&mut self, warning: &Warning) -> Result<(), Stop> {
        (self.on_warning)(&warning.to_string());
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
    on_warning: &mut dyn FnMut(&str),
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
            on_warning,
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
    on_warning: &'a mut dyn FnMut(&str),
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

    fn warning(&mut self, warning: &Warning) -> Result<(), Stop> {
        (self.on_warning)(&warning.to_string());
        Ok(())
    }
}
