//! The TUI's state and the one place it changes: [`App::update`] (keys, as actions) and
//! [`App::apply`] (worker messages).

use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use tui_input::{Input, InputRequest};

use crate::bits::model::{BitsInfo, Source};
use crate::output::bits::{Format, RecordWriter};
use crate::output::{AtomicFile, Protected};

use super::columns::Col;
use super::display;
use super::export::{export_format, format_name, with_next_format};
use super::fields;
use super::keys::{self, Action, Ctx};
use super::layout::{self, Rendered};
use super::query::Query;
use super::store::{Store, ViewKind};
use super::timeline::Timeline;
use super::worker::{self, Envelope, Evidence, Msg, Progress, Worker};
use super::Options;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Table,
    Detail,
    Hex,
    /// Every job timestamp in time order (see [`super::timeline`]).
    Timeline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    Help,
    Diagnostics,
    /// The column chooser of the current table.
    Columns,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Filter,
    Export,
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: Input,
    /// The filter text before the prompt opened (Esc restores it).
    pub before: String,
    /// The export path exists and the analyst was told; Enter again replaces it.
    pub overwrite_ok: bool,
}

/// Side effects the run loop performs with the terminal (so tests can see them instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Put text on the clipboard (arboard, else OSC 52); `what` says what it is, `json`
    /// whether it is records as JSON (else one field's raw value).
    Copy {
        text: String,
        what: String,
        json: bool,
    },
    /// Clear the terminal and draw every cell again (Ctrl-L).
    Repaint,
}

/// The most `y` puts on the clipboard: more would stall the terminal (OSC 52 is one escape
/// sequence the terminal must take whole) and belongs in a file (`e`).
pub const COPY_MAX_RECORDS: usize = 1_000;
pub const COPY_MAX_BYTES: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

#[derive(Debug, Clone, Default)]
pub struct LoadState {
    pub running: bool,
    pub progress: Option<Progress>,
    pub failed: Option<String>,
    pub elapsed: Option<Duration>,
    pub started: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceSel {
    #[default]
    Job,
    File,
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
}

#[derive(Debug, Clone, Default)]
pub struct DetailState {
    pub member: usize,
    pub scroll: u16,
    /// The field under the cursor (index into [`fields::copy_fields`] of the record).
    pub field: usize,
    /// The cursor moved: the drawing scrolls to keep it on screen (page keys scroll freely).
    pub follow: bool,
}

pub struct App {
    pub opts: Options,
    pub path: Option<PathBuf>,
    pub generation: u64,
    worker: Option<Worker>,
    tx: Sender<Envelope>,
    rx: Receiver<Envelope>,
    pub load: LoadState,
    pub evidence: Vec<Evidence>,
    pub diagnostics: Vec<String>,
    pub store: Store,
    pub view: ViewKind,
    pub screen: Screen,
    hex_return: Screen,
    pub overlay: Option<Overlay>,
    pub overlay_scroll: u16,
    /// The column chooser's cursor (index into the view's column choice).
    pub chooser: usize,
    pub prompt: Option<Prompt>,
    pub filter_text: String,
    pub status: Option<Status>,
    pub detail: DetailState,
    pub hex: HexState,
    pub timeline: Timeline,
    pub width: u16,
    pub height: u16,
    pub effects: Vec<Effect>,
    pub should_quit: bool,
    /// Quit by Ctrl-C: the process exits 130.
    pub interrupted: bool,
    /// Something changed since the last frame.
    pub dirty: bool,
    /// Frames drawn while loading, for the spinner.
    pub tick: u64,
    /// What the last frame drew (text lengths, tab places), for paging and clicks.
    pub rendered: Rendered,
}

impl App {
    pub fn new(opts: Options) -> App {
        let (tx, rx) = channel();
        App {
            opts,
            path: None,
            generation: 0,
            worker: None,
            tx,
            rx,
            load: LoadState::default(),
            evidence: Vec::new(),
            diagnostics: Vec::new(),
            store: Store::default(),
            view: ViewKind::Jobs,
            screen: Screen::Table,
            hex_return: Screen::Table,
            overlay: None,
            overlay_scroll: 0,
            chooser: 0,
            prompt: None,
            filter_text: String::new(),
            status: None,
            detail: DetailState::default(),
            hex: HexState::default(),
            timeline: Timeline::default(),
            width: 120,
            height: 40,
            effects: Vec::new(),
            should_quit: false,
            interrupted: false,
            dirty: true,
            tick: 0,
            rendered: Rendered::default(),
        }
    }

    /// Start loading `path` on the worker (cancelling any load in progress). Messages of the
    /// earlier load are ignored from now on.
    pub fn open(&mut self, path: PathBuf) {
        self.start_load(path, None);
    }

    /// [`App::open`] on inputs the caller has already opened (`bitscope PATH` opens them
    /// before it takes the terminal, so a path that cannot be read is refused at once).
    pub fn open_inputs(&mut self, path: PathBuf, inputs: worker::Inputs) {
        self.start_load(path, Some(inputs));
    }

    fn start_load(&mut self, path: PathBuf, inputs: Option<worker::Inputs>) {
        if let Some(w) = self.worker.take() {
            w.cancel();
        }
        self.generation += 1;
        self.store.clear();
        // Evidence is shown relative to the folder opened (or the file's own folder).
        let root = if path.is_dir() {
            path.clone()
        } else {
            path.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        self.store.root = root.display().to_string();
        self.evidence.clear();
        self.diagnostics.clear();
        self.screen = Screen::Table;
        self.load = LoadState {
            running: true,
            started: Some(Instant::now()),
            ..LoadState::default()
        };
        self.path = Some(path.clone());
        let (carve, generation, tx) = (self.opts.carve, self.generation, self.tx.clone());
        self.worker = Some(match inputs {
            Some(inputs) => worker::spawn_load_opened(inputs, carve, generation, tx),
            None => worker::spawn_load(path, carve, generation, tx),
        });
        self.dirty = true;
    }

    /// A sender for messages of the current generation (tests feed records through it).
    pub fn sender(&self) -> Sender<Envelope> {
        self.tx.clone()
    }

    /// Apply every message waiting on the channel. Returns whether any arrived.
    /// At most this many records are taken in per pump, so a frame follows soon.
    pub const PUMP_RECORDS: usize = 4096;

    pub fn pump(&mut self) -> bool {
        let mut msgs = Vec::new();
        let mut records = 0;
        while let Ok(m) = self.rx.try_recv() {
            if let Msg::Records(r) = &m.msg {
                records += r.len();
            }
            msgs.push(m);
            if records >= Self::PUMP_RECORDS {
                break;
            }
        }
        let any = !msgs.is_empty();
        self.apply_all(msgs);
        any
    }

    /// Block until the current load finishes or fails (tests, benches), applying messages.
    pub fn wait_loaded(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.load.running {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(m) => {
                    let mut msgs = vec![m];
                    while let Ok(m) = self.rx.try_recv() {
                        msgs.push(m);
                    }
                    self.apply_all(msgs);
                }
                Err(RecvTimeoutError::Timeout) => return false,
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
        true
    }

    /// Apply messages in order; record batches are appended together.
    pub fn apply_all(&mut self, msgs: Vec<Envelope>) {
        let mut batch: Vec<BitsInfo> = Vec::new();
        let mut end = Vec::new();
        for env in msgs {
            if env.generation != self.generation {
                continue;
            }
            match env.msg {
                Msg::Records(mut r) => batch.append(&mut r),
                m @ (Msg::Finished { .. } | Msg::Failed(_)) => end.push(m),
                m => self.apply_msg(m),
            }
        }
        if !batch.is_empty() {
            self.store.append(batch);
            self.clamp_all();
        }
        for m in end {
            self.apply_msg(m);
        }
        self.sync_timeline();
        self.dirty = true;
    }

    /// Bring the timeline up to date while it is shown; otherwise only take in the events of
    /// a finished load (so opening it later costs a filter pass at most). Never on a frame.
    fn sync_timeline(&mut self) {
        if self.screen == Screen::Timeline {
            self.timeline.sync(&self.store, self.generation);
            let rows = layout::timeline_rows(self.width, self.height, self.load.running);
            self.timeline.follow(rows);
        } else if !self.load.running {
            self.timeline.take_new(&self.store, self.generation);
        }
    }

    /// Apply one message (ignored unless of the current generation).
    pub fn apply(&mut self, env: Envelope) {
        self.apply_all(vec![env]);
    }

    fn apply_msg(&mut self, msg: Msg) {
        match msg {
            Msg::Opened(e) => self.evidence.push(e),
            Msg::Progress(p) => self.load.progress = Some(p),
            Msg::Records(r) => {
                self.store.append(r);
                self.clamp_all();
            }
            Msg::Diagnostic(d) => self.diagnostics.push(d),
            Msg::Finished { elapsed, records } => {
                self.load.running = false;
                self.load.elapsed = Some(elapsed);
                let warn = match self.diagnostics.len() {
                    0 => String::new(),
                    1 => ", 1 warning (W shows it)".to_string(),
                    n => format!(", {n} warnings (W shows them)"),
                };
                self.set_status(
                    format!(
                        "done: {records} records ({} live, {} carved){warn}",
                        self.store.live_count, self.store.carved_count
                    ),
                    false,
                );
            }
            Msg::Failed(e) => {
                self.load.running = false;
                self.set_status(format!("failed: {e}"), true);
                self.load.failed = Some(e);
            }
        }
    }

    pub fn set_status(&mut self, text: impl Into<String>, error: bool) {
        self.status = Some(Status {
            text: text.into(),
            error,
        });
        self.dirty = true;
    }

    pub fn resize(&mut self, width: u16, height: u16) {
        self.width = width;
        self.height = height;
        self.clamp_all();
        if self.screen == Screen::Hex {
            self.hex_follow();
        }
        self.timeline
            .follow(layout::timeline_rows(width, height, self.load.running));
        self.dirty = true;
    }

    /// The context for key lookup.
    pub fn ctx(&self) -> Ctx {
        if self.prompt.is_some() {
            Ctx::Prompt
        } else if self.overlay.is_some() {
            Ctx::Overlay
        } else {
            match self.screen {
                // The timeline is a table too: the same keys move, filter and open.
                Screen::Table | Screen::Timeline => Ctx::Table,
                Screen::Detail => Ctx::Detail,
                Screen::Hex => Ctx::Hex,
            }
        }
    }

    pub fn handle_event(&mut self, ev: Event) {
        match ev {
            Event::Key(k) => self.handle_key(k),
            Event::Mouse(m) => self.handle_mouse(m),
            Event::Resize(w, h) => self.resize(w, h),
            _ => {}
        }
    }

    pub fn handle_key(&mut self, k: KeyEvent) {
        if let Some(a) = keys::action_for(self.ctx(), &k) {
            self.update(a);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Update
    // -----------------------------------------------------------------------------------------

    /// The one place state changes in answer to the analyst.
    pub fn update(&mut self, action: Action) {
        self.update_state(action);
        self.sync_timeline();
    }

    fn update_state(&mut self, action: Action) {
        self.dirty = true;
        if action == Action::Repaint {
            self.effects.push(Effect::Repaint);
            return;
        }
        if matches!(action, Action::Quit | Action::Interrupt) {
            self.should_quit = true;
            self.interrupted = action == Action::Interrupt;
            if let Some(w) = &self.worker {
                w.cancel();
            }
            return;
        }
        if self.prompt.is_some() {
            self.update_prompt(action);
            return;
        }
        if let Some(ov) = self.overlay {
            if ov == Overlay::Columns && action != Action::Back && action != Action::Help {
                self.update_chooser(action);
                return;
            }
            match action {
                Action::Back => self.overlay = None,
                Action::Help if ov == Overlay::Help => self.overlay = None,
                Action::Help => {
                    self.overlay = Some(Overlay::Help);
                    self.overlay_scroll = 0;
                }
                Action::Up
                | Action::Down
                | Action::PageUp
                | Action::PageDown
                | Action::Top
                | Action::Bottom => self.scroll_overlay(action),
                _ => {}
            }
            return;
        }
        match action {
            Action::Help => {
                self.overlay = Some(Overlay::Help);
                self.overlay_scroll = 0;
                return;
            }
            Action::Diagnostics => {
                self.overlay = Some(Overlay::Diagnostics);
                self.overlay_scroll = 0;
                return;
            }
            Action::Export => return self.start_export(),
            Action::Copy if self.screen == Screen::Detail => return self.copy_field(),
            Action::Copy => return self.copy(),
            Action::CopyRecord => return self.copy_record(),
            Action::Timeline if self.screen == Screen::Timeline => {
                self.screen = Screen::Table;
                return;
            }
            Action::Timeline => return self.open_timeline(),
            Action::Reload => {
                if let Some(p) = self.path.clone() {
                    self.open(p);
                    self.set_status("reloading", false);
                }
                return;
            }
            Action::Mark if self.screen != Screen::Table => {
                // The detail and hex views show one record: Space marks that one only.
                let rec = match self.screen {
                    Screen::Hex => self.hex_record(),
                    _ => self.detail_record(),
                };
                if let Some(r) = rec {
                    let on = !self.store.marks.get(r as usize).copied().unwrap_or(false);
                    self.store.set_mark(r, on);
                    let n = self.store.mark_count;
                    self.set_status(
                        format!(
                            "{} this record; {n} record{} marked",
                            if on { "marked" } else { "unmarked" },
                            plural(n)
                        ),
                        false,
                    );
                }
                return;
            }
            _ => {}
        }
        match self.screen {
            Screen::Table => self.update_table(action),
            Screen::Detail => self.update_detail(action),
            Screen::Hex => self.update_hex(action),
            Screen::Timeline => self.update_timeline(action),
        }
    }

    fn update_table(&mut self, action: Action) {
        let rows = layout::table_rows(self.width, self.height, self.load.running);
        match action {
            Action::Up => self.move_sel(-1),
            Action::Down => self.move_sel(1),
            Action::PageUp => self.move_sel(-(rows.max(1) as i64)),
            Action::PageDown => self.move_sel(rows.max(1) as i64),
            Action::Top => self.move_sel(i64::MIN / 2),
            Action::Bottom => self.move_sel(i64::MAX / 2),
            // The timeline is the tab after the rows (and before the jobs).
            Action::NextView if self.view == ViewKind::Rows => self.open_timeline(),
            Action::PrevView if self.view == ViewKind::Jobs => self.open_timeline(),
            Action::NextView => self.view = self.view.next(),
            Action::PrevView => self.view = self.view.prev(),
            Action::OpenDetail if self.selected_item().is_some() => {
                self.screen = Screen::Detail;
                self.detail = DetailState {
                    follow: true,
                    ..DetailState::default()
                };
            }
            Action::OpenHex => self.open_hex(Screen::Table),
            Action::SortColumnLeft | Action::SortColumnRight => {
                // Only to columns on screen, and never the mark column (it has no title).
                let (cols, widths) = self.table_columns();
                let n = cols.len();
                let usable = |i: usize| widths[i] > 0 && cols[i] != Col::Mark;
                let v = self.store.view_mut(self.view);
                let mut c = v.col_cursor;
                for _ in 0..n {
                    c = if action == Action::SortColumnLeft {
                        (c + n - 1) % n
                    } else {
                        (c + 1) % n
                    };
                    if usable(c) {
                        break;
                    }
                }
                v.col_cursor = c;
            }
            Action::Sort => {
                // The cursor starts on the untitled mark column (or one left out at this
                // width): sort by the first column on screen instead.
                let (cols, widths) = self.table_columns();
                let cur = self.store.view(self.view).col_cursor;
                if widths.get(cur).is_none_or(|&w| w == 0) || cols[cur] == Col::Mark {
                    if let Some(i) =
                        (0..cols.len()).find(|&i| widths[i] > 0 && cols[i] != Col::Mark)
                    {
                        self.store.view_mut(self.view).col_cursor = i;
                    }
                }
                let cur = self.store.view(self.view).col_cursor;
                let Some(&col) = cols.get(cur) else {
                    return;
                };
                let v = self.store.view_mut(self.view);
                v.sort = match v.sort {
                    Some((c, desc)) if c == col => Some((c, !desc)),
                    _ => Some((col, false)),
                };
                self.store.resort(self.view);
            }
            Action::ScrollLeft => {
                let v = self.store.view_mut(self.view);
                v.first_col = v.first_col.saturating_sub(1);
            }
            Action::ScrollRight => {
                // Only while something lies off screen to the right.
                let (cols, widths) = self.table_columns();
                let first = self.store.view(self.view).first_col;
                if layout::columns_off_screen(&cols, first, &widths).1 {
                    self.store.view_mut(self.view).first_col = first + 1;
                }
            }
            Action::Columns => {
                self.overlay = Some(Overlay::Columns);
                self.chooser = 0;
            }
            Action::SortReset => {
                self.store.view_mut(self.view).sort = None;
                self.store.resort(self.view);
            }
            Action::Filter => {
                let text = self.filter_text.clone();
                self.prompt = Some(Prompt {
                    kind: PromptKind::Filter,
                    input: Input::new(text.clone()),
                    before: text,
                    overwrite_ok: false,
                });
            }
            Action::Back
                if !self.filter_text.is_empty()
                    || self.store.suspicious_only
                    || self.store.carved_filter != Default::default() =>
            {
                self.filter_text.clear();
                self.store.set_query(Query::default());
                self.store.set_toggles(Default::default(), false);
                self.set_status("filter cleared", false);
            }
            Action::CycleCarved => {
                let next = self.store.carved_filter.next();
                let sus = self.store.suspicious_only;
                self.store.set_toggles(next, sus);
                let what = match next.label() {
                    "" => "live and carved".to_string(),
                    l => l.to_string(),
                };
                self.say_shown(&what);
            }
            Action::ToggleSuspicious => {
                let cf = self.store.carved_filter;
                let sus = !self.store.suspicious_only;
                self.store.set_toggles(cf, sus);
                self.say_shown(if sus {
                    "suspicious only"
                } else {
                    "all rows, suspicious or not"
                });
            }
            Action::Mark => {
                if let Some(item) = self.selected_item() {
                    self.store.toggle_mark(self.view, item);
                    self.move_sel(1);
                }
            }
            Action::MarkAll => {
                let v = self.store.view(self.view);
                let members: Vec<u32> = v
                    .shown
                    .iter()
                    .flat_map(|&i| v.items[i as usize].members.iter().copied())
                    .collect();
                for m in members {
                    self.store.set_mark(m, true);
                }
            }
            Action::ClearMarks => self.store.clear_marks(),
            _ => {}
        }
        self.clamp_all();
    }

    /// Scroll the overlay's text, never past its last page (as the last frame measured it).
    fn scroll_overlay(&mut self, action: Action) {
        let shown = self.rendered.overlay;
        let page = shown.map_or(1, |s| s.page.max(1));
        let max = shown.map_or(usize::MAX, |s| s.max_top());
        let top = usize::from(self.overlay_scroll).min(max);
        let top = match action {
            Action::Up => top.saturating_sub(1),
            Action::Down => top.saturating_add(1),
            Action::PageUp => top.saturating_sub(page),
            Action::PageDown => top.saturating_add(page),
            Action::Top => 0,
            _ => max,
        };
        self.overlay_scroll = u16::try_from(top.min(max)).unwrap_or(u16::MAX);
    }

    /// The current table's columns and their widths on screen (0: off screen).
    pub fn table_columns(&self) -> (Vec<Col>, Vec<u16>) {
        let cols = self.store.columns(self.view);
        let first = self.store.view(self.view).first_col;
        let widths = layout::scrolled_widths(&cols, first, self.width);
        (cols, widths)
    }

    /// The column chooser: move its cursor, show or hide the column under it, or move that
    /// column up or down the order.
    fn update_chooser(&mut self, action: Action) {
        let mut choice = self.store.column_choice(self.view);
        let n = choice.len();
        let i = self.chooser.min(n.saturating_sub(1));
        match action {
            Action::Up => self.chooser = i.saturating_sub(1),
            Action::Down => self.chooser = (i + 1).min(n.saturating_sub(1)),
            Action::Top => self.chooser = 0,
            Action::Bottom => self.chooser = n.saturating_sub(1),
            Action::ToggleColumn => {
                if let Some(c) = choice.get_mut(i) {
                    c.1 = !c.1;
                }
                if !self.store.set_column_choice(self.view, choice) {
                    self.set_status("one column at least stays shown", true);
                }
            }
            Action::MoveColumnUp | Action::MoveColumnDown => {
                let j = if action == Action::MoveColumnUp {
                    i.checked_sub(1)
                } else {
                    Some(i + 1).filter(|&j| j < n)
                };
                if let Some(j) = j {
                    choice.swap(i, j);
                    self.store.set_column_choice(self.view, choice);
                    self.chooser = j;
                }
            }
            _ => {}
        }
        self.clamp_all();
    }

    /// Replace the status with what a toggle did and how many rows it left.
    fn say_shown(&mut self, what: &str) {
        let v = self.store.view(self.view);
        let msg = format!(
            "{what}: {} of {} {} shown",
            v.shown.len(),
            v.items.len(),
            self.view.title().to_lowercase()
        );
        self.set_status(msg, false);
    }

    fn update_detail(&mut self, action: Action) {
        let page = layout::body_rows(self.width, self.height, self.load.running).max(1) as u16;
        // Where the last frame put the text (it may have scrolled to follow the cursor).
        if let Some(s) = self.rendered.detail {
            self.detail.scroll = u16::try_from(s.top).unwrap_or(u16::MAX);
        }
        let fields = self
            .detail_record()
            .map_or(0, |r| fields::copy_fields(&self.store.rec(r).info).len());
        // The last frame says how far the text goes (the last page full, never a blank one);
        // before any frame, the drawing keeps the scroll in range.
        let max = self
            .rendered
            .detail
            .map_or(u16::MAX, |s| u16::try_from(s.max_top()).unwrap_or(u16::MAX));
        self.detail.scroll = self.detail.scroll.min(max);
        let n = self.selected_members().len().max(1);
        let d = &mut self.detail;
        d.follow = matches!(action, Action::Up | Action::Down | Action::Top);
        match action {
            // Up and down move the field cursor; the text follows it.
            Action::Up => d.field = d.field.saturating_sub(1),
            Action::Down => d.field = (d.field + 1).min(fields.saturating_sub(1)),
            Action::PageUp => d.scroll = d.scroll.saturating_sub(page),
            Action::PageDown => d.scroll = (d.scroll.saturating_add(page)).min(max),
            Action::Top => {
                d.scroll = 0;
                d.field = 0;
            }
            // The cursor goes to the last field too, so the next Up steps back from there
            // instead of snapping the text to the first field.
            Action::Bottom => {
                d.scroll = max;
                d.field = fields.saturating_sub(1);
            }
            Action::Back => self.screen = Screen::Table,
            Action::OpenHex => self.open_hex(Screen::Detail),
            Action::PrevVersion | Action::NextVersion => {
                d.member = if action == Action::NextVersion {
                    (d.member + 1) % n
                } else {
                    (d.member + n - 1) % n
                };
            }
            _ => {}
        }
    }

    // -----------------------------------------------------------------------------------------
    // Timeline
    // -----------------------------------------------------------------------------------------

    /// Show the timeline, at the first event of the record in view when there is one.
    fn open_timeline(&mut self) {
        let from: Vec<u32> = match self.screen {
            Screen::Detail => self.detail_record().into_iter().collect(),
            Screen::Hex => self.hex_record().into_iter().collect(),
            _ => self.selected_members().to_vec(),
        };
        self.screen = Screen::Timeline;
        self.timeline.sync(&self.store, self.generation);
        // A lookup table, not `from.contains` per event: a job row may have 40k members.
        let mut wanted = vec![false; self.store.recs.len()];
        for &r in &from {
            if let Some(w) = wanted.get_mut(r as usize) {
                *w = true;
            }
        }
        let t = &self.timeline;
        if let Some(pos) = t.shown.iter().position(|&i| {
            t.events
                .get(i as usize)
                .is_some_and(|e| wanted.get(e.rec as usize).copied().unwrap_or(false))
        }) {
            self.timeline.sel = pos;
        }
        let rows = layout::timeline_rows(self.width, self.height, self.load.running);
        self.timeline.follow(rows);
    }

    fn update_timeline(&mut self, action: Action) {
        let rows = layout::timeline_rows(self.width, self.height, self.load.running);
        let page = rows.max(1) as i64;
        match action {
            Action::Up => self.timeline.move_sel(-1, rows),
            Action::Down => self.timeline.move_sel(1, rows),
            Action::PageUp => self.timeline.move_sel(-page, rows),
            Action::PageDown => self.timeline.move_sel(page, rows),
            Action::Top => self.timeline.move_sel(i64::MIN / 2, rows),
            Action::Bottom => self.timeline.move_sel(i64::MAX / 2, rows),
            Action::NextView => {
                self.screen = Screen::Table;
                self.view = ViewKind::Jobs;
            }
            Action::PrevView => {
                self.screen = Screen::Table;
                self.view = ViewKind::Rows;
            }
            Action::OpenDetail => {
                if let Some(e) = self.timeline.selected() {
                    self.jump_to_record(e.rec);
                }
            }
            // The filter and the toggles are the tables' own: they narrow the timeline too.
            Action::Filter | Action::Back | Action::CycleCarved | Action::ToggleSuspicious => {
                self.update_table(action)
            }
            _ => {}
        }
    }

    /// Select the row of a record in its table (its job's row, else its file's, else the
    /// joined row) and open its detail at that record.
    pub fn jump_to_record(&mut self, rec: u32) {
        for kind in ViewKind::ALL {
            let v = self.store.view(kind);
            let found = v.shown.iter().enumerate().find_map(|(pos, &item)| {
                let members = &v.items.get(item as usize)?.members;
                members.iter().position(|&m| m == rec).map(|at| (pos, at))
            });
            if let Some((pos, member)) = found {
                self.view = kind;
                self.store.view_mut(kind).sel = pos;
                self.clamp_all();
                self.screen = Screen::Detail;
                self.detail = DetailState {
                    member,
                    follow: true,
                    ..DetailState::default()
                };
                return;
            }
        }
        self.set_status(
            "that record's row is not shown (Esc clears the filter)",
            true,
        );
    }

    // -----------------------------------------------------------------------------------------
    // Table selection
    // -----------------------------------------------------------------------------------------

    pub fn selected_item(&self) -> Option<u32> {
        self.store.view(self.view).selected_item()
    }

    /// The records of the selected item.
    pub fn selected_members(&self) -> &[u32] {
        let v = self.store.view(self.view);
        v.selected_item()
            .and_then(|i| v.items.get(i as usize))
            .map(|it| it.members.as_slice())
            .unwrap_or(&[])
    }

    /// The record the detail pane shows.
    pub fn detail_record(&self) -> Option<u32> {
        let m = self.selected_members();
        m.get(self.detail.member.min(m.len().saturating_sub(1)))
            .copied()
    }

    fn move_sel(&mut self, delta: i64) {
        let v = self.store.view_mut(self.view);
        let n = v.shown.len() as i64;
        if n == 0 {
            v.sel = 0;
            return;
        }
        v.sel = (v.sel as i64).saturating_add(delta).clamp(0, n - 1) as usize;
    }

    /// Keep every view's selection in range and on screen.
    fn clamp_all(&mut self) {
        let rows = layout::table_rows(self.width, self.height, self.load.running).max(1);
        for k in ViewKind::ALL {
            let v = self.store.view_mut(k);
            v.sel = v.sel.min(v.shown.len().saturating_sub(1));
            if v.sel < v.offset {
                v.offset = v.sel;
            } else if v.sel >= v.offset + rows {
                v.offset = v.sel + 1 - rows;
            }
            let max_off = v.shown.len().saturating_sub(rows);
            v.offset = v.offset.min(max_off);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Mouse
    // -----------------------------------------------------------------------------------------

    fn handle_mouse(&mut self, m: MouseEvent) {
        self.dirty = true;
        let scroll = match m.kind {
            MouseEventKind::ScrollDown => Some(Action::Down),
            MouseEventKind::ScrollUp => Some(Action::Up),
            _ => None,
        };
        if let Some(a) = scroll {
            if self.prompt.is_none() {
                for _ in 0..3 {
                    self.update(a);
                }
            }
            return;
        }
        if m.kind != MouseEventKind::Down(MouseButton::Left)
            || self.prompt.is_some()
            || self.overlay.is_some()
            || !matches!(self.screen, Screen::Table | Screen::Timeline)
        {
            return;
        }
        let areas = layout::areas(self.width, self.height, self.load.running);
        let body = areas.body;
        if m.row == areas.tabs.y {
            // Click on a view tab (the one after the tables is the timeline).
            match layout::tab_at(&self.rendered.tabs, m.column) {
                Some(i) if i == ViewKind::ALL.len() => self.open_timeline(),
                Some(i) => {
                    if let Some(&k) = ViewKind::ALL.get(i) {
                        self.view = k;
                        self.screen = Screen::Table;
                    }
                }
                None => {}
            }
            return;
        }
        if self.screen != Screen::Table {
            return;
        }
        if m.row < body.y || m.row >= body.y + body.height {
            return;
        }
        if m.row == body.y {
            // Header: choose that column and sort by it.
            let (_, widths) = self.table_columns();
            if let Some(i) = layout::column_at(&widths, body.x, m.column) {
                self.store.view_mut(self.view).col_cursor = i;
                self.update_table(Action::Sort);
            }
            return;
        }
        let v = self.store.view(self.view);
        let row = v.offset + usize::from(m.row - body.y - 1);
        if row < v.shown.len() {
            if row == v.sel {
                self.update_table(Action::OpenDetail);
            } else {
                self.store.view_mut(self.view).sel = row;
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Prompts, export, copy
    // -----------------------------------------------------------------------------------------

    fn update_prompt(&mut self, action: Action) {
        let Some(p) = self.prompt.as_mut() else {
            return;
        };
        let req = match action {
            Action::Insert(c) if !display::is_hidden(c) => Some(InputRequest::InsertChar(c)),
            Action::ClearLine => Some(InputRequest::DeleteLine),
            Action::DeletePrevChar => Some(InputRequest::DeletePrevChar),
            Action::DeleteNextChar => Some(InputRequest::DeleteNextChar),
            Action::DeletePrevWord => Some(InputRequest::DeletePrevWord),
            Action::CursorLeft => Some(InputRequest::GoToPrevChar),
            Action::CursorRight => Some(InputRequest::GoToNextChar),
            Action::CursorStart => Some(InputRequest::GoToStart),
            Action::CursorEnd => Some(InputRequest::GoToEnd),
            _ => None,
        };
        if let Some(req) = req {
            let changed = p.input.handle(req).is_some_and(|c| c.value);
            if changed {
                p.overwrite_ok = false;
                if p.kind == PromptKind::Filter {
                    let text = p.input.value().to_string();
                    self.set_filter(&text);
                }
            }
            return;
        }
        match (action, p.kind) {
            (Action::Confirm, PromptKind::Filter) => {
                let text = p.input.value().trim().to_string();
                self.prompt = None;
                self.set_filter(&text);
                let v = self.store.view(self.view);
                if let Some(e) = self.store.query.error.clone() {
                    self.set_status(format!("filter: {e}"), true);
                    return;
                }
                let msg = if text.is_empty() {
                    "filter cleared".to_string()
                } else {
                    format!(
                        "filter: {} of {} {} shown",
                        v.shown.len(),
                        v.items.len(),
                        self.view.title().to_lowercase()
                    )
                };
                self.set_status(msg, false);
            }
            (Action::Cancel, PromptKind::Filter) => {
                let before = p.before.clone();
                self.prompt = None;
                self.set_filter(&before);
            }
            (Action::Confirm, PromptKind::Export) => {
                let path = p.input.value().trim().to_string();
                let overwrite_ok = p.overwrite_ok;
                self.finish_export(&path, overwrite_ok);
            }
            (Action::CycleFormat, PromptKind::Export) => {
                let next = with_next_format(p.input.value());
                p.input = Input::new(next);
                p.overwrite_ok = false;
                self.say_export_target();
            }
            (Action::Cancel, PromptKind::Export) => {
                self.prompt = None;
                self.set_status("export cancelled", false);
            }
            _ => {}
        }
    }

    /// Filter all views by `text` (live, as it is typed).
    pub fn set_filter(&mut self, text: &str) {
        self.filter_text = text.to_string();
        self.store.set_query(Query::parse(text));
        self.clamp_all();
    }

    /// The evidence files, which nothing may ever be written over.
    fn inputs(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self.evidence.iter().map(|e| e.path.clone()).collect();
        for r in &self.store.recs {
            for s in [&r.info.job_source, &r.info.file_source]
                .into_iter()
                .flatten()
            {
                let p = PathBuf::from(&s.evidence);
                if !v.contains(&p) {
                    v.push(p);
                }
            }
        }
        if let Some(p) = &self.path {
            v.push(p.clone());
        }
        v
    }

    /// The records `e` exports: the marked ones; else, in the detail or hex view, the one
    /// record shown; else every record of the rows shown.
    fn export_records(&self) -> Vec<u32> {
        if self.store.mark_count == 0 {
            let one = match self.screen {
                Screen::Table | Screen::Timeline => None,
                Screen::Detail => self.detail_record(),
                Screen::Hex => self.hex_record(),
            };
            if let Some(r) = one {
                return vec![r];
            }
        }
        self.store.export_set(self.view)
    }

    fn start_export(&mut self) {
        let n = self.export_records().len();
        if n == 0 {
            self.set_status("nothing to export: no rows shown", true);
            return;
        }
        let stem = self
            .path
            .as_deref()
            .and_then(Path::file_stem)
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "bits".into());
        let stem: String = stem
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let default = format!("bitscope-{stem}-{stamp}.json");
        self.prompt = Some(Prompt {
            kind: PromptKind::Export,
            input: Input::new(default),
            before: String::new(),
            overwrite_ok: false,
        });
        self.say_export_target();
    }

    /// What the export prompt will write: how many records, which, and in which format.
    fn say_export_target(&mut self) {
        let n = self.export_records().len();
        let what = if self.store.mark_count > 0 {
            "marked"
        } else if self.screen != Screen::Table {
            "viewed"
        } else {
            "shown"
        };
        let format = self
            .prompt
            .as_ref()
            .map_or(Format::Json, |p| export_format(p.input.value()));
        self.set_status(
            format!(
                "export {n} {what} record{} as {} (Tab: JSON, JSONL, CSV) to:",
                plural(n),
                format_name(format)
            ),
            false,
        );
    }

    fn finish_export(&mut self, path: &str, overwrite_ok: bool) {
        if path.is_empty() {
            self.set_status("export: type a file name (Esc cancels)", true);
            return;
        }
        let target = PathBuf::from(path);
        let inputs = self.inputs();
        let input_refs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
        let protected = Protected::of(&input_refs);
        // Raw: the status line escapes what it draws (escaping here too would show `\x1b`
        // as `\x5cx1b`).
        let shown = path;
        // A path the export may never replace (evidence, device, FIFO, symlink) is refused at
        // once, not offered for replacing.
        if let Err(e) = crate::output::atomic::check_target(&target, &protected) {
            self.set_status(format!("export to {shown}: {e}; type another path"), true);
            return;
        }
        if target.exists() && !overwrite_ok {
            if let Some(p) = self.prompt.as_mut() {
                p.overwrite_ok = true;
            }
            self.set_status(
                format!("{shown} exists: Enter again replaces it, Esc cancels"),
                true,
            );
            return;
        }
        let set = self.export_records();
        let format = export_format(path);
        // The same writer as `bitscope parse -o`: a temporary file renamed into place, the
        // evidence checked again just before.
        let result = AtomicFile::create(&target, &protected).and_then(|file| {
            let mut w = RecordWriter::new(file, format)?;
            for &i in &set {
                w.write(&self.store.rec(i).info)?;
            }
            w.finish()?.commit()
        });
        match result {
            Ok(()) => {
                self.prompt = None;
                // The full path: a relative one depends on where bitscope was started.
                let full = std::path::absolute(&target).unwrap_or(target);
                self.set_status(
                    format!(
                        "exported {} record{} as {} to {}",
                        set.len(),
                        plural(set.len()),
                        format_name(format),
                        full.display()
                    ),
                    false,
                );
            }
            Err(e) => self.set_status(format!("export to {shown} failed: {e}"), true),
        }
    }

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

    fn copy(&mut self) {
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
    fn copy_field(&mut self) {
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
    fn copy_record(&mut self) {
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
        let written = crate::output::bits::write(info, crate::output::bits::Format::Json, &mut w);
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

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    // -----------------------------------------------------------------------------------------
    // Hex view
    // -----------------------------------------------------------------------------------------

    /// The record the hex view shows.
    pub fn hex_record(&self) -> Option<u32> {
        let m = self.selected_members();
        m.get(self.hex.member.min(m.len().saturating_sub(1)))
            .copied()
    }

    fn open_hex(&mut self, from: Screen) {
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
    fn evidence_handle(&self, path: &str) -> Option<std::sync::Arc<crate::input::Evidence>> {
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
        // Where the record's bytes are, as the hex view addresses them: its place in the
        // evidence as read (through the containers) when it has one, else the store file's
        // offsets (a bare store: the evidence file).
        let (pieces, coordinate): (Vec<(Option<u64>, u64)>, String) = match &src.in_evidence {
            Some(p) if p.offset.is_some() => {
                let pieces = if p.extents.is_empty() {
                    vec![(p.offset, src.length)]
                } else {
                    p.extents.iter().map(|x| (x.offset, x.length)).collect()
                };
                (pieces, p.coordinate.clone())
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
                return;
            }
            _ => {
                let ext = if src.extents.is_empty() {
                    vec![(src.offset, src.length)]
                } else {
                    src.extents.clone()
                };
                (
                    ext.into_iter().map(|(o, l)| (Some(o), l)).collect(),
                    String::new(),
                )
            }
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
                .map(|b| crate::bits::fields::record_fields(&b))
                .unwrap_or_default()
        } else {
            src.fields.clone()
        };
        let mut fields = Vec::new();
        let mut names = Vec::new();
        for (fi, f) in ranges.iter().enumerate() {
            names.push(f.name.to_string());
            // Map the record-relative range onto the extents.
            let (mut lstart, lend) = (f.offset, f.offset.saturating_add(f.length));
            let mut logical = 0u64;
            for &(s, l) in &pieces {
                let (es, ee) = (logical, logical.saturating_add(l));
                logical = ee;
                let Some(s) = s else { continue };
                if lstart < ee && lend > es && lstart < lend {
                    let a = lstart.max(es);
                    let b = lend.min(ee);
                    fields.push((s + (a - es), s + (b - es), fi));
                    lstart = b;
                }
            }
        }
        let info = self.hex_record().map(|r| &self.store.rec(r).info);
        let carved = info.is_some_and(|i| i.carved);
        self.hex.extents = extents;
        self.hex.fields = fields;
        self.hex.field_names = names;
        self.hex.record_len = src.length;
        self.hex.evidence = src.evidence.clone();
        self.hex.carved = carved;
        self.hex.cursor = self.hex.extents.first().map(|e| e.0).unwrap_or(0);
        self.hex.file_len = handle
            .as_deref()
            .map_or(0, |ev| medium_len(ev, &coordinate));
        self.hex.coordinate = coordinate;
        self.hex.window.clear();
        self.hex.error = None;
        // Put the record start a few lines below the top, to show what precedes it.
        self.hex.top = (self.hex.cursor / 16 * 16).saturating_sub(16 * 2);
        self.hex_follow();
    }

    fn record_start_end(&self) -> (u64, u64) {
        let start = self.hex.extents.first().map(|e| e.0).unwrap_or(0);
        let end = self
            .hex
            .extents
            .last()
            .map(|e| e.0.saturating_add(e.1))
            .unwrap_or(start);
        (start, end)
    }

    fn update_hex(&mut self, action: Action) {
        let rows = layout::hex_rows(self.width, self.height, self.load.running).max(1) as u64;
        let len = self.hex.file_len.max(1);
        let c = self.hex.cursor;
        let (start, end) = self.record_start_end();
        let new = match action {
            Action::Left => c.saturating_sub(1),
            Action::Right => c + 1,
            Action::Up => c.saturating_sub(16),
            Action::Down => c + 16,
            Action::PageUp => c.saturating_sub(16 * rows),
            Action::PageDown => c + 16 * rows,
            Action::Top => start,
            Action::Bottom => end.saturating_sub(1),
            Action::NextField => self
                .hex
                .fields
                .iter()
                .map(|f| f.0)
                .filter(|&s| s > c)
                .min()
                .unwrap_or(c),
            Action::PrevField => self
                .hex
                .fields
                .iter()
                .map(|f| f.0)
                .filter(|&s| s < c)
                .max()
                .unwrap_or(c),
            Action::Back => {
                self.screen = self.hex_return;
                return;
            }
            Action::ToggleSource => {
                let other = match self.hex.source {
                    SourceSel::Job => SourceSel::File,
                    SourceSel::File => SourceSel::Job,
                };
                let old = self.hex.source;
                self.hex.source = other;
                if self.hex_source().is_some() {
                    self.load_hex_record();
                } else {
                    self.hex.source = old;
                    self.set_status("this row has no other record", true);
                }
                return;
            }
            Action::PrevVersion | Action::NextVersion => {
                let n = self.selected_members().len().max(1);
                self.hex.member = if action == Action::NextVersion {
                    (self.hex.member + 1) % n
                } else {
                    (self.hex.member + n - 1) % n
                };
                if self.hex_source().is_none() {
                    self.hex.source = match self.hex.source {
                        SourceSel::Job => SourceSel::File,
                        SourceSel::File => SourceSel::Job,
                    };
                }
                self.load_hex_record();
                return;
            }
            _ => return,
        };
        self.hex.cursor = new.min(len - 1);
        self.hex_follow();
    }

    /// Scroll so the cursor is on screen and load the bytes shown (read-only, by offset).
    fn hex_follow(&mut self) {
        let rows = layout::hex_rows(self.width, self.height, self.load.running).max(1) as u64;
        let line = self.hex.cursor / 16 * 16;
        if line < self.hex.top {
            self.hex.top = line;
        } else if line >= self.hex.top + rows * 16 {
            self.hex.top = line + 16 - rows * 16;
        }
        // Bytes on screen plus room for the inspector (a SID is up to 68 bytes).
        let want = rows * 16 + 96;
        let start = self.hex.top;
        if start >= self.hex.window_start
            && start + want <= self.hex.window_start + self.hex.window.len() as u64
            && !self.hex.window.is_empty()
        {
            return;
        }
        let handle = self.evidence_handle(&self.hex.evidence);
        let read = match handle.as_deref() {
            Some(ev) => read_medium(ev, &self.hex.coordinate, start, want),
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
pub fn read_window(ev: &crate::input::Evidence, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
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
    ev: &crate::input::Evidence,
    coordinate: &str,
    offset: u64,
    len: u64,
) -> std::io::Result<Vec<u8>> {
    if !is_logical(coordinate) {
        return read_window(ev, offset, len);
    }
    #[cfg(feature = "images")]
    {
        use crate::container::{self, ReadAt};
        let wrap = |seg: crate::input::Evidence| -> Box<dyn ReadAt + '_> { Box::new(seg) };
        let more = crate::pipeline::segments(ev, &wrap);
        let found = container::open_with(ev, &more)
            .ok_or_else(|| std::io::Error::other("its disk format no longer opens"))?;
        let mut buf = vec![0u8; usize::try_from(len.min(1 << 20)).unwrap_or(0)];
        let n = found.disk.read_at(offset, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
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
fn medium_len(ev: &crate::input::Evidence, coordinate: &str) -> u64 {
    if !is_logical(coordinate) {
        return ev.len();
    }
    #[cfg(feature = "images")]
    {
        use crate::container::{self, ReadAt};
        let wrap = |seg: crate::input::Evidence| -> Box<dyn ReadAt + '_> { Box::new(seg) };
        let more = crate::pipeline::segments(ev, &wrap);
        container::open_with(ev, &more).map_or(0, |f| f.disk.size())
    }
    #[cfg(not(feature = "images"))]
    0
}

/// A record's bytes: its pieces in `coordinate` read and joined (a piece stored nowhere, a
/// sparse run or past the valid data length, as zeros), at most `len` (and 1 MiB) in all.
fn record_bytes(
    ev: &crate::input::Evidence,
    coordinate: &str,
    pieces: &[(Option<u64>, u64)],
    len: u64,
) -> Vec<u8> {
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

/// `40000` as `40,000`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "" for one, "s" otherwise.
pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
