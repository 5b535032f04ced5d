//! The host summary (`H`): every host of the case with the rows the tables hold of it
//! (jobs, carved, known from the event log only, flagged, files) and its records, counted
//! from the store as the tables group them; Enter shows only the host under the cursor,
//! through the filter line (`host:NAME`, the whole name). Drawn by [`super::hosts_ui`].

use std::collections::BTreeMap;

use crate::bits::model::SourceKind;

use super::app::App;
use super::display;
use super::keys::Action;
use super::store::{Store, ViewKind};

/// One host's line of the summary. Jobs and files are rows of the Jobs and Files tables (a
/// job's live and carved copies are rows of their own, as the table shows them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostRow {
    /// The record's `host`, as `parse` named it.
    pub name: String,
    /// How it was named (`host_source`: system hive, folder name, file name).
    pub source: String,
    pub jobs: usize,
    /// Jobs carved from free space (deleted jobs, or older copies of live ones).
    pub carved: usize,
    /// Jobs known only from the BITS event log (gone from the queue).
    pub log_only: usize,
    /// Jobs a triage rule fired on (the Flags column's codes, `!` shows them).
    pub flagged: usize,
    pub files: usize,
    pub records: usize,
}

/// The summary, one line per host in name order. Counts every record, whatever the filter.
pub fn summary(store: &Store) -> Vec<HostRow> {
    let mut by: BTreeMap<&str, HostRow> = BTreeMap::new();
    for r in &store.recs {
        let row = by.entry(&r.info.host).or_insert_with(|| HostRow {
            name: r.info.host.clone(),
            source: r.info.host_source.clone(),
            ..HostRow::default()
        });
        row.records += 1;
    }
    for item in &store.view(ViewKind::Jobs).items {
        let info = &store.rec(item.rep()).info;
        if let Some(row) = by.get_mut(info.host.as_str()) {
            row.jobs += 1;
            row.carved += usize::from(info.carved);
            let logged = info.job_source.as_ref().map(|s| s.kind) == Some(SourceKind::EventLog);
            row.log_only += usize::from(logged);
            row.flagged += usize::from(store.item_flags(item).2 != 0);
        }
    }
    for item in &store.view(ViewKind::Files).items {
        if let Some(row) = by.get_mut(store.rec(item.rep()).info.host.as_str()) {
            row.files += 1;
        }
    }
    by.into_values().collect()
}

/// The filter term that shows one host's rows: `host:NAME`, quoted when the name holds a
/// space or starts with a quote; `None` for a name the filter line cannot spell (empty, or
/// holding `"`, which no Windows host or file name does).
pub fn host_term(name: &str) -> Option<String> {
    // The filter matches the name as the table shows it (escaped).
    let shown = display::escape(name);
    if shown.is_empty() || shown.contains('"') {
        return None;
    }
    if shown.contains(char::is_whitespace) || shown.starts_with('\'') {
        Some(format!("host:\"{shown}\""))
    } else {
        Some(format!("host:{shown}"))
    }
}

/// Lines above the first host in the overlay (the section title and the column titles).
pub const HEAD_LINES: usize = 2;

impl App {
    /// A key in the host summary: move the cursor, Enter filters the tables to its host.
    pub(super) fn update_hosts(&mut self, action: Action) {
        let rows = summary(&self.store);
        let last = rows.len().saturating_sub(1);
        let page = self.rendered.overlay.map_or(1, |s| s.page.max(1));
        let at = self.host_cursor.min(last);
        self.host_cursor = match action {
            Action::Up => at.saturating_sub(1),
            Action::Down => (at + 1).min(last),
            Action::PageUp => at.saturating_sub(page),
            Action::PageDown => (at + page).min(last),
            Action::Top => 0,
            Action::Bottom => last,
            Action::Confirm => {
                if let Some(row) = rows.get(at) {
                    self.filter_to_host(&row.name);
                }
                return;
            }
            _ => at,
        };
        // Keep the cursor's line in the window the last frame showed.
        let line = self.host_cursor + HEAD_LINES;
        let top = usize::from(self.overlay_scroll);
        let top = if line < top + HEAD_LINES {
            line.saturating_sub(HEAD_LINES)
        } else if line >= top + page {
            line + 1 - page
        } else {
            top
        };
        self.overlay_scroll = u16::try_from(top).unwrap_or(u16::MAX);
    }

    /// Show only `host`'s rows: the filter's other terms stay, a `host:` term is replaced.
    fn filter_to_host(&mut self, host: &str) {
        let Some(term) = host_term(host) else {
            self.set_status(
                format!(
                    "the filter cannot name the host {:?}: filter it by its evidence (ev:)",
                    display::escape(host)
                ),
                true,
            );
            return;
        };
        let kept: Vec<&str> = self
            .filter_text
            .split_whitespace()
            .filter(|w| !w.to_lowercase().starts_with("host:"))
            .collect();
        let text = std::iter::once(term.as_str())
            .chain(kept)
            .collect::<Vec<_>>()
            .join(" ");
        self.overlay = None;
        self.set_filter(&text);
        let v = self.store.view(self.view);
        let msg = format!(
            "{text}: {} of {} {} shown (Esc clears)",
            v.shown.len(),
            v.items.len(),
            self.view.title().to_lowercase()
        );
        self.set_status(msg, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bits::model::BitsInfo;

    #[test]
    fn the_host_column_appears_with_the_second_host_and_the_cursor_stays_put() {
        use crate::tui::columns::Col;
        let rec = |host: &str| BitsInfo {
            host: host.into(),
            job_name: "j".into(),
            ..BitsInfo::default()
        };
        let mut store = Store::default();
        store.append(vec![rec("HOST-A"), rec("HOST-A")]);
        let k = ViewKind::Rows;
        assert!(
            !store.columns(k).contains(&Col::Host),
            "one host: not shown"
        );
        let name = store.columns(k).iter().position(|&c| c == Col::Name);
        store.view_mut(k).col_cursor = name.unwrap_or(0);
        store.view_mut(k).first_col = 3;
        store.append(vec![rec("HOST-B")]);
        let cols = store.columns(k);
        assert!(cols.contains(&Col::Host));
        assert_eq!(cols.get(store.view(k).col_cursor), Some(&Col::Name));
        // The Host column came in off screen to the left: the same column stays leftmost.
        assert_eq!(store.view(k).first_col, 4);
    }

    #[test]
    fn host_terms_spell_the_whole_name() {
        assert_eq!(host_term("HOST-A").as_deref(), Some("host:HOST-A"));
        assert_eq!(host_term("my host").as_deref(), Some("host:\"my host\""));
        assert_eq!(host_term("'q").as_deref(), Some("host:\"'q\""));
        assert_eq!(host_term(""), None);
        assert_eq!(host_term("a\"b"), None);
        // Hidden characters are filtered as the table shows them.
        assert_eq!(host_term("a\u{1b}b").as_deref(), Some("host:a\\x1bb"));
    }

    #[test]
    fn the_summary_counts_the_tables_rows_by_host() {
        let rec = |host: &str, id: &str, carved: bool, cmd: &str| BitsInfo {
            host: host.into(),
            host_source: "folder name".into(),
            job_id: id.into(),
            file_id: format!("{id}-f"),
            carved,
            job_command: cmd.into(),
            ..BitsInfo::default()
        };
        let mut store = Store::default();
        store.append(vec![
            rec("HOST-A", "{1}", false, ""),
            rec("HOST-A", "{2}", true, "cmd.exe"),
            rec("HOST-AB", "{3}", false, ""),
        ]);
        let s = summary(&store);
        let names: Vec<&str> = s.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["HOST-A", "HOST-AB"]);
        assert_eq!(
            (
                s[0].jobs,
                s[0].carved,
                s[0].flagged,
                s[0].files,
                s[0].records
            ),
            (2, 1, 1, 2, 2)
        );
        assert_eq!((s[1].jobs, s[1].carved, s[1].flagged), (1, 0, 0));
        // `host:` is the whole name: HOST-A never finds HOST-AB.
        store.set_query(crate::tui::query::Query::parse("host:host-a"));
        assert_eq!(store.view(ViewKind::Rows).shown.len(), 2);
        store.set_query(crate::tui::query::Query::parse("host:HOST"));
        assert_eq!(store.view(ViewKind::Rows).shown.len(), 0);
    }
}
