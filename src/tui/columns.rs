//! Table columns: what each is called, how wide it may be, which gives way first on a narrow
//! screen, and the small formatters cells share.

use crate::bits::model::BitsInfo;

use super::query::Field;

/// A table column: title, width policy, how to show and how to sort it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// The host each record was collected from, as `parse` names it (`host`).
    Host,
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
            Col::Host => "Host",
        }
    }

    /// Every column, in a fixed order (see [`Col::index`]).
    pub const ALL: [Col; Col::COUNT] = [
        Col::Mark,
        Col::Flags,
        Col::Kind,
        Col::State,
        Col::Created,
        Col::Modified,
        Col::Completed,
        Col::Expiration,
        Col::Name,
        Col::Owner,
        Col::Files,
        Col::Command,
        Col::Url,
        Col::Path,
        Col::Bytes,
        Col::Evidence,
        Col::Host,
    ];

    /// How many columns there are (per-column arrays are this long).
    pub const COUNT: usize = 17;

    /// This column's place in [`Col::ALL`] (for per-column arrays).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The column's name in the user's settings file (stable across versions).
    pub fn id(self) -> &'static str {
        match self {
            Col::Mark => "mark",
            Col::Flags => "flags",
            Col::Kind => "kind",
            Col::State => "state",
            Col::Created => "created",
            Col::Modified => "modified",
            Col::Completed => "completed",
            Col::Expiration => "expiration",
            Col::Name => "name",
            Col::Owner => "owner",
            Col::Files => "files",
            Col::Command => "command",
            Col::Url => "url",
            Col::Path => "path",
            Col::Bytes => "bytes",
            Col::Evidence => "evidence",
            Col::Host => "host",
        }
    }

    pub fn from_id(id: &str) -> Option<Col> {
        Col::ALL.into_iter().find(|c| c.id() == id)
    }

    /// The narrowest the column is drawn (its cells cut or elided below their natural
    /// width, see [`Col::elides`]).
    pub fn min_width(self) -> u16 {
        match self {
            Col::Mark => 1,
            Col::Flags => 5,
            Col::Kind => 6,
            Col::State => 6,
            Col::Created | Col::Modified | Col::Completed | Col::Expiration => 19,
            Col::Files => 5,
            Col::Bytes => 10,
            Col::Name => 10,
            Col::Owner => 12,
            Col::Command => 12,
            Col::Url => 24,
            Col::Path => 16,
            Col::Evidence => 16,
            // A NetBIOS name is at most 15 characters; a longer folder or file name loses
            // its middle below its natural width.
            Col::Host => 8,
        }
    }

    /// The widest the column's cells can be known to need without looking at them (a time
    /// is 19 cells); `None` when its content decides.
    pub fn fixed_width(self) -> Option<u16> {
        match self {
            Col::Mark => Some(1),
            Col::Created | Col::Modified | Col::Completed | Col::Expiration => Some(19),
            Col::Files => Some(5),
            _ => None,
        }
    }

    /// A width the column is given before any other column grows past its own (the rest,
    /// up to its natural width, comes after every column had this much): a long URL does
    /// not starve the command and the flags.
    pub fn comfortable(self) -> u16 {
        match self {
            Col::Url => 48,
            Col::Name | Col::Command | Col::Path => 36,
            Col::Evidence => 48,
            Col::Host => 16,
            Col::Flags | Col::Owner => 24,
            _ => u16::MAX,
        }
    }

    /// Which columns give way on a narrow screen (the lowest first) and which get spare
    /// width first (the highest): the job name, the URL, the flags and the command first.
    pub fn priority(self) -> u8 {
        match self {
            Col::Mark => 100,
            Col::Name => 92,
            Col::Url => 90,
            Col::Flags => 88,
            Col::Command => 86,
            Col::Path => 84,
            Col::Kind => 75,
            // Which machine a job sat on matters more than where its file lay in the case.
            Col::Host => 70,
            Col::Evidence => 65,
            Col::Created => 60,
            Col::Owner => 50,
            Col::Bytes => 45,
            Col::State => 40,
            Col::Files => 20,
            // The later job times give way before everything else.
            Col::Modified => 12,
            Col::Completed => 11,
            Col::Expiration => 10,
        }
    }

    /// The columns that must reach their comfortable width before a column of lower
    /// priority than [`Col::KEY_PRIORITY`] may take room at all.
    pub const KEY_PRIORITY: u8 = 84;

    /// Cells too wide for the column lose their middle (`https://host/…/file.exe`,
    /// `HOST-A/…/qmgr.db`, `MozillaUp…39CB`), not their end: host and file name stay.
    pub fn elides(self) -> bool {
        matches!(
            self,
            Col::Name | Col::Url | Col::Path | Col::Command | Col::Evidence | Col::Host
        )
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
            Col::Host => &[Field::Host],
            _ => &[],
        }
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
