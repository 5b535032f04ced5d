//! Drawing. Reads the app state, never changes it, and builds widgets only for what is on
//! screen (the visible slice of a table, the visible lines of the hex view). This file draws
//! the frame (header, tabs, gauge, status line, footer) and hands the body to the screen's
//! own drawing: [`super::table_ui`], [`super::detail_ui`], [`super::hex_ui`],
//! [`super::timeline_ui`], and [`super::overlay_ui`] above them.
//!
//! Every string that comes from the evidence (or from the analyst) reaches a widget through
//! [`super::style`]'s escaping helpers.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};
use ratatui::Frame;

use super::app::{App, Screen};
use super::columns::human_size;
use super::display;
use super::display::plural;
use super::keys;
use super::layout::{self, areas, Rendered};
use super::prompt::PromptKind;
use super::store::ViewKind;
use super::style::{esc, esc_styled, fit_line, ACCENT, CARVED, DANGER, DIM, LIVE};
use super::worker::Phase;

pub use super::detail_ui::detail_lines;

/// `  2 rows marked (3 records)`: rows of this view whose records are all marked, and the
/// records (what e and y take) when they differ.
fn marked_label(app: &App) -> String {
    let v = app.store.view(app.view);
    let rows = v.items.iter().filter(|i| app.store.item_marked(i)).count();
    let recs = app.store.mark_count;
    if rows == recs {
        format!("  {recs} marked")
    } else {
        format!(
            "  {rows} row{} marked ({recs} record{})",
            plural(rows),
            plural(recs)
        )
    }
}
/// ` Timeline 40 `: the events shown (each time of a job once), when counted for the
/// filter as it is (the count is made when the timeline is shown).
fn timeline_tab_label(app: &App) -> String {
    if app.timeline.is_current(&app.store) {
        format!(" Timeline {} ", app.timeline.shown.len())
    } else {
        " Timeline ".into()
    }
}

fn tab_label(app: &App, k: ViewKind) -> String {
    let v = app.store.view(k);
    if v.shown.len() == v.items.len() {
        format!(" {} {} ", k.title(), v.items.len())
    } else {
        format!(" {} {}/{} ", k.title(), v.shown.len(), v.items.len())
    }
}

// ---------------------------------------------------------------------------------------------
// Frame
// ---------------------------------------------------------------------------------------------

/// Draw the whole screen, and hand back what the app needs of this frame (see [`Rendered`]).
pub fn draw(f: &mut Frame, app: &App) -> Rendered {
    let mut out = Rendered::default();
    let size = f.area();
    let a = areas(size.width, size.height, app.load.running);
    draw_header(f, app, a.header);
    out.tabs = draw_tabs(f, app, a.tabs);
    if let Some(g) = a.gauge {
        draw_gauge(f, app, g);
    }
    match app.screen {
        Screen::Table => super::table_ui::draw(f, app, a.body),
        Screen::Detail => out.detail = Some(super::detail_ui::draw(f, app, a.body)),
        Screen::Hex => super::hex_ui::draw(f, app, a.body),
        Screen::Timeline => super::timeline_ui::draw(f, app, a.body),
    }
    draw_status(f, app, a.status);
    draw_footer(f, app, a.footer);
    out.overlay = super::overlay_ui::draw(f, app);
    out
}

fn draw_header(f: &mut Frame, app: &App, area: Rect) {
    let mut spans = vec![Span::styled(
        " bitscope ",
        Style::default()
            .fg(Color::Black)
            .bg(ACCENT)
            .add_modifier(Modifier::BOLD),
    )];
    let sep = || Span::styled(" │ ", Style::default().fg(DIM));
    // Counts first (they are never cut), then the path, size and hash (cut with `…`).
    spans.push(Span::raw(" "));
    spans.push(Span::styled(
        format!("{} live", app.store.live_count),
        Style::default().fg(LIVE),
    ));
    spans.push(Span::raw(" · "));
    spans.push(Span::styled(
        // Records, not jobs: the tabs count their own rows (a job's versions are one row).
        format!("{} carved records", app.store.carved_count),
        Style::default().fg(CARVED),
    ));
    if !app.opts.carve {
        spans.push(Span::styled(" (no carving)", Style::default().fg(DIM)));
    }
    // The zone every time on screen is in (`u` toggles it; exports stay UTC).
    spans.push(sep());
    spans.push(Span::raw(format!("times {}", app.store.zone.label())));
    if !app.diagnostics.is_empty() {
        spans.push(sep());
        spans.push(Span::styled(
            format!(
                "{} warning{} (W)",
                app.diagnostics.len(),
                plural(app.diagnostics.len())
            ),
            Style::default().fg(CARVED),
        ));
    }
    if let Some((first, rest)) = app.paths.split_first() {
        spans.push(sep());
        spans.push(esc(&first.display().to_string()));
        if !rest.is_empty() {
            spans.push(Span::raw(format!(" +{} more", rest.len())));
        }
    }
    match app.evidence.as_slice() {
        [] => {}
        [e] => {
            spans.push(sep());
            spans.push(Span::raw(human_size(e.size)));
            spans.push(sep());
            spans.push(Span::styled(
                format!("sha256 {}…", e.sha256.get(..16).unwrap_or(&e.sha256)),
                Style::default().fg(DIM),
            ));
        }
        many => {
            spans.push(sep());
            let total: u64 = many.iter().map(|e| e.size).sum();
            spans.push(Span::raw(format!(
                "{} files, {}",
                many.len(),
                human_size(total)
            )));
        }
    }
    f.render_widget(Paragraph::new(fit_line(spans, area.width)), area);
}

/// What narrows or marks the tables, for the tabs line: the filter, the toggles, the marks.
fn narrowing_spans(app: &App) -> Vec<Span<'static>> {
    let mut right = Vec::new();
    if !app.filter_text.is_empty() {
        right.push(Span::styled("filter ", Style::default().fg(DIM)));
        right.push(esc_styled(
            &app.filter_text,
            Style::default().fg(Color::LightYellow),
        ));
    }
    let cf = app.store.carved_filter.label();
    if !cf.is_empty() {
        right.push(Span::styled(
            format!("  [{cf}]"),
            Style::default().fg(CARVED),
        ));
    }
    if app.store.suspicious_only {
        right.push(Span::styled(
            "  [suspicious only]",
            Style::default().fg(DANGER),
        ));
    }
    if app.store.mark_count > 0 {
        right.push(Span::styled(
            marked_label(app),
            Style::default().add_modifier(Modifier::BOLD),
        ));
    }
    right
}

/// Draw the view tabs (and the filter and marks beside them); returns where the tabs went.
fn draw_tabs(f: &mut Frame, app: &App, area: Rect) -> Vec<(u16, u16)> {
    let mut labels: Vec<String> = ViewKind::ALL.iter().map(|&k| tab_label(app, k)).collect();
    // The timeline is the tab after the tables.
    labels.push(timeline_tab_label(app));
    let tabs = layout::tab_spans(labels.iter().map(|l| display::width(l) as u16));
    let mut spans = Vec::new();
    for (i, k) in ViewKind::ALL.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled("│", Style::default().fg(DIM)));
        }
        let style = if *k == app.view && app.screen == Screen::Table {
            Style::default()
                .fg(Color::Black)
                .bg(ACCENT)
                .add_modifier(Modifier::BOLD)
        } else if *k == app.view {
            Style::default().fg(ACCENT).add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        };
        spans.push(Span::styled(labels[i].clone(), style));
    }
    let on = app.screen == Screen::Timeline;
    spans.push(Span::styled("│", Style::default().fg(DIM)));
    spans.push(Span::styled(
        labels[ViewKind::ALL.len()].clone(),
        if on {
            Style::default()
                .fg(Color::Black)
                .bg(ACCENT)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        },
    ));
    let right = narrowing_spans(app);
    if !right.is_empty() {
        spans.push(Span::raw("   "));
        spans.extend(right);
    }
    f.render_widget(Paragraph::new(fit_line(spans, area.width)), area);
    tabs
}

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

fn draw_gauge(f: &mut Frame, app: &App, area: Rect) {
    let spin = SPINNER[(app.tick as usize) % SPINNER.len()];
    let (ratio, text) = match &app.load.progress {
        None => (0.0, format!("{spin} starting…")),
        Some(p) => {
            let file = if p.files > 1 {
                format!("[{}/{}] ", p.file, p.files)
            } else {
                String::new()
            };
            match p.phase {
                Phase::Reading if p.total > 0 => (
                    p.done as f64 / p.total as f64,
                    format!(
                        "{spin} {file}{} {} / {} · {} records",
                        p.phase.label(),
                        human_size(p.done),
                        human_size(p.total),
                        app.store.recs.len()
                    ),
                ),
                _ => (
                    if p.total > 0 {
                        p.done as f64 / p.total as f64
                    } else {
                        0.0
                    },
                    format!(
                        "{spin} {file}{}… {} records so far (keys work meanwhile; q quits)",
                        p.phase.label(),
                        app.store.recs.len()
                    ),
                ),
            }
        }
    };
    let g = Gauge::default()
        .gauge_style(Style::default().fg(ACCENT).bg(Color::Black))
        .ratio(ratio.clamp(0.0, 1.0))
        .label(text);
    f.render_widget(g, area);
}

fn draw_status(f: &mut Frame, app: &App, area: Rect) {
    if let Some(p) = &app.prompt {
        let (prefix, style) = match p.kind {
            PromptKind::Filter => ("/", Style::default().fg(Color::LightYellow)),
            PromptKind::Export => ("export to: ", Style::default().fg(ACCENT)),
            PromptKind::Case => ("case to: ", Style::default().fg(ACCENT)),
            PromptKind::Note => ("note: ", Style::default().fg(ACCENT)),
        };
        let prefix_w = display::width(prefix) as u16;
        let mut after = String::new();
        let mut after_style = Style::default().fg(DIM);
        if p.kind == PromptKind::Filter {
            let v = app.store.view(app.view);
            after = match &app.store.query.error {
                Some(e) => {
                    after_style = Style::default().fg(DANGER).add_modifier(Modifier::BOLD);
                    format!("   {e}")
                }
                None => format!("   {} of {} shown", v.shown.len(), v.items.len()),
            };
        } else if let Some(s) = &app.status {
            after = format!("   {}", s.text);
        }
        let after_w = display::width(&after) as u16;
        let field_w = area.width.saturating_sub(prefix_w + after_w + 1).max(1);
        let scroll = p.input.visual_scroll(usize::from(field_w));
        // Prompt values never hold hidden characters (they are refused when typed), so the
        // escaped form lines up with the cursor.
        let shown: String = display::escape(p.input.value())
            .chars()
            .skip(scroll)
            .collect();
        let line = Line::from(vec![
            Span::styled(prefix, style.add_modifier(Modifier::BOLD)),
            Span::raw(display::truncate(&shown, usize::from(field_w)).into_owned()),
        ]);
        f.render_widget(Paragraph::new(line), area);
        let after_area = Rect::new(
            area.x + area.width.saturating_sub(after_w),
            area.y,
            after_w.min(area.width),
            area.height,
        );
        f.render_widget(
            Paragraph::new(Span::styled(
                display::escape(&after).into_owned(),
                after_style,
            )),
            after_area,
        );
        let cx = (p.input.visual_cursor().saturating_sub(scroll)) as u16;
        f.set_cursor_position((area.x + prefix_w + cx.min(field_w), area.y));
        return;
    }
    let line = match &app.status {
        Some(s) => {
            let style = if s.error {
                Style::default().fg(DANGER).add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            };
            fit_line(vec![esc_styled(&s.text, style)], area.width)
        }
        None => Line::from(""),
    };
    f.render_widget(Paragraph::new(line), area);
}

fn draw_footer(f: &mut Frame, app: &App, area: Rect) {
    // Whole hints only: those that do not fit are left out (`?` lists every key).
    let mut spans = Vec::new();
    let mut used = 0usize;
    let single = app.selected_members().len() <= 1;
    let hints = keys::hints(app.ctx())
        .into_iter()
        // `[`/`]` switch versions: no hint where there is only one.
        .filter(|(_, word)| !(single && *word == "versions"));
    for (i, (key, word)) in hints.enumerate() {
        let gap = if i > 0 { 2 } else { 0 };
        let w = gap + display::width(&key) + 1 + display::width(word);
        if used + w > usize::from(area.width) {
            break;
        }
        used += w;
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(
            key,
            Style::default().fg(ACCENT).add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::styled(format!(" {word}"), Style::default().fg(DIM)));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
