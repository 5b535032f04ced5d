//! Drawing the detail pane: the record's text ([`super::detail`]) in a window that scrolls,
//! the field under the cursor lit and kept on screen when it moved.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use super::app::App;
use super::detail::{self, Text};
use super::layout::Scroll;
use super::style::{CARVED, DIM};

/// The pane's text for the record shown.
pub fn text(app: &App) -> Text {
    match app.detail_record() {
        Some(ri) => detail::text(&app.store, ri),
        None => Text {
            lines: vec![Line::from("no record selected")],
            fields: Vec::new(),
        },
    }
}

/// The pane's lines for the record shown.
pub fn detail_lines(app: &App) -> Vec<Line<'static>> {
    text(app).lines
}

/// ` Detail record 2 of 3 in this row ([ ] switch) `.
fn title(app: &App) -> Vec<Span<'static>> {
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
    title
}

/// Draw the detail pane; returns the window of its text shown (the scroll kept so the last
/// page is full, never blank).
pub fn draw(f: &mut Frame, app: &App, area: Rect) -> Scroll {
    let mut title = title(app);
    let Text { mut lines, fields } = text(app);
    let page = usize::from(area.height.saturating_sub(1));
    // The field cursor: its line lit, and the text scrolled to it when it moved.
    let mut top = usize::from(app.detail.scroll);
    let cursor = app.detail.field.min(fields.len().saturating_sub(1));
    if let Some(at) = fields.get(cursor).map(|f| f.line) {
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
