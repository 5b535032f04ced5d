//! The explorer's look, shared by every drawing: its colours, and the few ways a value
//! reaches a widget. Every string from the evidence (or from the analyst) goes through
//! [`display`] here: [`esc`] for whole values, [`cell`] for table cells.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use super::display;

pub const ACCENT: Color = Color::Cyan;
pub const CARVED: Color = Color::Yellow;
pub const LIVE: Color = Color::Green;
pub const DANGER: Color = Color::Red;
pub const HIDDEN: Color = Color::Magenta;
pub const DIM: Color = Color::DarkGray;

/// Width of the label column of the detail pane and the diagnostics (labels are padded to it).
pub const LABEL_WIDTH: usize = 16;

/// A whole untrusted value as a span (escaped, never cut).
pub fn esc(s: &str) -> Span<'static> {
    Span::raw(display::escape(s).into_owned())
}

pub fn esc_styled(s: &str, style: Style) -> Span<'static> {
    Span::styled(display::escape(s).into_owned(), style)
}

/// A table cell: escaped and cut to `w` cells.
pub fn cell(s: &str, w: u16) -> String {
    display::cell(s, usize::from(w))
}

pub fn label(s: &str) -> Span<'static> {
    Span::styled(format!("{s:<LABEL_WIDTH$}"), Style::default().fg(ACCENT))
}

pub fn kv(l: &str, v: &str) -> Line<'static> {
    Line::from(vec![label(l), esc(v)])
}

pub fn section(title: &str) -> Line<'static> {
    Line::from(Span::styled(
        format!("── {title} "),
        Style::default().fg(ACCENT).add_modifier(Modifier::BOLD),
    ))
}

/// A one-line text cut to `width` cells: whole spans while they fit, then the first that
/// does not, cut with `…` (so a cut always shows).
pub fn fit_line(spans: Vec<Span<'static>>, width: u16) -> Line<'static> {
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
