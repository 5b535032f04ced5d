//! The hex view's state: one record's bytes in the evidence, read by offset through the open
//! handle (never a second open), its fields placed on those bytes, and the cursor. Drawn by
//! [`super::hex_ui`].

use std::sync::Arc;

use crate::bits::fields::record_fields;
use crate::bits::model::{FieldRange, Source};
use crate::input::Evidence;

use super::app::{App, Screen};
use super::display;
use super::keys::Action;
use super::layout;
use super::store::ViewKind;

/// A piece of a record's bytes: (offset, or `None` for zeros stored nowhere; length).
type Piece = (Option<u64>, u64);

/// Which of a row's two records the hex view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceSel {
    #[default]
    Job,
    File,
}

impl SourceSel {
    fn other(self) -> SourceSel {
        match self {
            SourceSel::Job => SourceSel::File,
            SourceSel::File => SourceSel::Job,
        }
    }
}

/// The hex view: a window of evidence bytes around one record.
#[derive(Debug, Clone, Default)]
pub struct HexState {
    pub source: SourceSel,
    /// Which member of the selected item.
    pub member: usize,
    pub evidence: String,
    /// What the offsets count: empty or `image file` / `zip file` (the evidence file's own
    /// bytes), or `… logical media` (the disk inside a disk format, read through it).
    pub coordinate: String,
    /// The record's pieces in the file (offset, length), in record order.
    pub extents: Vec<(u64, u64)>,
    /// Annotated fields: physical (start, end) and index into `field_names`.
    pub fields: Vec<(u64, u64, usize)>,
    pub field_names: Vec<String>,
    pub record_len: u64,
    pub cursor: u64,
    /// File offset of the first line on screen (a multiple of 16).
    pub top: u64,
    pub window_start: u64,
    pub window: Vec<u8>,
    pub file_len: u64,
    pub error: Option<String>,
    pub carved: bool,
    /// The security descriptor's bytes, read whole while the cursor is in it (the window
    /// holds only the screen's): (its first byte in the file, the bytes). See `hex_sd`.
    pub descriptor: Option<(u64, Vec<u8>)>,
}

impl HexState {
    pub fn byte(&self, off: u64) -> Option<u8> {
        let i = usize::try_from(off.checked_sub(self.window_start)?).ok()?;
        self.window.get(i).copied()
    }
    pub fn bytes_at(&self, off: u64, len: usize) -> &[u8] {
        let Some(i) = off
            .checked_sub(self.window_start)
            .and_then(|d| usize::try_from(d).ok())
        else {
            return &[];
        };
        let end = i.saturating_add(len).min(self.window.len());
        self.window.get(i..end).unwrap_or(&[])
    }
    pub fn in_record(&self, off: u64) -> bool {
        self.extents
            .iter()
            .any(|&(s, l)| off >= s && off < s.saturating_add(l))
    }
    /// The field (index into `field_names`) covering a file offset.
    pub fn field_at(&self, off: u64) -> Option<usize> {
        self.fields
            .iter()
            .find(|&&(s, e, _)| off >= s && off < e)
            .map(|&(_, _, i)| i)
    }
    /// The record-relative offset of a file offset, when it lies in the record.
    pub fn record_offset(&self, off: u64) -> Option<u64> {
        let mut logical = 0u64;
        for &(s, l) in &self.extents {
            if off >= s && off < s.saturating_add(l) {
                return Some(logical + (off - s));
            }
            logical = logical.saturating_add(l);
        }
        None
    }

    /// The record's first byte and the byte after its last.
    fn record_start_end(&self) -> (u64, u64) {
        let start = self.extents.first().map(|e| e.0).unwrap_or(0);
        let end = self
            .extents
            .last()
            .map(|e| e.0.saturating_add(e.1))
            .unwrap_or(start);
        (start, end)
    }

    /// Where a cursor key takes the cursor with `rows` lines on screen (`None`: not a cursor
    /// key).
    fn moved(&self, action: Action, rows: u64) -> Option<u64> {
        let c = self.cursor;
        let (start, end) = self.record_start_end();
        let starts = || self.fields.iter().map(|f| f.0);
        Some(match action {
            Action::Left => c.saturating_sub(1),
            Action::Right => c + 1,
            Action::Up => c.saturating_sub(16),
            Action::Down => c + 16,
            Action::PageUp => c.saturating_sub(16 * rows),
            Action::PageDown => c + 16 * rows,
            Action::Top => start,
            Action::Bottom => end.saturating_sub(1),
            Action::NextField => starts().filter(|&s| s > c).min().unwrap_or(c),
            Action::PrevField => starts().filter(|&s| s < c).max().unwrap_or(c),
            _ => return None,
        })
    }

    /// Scroll so the cursor's line is among the `rows` on screen.
    fn scroll_to_cursor(&mut self, rows: u64) {
        let line = self.cursor / 16 * 16;
        if line < self.top {
            self.top = line;
        } else if line >= self.top + rows * 16 {
            self.top = line + 16 - rows * 16;
        }
    }
}

/// A record's field ranges (record-relative) placed on its extents in the file: (start, end,
/// field index), a field split over two extents in two pieces.
fn place_fields(ranges: &[FieldRange], pieces: &[Piece]) -> Vec<(u64, u64, usize)> {
    let mut out = Vec::new();
    for (fi, f) in ranges.iter().enumerate() {
        let (mut lstart, lend) = (f.offset, f.offset.saturating_add(f.length));
        let mut logical = 0u64;
        for &(s, l) in pieces {
            let (es, ee) = (logical, logical.saturating_add(l));
            logical = ee;
            // A piece stored nowhere (zeros) has no bytes to annotate.
            let Some(s) = s else { continue };
            if lstart < ee && lend > es && lstart < lend {
                let a = lstart.max(es);
                let b = lend.min(ee);
                out.push((s + (a - es), s + (b - es), fi));
                lstart = b;
            }
        }
    }
    out
}

impl App {
    /// The record the hex view shows.
    pub fn hex_record(&self) -> Option<u32> {
        let m = self.selected_members();
        m.get(self.hex.member.min(m.len().saturating_sub(1)))
            .copied()
    }

    /// Open the hex view from the table or the detail (at the member the detail shows), on
    /// the file record in the files view or when the row has no job record.
    pub(super) fn open_hex(&mut self, from: Screen) {
        let member = if from == Screen::Detail {
            self.detail.member
        } else {
            0
        };
        let Some(&rec) = self
            .selected_members()
            .get(member)
            .or(self.selected_members().first())
        else {
            return;
        };
        let info = &self.store.rec(rec).info;
        let source = match (self.view, &info.job_source, &info.file_source) {
            (ViewKind::Files, _, Some(_)) | (_, None, Some(_)) => SourceSel::File,
            (_, Some(_), _) => SourceSel::Job,
            _ => {
                self.set_status("this record has no byte range to show", true);
                return;
            }
        };
        self.hex_return = from;
        self.screen = Screen::Hex;
        self.hex = HexState {
            source,
            member,
            ..HexState::default()
        };
        self.load_hex_record();
    }

    fn hex_source(&self) -> Option<&Source> {
        let info = &self.store.rec(self.hex_record()?).info;
        match self.hex.source {
            SourceSel::Job => info.job_source.as_ref(),
            SourceSel::File => info.file_source.as_ref(),
        }
    }

    /// The open handle of the evidence file named `path` (as the records name it).
    pub(super) fn evidence_handle(&self, path: &str) -> Option<Arc<Evidence>> {
        self.evidence
            .iter()
            .find(|e| e.path.display().to_string() == path)
            .and_then(|e| e.handle.clone())
    }

    /// Set up the hex state for the current record and source, cursor at its start.
    fn load_hex_record(&mut self) {
        let Some(src) = self.hex_source().cloned() else {
            self.hex.error = Some("no byte range for this record".into());
            return;
        };
        let Some((pieces, coordinate)) = self.hex_pieces(&src) else {
            return;
        };
        let extents: Vec<(u64, u64)> = pieces
            .iter()
            .filter_map(|&(o, l)| o.map(|o| (o, l)))
            .collect();
        let handle = self.evidence_handle(&src.evidence);
        // Records carry no field ranges unless parsed with them: decode this one record again
        // from its bytes (the pieces, joined) to annotate it.
        let ranges = if src.fields.is_empty() {
            handle
                .as_deref()
                .map(|ev| record_bytes(ev, &coordinate, &pieces, src.length))
                .map(|b| record_fields(&b))
                .unwrap_or_default()
        } else {
            src.fields.clone()
        };
        let carved = self
            .hex_record()
            .is_some_and(|r| self.store.rec(r).info.carved);
        let h = &mut self.hex;
        h.fields = place_fields(&ranges, &pieces);
        h.field_names = ranges.iter().map(|f| f.name.to_string()).collect();
        h.extents = extents;
        h.record_len = src.length;
        h.evidence = src.evidence.clone();
        h.carved = carved;
        h.cursor = h.extents.first().map(|e| e.0).unwrap_or(0);
        h.file_len = handle
            .as_deref()
            .map_or(0, |ev| medium_len(ev, &coordinate));
        h.coordinate = coordinate;
        h.window.clear();
        h.error = None;
        // Put the record start a few lines below the top, to show what precedes it.
        h.top = (h.cursor / 16 * 16).saturating_sub(16 * 2);
        self.hex_follow();
    }

    /// Where the record's bytes are, as the hex view addresses them: its place in the
    /// evidence as read (through the containers) when it has one, else the store file's
    /// offsets (a bare store: the evidence file); with what those offsets count. `None` (and
    /// the reason shown) when a record inside a container has no place in the evidence.
    fn hex_pieces(&mut self, src: &Source) -> Option<(Vec<Piece>, String)> {
        match &src.in_evidence {
            Some(p) if p.offset.is_some() => {
                let pieces = if p.extents.is_empty() {
                    vec![(p.offset, src.length)]
                } else {
                    p.extents.iter().map(|x| (x.offset, x.length)).collect()
                };
                Some((pieces, p.coordinate.clone()))
            }
            Some(p) if !src.container_chain.is_empty() => {
                let why = if p.note.is_empty() {
                    "its bytes have no place in the evidence as read".to_string()
                } else {
                    p.note.clone()
                };
                self.hex.error = Some(format!("no bytes to show: {why}"));
                self.set_status(
                    "this record's bytes are stored nowhere in the evidence as read",
                    true,
                );
                None
            }
            _ => {
                let ext = if src.extents.is_empty() {
                    vec![(src.offset, src.length)]
                } else {
                    src.extents.clone()
                };
                Some((
                    ext.into_iter().map(|(o, l)| (Some(o), l)).collect(),
                    String::new(),
                ))
            }
        }
    }

    /// Lines of bytes on screen.
    fn hex_rows(&self) -> u64 {
        layout::hex_rows(self.width, self.height, self.load.running).max(1) as u64
    }

    pub(super) fn update_hex(&mut self, action: Action) {
        match action {
            Action::Back => self.screen = self.hex_return,
            Action::ToggleSource => self.hex_toggle_source(),
            Action::PrevVersion | Action::NextVersion => {
                self.hex_switch_member(action == Action::NextVersion)
            }
            _ => {
                if let Some(c) = self.hex.moved(action, self.hex_rows()) {
                    self.hex.cursor = c.min(self.hex.file_len.max(1) - 1);
                    self.hex_follow();
                }
            }
        }
    }

    /// `t`: the row's other record (job or file), when it has one.
    fn hex_toggle_source(&mut self) {
        let old = self.hex.source;
        self.hex.source = old.other();
        if self.hex_source().is_some() {
            self.load_hex_record();
        } else {
            self.hex.source = old;
            self.set_status("this row has no other record", true);
        }
    }

    /// `[` / `]`: the previous or next member of the row (the other record kind when this
    /// one has none of the kind shown).
    fn hex_switch_member(&mut self, next: bool) {
        let n = self.selected_members().len().max(1);
        self.hex.member = if next {
            (self.hex.member + 1) % n
        } else {
            (self.hex.member + n - 1) % n
        };
        if self.hex_source().is_none() {
            self.hex.source = self.hex.source.other();
        }
        self.load_hex_record();
    }

    /// Scroll so the cursor is on screen and load the bytes shown (read-only, by offset).
    pub(super) fn hex_follow(&mut self) {
        let rows = self.hex_rows();
        self.hex.scroll_to_cursor(rows);
        self.load_descriptor();
        // Bytes on screen plus room for the inspector (a SID is up to 68 bytes).
        let want = rows * 16 + 96;
        let start = self.hex.top;
        let h = &self.hex;
        if start >= h.window_start
            && start + want <= h.window_start + h.window.len() as u64
            && !h.window.is_empty()
        {
            return;
        }
        let read = match self.evidence_handle(&h.evidence).as_deref() {
            Some(ev) => read_medium(ev, &h.coordinate, start, want),
            None => Err(std::io::Error::other("the evidence file is not open")),
        };
        match read {
            Ok(bytes) => {
                self.hex.window_start = start;
                self.hex.window = bytes;
            }
            Err(e) => {
                self.hex.window.clear();
                self.hex.error = Some(format!("{}: {e}", display::escape(&self.hex.evidence)));
            }
        }
    }
}

/// Read up to `len` bytes of the evidence at `offset`.
pub fn read_window(ev: &Evidence, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; usize::try_from(len.min(1 << 20)).unwrap_or(0)];
    let n = ev.read_at(offset, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

/// Whether offsets in `coordinate` count the logical media inside a disk format (E01, VHD,
/// VHDX), not the evidence file's own bytes.
fn is_logical(coordinate: &str) -> bool {
    coordinate.ends_with("logical media")
}

/// Read up to `len` bytes at `offset` in `coordinate`: the evidence file itself, or the
/// logical media of the disk format it holds, opened through the container layer (its
/// further segments beside it) for this read.
pub fn read_medium(
    ev: &Evidence,
    coordinate: &str,
    offset: u64,
    len: u64,
) -> std::io::Result<Vec<u8>> {
    if !is_logical(coordinate) {
        return read_window(ev, offset, len);
    }
    #[cfg(feature = "images")]
    {
        crate::pipeline::read_media(ev, offset, len).map(|(bytes, _)| bytes)
    }
    #[cfg(not(feature = "images"))]
    {
        let _ = (offset, len);
        Err(std::io::Error::other(
            "this build reads no disk formats (feature `images`)",
        ))
    }
}

/// The length of the medium `coordinate` names (see [`read_medium`]).
fn medium_len(ev: &Evidence, coordinate: &str) -> u64 {
    if !is_logical(coordinate) {
        return ev.len();
    }
    #[cfg(feature = "images")]
    {
        crate::pipeline::read_media(ev, 0, 0).map_or(0, |(_, size)| size)
    }
    #[cfg(not(feature = "images"))]
    0
}

/// A record's bytes: its pieces in `coordinate` read and joined (a piece stored nowhere, a
/// sparse run or past the valid data length, as zeros), at most `len` (and 1 MiB) in all.
fn record_bytes(ev: &Evidence, coordinate: &str, pieces: &[Piece], len: u64) -> Vec<u8> {
    let cap = len.min(1 << 20);
    let mut out = Vec::new();
    for &(offset, l) in pieces {
        let want = l.min(cap.saturating_sub(out.len() as u64));
        match offset {
            None => out.resize(out.len() + usize::try_from(want).unwrap_or(0), 0),
            Some(o) => match read_medium(ev, coordinate, o, want) {
                Ok(b) => out.extend_from_slice(&b),
                Err(_) => break,
            },
        }
    }
    out
}
