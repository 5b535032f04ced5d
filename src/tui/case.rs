//! Keeping the case (`w`, `bitscope --case FILE`): the filter, the toggles, the marks, each
//! table's columns, widths and sort, and the analyst's notes and tags, in a JSON file the
//! analyst names; reopened, the same evidence shows the same state.
//!
//! Records are named by their key ([`super::notes::record_key`]: evidence, store, offsets,
//! ids), not by their number in the store, which depends on the order the worker read them.
//! Marks arrive before their records when the case is opened: they wait in
//! [`App::case_marks`] and are set as the records come.
//!
//! The file is untrusted when read (the analyst may have been handed it): read up to
//! [`MAX_CASE_BYTES`], any error a message, every name checked, notes and tags bounded. It
//! is written as exports are, atomically and never over the evidence, and never into an
//! evidence folder (a later `parse` of the folder would read it back).

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tui_input::Input;

use super::app::App;
use super::columns::Col;
use super::display::plural;
use super::export::{expand_home, inside_evidence};
use super::notes::{Annotation, MAX_NOTE};
use super::prompt::{Prompt, PromptKind};
use super::settings::{view_id, ViewLayout};
use super::store::{CarvedFilter, ViewKind};
use crate::output::{AtomicFile, Protected};

/// The version this build writes and reads.
pub const CASE_VERSION: u32 = 1;
/// The largest case file read: notes for a million records fit well below it.
pub const MAX_CASE_BYTES: u64 = 64 << 20;
/// The longest record key or filter kept from a file (characters).
const MAX_KEY: usize = 8192;

/// How a view is kept: its columns and widths (as the settings file has them) and its sort.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseView {
    #[serde(flatten)]
    pub layout: ViewLayout,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<SortBy>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SortBy {
    pub column: String,
    #[serde(default)]
    pub descending: bool,
}

/// One record the analyst marked or wrote about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub key: String,
    #[serde(default)]
    pub marked: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// The case file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFile {
    /// [`CASE_VERSION`]; a file of another version is refused, not guessed at.
    pub bitscope_case: u32,
    /// The paths opened, absolute: `bitscope --case FILE` alone opens them again.
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    /// The table shown: `jobs`, `files` or `rows`.
    #[serde(default)]
    pub view: String,
    #[serde(default)]
    pub filter: String,
    /// `all`, `live` or `carved` (the `c` toggle).
    #[serde(default)]
    pub shown: String,
    #[serde(default)]
    pub suspicious_only: bool,
    #[serde(default)]
    pub views: BTreeMap<String, CaseView>,
    #[serde(default)]
    pub records: Vec<CaseRecord>,
}

fn view_by_id(id: &str) -> Option<ViewKind> {
    ViewKind::ALL.into_iter().find(|&k| view_id(k) == id)
}

fn shown_id(c: CarvedFilter) -> &'static str {
    match c {
        CarvedFilter::All => "all",
        CarvedFilter::LiveOnly => "live",
        CarvedFilter::CarvedOnly => "carved",
    }
}

fn shown_by_id(id: &str) -> CarvedFilter {
    match id {
        "live" => CarvedFilter::LiveOnly,
        "carved" => CarvedFilter::CarvedOnly,
        _ => CarvedFilter::All,
    }
}

/// Read a case file: a message (one line) when it cannot be read, is too large, is not
/// JSON of this shape, or is of another version.
pub fn load(path: &Path) -> Result<CaseFile, String> {
    let err = |e: &dyn std::fmt::Display| format!("case file {}: {e}", path.display());
    let meta = std::fs::metadata(path).map_err(|e| err(&e))?;
    if !meta.is_file() {
        return Err(err(&"not a regular file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CASE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| err(&e))?;
    if bytes.len() as u64 > MAX_CASE_BYTES {
        return Err(err(&format!(
            "larger than {} MiB: not a case file bitscope wrote",
            MAX_CASE_BYTES >> 20
        )));
    }
    parse(&bytes).map_err(|e| err(&e))
}

/// A case file's bytes, checked (see [`load`]).
pub fn parse(bytes: &[u8]) -> Result<CaseFile, String> {
    // The version first: a later version's fields may not parse as this one's.
    #[derive(Deserialize)]
    struct Head {
        bitscope_case: Option<u32>,
    }
    let head: Head = serde_json::from_slice(bytes).map_err(|e| {
        format!("not a bitscope case file (JSON with a bitscope_case version): {e}")
    })?;
    match head.bitscope_case {
        Some(CASE_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "case file version {v}; this bitscope reads version {CASE_VERSION}"
            ))
        }
        None => return Err("not a bitscope case file: no bitscope_case version".into()),
    }
    let mut case: CaseFile =
        serde_json::from_slice(bytes).map_err(|e| format!("not a valid case file: {e}"))?;
    case.filter = case.filter.chars().take(MAX_KEY).collect();
    case.records.retain(|r| r.key.chars().count() <= MAX_KEY);
    for r in &mut case.records {
        let a = Annotation::bounded(&r.note, &r.tags);
        r.note = a.note;
        r.tags = a.tags;
    }
    Ok(case)
}

impl CaseFile {
    /// The case as the explorer holds it now.
    pub fn of(app: &App) -> CaseFile {
        let store = &app.store;
        let views = ViewKind::ALL
            .iter()
            .map(|&k| {
                let sort = store.view(k).sort.map(|(c, desc)| SortBy {
                    column: c.id().to_string(),
                    descending: desc,
                });
                let layout = ViewLayout::of(store, k);
                (view_id(k).to_string(), CaseView { layout, sort })
            })
            .collect();
        let mut records: BTreeMap<String, CaseRecord> = BTreeMap::new();
        for (i, &on) in store.marks.iter().enumerate() {
            if on {
                let key = store.key_of(u32::try_from(i).unwrap_or(u32::MAX));
                records.entry(key.clone()).or_default().marked = true;
            }
        }
        // Marks of the case opened whose records have not arrived (yet).
        for key in &app.case_marks {
            records.entry(key.clone()).or_default().marked = true;
        }
        for (key, a) in &store.notes {
            let r = records.entry(key.clone()).or_default();
            r.note = a.note.clone();
            r.tags = a.tags.clone();
        }
        let records = records
            .into_iter()
            .map(|(key, r)| CaseRecord { key, ..r })
            .collect();
        let paths = app
            .paths
            .iter()
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
            .collect();
        CaseFile {
            bitscope_case: CASE_VERSION,
            paths,
            view: view_id(app.view).to_string(),
            filter: app.filter_text.clone(),
            shown: shown_id(store.carved_filter).to_string(),
            suspicious_only: store.suspicious_only,
            views,
            records,
        }
    }
}

impl App {
    /// Take a case in: columns, widths, sorts, filter, toggles, view and notes at once; the
    /// marks as their records arrive (those here already, now).
    pub fn apply_case(&mut self, case: &CaseFile) {
        for k in ViewKind::ALL {
            let Some(v) = case.views.get(view_id(k)) else {
                continue;
            };
            v.layout.apply(&mut self.store, k);
            let sort = v.sort.as_ref().and_then(|s| {
                let c = Col::from_id(&s.column).filter(|c| k.columns().contains(c))?;
                Some((c, s.descending))
            });
            self.store.view_mut(k).sort = sort;
            self.store.resort(k);
        }
        if let Some(k) = view_by_id(&case.view) {
            self.view = k;
        }
        self.store
            .set_toggles(shown_by_id(&case.shown), case.suspicious_only);
        self.set_filter(&case.filter);
        self.store.clear_marks();
        self.store.notes.clear();
        self.case_marks = HashSet::new();
        for r in &case.records {
            let a = Annotation {
                note: r.note.clone(),
                tags: r.tags.clone(),
            };
            if !a.is_empty() {
                self.store.notes.insert(r.key.clone(), a);
            }
            if r.marked {
                self.case_marks.insert(r.key.clone());
            }
        }
        self.mark_from_case(0);
        self.clamp_all();
    }

    /// Set the marks the case opened holds for records from `first` on (just arrived).
    pub(super) fn mark_from_case(&mut self, first: usize) {
        if self.case_marks.is_empty() {
            return;
        }
        for i in first..self.store.recs.len() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            let key = self.store.key_of(i);
            // Taken once: a mark the analyst then clears stays cleared.
            if self.case_marks.remove(&key) {
                self.store.set_mark(i, true);
            }
        }
    }

    /// `w`: ask where to keep the case (the case opened or saved last, else a name of its own).
    pub(super) fn start_case_save(&mut self) {
        let default = match &self.case_path {
            Some(p) => p.display().to_string(),
            None => {
                let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
                format!("bitscope-case-{stamp}.json")
            }
        };
        self.prompt = Some(Prompt {
            kind: PromptKind::Case,
            input: Input::new(default),
            before: String::new(),
            overwrite_ok: false,
        });
        self.set_status(
            "save the case (filter, marks, columns, sorts, notes) to:",
            false,
        );
    }

    pub(super) fn finish_case_save(&mut self, path: &str, overwrite_ok: bool) {
        if path.is_empty() {
            self.set_status("case: type a file name (Esc cancels)", true);
            return;
        }
        let target = expand_home(path, std::env::var_os("HOME").as_deref());
        match self.save_case(&target, overwrite_ok) {
            Ok(n) => {
                self.prompt = None;
                let full = std::path::absolute(&target).unwrap_or(target);
                self.set_status(
                    format!(
                        "case saved: {n} record{} marked or noted, to {}",
                        plural(n),
                        full.display()
                    ),
                    false,
                );
                self.case_path = Some(full);
            }
            Err(Refused::Confirm(msg)) => {
                if let Some(p) = self.prompt.as_mut() {
                    p.overwrite_ok = true;
                }
                self.set_status(msg, true);
            }
            Err(Refused::No(msg)) => self.set_status(msg, true),
        }
    }

    /// Write the case to `target`: never over or beside the evidence; over another file
    /// only once the analyst confirmed (the case's own file needs no asking).
    fn save_case(&self, target: &Path, overwrite_ok: bool) -> Result<usize, Refused> {
        let shown = target.display();
        let inputs = self.inputs();
        let refs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
        let protected = Protected::of(&refs);
        crate::output::atomic::check_target(target, &protected)
            .map_err(|e| Refused::No(format!("case to {shown}: {e}; type another path")))?;
        if let Some(folder) = inside_evidence(target, &inputs) {
            return Err(Refused::No(format!(
                "{shown} is inside the evidence folder {}: a case is kept apart from the evidence; type another path",
                folder.display()
            )));
        }
        let own = self
            .case_path
            .as_deref()
            .is_some_and(|p| std::path::absolute(target).is_ok_and(|t| t == p));
        if target.exists() && !overwrite_ok && !own {
            return Err(Refused::Confirm(format!(
                "{shown} exists: Enter again replaces it, Esc cancels"
            )));
        }
        let case = CaseFile::of(self);
        let n = case.records.len();
        let text = serde_json::to_vec_pretty(&case)
            .map_err(|e| Refused::No(format!("case to {shown}: {e}")))?;
        AtomicFile::create(target, &protected)
            .and_then(|mut f| {
                f.write_all(&text)?;
                f.write_all(b"\n")?;
                f.commit()
            })
            .map_err(|e| Refused::No(format!("case to {shown} failed: {e}")))?;
        Ok(n)
    }

    /// The records `a` writes about: the one in the detail pane, else every record of the
    /// selected row.
    fn note_records(&self) -> Vec<u32> {
        match self.screen {
            super::app::Screen::Detail => self.detail_record().into_iter().collect(),
            super::app::Screen::Hex => self.hex_record().into_iter().collect(),
            _ => self.selected_members().to_vec(),
        }
    }

    /// `a`: a note and tags (`#word`) on the selected record, starting from the ones it has.
    pub(super) fn start_note(&mut self) {
        let recs = self.note_records();
        let Some(&first) = recs.first() else {
            self.set_status("no record selected to write a note on", true);
            return;
        };
        let line = self
            .store
            .note_of(first)
            .map(Annotation::line)
            .unwrap_or_default();
        self.prompt = Some(Prompt {
            kind: PromptKind::Note,
            input: Input::new(line),
            before: String::new(),
            overwrite_ok: false,
        });
        let n = recs.len();
        self.set_status(
            format!(
                "note on {n} record{} (#word: a tag; empty: no note; at most {MAX_NOTE} characters)",
                plural(n)
            ),
            false,
        );
    }

    pub(super) fn finish_note(&mut self, line: &str) {
        self.prompt = None;
        let a = Annotation::parse(line);
        let recs = self.note_records();
        for &i in &recs {
            let key = self.store.key_of(i);
            if a.is_empty() {
                self.store.notes.remove(&key);
            } else {
                self.store.notes.insert(key, a.clone());
            }
        }
        let n = recs.len();
        let what = if a.is_empty() {
            "note removed from"
        } else {
            "note on"
        };
        self.set_status(format!("{what} {n} record{}", plural(n)), false);
    }
}

/// Why a case was not written: refused for good, or until the analyst confirms.
enum Refused {
    No(String),
    Confirm(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bits::model::{BitsInfo, Source, SourceKind};

    fn rec(n: u64, name: &str) -> BitsInfo {
        BitsInfo {
            job_id: format!("{{J{n}}}"),
            job_name: name.into(),
            evidence: "/case/HOST-A/qmgr.db".into(),
            job_source: Some(Source {
                evidence: "/case/HOST-A/qmgr.db".into(),
                offset: 4096 * n,
                length: 100,
                kind: SourceKind::Live,
                ..Source::default()
            }),
            ..BitsInfo::default()
        }
    }

    fn app_with(recs: Vec<BitsInfo>) -> App {
        let mut app = App::new(crate::tui::Options::default());
        app.store.root = "/case".into();
        let first = app.store.recs.len();
        app.store.append(recs);
        app.mark_from_case(first);
        app
    }

    #[test]
    fn a_case_survives_its_file_and_a_new_order_of_records() {
        let recs: Vec<BitsInfo> = (1..=4).map(|n| rec(n, &format!("job {n}"))).collect();
        let mut app = app_with(recs.clone());
        app.set_filter("name:job");
        app.store.set_toggles(CarvedFilter::LiveOnly, true);
        app.view = ViewKind::Rows;
        app.store.set_mark(1, true);
        app.store.set_mark(3, true);
        let key2 = app.store.key_of(2);
        app.store
            .notes
            .insert(key2.clone(), Annotation::parse("odd one #c2"));
        let mut choice = app.store.column_choice(ViewKind::Rows);
        choice[0].1 = false;
        assert!(app.store.set_column_choice(ViewKind::Rows, choice.clone()));
        app.store.view_mut(ViewKind::Rows).widths[Col::Name.index()] = 40;
        app.store.view_mut(ViewKind::Jobs).sort = Some((Col::Name, true));

        let case = CaseFile::of(&app);
        let text = serde_json::to_vec_pretty(&case).expect("json");
        let back = parse(&text).expect("parse");
        assert_eq!(back, case);
        assert_eq!(back.records.len(), 3);

        // The same records read in another order: the marks follow the records, not their
        // numbers.
        let mut other = App::new(crate::tui::Options::default());
        other.store.root = "/case".into();
        other.apply_case(&back);
        let mut rev = recs;
        rev.reverse();
        other.store.append(rev);
        other.mark_from_case(0);
        let marked: Vec<&str> = (0..4u32)
            .filter(|&i| other.store.marks[i as usize])
            .map(|i| other.store.rec(i).info.job_name.as_str())
            .collect();
        assert_eq!(marked, vec!["job 4", "job 2"]);
        let noted = (0..4u32)
            .find(|&i| other.store.note_of(i).is_some())
            .map(|i| other.store.rec(i).info.job_name.clone());
        assert_eq!(noted.as_deref(), Some("job 3"));
        assert_eq!(other.filter_text, "name:job");
        assert_eq!(other.view, ViewKind::Rows);
        assert_eq!(other.store.carved_filter, CarvedFilter::LiveOnly);
        assert!(other.store.suspicious_only);
        assert_eq!(other.store.column_choice(ViewKind::Rows), choice);
        assert_eq!(
            other.store.view(ViewKind::Rows).widths[Col::Name.index()],
            40
        );
        assert_eq!(
            other.store.view(ViewKind::Jobs).sort,
            Some((Col::Name, true))
        );
        // Saved again, nothing is lost or added.
        assert_eq!(CaseFile::of(&other).records, case.records);
    }

    #[test]
    fn hostile_case_files_are_messages() {
        for (bytes, want) in [
            (&b""[..], "not a bitscope case file"),
            (b"[1,2]", "not a bitscope case file"),
            (b"{\"views\":{}}", "no bitscope_case version"),
            (b"{\"bitscope_case\":2}", "version 2"),
            (
                b"{\"bitscope_case\":1,\"records\":7}",
                "not a valid case file",
            ),
            (
                b"{\"bitscope_case\":1,\"records\":[{\"key\":1}]}",
                "not a valid case file",
            ),
            (b"{\"bitscope_case\":\"1\"}", "not a bitscope case file"),
        ] {
            let e = parse(bytes).expect_err("refused");
            assert!(
                e.contains(want),
                "{e} for {:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        // Deep nesting: in a known field an error (serde_json's depth limit), in an unknown
        // one skipped; never a stack overflow.
        let (open, close) = ("[".repeat(100_000), "]".repeat(100_000));
        let deep = format!("{{\"bitscope_case\":1,\"views\":{open}{close}}}");
        assert!(parse(deep.as_bytes()).is_err());
        let deep = format!("{{\"bitscope_case\":1,\"x\":{open}{close}}}");
        assert!(parse(deep.as_bytes()).is_ok());
        // Unknown views, columns and sorts are ignored; notes bounded; long keys dropped.
        let note = "n".repeat(MAX_NOTE + 10);
        let text = format!(
            "{{\"bitscope_case\":1,\"view\":\"nowhere\",\"views\":{{\"jobs\":{{\"columns\":[\"bogus\"],\"sort\":{{\"column\":\"bytes\"}}}}}},\"records\":[{{\"key\":\"k\",\"note\":\"{note}\",\"tags\":[\"a b\",\"#c\",\"\"]}},{{\"key\":\"{}\"}}]}}",
            "k".repeat(MAX_KEY + 1)
        );
        let case = parse(text.as_bytes()).expect("parse");
        assert_eq!(case.records.len(), 1);
        assert_eq!(case.records[0].note.chars().count(), MAX_NOTE);
        assert_eq!(case.records[0].tags, vec!["a-b", "c"]);
        let mut app = App::new(crate::tui::Options::default());
        app.apply_case(&case);
        assert_eq!(app.view, ViewKind::Jobs);
        assert_eq!(app.store.view(ViewKind::Jobs).sort, None);
    }

    #[test]
    fn the_file_is_bounded_and_kept_apart_from_the_evidence() {
        let dir = std::env::temp_dir().join(format!("bitscope-case-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let evidence = dir.join("evidence");
        std::fs::create_dir_all(&evidence).expect("mkdir");
        let db = evidence.join("qmgr.db");
        std::fs::write(&db, b"x").expect("write");
        let big = dir.join("big.json");
        let f = std::fs::File::create(&big).expect("create");
        f.set_len(MAX_CASE_BYTES + 1).expect("len");
        assert!(load(&big).expect_err("big").contains("larger than"));
        assert!(load(&dir).expect_err("dir").contains("not a regular file"));

        let mut app = app_with(vec![rec(1, "a")]);
        app.paths = vec![evidence.clone()];
        for bad in [db.clone(), evidence.join("case.json")] {
            match app.save_case(&bad, true) {
                Err(Refused::No(_)) => {}
                _ => panic!("{} was not refused", bad.display()),
            }
        }
        assert!(!evidence.join("case.json").exists());
        let good = dir.join("case.json");
        assert_eq!(app.save_case(&good, false).ok(), Some(0));
        assert!(matches!(
            app.save_case(&good, false),
            Err(Refused::Confirm(_))
        ));
        let back = load(&good).expect("load");
        assert_eq!(back.paths, vec![evidence]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
