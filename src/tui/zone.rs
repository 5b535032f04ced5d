//! The time zone the explorer shows times in: UTC unless the analyst asks (`--tz +02:00`,
//! `--tz local`, and `u` toggles between UTC and that zone). Only what is drawn follows the
//! zone: the records, the filter's `after:`/`before:` (UTC, as typed), sorting, `y` copies and
//! every export keep the records' UTC text. The zone in use is named in the header and in the
//! timeline's time column, so a screen or a screenshot always says which it is.

use chrono::{DateTime, FixedOffset, Local, Offset, TimeZone, Utc};

/// A zone: UTC, a fixed offset (seconds east of UTC), or this machine's local zone (its
/// offset at each instant: daylight saving followed, from the system's zone database).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    #[default]
    Utc,
    Fixed(i32),
    Local,
}

/// `+02:00` for seconds east of UTC.
fn offset_text(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
}

impl Zone {
    /// `utc`, `local`, or an offset: `+02:00`, `-05:30`, `+0530`, `+2` (at most ±14:00, as
    /// real zones are).
    pub fn parse(s: &str) -> Result<Zone, String> {
        let bad = || format!("not a time zone: {s:?} (utc, local, or an offset such as +02:00)");
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") {
            return Ok(Zone::Utc);
        }
        if t.eq_ignore_ascii_case("local") {
            return Ok(Zone::Local);
        }
        let (sign, rest) = match t.as_bytes().first() {
            Some(b'+') => (1, &t[1..]),
            Some(b'-') => (-1, &t[1..]),
            _ => return Err(bad()),
        };
        let (h, m) = match rest.split_once(':') {
            Some((h, m)) => (h, m),
            None if rest.len() == 4 && rest.bytes().all(|b| b.is_ascii_digit()) => rest.split_at(2),
            None => (rest, "0"),
        };
        let digits =
            |v: &str| !v.is_empty() && v.len() <= 2 && v.bytes().all(|b| b.is_ascii_digit());
        if !digits(h) || !digits(m) {
            return Err(bad());
        }
        let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 14 || m > 59 || h * 60 + m > 14 * 60 {
            return Err(bad());
        }
        Ok(match sign * (h * 3600 + m * 60) {
            0 => Zone::Utc,
            secs => Zone::Fixed(secs),
        })
    }

    /// How headers name it: `UTC`, `UTC+02:00`, `local`.
    pub fn label(self) -> String {
        match self {
            Zone::Utc => "UTC".into(),
            Zone::Fixed(s) => format!("UTC{}", offset_text(s)),
            Zone::Local => "local".into(),
        }
    }

    /// Seconds east of UTC at the instant `ms` (milliseconds since 1970).
    pub fn offset_at(self, ms: i64) -> i32 {
        match self {
            Zone::Utc => 0,
            Zone::Fixed(s) => s,
            Zone::Local => DateTime::from_timestamp_millis(ms)
                .map(|t| {
                    Local
                        .offset_from_utc_datetime(&t.naive_utc())
                        .fix()
                        .local_minus_utc()
                })
                .unwrap_or(0),
        }
    }

    /// The instant `ms` as a time of this zone, if it is one chrono can hold.
    fn at(self, ms: i64) -> Option<DateTime<FixedOffset>> {
        let off = FixedOffset::east_opt(self.offset_at(ms))?;
        Some(DateTime::<Utc>::from_timestamp_millis(ms)?.with_timezone(&off))
    }

    /// `2022-12-21 04:18:03.120` for milliseconds since 1970, in this zone.
    pub fn millis(self, ms: i64) -> String {
        self.at(ms)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
            .unwrap_or_else(|| "?".into())
    }

    /// A record's ISO time (`2022-12-21T02:18:03.120Z`) as a table cell in this zone:
    /// `2022-12-21 04:18:03`. Text that is not such a time is shown as it is (cut as UTC
    /// cells are), so nothing is hidden.
    pub fn cell(self, iso: &str) -> String {
        match (self, DateTime::parse_from_rfc3339(iso)) {
            (Zone::Utc, _) | (_, Err(_)) => super::columns::time_cell(iso),
            (_, Ok(t)) => self
                .at(t.timestamp_millis())
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_else(|| super::columns::time_cell(iso)),
        }
    }

    /// A record's ISO time for the detail pane: as it is in UTC; in another zone, that
    /// zone's reading first with its offset, then the UTC text.
    pub fn detail(self, iso: &str) -> String {
        match (self, DateTime::parse_from_rfc3339(iso)) {
            (Zone::Utc, _) | (_, Err(_)) => iso.to_string(),
            (_, Ok(t)) => match self.at(t.timestamp_millis()) {
                Some(z) => format!(
                    "{} {} ({iso})",
                    z.format("%Y-%m-%d %H:%M:%S%.3f"),
                    offset_text(z.offset().local_minus_utc())
                ),
                None => iso.to_string(),
            },
        }
    }

    /// What `u` switches to: UTC from any zone; from UTC, the zone asked for (`--tz`), else
    /// local.
    pub fn toggled(self, asked: Zone) -> Zone {
        match (self, asked) {
            (Zone::Utc, Zone::Utc) => Zone::Local,
            (Zone::Utc, z) => z,
            _ => Zone::Utc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_parse_and_name_themselves() {
        assert_eq!(Zone::parse("UTC"), Ok(Zone::Utc));
        assert_eq!(Zone::parse("local"), Ok(Zone::Local));
        assert_eq!(Zone::parse("+02:00"), Ok(Zone::Fixed(7200)));
        assert_eq!(Zone::parse("-05:30"), Ok(Zone::Fixed(-19800)));
        assert_eq!(Zone::parse("+0530"), Ok(Zone::Fixed(19800)));
        assert_eq!(Zone::parse("+2"), Ok(Zone::Fixed(7200)));
        assert_eq!(Zone::parse("-00:00"), Ok(Zone::Utc));
        for bad in [
            "",
            "+",
            "2",
            "+15",
            "+14:01",
            "+1:60",
            "+02:00:00",
            "+٢",
            "+-1",
            "cet",
        ] {
            assert!(Zone::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Zone::Fixed(-19800).label(), "UTC-05:30");
        assert_eq!(Zone::Utc.label(), "UTC");
    }

    #[test]
    fn times_follow_the_zone_and_keep_their_instant() {
        let iso = "2022-12-21T23:18:03.120Z";
        let ms = 1_671_664_683_120;
        assert_eq!(Zone::Utc.cell(iso), "2022-12-21 23:18:03");
        assert_eq!(Zone::Fixed(7200).cell(iso), "2022-12-22 01:18:03");
        assert_eq!(Zone::Fixed(-19800).millis(ms), "2022-12-21 17:48:03.120");
        assert_eq!(Zone::Utc.millis(ms), "2022-12-21 23:18:03.120");
        assert_eq!(
            Zone::Fixed(7200).detail(iso),
            format!("2022-12-22 01:18:03.120 +02:00 ({iso})")
        );
        assert_eq!(Zone::Utc.detail(iso), iso);
        // Not a time: as it is, whatever the zone.
        for z in [Zone::Utc, Zone::Fixed(3600), Zone::Local] {
            assert_eq!(z.cell(""), "");
            assert_eq!(z.cell("garbage"), "garbage");
            assert_eq!(z.detail("garbage"), "garbage");
            let _ = z.millis(i64::MAX);
            let _ = z.millis(i64::MIN);
            let _ = z.cell("9999-12-31T23:59:59.999Z");
        }
        assert_eq!(Zone::Utc.toggled(Zone::Utc), Zone::Local);
        assert_eq!(Zone::Utc.toggled(Zone::Fixed(60)), Zone::Fixed(60));
        assert_eq!(Zone::Fixed(60).toggled(Zone::Fixed(60)), Zone::Utc);
    }
}
