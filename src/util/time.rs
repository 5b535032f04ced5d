//! Windows timestamps: FILETIME (100 ns since 1601) and OLE automation dates (days since 1899-12-30).

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// ISO-8601 UTC with milliseconds and `Z`, e.g. `2023-02-19T05:22:58.236Z`.
pub fn iso(dt: DateTime<Utc>) -> String {
    dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A FILETIME as a UTC time; `None` for 0 or values chrono cannot represent.
pub fn filetime(ft: u64) -> Option<DateTime<Utc>> {
    if ft == 0 {
        return None;
    }
    let epoch = NaiveDate::from_ymd_opt(1601, 1, 1)?
        .and_hms_opt(0, 0, 0)?
        .and_utc();
    let secs = i64::try_from(ft / 10_000_000).ok()?;
    let nanos = i64::try_from((ft % 10_000_000).checked_mul(100)?).ok()?;
    epoch
        .checked_add_signed(Duration::try_seconds(secs)?)?
        .checked_add_signed(Duration::nanoseconds(nanos))
}

/// A FILETIME as ISO text, or the empty string when absent or zero.
pub fn filetime_iso(ft: u64) -> String {
    filetime(ft).map(iso).unwrap_or_default()
}

/// An OLE automation date (ESE's `JET_coltypDateTime`): a double counting days since
/// 1899-12-30 00:00 with the fraction as the time of day. Negative values count days
/// backwards but keep a positive time-of-day fraction, as OLE defines it.
pub fn ole_date(days: f64) -> Option<DateTime<Utc>> {
    if !days.is_finite() || days.abs() > 3_000_000.0 {
        return None;
    }
    // Whole days keep their sign; the time of day is |fraction| of a day, rounded to the
    // millisecond, ties to even (as Python rounds; OLE dates carry no more precision).
    let whole = days.trunc();
    let ms = whole * 86_400_000.0 + ((days - whole).abs() * 86_400_000.0).round_ties_even();
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?
        .and_hms_opt(0, 0, 0)?
        .and_utc();
    epoch.checked_add_signed(Duration::try_milliseconds(ms as i64)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn filetime_and_ole() {
        assert_eq!(filetime_iso(0), "");
        assert_eq!(filetime_iso(116444736000000000), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(ole_date(25569.5).unwrap()), "1970-01-01T12:00:00.000Z");
        assert_eq!(iso(ole_date(-1.25).unwrap()), "1899-12-29T06:00:00.000Z");
        assert!(ole_date(f64::NAN).is_none());
    }
}
