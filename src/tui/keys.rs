//! The one binding table: every key the TUI answers, in which context, and what it does.
//!
//! [`action_for`] maps a key event to an [`Action`]; the same table builds the footer hints
//! ([`hints`]), the `?` overlay ([`help_sections`]) and the README key table
//! ([`markdown_table`]), so the three can never disagree with what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Where the keyboard focus is; each binding applies in some of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ctx {
    /// The jobs / files / rows table.
    Table,
    /// The detail pane of one record.
    Detail,
    /// The hex view of one record's bytes.
    Hex,
    /// A line prompt (filter or export path).
    Prompt,
    /// An overlay (help, diagnostics).
    Overlay,
}

impl Ctx {
    pub fn title(self) -> &'static str {
        match self {
            Ctx::Table => "Tables (jobs, files, rows) and the timeline",
            Ctx::Detail => "Detail pane",
            Ctx::Hex => "Hex view",
            Ctx::Prompt => "Prompts (filter, export path, case file, note)",
            Ctx::Overlay => "Help and diagnostics overlays",
        }
    }
}

/// Everything the analyst can ask for. One `App::update` interprets each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    /// Ctrl-C: quit at once, exit status 130 (as a shell reports an interrupted command).
    Interrupt,
    /// Ctrl-L: clear and draw the whole screen again.
    Repaint,
    Help,
    Diagnostics,
    /// Open the host summary.
    Hosts,
    Back,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Top,
    Bottom,
    NextView,
    PrevView,
    OpenDetail,
    OpenHex,
    SortColumnLeft,
    SortColumnRight,
    Sort,
    SortReset,
    Filter,
    CycleCarved,
    ToggleSuspicious,
    Mark,
    MarkAll,
    ClearMarks,
    Export,
    Copy,
    /// `Y`: the whole record in view as JSON (as `e` exports it).
    CopyRecord,
    /// `p` in the detail pane: filter to every row sharing the field's value.
    Pivot,
    /// `a`: the selected record's note and tags.
    Note,
    /// `w`: save the case to a file.
    SaveCase,
    /// `f`: a job's files (from the files table: the file's job).
    JobFiles,
    /// Show the timeline of every job timestamp (or go back to the table from it).
    Timeline,
    /// `z` in the timeline: mark one end of a time range, then the other (the filter holds it).
    Zoom,
    /// `Z` in the timeline: the filter without its time range.
    ZoomOut,
    /// `u`: times in UTC or in the zone asked for (`--tz`, else local).
    ToggleZone,
    Reload,
    PrevVersion,
    NextVersion,
    ToggleSource,
    NextField,
    PrevField,
    /// Scroll the table one column left / right (columns wider than the screen).
    ScrollLeft,
    ScrollRight,
    /// Open the column chooser.
    Columns,
    /// Widen / narrow the chosen column (a width the analyst sets, remembered).
    WidenColumn,
    NarrowColumn,
    /// Every column of the table back to its automatic width.
    AutoWidths,
    /// Column chooser: show or hide the column under the cursor.
    ToggleColumn,
    /// Column chooser: move the column under the cursor up / down the order.
    MoveColumnUp,
    MoveColumnDown,
    /// The export prompt's next format (the path's extension follows).
    CycleFormat,
    // Prompt editing.
    Confirm,
    Cancel,
    ClearLine,
    DeletePrevChar,
    DeleteNextChar,
    DeletePrevWord,
    CursorLeft,
    CursorRight,
    CursorStart,
    CursorEnd,
    /// A character typed into a prompt (not from the table: prompts take any printable key).
    Insert(char),
}

/// A key with modifiers, comparable to a crossterm event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

const fn k(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::NONE,
    }
}
const fn code(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::NONE,
    }
}
const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

impl Key {
    /// How the key is written in hints and help: `j`, `↓`, `Ctrl-U`, `PgDn`.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift-Tab".into(),
            KeyCode::Backspace => "Backspace".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        if self.mods.contains(KeyModifiers::CONTROL) {
            if let KeyCode::Char(c) = self.code {
                return format!("Ctrl-{}", c.to_ascii_uppercase());
            }
            return format!("Ctrl-{base}");
        }
        base
    }

    fn matches(&self, ev: &KeyEvent) -> bool {
        if self.code != ev.code {
            return false;
        }
        // Shift is implied by the character itself ('G', '?', '!'); compare the rest.
        let mods = ev.mods_without_shift();
        mods == self.mods
    }
}

trait ModsWithoutShift {
    fn mods_without_shift(&self) -> KeyModifiers;
}
impl ModsWithoutShift for KeyEvent {
    fn mods_without_shift(&self) -> KeyModifiers {
        match self.code {
            KeyCode::Char(_) | KeyCode::BackTab => self.modifiers - KeyModifiers::SHIFT,
            _ => self.modifiers,
        }
    }
}

/// One row of the binding table.
pub struct Binding {
    pub ctxs: &'static [Ctx],
    pub keys: &'static [Key],
    pub action: Action,
    /// Short word for the footer, or "" to leave the binding out of the footer.
    pub hint: &'static str,
    /// What it does, for `?` and the README.
    pub help: &'static str,
}

use Ctx::{Detail, Hex, Overlay, Prompt, Table};

const ALL_BUT_PROMPT: &[Ctx] = &[Table, Detail, Hex, Overlay];
const VIEWS: &[Ctx] = &[Table, Detail, Hex];
const TABLE: &[Ctx] = &[Table];
const DETAIL_HEX: &[Ctx] = &[Detail, Hex];
const TABLE_DETAIL: &[Ctx] = &[Table, Detail];
const HEX: &[Ctx] = &[Hex];
const PROMPT: &[Ctx] = &[Prompt];

/// The binding table. Order matters twice: the first binding matching a key wins, and hints,
/// help and the README list bindings in this order.
pub const BINDINGS: &[Binding] = &[
    Binding {
        ctxs: &[Table, Detail, Hex, Prompt, Overlay],
        keys: &[ctrl('c')],
        action: Action::Interrupt,
        hint: "",
        help: "quit at once (also while parsing), exit status 130",
    },
    Binding {
        ctxs: &[Table, Detail, Hex, Prompt, Overlay],
        keys: &[ctrl('l')],
        action: Action::Repaint,
        hint: "",
        help: "repaint the whole screen (after other output spilled over it)",
    },
    Binding {
        ctxs: ALL_BUT_PROMPT,
        keys: &[k('q')],
        action: Action::Quit,
        hint: "quit",
        help: "quit",
    },
    Binding {
        ctxs: ALL_BUT_PROMPT,
        keys: &[k('?'), code(KeyCode::F(1))],
        action: Action::Help,
        hint: "help",
        help: "show or hide every key",
    },
    Binding {
        ctxs: &[Overlay],
        keys: &[code(KeyCode::Esc)],
        action: Action::Back,
        hint: "close",
        help: "close the overlay",
    },
    Binding {
        ctxs: &[Overlay],
        keys: &[code(KeyCode::Enter)],
        action: Action::Confirm,
        hint: "",
        help: "close the overlay (host summary: show only the rows of the host under the cursor, host:NAME)",
    },
    Binding {
        ctxs: &[Overlay],
        keys: &[code(KeyCode::Up), k('k')],
        action: Action::Up,
        hint: "",
        help: "scroll up (column chooser, host summary: previous line)",
    },
    Binding {
        ctxs: &[Overlay],
        keys: &[code(KeyCode::Down), k('j')],
        action: Action::Down,
        hint: "",
        help: "scroll down (column chooser, host summary: next line)",
    },
    Binding {
        ctxs: &[Overlay],
        keys: &[k(' ')],
        action: Action::ToggleColumn,
        hint: "",
        help: "column chooser: show or hide the column",
    },
    Binding {
        ctxs: &[Overlay],
        keys: &[k('K')],
        action: Action::MoveColumnUp,
        hint: "",
        help: "column chooser: move the column up (left in the table)",
    },
    Binding {
        ctxs: &[Overlay],
        keys: &[k('J')],
        action: Action::MoveColumnDown,
        hint: "",
        help: "column chooser: move the column down (right in the table)",
    },
    Binding {
        ctxs: VIEWS,
        keys: &[k('W')],
        action: Action::Diagnostics,
        hint: "",
        help: "show diagnostics: evidence size and sha256, parse warnings, timings",
    },
    Binding {
        ctxs: VIEWS,
        keys: &[k('H')],
        action: Action::Hosts,
        hint: "",
        help: "host summary: each host's jobs (carved, event log only, flagged), files and records; Enter shows only that host's rows",
    },
    // --- moving --------------------------------------------------------------------------
    Binding {
        ctxs: VIEWS,
        keys: &[code(KeyCode::Up), k('k')],
        action: Action::Up,
        hint: "",
        help: "move up (detail: the field cursor; hex view: one line up)",
    },
    Binding {
        ctxs: VIEWS,
        keys: &[code(KeyCode::Down), k('j')],
        action: Action::Down,
        hint: "",
        help: "move down (detail: the field cursor; hex view: one line down)",
    },
    Binding {
        ctxs: ALL_BUT_PROMPT,
        keys: &[code(KeyCode::PageUp), ctrl('b')],
        action: Action::PageUp,
        hint: "",
        help: "one page up",
    },
    Binding {
        ctxs: ALL_BUT_PROMPT,
        keys: &[code(KeyCode::PageDown), ctrl('f')],
        action: Action::PageDown,
        hint: "",
        help: "one page down",
    },
    Binding {
        ctxs: ALL_BUT_PROMPT,
        keys: &[code(KeyCode::Home), k('g')],
        action: Action::Top,
        hint: "",
        help: "first row (hex view: start of the record; overlays: top)",
    },
    Binding {
        ctxs: ALL_BUT_PROMPT,
        keys: &[code(KeyCode::End), k('G')],
        action: Action::Bottom,
        hint: "",
        help: "last row (hex view: end of the record; detail and overlays: last page)",
    },
    Binding {
        ctxs: HEX,
        keys: &[code(KeyCode::Left), k('h')],
        action: Action::Left,
        hint: "",
        help: "cursor one byte left",
    },
    Binding {
        ctxs: HEX,
        keys: &[code(KeyCode::Right), k('l')],
        action: Action::Right,
        hint: "",
        help: "cursor one byte right",
    },
    // --- table ---------------------------------------------------------------------------
    Binding {
        ctxs: TABLE,
        keys: &[code(KeyCode::Tab)],
        action: Action::NextView,
        hint: "jobs/files/rows",
        help: "next view: jobs → files → rows (joined BitsInfo) → timeline",
    },
    Binding {
        ctxs: TABLE,
        keys: &[code(KeyCode::BackTab)],
        action: Action::PrevView,
        hint: "",
        help: "previous view",
    },
    Binding {
        ctxs: TABLE,
        keys: &[code(KeyCode::Enter)],
        action: Action::OpenDetail,
        hint: "detail",
        help: "open the detail pane of the selected row",
    },
    Binding {
        ctxs: &[Table, Detail],
        keys: &[k('x')],
        action: Action::OpenHex,
        hint: "hex",
        help: "open the hex view of the record's bytes",
    },
    Binding {
        ctxs: TABLE,
        keys: &[code(KeyCode::Left), k('h')],
        action: Action::SortColumnLeft,
        hint: "",
        help: "choose the column to the left (for sorting)",
    },
    Binding {
        ctxs: TABLE,
        keys: &[code(KeyCode::Right), k('l')],
        action: Action::SortColumnRight,
        hint: "",
        help: "choose the column to the right (for sorting)",
    },
    Binding {
        ctxs: TABLE,
        keys: &[k('<')],
        action: Action::ScrollLeft,
        hint: "",
        help: "scroll the table one column left (◀ in the header: columns lie left)",
    },
    Binding {
        ctxs: TABLE,
        keys: &[k('>')],
        action: Action::ScrollRight,
        hint: "",
        help: "scroll the table one column right (▶ in the header: columns lie right or gave way)",
    },
    Binding {
        ctxs: TABLE,
        keys: &[k('C')],
        action: Action::Columns,
        hint: "",
        help: "column chooser: show, hide and reorder this table's columns",
    },
    Binding {
        ctxs: TABLE,
        keys: &[k('+')],
        action: Action::WidenColumn,
        hint: "",
        help: "widen the chosen column (remembered between runs)",
    },
    Binding {
        ctxs: TABLE,
        keys: &[k('-')],
        action: Action::NarrowColumn,
        hint: "",
        help: "narrow the chosen column",
    },
    Binding {
        ctxs: TABLE,
        keys: &[k('=')],
        action: Action::AutoWidths,
        hint: "",
        help: "every column back to its automatic width (by priority: name, URL, flags and command first)",
    },
    Binding {
        ctxs: TABLE,
        keys: &[k('s')],
        action: Action::Sort,
        hint: "sort",
        help: "sort by the chosen column; again flips ascending/descending",
    },
    Binding {
        ctxs: TABLE,
        keys: &[k('S')],
        action: Action::SortReset,
        hint: "",
        help: "back to evidence order",
    },
    Binding {
        ctxs: TABLE,
        keys: &[k('/')],
        action: Action::Filter,
        hint: "filter",
        help: "filter: fuzzy words; url: cmd: name: path: (fuzzy) ev: owner: id: (whole components) host: (whole name) site: file: 'exact \"phrase\" -not a OR b after: before: flag:cmd has:hidden (? lists them)",
    },
    Binding {
        ctxs: TABLE,
        keys: &[code(KeyCode::Esc)],
        action: Action::Back,
        hint: "",
        help: "after a pivot (p, f): back to the filter, table and record it left; else clear the filter and toggles",
    },
    Binding {
        ctxs: TABLE,
        keys: &[k('c')],
        action: Action::CycleCarved,
        hint: "live/carved",
        help: "show all → live only → carved only",
    },
    Binding {
        ctxs: TABLE,
        keys: &[k('!')],
        action: Action::ToggleSuspicious,
        hint: "suspicious",
        help: "only rows a triage rule fired on: notify command, deleted job with one, IP-address URL or odd port, executable download, hidden or look-alike characters",
    },
    Binding {
        ctxs: TABLE_DETAIL,
        keys: &[k(' ')],
        action: Action::Mark,
        hint: "mark",
        help: "mark or unmark the selected row",
    },
    Binding {
        ctxs: TABLE,
        keys: &[k('A')],
        action: Action::MarkAll,
        hint: "",
        help: "mark every row shown",
    },
    Binding {
        ctxs: TABLE,
        keys: &[k('U')],
        action: Action::ClearMarks,
        hint: "",
        help: "clear all marks",
    },
    Binding {
        ctxs: VIEWS,
        keys: &[k('e')],
        action: Action::Export,
        hint: "export",
        help: "export the marked rows (or the record viewed, or all rows shown) as JSON, JSONL or CSV, as `bitscope parse` writes them, then the triage codes that fired, the note and the tags; in the timeline .jsonl is the timeline's own (parse --format timeline: each time of each record the filter keeps)",
    },
    Binding {
        ctxs: VIEWS,
        keys: &[k('a')],
        action: Action::Note,
        hint: "",
        help: "write a note on the selected record (table: every record of the row); `#word` is a tag; shown in the detail pane, kept in the case, exported",
    },
    Binding {
        ctxs: VIEWS,
        keys: &[k('w')],
        action: Action::SaveCase,
        hint: "",
        help: "save the case (filter, toggles, marks, columns, widths, sorts, notes, tags) to a file you name, never in the evidence folder; `bitscope --case FILE` reopens it",
    },
    Binding {
        ctxs: VIEWS,
        keys: &[k('y')],
        action: Action::Copy,
        hint: "copy",
        help: "copy: in the detail the raw value of the field under the cursor; else the record (or the marked ones) as JSON; system clipboard, else OSC 52",
    },
    Binding {
        ctxs: &[Detail],
        keys: &[k('p')],
        action: Action::Pivot,
        hint: "pivot",
        help: "pivot: filter to every row sharing the value under the cursor (url: its host; id, owner, file name, command, name, path, time); the filter line shows the term; Esc goes back",
    },
    Binding {
        ctxs: TABLE_DETAIL,
        keys: &[k('f')],
        action: Action::JobFiles,
        hint: "",
        help: "the files of the selected job (files table, id: the job); from the files table, the file's job; Esc goes back",
    },
    Binding {
        ctxs: DETAIL_HEX,
        keys: &[k('Y')],
        action: Action::CopyRecord,
        hint: "",
        help: "copy the whole record in view as JSON (as e exports it)",
    },
    Binding {
        ctxs: VIEWS,
        keys: &[k('T')],
        action: Action::Timeline,
        hint: "timeline",
        help: "timeline: every job time (created, modified, completed, expiration) in order, events per day above; Enter opens the record; T again goes back",
    },
    Binding {
        ctxs: TABLE,
        keys: &[k('z')],
        action: Action::Zoom,
        hint: "",
        help: "timeline: zoom to a range: z on one end, z on the other; the filter gains after: and before: (the tables keep the jobs with a time in it)",
    },
    Binding {
        ctxs: TABLE,
        keys: &[k('Z')],
        action: Action::ZoomOut,
        hint: "",
        help: "timeline: zoom out (the filter's after: and before: go, the rest stays)",
    },
    Binding {
        ctxs: VIEWS,
        keys: &[k('u')],
        action: Action::ToggleZone,
        hint: "",
        help: "times in UTC or in the zone of --tz (else this machine's local zone); the header names it; y, exports and the filter's after:/before: stay UTC",
    },
    Binding {
        ctxs: VIEWS,
        keys: &[ctrl('r')],
        action: Action::Reload,
        hint: "",
        help: "reopen the evidence (parse again)",
    },
    // --- detail and hex ------------------------------------------------------------------
    Binding {
        ctxs: DETAIL_HEX,
        keys: &[code(KeyCode::Esc), code(KeyCode::Backspace)],
        action: Action::Back,
        hint: "back",
        help: "back to the previous view",
    },
    Binding {
        ctxs: DETAIL_HEX,
        keys: &[k('[')],
        action: Action::PrevVersion,
        hint: "",
        help: "previous version / member of a grouped row",
    },
    Binding {
        ctxs: DETAIL_HEX,
        keys: &[k(']')],
        action: Action::NextVersion,
        hint: "versions",
        help: "next version / member of a grouped row",
    },
    Binding {
        ctxs: HEX,
        keys: &[k('t')],
        action: Action::ToggleSource,
        hint: "job/file",
        help: "switch between the job record and the file record",
    },
    Binding {
        ctxs: HEX,
        keys: &[k('n'), code(KeyCode::Tab)],
        action: Action::NextField,
        hint: "field",
        help: "cursor to the next annotated field",
    },
    Binding {
        ctxs: HEX,
        keys: &[k('N'), code(KeyCode::BackTab)],
        action: Action::PrevField,
        hint: "",
        help: "cursor to the previous annotated field",
    },
    // --- prompts -------------------------------------------------------------------------
    Binding {
        ctxs: PROMPT,
        keys: &[code(KeyCode::Enter)],
        action: Action::Confirm,
        hint: "apply",
        help: "confirm (apply the filter, write the export)",
    },
    Binding {
        ctxs: PROMPT,
        keys: &[code(KeyCode::Esc)],
        action: Action::Cancel,
        hint: "cancel",
        help: "cancel (the filter goes back to what it was)",
    },
    Binding {
        ctxs: PROMPT,
        keys: &[code(KeyCode::Tab)],
        action: Action::CycleFormat,
        hint: "",
        help: "export: next format, JSON → JSONL → CSV (the extension follows; a typed .json, .jsonl or .csv chooses too)",
    },
    Binding {
        ctxs: PROMPT,
        keys: &[ctrl('u')],
        action: Action::ClearLine,
        hint: "clear",
        help: "clear the line",
    },
    Binding {
        ctxs: PROMPT,
        keys: &[code(KeyCode::Backspace), ctrl('h')],
        action: Action::DeletePrevChar,
        hint: "",
        help: "delete the character before the cursor",
    },
    Binding {
        ctxs: PROMPT,
        keys: &[code(KeyCode::Delete), ctrl('d')],
        action: Action::DeleteNextChar,
        hint: "",
        help: "delete the character under the cursor",
    },
    Binding {
        ctxs: PROMPT,
        keys: &[ctrl('w')],
        action: Action::DeletePrevWord,
        hint: "",
        help: "delete the word before the cursor",
    },
    Binding {
        ctxs: PROMPT,
        keys: &[code(KeyCode::Left), ctrl('b')],
        action: Action::CursorLeft,
        hint: "",
        help: "cursor left",
    },
    Binding {
        ctxs: PROMPT,
        keys: &[code(KeyCode::Right), ctrl('f')],
        action: Action::CursorRight,
        hint: "",
        help: "cursor right",
    },
    Binding {
        ctxs: PROMPT,
        keys: &[code(KeyCode::Home), ctrl('a')],
        action: Action::CursorStart,
        hint: "",
        help: "cursor to the start",
    },
    Binding {
        ctxs: PROMPT,
        keys: &[code(KeyCode::End), ctrl('e')],
        action: Action::CursorEnd,
        hint: "",
        help: "cursor to the end",
    },
];

/// The action for a key event in a context, if any. In a prompt, a printable character with
/// no binding is typed into the line.
pub fn action_for(ctx: Ctx, ev: &KeyEvent) -> Option<Action> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    let found = BINDINGS
        .iter()
        .filter(|b| b.ctxs.contains(&ctx))
        .find(|b| b.keys.iter().any(|key| key.matches(ev)))
        .map(|b| b.action);
    if found.is_some() {
        return found;
    }
    if ctx == Ctx::Prompt {
        if let KeyCode::Char(c) = ev.code {
            let mods = ev.mods_without_shift();
            if mods.is_empty() || mods == KeyModifiers::ALT | KeyModifiers::CONTROL {
                return Some(Action::Insert(c));
            }
        }
    }
    None
}

fn keys_label(keys: &[Key]) -> String {
    keys.iter().map(Key::label).collect::<Vec<_>>().join("/")
}

/// Footer hints for a context: (keys, word) pairs, in table order.
pub fn hints(ctx: Ctx) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for b in BINDINGS.iter().filter(|b| b.ctxs.contains(&ctx)) {
        if b.hint.is_empty() || out.iter().any(|(_, h)| *h == b.hint) {
            continue;
        }
        let first = b.keys.first().map(Key::label).unwrap_or_default();
        out.push((first, b.hint));
    }
    out
}

/// Is a binding shared by every view (table, detail and hex)?
fn is_global(b: &Binding) -> bool {
    [Table, Detail, Hex].iter().all(|c| b.ctxs.contains(c))
}

/// The `?` overlay: the keys of every view first, then one section per context with the
/// rest; each line (keys, what it does).
pub fn help_sections() -> Vec<(&'static str, Vec<(String, &'static str)>)> {
    let mut out = vec![(
        "Everywhere (tables, detail, hex)",
        BINDINGS
            .iter()
            .filter(|b| is_global(b))
            .map(|b| (keys_label(b.keys), b.help))
            .collect(),
    )];
    for ctx in [Table, Detail, Hex, Prompt, Overlay] {
        let rows: Vec<(String, &'static str)> = BINDINGS
            .iter()
            .filter(|b| b.ctxs.contains(&ctx) && !is_global(b))
            .map(|b| (keys_label(b.keys), b.help))
            .collect();
        if !rows.is_empty() {
            out.push((ctx.title(), rows));
        }
    }
    out
}

/// The README key table (Markdown), generated from the same table.
pub fn markdown_table() -> String {
    let mut out = String::from("| keys | where | what |\n|---|---|---|\n");
    for b in BINDINGS {
        let keys = b
            .keys
            .iter()
            .map(|k| format!("`{}`", k.label().replace('|', "\\|")))
            .collect::<Vec<_>>()
            .join(" ");
        let wheres = if b.ctxs.len() == 5 {
            "everywhere".to_string()
        } else {
            b.ctxs
                .iter()
                .map(|c| match c {
                    Table => "table",
                    Detail => "detail",
                    Hex => "hex",
                    Prompt => "prompt",
                    Overlay => "overlay",
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push_str(&format!(
            "| {keys} | {wheres} | {} |\n",
            b.help.replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn lookups() {
        let none = KeyModifiers::NONE;
        assert_eq!(
            action_for(Table, &ev(KeyCode::Char('j'), none)),
            Some(Action::Down)
        );
        assert_eq!(
            action_for(Table, &ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            action_for(Prompt, &ev(KeyCode::Char('q'), none)),
            Some(Action::Insert('q'))
        );
        assert_eq!(
            action_for(Prompt, &ev(KeyCode::Char('u'), KeyModifiers::CONTROL)),
            Some(Action::ClearLine)
        );
        assert_eq!(
            action_for(Prompt, &ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Interrupt)
        );
        assert_eq!(
            action_for(Table, &ev(KeyCode::Char('q'), none)),
            Some(Action::Quit)
        );
    }

    #[test]
    fn no_key_is_bound_twice_in_one_context() {
        for ctx in [Table, Detail, Hex, Prompt, Overlay] {
            let mut seen: Vec<Key> = Vec::new();
            for b in BINDINGS.iter().filter(|b| b.ctxs.contains(&ctx)) {
                for key in b.keys {
                    assert!(!seen.contains(key), "{ctx:?}: {key:?} bound twice");
                    seen.push(*key);
                }
            }
        }
    }
}
