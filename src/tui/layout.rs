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

/// What the layout needs to know of a table column: plain numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    /// The narrowest it is drawn.
    pub min: u16,
    /// What its widest cell (and its title) needs; at least `min`.
    pub natural: u16,
    /// What it gets before any column grows past its own; between `min` and `natural`.
    pub comfortable: u16,
    /// Lowest gives way first; highest gets spare width first.
    pub priority: u8,
    /// A key column (job name, URL, flags, command, path): columns of priority below
    /// [`YIELD_BELOW`] give way until every key column has its comfortable width.
    pub key: bool,
    /// Never scrolls off and never gives way (the mark column).
    pub pinned: bool,
}

/// The first round of spare width takes every column up to this many cells.
pub const SMALL: u16 = 16;

/// Columns of lower priority give way to key columns that lack their comfortable width
/// (the times, the owner, the state, the files; the kind and the evidence stay): issue 22
/// found three date columns taking the room a job name needed.
pub const YIELD_BELOW: u8 = 61;

/// Leave out (width 0) the shown column of lowest priority (of equals, the rightmost) that
/// `may` allows; false when there is none.
fn give_way(specs: &[ColumnSpec], shown: &mut [bool], may: impl Fn(&ColumnSpec) -> bool) -> bool {
    let lowest = (0..specs.len())
        .filter(|&i| shown[i] && !specs[i].pinned && may(&specs[i]))
        .min_by_key(|&i| (specs[i].priority, usize::MAX - i));
    match lowest {
        Some(i) => {
            shown[i] = false;
            true
        }
        None => false,
    }
}

/// Cells the shown columns take at `width(spec)` each, one cell between columns.
fn needed(specs: &[ColumnSpec], shown: &[bool], width: impl Fn(&ColumnSpec) -> u16) -> u32 {
    let n = shown.iter().filter(|&&s| s).count() as u32;
    let cells: u32 = specs
        .iter()
        .zip(shown)
        .filter(|(_, &s)| s)
        .map(|(c, _)| u32::from(width(c)))
        .sum();
    cells + n.saturating_sub(1)
}

/// Column widths for `width` cells (one cell between columns; 0: left out):
/// 1. every column its minimum, the lowest [`ColumnSpec::priority`] giving way while the
///    minimums do not fit;
/// 2. the key columns their comfortable width, columns below [`YIELD_BELOW`] giving way;
/// 3. spare width in four rounds: columns whose natural width is at most [`SMALL`] cells
///    to it (a state, a kind, the flags are whole before a URL grows), the key columns to
///    their comfortable width (one after another, by priority: the job name, then the
///    URL, the flags, the command, the path), every column to its comfortable width, every
///    column to its natural width; within the other rounds the columns short of the target
///    grow a cell at a time in priority order, so they share; what is still left goes to
///    the last column, so the table fills the line.
pub fn column_widths(specs: &[ColumnSpec], width: u16) -> Vec<u16> {
    let w = u32::from(width);
    let mut shown = vec![true; specs.len()];
    while needed(specs, &shown, |c| c.min) > w && give_way(specs, &mut shown, |_| true) {}
    let key_room = |c: &ColumnSpec| if c.key { c.comfortable } else { c.min };
    while needed(specs, &shown, key_room) > w
        && give_way(specs, &mut shown, |c| !c.key && c.priority < YIELD_BELOW)
    {}
    let mut out: Vec<u16> = specs
        .iter()
        .zip(&shown)
        .map(|(c, &s)| if s { c.min } else { 0 })
        .collect();
    let mut spare = w.saturating_sub(needed(specs, &shown, |c| c.min));
    let mut order: Vec<usize> = (0..specs.len()).filter(|&i| shown[i]).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(specs[i].priority), i));
    for (round, target) in [
        // Small columns whole: a state, a kind, the flags.
        (|c: &ColumnSpec| if c.natural <= SMALL { c.natural } else { c.min })
            as fn(&ColumnSpec) -> u16,
        |c| if c.key { c.comfortable } else { c.min },
        |c| c.comfortable,
        |c| c.natural,
    ]
    .into_iter()
    .enumerate()
    {
        let want: Vec<u16> = specs.iter().map(|c| target(c).max(c.min)).collect();
        if round == 1 {
            // The key columns by priority, each whole to its comfortable width before the
            // next grows: a job name of 30 cells whole beats one more cell of URL.
            for &i in &order {
                let grow = u32::from(want[i].saturating_sub(out[i])).min(spare);
                out[i] += grow as u16;
                spare -= grow;
            }
            continue;
        }
        // Otherwise a cell at a time, in priority order: columns short of the target grow
        // together.
        while spare > 0 {
            let mut grew = false;
            for &i in &order {
                if spare > 0 && out[i] < want[i] {
                    out[i] += 1;
                    spare -= 1;
                    grew = true;
                }
            }
            if !grew {
                break;
            }
        }
    }
    if let Some(last) = (0..specs.len()).rfind(|&i| shown[i] && !specs[i].pinned) {
        out[last] = out[last].saturating_add(u16::try_from(spare).unwrap_or(u16::MAX));
    }
    out
}

/// Column widths with the table scrolled `first` columns to the right: the pinned (mark)
/// column stays, the `first` columns after it are left out (width 0), and the rest share
/// the line as [`column_widths`] shares it.
pub fn scrolled_widths(specs: &[ColumnSpec], first: usize, width: u16) -> Vec<u16> {
    let on: Vec<usize> = scrollable(specs).skip(first).collect();
    let pinned: Vec<usize> = (0..specs.len()).filter(|&i| specs[i].pinned).collect();
    let mut keep: Vec<usize> = pinned.into_iter().chain(on).collect();
    keep.sort_unstable();
    let sub: Vec<ColumnSpec> = keep.iter().map(|&i| specs[i]).collect();
    let mut out = vec![0u16; specs.len()];
    for (&i, w) in keep.iter().zip(column_widths(&sub, width)) {
        out[i] = w;
    }
    out
}

/// Indices of the columns that scroll (all but the pinned one).
fn scrollable(specs: &[ColumnSpec]) -> impl Iterator<Item = usize> + '_ {
    (0..specs.len()).filter(|&i| !specs[i].pinned)
}

/// Do columns lie off screen (left, right) with these widths from [`scrolled_widths`]?
/// Left: the table is scrolled. Right: a column past the scroll has no room (it gives way by
/// priority, wherever it stands, and scrolling right makes room for it).
pub fn columns_off_screen(cols: &[Col], first: usize, widths: &[u16]) -> (bool, bool) {
    let right = (0..cols.len())
        .filter(|&i| cols[i] != Col::Mark)
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

    fn spec(min: u16, natural: u16, priority: u8, key: bool) -> ColumnSpec {
        ColumnSpec {
            min,
            natural,
            comfortable: natural.min(40),
            priority,
            key,
            pinned: false,
        }
    }

    const MARK: ColumnSpec = ColumnSpec {
        min: 1,
        natural: 1,
        comfortable: 1,
        priority: 100,
        key: false,
        pinned: true,
    };

    #[test]
    fn widths_fill_the_line_and_never_pass_it() {
        let specs = [
            MARK,
            spec(5, 9, 88, true),
            spec(10, 30, 92, true),
            spec(24, 200, 90, true),
            spec(16, 50, 65, false),
        ];
        for w in [40u16, 80, 120, 200, 400] {
            let ws = column_widths(&specs, w);
            let total: u16 =
                ws.iter().sum::<u16>() + ws.iter().filter(|&&x| x > 0).count() as u16 - 1;
            assert!(total <= w, "{w}: {ws:?}");
            if w >= 120 {
                assert_eq!(total, w, "{ws:?}");
            }
        }
    }

    #[test]
    fn spare_width_goes_by_priority_comfortable_first() {
        // Flags (88, natural 9), name (92, natural 30), URL (90, natural 200), evidence (65).
        let specs = [
            MARK,
            spec(5, 9, 88, true),
            spec(10, 30, 92, true),
            spec(24, 200, 90, true),
            spec(16, 50, 65, false),
        ];
        // Every column up to comfortable (the evidence gets what is left of that), and
        // nothing more to share.
        assert_eq!(column_widths(&specs, 120), vec![1, 9, 30, 40, 36]);
        // Then the URL and the evidence grow together to their natural widths (the
        // evidence reaches its 50, the URL takes the rest).
        assert_eq!(column_widths(&specs, 200), vec![1, 9, 30, 106, 50]);
        // Minimums only.
        assert_eq!(column_widths(&specs, 60), vec![1, 5, 10, 24, 16]);
        // Narrower: the evidence gives way, then the flags (the lowest priorities); the
        // name (the highest) takes the spare cells before the URL does.
        assert_eq!(column_widths(&specs, 40), vec![1, 0, 13, 24, 0]);
    }

    #[test]
    fn later_times_give_way_to_key_columns_short_of_comfortable() {
        let specs = [
            MARK,
            spec(10, 30, 92, true),
            spec(24, 200, 90, true),
            spec(19, 19, 12, false),
        ];
        // Room for the key columns' comfortable widths and the time: all shown.
        assert_eq!(column_widths(&specs, 100), vec![1, 30, 47, 19]);
        // Not: the time gives way, though its minimum would fit.
        assert_eq!(column_widths(&specs, 80), vec![1, 30, 47, 0]);
    }

    #[test]
    fn scrolling_pins_the_mark_column_and_says_what_lies_off_screen() {
        let specs = [
            MARK,
            spec(10, 10, 88, true),
            spec(10, 10, 75, false),
            spec(24, 24, 90, true),
            spec(16, 16, 65, false),
        ];
        // 1 + 10 + 10 + 24 + 16 + 4 spaces = 65: everything fits at 80 (the last column
        // takes the rest).
        let ws = scrolled_widths(&specs, 0, 80);
        assert_eq!(ws, vec![1, 10, 10, 24, 31]);
        let cols = [Col::Mark, Col::Flags, Col::Kind, Col::Url, Col::Evidence];
        assert_eq!(columns_off_screen(&cols, 0, &ws), (false, false));
        // At 50, the evidence (65) gives way; the last column shown takes what is left.
        let ws = scrolled_widths(&specs, 0, 50);
        assert_eq!(ws, vec![1, 10, 10, 26, 0]);
        assert_eq!(columns_off_screen(&cols, 0, &ws), (false, true));
        // Scrolled two columns: the first two are off to the left, the rest fit.
        let ws = scrolled_widths(&specs, 2, 50);
        assert_eq!(ws, vec![1, 0, 0, 24, 23]);
        assert_eq!(columns_off_screen(&cols, 2, &ws), (true, false));
        assert_eq!(column_at(&ws, 0, 0), Some(0));
        assert_eq!(column_at(&ws, 0, 1), None);
        assert_eq!(column_at(&ws, 0, 2), Some(3));
        assert_eq!(column_at(&ws, 0, 27), Some(4));
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
