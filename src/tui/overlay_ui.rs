//! Drawing the overlays: the help (every key, from the binding table, and the filter and
//! flag legends), the column chooser, and the diagnostics; each in a centred box that
//! scrolls and says where it is.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::bits::triage::Rule;

use super::app::App;
use super::display;
use super::display::plural;
use super::keys;
use super::layout::{self, Scroll};
use super::overlay::Overlay;
use super::style::{esc, kv, section, ACCENT, CARVED, DANGER, DIM, HIDDEN, LIVE};

/// `word` in pieces at most `room` cells wide (one piece when it fits).
fn fit_pieces(word: &str, room: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    for c in word.chars() {
        let Some(cur) = out.last_mut() else { break };
        let w = display::width(&c.to_string());
        if !cur.is_empty() && display::width(cur) + w > room {
            out.push(c.to_string());
        } else {
            cur.push(c);
        }
    }
    out
}

/// `text` wrapped to `width` cells after a `head` of `indent` cells: continuation lines start
/// under the text, not at the left edge.
fn hanging(head: Span<'static>, indent: usize, text: &str, width: u16) -> Vec<Line<'static>> {
    let room = usize::from(width).saturating_sub(indent).max(20);
    let mut lines: Vec<String> = vec![String::new()];
    // A word wider than the room is cut into pieces that fit: left to the widget, its
    // wrapped rest would start at column 0.
    let words = text.split(' ').flat_map(|w| fit_pieces(w, room));
    for word in words {
        let word = word.as_str();
        let Some(cur) = lines.last_mut() else { break };
        let w = display::width(cur);
        if w > 0 && w + 1 + display::width(word) > room {
            lines.push(word.to_string());
        } else {
            if w > 0 {
                cur.push(' ');
            }
            cur.push_str(word);
        }
    }
    let pad = " ".repeat(indent);
    let mut head = Some(head);
    lines
        .into_iter()
        .map(|l| {
            let first = head.take().unwrap_or_else(|| Span::raw(pad.clone()));
            Line::from(vec![first, Span::raw(l)])
        })
        .collect()
}

/// The filter's syntax, one line each: (what to type, what it does).
const FILTER_HELP: [(&str, &str); 10] = [
    (
        "words",
        "fuzzy (letters in order; look-alike letters folded: update finds updаte); all must match; case ignored",
    ),
    (
        "a OR b  a | b",
        "alternatives, binding loosest: a b OR c is (a and b) or c; OR in capitals (or is a word); an OR with nothing on one side is an error",
    ),
    ("url: cmd: name: path:", "limit a word to those fields (fuzzy)"),
    (
        "host:NAME",
        "the record's host, the whole name (any case): host:HOST-A never finds HOST-AB; H lists the hosts",
    ),
    (
        "ev: owner: id:",
        "whole components: ev:HOST-A finds HOST-A/… and HOST-AB/…, never HOST-B; ev:HOST-A/ only HOST-A",
    ),
    (
        "site:HOST file:NAME",
        "the URL's host is HOST or a name under it (site:gvt1.com finds edgedl.me.gvt1.com; look-alikes folded) · a file name or local path ending in NAME",
    ),
    (
        "S-1-5-18 {4F2C…} 2026-03-01 10.0.0.5",
        "SIDs, GUIDs (braced or not), dates and IP addresses match whole: S-1-5-1 never finds S-1-5-18, 2026-03-01 never the 10th",
    ),
    (
        "'word \"a phrase\"",
        "exact substring (look-alike letters folded: 'update finds updаte; \"\" in a phrase is one \") · -word: rows NOT matching",
    ),
    (
        "after: before:",
        "UTC: 2026-03, 2026-03-01, 2026-03-01T08:00, 2026-03-01 08:00:00.5; after: a time at or after that instant (inclusive), before: strictly before; together one time in [after, before). The times: created, modified, completed and the job's story (events, MFT, USN); not expiration (modified + 90 days) nor remote modified (the server's clock)",
    ),
    (
        "flag:cmd has:hidden",
        "rows a triage rule fired on (the exact code, below; an unknown one lists them) · has:hidden has:warnings",
    ),
];

/// Every key (from the binding table), the filter's syntax and the flag legend, wrapped to
/// `width` cells.
pub fn help_lines(width: u16) -> Vec<Line<'static>> {
    let key_style = Style::default().fg(ACCENT).add_modifier(Modifier::BOLD);
    let mut out = Vec::new();
    for (title, rows) in keys::help_sections() {
        out.push(section(title));
        for (k, what) in rows {
            let head = Span::styled(format!(" {k:<22}"), key_style);
            out.extend(hanging(head, 23, what, width));
        }
    }
    out.push(section("Filter"));
    for (k, what) in FILTER_HELP {
        let head = Span::styled(format!(" {k:<22}"), key_style);
        let indent = display::width(&head.content).max(23);
        if indent > 23 {
            // A long example takes its own line; the text goes under it.
            out.push(Line::from(head));
            out.extend(hanging(Span::raw(" ".repeat(23)), 23, what, width));
        } else {
            out.extend(hanging(head, indent, what, width));
        }
    }
    out.push(section("Flags column"));
    let flag = |code: &str, color| Span::styled(format!(" {code:<6}"), Style::default().fg(color));
    out.extend(hanging(
        flag("⚠", HIDDEN),
        7,
        "control, bidi or invisible characters, shown as \\xHH or \\u{…}",
        width,
    ));
    out.extend(hanging(
        flag("W", CARVED),
        7,
        "the decoders left warnings on the record (the detail pane lists them; W opens the diagnostics); a carved job's files not found do not count, being the rule for deleted jobs",
        width,
    ));
    for rule in Rule::ALL {
        out.extend(hanging(
            flag(rule.code(), DANGER),
            7,
            rule.explanation(),
            width,
        ));
    }
    out.push(section("Rows"));
    out.extend(hanging(
        Span::styled(" live    ", Style::default().fg(LIVE)),
        9,
        "read through the database's own structures",
        width,
    ));
    out.extend(hanging(
        Span::styled(
            " carved  ",
            Style::default().fg(CARVED).add_modifier(Modifier::ITALIC),
        ),
        9,
        "recovered from free space (×N: copies)",
        width,
    ));
    out
}

/// The column chooser: each column of this table, shown or not, in order.
fn chooser_lines(app: &App) -> Vec<Line<'static>> {
    let mut out = vec![section(&format!("{} table", app.view.title()))];
    for (i, (c, on)) in app.store.column_choice(app.view).into_iter().enumerate() {
        let mut style = if on {
            Style::default().add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(DIM)
        };
        if i == app.chooser {
            style = style.add_modifier(Modifier::REVERSED);
        }
        let mark = if on { "[x]" } else { "[ ]" };
        // Shown only over several hosts (see `Store::columns`).
        let note = if c == super::columns::Col::Host && !app.store.many_hosts() {
            " (one host: not shown)"
        } else {
            ""
        };
        out.push(Line::from(Span::styled(
            format!(" {mark} {}{note}", c.title()),
            style,
        )));
    }
    out
}

fn diagnostics_lines(app: &App) -> Vec<Line<'static>> {
    let mut out = vec![section("Evidence (opened read-only)")];
    for e in &app.evidence {
        out.push(kv("path", &e.path.display().to_string()));
        out.push(kv("size", &format!("{} bytes", e.size)));
        out.push(kv("sha256", &e.sha256));
    }
    out.push(section("Load"));
    let state = if app.load.running {
        "running".to_string()
    } else if let Some(e) = &app.load.failed {
        format!("failed: {e}")
    } else {
        match app.load.elapsed {
            Some(d) => format!("done in {} ms", d.as_millis()),
            None => "idle".into(),
        }
    };
    out.push(kv("state", &state));
    out.push(kv(
        "records",
        &format!(
            "{} ({} live, {} carved){}",
            app.store.recs.len(),
            app.store.live_count,
            app.store.carved_count,
            if app.opts.carve { "" } else { "; carving off" }
        ),
    ));
    out.push(section(&format!(
        "Load warnings ({})",
        app.diagnostics.len()
    )));
    for d in &app.diagnostics {
        out.push(Line::from(vec![Span::raw(" • "), esc(d)]));
    }
    let (records, warnings) = app.store.warning_counts();
    out.push(section(&format!("Record warnings ({warnings})")));
    out.push(Line::from(if records == 0 {
        " no record carries a warning".to_string()
    } else {
        format!(
            " {warnings} warning{} on {records} of {} records: W in the Flags column marks them, the detail pane (Enter) lists them",
            plural(warnings),
            app.store.recs.len()
        )
    }));
    out
}

/// Draw an overlay box; returns the window of its text shown (kept so the last page is
/// full), its position in the bottom border.
fn draw_overlay(f: &mut Frame, app: &App, title: &str, lines: Vec<Line<'static>>) -> Scroll {
    let r = layout::overlay_area(f.area());
    f.render_widget(Clear, r);
    let p = Paragraph::new(lines).wrap(Wrap { trim: false });
    let scroll = Scroll::new(
        usize::from(app.overlay_scroll),
        usize::from(r.height.saturating_sub(2)),
        p.line_count(r.width.saturating_sub(2)),
    );
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(Style::default().fg(ACCENT))
        .title(Span::styled(
            format!(" {title} "),
            Style::default().add_modifier(Modifier::BOLD),
        ));
    if let Some(pos) = scroll.position() {
        block = block.title_bottom(Line::from(format!(" lines {pos} ")).right_aligned());
    }
    let top = u16::try_from(scroll.top).unwrap_or(u16::MAX);
    f.render_widget(p.block(block).scroll((top, 0)), r);
    scroll
}

/// Draw the overlay open, if any; returns the window of its text shown.
pub fn draw(f: &mut Frame, app: &App) -> Option<Scroll> {
    let (title, lines) = match app.overlay? {
        Overlay::Help => {
            let width = layout::overlay_area(f.area()).width.saturating_sub(2);
            ("Keys (? or Esc closes)", help_lines(width))
        }
        Overlay::Columns => (
            "Columns (Space show/hide · K/J move · Esc closes)",
            chooser_lines(app),
        ),
        Overlay::Diagnostics => ("Diagnostics (Esc closes)", diagnostics_lines(app)),
        Overlay::Hosts => {
            let width = layout::overlay_area(f.area()).width.saturating_sub(2);
            (
                "Hosts (Enter: only that host · Esc closes)",
                super::hosts_ui::lines(app, width),
            )
        }
    };
    Some(draw_overlay(f, app, title, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 22, defect 5: no help line is wider than the box (the widget would wrap its rest
    /// to column 0), and every line after a key's first starts indented.
    #[test]
    fn help_lines_wrap_under_their_text() {
        for width in [60u16, 78, 118, 198] {
            let lines = help_lines(width);
            for l in &lines {
                let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
                assert!(
                    display::width(&text) <= usize::from(width),
                    "{width}: {text}"
                );
                assert!(
                    text.is_empty() || text.starts_with(' ') || text.starts_with('─'),
                    "{width}: at column 0: {text}"
                );
            }
        }
        let pieces = fit_pieces("abcdefghij", 4);
        assert_eq!(pieces, vec!["abcd", "efgh", "ij"]);
        assert_eq!(fit_pieces("", 4), vec![""]);
    }
}
