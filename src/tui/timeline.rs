//! The timeline: one event per job timestamp (created, modified, completed, expiration) of
//! every job, in time order (a time repeated by a job's file rows or carved copies once), with the events per day for the chart above it.
//!
//! The event list is built as records arrive (at most four events a record, each 16 bytes)
//! and never on a frame; what the filter lets through (`shown`) is recomputed only when the
//! filter, the toggles or the records change.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use chrono::{DateTime, Datelike};

use crate::bits::model::BitsInfo;

use super::query::Query;
use super::store::{CarvedFilter, Store};
use super::zone::Zone;

/// Which timestamp of a record an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    Created,
    Modified,
    Completed,
    Expiration,
}

impl EventKind {
    pub const ALL: [EventKind; 4] = [
        EventKind::Created,
        EventKind::Modified,
        EventKind::Completed,
        EventKind::Expiration,
    ];

    pub fn label(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Modified => "modified",
            EventKind::Completed => "completed",
            EventKind::Expiration => "expires",
        }
    }

    /// The record's text for this timestamp (ISO 8601, or empty when unset).
    pub fn get(self, r: &BitsInfo) -> &str {
        match self {
            EventKind::Created => &r.created,
            EventKind::Modified => &r.modified,
            EventKind::Completed => &r.completed,
            EventKind::Expiration => &r.expiration,
        }
    }
}

/// Milliseconds since 1970 of a set timestamp; `None` when unset: empty, unreadable, or
/// the FILETIME epoch year 1601 (a zero or near-zero FILETIME is "never", not an event).
pub fn event_time(iso: &str) -> Option<i64> {
    let t = DateTime::parse_from_rfc3339(iso).ok()?;
    if t.year() <= 1601 {
        return None;
    }
    Some(t.timestamp_millis())
}

/// Milliseconds since 1970 of a FILETIME (100 ns since 1601).
pub fn ms_of_filetime(ft: u64) -> i64 {
    i64::try_from(ft / 10_000).unwrap_or(i64::MAX) - 11_644_473_600_000
}

/// The time window the filter's `after:` and `before:` terms name, in milliseconds since
/// 1970: [after, before). Only a filter without `OR` has one (with alternatives, a term
/// bounds its own alternative, not the timeline); a negated term bounds nothing. The timeline
/// shows only the events inside it: the filter keeps the records holding a time in the
/// window, the timeline zooms to the window (`z` writes the terms).
pub fn window(q: &Query) -> (Option<i64>, Option<i64>) {
    use super::query::TermKind;
    if q.terms.iter().any(|t| t.branch > 0) {
        return (None, None);
    }
    let mut lo: Option<i64> = None;
    let mut hi: Option<i64> = None;
    for t in q.terms.iter().filter(|t| !t.negate) {
        match t.kind {
            TermKind::After(ft) => lo = lo.max(Some(ms_of_filetime(ft))),
            TermKind::Before(ft) => {
                let ms = ms_of_filetime(ft);
                hi = Some(hi.map_or(ms, |h| h.min(ms)));
            }
            _ => {}
        }
    }
    (lo, hi)
}

/// Days since 1970 of a time in milliseconds (days before 1970 count down, not toward 0).
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(86_400_000)
}

/// Which job a record's times are of: its evidence and job id, else its job record's place,
/// else the record itself.
fn job_key(r: &BitsInfo, index: usize) -> u64 {
    let mut h = DefaultHasher::new();
    // The store the record is of, as the tables group it: two stores of one image (a live
    // qmgr.db and a Windows.old one) are two jobs, carved copies of one store one.
    match r.job_source.as_ref().or(r.file_source.as_ref()) {
        Some(src) => super::origin::store_key(src).hash(&mut h),
        None => r.evidence.hash(&mut h),
    }
    if !r.job_id.is_empty() {
        r.job_id.hash(&mut h);
    } else if let Some(src) = &r.job_source {
        src.offset.hash(&mut h);
    } else {
        (u64::MAX, index).hash(&mut h);
    }
    h.finish()
}

/// One timestamp of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Milliseconds since 1970 (UTC).
    pub at: i64,
    /// The job the time is of (see [`job_key`]).
    pub job: u64,
    /// The record (index into the store).
    pub rec: u32,
    pub kind: EventKind,
}

/// What `shown` was computed for, to know when to compute it again.
#[derive(Debug, Clone)]
struct Basis {
    query: Query,
    carved: CarvedFilter,
    suspicious_only: bool,
    records: usize,
    zone: Zone,
}

/// The events of every record and the ones the filter lets through.
#[derive(Debug, Default)]
pub struct Timeline {
    /// Every event, sorted by (time, record, kind).
    pub events: Vec<Event>,
    /// Records taken in so far.
    built: usize,
    /// Indices into `events` that pass the filter and toggles, in time order, each time of
    /// a job once: a job's file rows and its carved copies repeat its times, and the first
    /// record that passes stands for them.
    pub shown: Vec<u32>,
    /// Shown events per day (days since 1970).
    pub per_day: BTreeMap<i64, u32>,
    basis: Option<Basis>,
    /// The load the events are of (see `App::generation`).
    generation: u64,
    /// Selected position in `shown`, and the first row on screen.
    pub sel: usize,
    pub offset: usize,
    /// `z` pressed once: the time the zoom starts from (the next `z` ends it).
    pub zoom_from: Option<i64>,
    /// The zone the chart's days are days of (the store's, when `shown` was computed).
    pub zone: Zone,
    /// Per event, the number of its (job, kind, time): equal numbers are one event shown
    /// once. Numbered when the events change, so a refilter hashes nothing.
    group: Vec<u32>,
    groups: usize,
}

impl Timeline {
    /// Take in records added since the last call (a new load starts again).
    pub fn take_new(&mut self, store: &Store, generation: u64) {
        if generation != self.generation || store.recs.len() < self.built {
            // Another load (a reload): its records are not the ones taken in.
            *self = Timeline {
                generation,
                ..Timeline::default()
            };
        }
        if self.built < store.recs.len() {
            self.take_records(store);
        }
    }

    /// [`Timeline::take_new`], then refilter when the filter, the toggles or the records
    /// changed. Cheap when nothing did.
    pub fn sync(&mut self, store: &Store, generation: u64) {
        self.take_new(store, generation);
        if !self.is_current(store) {
            self.refilter(store);
            self.basis = Some(Self::basis_of(store));
        }
    }

    fn basis_of(store: &Store) -> Basis {
        Basis {
            query: store.query.clone(),
            carved: store.carved_filter,
            suspicious_only: store.suspicious_only,
            records: store.recs.len(),
            zone: store.zone,
        }
    }

    /// Is `shown` computed for the store's records, filter and toggles as they are?
    pub fn is_current(&self, store: &Store) -> bool {
        self.basis.as_ref().is_some_and(|b| {
            b.records == store.recs.len()
                && b.carved == store.carved_filter
                && b.suspicious_only == store.suspicious_only
                && b.query == store.query
                && b.zone == store.zone
        })
    }

    fn take_records(&mut self, store: &Store) {
        let first = self.events.len();
        for i in self.built..store.recs.len() {
            let info = &store.rec(i as u32).info;
            let job = job_key(info, i);
            for kind in EventKind::ALL {
                if let Some(at) = event_time(kind.get(info)) {
                    self.events.push(Event {
                        at,
                        job,
                        rec: i as u32,
                        kind,
                    });
                }
            }
        }
        self.built = store.recs.len();
        if self.events.len() > first {
            // Records arrive in order, so ties keep record order; kinds keep their order.
            self.events.sort_by_key(|e| (e.at, e.rec, e.kind));
        }
    }

    /// Number each event's (job, kind, time). Events of one time are adjacent (sorted by
    /// time), so the numbers are handed out run by run: linear even when every record holds
    /// the same time.
    fn regroup(&mut self) {
        let mut ids: HashMap<(u64, EventKind), u32> = HashMap::new();
        let mut at = None;
        self.group.clear();
        self.groups = 0;
        for e in &self.events {
            if at != Some(e.at) {
                ids.clear();
                at = Some(e.at);
            }
            let next = self.groups as u32;
            let id = *ids.entry((e.job, e.kind)).or_insert(next);
            if id == next {
                self.groups += 1;
            }
            self.group.push(id);
        }
    }

    fn refilter(&mut self, store: &Store) {
        let keep = self.selected().map(|e| (e.rec, e.kind));
        if self.group.len() != self.events.len() {
            self.regroup();
        }
        let mut taken = vec![false; self.groups];
        let (lo, hi) = window(&store.query);
        let inside = |at: i64| lo.is_none_or(|l| at >= l) && hi.is_none_or(|h| at < h);
        self.shown = self
            .events
            .iter()
            .zip(&self.group)
            .enumerate()
            .filter_map(|(i, (e, &g))| {
                let passes = inside(e.at) && store.record_passes(e.rec);
                // The first event of its group that passes stands for the group.
                let first = passes
                    && taken
                        .get_mut(g as usize)
                        .is_some_and(|t| !std::mem::replace(t, true));
                first.then_some(i as u32)
            })
            .collect();
        self.zone = store.zone;
        self.per_day.clear();
        for &i in &self.shown {
            let day = self.day(self.events[i as usize].at);
            *self.per_day.entry(day).or_default() += 1;
        }
        let found = keep.and_then(|k| {
            self.shown.iter().position(|&i| {
                let e = &self.events[i as usize];
                (e.rec, e.kind) == k
            })
        });
        self.sel = found.unwrap_or(self.sel.min(self.shown.len().saturating_sub(1)));
    }

    /// The day (days since 1970) of a time in the zone the chart is drawn in.
    pub fn day(&self, ms: i64) -> i64 {
        day_of(ms.saturating_add(i64::from(self.zone.offset_at(ms)) * 1000))
    }

    /// The selected event.
    pub fn selected(&self) -> Option<Event> {
        let i = *self.shown.get(self.sel)?;
        self.events.get(i as usize).copied()
    }

    /// Move the selection by `delta` rows and keep it within `rows` rows on screen.
    pub fn move_sel(&mut self, delta: i64, rows: usize) {
        let n = self.shown.len() as i64;
        self.sel = if n == 0 {
            0
        } else {
            (self.sel as i64).saturating_add(delta).clamp(0, n - 1) as usize
        };
        self.follow(rows);
    }

    /// Keep the selection on screen.
    pub fn follow(&mut self, rows: usize) {
        let rows = rows.max(1);
        if self.sel < self.offset {
            self.offset = self.sel;
        } else if self.sel >= self.offset + rows {
            self.offset = self.sel + 1 - rows;
        }
        self.offset = self.offset.min(self.shown.len().saturating_sub(rows));
    }

    /// The per-day counts in `columns` buckets from the first day to the last: (counts, days
    /// per bucket, first day). Empty when no event is shown.
    pub fn buckets(&self, columns: usize) -> (Vec<u64>, i64, i64) {
        let (Some((&first, _)), Some((&last, _))) = (
            self.per_day.first_key_value(),
            self.per_day.last_key_value(),
        ) else {
            return (Vec::new(), 1, 0);
        };
        let columns = columns.max(1) as i64;
        let span = last - first + 1;
        let per = (span + columns - 1) / columns;
        let n = (span + per - 1) / per;
        let mut out = vec![0u64; usize::try_from(n).unwrap_or(0)];
        for (&day, &count) in &self.per_day {
            if let Some(b) = usize::try_from((day - first) / per)
                .ok()
                .and_then(|i| out.get_mut(i))
            {
                *b += u64::from(count);
            }
        }
        (out, per, first)
    }
}

/// `2022-12-21` for days since 1970.
pub fn day_label(day: i64) -> String {
    DateTime::from_timestamp(day.saturating_mul(86_400), 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "?".into())
}

/// `2022-12-21 02:18:03.120` for milliseconds since 1970 (the FILETIMEs keep milliseconds).
pub fn time_label(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
        .unwrap_or_else(|| "?".into())
}

/// `2022-12-21T02:18:03.120` (UTC) for milliseconds since 1970: an instant as `after:` and
/// `before:` read it, to the millisecond.
pub fn filter_instant(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string())
        .unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_times_are_not_events() {
        assert_eq!(event_time(""), None);
        assert_eq!(event_time("1601-01-01T00:00:00.000Z"), None);
        assert_eq!(event_time("not a time"), None);
        assert_eq!(
            event_time("2022-12-21T02:18:03.120Z"),
            Some(1_671_589_083_120)
        );
        assert_eq!(day_label(day_of(1_671_589_083_120)), "2022-12-21");
        assert_eq!(day_of(-1), -1);
    }

    #[test]
    fn hostile_times_neither_panic_nor_overflow_the_chart() {
        for t in [
            "9999-12-31T23:59:59.999Z",
            "1601-01-01T00:00:00.001Z",
            "1602-01-01T00:00:00Z",
            "2022-13-40T99:99:99Z",
            "\u{202e}2022-12-21T02:18:03Z",
            "2022-12-21T02:18:03.1234567890123Z",
        ] {
            let _ = event_time(t);
        }
        let mut t = Timeline::default();
        let (a, b) = (
            event_time("1602-01-01T00:00:00Z").expect("a time"),
            event_time("9999-12-31T23:59:59.999Z").expect("a time"),
        );
        t.per_day.insert(day_of(a), 1);
        t.per_day.insert(day_of(b), 2);
        let (bars, per, first) = t.buckets(80);
        assert!(bars.len() <= 80 && per > 1);
        assert_eq!(bars.iter().sum::<u64>(), 3);
        assert_eq!(day_label(first), "1602-01-01");
        assert_eq!(day_label(day_of(b)), "9999-12-31");
    }

    #[test]
    fn the_filters_after_and_before_are_the_window() {
        let w = |q: &str| window(&Query::parse(q));
        let ms = |iso: &str| event_time(iso).expect("a time");
        assert_eq!(w("mozilla"), (None, None));
        assert_eq!(
            w("after:2022-12-21T02:18:03.120 before:2022-12-22"),
            (
                Some(ms("2022-12-21T02:18:03.120Z")),
                Some(ms("2022-12-22T00:00:00Z"))
            )
        );
        // The narrowest of several; a negated term and alternatives bound nothing.
        assert_eq!(
            w("after:2022 after:2023 before:2025 before:2024"),
            (
                Some(ms("2023-01-01T00:00:00Z")),
                Some(ms("2024-01-01T00:00:00Z"))
            )
        );
        assert_eq!(w("-after:2022"), (None, None));
        assert_eq!(w("after:2022 OR x"), (None, None));
        // The instant written back reads as the same millisecond.
        let t = ms("2022-12-21T02:18:03.120Z");
        assert_eq!(w(&format!("after:{}", filter_instant(t))).0, Some(t));
        assert_eq!(ms_of_filetime(0), -11_644_473_600_000);
        assert_eq!(
            ms_of_filetime(u64::MAX),
            1_844_674_407_370_955 - 11_644_473_600_000
        );
    }

    #[test]
    fn buckets_fit_the_width() {
        let mut t = Timeline::default();
        for (d, n) in [(10, 2), (11, 1), (19, 4)] {
            t.per_day.insert(d, n);
        }
        let (b, per, first) = t.buckets(40);
        assert_eq!((per, first), (1, 10));
        assert_eq!(b, vec![2, 1, 0, 0, 0, 0, 0, 0, 0, 4]);
        let (b, per, _) = t.buckets(4);
        assert_eq!(per, 3);
        assert_eq!(b, vec![3, 0, 0, 4]);
        assert!(Timeline::default().buckets(10).0.is_empty());
    }
}
