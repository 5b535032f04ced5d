//! Drawing. Reads the app state, never changes it, and builds widgets only for what is on
//! screen (the visible slice of a table, the visible lines of the hex view).
//!
//! Every string that comes from the evidence (or from the analyst) reaches a widget through
//! [`display`]: [`esc`] for whole values, [`cell`] for table cells.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Gauge, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::bits::model::{BitsInfo, Source, SourceKind};
use crate::bits::triage::{Finding, Rule};
use crate::util::guid::Guid;
use crate::util::time::filetime_iso;
use crate::winsec::{parse_sid, well_known_name};

use super::app::{plural, App, Overlay, PromptKind, Screen, SourceSel};
use super::columns::{human_size, short_sid, Col};
use super::display;
use super::fields;
use super::keys;
use super::layout::{self, areas, hex_split, Rendered, Scroll};
use super::matcher;
use super::query::Field;
use super::store::{distinct_warnings, findings, flag_codes, Item, Rec, Store, ViewKind};
use super::worker::Phase;

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

/// A one-line text cut to `width` cells: whole spans while they fit, then the first that
/// does not, cut with `…` (so a cut always shows).
fn fit_line(spans: Vec<Span<'static>>, width: u16) -> Line<'static> {
    let max = usize::from(width);
    let total: usize = spans.iter().map(|s| display::width(&s.content)).sum();
    if total <= max {
        return Line::from(spans);
    }
    let mut out = Vec::new();
    let mut used = 0;
    for s in spans {
        let w = display::width(&s.content);
        if used + w < max {
            used += w;
            out.push(s);
            continue;
        }
        let cut = display::truncate(&s.content, max - used).into_owned();
        out.push(Span::styled(cut, s.style));
        break;
    }
    Line::from(out)
}

/// The Kind cell: `live`, `carved`, with `×N` copies when more than one; words shrink
/// before the count does (a count is never cut while it fits at all).
fn kind_cell(carved: bool, versions: u32, w: u16) -> String {
    let kind = if carved { "carved" } else { "live" };
    if versions <= 1 {
        return cell(kind, w);
    }
    let w = usize::from(w);
    let forms = [
        format!("{kind} ×{versions}"),
        format!("{kind}×{versions}"),
        format!("{}×{versions}", &kind[..1]),
        format!("×{versions}"),
    ];
    forms
        .iter()
        .find(|f| display::width(f) <= w)
        .cloned()
        .unwrap_or_else(|| forms[3].clone())
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
// Styles and text helpers
// ---------------------------------------------------------------------------------------------

const ACCENT: Color = Color::Cyan;
const CARVED: Color = Color::Yellow;
const LIVE: Color = Color::Green;
const DANGER: Color = Color::Red;
const HIDDEN: Color = Color::Magenta;
const DIM: Color = Color::DarkGray;

/// A whole untrusted value as a span (escaped, never cut).
fn esc(s: &str) -> Span<'static> {
    Span::raw(display::escape(s).into_owned())
}

fn esc_styled(s: &str, style: Style) -> Span<'static> {
    Span::styled(display::escape(s).into_owned(), style)
}

/// A table cell: escaped and cut to `w` cells.
fn cell(s: &str, w: u16) -> String {
    display::cell(s, usize::from(w))
}

fn label(s: &str) -> Span<'static> {
    Span::styled(format!("{s:<16}"), Style::default().fg(ACCENT))
}

fn kv(l: &str, v: &str) -> Line<'static> {
    Line::from(vec![label(l), esc(v)])
}

fn section(title: &str) -> Line<'static> {
    Line::from(Span::styled(
        format!("── {title} "),
        Style::default().fg(ACCENT).add_modifier(Modifier::BOLD),
    ))
}

/// Split a display string into spans, the characters matching the filter highlighted (by
/// the filter's own rules: [`matcher::term_positions`]).
fn highlighted(text: String, col: Col, store: &Store, base: Style) -> Line<'static> {
    let fields = col.fields();
    let mut marks = vec![false; text.chars().count()];
    let mut any = false;
    for t in &store.query.terms {
        let scoped: Vec<Field> = t
            .scope
            .fields()
            .iter()
            .copied()
            .filter(|f| fields.contains(f))
            .collect();
        if scoped.is_empty() {
            continue;
        }
        if let Some(pos) = matcher::term_positions(&text, t, &scoped) {
            for i in pos {
                if let Some(m) = marks.get_mut(i) {
                    *m = true;
                    any = true;
                }
            }
        }
    }
    if !any {
        return Line::from(Span::styled(text, base));
    }
    let hl = base
        .fg(Color::LightYellow)
        .add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    let mut spans = Vec::new();
    let mut cur = String::new();
    let mut cur_on = false;
    for (c, on) in text.chars().zip(marks) {
        if on != cur_on && !cur.is_empty() {
            spans.push(Span::styled(
                std::mem::take(&mut cur),
                if cur_on { hl } else { base },
            ));
        }
        cur_on = on;
        cur.push(c);
    }
    if !cur.is_empty() {
        spans.push(Span::styled(cur, if cur_on { hl } else { base }));
    }
    Line::from(spans)
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
        Screen::Table => draw_table(f, app, a.body),
        Screen::Detail => out.detail = Some(draw_detail(f, app, a.body)),
        Screen::Hex => draw_hex(f, app, a.body),
        Screen::Timeline => super::timeline_ui::draw(f, app, a.body),
    }
    draw_status(f, app, a.status);
    draw_footer(f, app, a.footer);
    out.overlay = match app.overlay {
        Some(Overlay::Help) => Some(draw_overlay(f, app, "Keys (? or Esc closes)", help_lines())),
        Some(Overlay::Columns) => Some(draw_overlay(
            f,
            app,
            "Columns (Space show/hide · K/J move · Esc closes)",
            chooser_lines(app),
        )),
        Some(Overlay::Diagnostics) => Some(draw_overlay(
            f,
            app,
            "Diagnostics (Esc closes)",
            diagnostics_lines(app),
        )),
        None => None,
    };
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
        format!("{} carved", app.store.carved_count),
        Style::default().fg(CARVED),
    ));
    if !app.opts.carve {
        spans.push(Span::styled(" (no carving)", Style::default().fg(DIM)));
    }
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
    if let Some(p) = &app.path {
        spans.push(sep());
        spans.push(esc(&p.display().to_string()));
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

// ---------------------------------------------------------------------------------------------
// Table
// ---------------------------------------------------------------------------------------------

fn draw_table(f: &mut Frame, app: &App, area: Rect) {
    let view = app.store.view(app.view);
    let (all_cols, all_widths) = app.table_columns();
    let (left, right) = layout::columns_off_screen(&all_cols, view.first_col, &all_widths);
    // Only the columns that fit (see column_widths); `i` stays the index into all columns.
    let on: Vec<usize> = (0..all_cols.len()).filter(|&i| all_widths[i] > 0).collect();
    let cols: Vec<Col> = on.iter().map(|&i| all_cols[i]).collect();
    let widths: Vec<u16> = on.iter().map(|&i| all_widths[i]).collect();
    let cols = cols.as_slice();
    let header = Row::new(on.iter().map(|&i| {
        let c = all_cols[i];
        let arrow = match view.sort {
            Some((sc, desc)) if sc == c => {
                if desc {
                    "▼"
                } else {
                    "▲"
                }
            }
            _ => "",
        };
        let mut style = Style::default().add_modifier(Modifier::BOLD);
        if c == Col::Mark && left {
            // Columns lie off screen to the left (< scrolls back).
            return Line::from(Span::styled("◀", style.fg(ACCENT)));
        }
        if i == view.col_cursor {
            style = style.fg(Color::Black).bg(ACCENT);
        }
        // The arrow is kept whole; the title gives way.
        let room = usize::from(all_widths[i]).saturating_sub(display::width(arrow));
        let title = display::truncate(c.title(), room);
        Line::from(Span::styled(format!("{title}{arrow}"), style))
    }))
    .style(Style::default().add_modifier(Modifier::UNDERLINED));
    let rows_on_screen = usize::from(area.height.saturating_sub(1));
    let end = (view.offset + rows_on_screen).min(view.shown.len());
    let start = view.offset.min(end);
    let rows: Vec<Row> = view.shown[start..end]
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let item = &view.items[i as usize];
            let selected = start + k == view.sel;
            table_row(app, cols, &widths, item, selected)
        })
        .collect();
    let empty = rows.is_empty();
    let table = Table::new(rows, widths.iter().map(|w| Constraint::Length(*w)))
        .header(header)
        .column_spacing(1);
    f.render_widget(table, area);
    if right && area.width > 0 && area.height > 0 {
        // Columns lie off screen to the right, or gave way (> scrolls to them).
        let at = Rect::new(area.x + area.width - 1, area.y, 1, 1);
        let style = Style::default().fg(ACCENT).add_modifier(Modifier::BOLD);
        f.render_widget(Paragraph::new(Span::styled("▶", style)), at);
    }
    if empty && area.height > 2 {
        let msg = if app.load.running {
            "loading…"
        } else if view.items.is_empty() {
            "no records of this kind (Tab switches views)"
        } else {
            "no rows match the filter (Esc clears it)"
        };
        f.render_widget(
            Paragraph::new(Span::styled(msg, Style::default().fg(DIM))),
            Rect::new(area.x + 2, area.y + 2, area.width.saturating_sub(2), 1),
        );
    }
}

fn table_row(app: &App, cols: &[Col], widths: &[u16], item: &Item, selected: bool) -> Row<'static> {
    let store = &app.store;
    let rep = store.rec(item.rep());
    let (hidden, warned, susp) = store.item_flags(item);
    let carved = rep.info.carved;
    let base = if carved {
        Style::default().fg(CARVED).add_modifier(Modifier::ITALIC)
    } else {
        Style::default()
    };
    let cells: Vec<Line> = cols
        .iter()
        .zip(widths)
        .map(|(c, &w)| match c {
            Col::Mark => {
                if store.item_marked(item) {
                    Line::from(Span::styled("●", Style::default().fg(ACCENT)))
                } else {
                    Line::from(" ")
                }
            }
            Col::Flags => {
                let codes = flag_codes(hidden, warned, susp);
                let style = if hidden {
                    Style::default().fg(HIDDEN).add_modifier(Modifier::BOLD)
                } else if susp == 0 {
                    Style::default().fg(CARVED)
                } else {
                    Style::default().fg(DANGER)
                };
                Line::from(Span::styled(cell(&codes, w), style))
            }
            Col::Kind => {
                let style = if carved {
                    Style::default().fg(CARVED)
                } else {
                    Style::default().fg(LIVE)
                };
                Line::from(Span::styled(kind_cell(carved, item.versions, w), style))
            }
            Col::Owner => {
                let text = short_sid(&store.cell_text(*c, item), usize::from(w));
                highlighted(cell(&text, w), *c, store, base)
            }
            _ => highlighted(cell(&store.cell_text(*c, item), w), *c, store, base),
        })
        .collect();
    let mut row = Row::new(cells);
    if selected {
        row = row.style(Style::default().add_modifier(Modifier::REVERSED));
    }
    row
}

// ---------------------------------------------------------------------------------------------
// Detail
// ---------------------------------------------------------------------------------------------

/// Draw the detail pane; returns the window of its text shown (the scroll kept so the last
/// page is full, never blank).
fn draw_detail(f: &mut Frame, app: &App, area: Rect) -> Scroll {
    let members = app.selected_members().len();
    let mut title = vec![Span::styled(
        " Detail ",
        Style::default().add_modifier(Modifier::BOLD),
    )];
    if members > 1 {
        title.push(Span::styled(
            format!(
                "record {} of {} in this row ([ ] switch) ",
                app.detail.member.min(members - 1) + 1,
                members
            ),
            Style::default().fg(CARVED),
        ));
    }
    let mut lines = detail_lines(app);
    let page = usize::from(area.height.saturating_sub(1));
    // The field cursor: its line lit, and the text scrolled to it when it moved.
    let mut top = usize::from(app.detail.scroll);
    let fields = app
        .detail_record()
        .map(|r| fields::copy_fields(&app.store.rec(r).info))
        .unwrap_or_default();
    let cursor = app.detail.field.min(fields.len().saturating_sub(1));
    if let Some(at) = fields::field_line(&lines, &fields, cursor) {
        let before = Paragraph::new(lines[..at].to_vec())
            .wrap(Wrap { trim: false })
            .line_count(area.width);
        if app.detail.follow {
            if before < top {
                top = before;
            } else if before >= top + page {
                top = before + 1 - page.max(1);
            }
        }
        lines[at] = lines[at]
            .clone()
            .patch_style(Style::default().add_modifier(Modifier::REVERSED));
    }
    let p = Paragraph::new(lines).wrap(Wrap { trim: false });
    let scroll = Scroll::new(top, page, p.line_count(area.width));
    // Where the view is in the record: lines first–last of all.
    if let Some(pos) = scroll.position() {
        title.push(Span::styled(
            format!("lines {pos} "),
            Style::default().fg(DIM),
        ));
    }
    let block = Block::default()
        .borders(Borders::TOP)
        .title(Line::from(title));
    let top = u16::try_from(scroll.top).unwrap_or(u16::MAX);
    f.render_widget(p.block(block).scroll((top, 0)), area);
    scroll
}

fn short_ace_type(t: &str) -> &str {
    t.strip_suffix("AceType")
        .or_else(|| t.strip_suffix("Ace"))
        .unwrap_or(t)
}

fn source_lines(out: &mut Vec<Line<'static>>, what: &str, s: &Source) {
    out.push(Line::from(vec![
        label(what),
        Span::styled(
            s.kind.as_str(),
            Style::default().fg(if s.kind == SourceKind::Carved {
                CARVED
            } else {
                LIVE
            }),
        ),
        Span::raw(" · "),
        esc(&s.container),
        Span::raw(match (s.page, s.tag) {
            (Some(p), Some(t)) => format!(" · page {p}, tag {t}"),
            (Some(p), None) => format!(" · page {p}"),
            _ => String::new(),
        }),
    ]));
    out.push(kv("  evidence", &s.evidence));
    if !s.container_chain.is_empty() {
        out.push(kv("  inside", &s.container_chain.join(super::origin::STEP)));
    }
    // Two places, each named: the offset in the file the chain ends in (the store), and
    // where the bytes lie in the evidence as read (through the containers).
    let file = s
        .container_chain
        .last()
        .map(|f| format!(" in {f}"))
        .unwrap_or_default();
    out.push(kv(
        if s.container_chain.is_empty() {
            "  bytes"
        } else {
            "  in file"
        },
        &format!(
            "offset {:#x} ({}), {} bytes{file}",
            s.offset, s.offset, s.length
        ),
    ));
    if s.extents.len() > 1 {
        let ext: Vec<String> = s
            .extents
            .iter()
            .map(|(o, l)| format!("{o:#x}+{l}"))
            .collect();
        out.push(kv("  pieces", &ext.join(", ")));
    }
    if !s.also_at.is_empty() {
        let at: Vec<String> = s.also_at.iter().map(|o| format!("{o:#x}")).collect();
        out.push(kv("  also at", &at.join(", ")));
    }
    if let Some(p) = &s.in_evidence {
        let at = match p.offset {
            Some(o) => format!("{}: offset {o:#x} ({o})", p.coordinate),
            None => format!("{}: stored nowhere as read ({})", p.coordinate, p.note),
        };
        out.push(kv("  in evidence", &at));
        if p.extents.len() > 1 || p.extents_omitted > 0 {
            let mut ext: Vec<String> = p
                .extents
                .iter()
                .map(|x| match x.offset {
                    Some(o) => format!("{o:#x}+{}", x.length),
                    None => format!("zeros+{}", x.length),
                })
                .collect();
            if p.extents_omitted > 0 {
                ext.push(format!("{} more", p.extents_omitted));
            }
            out.push(kv("  evidence pieces", &ext.join(", ")));
        }
        if !p.also_at.is_empty() {
            let at: Vec<String> = p.also_at.iter().map(|o| format!("{o:#x}")).collect();
            out.push(kv("  copies at", &at.join(", ")));
        }
    }
    // Field ranges are decoded from the record's bytes when the hex view opens.
    let fields = if s.fields.is_empty() {
        "annotated in the hex view (x)".to_string()
    } else {
        format!("{} annotated (x opens the hex view)", s.fields.len())
    };
    out.push(kv("  fields", &fields));
}

/// Job-level fields compared between versions of one job.
/// A field compared between versions: its label and how to read it.
type VersionField = (&'static str, fn(&BitsInfo) -> String);

const VERSION_FIELDS: [VersionField; 18] = [
    ("state", |r| r.job_state.clone()),
    ("name", |r| r.job_name.clone()),
    ("description", |r| r.job_description.clone()),
    ("notify command", |r| r.job_command.clone()),
    ("notify args", |r| r.job_arguments.clone()),
    ("notify program", |r| r.target_path.clone()),
    ("type", |r| r.job_type.clone()),
    ("priority", |r| r.priority.clone()),
    ("notify flags", |r| r.flags.clone()),
    ("owner", |r| r.owner_sid.clone()),
    ("created", |r| r.created.clone()),
    ("modified", |r| r.modified.clone()),
    ("completed", |r| r.completed.clone()),
    ("expiration", |r| r.expiration.clone()),
    ("errors", |r| {
        format!("{} ({} transient)", r.error_count, r.transient_error_count)
    }),
    ("url", |r| r.url.clone()),
    ("local path", |r| r.full_path.clone()),
    ("security", |r| r.sddl.clone()),
];

/// Other copies of this record's job (same job id, distinct job record): (record, offset).
/// The copies of a record's job: (record, offset, carved, what the offset counts). Offsets are
/// in the evidence as read where the record has a place there, else in its store file.
fn versions_of(store: &Store, rec: &Rec) -> Vec<(u32, u64, bool, String)> {
    let id = &rec.info.job_id;
    if id.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<(u32, u64, bool, String)> = Vec::new();
    for (i, r) in store.recs.iter().enumerate() {
        if r.info.job_id != *id {
            continue;
        }
        let Some(s) = &r.info.job_source else {
            continue;
        };
        let (off, what) = match s.in_evidence.as_ref() {
            Some(p) if p.offset.is_some() => (p.offset.unwrap_or(s.offset), p.coordinate.clone()),
            _ => match s.container_chain.last() {
                Some(f) => (s.offset, format!("in {f}")),
                // A bare store: its offsets are the evidence file's.
                None => (s.offset, String::new()),
            },
        };
        if out.iter().any(|(_, o, _, w)| *o == off && *w == what) {
            continue;
        }
        out.push((i as u32, off, r.info.carved, what));
    }
    out
}

/// One triage finding: the rule, then the field and the value that fired it (escaped, whole
/// like every value of the pane: a path's end is what fired), then why when the value alone
/// does not say.
fn finding_line(f: &Finding) -> Line<'static> {
    let mut spans = vec![
        Span::styled(
            format!("suspicious [{}] {}: ", f.rule.code(), f.rule.name()),
            Style::default().fg(DANGER),
        ),
        Span::styled(format!("{} ", f.field), Style::default().fg(ACCENT)),
        esc(&f.value),
    ];
    if !f.note.is_empty() {
        spans.push(Span::styled(
            format!(" ({})", display::escape(&f.note)),
            Style::default().fg(DIM),
        ));
    }
    Line::from(spans)
}

pub fn detail_lines(app: &App) -> Vec<Line<'static>> {
    let Some(ri) = app.detail_record() else {
        return vec![Line::from("no record selected")];
    };
    let store = &app.store;
    let rec = store.rec(ri);
    let r = &rec.info;
    let mut out: Vec<Line<'static>> = Vec::new();

    let kind = if r.carved {
        Span::styled(
            "CARVED (recovered from free space; not in the live job list)",
            Style::default().fg(CARVED).add_modifier(Modifier::BOLD),
        )
    } else {
        Span::styled(
            "live",
            Style::default().fg(LIVE).add_modifier(Modifier::BOLD),
        )
    };
    out.push(Line::from(vec![label("record"), kind]));
    if rec.hidden {
        out.push(Line::from(Span::styled(
            "⚠ holds control, bidi or invisible characters: shown as \\xHH / \\u{…} escapes (copy and export keep the raw text)",
            Style::default().fg(HIDDEN).add_modifier(Modifier::BOLD),
        )));
    }
    out.extend(findings(rec).iter().map(finding_line));

    out.push(section("Job"));
    // A file record no job claims (an orphan) has no job values: each shows `—`, never a
    // default such as `errors 0 · timeout 0 s` that reads like evidence.
    let no_job = r.job_source.is_none() && r.job_id.is_empty();
    if no_job {
        out.push(Line::from(Span::styled(
            "no job record holds this file (an orphan file record)",
            Style::default().fg(CARVED),
        )));
    }
    let job = |v: String| if no_job { "—".to_string() } else { v };
    out.push(kv("job id", &job(r.job_id.clone())));
    out.push(kv("name", &job(r.job_name.clone())));
    out.push(kv("description", &job(r.job_description.clone())));
    out.push(kv(
        "type/state",
        &job(format!(
            "{} · {} · priority {}",
            r.job_type, r.job_state, r.priority
        )),
    ));
    out.push(kv("notify flags", &job(r.flags.clone())));
    let cmd_style = if r.job_command.is_empty() {
        Style::default()
    } else {
        Style::default().fg(DANGER).add_modifier(Modifier::BOLD)
    };
    out.push(Line::from(vec![
        label("notify command"),
        esc_styled(&job(r.job_command.clone()), cmd_style),
    ]));
    out.push(Line::from(vec![
        label("notify args"),
        esc_styled(&job(r.job_arguments.clone()), cmd_style),
    ]));
    out.push(kv("notify program", &job(r.target_path.clone())));
    out.push(kv("created", &job(r.created.clone())));
    out.push(kv("modified", &job(r.modified.clone())));
    out.push(kv("completed", &job(r.completed.clone())));
    out.push(kv("expiration", &job(r.expiration.clone())));
    out.push(kv(
        "errors",
        &job(format!(
            "{} · transient {} · timeout {} s · retry delay {} s",
            r.error_count, r.transient_error_count, r.timeout, r.retry_delay
        )),
    ));
    out.push(kv("http method", &job(r.http_method.clone())));

    out.push(section("File"));
    out.push(kv("file id", &r.file_id));
    out.push(kv("url", &r.url));
    out.push(kv("local path", &r.full_path));
    out.push(kv("file name", &r.filename));
    out.push(kv("temp path", &r.tmp_fullpath));
    out.push(kv("volume", &r.volume));
    out.push(kv("drive", &r.drive));
    let total = if r.bytes_transferred == u64::MAX {
        "unknown".to_string()
    } else {
        r.bytes_transferred.to_string()
    };
    out.push(kv(
        "bytes",
        &format!("{} downloaded of {total}", r.bytes_downloaded),
    ));
    out.push(kv("remote modified", &r.remote_modified));

    out.push(section("Owner and SIDs"));
    let name = |sid: &str| -> String {
        well_known_name(sid)
            .map(|n| format!("  ({n})"))
            .unwrap_or_default()
    };
    out.push(Line::from(vec![
        label("owner"),
        esc(&r.owner_sid),
        Span::styled(name(&r.owner_sid), Style::default().fg(LIVE)),
    ]));
    for (i, sid) in r.additional_sids.iter().enumerate() {
        out.push(Line::from(vec![
            label(if i == 0 { "additional SIDs" } else { "" }),
            esc(sid),
            Span::styled(name(sid), Style::default().fg(LIVE)),
        ]));
    }

    out.push(section(&format!("ACL ({} entries)", r.acls.len())));
    if !r.acls.is_empty() {
        out.push(Line::from(Span::styled(
            format!(
                " {:<3}{:<22}{:<34}{}",
                "#", "type", "principal", "sid · flags · mask"
            ),
            Style::default().add_modifier(Modifier::UNDERLINED),
        )));
    }
    for (i, a) in r.acls.iter().enumerate() {
        let principal = if a.account.is_empty() {
            "(no well-known name)".to_string()
        } else {
            a.account.clone()
        };
        let ty = short_ace_type(&a.ace_type);
        let ty_style = if ty.contains("Denied") {
            Style::default().fg(DANGER)
        } else {
            Style::default().fg(LIVE)
        };
        let flags = if a.flags.is_empty() {
            "-".to_string()
        } else {
            a.flags.join("|")
        };
        out.push(Line::from(vec![
            Span::raw(format!(" {:<3}", i + 1)),
            esc_styled(&format!("{ty:<22}"), ty_style),
            esc(&format!("{principal:<34}")),
            esc(&format!("{} · {flags} · {:#010x}", a.sid, a.mask)),
        ]));
        out.push(Line::from(vec![
            Span::raw("    rights: "),
            esc(&a.access_rights.join(", ")),
        ]));
        if !a.object_type_guid.is_empty() || !a.inherited_object_type_guid.is_empty() {
            out.push(Line::from(vec![
                Span::raw("    object: "),
                esc(&format!(
                    "{} {} {}",
                    a.object_flags, a.object_type_guid, a.inherited_object_type_guid
                )),
            ]));
        }
    }
    out.push(kv("SDDL", &r.sddl));

    out.push(section("Provenance"));
    if let Some(s) = &r.job_source {
        source_lines(&mut out, "job record", s);
    }
    if let Some(s) = &r.file_source {
        source_lines(&mut out, "file record", s);
    }
    if r.versions > 1 {
        out.push(kv(
            "versions",
            &format!("{} copies of this job", r.versions),
        ));
    }
    if !r.missing_fields.is_empty() {
        out.push(kv("not recovered", &r.missing_fields.join(", ")));
    }

    let versions = versions_of(store, rec);
    if versions.len() > 1 {
        out.push(section(&format!(
            "Versions of this job ({} copies)",
            versions.len()
        )));
        for (n, (i, off, carved, what)) in versions.iter().enumerate() {
            let this = if *i == ri { "  ← this one" } else { "" };
            out.push(Line::from(vec![
                Span::raw(format!(" #{:<3}", n + 1)),
                Span::styled(
                    if *carved { "carved" } else { "live  " },
                    Style::default().fg(if *carved { CARVED } else { LIVE }),
                ),
                Span::raw(format!(" @ {off:#x}")),
                esc_styled(
                    &if what.is_empty() {
                        String::new()
                    } else {
                        format!(" ({what})")
                    },
                    Style::default().fg(DIM),
                ),
                Span::styled(this, Style::default().add_modifier(Modifier::BOLD)),
            ]));
        }
        let mut differs = false;
        for (name, get) in VERSION_FIELDS {
            let vals: Vec<String> = versions
                .iter()
                .map(|(i, _, _, _)| get(&store.rec(*i).info))
                .collect();
            if vals.iter().all(|v| *v == vals[0]) {
                continue;
            }
            differs = true;
            for (n, v) in vals.iter().enumerate() {
                out.push(Line::from(vec![
                    label(if n == 0 { name } else { "" }),
                    Span::raw(format!("#{:<3}", n + 1)),
                    esc(v),
                ]));
            }
        }
        if !differs {
            out.push(Line::from(" no differences in the compared fields"));
        }
    }

    let warnings = distinct_warnings(r);
    out.push(section(&format!("Warnings ({})", warnings.len())));
    for w in warnings {
        out.push(Line::from(vec![Span::raw(" • "), esc(w)]));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Hex
// ---------------------------------------------------------------------------------------------

const FIELD_COLORS: [Color; 6] = [
    Color::LightBlue,
    Color::LightGreen,
    Color::LightMagenta,
    Color::LightCyan,
    Color::LightRed,
    Color::Yellow,
];

fn utf16_char(lo: u8, hi: u8) -> char {
    let c = char::from_u32(u32::from(u16::from_le_bytes([lo, hi]))).unwrap_or('.');
    // ASCII only: random bytes read as Latin or CJK letters are noise, and every column must
    // stay one cell wide.
    let printable = matches!(c as u32, 0x20..=0x7E);
    if printable {
        c
    } else {
        '.'
    }
}

/// The inspector's UTF-16 reading of the bytes at the cursor, one cell per code unit: ASCII
/// and the letters of the Latin, Greek and Cyrillic blocks as themselves, anything else `·`
/// (the bytes are beside it). Bytes that are not text read as CJK, combining marks or
/// unassigned code points, whose width terminals disagree on: one such character at the
/// right edge shifted the line and left a stale `"` there.
fn utf16_preview(units: &[u16]) -> String {
    char::decode_utf16(units.iter().copied())
        .map(|c| match c.map(|c| (c, c as u32)) {
            Ok((
                c,
                0x20..=0x7E
                | 0xC0..=0x24F
                | 0x391..=0x3A1
                | 0x3A3..=0x3A9
                | 0x3B1..=0x3C9
                | 0x400..=0x45F,
            )) if c != '\u{D7}' && c != '\u{F7}' => c,
            _ => '·',
        })
        .collect()
}

fn draw_hex(f: &mut Frame, app: &App, area: Rect) {
    let (hex_area, insp_area) = hex_split(area);
    let h = &app.hex;
    let which = match h.source {
        SourceSel::Job => "job record",
        SourceSel::File => "file record",
    };
    let title = Line::from(vec![
        Span::styled(" Hex ", Style::default().add_modifier(Modifier::BOLD)),
        Span::styled(
            format!(
                "{which} ({}) @ {:#x}{}, {} bytes ",
                if h.carved { "carved" } else { "live" },
                h.extents.first().map(|e| e.0).unwrap_or(0),
                if h.coordinate.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", h.coordinate)
                },
                h.record_len
            ),
            Style::default().fg(if h.carved { CARVED } else { LIVE }),
        ),
        esc_styled(&h.evidence, Style::default().fg(DIM)),
    ]);
    let block = Block::default().borders(Borders::TOP).title(title);
    let rows = usize::from(hex_area.height.saturating_sub(1));
    let mut lines: Vec<Line> = Vec::with_capacity(rows);
    if let Some(e) = &h.error {
        lines.push(Line::from(esc_styled(e, Style::default().fg(DANGER))));
    }
    for r in 0..rows as u64 {
        let line_off = h.top + r * 16;
        if h.file_len > 0 && line_off >= h.file_len {
            break;
        }
        let mut spans = vec![Span::styled(
            format!("{line_off:08x}  "),
            Style::default().fg(DIM),
        )];
        let mut ascii = Vec::new();
        let mut utf16 = String::new();
        for b in 0..16u64 {
            let off = line_off + b;
            let byte = h.byte(off);
            let mut style = Style::default();
            if h.in_record(off) {
                style = style.bg(Color::Rgb(40, 40, 60));
                if let Some(fi) = h.field_at(off) {
                    style = style.fg(FIELD_COLORS[fi % FIELD_COLORS.len()]);
                } else {
                    style = style.fg(Color::White);
                }
            } else {
                style = style.fg(DIM);
            }
            if off == h.cursor {
                style = style.add_modifier(Modifier::REVERSED | Modifier::BOLD);
            }
            let text = match byte {
                Some(v) => format!("{v:02x}"),
                None => "  ".into(),
            };
            spans.push(Span::styled(text, style));
            spans.push(Span::raw(if b == 7 { "  " } else { " " }));
            let ch = match byte {
                Some(v @ 0x20..=0x7e) => v as char,
                Some(_) => '.',
                None => ' ',
            };
            ascii.push(Span::styled(ch.to_string(), style));
            if b % 2 == 0 {
                utf16.push(match (byte, h.byte(off + 1)) {
                    (Some(lo), Some(hi)) => utf16_char(lo, hi),
                    _ => ' ',
                });
            }
        }
        spans.push(Span::raw(" "));
        spans.extend(ascii);
        spans.push(Span::raw("  "));
        spans.push(Span::styled(utf16, Style::default().fg(Color::Gray)));
        lines.push(Line::from(spans));
    }
    f.render_widget(Paragraph::new(lines).block(block), hex_area);
    draw_inspector(f, app, insp_area);
}

fn inspector_lines(app: &App) -> Vec<Line<'static>> {
    let h = &app.hex;
    let c = h.cursor;
    let b = h.bytes_at(c, 80);
    let mut out = Vec::new();
    let rel = h
        .record_offset(c)
        .map(|r| format!("record +{r:#x}"))
        .unwrap_or_else(|| "outside the record".into());
    out.push(Line::from(vec![
        Span::styled(
            format!("cursor {c:#x} ({c}) "),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::raw(rel),
    ]));
    match h.field_at(c) {
        Some(fi) => {
            let (s, e, _) = h
                .fields
                .iter()
                .find(|x| x.2 == fi && c >= x.0 && c < x.1)
                .copied()
                .unwrap_or((c, c, fi));
            out.push(Line::from(vec![
                Span::styled(
                    "field  ",
                    Style::default().fg(FIELD_COLORS[fi % FIELD_COLORS.len()]),
                ),
                esc(h.field_names.get(fi).map(String::as_str).unwrap_or("")),
                Span::raw(format!(" (+{}, {} bytes here)", c - s, e - s)),
            ]));
        }
        None => out.push(Line::from(Span::styled(
            "field  (none annotated)",
            Style::default().fg(DIM),
        ))),
    }
    let arr = |n: usize| -> Option<Vec<u8>> { b.get(..n).map(<[u8]>::to_vec) };
    let u16v = arr(2).map(|x| u16::from_le_bytes([x[0], x[1]]));
    let u32v = arr(4).map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]));
    let u64v = arr(8).map(|x| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&x);
        u64::from_le_bytes(a)
    });
    let na = || "—".to_string();
    let kvs: Vec<(&str, String)> = vec![
        (
            "u8/i8",
            b.first()
                .map(|v| format!("{v} / {}", *v as i8))
                .unwrap_or_else(na),
        ),
        (
            "u16 le",
            u16v.map(|v| format!("{v} / {} / {v:#06x}", v as i16))
                .unwrap_or_else(na),
        ),
        (
            "u32 le",
            u32v.map(|v| format!("{v} / {} / {v:#010x}", v as i32))
                .unwrap_or_else(na),
        ),
        ("u64 le", u64v.map(|v| v.to_string()).unwrap_or_else(na)),
        (
            "FILETIME",
            u64v.map(|v| {
                let s = filetime_iso(v);
                if s.is_empty() {
                    "not a time".to_string()
                } else {
                    s
                }
            })
            .unwrap_or_else(na),
        ),
        (
            "GUID",
            Guid::from_slice(b)
                .map(|g| g.to_string())
                .unwrap_or_else(na),
        ),
        (
            "SID",
            parse_sid(b)
                .map(|(s, _)| {
                    let s = s.to_string();
                    match well_known_name(&s) {
                        Some(n) => format!("{s} ({n})"),
                        None => s,
                    }
                })
                .unwrap_or_else(|| "not a SID".into()),
        ),
        ("UTF-16", {
            let units: Vec<u16> = b
                .chunks_exact(2)
                .map(|p| u16::from_le_bytes([p[0], p[1]]))
                .take_while(|&u| u != 0)
                .take(16)
                .collect();
            format!("\"{}\"", utf16_preview(&units))
        }),
    ];
    for (k, v) in kvs {
        out.push(Line::from(vec![
            Span::styled(format!("{k:<9}"), Style::default().fg(ACCENT)),
            esc(&v),
        ]));
    }
    if !h.field_names.is_empty() {
        out.push(Line::from(Span::styled(
            format!("fields ({}; n/N jump)", h.field_names.len()),
            Style::default().add_modifier(Modifier::BOLD),
        )));
        let cur = h.field_at(c);
        // Each field once, by its first piece, from a little before the current one.
        let mut firsts: Vec<(u64, u64, usize)> = Vec::new();
        for &(s, e, fi) in &h.fields {
            if !firsts.iter().any(|x| x.2 == fi) {
                firsts.push((s, e, fi));
            }
        }
        let at = cur
            .and_then(|fi| firsts.iter().position(|x| x.2 == fi))
            .unwrap_or(0);
        for &(s, _, fi) in firsts.iter().skip(at.saturating_sub(2)) {
            let len = h
                .fields
                .iter()
                .filter(|x| x.2 == fi)
                .map(|x| x.1 - x.0)
                .sum::<u64>();
            let rel = h.record_offset(s).unwrap_or(0);
            let mut style = Style::default().fg(FIELD_COLORS[fi % FIELD_COLORS.len()]);
            if Some(fi) == cur {
                style = style.add_modifier(Modifier::REVERSED);
            }
            out.push(Line::from(vec![
                Span::raw(format!("+{rel:<6x}{len:>5}  ")),
                esc_styled(
                    h.field_names.get(fi).map(String::as_str).unwrap_or(""),
                    style,
                ),
            ]));
        }
    }
    out
}

fn draw_inspector(f: &mut Frame, app: &App, area: Rect) {
    let block = Block::default()
        .borders(Borders::TOP | Borders::LEFT)
        .title(Span::styled(
            " Inspector ",
            Style::default().add_modifier(Modifier::BOLD),
        ));
    let p = Paragraph::new(inspector_lines(app))
        .block(block)
        .wrap(Wrap { trim: false });
    f.render_widget(p, area);
}

// ---------------------------------------------------------------------------------------------
// Overlays
// ---------------------------------------------------------------------------------------------

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_preview_is_one_narrow_cell_per_unit() {
        // Every code unit, alone and after a high surrogate: one cell each, no combining
        // mark, no wide or hidden character.
        for u in 0..=u16::MAX {
            for units in [vec![u], vec![0xD800, u]] {
                let p = utf16_preview(&units);
                assert_eq!(display::width(&p), p.chars().count(), "{units:x?}");
                assert!(!display::has_hidden(&p), "{units:x?}");
                assert!(p.chars().count() <= units.len(), "{units:x?}");
            }
        }
        assert_eq!(utf16_preview(&[0x41, 0xE9, 0x0301, 0x4E2D, 0x416]), "Aé··Ж");
    }
}
