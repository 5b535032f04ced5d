//! Drawing the timeline: the events per day (a sparkline sized to the screen) above the
//! events in time order. Reads [`super::timeline::Timeline`], never changes it; every value
//! from the evidence goes through [`display::cell`].

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Sparkline, Table};
use ratatui::Frame;

use super::app::App;
use super::display;
use super::layout::timeline_split;
use super::timeline::{day_label, Event, Timeline};

const TIME_W: u16 = 23;
const EVENT_W: u16 = 9;
const KIND_W: u16 = 6;

pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let (chart, table) = timeline_split(area);
    draw_chart(f, &app.timeline, chart);
    draw_events(f, app, table);
}

/// The chart's title: the days it covers, how many each column stands for, and the day under
/// the cursor.
fn chart_title(t: &Timeline, per: i64, first: i64) -> String {
    let Some((&last, _)) = t.per_day.last_key_value() else {
        return " Events per day: none ".into();
    };
    let span = if per == 1 {
        "1 column = 1 day".to_string()
    } else {
        format!("1 column = {per} days")
    };
    let cursor = t
        .selected()
        .map(|e| format!(" · cursor {}", day_label(t.day(e.at))))
        .unwrap_or_default();
    format!(
        " Events per day ({}) {} … {} · {span} · busiest {}{cursor} ",
        t.zone.label(),
        day_label(first),
        day_label(last),
        t.per_day.values().max().copied().unwrap_or(0)
    )
}

/// Columns between date ticks: a date is 10 cells, two spaces apart at least.
const TICK_STEP: usize = 16;

/// The date axis under `bars` columns (`per` days each, the first on `first`) in `width`
/// cells: a date under every `TICK_STEP`th column, starting at that column (the day its
/// column starts with), and the last column's date where it fits.
pub fn axis(first: i64, per: i64, bars: usize, width: usize) -> String {
    let mut line = String::new();
    let put = |col: usize, line: &mut String| {
        let label = day_label(first.saturating_add((col as i64).saturating_mul(per)));
        let room = line.is_empty() || col >= line.chars().count() + 2;
        if room && col + label.len() <= width {
            let pad = col.saturating_sub(line.chars().count());
            line.push_str(&" ".repeat(pad));
            line.push_str(&label);
        }
    };
    for col in (0..bars).step_by(TICK_STEP) {
        put(col, &mut line);
    }
    if bars > 1 {
        put(bars - 1, &mut line);
    }
    line
}

/// The chart column of a day: its bucket.
fn column_of(day: i64, per: i64, first: i64) -> Option<u16> {
    u16::try_from((day.saturating_sub(first)) / per.max(1)).ok()
}

/// Draw a marker down a chart column: `│` where no bar is, the bar recoloured where one is.
fn mark_column(f: &mut Frame, bars: Rect, col: u16, glyph: &str, color: Color) {
    if col >= bars.width {
        return;
    }
    let buf = f.buffer_mut();
    for y in bars.y..bars.y + bars.height {
        if let Some(cell) = buf.cell_mut((bars.x + col, y)) {
            if cell.symbol() == " " {
                cell.set_symbol(glyph);
            }
            cell.set_fg(color);
        }
    }
}

fn draw_chart(f: &mut Frame, t: &Timeline, area: Rect) {
    if area.height < 3 {
        return;
    }
    let columns = usize::from(area.width);
    let (data, per, first) = t.buckets(columns);
    let block = Block::default()
        .borders(Borders::TOP)
        .title(display::truncate(&chart_title(t, per, first), columns).into_owned());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let bars = Rect::new(inner.x, inner.y, inner.width, inner.height - 1);
    f.render_widget(
        Sparkline::default()
            .data(&data)
            .style(Style::default().fg(Color::Cyan)),
        bars,
    );
    if data.is_empty() {
        return;
    }
    // Where a zoom starts (z pressed once), then the cursor over it.
    if let Some(col) = t.zoom_from.and_then(|ms| column_of(t.day(ms), per, first)) {
        mark_column(f, bars, col, "┆", Color::Magenta);
    }
    if let Some(col) = t
        .selected()
        .and_then(|e| column_of(t.day(e.at), per, first))
    {
        mark_column(f, bars, col, "│", Color::Yellow);
    }
    let row = Rect::new(inner.x, inner.y + inner.height - 1, inner.width, 1);
    f.render_widget(
        Paragraph::new(Span::styled(
            axis(first, per, data.len(), usize::from(inner.width)),
            Style::default().fg(Color::DarkGray),
        )),
        row,
    );
}

/// The record's URL, else its local path, else its file name.
fn target(r: &crate::bits::model::BitsInfo) -> &str {
    [&r.url, &r.full_path, &r.filename]
        .into_iter()
        .find(|s| !s.is_empty())
        .map_or("", String::as_str)
}

/// The Host column's width: over several hosts their longest name, at most 16 cells (a
/// longer one loses its middle); 0 (no column) over one host, as in the tables.
fn host_width(app: &App) -> u16 {
    if !app.store.many_hosts() {
        return 0;
    }
    let widest =
        app.store.view(super::store::ViewKind::Rows).naturals[super::columns::Col::Host.index()];
    widest.clamp(4, 16)
}

fn event_row(app: &App, e: &Event, widths: (u16, u16, u16), selected: bool) -> Row<'static> {
    let r = &app.store.rec(e.rec).info;
    let (kind, kind_style) = if r.carved {
        ("carved", Style::default().fg(Color::Yellow))
    } else {
        ("live", Style::default().fg(Color::Green))
    };
    let name = if r.job_name.is_empty() {
        "—"
    } else {
        &r.job_name
    };
    let mut cells = vec![
        Line::from(app.store.zone.millis(e.at)),
        Line::from(e.kind.label()),
        Line::from(Span::styled(kind, kind_style)),
    ];
    if widths.2 > 0 {
        let host = display::escape(&r.host);
        cells.push(Line::from(
            display::elide_middle(&host, usize::from(widths.2)).into_owned(),
        ));
    }
    cells.push(Line::from(display::cell(name, usize::from(widths.0))));
    cells.push(Line::from(display::cell(target(r), usize::from(widths.1))));
    let row = Row::new(cells);
    if selected {
        row.style(Style::default().add_modifier(Modifier::REVERSED))
    } else {
        row
    }
}

fn draw_events(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.timeline;
    if t.shown.is_empty() {
        let why = if t.events.is_empty() {
            "no events: no record carries a set time"
        } else {
            "no events of the records the filter lets through (Esc clears it)"
        };
        f.render_widget(Paragraph::new(why), area);
        return;
    }
    // Time, event and kind keep their widths; the name and the URL share the rest (1:2).
    // Over several hosts, the host after the kind.
    let host_w = host_width(app);
    let fixed = TIME_W + EVENT_W + KIND_W + 4 + if host_w > 0 { host_w + 1 } else { 0 };
    let rest = area.width.saturating_sub(fixed);
    let name_w = rest / 3;
    let url_w = rest - name_w;
    let rows = usize::from(area.height.saturating_sub(1));
    let end = (t.offset + rows).min(t.shown.len());
    let body: Vec<Row> = t.shown[t.offset.min(end)..end]
        .iter()
        .enumerate()
        .filter_map(|(k, &i)| {
            let e = t.events.get(i as usize)?;
            Some(event_row(
                app,
                e,
                (name_w, url_w, host_w),
                t.offset + k == t.sel,
            ))
        })
        .collect();
    let mut titles = vec![
        format!("Time ({})", app.store.zone.label()),
        "Event".into(),
        "Kind".into(),
    ];
    if host_w > 0 {
        titles.push("Host".into());
    }
    titles.extend([
        "Job name".to_string(),
        display::truncate(
            &format!("URL or file  ({} of {})", t.sel + 1, t.shown.len()),
            usize::from(url_w),
        )
        .into_owned(),
    ]);
    let header = Row::new(titles)
        .style(Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let mut widths = vec![
        Constraint::Length(TIME_W),
        Constraint::Length(EVENT_W),
        Constraint::Length(KIND_W),
    ];
    if host_w > 0 {
        widths.push(Constraint::Length(host_w));
    }
    widths.extend([Constraint::Length(name_w), Constraint::Length(url_w)]);
    f.render_widget(
        Table::new(body, widths).header(header).column_spacing(1),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::timeline::day_of;

    #[test]
    fn the_axis_puts_dates_under_their_columns() {
        let first = day_of(1_671_589_083_120); // 2022-12-21
        let a = axis(first, 1, 40, 80);
        assert_eq!(&a[..10], "2022-12-21");
        assert_eq!(a.find("2023-01-06"), Some(16));
        assert_eq!(a.find("2023-01-22"), Some(32));
        // The last column's date where it does not run into the one before.
        assert_eq!(axis(first, 1, 30, 80).find("2023-01-19"), Some(29));
        assert_eq!(axis(first, 1, 20, 80).find("2023-01-09"), None);
        // Two days a column; a narrow chart; one column; nothing past the width.
        assert_eq!(axis(first, 2, 17, 80).find("2023-01-22"), Some(16));
        assert_eq!(axis(first, 1, 1, 5), "");
        assert_eq!(axis(first, 1, 1, 10), "2022-12-21");
        for w in 0..40 {
            assert!(axis(first, 3, 40, w).chars().count() <= w);
        }
        let _ = axis(i64::MAX, i64::MAX, 300, 300);
        assert_eq!(column_of(first, 1, first), Some(0));
        assert_eq!(column_of(first + 3, 2, first), Some(1));
        assert_eq!(column_of(0, 1, first), None);
    }
}
