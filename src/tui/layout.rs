//! Geometry: where each part of the screen goes, how wide each column is, how far a text may
//! scroll. Plain numbers in, plain numbers out: the drawing ([`super::ui`]) lays out with it,
//! and the app ([`super::app`]) pages and hit-tests with it and with the [`Rendered`] state
//! the last frame handed back, so neither needs the other.

use ratatui::layout::Rect;

use super::columns::Col;

/// The rows of the screen, top to bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub tabs: Rect,
    pub gauge: Option<Rect>,
    pub body: Rect,
    pub status: Rect,
    pub footer: Rect,
}

pub fn areas(width: u16, height: u16, loading: bool) -> Areas {
    let row = |y: u16| {
        Rect::new(
            0,
            y.min(height.saturating_sub(1)),
            width,
            u16::from(y < height),
        )
    };
    let top = if loading { 3 } else { 2 };
    let body_h = height.saturating_sub(top + 2);
    Areas {
        header: row(0),
        tabs: row(1),
        gauge: loading.then(|| row(2)),
        body: Rect::new(0, top.min(height), width, body_h),
        status: row(height.saturating_sub(2)),
        footer: row(height.saturating_sub(1)),
    }
}

/// Table rows on screen (the body less its header row).
pub fn table_rows(width: u16, height: u16, loading: bool) -> usize {
    usize::from(areas(width, height, loading).body.height.saturating_sub(1))
}

/// Text rows of the detail pane (the body less its title row).
pub fn body_rows(width: u16, height: u16, loading: bool) -> usize {
    table_rows(width, height, loading)
}

/// The timeline's body split into the per-day chart (a third of it, at most 8 rows) and
/// the event table below.
pub fn timeline_split(body: Rect) -> (Rect, Rect) {
    let chart_h = (body.height / 3).min(8);
    let chart = Rect::new(body.x, body.y, body.width, chart_h);
    let table = Rect::new(body.x, body.y + chart_h, body.width, body.height - chart_h);
    (chart, table)
}

/// Event rows the timeline shows (its table less the header row).
pub fn timeline_rows(width: u16, height: u16, loading: bool) -> usize {
    let (_, table) = timeline_split(areas(width, height, loading).body);
    usize::from(table.height.saturating_sub(1))
}

const HEX_LINE_WIDTH: u16 = 86;
const INSPECTOR_WIDTH: u16 = 46;
const INSPECTOR_HEIGHT: u16 = 10;

/// The hex view's body split into the bytes and the inspector: side by side when the screen
/// is wide enough for both, else the inspector below.
pub fn hex_split(body: Rect) -> (Rect, Rect) {
    if body.width >= HEX_LINE_WIDTH + INSPECTOR_WIDTH {
        let left = Rect::new(body.x, body.y, body.width - INSPECTOR_WIDTH, body.height);
        let right = Rect::new(body.x + left.width, body.y, INSPECTOR_WIDTH, body.height);
        (left, right)
    } else {
        let ih = INSPECTOR_HEIGHT.min(body.height / 2);
        let top = Rect::new(body.x, body.y, body.width, body.height - ih);
        let bottom = Rect::new(body.x, body.y + top.height, body.width, ih);
        (top, bottom)
    }
}

/// Lines of bytes the hex view shows.
pub fn hex_rows(width: u16, height: u16, loading: bool) -> usize {
    let (hex, _) = hex_split(areas(width, height, loading).body);
    usize::from(hex.height.saturating_sub(1))
}

/// The overlay box (help, diagnostics): centred, at most 110 wide, two rows less than the
/// screen.
pub fn overlay_area(area: Rect) -> Rect {
    let w = area.width.saturating_sub(4).min(110);
    let h = area.height.saturating_sub(2);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// Column widths for `width` cells (one cell between columns): each column its minimum,
/// columns of the lowest [`Col::priority`] left out (width 0) while the minimums do not fit,
/// then what is left shared among the flexible columns shown.
pub fn column_widths(cols: &[Col], width: u16) -> Vec<u16> {
    let mut shown = vec![true; cols.len()];
    loop {
        let n = shown.iter().filter(|&&s| s).count() as u16;
        let need: u16 = cols
            .iter()
            .zip(&shown)
            .filter(|(_, &s)| s)
            .map(|(c, _)| c.width().0)
            .sum::<u16>()
            + n.saturating_sub(1);
        if need <= width || n <= 1 {
            break;
        }
        // The lowest priority goes first; of equals, the rightmost.
        let drop = (0..cols.len())
            .filter(|&i| shown[i])
            .min_by_key(|&i| (cols[i].priority(), usize::MAX - i));
        match drop {
            Some(i) => shown[i] = false,
            None => break,
        }
    }
    let n = shown.iter().filter(|&&s| s).count() as u16;
    let spacing = n.saturating_sub(1);
    let mut out: Vec<u16> = cols
        .iter()
        .zip(&shown)
        .map(|(c, &s)| if s { c.width().0 } else { 0 })
        .collect();
    let fixed: u16 = out.iter().sum();
    let flex = |i: usize| shown[i] && cols[i].width().1 > 0;
    let weights: u16 = (0..cols.len())
        .filter(|&i| flex(i))
        .map(|i| cols[i].width().1)
        .sum();
    if weights == 0 {
        return out;
    }
    let mut extra = width.saturating_sub(spacing + fixed);
    let total_extra = extra;
    let last_flex = (0..cols.len()).rfind(|&i| flex(i));
    for i in 0..cols.len() {
        if !flex(i) {
            continue;
        }
        let share = if Some(i) == last_flex {
            extra
        } else {
            (u32::from(total_extra) * u32::from(cols[i].width().1) / u32::from(weights)) as u16
        };
        let share = share.min(extra);
        out[i] += share;
        extra -= share;
    }
    out
}

/// Column widths with the table scrolled `first` columns to the right: the mark column
/// stays (it is pinned), the `first` columns after it are left out (width 0), and the rest
/// share the line as [`column_widths`] shares it.
pub fn scrolled_widths(cols: &[Col], first: usize, width: u16) -> Vec<u16> {
    let on: Vec<usize> = scrollable(cols).skip(first).collect();
    let pinned: Vec<usize> = (0..cols.len()).filter(|&i| cols[i] == Col::Mark).collect();
    let mut keep: Vec<usize> = pinned.into_iter().chain(on).collect();
    keep.sort_unstable();
    let sub: Vec<Col> = keep.iter().map(|&i| cols[i]).collect();
    let mut out = vec![0u16; cols.len()];
    for (&i, w) in keep.iter().zip(column_widths(&sub, width)) {
        out[i] = w;
    }
    out
}

/// Indices of the columns that scroll (all but the mark column).
fn scrollable(cols: &[Col]) -> impl Iterator<Item = usize> + '_ {
    (0..cols.len()).filter(|&i| cols[i] != Col::Mark)
}

/// Do columns lie off screen (left, right) with these widths from [`scrolled_widths`]?
/// Left: the table is scrolled. Right: a column past the scroll has no room (it gives way by
/// priority, wherever it stands, and scrolling right makes room for it).
pub fn columns_off_screen(cols: &[Col], first: usize, widths: &[u16]) -> (bool, bool) {
    let right = scrollable(cols)
        .skip(first)
        .any(|i| widths.get(i).is_none_or(|&w| w == 0));
    (first > 0, right)
}

/// The column whose cells span `x`, given the widths drawn from `left` (one cell between
/// columns; a width of 0 is a column left out).
pub fn column_at(widths: &[u16], left: u16, x: u16) -> Option<usize> {
    let mut pos = left;
    for (i, &w) in widths.iter().enumerate() {
        if w == 0 {
            continue;
        }
        if x >= pos && x < pos.saturating_add(w) {
            return Some(i);
        }
        pos = pos.saturating_add(w + 1);
    }
    None
}

/// Where tabs of these widths go on the tabs line, one cell apart: (first column, width).
pub fn tab_spans(widths: impl IntoIterator<Item = u16>) -> Vec<(u16, u16)> {
    let mut pos = 0u16;
    widths
        .into_iter()
        .map(|w| {
            let at = pos;
            pos = pos.saturating_add(w).saturating_add(1);
            (at, w)
        })
        .collect()
}

/// Which tab (index into the spans) is at column `x`.
pub fn tab_at(spans: &[(u16, u16)], x: u16) -> Option<usize> {
    spans
        .iter()
        .position(|&(at, w)| x >= at && x < at.saturating_add(w))
}

/// A text drawn in a window of `page` rows from row `top` of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scroll {
    pub top: usize,
    pub page: usize,
    pub total: usize,
}

impl Scroll {
    /// The window at `top`, kept so the last page is full (never scrolled past the end).
    pub fn new(top: usize, page: usize, total: usize) -> Scroll {
        Scroll {
            top: top.min(total.saturating_sub(page)),
            page,
            total,
        }
    }

    /// The furthest `top` may go: the last page full.
    pub fn max_top(&self) -> usize {
        self.total.saturating_sub(self.page)
    }

    /// `12–34 of 80` (rows, counted from 1), or `None` when everything fits.
    pub fn position(&self) -> Option<String> {
        if self.total <= self.page {
            return None;
        }
        let first = self.top + 1;
        let last = (self.top + self.page).min(self.total);
        Some(format!("{first}–{last} of {}", self.total))
    }
}

/// What the last frame drew, as the app needs it for the next key or click: the drawing
/// decides these (text lengths, tab labels), the app only reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// The view tabs on the tabs line (in `ViewKind::ALL` order): (first column, width).
    pub tabs: Vec<(u16, u16)>,
    /// The detail pane's text window, when the detail was drawn.
    pub detail: Option<Scroll>,
    /// The overlay's text window, when an overlay was drawn.
    pub overlay: Option<Scroll>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_fill_the_line() {
        let views: [&[Col]; 2] = [
            &[Col::Mark, Col::Flags, Col::Name, Col::Url, Col::Evidence],
            &[Col::Mark, Col::Kind, Col::Path, Col::Url, Col::Bytes],
        ];
        for cols in views {
            for w in [80u16, 120, 200] {
                let ws = column_widths(cols, w);
                let total: u16 = ws.iter().sum::<u16>() + ws.len() as u16 - 1;
                assert!(total <= w, "{cols:?} {w}");
                if w >= 160 {
                    assert_eq!(total, w, "{cols:?} {w}");
                }
            }
        }
    }

    #[test]
    fn narrow_tables_drop_the_lowest_priority_first() {
        let cols = [Col::Mark, Col::Flags, Col::State, Col::Url, Col::Files];
        // 1 + 10 + 24 + 2 spaces = 37: State (30) and Files (20) give way, the URL stays.
        let ws = column_widths(&cols, 37);
        assert_eq!(ws, vec![1, 10, 0, 24, 0]);
        assert_eq!(column_at(&ws, 0, 0), Some(0));
        assert_eq!(column_at(&ws, 0, 1), None);
        assert_eq!(column_at(&ws, 0, 2), Some(1));
        assert_eq!(column_at(&ws, 0, 13), Some(3));
        assert_eq!(column_at(&ws, 0, 37), None);
    }

    #[test]
    fn scrolling_pins_the_mark_column_and_says_what_lies_off_screen() {
        let cols = [Col::Mark, Col::Flags, Col::Kind, Col::Url, Col::Evidence];
        // 1 + 10 + 10 + 24 + 16 + 4 spaces = 65: everything fits at 80.
        let ws = scrolled_widths(&cols, 0, 80);
        assert_eq!(ws.iter().filter(|&&w| w > 0).count(), 5);
        assert_eq!(columns_off_screen(&cols, 0, &ws), (false, false));
        // At 50, Evidence (priority 50) gives way; the URL (90) stays and takes what is left.
        let ws = scrolled_widths(&cols, 0, 50);
        assert_eq!(ws, vec![1, 10, 10, 26, 0]);
        assert_eq!(columns_off_screen(&cols, 0, &ws), (false, true));
        // Scrolled two columns: Flags and Kind are off to the left, the rest fit.
        let ws = scrolled_widths(&cols, 2, 50);
        assert_eq!(ws, vec![1, 0, 0, 29, 18]);
        assert_eq!(columns_off_screen(&cols, 2, &ws), (true, false));
    }

    #[test]
    fn tabs_and_areas() {
        let spans = tab_spans([8, 10, 6]);
        assert_eq!(spans, vec![(0, 8), (9, 10), (20, 6)]);
        assert_eq!(tab_at(&spans, 7), Some(0));
        assert_eq!(tab_at(&spans, 8), None);
        assert_eq!(tab_at(&spans, 9), Some(1));
        assert_eq!(tab_at(&spans, 25), Some(2));
        assert_eq!(tab_at(&spans, 26), None);
        let a = areas(80, 24, true);
        assert_eq!((a.body.y, a.body.height), (3, 19));
        assert_eq!((a.status.y, a.footer.y), (22, 23));
        assert_eq!(table_rows(80, 24, false), 19);
        assert_eq!(areas(80, 1, false).body.height, 0);
    }

    #[test]
    fn scroll_keeps_the_last_page_full_and_says_where() {
        let s = Scroll::new(1000, 20, 80);
        assert_eq!((s.top, s.max_top()), (60, 60));
        assert_eq!(s.position().as_deref(), Some("61–80 of 80"));
        assert_eq!(
            Scroll::new(11, 23, 80).position().as_deref(),
            Some("12–34 of 80")
        );
        assert_eq!(Scroll::new(5, 20, 10).top, 0);
        assert_eq!(Scroll::new(5, 20, 10).position(), None);
    }
}
