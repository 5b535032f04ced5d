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

/// A FILETIME as ISO text, or the empty string when absent or zero: the text of
/// [`iso`]`(`[`filetime`]`(ft))`, written by hand for years up to 9999 (a story's hundreds of
/// thousands of facts each carry a time; chrono's formatter was a twentieth of `parse`'s
/// time beside a large event log), by chrono past them (`+10000-…`).
#[allow(
    clippy::arithmetic_side_effects,
    reason = "bounded: days < 2.2e7 (u64::MAX / 864e9), so no sum or product comes near u64::MAX; a digit is < 10"
)]
pub fn filetime_iso(ft: u64) -> String {
    if ft == 0 {
        return String::new();
    }
    let secs = ft / 10_000_000;
    let millis = (ft % 10_000_000) / 10_000;
    let (days, day_secs) = (secs / 86_400, secs % 86_400);
    // Civil date from a day count (H. Hinnant's algorithm, in unsigned arithmetic): days since
    // 0000-03-01 are the days since 1601-01-01 plus 584,694.
    let z = days + 584_694;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    if year > 9999 {
        return filetime(ft).map(iso).unwrap_or_default();
    }
    let mut out = String::with_capacity(24);
    let mut put = |n: u64, width: u32, after: char| {
        for p in (0..width).rev() {
            let digit = (n / 10u64.pow(p)) % 10;
            out.push(char::from(b'0' + digit as u8));
        }
        out.push(after);
    };
    put(year, 4, '-');
    put(month, 2, '-');
    put(day, 2, 'T');
    put(day_secs / 3600, 2, ':');
    put(day_secs / 60 % 60, 2, ':');
    put(day_secs % 60, 2, '.');
    put(millis, 3, 'Z');
    out
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

    /// The hand-written text equals chrono's for every kind of FILETIME: leap days and
    /// centuries, the ends of days and years, the 9999/10000 boundary, random values.
    #[test]
    fn filetime_iso_equals_chrono() {
        let chrono_iso = |ft: u64| filetime(ft).map(iso).unwrap_or_default();
        let day = 86_400 * 10_000_000u64;
        let mut cases: Vec<u64> = vec![1, 9_999, 10_000, day - 1, day, u64::MAX, u64::MAX - 1];
        // 1601 to past 10000, every 97 days and a bit (crosses every month and leap rule).
        let mut ft = 0u64;
        while ft < 2_700_000 * day {
            cases.extend([ft.saturating_sub(1), ft, ft + 9_999_999]);
            ft += 97 * day + 12_345_678_901;
        }
        let mut rng = crate::util::rng::Rng::new(19);
        cases.extend((0..20_000).map(|_| rng.next_u64()));
        for ft in cases {
            assert_eq!(filetime_iso(ft), chrono_iso(ft), "{ft}");
        }
    }
}
