//! The record store and the three views over it (jobs, files, joined rows).
//!
//! Records arrive in batches and are only ever appended. Each view is a list of items (a job,
//! a file, or one BitsInfo row), each item a list of record indices; filtering and sorting
//! produce index lists (`order`, `shown`) into those items, never copies of records.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use crate::bits::model::BitsInfo;
use crate::bits::triage::{self, Finding, Rule};
use crate::bits::tuning::Tuning;

use super::columns::{human_size, owner_label, Col};
use super::display;
use super::layout::ColumnSpec;
use super::matcher::{compile, matches_all, Compiled, Hay};
use super::query::{Field, Query, FIELD_COUNT};
use super::sort::sort_texts;

// ---------------------------------------------------------------------------------------------
// Suspicion: the Flags column's view of the triage rules (`bits::triage`)
// ---------------------------------------------------------------------------------------------

/// The triage rules that fired on one record, as a bit set of [`Rule::bit`] ([`Rec::susp`]);
/// `live_copy`: the store holds a live record of the same job (see [`job_scope`]).
/// `tuning`: the analyst's triage file (severities, allowlist), or the built-in defaults.
pub fn suspicion(r: &BitsInfo, live_copy: bool, tuning: &Tuning) -> u8 {
    triage::rule_bits(&tuning.apply(r, triage::assess_with(r, live_copy)))
}

/// What fired on a record, for the detail pane: the findings its Flags bits were made from
/// (a carved job with a command and no `del` bit had a live copy).
pub fn findings(rec: &Rec, tuning: &Tuning) -> Vec<Finding> {
    let found = triage::assess_with(&rec.info, rec.susp & Rule::DeletedCommand.bit() == 0);
    tuning.apply(&rec.info, found)
}

/// Where a live copy of a job counts: its evidence file, or for a legacy queue its folder,
/// since BITS keeps one queue in the qmgr0.dat/qmgr1.dat pair (a job carved from one file
/// and live in the other is not deleted).
pub fn job_scope(evidence: &str) -> &str {
    let (folder, name) = evidence.rsplit_once(['/', '\\']).unwrap_or(("", evidence));
    let legacy = ["qmgr0.dat", "qmgr1.dat"]
        .iter()
        .any(|q| name.eq_ignore_ascii_case(q));
    if legacy {
        folder
    } else {
        evidence
    }
}

/// A record's job, keyed for live-copy lookups: (scope, job id); `None` without an id.
fn job_key(r: &BitsInfo) -> Option<(String, String)> {
    let evidence = r.job_source.as_ref().map_or("", |s| s.evidence.as_str());
    (!r.job_id.is_empty()).then(|| (job_scope(evidence).to_string(), r.job_id.clone()))
}

/// Short codes for the Flags column: `⚠` for hidden characters, `W` when a record carries
/// decoder warnings (the detail pane lists them), then the codes of the rules that fired;
/// `hid` only when `⚠` is not shown, since both say the same (the detail pane keeps the
/// Hidden finding, which names the field and the character).
pub fn flag_codes(hidden: bool, warned: bool, susp: u8) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if hidden {
        parts.push("⚠");
    }
    if warned {
        parts.push("W");
    }
    for rule in Rule::ALL {
        if susp & rule.bit() != 0 && !(hidden && rule == Rule::Hidden) {
            parts.push(rule.code());
        }
    }
    parts.join(" ")
}

impl Store {
    /// A live record of a job arrived: carved copies of it appended before (from the other
    /// file of a legacy qmgr0/qmgr1 pair; within one file live records come first) are
    /// older versions, not deleted jobs.
    fn clear_deleted_command(&mut self, key: &(String, String)) {
        let Some(carved) = self.deleted_commands.remove(key) else {
            return;
        };
        let del = Rule::DeletedCommand.bit();
        for j in carved {
            if let Some(r) = self.recs.get_mut(j as usize) {
                r.susp &= !del;
            }
            for view in &mut self.views {
                for item in view.items.iter_mut().filter(|it| it.members.contains(&j)) {
                    let members = item.members.iter();
                    item.susp = members.fold(0, |s, &m| s | self.recs[m as usize].susp);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

/// A record with what the views need precomputed once, when it arrives.
#[derive(Debug)]
pub struct Rec {
    pub info: BitsInfo,
    /// Some string of the record holds a control, bidi or invisible character.
    pub hidden: bool,
    pub susp: u8,
    /// How many distinct warnings the decoders attached to the record.
    pub warnings: u32,
    /// Where the record's search text starts in the store's text arena: the lowercased
    /// display forms of the search fields, separated by NUL (which a display form never
    /// holds); and where each field ends, relative to that start. One arena for all records
    /// keeps a filter pass a sequential scan.
    hay_at: usize,
    ends: [u32; FIELD_COUNT],
    /// The times `after:` and `before:` compare ([`super::when::record_times`]).
    times: Box<[u64]>,
}

fn record_has_hidden(r: &BitsInfo) -> bool {
    let h = display::has_hidden;
    Field::ALL.iter().any(|f| h(f.get(r)))
        || h(&r.sddl)
        || h(&r.remote_modified)
        || r.additional_sids.iter().any(|s| h(s))
        || r.missing_fields.iter().any(|s| h(s))
        || r.warnings.iter().any(|s| h(s))
        || r.acls
            .iter()
            .any(|a| h(&a.ace_type) || h(&a.sid) || h(&a.account) || a.flags.iter().any(|s| h(s)))
        || [&r.job_source, &r.file_source]
            .into_iter()
            .flatten()
            .any(|s| {
                h(&s.evidence)
                    || s.container_chain.iter().any(|c| h(c))
                    || h(s.kind.as_str())
                    || h(&s.container)
                    || s.fields.iter().any(|f| h(f.name))
            })
}

/// A record's warnings, each once, in the order they were first given (a warning about a
/// job reaches each of its file rows once, and some decoders repeat one per copy).
pub fn distinct_warnings(r: &BitsInfo) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for w in &r.warnings {
        if !out.contains(&w.as_str()) {
            out.push(w);
        }
    }
    out
}

/// Does this warning earn the record a `W` (and `has:warnings`)? Not a carved job's files
/// not found: a deleted job's file records are usually gone or overwritten, so on win10 51
/// of 115 records said so and the W that should stand out marked half the table (issue 22).
/// The detail pane still lists every warning.
pub fn flags_warning(r: &BitsInfo, w: &str) -> bool {
    !(r.carved
        && (w.contains("listed by the job was not found")
            || w.contains("listed by the job were not found")))
}

/// Append the lowercased display form of `s`.
fn push_search_form(out: &mut String, s: &str) {
    let e = display::escape(s);
    if e.is_ascii() {
        out.extend(e.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        out.extend(e.chars().flat_map(char::to_lowercase));
    }
}

/// `evidence` relative to the folder opened (`root`), or whole when it is not under it.
/// Under it by whole path components: `/case/HOST-A` holds `/case/HOST-A/qmgr.db`, never
/// `/case/HOST-AB/qmgr.db` (which a plain text prefix would cut to `B/qmgr.db`).
fn relative_to<'a>(root: &str, evidence: &'a str) -> &'a str {
    let sep = std::path::is_separator;
    if root.is_empty() {
        return evidence;
    }
    let Some(rest) = evidence.strip_prefix(root) else {
        return evidence;
    };
    // The root ends a component where it ends with a separator (`/`) or the evidence has
    // one right after it.
    if !root.ends_with(sep) && !rest.starts_with(sep) {
        return evidence;
    }
    let rest = rest.trim_start_matches(sep);
    if rest.is_empty() {
        evidence
    } else {
        rest
    }
}

impl Rec {
    /// Precompute a record, appending its search text to `arena`.
    /// `root` is the folder opened: the evidence is searched (`ev:`) as the Evidence column
    /// names it, relative to it, never by the folders above it.
    pub fn new(
        info: BitsInfo,
        arena: &mut String,
        live_copy: bool,
        root: &str,
        tuning: &Tuning,
    ) -> Rec {
        let hay_at = arena.len();
        let mut ends = [0u32; FIELD_COUNT];
        for (i, f) in Field::ALL.iter().enumerate() {
            if i > 0 {
                arena.push('\0');
            }
            if *f != Field::Evidence {
                push_search_form(arena, f.get(&info));
            } else {
                push_search_form(arena, relative_to(root, &info.evidence));
                // Inside an image the store's path tells stores apart: `ev:windows.old`.
                for step in super::origin::chain(&info) {
                    arena.push_str(" > ");
                    push_search_form(arena, step);
                }
            }
            ends[i] = u32::try_from(arena.len() - hay_at).unwrap_or(u32::MAX);
        }
        Rec {
            hidden: record_has_hidden(&info),
            susp: suspicion(&info, live_copy, tuning),
            warnings: distinct_warnings(&info)
                .into_iter()
                .filter(|w| flags_warning(&info, w))
                .count() as u32,
            times: super::when::record_times(&info),
            info,
            hay_at,
            ends,
        }
    }

    /// The record's search text as the matcher reads it.
    pub fn hay<'a>(&'a self, arena: &'a str) -> Hay<'a> {
        let end = self.hay_at + self.ends[FIELD_COUNT - 1] as usize;
        Hay {
            text: arena.get(self.hay_at..end).unwrap_or(""),
            ends: &self.ends,
            hidden: self.hidden,
            warned: self.warnings > 0,
            susp: self.susp,
            times: &self.times,
        }
    }

    /// The lowercased display form of one search field.
    pub fn field_text<'a>(&'a self, arena: &'a str, f: Field) -> &'a str {
        self.hay(arena).field(f)
    }
}

/// Test `recs` against `terms` into `out` (only where `out` is true when `narrow`), on every
/// core for large stores.
fn eval_matches(arena: &str, recs: &[Rec], terms: &[Compiled], out: &mut [bool], narrow: bool) {
    let run = |rs: &[Rec], ms: &mut [bool]| {
        for (m, r) in ms.iter_mut().zip(rs) {
            if !narrow || *m {
                *m = matches_all(terms, &r.hay(arena));
            }
        }
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if recs.len() < 20_000 || threads < 2 {
        run(recs, out);
        return;
    }
    let chunk = recs.len().div_ceil(threads);
    std::thread::scope(|s| {
        for (rs, ms) in recs.chunks(chunk).zip(out.chunks_mut(chunk)) {
            s.spawn(move || run(rs, ms));
        }
    });
}

/// Which rows the live/carved toggle lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CarvedFilter {
    #[default]
    All,
    LiveOnly,
    CarvedOnly,
}

impl CarvedFilter {
    pub fn next(self) -> CarvedFilter {
        match self {
            CarvedFilter::All => CarvedFilter::LiveOnly,
            CarvedFilter::LiveOnly => CarvedFilter::CarvedOnly,
            CarvedFilter::CarvedOnly => CarvedFilter::All,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            CarvedFilter::All => "",
            CarvedFilter::LiveOnly => "live only",
            CarvedFilter::CarvedOnly => "carved only",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViewKind {
    Jobs,
    Files,
    Rows,
}

impl ViewKind {
    pub const ALL: [ViewKind; 3] = [ViewKind::Jobs, ViewKind::Files, ViewKind::Rows];

    pub fn index(self) -> usize {
        match self {
            ViewKind::Jobs => 0,
            ViewKind::Files => 1,
            ViewKind::Rows => 2,
        }
    }
    pub fn title(self) -> &'static str {
        match self {
            ViewKind::Jobs => "Jobs",
            ViewKind::Files => "Files",
            ViewKind::Rows => "Rows",
        }
    }
    pub fn next(self) -> ViewKind {
        ViewKind::ALL[(self.index() + 1) % 3]
    }
    pub fn prev(self) -> ViewKind {
        ViewKind::ALL[(self.index() + 2) % 3]
    }

    pub fn columns(self) -> &'static [Col] {
        match self {
            ViewKind::Jobs => &[
                Col::Mark,
                Col::Flags,
                Col::Kind,
                Col::Host,
                Col::State,
                Col::Created,
                Col::Name,
                Col::Owner,
                Col::Files,
                Col::Command,
                Col::Url,
                Col::Evidence,
                Col::Modified,
                Col::Completed,
                Col::Expiration,
            ],
            ViewKind::Files => &[
                Col::Mark,
                Col::Flags,
                Col::Kind,
                Col::Host,
                Col::Path,
                Col::Url,
                Col::Bytes,
                Col::Name,
                Col::State,
                Col::Created,
                Col::Evidence,
            ],
            ViewKind::Rows => &[
                Col::Mark,
                Col::Flags,
                Col::Kind,
                Col::Host,
                Col::State,
                Col::Created,
                Col::Name,
                Col::Owner,
                Col::Url,
                Col::Path,
                Col::Command,
                Col::Evidence,
            ],
        }
    }
}

/// One row of a view: the records it stands for (in store order; the first represents it).
#[derive(Debug, Clone, Default)]
pub struct Item {
    pub members: Vec<u32>,
    /// The first member, and what the toggles test, kept inline so filtering touches only
    /// the item list.
    rep: u32,
    carved: bool,
    susp: u8,
    /// Distinct copies of the job (jobs view) or file (files view) among the members, or the
    /// carver's version count (rows view).
    pub versions: u32,
    /// Distinct files among the members.
    pub files: u32,
    /// Source offsets seen, to count versions and files.
    seen_versions: Vec<u64>,
    seen_files: Vec<(u64, usize)>,
}

impl Item {
    pub fn rep(&self) -> u32 {
        self.rep
    }
}

/// Grouping key of an item in the jobs or files view.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    evidence: String,
    carved: bool,
    id: String,
    extra: String,
}

/// One view: its items, their sort order, and the filtered list shown.
#[derive(Debug, Default)]
pub struct View {
    pub items: Vec<Item>,
    groups: HashMap<GroupKey, u32>,
    /// Every item, in sort order.
    pub order: Vec<u32>,
    /// The items passing the filter, in sort order: what the table shows.
    pub shown: Vec<u32>,
    /// The sort column and whether it is descending; `None` is evidence order.
    pub sort: Option<(Col, bool)>,
    /// The column chosen for sorting (index into the view's columns).
    pub col_cursor: usize,
    /// The columns the analyst chose (column chooser): every column the view offers but the
    /// mark column, in order, shown or not; `None` keeps the view's own.
    pub chosen: Option<Vec<(Col, bool)>>,
    /// Horizontal scroll: how many of the columns shown (the mark column aside) lie off
    /// screen to the left.
    pub first_col: usize,
    /// Per column ([`Col::index`]): the cells its widest value needs, over every item.
    pub naturals: [u16; Col::COUNT],
    /// The widest Evidence cell with its middle elided (host folder or image, `…`, file
    /// name): the Evidence column is never narrower than this (up to 40 cells).
    pub evidence_head: u16,
    /// Per column: the width the analyst set (`+`, `-`); 0 leaves it to the layout.
    pub widths: [u16; Col::COUNT],
    /// The last ascending order computed: (column, item count then, order).
    asc_cache: Option<(Col, usize, Vec<u32>)>,
    /// Selected position in `shown`, and the first row on screen.
    pub sel: usize,
    pub offset: usize,
}

impl View {
    pub fn selected_item(&self) -> Option<u32> {
        self.shown.get(self.sel).copied()
    }
}

/// The mark column stays first and on; the chooser orders and hides the others.
impl Store {
    /// The columns a view shows, in order: the mark column, then those chosen. The Host
    /// column only once records of two hosts are in: one name repeated on every row says
    /// nothing the header's path does not, and takes the room of a column that does (the
    /// host summary, `H`, still names it).
    pub fn columns(&self, k: ViewKind) -> Vec<Col> {
        let many = self.many_hosts();
        let mut out = vec![Col::Mark];
        out.extend(
            self.column_choice(k)
                .into_iter()
                .filter(|&(c, on)| on && (c != Col::Host || many))
                .map(|(c, _)| c),
        );
        out
    }

    /// Do the records come from more than one host?
    pub fn many_hosts(&self) -> bool {
        self.hosts.len() > 1
    }

    /// What the layout needs of each column a view shows ([`Store::columns`]): its minimum,
    /// the width its widest value needs, priority; a width the analyst set fixes all three.
    pub fn column_specs(&self, k: ViewKind, cols: &[Col]) -> Vec<ColumnSpec> {
        let v = self.view(k);
        cols.iter()
            .map(|&c| {
                let title = display::width(c.title()) as u16 + 1;
                let natural = c
                    .fixed_width()
                    .unwrap_or_else(|| v.naturals[c.index()].max(title))
                    .max(c.min_width());
                let set = v.widths[c.index()];
                // The Evidence column keeps the host (or image) and the file name whole.
                // The flags are the finding: whole, as far as a comfortable width goes.
                let min = match c {
                    Col::Evidence => c.min_width().max(v.evidence_head.min(40)),
                    Col::Flags => c.min_width().max(natural.min(c.comfortable())),
                    _ => c.min_width(),
                };
                let (min, natural) = if set > 0 {
                    (set, set)
                } else {
                    (min, natural.max(min))
                };
                // A column no item has a value in gives way before any other (the flags and
                // the kind say something even when blank).
                let empty = c.fixed_width().is_none()
                    && !matches!(c, Col::Flags | Col::Kind)
                    && v.naturals[c.index()] == 0
                    && set == 0;
                ColumnSpec {
                    min,
                    natural,
                    comfortable: natural.min(c.comfortable()).max(min),
                    priority: if empty { 1 } else { c.priority() },
                    key: !empty && c.priority() >= Col::KEY_PRIORITY && c != Col::Mark,
                    pinned: c == Col::Mark,
                }
            })
            .collect()
    }

    /// Every column a view offers but the mark column, in the chosen order, shown or not.
    pub fn column_choice(&self, k: ViewKind) -> Vec<(Col, bool)> {
        match &self.view(k).chosen {
            Some(c) => c.clone(),
            None => k
                .columns()
                .iter()
                .filter(|&&c| c != Col::Mark)
                .map(|&c| (c, true))
                .collect(),
        }
    }

    /// Apply a new column choice, keeping the sort cursor on the column it was on (or the
    /// first) and the horizontal scroll within the columns shown. At least one column
    /// stays shown: a choice hiding every one is refused (false).
    pub fn set_column_choice(&mut self, k: ViewKind, choice: Vec<(Col, bool)>) -> bool {
        if !choice.iter().any(|&(_, on)| on) {
            return false;
        }
        let before = self.columns(k);
        let at = before.get(self.view(k).col_cursor).copied();
        self.view_mut(k).chosen = Some(choice);
        let after = self.columns(k);
        let v = self.view_mut(k);
        v.col_cursor = at
            .and_then(|c| after.iter().position(|&x| x == c))
            .unwrap_or(0);
        v.first_col = v.first_col.min(after.len().saturating_sub(2));
        true
    }
}

/// The records and the three views.
#[derive(Debug, Default)]
pub struct Store {
    pub recs: Vec<Rec>,
    /// The search text of every record (see [`Rec`]).
    arena: String,
    pub views: [View; 3],
    /// Per record: does it pass the filter query.
    rec_match: Vec<bool>,
    pub marks: Vec<bool>,
    pub mark_count: usize,
    pub query: Query,
    compiled: Vec<Compiled>,
    pub carved_filter: CarvedFilter,
    pub suspicious_only: bool,
    pub live_count: usize,
    pub carved_count: usize,
    /// The jobs with a live record, by [`job_key`].
    live_jobs: HashSet<(String, String)>,
    /// Carved records flagged `del`, by [`job_key`], until a live copy arrives.
    deleted_commands: HashMap<(String, String), Vec<u32>>,
    /// The folder evidence paths are shown relative to (the opened folder, or the opened
    /// file's own folder).
    pub root: String,
    /// Records by host (the `host` the pipeline named each with).
    hosts: HashMap<String, u32>,
    /// The analyst's notes and tags, by record key (kept over a reload).
    pub notes: super::notes::Notes,
    /// The zone the time cells are shown in (the records keep UTC).
    pub zone: super::zone::Zone,
    /// The analyst's triage file (`--triage`); `None`: the built-in defaults.
    pub triage: Option<&'static Tuning>,
}

impl Store {
    /// An empty store showing times in `zone`.
    pub fn in_zone(zone: super::zone::Zone) -> Store {
        Store {
            zone,
            ..Store::default()
        }
    }

    /// The triage tuning the flags are made with.
    pub fn tuning(&self) -> &'static Tuning {
        self.triage.unwrap_or_else(Tuning::builtin)
    }

    /// An empty store showing times in `zone`, flagging with `triage` (`None`: the defaults).
    pub fn tuned(zone: super::zone::Zone, triage: Option<&'static Tuning>) -> Store {
        Store {
            zone,
            triage,
            ..Store::default()
        }
    }

    pub fn rec(&self, i: u32) -> &Rec {
        &self.recs[i as usize]
    }

    pub fn view(&self, k: ViewKind) -> &View {
        &self.views[k.index()]
    }
    pub fn view_mut(&mut self, k: ViewKind) -> &mut View {
        &mut self.views[k.index()]
    }

    /// A record's name across runs ([`super::notes::record_key`]).
    pub fn key_of(&self, i: u32) -> String {
        let r = &self.rec(i).info;
        super::notes::record_key(self.evidence_label(&r.evidence), r)
    }

    /// The note and tags of record `i`, when it has some.
    pub fn note_of(&self, i: u32) -> Option<&super::notes::Annotation> {
        if self.notes.is_empty() {
            return None;
        }
        self.notes.get(&self.key_of(i))
    }

    /// An evidence path as the Evidence column shows it: relative to [`Store::root`].
    pub fn evidence_label<'a>(&self, evidence: &'a str) -> &'a str {
        relative_to(&self.root, evidence)
    }

    pub fn clear(&mut self) {
        let query = std::mem::take(&mut self.query);
        let (cf, so) = (self.carved_filter, self.suspicious_only);
        let notes = std::mem::take(&mut self.notes);
        type Kept = (
            Option<(Col, bool)>,
            usize,
            Option<Vec<(Col, bool)>>,
            usize,
            [u16; Col::COUNT],
        );
        let kept: Vec<Kept> = self
            .views
            .iter_mut()
            .map(|v| (v.sort, v.col_cursor, v.chosen.take(), v.first_col, v.widths))
            .collect();
        let (zone, triage) = (self.zone, self.triage);
        *self = Store::default();
        self.zone = zone;
        self.triage = triage;
        self.compiled = compile(&query);
        self.query = query;
        self.carved_filter = cf;
        self.suspicious_only = so;
        self.notes = notes;
        for (v, (sort, cc, chosen, first, widths)) in self.views.iter_mut().zip(kept) {
            v.sort = sort;
            v.col_cursor = cc;
            v.chosen = chosen;
            v.first_col = first;
            v.widths = widths;
        }
    }

    pub fn item_marked(&self, item: &Item) -> bool {
        !item.members.is_empty()
            && item
                .members
                .iter()
                .all(|&m| self.marks.get(m as usize).copied().unwrap_or(false))
    }

    /// Append a batch of records: precompute, group into items, filter and sort.
    pub fn append(&mut self, batch: Vec<BitsInfo>) {
        let first = self.recs.len();
        let many_before = self.many_hosts();
        for info in batch {
            if info.carved {
                self.carved_count += 1;
            } else {
                self.live_count += 1;
            }
            match self.hosts.get_mut(&info.host) {
                Some(n) => *n += 1,
                None => {
                    self.hosts.insert(info.host.clone(), 1);
                }
            }
            let key = job_key(&info);
            let live_copy = key.as_ref().is_some_and(|k| self.live_jobs.contains(k));
            let carved = info.carved;
            let tuning = self.tuning();
            let rec = Rec::new(info, &mut self.arena, live_copy, &self.root, tuning);
            if let Some(k) = key {
                if !carved {
                    self.clear_deleted_command(&k);
                    self.live_jobs.insert(k);
                } else if rec.susp & Rule::DeletedCommand.bit() != 0 {
                    let at = u32::try_from(self.recs.len()).unwrap_or(u32::MAX);
                    self.deleted_commands.entry(k).or_default().push(at);
                }
            }
            self.rec_match
                .push(matches_all(&self.compiled, &rec.hay(&self.arena)));
            self.recs.push(rec);
            self.marks.push(false);
        }
        let mut touched: [Vec<u32>; 3] = Default::default();
        for i in first..self.recs.len() {
            let i = i as u32;
            touched[0].extend(self.group(ViewKind::Jobs, i));
            touched[1].extend(self.group(ViewKind::Files, i));
            touched[2].push(self.views[2].items.len() as u32);
            let versions = self.rec(i).info.versions.max(1);
            let (carved, susp) = (self.rec(i).info.carved, self.rec(i).susp);
            self.views[2].items.push(Item {
                members: vec![i],
                rep: i,
                carved,
                susp,
                versions,
                files: u32::from(self.rec(i).info.file_source.is_some()),
                ..Item::default()
            });
        }
        for (k, mut items) in ViewKind::ALL.into_iter().zip(touched) {
            items.sort_unstable();
            items.dedup();
            self.grow_naturals(k, &items);
            self.resort(k);
        }
        if !many_before && self.many_hosts() {
            self.host_column_appeared();
        }
    }

    /// The second host's records came in and the Host column with them: the sort cursor
    /// and the horizontal scroll stay on the columns they were on.
    fn host_column_appeared(&mut self) {
        for k in ViewKind::ALL {
            let Some(at) = self.columns(k).iter().position(|&c| c == Col::Host) else {
                continue;
            };
            let v = self.view_mut(k);
            if v.col_cursor >= at {
                v.col_cursor += 1;
            }
            // Off screen to the left lie the columns after the mark column up to
            // `first_col`: the new one among them is too.
            if at <= v.first_col {
                v.first_col += 1;
            }
        }
    }

    /// Widen the view's natural column widths to what these items' cells need.
    fn grow_naturals(&mut self, k: ViewKind, items: &[u32]) {
        let mut naturals = self.views[k.index()].naturals;
        let mut head = self.views[k.index()].evidence_head;
        for &i in items {
            let Some(item) = self.views[k.index()].items.get(i as usize) else {
                continue;
            };
            for col in k.columns() {
                let w = self.content_width(*col, item);
                let slot = &mut naturals[col.index()];
                *slot = (*slot).max(w);
            }
            head = head.max(self.evidence_head_width(item));
        }
        self.views[k.index()].naturals = naturals;
        self.views[k.index()].evidence_head = head;
    }

    /// The cells an item's Evidence text needs with its middle elided: its first component
    /// (the host folder, the image or file name) with its separator, `…`, and its last (the
    /// file name, `qmgr0.dat` or `qmgr1.dat`, with ` (deleted)`); the whole text when it has
    /// no separator.
    fn evidence_head_width(&self, item: &Item) -> u16 {
        let raw = self.cell_text(Col::Evidence, item);
        let text = display::escape(&raw);
        let is_sep = |c: char| matches!(c, '/' | '\\' | '›');
        let first = text.char_indices().find(|&(_, c)| is_sep(c));
        let last = text.char_indices().rfind(|&(_, c)| is_sep(c));
        let w = match (first, last) {
            (Some((i, c)), Some((j, _))) if i < j => {
                let head = text.get(..i + c.len_utf8()).unwrap_or("");
                // The tail keeps its separator (`HOST/…/qmgr.db`).
                let tail = text.get(j..).unwrap_or("");
                display::width(head) + 1 + display::width(tail)
            }
            _ => display::width(&text),
        };
        u16::try_from(w.min(1000)).unwrap_or(1000)
    }

    /// The cells an item's value needs in a column, as drawn (escaped; at most 1,000).
    fn content_width(&self, col: Col, item: &Item) -> u16 {
        let text = match col {
            Col::Flags => {
                let (hidden, warned, susp) = self.item_flags(item);
                flag_codes(hidden, warned, susp)
            }
            _ => self.cell_text(col, item),
        };
        let w = display::width(&display::escape(&text)).min(1000);
        u16::try_from(w).unwrap_or(1000)
    }

    /// The item (index into the view's items) record `i` joined, if any.
    fn group(&mut self, kind: ViewKind, i: u32) -> Option<u32> {
        let r = &self.recs[i as usize].info;
        let (source, id) = match kind {
            ViewKind::Jobs => (&r.job_source, &r.job_id),
            _ => (&r.file_source, &r.file_id),
        };
        if source.is_none() && id.is_empty() {
            return None;
        }
        let off = source.as_ref().map(|s| s.offset).unwrap_or(u64::MAX);
        let evidence = source
            .as_ref()
            .map(super::origin::store_key)
            .unwrap_or_default();
        let key = GroupKey {
            evidence,
            carved: r.carved,
            id: if id.is_empty() {
                format!("@{off}")
            } else {
                id.clone()
            },
            extra: match kind {
                // Legacy inline files share their job's source: tell them apart by content.
                ViewKind::Files if r.file_id.is_empty() => {
                    format!("{}\0{}", r.url, r.full_path)
                }
                _ => String::new(),
            },
        };
        let file_key = r
            .file_source
            .as_ref()
            .map(|s| (s.offset, r.url.len() ^ r.full_path.len()));
        let view = &mut self.views[kind.index()];
        let idx = match view.groups.get(&key) {
            Some(&idx) => idx,
            None => {
                let idx = view.items.len() as u32;
                view.items.push(Item::default());
                view.groups.insert(key, idx);
                idx
            }
        };
        let susp = self.recs[i as usize].susp;
        let carved = self.recs[i as usize].info.carved;
        let view = &mut self.views[kind.index()];
        let item = &mut view.items[idx as usize];
        if item.members.is_empty() {
            item.rep = i;
            item.carved = carved;
        }
        item.susp |= susp;
        item.members.push(i);
        if !item.seen_versions.contains(&off) {
            item.seen_versions.push(off);
        }
        item.versions = item.seen_versions.len() as u32;
        if let Some(fk) = file_key {
            if !item.seen_files.contains(&fk) {
                item.seen_files.push(fk);
            }
        }
        item.files = item.seen_files.len() as u32;
        Some(idx)
    }

    /// Does an item pass the filter and the toggles?
    fn item_passes(&self, item: &Item) -> bool {
        match self.carved_filter {
            CarvedFilter::LiveOnly if item.carved => return false,
            CarvedFilter::CarvedOnly if !item.carved => return false,
            _ => {}
        }
        if self.suspicious_only && item.susp == 0 {
            return false;
        }
        let hit = |m: u32| self.rec_match.get(m as usize).copied().unwrap_or(false);
        if item.members.len() == 1 {
            return hit(item.rep);
        }
        item.members.iter().any(|&m| hit(m))
    }

    /// Does one record pass the filter and the toggles? (The timeline filters records, not
    /// rows.)
    pub fn record_passes(&self, rec: u32) -> bool {
        let Some(r) = self.recs.get(rec as usize) else {
            return false;
        };
        let carved_ok = match self.carved_filter {
            CarvedFilter::LiveOnly => !r.info.carved,
            CarvedFilter::CarvedOnly => r.info.carved,
            CarvedFilter::All => true,
        };
        carved_ok
            && (!self.suspicious_only || r.susp != 0)
            && self.rec_match.get(rec as usize).copied().unwrap_or(false)
    }

    /// Recompute `shown` for every view from the per-record matches, keeping selections.
    fn refilter_views(&mut self) {
        for k in ViewKind::ALL {
            self.refilter(k);
        }
    }

    fn refilter(&mut self, k: ViewKind) {
        let v = &self.views[k.index()];
        let keep = v.selected_item();
        let shown: Vec<u32> = v
            .order
            .iter()
            .copied()
            .filter(|&i| self.item_passes(&v.items[i as usize]))
            .collect();
        let v = &mut self.views[k.index()];
        v.shown = shown;
        if let Some(item) = keep {
            if let Some(pos) = v.shown.iter().position(|&i| i == item) {
                v.sel = pos;
                return;
            }
        }
        v.sel = v.sel.min(v.shown.len().saturating_sub(1));
    }

    /// Sort a view's items by its sort column, then refilter. Ties keep evidence order in
    /// both directions. The ascending order of the last string column is kept, so flipping
    /// the direction costs a reversal, not a sort.
    pub fn resort(&mut self, k: ViewKind) {
        let view = &self.views[k.index()];
        let n = view.items.len();
        let order: Vec<u32> = match view.sort {
            None => (0..n as u32).collect(),
            Some((col, desc)) => {
                let cached = view
                    .asc_cache
                    .as_ref()
                    .filter(|(c, len, _)| *c == col && *len == n && col.cacheable())
                    .map(|(_, _, o)| o.clone());
                let asc = match cached {
                    Some(o) => o,
                    None => self.sorted_ascending(k, col),
                };
                let order = if desc {
                    self.reversed_keeping_ties(k, col, &asc)
                } else {
                    asc.clone()
                };
                self.views[k.index()].asc_cache = Some((col, n, asc));
                order
            }
        };
        self.views[k.index()].order = order;
        self.refilter(k);
    }

    fn sorted_ascending(&self, k: ViewKind, col: Col) -> Vec<u32> {
        let items = &self.views[k.index()].items;
        // A column's keys are all text (radix-sorted) or all numbers.
        let mut texts: Vec<(&str, &str)> = Vec::new();
        let mut numbers: Vec<(u128, u32)> = Vec::new();
        for (i, it) in (0u32..).zip(items) {
            match self.sort_key(col, it) {
                SortKey::Text(a, b) => texts.push((a, b)),
                SortKey::Number(n) => numbers.push((n, i)),
            }
        }
        if numbers.is_empty() {
            return sort_texts(&texts);
        }
        numbers.sort_unstable();
        numbers.into_iter().map(|(_, i)| i).collect()
    }

    /// `asc` reversed, with each run of equal keys back in evidence order.
    fn reversed_keeping_ties(&self, k: ViewKind, col: Col, asc: &[u32]) -> Vec<u32> {
        let items = &self.views[k.index()].items;
        let mut out: Vec<u32> = Vec::with_capacity(asc.len());
        let mut end = asc.len();
        while end > 0 {
            let mut start = end - 1;
            while start > 0
                && self.cmp_items(
                    col,
                    &items[asc[start - 1] as usize],
                    &items[asc[end - 1] as usize],
                ) == Ordering::Equal
            {
                start -= 1;
            }
            out.extend_from_slice(&asc[start..end]);
            end = start;
        }
        out
    }

    /// Apply a new filter query. When it only narrows the previous one, only the records that
    /// matched before are tested again.
    pub fn set_query(&mut self, q: Query) {
        if q == self.query {
            return;
        }
        let narrow = q.narrows(&self.query);
        self.compiled = compile(&q);
        eval_matches(
            &self.arena,
            &self.recs,
            &self.compiled,
            &mut self.rec_match,
            narrow,
        );
        self.query = q;
        self.refilter_views();
    }

    pub fn set_toggles(&mut self, carved: CarvedFilter, suspicious_only: bool) {
        self.carved_filter = carved;
        self.suspicious_only = suspicious_only;
        self.refilter_views();
    }

    /// Mark or unmark every record of an item (marks all when not all are marked).
    pub fn toggle_mark(&mut self, k: ViewKind, item: u32) {
        let Some(it) = self.views[k.index()].items.get(item as usize) else {
            return;
        };
        let on = !self.item_marked(it);
        let members = it.members.clone();
        for m in members {
            self.set_mark(m, on);
        }
    }

    pub fn set_mark(&mut self, rec: u32, on: bool) {
        if let Some(slot) = self.marks.get_mut(rec as usize) {
            if *slot != on {
                *slot = on;
                if on {
                    self.mark_count += 1;
                } else {
                    self.mark_count -= 1;
                }
            }
        }
    }

    pub fn clear_marks(&mut self) {
        self.marks.iter_mut().for_each(|m| *m = false);
        self.mark_count = 0;
    }

    /// The records to export or copy: the marked ones, else those of the shown items of a
    /// view; in evidence order, each once.
    pub fn export_set(&self, k: ViewKind) -> Vec<u32> {
        if self.mark_count > 0 {
            return (0..self.recs.len() as u32)
                .filter(|&i| self.marks[i as usize])
                .collect();
        }
        let mut take = vec![false; self.recs.len()];
        let v = self.view(k);
        for &i in &v.shown {
            for &m in &v.items[i as usize].members {
                take[m as usize] = true;
            }
        }
        (0..self.recs.len() as u32)
            .filter(|&i| take[i as usize])
            .collect()
    }

    /// Is the item hiding characters, warned about or suspicious in any member?
    /// (hidden, warned, suspicion bits)
    pub fn item_flags(&self, item: &Item) -> (bool, bool, u8) {
        item.members
            .iter()
            .fold((false, false, 0u8), |(h, w, s), &m| {
                let r = self.rec(m);
                (h || r.hidden, w || r.warnings > 0, s | r.susp)
            })
    }

    /// (records carrying warnings, distinct warnings over them).
    pub fn warning_counts(&self) -> (usize, usize) {
        self.recs
            .iter()
            .filter(|r| r.warnings > 0)
            .fold((0, 0), |(n, w), r| (n + 1, w + r.warnings as usize))
    }
}

/// What the columns show and sort by, for an item of this store.
impl Store {
    /// The raw (unescaped) text of a column for an item.
    pub fn cell_text(&self, col: Col, item: &Item) -> String {
        let r = &self.rec(item.rep()).info;
        if col
            .field()
            .is_some_and(|f| super::display::is_unknown(r, f))
        {
            return super::display::UNKNOWN.to_string();
        }
        match col {
            Col::Mark | Col::Flags => String::new(),
            Col::Kind => {
                let kind = if r.carved { "carved" } else { "live" };
                if item.versions > 1 {
                    format!("{kind} ×{}", item.versions)
                } else {
                    kind.to_string()
                }
            }
            Col::State => r.job_state.clone(),
            Col::Created => self.zone.cell(&r.created),
            Col::Modified => self.zone.cell(&r.modified),
            Col::Completed => self.zone.cell(&r.completed),
            Col::Expiration => self.zone.cell(&r.expiration),
            Col::Name => r.job_name.clone(),
            Col::Owner => owner_label(r).to_string(),
            Col::Files => item.files.to_string(),
            Col::Command => {
                if r.job_arguments.is_empty() {
                    r.job_command.clone()
                } else {
                    format!("{} {}", r.job_command, r.job_arguments)
                }
            }
            Col::Url => r.url.clone(),
            Col::Host => r.host.clone(),
            Col::Evidence => super::origin::evidence_text(self.evidence_label(&r.evidence), r),
            Col::Path => {
                if r.full_path.is_empty() {
                    r.filename.clone()
                } else {
                    r.full_path.clone()
                }
            }
            Col::Bytes => {
                if r.bytes_transferred == u64::MAX || r.bytes_transferred == 0 {
                    format!("{} of ?", human_size(r.bytes_downloaded))
                } else {
                    let pct = (u128::from(r.bytes_downloaded) * 100
                        / u128::from(r.bytes_transferred))
                    .min(999);
                    format!("{pct}% of {}", human_size(r.bytes_transferred))
                }
            }
        }
    }

    /// What an item sorts by in a column: the one order of the table, used both to sort
    /// ([`Store::resort`]) and to find runs of equal keys when the direction flips.
    fn sort_key<'a>(&'a self, col: Col, item: &Item) -> SortKey<'a> {
        let r = self.rec(item.rep());
        let i = &r.info;
        let text = |a: &'a str, b: &'a str| SortKey::Text(a, b);
        match col {
            Col::State => text(&i.job_state, ""),
            Col::Created => text(&i.created, ""),
            Col::Modified => text(&i.modified, ""),
            Col::Completed => text(&i.completed, ""),
            Col::Expiration => text(&i.expiration, ""),
            Col::Name => text(&i.job_name, ""),
            Col::Owner => text(owner_label(i), ""),
            Col::Command => text(&i.job_command, &i.job_arguments),
            Col::Url => text(&i.url, ""),
            Col::Path => text(&i.full_path, &i.filename),
            Col::Evidence => text(&i.evidence, ""),
            Col::Host => text(&i.host, ""),
            Col::Mark => SortKey::Number(u128::from(self.item_marked(item))),
            // Hidden characters first, then how many rules fired, which, and the warnings.
            Col::Flags => SortKey::Number(
                (u128::from(r.hidden) << 48)
                    | (u128::from(r.susp.count_ones()) << 40)
                    | (u128::from(r.susp) << 32)
                    | u128::from(r.warnings),
            ),
            Col::Kind => SortKey::Number((u128::from(i.carved) << 32) | u128::from(item.versions)),
            Col::Files => SortKey::Number(u128::from(item.files)),
            Col::Bytes => SortKey::Number(
                (u128::from(i.bytes_downloaded) << 64) | u128::from(i.bytes_transferred),
            ),
        }
    }

    fn cmp_items(&self, col: Col, a: &Item, b: &Item) -> Ordering {
        self.sort_key(col, a).cmp(&self.sort_key(col, b))
    }
}

/// A sort key: text in two parts (a column of two fields compares the first, then the
/// second) or a number packing a column's several values most significant first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey<'a> {
    Text(&'a str, &'a str),
    Number(u128),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::matcher::term_positions;

    #[test]
    fn identifiers_match_by_prefix_and_highlight_what_matched() {
        let mut arena = String::new();
        let sys = Rec::new(
            BitsInfo {
                owner_sid: "S-1-5-18".into(),
                job_id: "{4F2C1A0B-0000-0000-0000-000000000001}".into(),
                ..BitsInfo::default()
            },
            &mut arena,
            false,
            "",
            Tuning::builtin(),
        );
        let user = Rec::new(
            BitsInfo {
                owner_sid: "S-1-5-21-1-2-3-1001".into(),
                job_name: "s 1 5 18 fuzzy bait".into(),
                ..BitsInfo::default()
            },
            &mut arena,
            false,
            "",
            Tuning::builtin(),
        );
        let hit = |q: &str, r: &Rec| matches_all(&compile(&Query::parse(q)), &r.hay(&arena));
        assert!(hit("owner:S-1-5-18", &sys));
        assert!(!hit("owner:S-1-5-18", &user));
        assert!(hit("owner:s-1-5-21", &user));
        assert!(hit("-owner:S-1-5-18", &user));
        assert!(!hit("-owner:S-1-5-18", &sys));
        assert!(hit("id:4f2c1a0b", &sys) && hit("{4f2c1a0b-0000", &sys));
        assert!(!hit("id:2c1a0b00", &sys));
        // Highlight: the same rules light the same letters.
        let t = |q: &str| Query::parse(q).terms.remove(0);
        let id = [Field::JobId];
        assert_eq!(
            term_positions("{4F2C1A0B-0000…", &t("4f2c1a0b"), &id),
            Some((1..9).collect())
        );
        assert_eq!(
            term_positions("MozillaUpdate", &t("mzup"), &[Field::Name]),
            Some(vec![0, 2, 7, 8])
        );
        assert_eq!(
            term_positions("MozillaUpdate", &t("-moz"), &[Field::Name]),
            None
        );
        assert_eq!(
            term_positions("a two words b", &t("\"two words\""), &[Field::Name]),
            Some((2..11).collect())
        );
    }

    #[test]
    fn suspicion_is_the_triage_rules_and_del_only_without_a_live_copy() {
        let cmd = |carved: bool| BitsInfo {
            job_id: "{J}".into(),
            job_command: r"C:\Windows\System32\cmd.exe".into(),
            url: "http://10.0.0.5:8080/a.ps1".into(),
            owner_sid: "S-1-5-21-1-2-3-1001".into(),
            carved,
            ..BitsInfo::default()
        };
        let all = Rule::Command.bit() | Rule::RawIp.bit() | Rule::OddPort.bit();
        let exe = Rule::Executable.bit();
        assert_eq!(suspicion(&cmd(false), false, Tuning::builtin()), all | exe);
        assert_eq!(
            flag_codes(
                false,
                true,
                suspicion(&cmd(false), false, Tuning::builtin())
            ),
            "W cmd ip port exe"
        );
        // A user-owned updater is not suspicious for its owner.
        let updater = BitsInfo {
            url: "https://download.mozilla.org/update.mar".into(),
            owner_sid: "S-1-5-21-1-2-3-1001".into(),
            ..BitsInfo::default()
        };
        assert_eq!(suspicion(&updater, false, Tuning::builtin()), 0);
        // Carved alone: a deleted persistence job. Carved beside its live job: not.
        let del = Rule::DeletedCommand.bit();
        let mut alone = Store::default();
        alone.append(vec![cmd(true)]);
        assert_eq!(alone.rec(0).susp, all | exe | del);
        assert!(findings(alone.rec(0), Tuning::builtin())
            .iter()
            .any(|f| f.rule == Rule::DeletedCommand));
        let mut both = Store::default();
        both.append(vec![cmd(false), cmd(true)]);
        assert_eq!(both.rec(1).susp, all | exe);
        let shown: Vec<Rule> = findings(both.rec(1), Tuning::builtin())
            .iter()
            .map(|f| f.rule)
            .collect();
        assert_eq!(
            shown,
            [Rule::Command, Rule::RawIp, Rule::OddPort, Rule::Executable]
        );
    }

    #[test]
    fn a_live_copy_counts_in_the_same_file_or_the_same_legacy_folder() {
        use crate::bits::model::Source;
        let job = |evidence: &str, carved: bool| BitsInfo {
            job_id: "{J}".into(),
            job_command: "cmd.exe".into(),
            carved,
            job_source: Some(Source {
                evidence: evidence.into(),
                ..Source::default()
            }),
            ..BitsInfo::default()
        };
        let del = Rule::DeletedCommand.bit();
        let cmd = Rule::Command.bit();
        // Carved from qmgr0.dat first, live in qmgr1.dat of the same folder later (the
        // pipeline goes file by file): the carved copy is an older version after all.
        let mut pair = Store::default();
        pair.append(vec![job(r"C:\q\qmgr0.dat", true)]);
        assert_eq!(pair.rec(0).susp, cmd | del);
        assert_eq!(pair.views[2].items[0].susp, cmd | del);
        pair.append(vec![job(r"C:\q\QMGR1.DAT", false)]);
        assert_eq!(pair.rec(0).susp, cmd);
        assert_eq!(
            pair.views[2].items[0].susp, cmd,
            "the item follows its record"
        );
        assert!(findings(pair.rec(0), Tuning::builtin())
            .iter()
            .all(|f| f.rule != Rule::DeletedCommand));
        // Live in another folder, or in another qmgr.db: still deleted here.
        let mut apart = Store::default();
        apart.append(vec![
            job(r"C:\a\qmgr1.dat", false),
            job(r"C:\b\qmgr0.dat", true),
        ]);
        apart.append(vec![
            job(r"C:\a\qmgr.db", false),
            job(r"C:\c\qmgr.db", true),
        ]);
        assert_eq!(apart.rec(1).susp, cmd | del);
        assert_eq!(apart.rec(3).susp, cmd | del);
        assert_eq!(job_scope(r"C:\q\qmgr0.dat"), r"C:\q");
        assert_eq!(job_scope("/e/qmgr.db"), "/e/qmgr.db");
    }

    #[test]
    fn every_column_sorts_by_its_one_key() {
        let rec = |n: u8, carved: bool| BitsInfo {
            job_id: format!("{{{n}}}"),
            job_name: ["b", "a", "ab", "", "a"][usize::from(n % 5)].into(),
            job_command: ["x", "x", "", "y", "x"][usize::from(n % 5)].into(),
            job_arguments: ["2", "1", "", "", "1"][usize::from(n % 5)].into(),
            url: format!("http://h/{}", n % 3),
            bytes_downloaded: u64::from(n % 4),
            bytes_transferred: u64::from(n % 2),
            carved,
            warnings: vec!["w".into(); usize::from(n % 2)],
            ..BitsInfo::default()
        };
        let mut store = Store::default();
        store.append((0..12).map(|n| rec(n, n % 3 == 0)).collect());
        for k in ViewKind::ALL {
            for &col in k.columns() {
                let items = &store.view(k).items;
                let asc = store.sorted_ascending(k, col);
                assert_eq!(asc.len(), items.len());
                for w in asc.windows(2) {
                    let (a, b) = (&items[w[0] as usize], &items[w[1] as usize]);
                    let ord = store.cmp_items(col, a, b);
                    assert_ne!(ord, Ordering::Greater, "{k:?} {col:?}");
                    // Ties keep evidence order.
                    assert!(ord == Ordering::Less || w[0] < w[1], "{k:?} {col:?}");
                }
            }
        }
    }

    #[test]
    fn evidence_is_relative_to_the_folder_opened_by_whole_components() {
        let sep = std::path::MAIN_SEPARATOR;
        let p = |s: &str| s.replace('/', &sep.to_string());
        let (a, ab) = (p("/case/HOST-A"), p("/case/HOST-AB/C/qmgr.db"));
        // A sibling whose name starts with the root's last component is not under it.
        assert_eq!(relative_to(&a, &ab), ab);
        assert_eq!(
            relative_to(&a, &p("/case/HOST-A/C/qmgr.db")),
            p("C/qmgr.db")
        );
        assert_eq!(relative_to(&p("/case/"), &ab), p("HOST-AB/C/qmgr.db"));
        assert_eq!(relative_to(&a, &a), a, "the root itself stays whole");
        assert_eq!(relative_to("", &ab), ab);
        // The Evidence column and `ev:` read the same: HOST-AB's record keeps its folder.
        let mut store = Store {
            root: a.clone(),
            ..Store::default()
        };
        store.append(vec![BitsInfo {
            evidence: ab.clone(),
            ..BitsInfo::default()
        }]);
        assert_eq!(store.evidence_label(&store.rec(0).info.evidence), ab);
        store.set_query(Query::parse("ev:host-ab/"));
        assert_eq!(store.view(ViewKind::Rows).shown.len(), 1);
    }

    #[test]
    fn hid_is_not_repeated_beside_the_hidden_mark() {
        let mut store = Store::default();
        store.append(vec![BitsInfo {
            filename: "invoice\u{202e}fdp.exe".into(),
            ..BitsInfo::default()
        }]);
        let rec = store.rec(0);
        assert!(rec.hidden);
        assert_eq!(rec.susp, Rule::Hidden.bit() | Rule::Executable.bit());
        assert_eq!(flag_codes(rec.hidden, false, rec.susp), "⚠ exe");
        // The detail pane still names the character.
        let hid = findings(rec, Tuning::builtin())
            .into_iter()
            .find(|f| f.rule == Rule::Hidden);
        assert_eq!(hid.map(|f| f.note), Some("U+202E".to_string()));
        // Without the mark (a caller that has not computed it), the code says it.
        assert_eq!(flag_codes(false, false, rec.susp), "exe hid");
    }
}
