//! The pipeline's sink for the command line and the collection: each record goes straight to
//! a [`RecordWriter`] as it is made; warnings go to a callback (stderr, or a report).

use std::io::{self, Write};

use super::bits::RecordWriter;
use crate::bits::model::BitsInfo;
use crate::bits::pipeline::{Sink, Stop};

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

    fn warning(&mut self, what: &str) -> Result<(), Stop> {
        (self.on_warning)(what);
        Ok(())
    }
}
