//! `e`: export records to a file the analyst names, in the format its extension (or Tab)
//! chooses, written by `bitscope parse`'s own writer (output::bits::RecordWriter into an
//! AtomicFile) and never over the evidence.

use std::path::{Path, PathBuf};

use tui_input::Input;

use crate::output::bits::{Format, RecordWriter};
use crate::output::{AtomicFile, Protected};

use super::app::{App, Screen};
use super::display::plural;
use super::prompt::{Prompt, PromptKind};

/// `~` and `~/…` as the user's home folder (as a shell would); anything else as typed.
pub fn expand_home(path: &str, home: Option<&std::ffi::OsStr>) -> PathBuf {
    let rest = match path.strip_prefix('~') {
        Some("") => "",
        Some(r) if r.starts_with('/') || r.starts_with(std::path::MAIN_SEPARATOR) => &r[1..],
        _ => return PathBuf::from(path),
    };
    match home.filter(|h| !h.is_empty()) {
        Some(h) => Path::new(h).join(rest),
        None => PathBuf::from(path),
    }
}

/// The folder an input sits in (the input itself when it is a folder), absolute.
fn evidence_folder(input: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(input).ok()?;
    if abs.is_dir() {
        Some(abs)
    } else {
        abs.parent().map(Path::to_path_buf)
    }
}

/// The evidence folder a target would be written into, if any: exports belong in the
/// case's own folder, not among the evidence (where a later `parse` of the folder would
/// read them back).
pub(super) fn inside_evidence(target: &Path, inputs: &[PathBuf]) -> Option<PathBuf> {
    let abs = std::path::absolute(target).ok()?;
    let dir = std::fs::canonicalize(abs.parent()?).ok()?;
    inputs
        .iter()
        .filter_map(|i| evidence_folder(i))
        .find(|f| dir.starts_with(f))
}

/// The formats `e` writes, in the order Tab cycles them (those of `bitscope parse -f`).
pub const EXPORT_FORMATS: [Format; 3] = [Format::Json, Format::Jsonl, Format::Csv];

/// The export format a path asks for by its extension (JSON when it names none of them).
pub fn export_format(path: &str) -> Format {
    let ext = Path::new(path)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    EXPORT_FORMATS
        .into_iter()
        .find(|f| ext.as_deref() == Some(f.extension()))
        .unwrap_or(Format::Json)
}

/// `path` with its extension replaced by the one of the next export format.
pub fn with_next_format(path: &str) -> String {
    let now = export_format(path);
    let i = EXPORT_FORMATS.iter().position(|&f| f == now).unwrap_or(0);
    let next = EXPORT_FORMATS[(i + 1) % EXPORT_FORMATS.len()];
    let p = Path::new(path);
    let known = p.extension().is_some_and(|e| {
        EXPORT_FORMATS
            .iter()
            .any(|f| e.eq_ignore_ascii_case(f.extension()))
    });
    let stem = if known {
        path.get(..path.len() - p.extension().map_or(0, |e| e.len() + 1))
            .unwrap_or(path)
    } else {
        path
    };
    format!("{stem}.{}", next.extension())
}

/// A format's name as the status line says it.
pub fn format_name(f: Format) -> &'static str {
    match f {
        Format::Json => "JSON",
        Format::Jsonl => "JSON Lines",
        Format::Csv => "CSV",
        Format::Timeline => "timeline JSONL (as parse --format timeline)",
    }
}

impl App {
    /// The evidence files and the paths opened, which nothing may ever be written over:
    /// each once (an export checks its target against every one).
    pub(crate) fn inputs(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = Vec::new();
        let sources = self.store.recs.iter().flat_map(|r| {
            [&r.info.job_source, &r.info.file_source]
                .into_iter()
                .flatten()
                .map(|s| PathBuf::from(&s.evidence))
        });
        let all = (self.evidence.iter().map(|e| e.path.clone()))
            .chain(sources)
            .chain(self.paths.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        for p in all {
            if seen.insert(p.clone()) {
                v.push(p);
            }
        }
        v
    }

    /// The records `e` exports: the marked ones; else, in the detail or hex view, the one
    /// record shown; else every record of the rows shown.
    fn export_records(&self) -> Vec<u32> {
        if self.store.mark_count == 0 {
            let one = match self.screen {
                Screen::Table => None,
                // The records the events are of: every record the filter lets through (a
                // zoom is in the filter), not only the one standing for a job's time.
                Screen::Timeline => return self.store.export_set(super::store::ViewKind::Rows),
                Screen::Detail => self.detail_record(),
                Screen::Hex => self.hex_record(),
            };
            if let Some(r) = one {
                return vec![r];
            }
        }
        self.store.export_set(self.view)
    }

    pub(super) fn start_export(&mut self) {
        let n = self.export_records().len();
        if n == 0 {
            self.set_status("nothing to export: no rows shown", true);
            return;
        }
        // Named after the one path opened; of several, after none of them.
        let stem = match self.paths.as_slice() {
            [one] => Some(one.as_path()),
            _ => None,
        }
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
        let default = if self.screen == Screen::Timeline {
            format!("bitscope-{stem}-{stamp}-timeline.jsonl")
        } else {
            format!("bitscope-{stem}-{stamp}.json")
        };
        self.prompt = Some(Prompt {
            kind: PromptKind::Export,
            input: Input::new(default),
            before: String::new(),
            overwrite_ok: false,
        });
        self.say_export_target();
    }

    /// What the export prompt will write: how many records, which, and in which format.
    pub(super) fn say_export_target(&mut self) {
        let n = self.export_records().len();
        let what = if self.store.mark_count > 0 {
            "marked"
        } else if matches!(self.screen, Screen::Detail | Screen::Hex) {
            "viewed"
        } else {
            "shown"
        };
        let format = self
            .prompt
            .as_ref()
            .map_or(Format::Json, |p| self.format_for(p.input.value()));
        let tab = if self.screen == Screen::Timeline {
            "Tab: JSON, timeline JSONL, CSV"
        } else {
            "Tab: JSON, JSONL, CSV"
        };
        self.set_status(
            format!(
                "export {n} {what} record{} as {} ({tab}) to:",
                plural(n),
                format_name(format)
            ),
            false,
        );
    }

    /// The format a path asks for here: in the timeline, `.jsonl` is the timeline's own
    /// (`parse --format timeline`: an entry per time of each record, Timesketch's form).
    pub(super) fn format_for(&self, path: &str) -> Format {
        match export_format(path) {
            Format::Jsonl if self.screen == Screen::Timeline => Format::Timeline,
            f => f,
        }
    }

    pub(super) fn finish_export(&mut self, path: &str, overwrite_ok: bool) {
        if path.is_empty() {
            self.set_status("export: type a file name (Esc cancels)", true);
            return;
        }
        let target = expand_home(path, std::env::var_os("HOME").as_deref());
        // Every input once: `inputs` already holds the paths opened.
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
        // Into the evidence folder: allowed, but only once the analyst has seen it said.
        if let Some(folder) = inside_evidence(&target, &inputs).filter(|_| !overwrite_ok) {
            if let Some(p) = self.prompt.as_mut() {
                p.overwrite_ok = true;
            }
            let also = if target.exists() {
                " and replaces it"
            } else {
                ""
            };
            self.set_status(
                format!(
                    "{shown} is inside the evidence folder {}: Enter again writes there{also}, Esc cancels",
                    folder.display()
                ),
                true,
            );
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
        let format = self.format_for(path);
        // The same writer as `bitscope parse -o`: a temporary file renamed into place, the
        // evidence checked again just before.
        let result = AtomicFile::create(&target, &protected).and_then(|file| {
            let mut w = RecordWriter::annotated(file, format)?;
            for &i in &set {
                self.write_annotated(&mut w, i)?;
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
}

impl App {
    /// Record `i` with the triage codes that fired on it and the analyst's note and tags.
    fn write_annotated<W: std::io::Write>(
        &self,
        w: &mut RecordWriter<W>,
        i: u32,
    ) -> std::io::Result<()> {
        let rec = self.store.rec(i);
        let codes = triage_codes(rec.susp);
        let none = super::notes::Annotation::default();
        let a = self.store.note_of(i).unwrap_or(&none);
        let ann = crate::output::bits::Annotation {
            triage: &codes,
            note: &a.note,
            tags: &a.tags,
        };
        w.write_annotated(&rec.info, &ann)
    }
}

/// The codes of the rules in a record's set of fired rules, in the Flags column's order.
pub fn triage_codes(susp: u8) -> Vec<&'static str> {
    use crate::bits::triage::Rule;
    Rule::ALL
        .iter()
        .filter(|r| susp & r.bit() != 0)
        .map(|r| r.code())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_chooses_and_tab_cycles() {
        assert_eq!(export_format("a.json"), Format::Json);
        assert_eq!(export_format("dir.v2/a.JSONL"), Format::Jsonl);
        assert_eq!(export_format("a.csv"), Format::Csv);
        assert_eq!(export_format("a.txt"), Format::Json);
        assert_eq!(export_format("csv"), Format::Json);
        assert_eq!(with_next_format("a.json"), "a.jsonl");
        assert_eq!(with_next_format("a.jsonl"), "a.csv");
        assert_eq!(with_next_format("a.CSV"), "a.json");
        assert_eq!(with_next_format("dir.v2/a"), "dir.v2/a.jsonl");
        assert_eq!(with_next_format("été.json"), "été.jsonl");
        assert_eq!(with_next_format(""), ".jsonl");
    }

    #[test]
    fn a_tilde_is_the_home_folder() {
        let home = Some(std::ffi::OsStr::new("/home/ann"));
        assert_eq!(expand_home("~/x.json", home), Path::new("/home/ann/x.json"));
        assert_eq!(expand_home("~", home), Path::new("/home/ann"));
        assert_eq!(expand_home("~bob/x.json", home), Path::new("~bob/x.json"));
        assert_eq!(expand_home("a/~/x.json", home), Path::new("a/~/x.json"));
        assert_eq!(expand_home("~/x.json", None), Path::new("~/x.json"));
    }

    #[test]
    fn the_inputs_an_export_protects_are_each_listed_once() {
        use crate::bits::model::{BitsInfo, Source};
        let mut app = App::new(crate::tui::Options::default());
        let (a, b) = (PathBuf::from("/case/HOST-A"), PathBuf::from("/case/HOST-B"));
        let db = PathBuf::from("/case/HOST-A/qmgr.db");
        app.paths = vec![a.clone(), b.clone(), a.clone()];
        let rec = BitsInfo {
            job_source: Some(Source {
                evidence: db.display().to_string(),
                ..Source::default()
            }),
            file_source: Some(Source {
                evidence: db.display().to_string(),
                ..Source::default()
            }),
            ..BitsInfo::default()
        };
        app.store.append(vec![rec.clone(), rec]);
        // The paths opened came twice before (once from `inputs`, once more in the export).
        assert_eq!(app.inputs(), vec![db, a, b]);
    }

    #[test]
    fn targets_inside_an_evidence_folder_are_found() {
        let dir = std::env::temp_dir().join(format!("bitscope-evfolder-{}", std::process::id()));
        let case = dir.join("case");
        let _ = std::fs::create_dir_all(case.join("HOST-A"));
        let db = case.join("HOST-A").join("qmgr.db");
        std::fs::write(&db, b"x").expect("write");
        let out = dir.join("out");
        std::fs::create_dir_all(&out).expect("mkdir");
        let canon = std::fs::canonicalize(&case).expect("canon");
        // The opened folder and a file's own folder both count; a sibling folder does not.
        let inputs = [case.clone(), db.clone()];
        assert_eq!(
            inside_evidence(&case.join("x.json"), &inputs),
            Some(canon.clone())
        );
        assert_eq!(
            inside_evidence(&case.join("HOST-A/x.json"), &inputs[1..]),
            Some(canon.join("HOST-A"))
        );
        assert_eq!(inside_evidence(&out.join("x.json"), &inputs), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
