//! Drawing a table (jobs, files or rows): the header with the sort arrow and the chosen
//! column, the rows on screen with their flags and kinds, and the filter's matches lit.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};
use ratatui::Frame;

use super::app::App;
use super::columns::{short_sid, Col};
use super::display;
use super::layout;
use super::matcher;
use super::query::Field;
use super::store::{flag_codes, Item, Store, View};
use super::style::{cell, ACCENT, CARVED, DANGER, DIM, HIDDEN, LIVE};

/// One header cell: the title (cut, the sort arrow kept whole), lit when it is the column
/// chosen for sorting; the mark column's cell shows `◀` when columns lie off to the left.
fn header_cell(view: &View, c: Col, i: usize, width: u16, left: bool) -> Line<'static> {
    let arrow = match view.sort {
        Some((sc, true)) if sc == c => "▼",
        Some((sc, false)) if sc == c => "▲",
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
    let room = usize::from(width).saturating_sub(display::width(arrow));
    let title = display::truncate(c.title(), room);
    Line::from(Span::styled(format!("{title}{arrow}"), style))
}

/// Why a table shows no row.
fn empty_message(app: &App, view: &View) -> &'static str {
    if app.load.running {
        "loading…"
    } else if view.items.is_empty() {
        "no records of this kind (Tab switches views)"
    } else {
        "no rows match the filter (Esc clears it)"
    }
}

pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let view = app.store.view(app.view);
    let (all_cols, all_widths) = app.table_columns();
    let (left, right) = layout::columns_off_screen(&all_cols, view.first_col, &all_widths);
    // Only the columns that fit (see column_widths); `i` stays the index into all columns.
    let on: Vec<usize> = (0..all_cols.len()).filter(|&i| all_widths[i] > 0).collect();
    let cols: Vec<Col> = on.iter().map(|&i| all_cols[i]).collect();
    let widths: Vec<u16> = on.iter().map(|&i| all_widths[i]).collect();
    let header = Row::new(
        on.iter()
            .map(|&i| header_cell(view, all_cols[i], i, all_widths[i], left)),
    )
    .style(Style::default().add_modifier(Modifier::UNDERLINED));
    let rows_on_screen = usize::from(area.height.saturating_sub(1));
    let end = (view.offset + rows_on_screen).min(view.shown.len());
    let start = view.offset.min(end);
    let rows: Vec<Row> = view.shown[start..end]
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let item = &view.items[i as usize];
            table_row(app, &cols, &widths, item, start + k == view.sel)
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
        f.render_widget(
            Paragraph::new(Span::styled(
                empty_message(app, view),
                Style::default().fg(DIM),
            )),
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
            _ => highlighted(fitted(*c, &store.cell_text(*c, item), w), *c, store, base),
        })
        .collect();
    let mut row = Row::new(cells);
    if selected {
        row = row.style(Style::default().add_modifier(Modifier::REVERSED));
    }
    row
}

/// A cell's text (escaped) fitted to `w` cells: paths and URLs lose whole components from
/// their middle, names their middle, anything else its end.
fn fitted(col: Col, text: &str, w: u16) -> String {
    let e = display::escape(text);
    let w = usize::from(w);
    match col {
        Col::Name | Col::Host => display::elide_middle(&e, w).into_owned(),
        c if c.elides() => display::elide_path(&e, w).into_owned(),
        _ => display::truncate(&e, w).into_owned(),
    }
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
