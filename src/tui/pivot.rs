//! Pivots: `p` in the detail pane filters the table to every row sharing the value of the
//! field under the cursor, and `f` shows a job's files (or a file's job); Esc in the table goes
//! back to the filter, view and record the pivot left.
//!
//! A pivot only writes a filter term into the filter line (so it is seen, edited and kept like
//! any filter): the term for each field is chosen to match that value exactly.
//!
//! | field | term | matches |
//! |---|---|---|
//! | job id, file id | `id:{GUID}` | the whole id (job or file) |
//! | owner | `owner:S-1-5-…` | the SID, whole components |
//! | url | `site:HOST` | the URL's host (or a name under it, look-alikes folded): a URL names one file, its host is what other jobs share |
//! | file name | `file:NAME` | a file name or local path ending in that name |
//! | notify command, notify args | `cmd:"…"` | a command or its arguments holding that text |
//! | name | `name:"…"` | a job name holding that text |
//! | local path, temp path, notify program | `path:"…"` | a path holding that text |
//! | description | `"…"` | any field holding that text |
//! | created, modified, completed, expiration | the ISO time | a field holding that time (to the millisecond) |

use super::app::{App, DetailState, Screen};
use super::display;
use super::query::quote;
use super::store::ViewKind;

/// What Esc after a pivot goes back to.
#[derive(Debug, Clone)]
pub struct Return {
    filter: String,
    view: ViewKind,
    screen: Screen,
    detail_return: Screen,
    rec: u32,
    detail: DetailState,
}

/// The filter term finding every record that shares a detail field's value (the field's label
/// as the pane prints it, its raw value), and what the term compares; `None` for a field with
/// no such term (an SDDL, an evidence path, a SID of the ACL).
///
/// The value is taken in its display form (escaped), as the filter searches it.
pub fn term_for(label: &str, raw: &str) -> Option<(String, &'static str)> {
    let v = display::escape(raw).into_owned();
    if v.is_empty() {
        return None;
    }
    let phrase = |scope: &str| format!("{scope}{}", quoted(&v));
    Some(match label {
        "job id" | "file id" => {
            let id = v.trim_matches(['{', '}']);
            (format!("id:{{{id}}}"), "id")
        }
        "owner" => (format!("owner:{v}"), "owner"),
        "url" => match crate::bits::triage::url_host(&v).filter(|h| !h.is_empty()) {
            Some(host) => (format!("site:{}", quote(host)), "url host"),
            None => (phrase("url:"), "url"),
        },
        "file name" => (format!("file:{}", quote(&v)), "file name"),
        "notify command" => (phrase("cmd:"), "command"),
        "notify args" => (phrase("cmd:"), "command arguments"),
        "name" => (phrase("name:"), "job name"),
        "local path" | "temp path" | "notify program" => (phrase("path:"), "path"),
        "description" => (phrase(""), "text"),
        // Not `remote modified`: the filter does not search it (the server's clock).
        "created" | "modified" | "completed" | "expiration" => (v.clone(), "time"),
        _ => return None,
    })
}

/// Always a `"phrase"` (an exact substring, never fuzzy).
fn quoted(v: &str) -> String {
    format!("\"{}\"", v.replace('"', "\"\""))
}

impl App {
    /// `p` in the detail pane: the table, filtered to the rows sharing the value under the
    /// cursor, with the row the pivot started from selected.
    pub(super) fn pivot(&mut self) {
        let Some((label, value)) = self.detail_field() else {
            return self.set_status("no field to pivot on", true);
        };
        let Some((term, what)) = term_for(label, &value) else {
            return self.set_status(
                format!(
                    "{}: no pivot on this field (p pivots on ids, owner, url host, file name, command, name, paths and times)",
                    label.trim()
                ),
                true,
            );
        };
        self.pivot_to(term, self.view, what);
    }

    /// `f`: a job's files (the files table, `id:` the job), or from the files table the
    /// file's job (the jobs table).
    pub(super) fn job_files(&mut self) {
        let rec = match self.screen {
            Screen::Detail => self.detail_record(),
            _ => self.selected_members().first().copied(),
        };
        let Some(rec) = rec else {
            return self.set_status("no row selected", true);
        };
        let job = self.store.rec(rec).info.job_id.clone();
        let Some((term, _)) = term_for("job id", &job) else {
            return self.set_status("this file record has no job (an orphan)", true);
        };
        let (view, what) = if self.view == ViewKind::Files {
            (ViewKind::Jobs, "the job of this file")
        } else {
            (ViewKind::Files, "the files of this job")
        };
        self.pivot_to(term, view, what);
    }

    fn pivot_to(&mut self, term: String, view: ViewKind, what: &str) {
        let rec = match self.screen {
            Screen::Detail => self.detail_record(),
            _ => self.selected_members().first().copied(),
        };
        let Some(rec) = rec else {
            return;
        };
        self.pivots.push(Return {
            filter: self.filter_text.clone(),
            view: self.view,
            screen: if self.screen == Screen::Detail {
                Screen::Detail
            } else {
                Screen::Table
            },
            detail_return: self.detail_return,
            rec,
            detail: self.detail.clone(),
        });
        self.set_filter(&term);
        self.screen = Screen::Table;
        self.view = view;
        self.select_record(view, rec);
        let v = self.store.view(view);
        let msg = format!(
            "pivot on {what}: {} of {} {} · Esc goes back",
            v.shown.len(),
            v.items.len(),
            view.title().to_lowercase()
        );
        self.set_status(msg, false);
    }

    /// Is there a pivot to go back from?
    pub(super) fn pivoted(&self) -> bool {
        !self.pivots.is_empty()
    }

    /// Esc after a pivot: the filter, view and screen before it, on the record it started
    /// from (the detail pane's cursor where it was).
    pub(super) fn pivot_back(&mut self) {
        let Some(r) = self.pivots.pop() else {
            return;
        };
        self.set_filter(&r.filter);
        self.view = r.view;
        let member = self.select_record(r.view, r.rec);
        match (r.screen, member) {
            (Screen::Detail, Some(member)) => {
                self.screen = Screen::Detail;
                self.detail_return = r.detail_return;
                self.detail = DetailState {
                    member,
                    follow: true,
                    ..r.detail
                };
                self.set_status("back from the pivot", false);
            }
            (_, None) => {
                self.screen = Screen::Table;
                self.set_status(
                    "back from the pivot; that record's row is not shown now",
                    true,
                );
            }
            _ => {
                self.screen = Screen::Table;
                self.set_status("back from the pivot", false);
            }
        }
    }

    /// Select the row of `view` holding record `rec`; the member it is, when shown.
    fn select_record(&mut self, view: ViewKind, rec: u32) -> Option<usize> {
        let v = self.store.view(view);
        let (pos, member) = v.shown.iter().enumerate().find_map(|(pos, &item)| {
            let members = &v.items.get(item as usize)?.members;
            members.iter().position(|&m| m == rec).map(|at| (pos, at))
        })?;
        self.store.view_mut(view).sel = pos;
        self.clamp_all();
        Some(member)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::query::{Query, Scope, TermKind};

    #[test]
    fn each_pivot_term_parses_back_to_its_value() {
        let cmd = r#""C:\Program Files\x.exe" /c "a b""#;
        for (label, raw, want) in [
            (
                "job id",
                "{99C96E1B-5DC8-4F17-B0C9-4D0ED9D4E8A3}",
                "id:{99C96E1B-5DC8-4F17-B0C9-4D0ED9D4E8A3}",
            ),
            ("owner", "S-1-5-18", "owner:S-1-5-18"),
            (
                "url",
                "https://dl.google.com:443/x/setup.exe",
                "site:dl.google.com",
            ),
            ("file name", "my setup.exe", "file:\"my setup.exe\""),
            (
                "notify command",
                cmd,
                r#"cmd:"""C:\Program Files\x.exe"" /c ""a b""""#,
            ),
            (
                "created",
                "2026-03-05T10:00:00.000Z",
                "2026-03-05T10:00:00.000Z",
            ),
        ] {
            let (term, _) = term_for(label, raw).expect(label);
            assert_eq!(term, want, "{label}");
            let q = Query::parse(&term);
            assert_eq!(q.error, None, "{term}");
            assert_eq!(q.terms.len(), 1, "{term}");
        }
        let q = Query::parse(&term_for("notify command", cmd).expect("cmd").0);
        assert_eq!(q.terms[0].scope, Scope::Cmd);
        assert_eq!(q.terms[0].kind, TermKind::Exact(cmd.to_lowercase()));
        // Hidden characters are written as the filter searches them: escaped.
        let (t, _) = term_for("name", "a\u{202e}b").expect("name");
        assert!(!t.contains('\u{202e}') && t.contains("\\u{202e}"), "{t}");
        assert!(term_for("SDDL", "O:SY").is_none());
        assert!(term_for("owner", "").is_none());
    }
}
