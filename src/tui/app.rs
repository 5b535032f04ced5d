//! The TUI's state and the one place it changes: [`App::update`] (keys, as actions) and
//! [`App::apply`] (worker messages).
//!
//! The screens' own keys live beside their state: [`super::hex`], [`super::prompt`] (filter
//! and export path), [`super::export`], [`super::copy`], [`super::overlay`] and
//! [`super::mouse`]; this file keeps the load, the dispatch, the tables, the detail pane and
//! the timeline's keys.

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyEvent};

use crate::bits::model::BitsInfo;

use super::columns::Col;
use super::display::plural;
use super::fields;
use super::hex::HexState;
use super::keys::{self, Action, Ctx};
use super::layout::{self, Rendered};
use super::overlay::Overlay;
use super::prompt::Prompt;
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
    /// The paths opened (`bitscope A B C`): every one is read again on reload.
    pub paths: Vec<PathBuf>,
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
    /// Where Esc goes back to from the hex view.
    pub(super) hex_return: Screen,
    /// Where Esc goes back to from the detail pane (the table, or the timeline it was
    /// opened from), and where `T` goes back to from the timeline.
    pub(super) detail_return: Screen,
    pub(super) timeline_return: Screen,
    pub overlay: Option<Overlay>,
    pub overlay_scroll: u16,
    /// The column chooser's cursor (index into the view's column choice).
    pub chooser: usize,
    /// The host summary's cursor (index into [`super::hosts::summary`]).
    pub host_cursor: usize,
    pub prompt: Option<Prompt>,
    pub filter_text: String,
    /// Where Esc in the table goes back to after `p` or `f` (see [`super::pivot`]).
    pub(super) pivots: Vec<super::pivot::Return>,
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
    /// The case file opened or saved last (`w` offers it again).
    pub case_path: Option<PathBuf>,
    /// Marks of the case opened whose records have not arrived yet, by record key
    /// (see [`super::case`]).
    pub(super) case_marks: std::collections::HashSet<String>,
}

impl App {
    pub fn new(opts: Options) -> App {
        let (tx, rx) = channel();
        App {
            opts,
            paths: Vec::new(),
            generation: 0,
            worker: None,
            tx,
            rx,
            load: LoadState::default(),
            evidence: Vec::new(),
            diagnostics: Vec::new(),
            store: Store::tuned(opts.zone, opts.triage),
            view: ViewKind::Jobs,
            screen: Screen::Table,
            hex_return: Screen::Table,
            detail_return: Screen::Table,
            timeline_return: Screen::Table,
            overlay: None,
            overlay_scroll: 0,
            chooser: 0,
            host_cursor: 0,
            prompt: None,
            filter_text: String::new(),
            pivots: Vec::new(),
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
            case_path: None,
            case_marks: Default::default(),
        }
    }

    /// Start loading every one of `paths` on the worker, in one load (cancelling any load in
    /// progress). Messages of the earlier load are ignored from now on.
    pub fn open(&mut self, paths: Vec<PathBuf>) {
        self.start_load(paths, None);
    }

    /// [`App::open`] on inputs the caller has already opened (`bitscope PATH...` opens them
    /// before it takes the terminal, so paths that cannot be read are refused at once).
    pub fn open_inputs(&mut self, paths: Vec<PathBuf>, inputs: worker::Inputs) {
        self.start_load(paths, Some(inputs));
    }

    fn start_load(&mut self, paths: Vec<PathBuf>, inputs: Option<worker::Inputs>) {
        if let Some(w) = self.worker.take() {
            w.cancel();
        }
        self.generation += 1;
        self.store.clear();
        // A pivot's way back names records by number: they are read again.
        self.pivots.clear();
        // Evidence is shown relative to the folder opened (or the file's own folder); of
        // several paths, to the deepest folder holding them all, so the column stays short.
        self.store.root = super::origin::common_folder(&paths).display().to_string();
        self.evidence.clear();
        self.diagnostics.clear();
        self.screen = Screen::Table;
        self.load = LoadState {
            running: true,
            started: Some(Instant::now()),
            ..LoadState::default()
        };
        self.paths = paths.clone();
        let (carve, generation, tx) = (self.opts.carve, self.generation, self.tx.clone());
        self.worker = Some(match inputs {
            Some(inputs) => worker::spawn_load_opened(inputs, carve, generation, tx),
            None => worker::spawn_load(paths, carve, generation, tx),
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
            let first = self.store.recs.len();
            self.store.append(batch);
            self.mark_from_case(first);
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
    pub(super) fn sync_timeline(&mut self) {
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
                let first = self.store.recs.len();
                self.store.append(r);
                self.mark_from_case(first);
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
            return self.update_prompt(action);
        }
        // A message answers one key: the next clears it (a stale one reads as the next's).
        self.status = None;
        if let Some(ov) = self.overlay {
            return self.update_overlay(ov, action);
        }
        if self.update_anywhere(action) {
            return;
        }
        match self.screen {
            Screen::Table => self.update_table(action),
            Screen::Detail => self.update_detail(action),
            Screen::Hex => self.update_hex(action),
            Screen::Timeline => self.update_timeline(action),
        }
    }

    /// The keys that do the same on every screen; false when `action` is none of them.
    fn update_anywhere(&mut self, action: Action) -> bool {
        match action {
            Action::Help => self.open_overlay(Overlay::Help),
            Action::Diagnostics => self.open_overlay(Overlay::Diagnostics),
            Action::Hosts => self.open_overlay(Overlay::Hosts),
            Action::Export => self.start_export(),
            Action::Note => self.start_note(),
            Action::SaveCase => self.start_case_save(),
            Action::Copy if self.screen == Screen::Detail => self.copy_field(),
            Action::Copy => self.copy(),
            Action::CopyRecord => self.copy_record(),
            // Back to where the timeline was opened from (the detail pane stays as it was).
            Action::Timeline if self.screen == Screen::Timeline => {
                self.screen = self.timeline_return;
            }
            Action::Timeline => self.open_timeline(),
            Action::Reload => {
                if !self.paths.is_empty() {
                    // Marks are by record and the records are read again: say they go.
                    let marks = self.store.mark_count;
                    self.open(self.paths.clone());
                    let msg = match marks {
                        0 => "reloading".to_string(),
                        n => format!("reloading: {n} mark{} cleared", plural(n)),
                    };
                    self.set_status(msg, marks > 0);
                }
            }
            Action::Mark if self.screen != Screen::Table => self.mark_viewed(),
            Action::Pivot if self.screen == Screen::Detail => self.pivot(),
            Action::JobFiles if self.screen == Screen::Timeline => {
                self.set_status("f: open the event's record first (Enter)", true);
            }
            Action::JobFiles => self.job_files(),
            Action::ToggleZone => self.toggle_zone(),
            Action::Zoom => self.zoom(),
            Action::ZoomOut => self.zoom_out(),
            _ => return false,
        }
        true
    }

    /// Space in the detail and hex views: they show one record, and Space marks that one.
    fn mark_viewed(&mut self) {
        let rec = match self.screen {
            Screen::Hex => self.hex_record(),
            _ => self.detail_record(),
        };
        let Some(r) = rec else {
            return;
        };
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

    pub(super) fn update_table(&mut self, action: Action) {
        let rows = layout::table_rows(self.width, self.height, self.load.running).max(1) as i64;
        match action {
            Action::Up => self.move_sel(-1),
            Action::Down => self.move_sel(1),
            Action::PageUp => self.move_sel(-rows),
            Action::PageDown => self.move_sel(rows),
            Action::Top => self.move_sel(i64::MIN / 2),
            Action::Bottom => self.move_sel(i64::MAX / 2),
            // The timeline is the tab after the rows (and before the jobs).
            Action::NextView if self.view == ViewKind::Rows => self.open_timeline(),
            Action::PrevView if self.view == ViewKind::Jobs => self.open_timeline(),
            Action::NextView => self.view = self.view.next(),
            Action::PrevView => self.view = self.view.prev(),
            Action::OpenDetail if self.selected_item().is_some() => {
                self.screen = Screen::Detail;
                self.detail_return = Screen::Table;
                self.detail = DetailState {
                    follow: true,
                    ..DetailState::default()
                };
            }
            Action::OpenHex => self.open_hex(Screen::Table),
            Action::SortColumnLeft => self.move_sort_column(false),
            Action::SortColumnRight => self.move_sort_column(true),
            Action::Sort => self.sort_by_chosen_column(),
            Action::SortReset => {
                self.store.view_mut(self.view).sort = None;
                self.store.resort(self.view);
            }
            Action::ScrollLeft => {
                let v = self.store.view_mut(self.view);
                v.first_col = v.first_col.saturating_sub(1);
            }
            Action::ScrollRight => self.scroll_right(),
            Action::WidenColumn => self.resize_column(4),
            Action::NarrowColumn => self.resize_column(-4),
            Action::AutoWidths => {
                self.store.view_mut(self.view).widths = [0; Col::COUNT];
                self.set_status("column widths automatic again", false);
            }
            Action::Columns => self.open_overlay(Overlay::Columns),
            Action::Filter => self.open_filter_prompt(),
            Action::Back if self.pivoted() => self.pivot_back(),
            Action::Back if self.filtering() => self.clear_filter(),
            Action::CycleCarved => self.cycle_carved(),
            Action::ToggleSuspicious => self.toggle_suspicious(),
            Action::Mark => {
                if let Some(item) = self.selected_item() {
                    self.store.toggle_mark(self.view, item);
                    self.move_sel(1);
                }
            }
            Action::MarkAll => self.mark_all_shown(),
            Action::ClearMarks => self.store.clear_marks(),
            _ => {}
        }
        self.clamp_all();
    }

    /// The current table's columns and their widths on screen (0: off screen).
    pub fn table_columns(&self) -> (Vec<Col>, Vec<u16>) {
        let cols = self.store.columns(self.view);
        let first = self.store.view(self.view).first_col;
        let specs = self.store.column_specs(self.view, &cols);
        let widths = layout::scrolled_widths(&specs, first, self.width);
        (cols, widths)
    }

    /// `h` / `l`: choose the next column to the left or right for sorting, only among the
    /// columns on screen, never the mark column (it has no title).
    fn move_sort_column(&mut self, right: bool) {
        let (cols, widths) = self.table_columns();
        let n = cols.len();
        let usable = |i: usize| widths[i] > 0 && cols[i] != Col::Mark;
        let cur = self.store.view(self.view).col_cursor;
        // The next column on screen that way; at the first or the last, the cursor stays
        // (it used to wrap round, silently) and the status says so.
        let next = if right {
            (cur + 1..n).find(|&i| usable(i))
        } else {
            (0..cur.min(n)).rev().find(|&i| usable(i))
        };
        match next {
            Some(c) => self.store.view_mut(self.view).col_cursor = c,
            None => {
                let (end, key) = if right { ("last", ">") } else { ("first", "<") };
                self.set_status(
                    format!("the {end} column on screen ({key} scrolls the columns)"),
                    false,
                );
            }
        }
    }

    /// The chosen column, moved first to the first column on screen when it is the untitled
    /// mark column or one left out at this width: (its index, the column, its width drawn).
    fn chosen_column(&mut self) -> Option<(usize, Col, u16)> {
        let (cols, widths) = self.table_columns();
        let cur = self.store.view(self.view).col_cursor;
        if widths.get(cur).is_none_or(|&w| w == 0) || cols.get(cur) == Some(&Col::Mark) {
            if let Some(i) = (0..cols.len()).find(|&i| widths[i] > 0 && cols[i] != Col::Mark) {
                self.store.view_mut(self.view).col_cursor = i;
            }
        }
        let cur = self.store.view(self.view).col_cursor;
        Some((cur, *cols.get(cur)?, widths.get(cur).copied().unwrap_or(0)))
    }

    /// `+` / `-`: the chosen column `by` cells wider, as the analyst's own width.
    fn resize_column(&mut self, by: i32) {
        let Some((_, col, drawn)) = self.chosen_column() else {
            return;
        };
        let w = (i32::from(drawn.max(col.min_width())) + by).clamp(3, 1000);
        let w = u16::try_from(w).unwrap_or(3);
        self.store.view_mut(self.view).widths[col.index()] = w;
        self.set_status(
            format!(
                "{}: {w} cells (+ - change it, = all automatic)",
                col.title()
            ),
            false,
        );
    }

    /// `s`: sort by the chosen column; again flips the direction.
    fn sort_by_chosen_column(&mut self) {
        let Some((_, col, _)) = self.chosen_column() else {
            return;
        };
        let v = self.store.view_mut(self.view);
        v.sort = match v.sort {
            Some((c, desc)) if c == col => Some((c, !desc)),
            _ => Some((col, false)),
        };
        let desc = v.sort.is_some_and(|(_, d)| d);
        self.store.resort(self.view);
        // The new order from its start: the old selection may sit anywhere in it, and
        // staying there showed neither end of the sort.
        let v = self.store.view_mut(self.view);
        v.sel = 0;
        v.offset = 0;
        let dir = if desc { "descending" } else { "ascending" };
        self.set_status(
            format!("sorted by {}, {dir} (s again flips it)", col.title()),
            false,
        );
    }

    /// `>`: scroll one column right, only while something lies off screen to the right.
    fn scroll_right(&mut self) {
        let (cols, widths) = self.table_columns();
        let first = self.store.view(self.view).first_col;
        if layout::columns_off_screen(&cols, first, &widths).1 {
            self.store.view_mut(self.view).first_col = first + 1;
        }
    }

    /// Is a filter or a toggle narrowing the tables?
    fn filtering(&self) -> bool {
        !self.filter_text.is_empty()
            || self.store.suspicious_only
            || self.store.carved_filter != Default::default()
    }

    /// Esc in a table: the filter and the toggles go.
    fn clear_filter(&mut self) {
        self.filter_text.clear();
        self.store.set_query(Query::default());
        self.store.set_toggles(Default::default(), false);
        self.set_status("filter cleared", false);
    }

    /// `c`: all → live only → carved only.
    fn cycle_carved(&mut self) {
        let next = self.store.carved_filter.next();
        let sus = self.store.suspicious_only;
        self.store.set_toggles(next, sus);
        let what = match next.label() {
            "" => "live and carved".to_string(),
            l => l.to_string(),
        };
        self.say_shown(&what);
    }

    /// `!`: only the rows a triage rule fired on, or all again.
    fn toggle_suspicious(&mut self) {
        let cf = self.store.carved_filter;
        let sus = !self.store.suspicious_only;
        self.store.set_toggles(cf, sus);
        self.say_shown(if sus {
            "suspicious only"
        } else {
            "all rows, suspicious or not"
        });
    }

    /// `A`: mark every record of every row shown.
    fn mark_all_shown(&mut self) {
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

    pub(super) fn update_detail(&mut self, action: Action) {
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
            Action::Back => self.screen = self.detail_return,
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
    pub(super) fn open_timeline(&mut self) {
        let from: Vec<u32> = match self.screen {
            Screen::Detail => self.detail_record().into_iter().collect(),
            Screen::Hex => self.hex_record().into_iter().collect(),
            _ => self.selected_members().to_vec(),
        };
        // The detail pane or the table `T` goes back to (not the hex view: its own Esc).
        self.timeline_return = match self.screen {
            Screen::Detail => Screen::Detail,
            Screen::Timeline => self.timeline_return,
            _ => Screen::Table,
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

    pub(super) fn update_timeline(&mut self, action: Action) {
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
                // Esc from the detail goes back to the timeline when it came from there.
                self.detail_return = if self.screen == Screen::Timeline {
                    Screen::Timeline
                } else {
                    Screen::Table
                };
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
    pub(super) fn clamp_all(&mut self) {
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

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }
}
