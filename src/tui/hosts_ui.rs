//! Drawing the host summary (see [`super::hosts`]): one line per host, the cursor's
//! reversed, a total under them.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::app::App;
use super::display;
use super::hosts::{summary, HostRow};
use super::style::{fit_line, section, ACCENT, DANGER, DIM};

/// The widest a host name is drawn (a longer one loses its middle).
const NAME_MAX: usize = 32;

/// The number columns: title and width.
const COUNTS: [(&str, usize); 6] = [
    ("Jobs", 7),
    ("Carved", 7),
    ("Log only", 9),
    ("Flagged", 8),
    ("Files", 7),
    ("Records", 8),
];

fn counts(r: &HostRow) -> [usize; 6] {
    [r.jobs, r.carved, r.log_only, r.flagged, r.files, r.records]
}

/// One line: the name padded to `w` cells, the counts right-aligned, how the name was found.
fn host_line(name: &str, w: usize, n: [usize; 6], source: &str) -> String {
    let name = display::elide_middle(&display::escape(name), w).into_owned();
    let pad = w.saturating_sub(display::width(&name));
    let mut out = format!(" {name}{}", " ".repeat(pad));
    for ((_, cw), v) in COUNTS.iter().zip(n) {
        out.push_str(&format!("{v:>cw$}"));
    }
    out.push_str("  ");
    out.push_str(&display::escape(source));
    out
}

/// The summary's lines, each cut to `width` cells (a wrapped line would put the hosts below
/// it out of step with the cursor): the section, the column titles, a line per host, the
/// total.
pub fn lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let rows = summary(&app.store);
    let w = rows
        .iter()
        .map(|r| display::width(&display::escape(&r.name)))
        .max()
        .unwrap_or(0)
        .clamp(5, NAME_MAX);
    let mut out = vec![section(&format!(
        "{} host{} (Enter: only its rows)",
        rows.len(),
        display::plural(rows.len())
    ))];
    let mut head = format!(" {:<w$}", "Host");
    for (t, cw) in COUNTS {
        head.push_str(&format!("{t:>cw$}"));
    }
    head.push_str("  named by");
    out.push(fit_line(
        vec![Span::styled(
            head,
            Style::default().fg(ACCENT).add_modifier(Modifier::BOLD),
        )],
        width,
    ));
    let mut total = [0usize; 6];
    for (i, r) in rows.iter().enumerate() {
        let n = counts(r);
        for (t, v) in total.iter_mut().zip(n) {
            *t += v;
        }
        let mut style = if r.flagged > 0 {
            Style::default().fg(DANGER)
        } else {
            Style::default()
        };
        if i == app.host_cursor.min(rows.len().saturating_sub(1)) {
            style = style.add_modifier(Modifier::REVERSED);
        }
        out.push(fit_line(
            vec![Span::styled(host_line(&r.name, w, n, &r.source), style)],
            width,
        ));
    }
    if rows.len() > 1 {
        out.push(fit_line(
            vec![Span::styled(
                host_line("all hosts", w, total, ""),
                Style::default().fg(DIM),
            )],
            width,
        ));
    }
    out
}
