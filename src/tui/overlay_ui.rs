//! Drawing the overlays: the help (every key, from the binding table, and the filter and
//! flag legends), the column chooser, and the diagnostics; each in a centred box that
//! scrolls and says where it is.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::bits::triage::Rule;

use super::app::App;
use super::display::plural;
use super::keys;
use super::layout::{self, Scroll};
use super::overlay::Overlay;
use super::style::{esc, kv, section, ACCENT, CARVED, DANGER, DIM, HIDDEN, LIVE};

pub fn help_lines() -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for (title, rows) in keys::help_sections() {
        out.push(section(title));
        for (k, what) in rows {
            out.push(Line::from(vec![
                Span::styled(
                    format!(" {k:<22}"),
                    Style::default().fg(ACCENT).add_modifier(Modifier::BOLD),
                ),
                Span::raw(what),
            ]));
        }
    }
    out.push(section("Filter"));
    for l in [
        " words are fuzzy (letters in order), all must match, case ignored",
        " url:  cmd:  name:  owner:  path:  id:  ev:   limit a word to those fields",
        " 'word or \"a phrase\"   exact substring     -word  -url:x   rows NOT matching",
        " SIDs and GUIDs (S-1-5-18, {4f2c…, 4f2c1a0b…) match ids exactly or by prefix",
        " has:hidden  has:warnings   rows holding hidden characters / decoder warnings",
    ] {
        out.push(Line::from(l));
    }
    out.push(section("Flags column"));
    out.push(Line::from(vec![
        Span::styled(" ⚠     ", Style::default().fg(HIDDEN)),
        Span::raw("control, bidi or invisible characters, shown as \\xHH or \\u{…}"),
    ]));
    for rule in Rule::ALL {
        out.push(Line::from(vec![
            Span::styled(format!(" {:<6}", rule.code()), Style::default().fg(DANGER)),
            Span::raw(rule.explanation()),
        ]));
    }
    out.push(section("Rows"));
    out.push(Line::from(vec![
        Span::styled(" live ", Style::default().fg(LIVE)),
        Span::raw("read through the database's own structures   "),
        Span::styled(
            "carved",
            Style::default().fg(CARVED).add_modifier(Modifier::ITALIC),
        ),
        Span::raw(" recovered from free space (×N: copies)"),
    ]));
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
        out.push(Line::from(Span::styled(
            format!(" {mark} {}", c.title()),
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
        Overlay::Help => ("Keys (? or Esc closes)", help_lines()),
        Overlay::Columns => (
            "Columns (Space show/hide · K/J move · Esc closes)",
            chooser_lines(app),
        ),
        Overlay::Diagnostics => ("Diagnostics (Esc closes)", diagnostics_lines(app)),
    };
    Some(draw_overlay(f, app, title, lines))
}
