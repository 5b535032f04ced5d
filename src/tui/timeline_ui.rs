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
use super::timeline::{day_label, time_label, Event, Timeline};

const TIME_W: u16 = 23;
const EVENT_W: u16 = 9;
const KIND_W: u16 = 6;

pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let (chart, table) = timeline_split(area);
    draw_chart(f, &app.timeline, chart);
    draw_events(f, app, table);
}

/// The chart's title: the days it covers and how many each column stands for.
fn chart_title(t: &Timeline, per: i64, first: i64) -> String {
    let Some((&last, _)) = t.per_day.last_key_value() else {
        return " Events per day: none ".into();
    };
    let span = if per == 1 {
        "1 column = 1 day".to_string()
    } else {
        format!("1 column = {per} days")
    };
    format!(
        " Events per day {} … {} · {span} · busiest {} ",
        day_label(first),
        day_label(last),
        t.per_day.values().max().copied().unwrap_or(0)
    )
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
    // The first and last day under the ends of the bars.
    if let Some((&last, _)) = t.per_day.last_key_value() {
        let (a, b) = (day_label(first), day_label(last));
        let gap = usize::from(inner.width).saturating_sub(a.len() + b.len());
        let axis = if a == b {
            a
        } else {
            format!("{a}{}{b}", " ".repeat(gap))
        };
        let row = Rect::new(inner.x, inner.y + inner.height - 1, inner.width, 1);
        f.render_widget(
            Paragraph::new(Span::styled(axis, Style::default().fg(Color::DarkGray))),
            row,
        );
    }
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
        Line::from(time_label(e.at)),
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
    let mut titles = vec!["Time (UTC)".to_string(), "Event".into(), "Kind".into()];
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
