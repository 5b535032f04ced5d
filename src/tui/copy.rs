//! `y` and `Y`: records as JSON, or one field's raw value, for the clipboard (the run loop
//! puts them there as an [`Effect::Copy`]). Bounded: more belongs in a file (`e`).

use crate::bits::model::BitsInfo;
use crate::output::bits::{write, Format};

use super::app::{App, Effect, Screen};
use super::display::{self, plural, thousands};
use super::fields;

/// The most `y` puts on the clipboard: more would stall the terminal (OSC 52 is one escape
/// sequence the terminal must take whole) and belongs in a file (`e`).
pub const COPY_MAX_RECORDS: usize = 1_000;
pub const COPY_MAX_BYTES: usize = 1 << 20;

impl App {
    /// JSON for the clipboard: the marked records as an array, else the record shown. An
    /// error (for the status line) when that is more than `y` copies.
    pub fn copy_text(&self) -> Result<(String, String), String> {
        let too_big = |what: &str| {
            format!(
                "{what}: y copies at most {} records or 1 MiB; e exports them to a file",
                thousands(COPY_MAX_RECORDS)
            )
        };
        if self.store.mark_count > 0 {
            let n = self.store.mark_count;
            let label = format!("{} marked record{}", thousands(n), plural(n));
            if n > COPY_MAX_RECORDS {
                return Err(too_big(&label));
            }
            let set = self.store.export_set(self.view);
            let recs: Vec<&BitsInfo> = set.iter().map(|&i| &self.store.rec(i).info).collect();
            let text = json_at_most(&recs, COPY_MAX_BYTES).ok_or_else(|| too_big(&label))?;
            return Ok((text, label));
        }
        let rec = match self.screen {
            Screen::Hex => self.hex_record(),
            _ => self.detail_record(),
        }
        .ok_or_else(|| "nothing to copy".to_string())?;
        let text = json_at_most(&self.store.rec(rec).info, COPY_MAX_BYTES)
            .ok_or_else(|| too_big("the selected record"))?;
        Ok((text, "the selected record".into()))
    }

    pub(super) fn copy(&mut self) {
        match self.copy_text() {
            Ok((text, what)) => self.effects.push(Effect::Copy {
                text,
                what,
                json: true,
            }),
            Err(e) => self.set_status(e, true),
        }
    }

    /// The field under the detail cursor: (label, raw value), the cursor kept in range.
    pub fn detail_field(&self) -> Option<(&'static str, String)> {
        let rec = self.detail_record()?;
        let mut all = fields::copy_fields(&self.store.rec(rec).info);
        let at = self.detail.field.min(all.len().checked_sub(1)?);
        Some(all.swap_remove(at))
    }

    /// `y` in the detail: the raw value of the field under the cursor (the status line shows
    /// it escaped and cut).
    pub(super) fn copy_field(&mut self) {
        let Some((label, value)) = self.detail_field() else {
            return self.set_status("nothing to copy", true);
        };
        if value.len() > COPY_MAX_BYTES {
            return self.set_status(
                format!(
                    "{}: y copies at most 1 MiB; e exports the record",
                    label.trim()
                ),
                true,
            );
        }
        // Raw and cut: the status line escapes what it draws.
        let shown = display::truncate(&value, 60).into_owned();
        self.effects.push(Effect::Copy {
            text: value,
            what: format!("{} {shown}", label.trim()),
            json: false,
        });
    }

    /// `Y`: the record in view as JSON, exactly as `e` would export it alone.
    pub(super) fn copy_record(&mut self) {
        let rec = match self.screen {
            Screen::Hex => self.hex_record(),
            Screen::Detail => self.detail_record(),
            _ => None,
        };
        let Some(rec) = rec else {
            return self.set_status("nothing to copy", true);
        };
        let mut w = CappedWriter::new(COPY_MAX_BYTES);
        let info = std::slice::from_ref(&self.store.rec(rec).info);
        let written = write(info, Format::Json, &mut w);
        match written.ok().and_then(|()| String::from_utf8(w.buf).ok()) {
            Some(text) => self.effects.push(Effect::Copy {
                text,
                what: "the record".into(),
                json: true,
            }),
            None => self.set_status(
                "the record: y copies at most 1 MiB; e exports it to a file",
                true,
            ),
        }
    }
}

/// A writer into memory that fails once more than `max` bytes are written (so serializing
/// stops there).
struct CappedWriter {
    buf: Vec<u8>,
    max: usize,
}

impl CappedWriter {
    fn new(max: usize) -> CappedWriter {
        CappedWriter {
            buf: Vec::new(),
            max,
        }
    }
}

impl std::io::Write for CappedWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + b.len() > self.max {
            return Err(std::io::Error::other("too large"));
        }
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Pretty JSON of `v`, or `None` when it would pass `max` bytes (serializing stops there).
fn json_at_most<T: serde::Serialize + ?Sized>(v: &T, max: usize) -> Option<String> {
    let mut w = CappedWriter::new(max);
    serde_json::to_writer_pretty(&mut w, v).ok()?;
    String::from_utf8(w.buf).ok()
}
