//! The overlays over the screen (help, diagnostics, the column chooser): opening them,
//! scrolling their text, and the chooser's own keys. Drawn by [`super::overlay_ui`].

use super::app::App;
use super::keys::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    Help,
    Diagnostics,
    /// The column chooser of the current table.
    Columns,
    /// The host summary (see [`super::hosts`]).
    Hosts,
}

impl App {
    /// Open an overlay: the help and the diagnostics at their top, the chooser on its first
    /// column.
    pub(super) fn open_overlay(&mut self, ov: Overlay) {
        self.overlay = Some(ov);
        if ov == Overlay::Columns {
            self.chooser = 0;
        } else {
            self.overlay_scroll = 0;
            self.host_cursor = 0;
        }
    }

    /// A key while an overlay is open: Esc closes it (Enter too, but in the host summary,
    /// where it filters), `?` toggles the help, the chooser and the host summary take their
    /// own keys, the others scroll.
    pub(super) fn update_overlay(&mut self, ov: Overlay, action: Action) {
        if ov == Overlay::Hosts && action != Action::Back && action != Action::Help {
            self.update_hosts(action);
            return;
        }
        if action == Action::Confirm {
            self.overlay = None;
            return;
        }
        if ov == Overlay::Columns && action != Action::Back && action != Action::Help {
            self.update_chooser(action);
            return;
        }
        match action {
            Action::Back => self.overlay = None,
            Action::Help if ov == Overlay::Help => self.overlay = None,
            Action::Help => self.open_overlay(Overlay::Help),
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => self.scroll_overlay(action),
            _ => {}
        }
    }

    /// Scroll the overlay's text, never past its last page (as the last frame measured it).
    fn scroll_overlay(&mut self, action: Action) {
        let shown = self.rendered.overlay;
        let page = shown.map_or(1, |s| s.page.max(1));
        let max = shown.map_or(usize::MAX, |s| s.max_top());
        let top = usize::from(self.overlay_scroll).min(max);
        let top = match action {
            Action::Up => top.saturating_sub(1),
            Action::Down => top.saturating_add(1),
            Action::PageUp => top.saturating_sub(page),
            Action::PageDown => top.saturating_add(page),
            Action::Top => 0,
            _ => max,
        };
        self.overlay_scroll = u16::try_from(top.min(max)).unwrap_or(u16::MAX);
    }

    /// The column chooser: move its cursor, show or hide the column under it, or move that
    /// column up or down the order.
    fn update_chooser(&mut self, action: Action) {
        let mut choice = self.store.column_choice(self.view);
        let n = choice.len();
        let i = self.chooser.min(n.saturating_sub(1));
        match action {
            Action::Up => self.chooser = i.saturating_sub(1),
            Action::Down => self.chooser = (i + 1).min(n.saturating_sub(1)),
            Action::Top => self.chooser = 0,
            Action::Bottom => self.chooser = n.saturating_sub(1),
            Action::ToggleColumn => {
                if let Some(c) = choice.get_mut(i) {
                    c.1 = !c.1;
                }
                if !self.store.set_column_choice(self.view, choice) {
                    self.set_status("one column at least stays shown", true);
                }
            }
            Action::MoveColumnUp | Action::MoveColumnDown => {
                let j = if action == Action::MoveColumnUp {
                    i.checked_sub(1)
                } else {
                    Some(i + 1).filter(|&j| j < n)
                };
                if let Some(j) = j {
                    choice.swap(i, j);
                    self.store.set_column_choice(self.view, choice);
                    self.chooser = j;
                }
            }
            _ => {}
        }
        self.clamp_all();
    }
}
