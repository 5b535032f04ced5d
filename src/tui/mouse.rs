//! The mouse: the wheel scrolls, a click selects a row (a click on the selected row opens
//! it), a click on a column header sorts by it, a click on a tab switches view. Where things
//! are comes from the layout and from what the last frame drew ([`super::layout::Rendered`]).

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use super::app::{App, Screen};
use super::keys::Action;
use super::layout;
use super::store::ViewKind;

impl App {
    pub(super) fn handle_mouse(&mut self, m: MouseEvent) {
        self.dirty = true;
        let scroll = match m.kind {
            MouseEventKind::ScrollDown => Some(Action::Down),
            MouseEventKind::ScrollUp => Some(Action::Up),
            _ => None,
        };
        if let Some(a) = scroll {
            if self.prompt.is_none() {
                for _ in 0..3 {
                    self.update(a);
                }
            }
            return;
        }
        if m.kind != MouseEventKind::Down(MouseButton::Left)
            || self.prompt.is_some()
            || self.overlay.is_some()
            || !matches!(self.screen, Screen::Table | Screen::Timeline)
        {
            return;
        }
        let areas = layout::areas(self.width, self.height, self.load.running);
        if m.row == areas.tabs.y {
            self.click_tab(m.column);
        } else if self.screen == Screen::Table {
            self.click_table(areas.body, m.column, m.row);
        }
    }

    /// A click on a view tab (the one after the tables is the timeline).
    fn click_tab(&mut self, x: u16) {
        match layout::tab_at(&self.rendered.tabs, x) {
            Some(i) if i == ViewKind::ALL.len() => self.open_timeline(),
            Some(i) => {
                if let Some(&k) = ViewKind::ALL.get(i) {
                    self.view = k;
                    self.screen = Screen::Table;
                }
            }
            None => {}
        }
    }

    /// A click in the table's body: the header sorts by the column, a row selects it, the
    /// selected row opens.
    fn click_table(&mut self, body: Rect, x: u16, y: u16) {
        if y < body.y || y >= body.y + body.height {
            return;
        }
        if y == body.y {
            // Header: choose that column and sort by it.
            let (_, widths) = self.table_columns();
            if let Some(i) = layout::column_at(&widths, body.x, x) {
                self.store.view_mut(self.view).col_cursor = i;
                self.update_table(Action::Sort);
            }
            return;
        }
        let v = self.store.view(self.view);
        let row = v.offset + usize::from(y - body.y - 1);
        if row < v.shown.len() {
            if row == v.sel {
                self.update_table(Action::OpenDetail);
            } else {
                self.store.view_mut(self.view).sel = row;
            }
        }
    }
}
