//! `z` and `Z` in the timeline: zoom to a range of time, and out again; and `u`, the zone the
//! times are shown in. The range is written into the filter as `after:` and `before:` terms
//! (the filter line shows it, Esc or editing changes it, and it narrows the tables as any
//! filter does: to the jobs holding a time in it); the timeline shows only the events inside
//! it (see [`super::timeline::window`]) and its chart spans it.

use super::app::{App, Screen};
use super::display::plural;
use super::timeline::filter_instant;

/// The filter line without its `after:` and `before:` terms (a date typed with its clock
/// after a space, `after:2026-03-01 08:00`, goes whole).
pub fn without_window(filter: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let mut words = filter.split_whitespace().peekable();
    while let Some(w) = words.next() {
        let lower = w.to_ascii_lowercase();
        let Some(value) = ["after:", "before:"]
            .iter()
            .find_map(|p| lower.strip_prefix(p))
        else {
            kept.push(w);
            continue;
        };
        let date_only = !value.is_empty() && !value.contains(['t', ':']);
        if date_only && words.peek().is_some_and(|n| super::when::is_clock(n)) {
            words.next();
        }
    }
    kept.join(" ")
}

/// The filter line zoomed to [from, to] (milliseconds since 1970, both events shown):
/// `before:` is strict, so it names the millisecond after the last event.
pub fn with_window(filter: &str, from: i64, to: i64) -> String {
    let rest = without_window(filter);
    let window = format!(
        "after:{} before:{}",
        filter_instant(from),
        filter_instant(to.saturating_add(1))
    );
    if rest.is_empty() {
        window
    } else {
        format!("{rest} {window}")
    }
}

impl App {
    /// `u`: times in UTC, or in the zone asked for (see [`super::zone::Zone::toggled`]).
    pub(super) fn toggle_zone(&mut self) {
        self.store.zone = self.store.zone.toggled(self.opts.zone);
        self.sync_timeline();
        let z = self.store.zone.label();
        self.set_status(format!("times in {z} (u toggles; exports stay UTC)"), false);
    }

    /// `z`: the first marks where the range starts (the selected event), the second where it
    /// ends; then the filter holds the range.
    pub(super) fn zoom(&mut self) {
        if self.screen != Screen::Timeline {
            return self.set_status("z and Z zoom the timeline (T)", true);
        }
        let Some(at) = self.timeline.selected().map(|e| e.at) else {
            return self.set_status("z: no event to zoom from", true);
        };
        let Some(from) = self.timeline.zoom_from.take() else {
            self.timeline.zoom_from = Some(at);
            return self.set_status(
                format!(
                    "zoom from {}: move to the range's other end and press z again (Z: out)",
                    self.store.zone.millis(at)
                ),
                false,
            );
        };
        let (a, b) = (from.min(at), from.max(at));
        let text = with_window(&self.filter_text, a, b);
        self.set_filter(&text);
        self.sync_timeline();
        let n = self.timeline.shown.len();
        self.set_status(
            format!(
                "zoomed to {} … {}: {n} event{} (the tables keep the jobs with a time in it; Z zooms out)",
                self.store.zone.millis(a),
                self.store.zone.millis(b),
                plural(n)
            ),
            false,
        );
    }

    /// `Z`: the filter without its range (the rest of it stays).
    pub(super) fn zoom_out(&mut self) {
        if self.screen != Screen::Timeline {
            return self.set_status("z and Z zoom the timeline (T)", true);
        }
        self.timeline.zoom_from = None;
        let text = without_window(&self.filter_text);
        if text == self.filter_text {
            return self.set_status("Z: not zoomed (z z zooms to a range)", false);
        }
        self.set_filter(&text);
        self.sync_timeline();
        self.set_status(
            format!("zoomed out: {} events", self.timeline.shown.len()),
            false,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_replaces_the_filters_own() {
        assert_eq!(without_window("mozilla after:2026 -x"), "mozilla -x");
        assert_eq!(
            without_window("a AFTER:2026-03-01 08:00 before:2026-04-01T08:00 b"),
            "a b"
        );
        assert_eq!(without_window(""), "");
        assert_eq!(
            with_window("a after:2020", 1_671_589_083_120, 1_671_589_083_999),
            "a after:2022-12-21T02:18:03.120 before:2022-12-21T02:18:04.000"
        );
        assert_eq!(
            with_window("", 0, 0),
            "after:1970-01-01T00:00:00.000 before:1970-01-01T00:00:00.001"
        );
        // Hostile ends: no panic.
        let _ = with_window("x", i64::MIN, i64::MAX);
    }
}
