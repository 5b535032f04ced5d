//! Table columns: what each is called, how wide it may be, which gives way first on a narrow
//! screen, and the small formatters cells share.

use crate::bits::model::BitsInfo;

use super::query::Field;

/// A table column: title, width policy, how to show and how to sort it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Mark,
    Flags,
    Kind,
    State,
    Created,
    Modified,
    Completed,
    Expiration,
    Name,
    Owner,
    Files,
    Command,
    Url,
    Path,
    Bytes,
    Evidence,
}

impl Col {
    /// The record field a column shows, when it shows one: the cell is `—` when the record
    /// did not yield it.
    pub fn field(self) -> Option<&'static str> {
        Some(match self {
            Col::Created => "created",
            Col::Modified => "modified",
            Col::Completed => "completed",
            Col::Expiration => "expiration",
            Col::Name => "job_name",
            Col::Owner => "owner_sid",
            Col::Command => "job_command",
            Col::Url => "url",
            Col::Path => "full_path",
            Col::Bytes => "bytes_downloaded",
            _ => return None,
        })
    }

    pub fn title(self) -> &'static str {
        match self {
            Col::Mark => "",
            Col::Flags => "Flags",
            Col::Kind => "Kind",
            Col::State => "State",
            Col::Created => "Created (UTC)",
            Col::Modified => "Modified (UTC)",
            Col::Completed => "Completed (UTC)",
            Col::Expiration => "Expiration (UTC)",
            Col::Name => "Job name",
            Col::Owner => "Owner",
            Col::Files => "Files",
            Col::Command => "Notify command",
            Col::Url => "URL",
            Col::Path => "Local path",
            Col::Bytes => "Bytes",
            Col::Evidence => "Evidence",
        }
    }

    /// (fixed width) or (minimum width, share of what is left).
    pub fn width(self) -> (u16, u16) {
        match self {
            Col::Mark => (1, 0),
            Col::Flags => (10, 0),
            Col::Kind => (10, 0),
            Col::State => (11, 0),
            Col::Created | Col::Modified | Col::Completed | Col::Expiration => (19, 0),
            Col::Files => (5, 0),
            Col::Bytes => (16, 0),
            Col::Name => (10, 3),
            Col::Owner => (12, 2),
            Col::Command => (12, 2),
            Col::Url => (24, 4),
            Col::Path => (16, 3),
            Col::Evidence => (16, 1),
        }
    }

    /// When the screen is too narrow for every column, the lowest priority gives way first
    /// (the URL and the flags stay longest).
    pub fn priority(self) -> u8 {
        match self {
            Col::Mark => 100,
            Col::Url => 90,
            Col::Flags => 80,
            Col::Kind => 75,
            Col::Name | Col::Path => 70,
            Col::Created => 60,
            Col::Evidence => 50,
            Col::Command => 55,
            Col::Bytes => 45,
            Col::Owner => 40,
            Col::State => 30,
            Col::Files => 20,
            // The later job times give way before everything else.
            Col::Modified => 12,
            Col::Completed => 11,
            Col::Expiration => 10,
        }
    }

    /// The search fields shown in this column (for highlighting filter matches).
    pub fn fields(self) -> &'static [Field] {
        match self {
            Col::State => &[Field::State],
            Col::Created => &[Field::Created],
            Col::Name => &[Field::Name],
            Col::Owner => &[Field::OwnerSid, Field::OwnerAccount],
            Col::Command => &[Field::Command, Field::Arguments],
            Col::Url => &[Field::Url],
            Col::Path => &[Field::FullPath, Field::Filename],
            Col::Evidence => &[Field::Evidence],
            _ => &[],
        }
    }

    pub fn is_text(self) -> bool {
        matches!(
            self,
            Col::State
                | Col::Created
                | Col::Modified
                | Col::Completed
                | Col::Expiration
                | Col::Name
                | Col::Owner
                | Col::Command
                | Col::Url
                | Col::Path
                | Col::Evidence
        )
    }
    /// Whether a sorted order by this column stays valid until items are added (the
    /// aggregate and mark columns change without that).
    pub fn cacheable(self) -> bool {
        !matches!(self, Col::Mark | Col::Files | Col::Kind | Col::Flags)
    }
}

/// A timestamp as a table cell: `2022-12-21 02:18:03` (ISO text, `T` a space, no fraction).
pub fn time_cell(iso: &str) -> String {
    iso.replacen('T', " ", 1).chars().take(19).collect()
}

/// Bytes in binary units, one decimal: `12.6 MiB`.
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A long account SID cut in the middle (`S-1-5-21-…-1001`) so its RID stays visible.
pub fn short_sid(sid: &str, max: usize) -> String {
    if sid.chars().count() <= max || !sid.starts_with("S-1-5-21-") {
        return sid.to_string();
    }
    match sid.rsplit_once('-') {
        // The RID is a number: it is never cut, the domain part gives way first.
        Some((_, rid)) if rid.chars().count() + 11 <= max => format!("S-1-5-21-…-{rid}"),
        Some((_, rid)) => format!("…-{rid}"),
        None => sid.to_string(),
    }
}

/// The owner as a table shows it: the account name when well known, else the SID.
pub fn owner_label(r: &BitsInfo) -> &str {
    if r.owner_account.is_empty() {
        &r.owner_sid
    } else {
        &r.owner_account
    }
}
