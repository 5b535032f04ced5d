//! The filter's `after:` and `before:`: the instant a term names, and the times of a record it
//! is compared with.
//!
//! A term names an instant in UTC: `2026`, `2026-03`, `2026-03-01`, `2026-03-01T08`,
//! `2026-03-01T08:00`, `2026-03-01T08:00:00` or `…:00.250`, a `Z` allowed at the end (and
//! `2026-03-01 08:00:00` typed with a space). What is left out is its start: `2026-03` is
//! 2026-03-01T00:00:00.000. `after:` keeps the records holding a time at or after that instant
//! (inclusive), `before:` those holding one strictly before it, so `after:D before:E` is the
//! half-open range [D, E) and two neighbouring ranges never share a record's time.
//!
//! The times compared are the ones that say something happened to the job: `created`,
//! `modified`, `completed` (the transfer's completion) and every dated fact of the job's story
//! (event log, Sysmon and security-log events, the MFT and USN entries of its files: see
//! `bits::story`). Not `expiration`: BITS computes it as `modified` plus the inactivity timeout
//! (90 days by default), so `after:` would find every job modified in the 90 days before; and
//! not `remote_modified`, the server's clock for its copy of the file.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use crate::bits::model::BitsInfo;

/// Seconds from 1601-01-01 (FILETIME's epoch) to 1970-01-01.
const EPOCH_DIFF_SECS: i64 = 11_644_473_600;

/// FILETIME (100 ns since 1601) of a UTC instant; `None` before 1601.
fn filetime_of(t: NaiveDateTime) -> Option<u64> {
    let utc = t.and_utc();
    let secs = utc.timestamp().checked_add(EPOCH_DIFF_SECS)?;
    let ticks = i128::from(secs) * 10_000_000 + i128::from(utc.timestamp_subsec_nanos() / 100);
    u64::try_from(ticks).ok()
}

/// A number of exactly `n` ASCII digits.
fn num(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// The instant (FILETIME) a term's value names, or why it names none. Case is ignored.
pub fn parse_instant(value: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "not a date or time: {value:?} (UTC: 2026-03-01, 2026-03-01T08:00, 2026-03-01T08:00:00.5)"
        )
    };
    let v = value.trim().to_ascii_lowercase();
    let v = v.strip_suffix('z').unwrap_or(&v);
    let (date, time) = match v.split_once(['t', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (v, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let (y, m, d) = match parts.as_slice() {
        [y] => (num(y, 4), Some(1), Some(1)),
        [y, m] => (num(y, 4), num(m, 2), Some(1)),
        [y, m, d] => (num(y, 4), num(m, 2), num(d, 2)),
        _ => return Err(bad()),
    };
    let (Some(y), Some(m), Some(d)) = (y, m, d) else {
        return Err(bad());
    };
    let day = NaiveDate::from_ymd_opt(i32::try_from(y).map_err(|_| bad())?, m, d)
        .ok_or_else(|| format!("no such day: {value:?}"))?;
    let time = match time {
        None => NaiveTime::MIN,
        Some(_) if parts.len() != 3 => return Err(bad()),
        Some(t) => parse_clock(t).ok_or_else(bad)?,
    };
    filetime_of(day.and_time(time)).ok_or_else(bad)
}

/// `hh`, `hh:mm`, `hh:mm:ss`, `hh:mm:ss.fff` (up to 9 fraction digits).
fn parse_clock(t: &str) -> Option<NaiveTime> {
    let (hms, frac) = match t.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (t, None),
    };
    let fields: Vec<&str> = hms.split(':').collect();
    let get = |i: usize| fields.get(i).map_or(Some(0), |s| num(s, 2));
    if fields.len() > 3 || (frac.is_some() && fields.len() != 3) {
        return None;
    }
    let nanos = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{f:0<9}").parse().ok()?
        }
        Some(_) => return None,
    };
    NaiveTime::from_hms_nano_opt(get(0)?, get(1)?, get(2)?, nanos)
}

/// Is `word` the clock half of a time typed with a space (`08:00`, `08:00:00.5z`)? Then the
/// filter line joins it to the `after:`/`before:` date before it.
pub fn is_clock(word: &str) -> bool {
    let w = word.to_ascii_lowercase();
    let w = w.strip_suffix('z').unwrap_or(&w);
    w.contains(':') && parse_clock(w).is_some()
}

/// FILETIME of a record's ISO time (`2026-03-05T10:00:00.000Z`); `None` when empty, unset
/// (the FILETIME epoch, 1601) or not a time.
fn iso_filetime(iso: &str) -> Option<u64> {
    let t = DateTime::parse_from_rfc3339(iso).ok()?;
    filetime_of(t.with_timezone(&Utc).naive_utc()).filter(|&ft| ft > 0)
}

/// The times of a record `after:` and `before:` compare (see the module's note), as
/// FILETIMEs, sorted and each once.
pub fn record_times(r: &BitsInfo) -> Box<[u64]> {
    let mut out: Vec<u64> = [&r.created, &r.modified, &r.completed]
        .into_iter()
        .filter_map(|t| iso_filetime(t))
        .chain(r.story.iter().map(|f| f.filetime).filter(|&ft| ft > 0))
        .collect();
    out.sort_unstable();
    out.dedup();
    out.into_boxed_slice()
}

/// Does some time of `times` (sorted) lie in [after, before)?
pub fn any_between(times: &[u64], after: Option<u64>, before: Option<u64>) -> bool {
    let from = after.map_or(0, |a| times.partition_point(|&t| t < a));
    times
        .get(from)
        .is_some_and(|&t| before.is_none_or(|b| t < b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ft(iso: &str) -> u64 {
        iso_filetime(iso).expect("iso")
    }

    #[test]
    fn instants_are_the_start_of_what_is_named() {
        for (typed, iso) in [
            ("2026", "2026-01-01T00:00:00Z"),
            ("2026-03", "2026-03-01T00:00:00Z"),
            ("2026-03-01", "2026-03-01T00:00:00Z"),
            ("2026-03-01T08", "2026-03-01T08:00:00Z"),
            ("2026-03-01t08:30", "2026-03-01T08:30:00Z"),
            ("2026-03-01 08:30:15", "2026-03-01T08:30:15Z"),
            ("2026-03-01T08:30:15.25Z", "2026-03-01T08:30:15.250Z"),
        ] {
            assert_eq!(parse_instant(typed), Ok(ft(iso)), "{typed}");
        }
        for bad in [
            "march",
            "2026-13",
            "2026-02-30",
            "2026-03-01T24:00",
            "2026-03-01T08:61",
            "26-03-01",
            "2026-3-1",
            "2026-03T08:00",
            "2026-03-01T08.5",
            "1600-01-01",
        ] {
            assert!(parse_instant(bad).is_err(), "{bad}");
        }
        assert!(is_clock("08:00") && is_clock("08:00:00.5z") && !is_clock("08") && !is_clock("x"));
    }

    #[test]
    fn a_range_is_half_open() {
        let times = [ft("2026-03-01T00:00:00Z"), ft("2026-03-05T10:00:00Z")];
        let at = |s: &str| parse_instant(s).ok();
        assert!(any_between(&times, at("2026-03-01"), None));
        assert!(!any_between(&times, at("2026-03-05T10:00:00.001"), None));
        assert!(!any_between(&times, None, at("2026-03-01")));
        assert!(any_between(&times, at("2026-03-02"), at("2026-03-06")));
        assert!(!any_between(
            &times,
            at("2026-03-02"),
            at("2026-03-05T10:00")
        ));
        assert!(!any_between(&[], None, None));
    }
}
