//! The byte reader the BITS decoders share: a bounds-checked cursor over one record's bytes
//! that keeps, for every field it reads, its name, offset and length (the hex view's
//! annotations), and the errors those reads can end in, each with the offset of the field.
//!
//! Job (`job.rs`), file (`file.rs`) and legacy queue (`legacy.rs`) decoding all read through
//! it, so none of them imports another for its reading helpers.

use crate::util::bytes::Cursor;
use crate::util::utf16::{decode_utf16le, decode_utf16le_strict};

/// How far ahead a marker is looked for.
pub(crate) const SEARCH_LIMIT: usize = 64 * 1024;
/// The longest counted string a record may hold, in UTF-16 units.
pub const MAX_STRING_UNITS: u32 = 32 * 1024;

/// Something wrong with the evidence that did not stop the reading (see [`Diagnostic`]).
pub use crate::util::diag::Diagnostic;

/// A field of a decoded record: name, offset in the buffer, length in bytes.
pub type Field = (&'static str, usize, usize);

/// Why decoding stopped. Every variant carries the offset (in the buffer handed to the decoder)
/// of the field being read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("{what} at offset {offset}: needs {need} bytes, {have} present")]
    Truncated {
        what: &'static str,
        offset: usize,
        need: usize,
        have: usize,
    },
    #[error("{what} at offset {offset}: not a known marker")]
    BadMarker { what: &'static str, offset: usize },
    #[error("{what} at offset {offset}: count {count} out of range (at most {max})")]
    BadCount {
        what: &'static str,
        offset: usize,
        count: u64,
        max: u64,
    },
    #[error("{what} at offset {offset}: not UTF-16 text")]
    BadString { what: &'static str, offset: usize },
    #[error("{what}: not found after offset {offset}")]
    Missing { what: &'static str, offset: usize },
    #[error("{what} at offset {offset}: value {value:#x} is none of those the samples hold")]
    Unexpected {
        what: &'static str,
        offset: usize,
        value: u64,
    },
}

impl DecodeError {
    /// The offset of the field that could not be read.
    pub fn offset(&self) -> usize {
        match self {
            DecodeError::Truncated { offset, .. }
            | DecodeError::BadMarker { offset, .. }
            | DecodeError::BadCount { offset, .. }
            | DecodeError::BadString { offset, .. }
            | DecodeError::Missing { offset, .. }
            | DecodeError::Unexpected { offset, .. } => *offset,
        }
    }
}

/// After a decode that did not reach the closing marker: report where the same marker occurs
/// next. It is not taken as the closing one, because it may as well open the next record (carved
/// data), and `closed` must never claim a cut record complete.
pub(crate) fn note_next_marker(r: &mut Reader<'_>, marker: &[u8; 16]) {
    let from = r.pos();
    if let Some(at) = find(r.buf, marker, from, SEARCH_LIMIT) {
        r.warn(format!(
            "the same marker follows at {at} ({} bytes on): this record's closing marker or the next record's opening one; not taken",
            at.saturating_sub(from) // found at or after `from`
        ));
    }
}

/// `len` bytes at `off`, or a truncation error naming `what`.
pub(crate) fn bytes_at<'a>(
    buf: &'a [u8],
    off: usize,
    len: usize,
    what: &'static str,
) -> Result<&'a [u8], DecodeError> {
    crate::util::bytes::slice(buf, off, len).ok_or(DecodeError::Truncated {
        what,
        offset: off,
        need: len,
        have: buf.len().saturating_sub(off),
    })
}

/// First offset ≥ `from` where `needle` starts, looking at most `limit` bytes past `from`.
pub(crate) fn find(buf: &[u8], needle: &[u8], from: usize, limit: usize) -> Option<usize> {
    let end = from
        .saturating_add(limit)
        .saturating_add(needle.len())
        .min(buf.len());
    let hay = buf.get(from..end)?;
    if needle.is_empty() {
        return None;
    }
    hay.windows(needle.len())
        .position(|w| w == needle)
        .and_then(|p| from.checked_add(p))
}

/// [`find`] for a structure of the record being decoded: a hit beyond the next occurrence of the
/// record's own marker belongs to another record, and fields of two records must never be
/// spliced together, so it is refused.
pub(crate) fn find_in_record(
    buf: &[u8],
    needle: &[u8],
    from: usize,
    marker: &[u8; 16],
) -> Option<usize> {
    let hit = find(buf, needle, from, SEARCH_LIMIT)?;
    match find(buf, marker, from, hit.saturating_sub(from)) {
        Some(m) if m < hit => None,
        _ => Some(hit),
    }
}

/// A sequential reader that turns short reads into [`DecodeError`]s carrying the offset, and
/// records every field it reads (name, offset, length) for hex views.
pub(crate) struct Reader<'a> {
    pub(crate) buf: &'a [u8],
    cur: Cursor<'a>,
    pub(crate) fields: Vec<Field>,
    pub(crate) warnings: Vec<String>,
    /// Runs of bytes of unknown meaning that differ from what every sample holds there
    /// (offset, length): kept so that the bytes are shown rather than silently passed over.
    pub(crate) unknown: Vec<(usize, usize)>,
    /// Every range read but not decoded into a value (offset, length), whatever it holds: the
    /// bytes a field of unknown place (e.g. the maximum download size) may lie in.
    pub(crate) undecoded: Vec<(usize, usize)>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], pos: usize) -> Self {
        Reader {
            buf,
            cur: Cursor::at(buf, pos),
            fields: Vec::new(),
            warnings: Vec::new(),
            unknown: Vec::new(),
            undecoded: Vec::new(),
        }
    }

    pub(crate) fn pos(&self) -> usize {
        self.cur.pos()
    }

    pub(crate) fn seek(&mut self, pos: usize) {
        self.cur = Cursor::at(self.buf, pos);
    }

    pub(crate) fn warn(&mut self, w: String) {
        self.warnings.push(w);
    }

    /// True when `bytes` are next.
    pub(crate) fn peek(&self, bytes: &[u8]) -> bool {
        self.cur.rest().starts_with(bytes)
    }

    pub(crate) fn take(&mut self, what: &'static str, len: usize) -> Result<&'a [u8], DecodeError> {
        let offset = self.pos();
        let have = self.cur.remaining();
        let b = self.cur.take(len).ok_or(DecodeError::Truncated {
            what,
            offset,
            need: len,
            have,
        })?;
        self.fields.push((what, offset, len));
        Ok(b)
    }

    pub(crate) fn skip(&mut self, what: &'static str, len: usize) -> Result<(), DecodeError> {
        self.take(what, len).map(|_| ())
    }

    /// `sampled.len()` bytes of unknown meaning. `sampled` is what every sample holds there:
    /// when these bytes differ, their range is kept in [`Reader::unknown`].
    pub(crate) fn unknown(
        &mut self,
        what: &'static str,
        sampled: &[u8],
    ) -> Result<(), DecodeError> {
        let offset = self.pos();
        if self.take(what, sampled.len())? != sampled {
            self.unknown.push((offset, sampled.len()));
        }
        self.undecoded.push((offset, sampled.len()));
        Ok(())
    }

    /// `len` bytes of unknown meaning that vary between records (no sampled value to hold
    /// them to): kept in [`Reader::undecoded`].
    pub(crate) fn undecoded(&mut self, what: &'static str, len: usize) -> Result<(), DecodeError> {
        let offset = self.pos();
        self.skip(what, len)?;
        self.undecoded.push((offset, len));
        Ok(())
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        let offset = self.pos();
        let b = self.take(what, N)?;
        b.try_into().map_err(|_| DecodeError::Truncated {
            what,
            offset,
            need: N,
            have: b.len(),
        })
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        self.array::<1>(what).map(|b| b[0])
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        self.array(what).map(u32::from_le_bytes)
    }

    pub(crate) fn i32(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        self.array(what).map(i32::from_le_bytes)
    }

    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        self.array(what).map(u64::from_le_bytes)
    }

    pub(crate) fn i64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        self.array(what).map(i64::from_le_bytes)
    }

    /// The 16 bytes of `marker`, or `Missing`.
    pub(crate) fn marker(
        &mut self,
        what: &'static str,
        marker: &[u8; 16],
    ) -> Result<(), DecodeError> {
        if !self.peek(marker) {
            return Err(DecodeError::Missing {
                what,
                offset: self.pos(),
            });
        }
        self.skip(what, 16)
    }

    /// Reject a count above `max` or above what the remaining bytes can hold at `unit` bytes each.
    pub(crate) fn check_count(
        &self,
        what: &'static str,
        offset: usize,
        count: u32,
        max: u32,
        unit: usize,
    ) -> Result<(), DecodeError> {
        let remaining = self.cur.remaining();
        // A unit of 0 counts as 1.
        let fits = remaining.checked_div(unit).unwrap_or(remaining);
        let max = (max as usize).min(fits);
        if count as usize > max {
            return Err(DecodeError::BadCount {
                what,
                offset,
                count: u64::from(count),
                max: max as u64,
            });
        }
        Ok(())
    }

    /// A flag byte, then two FILETIMEs when it is set.
    pub(crate) fn time_pair(
        &mut self,
        what: &'static str,
    ) -> Result<Option<(u64, u64)>, DecodeError> {
        if self.u8(what)? == 0 {
            return Ok(None);
        }
        Ok(Some((self.u64(what)?, self.u64(what)?)))
    }

    /// A counted string; N 0 reads as no string. Invalid UTF-16 or a missing NUL is kept (lossy)
    /// with a warning.
    pub(crate) fn opt_string(&mut self, what: &'static str) -> Result<Option<String>, DecodeError> {
        let offset = self.pos();
        let (raw, units) = self.counted(what)?;
        if units == 0 {
            return Ok(None);
        }
        if raw.get(raw.len().saturating_sub(2)..) != Some(&[0, 0][..]) {
            self.warn(format!("{what} at {offset} is not NUL-terminated"));
        }
        Ok(Some(match decode_utf16le_strict(raw) {
            Some(s) => s,
            None => {
                self.warn(format!(
                    "{what} at {offset} is not valid UTF-16; decoded lossily"
                ));
                decode_utf16le(raw)
            }
        }))
    }

    /// A counted string (N 0 reads as empty).
    pub(crate) fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        self.opt_string(what).map(Option::unwrap_or_default)
    }

    /// A counted string that must be valid, NUL-terminated UTF-16: used where the layout is least
    /// certain, so that misaligned bytes are rejected instead of shown as text.
    pub(crate) fn strict_string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let offset = self.pos();
        let (raw, units) = self.counted(what)?;
        let nul = units > 0 && raw.get(raw.len().saturating_sub(2)..) == Some(&[0, 0][..]);
        match decode_utf16le_strict(raw) {
            Some(s) if nul && !s.contains('\0') => Ok(s),
            _ => Err(DecodeError::BadString { what, offset }),
        }
    }

    /// The count and the raw bytes of a counted string, recorded as one field.
    fn counted(&mut self, what: &'static str) -> Result<(&'a [u8], u32), DecodeError> {
        let offset = self.pos();
        let units = self.cur.u32().ok_or(DecodeError::Truncated {
            what,
            offset,
            need: 4,
            have: self.cur.remaining(),
        })?;
        if units > MAX_STRING_UNITS {
            self.seek(offset);
            return Err(DecodeError::BadCount {
                what,
                offset,
                count: u64::from(units),
                max: u64::from(MAX_STRING_UNITS),
            });
        }
        // At most MAX_STRING_UNITS: no overflow, and a saturated length would not be present.
        let len = (units as usize).saturating_mul(2);
        let have = self.cur.remaining();
        let Some(raw) = self.cur.take(len) else {
            self.seek(offset);
            return Err(DecodeError::Truncated {
                what,
                offset,
                need: len.saturating_add(4),
                have: have.saturating_add(4),
            });
        };
        self.fields.push((what, offset, len.saturating_add(4)));
        Ok((raw, units))
    }
}
