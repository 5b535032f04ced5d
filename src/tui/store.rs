//! The record store and the three views over it (jobs, files, joined rows).
//!
//! Records arrive in batches and are only ever appended. Each view is a list of items (a job,
//! a file, or one BitsInfo row), each item a list of record indices; filtering and sorting
//! produce index lists (`order`, `shown`) into those items, never copies of records.

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::bits::model::BitsInfo;

use super::display;

// ---------------------------------------------------------------------------------------------
// Search fields
// ---------------------------------------------------------------------------------------------

/// The text fields searched by the filter, in the order they are stored in a record's
/// search text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Field {
    JobId,
    FileId,
    OwnerSid,
    OwnerAccount,
    Created,
    Modified,
    Completed,
    Expiration,
    Name,
    Description,
    Command,
    Arguments,
    Type,
    State,
    Priority,
    Flags,
    Method,
    FullPath,
    Filename,
    Target,
    Tmp,
    Volume,
    Drive,
    Url,
    /// The evidence file the record came from.
    Evidence,
}

pub const FIELD_COUNT: usize = 25;

impl Field {
    pub const ALL: [Field; FIELD_COUNT] = [
        Field::JobId,
        Field::FileId,
        Field::OwnerSid,
        Field::OwnerAccount,
        Field::Created,
        Field::Modified,
        Field::Completed,
        Field::Expiration,
        Field::Name,
        Field::Description,
        Field::Command,
        Field::Arguments,
        Field::Type,
        Field::State,
        Field::Priority,
        Field::Flags,
        Field::Method,
        Field::FullPath,
        Field::Filename,
        Field::Target,
        Field::Tmp,
        Field::Volume,
        Field::Drive,
        Field::Url,
        Field::Evidence,
    ];

    pub fn get(self, r: &BitsInfo) -> &str {
        match self {
            Field::JobId => &r.job_id,
            Field::FileId => &r.file_id,
            Field::OwnerSid => &r.owner_sid,
            Field::OwnerAccount => &r.owner_account,
            Field::Created => &r.created,
            Field::Modified => &r.modified,
            Field::Completed => &r.completed,
            Field::Expiration => &r.expiration,
            Field::Name => &r.job_name,
            Field::Description => &r.job_description,
            Field::Command => &r.job_command,
            Field::Arguments => &r.job_arguments,
            Field::Type => &r.job_type,
            Field::State => &r.job_state,
            Field::Priority => &r.priority,
            Field::Flags => &r.flags,
            Field::Method => &r.http_method,
            Field::FullPath => &r.full_path,
            Field::Filename => &r.filename,
            Field::Target => &r.target_path,
            Field::Tmp => &r.tmp_fullpath,
            Field::Volume => &r.volume,
            Field::Drive => &r.drive,
            Field::Url => &r.url,
            Field::Evidence => &r.evidence,
        }
    }
}

/// A filter scope: `url:`, `cmd:`, `name:`, `owner:`, `path:`, `id:`, or none (every text
/// field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Url,
    Cmd,
    Name,
    Owner,
    Path,
    Id,
    Ev,
}

impl Scope {
    pub fn fields(self) -> &'static [Field] {
        match self {
            Scope::All => &Field::ALL,
            Scope::Url => &[Field::Url],
            Scope::Cmd => &[Field::Command, Field::Arguments],
            Scope::Name => &[Field::Name],
            Scope::Owner => &[Field::OwnerSid, Field::OwnerAccount],
            Scope::Path => &[Field::FullPath, Field::Filename, Field::Target, Field::Tmp],
            Scope::Id => &[Field::JobId, Field::FileId],
            Scope::Ev => &[Field::Evidence],
        }
    }

    /// The scope names the filter knows (matched without regard to case).
    pub const NAMES: [(&'static str, Scope); 7] = [
        ("url", Scope::Url),
        ("cmd", Scope::Cmd),
        ("name", Scope::Name),
        ("owner", Scope::Owner),
        ("path", Scope::Path),
        ("id", Scope::Id),
        ("ev", Scope::Ev),
    ];
}

impl Field {
    /// Identifiers (GUIDs, SIDs) match exactly or by prefix, never fuzzily.
    pub fn is_identifier(self) -> bool {
        matches!(self, Field::JobId | Field::FileId | Field::OwnerSid)
    }
}

/// Does a (lowercase) pattern look like an identifier: a SID (`s-1-…`), a GUID or its
/// start (`{…`, or eight or more hex digits and dashes starting with eight hex digits)?
pub fn is_identifier_pattern(p: &str) -> bool {
    let p = p.strip_prefix('{').unwrap_or(p);
    if p.starts_with("s-1-") {
        return true;
    }
    p.len() >= 8
        && p.bytes().take(8).all(|b| b.is_ascii_hexdigit())
        && p.bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'-' || b == b'}')
}

/// An identifier field (lowercase display form) starts with the pattern, braces aside.
fn id_prefix(field: &str, pat: &str) -> bool {
    let f = field.strip_prefix('{').unwrap_or(field);
    let p = pat.strip_prefix('{').unwrap_or(pat);
    !p.is_empty() && f.starts_with(p)
}

// ---------------------------------------------------------------------------------------------
// Suspicion
// ---------------------------------------------------------------------------------------------

/// Why a record looks suspicious (bits of [`Rec::susp`]).
pub const SUSP_CMD: u8 = 1;
pub const SUSP_IP: u8 = 2;
pub const SUSP_PORT: u8 = 4;
pub const SUSP_EXE: u8 = 8;
pub const SUSP_OWNER: u8 = 16;

/// (bit, short code for the Flags column, explanation).
pub const SUSP_REASONS: [(u8, &str, &str); 5] = [
    (
        SUSP_CMD,
        "cmd",
        "a notify command is set (runs when the job ends: T1197 persistence)",
    ),
    (SUSP_IP, "ip", "the URL names a raw IP address"),
    (SUSP_PORT, "port", "the URL uses a non-standard port"),
    (
        SUSP_EXE,
        "exe",
        "the download lands as an executable or script",
    ),
    (
        SUSP_OWNER,
        "own",
        "the owner is not one of the usual service accounts (SYSTEM, LOCAL SERVICE, NETWORK SERVICE)",
    ),
];

const EXEC_EXT: &[&str] = &[
    "exe",
    "dll",
    "scr",
    "com",
    "pif",
    "cpl",
    "sys",
    "msi",
    "msp",
    "msc",
    "bat",
    "cmd",
    "ps1",
    "psm1",
    "psd1",
    "vbs",
    "vbe",
    "js",
    "jse",
    "wsf",
    "wsh",
    "hta",
    "lnk",
    "jar",
    "py",
    "sct",
    "inf",
    "reg",
    "application",
    "appref-ms",
    "xll",
];

const SERVICE_ACCOUNTS: &[&str] = &["S-1-5-18", "S-1-5-19", "S-1-5-20"];

fn has_exec_ext(path: &str) -> bool {
    let name = path.rsplit(['\\', '/']).next().unwrap_or(path);
    let Some((_, ext)) = name.rsplit_once('.') else {
        return false;
    };
    let ext = ext.trim_end_matches([' ', '.']).to_ascii_lowercase();
    EXEC_EXT.contains(&ext.as_str())
}

/// The host and explicit port of a URL (`scheme://[user@]host[:port]/...`).
fn url_host_port(url: &str) -> Option<(&str, Option<&str>, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = after.strip_prefix(':');
        return Some((host, port, scheme));
    }
    match hostport.rsplit_once(':') {
        Some((h, p)) => Some((h, Some(p), scheme)),
        None => Some((hostport, None, scheme)),
    }
}

fn is_raw_ip(host: &str) -> bool {
    if host.contains(':') {
        return true; // IPv6 literal
    }
    if host.is_empty() {
        return false;
    }
    // Dotted IPv4 and the decimal, octal or hex single-number forms (http://3232235777/).
    host.split('.').all(|p| {
        !p.is_empty()
            && (p.bytes().all(|b| b.is_ascii_digit())
                // `get`, not `[..2]`: the host is untrusted text and its first two bytes
                // may be part of one character (`bücher.de`).
                || p.get(..2).is_some_and(|x| x.eq_ignore_ascii_case("0x"))
                    && p.len() > 2
                    && p.bytes().skip(2).all(|b| b.is_ascii_hexdigit()))
    })
}

/// The suspicion bits of one record.
pub fn suspicion(r: &BitsInfo) -> u8 {
    let mut s = 0;
    if !r.job_command.trim().is_empty() || !r.job_arguments.trim().is_empty() {
        s |= SUSP_CMD;
    }
    if let Some((host, port, scheme)) = url_host_port(&r.url) {
        if is_raw_ip(host) {
            s |= SUSP_IP;
        }
        if let Some(p) = port {
            let standard = match scheme.to_ascii_lowercase().as_str() {
                "http" => p == "80",
                "https" => p == "443",
                _ => p == "80" || p == "443",
            };
            if !standard {
                s |= SUSP_PORT;
            }
        }
    }
    if has_exec_ext(&r.full_path) || has_exec_ext(&r.filename) {
        s |= SUSP_EXE;
    }
    if !r.owner_sid.is_empty() && !SERVICE_ACCOUNTS.contains(&r.owner_sid.as_str()) {
        s |= SUSP_OWNER;
    }
    s
}

/// Short codes for the Flags column: `⚠` for hidden characters, `W` when a record carries
/// decoder warnings (the detail pane lists them), then the suspicion codes.
pub fn flag_codes(hidden: bool, warned: bool, susp: u8) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if hidden {
        parts.push("⚠");
    }
    if warned {
        parts.push("W");
    }
    for (bit, code, _) in SUSP_REASONS {
        if susp & bit != 0 {
            parts.push(code);
        }
    }
    parts.join(" ")
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

/// A record with what the views need precomputed once, when it arrives.
#[derive(Debug)]
pub struct Rec {
    pub info: BitsInfo,
    /// Some string of the record holds a control, bidi or invisible character.
    pub hidden: bool,
    pub susp: u8,
    /// How many distinct warnings the decoders attached to the record.
    pub warnings: u32,
    /// Where the record's search text starts in the store's text arena: the lowercased
    /// display forms of the search fields, separated by NUL (which a display form never
    /// holds); and where each field ends, relative to that start. One arena for all records
    /// keeps a filter pass a sequential scan.
    hay_at: usize,
    ends: [u32; FIELD_COUNT],
}

fn record_has_hidden(r: &BitsInfo) -> bool {
    let h = display::has_hidden;
    Field::ALL.iter().any(|f| h(f.get(r)))
        || h(&r.sddl)
        || h(&r.remote_modified)
        || r.additional_sids.iter().any(|s| h(s))
        || r.missing_fields.iter().any(|s| h(s))
        || r.warnings.iter().any(|s| h(s))
        || r.acls
            .iter()
            .any(|a| h(&a.ace_type) || h(&a.sid) || h(&a.account) || a.flags.iter().any(|s| h(s)))
        || [&r.job_source, &r.file_source]
            .into_iter()
            .flatten()
            .any(|s| {
                h(&s.evidence)
                    || s.container_chain.iter().any(|c| h(c))
                    || h(s.kind.as_str())
                    || h(&s.container)
                    || s.fields.iter().any(|f| h(f.name))
            })
}

/// A record's warnings, each once, in the order they were first given (a warning about a
/// job reaches each of its file rows once, and some decoders repeat one per copy).
pub fn distinct_warnings(r: &BitsInfo) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for w in &r.warnings {
        if !out.contains(&w.as_str()) {
            out.push(w);
        }
    }
    out
}

/// Append the lowercased display form of `s`.
fn push_search_form(out: &mut String, s: &str) {
    let e = display::escape(s);
    if e.is_ascii() {
        out.extend(e.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        out.extend(e.chars().flat_map(char::to_lowercase));
    }
}

impl Rec {
    /// Precompute a record, appending its search text to `arena`.
    pub fn new(info: BitsInfo, arena: &mut String) -> Rec {
        let hay_at = arena.len();
        let mut ends = [0u32; FIELD_COUNT];
        for (i, f) in Field::ALL.iter().enumerate() {
            if i > 0 {
                arena.push('\0');
            }
            push_search_form(arena, f.get(&info));
            ends[i] = u32::try_from(arena.len() - hay_at).unwrap_or(u32::MAX);
        }
        Rec {
            hidden: record_has_hidden(&info),
            susp: suspicion(&info),
            warnings: distinct_warnings(&info).len() as u32,
            info,
            hay_at,
            ends,
        }
    }

    /// The record's whole search text.
    fn hay<'a>(&self, arena: &'a str) -> &'a str {
        let end = self.hay_at + self.ends[FIELD_COUNT - 1] as usize;
        arena.get(self.hay_at..end).unwrap_or("")
    }

    /// The lowercased display form of one search field.
    pub fn field_text<'a>(&self, arena: &'a str, f: Field) -> &'a str {
        let i = f as usize;
        let start = if i == 0 {
            0
        } else {
            self.ends[i - 1] as usize + 1
        };
        arena
            .get(self.hay_at + start..self.hay_at + self.ends[i] as usize)
            .unwrap_or("")
    }

    /// Does the record match one term? An unscoped fuzzy or exact term searches the whole
    /// NUL-separated text at once; a scoped one, its fields; an identifier, the identifier
    /// fields by prefix and the others by substring. A negated term inverts the answer.
    fn matches(&self, arena: &str, term: &Compiled) -> bool {
        self.matches_positive(arena, term) != term.negate
    }

    fn matches_positive(&self, arena: &str, term: &Compiled) -> bool {
        let fields = term.scope.fields();
        match &term.kind {
            CompiledKind::HasHidden => self.hidden,
            CompiledKind::HasWarnings => self.warnings > 0,
            CompiledKind::Any => true,
            CompiledKind::Fuzzy(m) => {
                if term.scope == Scope::All {
                    m.matches(self.hay(arena))
                } else {
                    fields.iter().any(|f| m.matches(self.field_text(arena, *f)))
                }
            }
            CompiledKind::Exact(p) => {
                if term.scope == Scope::All {
                    self.hay(arena).contains(p.as_str())
                } else {
                    fields
                        .iter()
                        .any(|f| self.field_text(arena, *f).contains(p.as_str()))
                }
            }
            CompiledKind::Ident(p) => fields.iter().any(|f| {
                let t = self.field_text(arena, *f);
                if f.is_identifier() {
                    id_prefix(t, p)
                } else {
                    t.contains(p.as_str())
                }
            }),
        }
    }
}

/// A fuzzy pattern ready to test: for ASCII patterns, a table of which pattern positions
/// each byte value fills, and the letter to search for first.
#[derive(Debug, Clone)]
pub struct FuzzyPattern {
    pat: String,
    table: Option<Box<[u64; 256]>>,
    /// Position in the pattern of its rarest byte (by a fixed guess of what is common in
    /// paths, URLs, GUIDs and times), found with memchr before anything else is looked at.
    anchor: usize,
}

/// How common a byte is in search text (higher: more common).
fn commonness(b: u8) -> u8 {
    match b {
        b'0'..=b'9' | b'a'..=b'f' | b'-' | b'.' | b'/' | b'\\' | b':' | b' ' | b'\0' => 3,
        b't' | b'o' | b'i' | b'n' | b's' | b'r' | b'l' | b'p' | b'm' | b'u' => 2,
        b'g'..=b'z' => 1,
        _ => 0,
    }
}

impl FuzzyPattern {
    pub fn new(pat: &str) -> FuzzyPattern {
        let table = (pat.is_ascii() && !pat.is_empty() && pat.len() <= 64).then(|| {
            let mut t = Box::new([0u64; 256]);
            for (k, b) in pat.bytes().enumerate() {
                t[usize::from(b)] |= 1 << k;
            }
            t
        });
        let anchor = pat
            .bytes()
            .enumerate()
            .min_by_key(|&(k, b)| (commonness(b), usize::MAX - k))
            .map(|(k, _)| k)
            .unwrap_or(0);
        FuzzyPattern {
            pat: pat.to_string(),
            table,
            anchor,
        }
    }

    /// [`fuzzy_match`] on `hay`, where a NUL ends one field and starts the next (no match
    /// spans two fields).
    ///
    /// A match holds the anchor byte with the rest of the pattern at most `MAX_GAP` apart,
    /// so only windows around the anchor's occurrences (found with memchr) are examined.
    pub fn matches(&self, hay: &str) -> bool {
        let Some(table) = &self.table else {
            return hay.split('\0').any(|f| fuzzy_match(f, &self.pat));
        };
        let bytes = hay.as_bytes();
        let n = self.pat.len();
        let Some(&anchor) = self.pat.as_bytes().get(self.anchor) else {
            return true;
        };
        let before = MAX_GAP * self.anchor;
        let after = MAX_GAP * (n - 1 - self.anchor);
        // Windows around successive anchors are merged when they overlap, so no byte is
        // scanned twice.
        let mut cur: Option<(usize, usize)> = None;
        for q in memchr::memchr_iter(anchor, bytes) {
            let lo = q.saturating_sub(before);
            let hi = (q + after + 1).min(bytes.len());
            cur = match cur {
                Some((clo, chi)) if lo <= chi => Some((clo, hi.max(chi))),
                Some((clo, chi)) => {
                    if gap_scan(&bytes[clo..chi], table, n) {
                        return true;
                    }
                    Some((lo, hi))
                }
                None => Some((lo, hi)),
            };
        }
        cur.is_some_and(|(lo, hi)| gap_scan(&bytes[lo..hi], table, n))
    }
}

/// The bounded-gap scan over bytes with the position table; NUL resets (field barrier).
fn gap_scan(bytes: &[u8], table: &[u64; 256], n: usize) -> bool {
    const NONE: usize = usize::MAX;
    let mut last = [NONE; 64];
    for (q, &c) in bytes.iter().enumerate() {
        let mut m = table[usize::from(c)];
        if m == 0 {
            if c == 0 {
                last[..n].iter_mut().for_each(|l| *l = NONE);
            }
            continue;
        }
        // Highest position first, so one byte never fills two positions.
        while m != 0 {
            let k = 63 - m.leading_zeros() as usize;
            m &= !(1u64 << k);
            let ok = k == 0 || (last[k - 1] != NONE && q - last[k - 1] <= MAX_GAP);
            if ok {
                if k == n - 1 {
                    return true;
                }
                last[k] = q;
            }
        }
    }
    false
}

#[derive(Debug, Clone)]
enum CompiledKind {
    Any,
    HasHidden,
    HasWarnings,
    Fuzzy(FuzzyPattern),
    Exact(String),
    /// An identifier: prefix of an identifier field, substring of any other.
    Ident(String),
}

/// A query term ready to test.
#[derive(Debug, Clone)]
pub struct Compiled {
    scope: Scope,
    kind: CompiledKind,
    negate: bool,
}

/// Is `pat` a subsequence of `hay`? (Both lowercase.)
pub fn is_subsequence(hay: &str, pat: &str) -> bool {
    if pat.is_ascii() {
        // ASCII bytes never occur inside a multi-byte UTF-8 sequence, so bytes suffice.
        let mut h = hay.as_bytes().iter();
        return pat.as_bytes().iter().all(|p| h.any(|c| c == p));
    }
    let mut h = hay.chars();
    pat.chars().all(|p| h.any(|c| c == p))
}

/// The most a fuzzy match may skip between two matched characters, plus one.
pub const MAX_GAP: usize = 8;

/// The filter's fuzzy test: the letters of `pat` appear in `hay` in order, each at most
/// [`MAX_GAP`] characters after the previous one (both lowercase).
///
/// A bare subsequence test accepts noise: `mozilla` is a subsequence of a 200-character
/// Microsoft CDN URL full of base64. The skim matcher (fuzzy-matcher) scores such matches low,
/// but costs ~5 µs a call, too slow for 100,000 records per keystroke; this test keeps the
/// matches it scores well (abbreviations such as `mzup` for `MozillaUpdate`, `ffx` for
/// `firefox`) in linear time, and stays monotone: a pattern that matches implies every prefix
/// of it matches, so typing one more character only needs the previous matches re-tested.
/// The skim matcher then highlights the matched characters of the cells on screen.
pub fn fuzzy_match(hay: &str, pat: &str) -> bool {
    if pat.is_empty() {
        return true;
    }
    if !is_subsequence(hay, pat) {
        return false;
    }
    if pat.is_ascii() {
        gap_match(hay.as_bytes(), pat.as_bytes())
    } else {
        let h: Vec<char> = hay.chars().collect();
        let p: Vec<char> = pat.chars().collect();
        gap_match(&h, &p)
    }
}

fn gap_match<T: PartialEq>(hay: &[T], pat: &[T]) -> bool {
    let n = pat.len();
    // last[k]: the latest position where pat[..=k] ends with every gap within bounds.
    let mut last: Vec<Option<usize>> = vec![None; n];
    for (q, c) in hay.iter().enumerate() {
        for k in (0..n).rev() {
            if pat[k] != *c {
                continue;
            }
            let ok = k == 0 || last[k - 1].is_some_and(|r| q - r <= MAX_GAP);
            if ok {
                if k == n - 1 {
                    return true;
                }
                last[k] = Some(q);
            }
        }
    }
    false
}

// ---------------------------------------------------------------------------------------------
// Query
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermKind {
    Fuzzy(String),
    /// `'text` or `"a phrase"`: a plain substring.
    Exact(String),
    /// `has:hidden`.
    HasHidden,
    /// `has:warnings`.
    HasWarnings,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub scope: Scope,
    pub kind: TermKind,
    /// `-term`: rows that do not match.
    pub negate: bool,
}

/// A parsed filter: every term must match (in some member record of an item).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub terms: Vec<Term>,
    /// What the filter line got wrong (an unknown `scope:`), for the prompt; the faulty
    /// term is left out of the match.
    pub error: Option<String>,
}

/// Split the filter line into words; a `"` starts a phrase that runs, spaces included, to
/// the next `"` (or the end).
fn split_terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

impl Query {
    /// Parse the filter line: terms separated by spaces, each optionally `-`-prefixed to
    /// negate, `scope:`-prefixed (any case), and `'`-prefixed for an exact substring or
    /// `"quoted"` for a phrase; `has:hidden` and `has:warnings` select records. Matching
    /// ignores case. A `word:` that is not a scope is an error (shown in the prompt), unless
    /// it is a URL scheme (`http://`) or a drive letter (`c:\`).
    pub fn parse(text: &str) -> Query {
        let mut terms = Vec::new();
        let mut error = None;
        for word in split_terms(text) {
            let lower = word.to_lowercase();
            let (negate, body) = match lower.strip_prefix(['-', '!']) {
                Some(rest) if !rest.is_empty() => (true, rest),
                _ => (false, lower.as_str()),
            };
            if body == "has:hidden" || body == "has:warnings" {
                terms.push(Term {
                    scope: Scope::All,
                    kind: if body == "has:hidden" {
                        TermKind::HasHidden
                    } else {
                        TermKind::HasWarnings
                    },
                    negate,
                });
                continue;
            }
            let mut scope = Scope::All;
            let mut rest = body;
            if let Some((name, after)) = body.split_once(':') {
                if let Some((_, s)) = Scope::NAMES.iter().find(|(n, _)| *n == name) {
                    scope = *s;
                    rest = after;
                } else if name.len() >= 2
                    && name.bytes().all(|b| b.is_ascii_alphabetic())
                    && !after.starts_with("//")
                {
                    let names: Vec<&str> = Scope::NAMES.iter().map(|(n, _)| *n).collect();
                    error.get_or_insert_with(|| {
                        format!(
                            "unknown scope {name}: (scopes: {}: has:hidden has:warnings)",
                            names.join(": ")
                        )
                    });
                    continue;
                }
            }
            let kind = if let Some(e) = rest.strip_prefix('\'') {
                TermKind::Exact(e.to_string())
            } else if let Some(p) = rest.strip_prefix('"') {
                TermKind::Exact(p.strip_suffix('"').unwrap_or(p).to_string())
            } else {
                TermKind::Fuzzy(rest.to_string())
            };
            terms.push(Term {
                scope,
                kind,
                negate,
            });
        }
        Query { terms, error }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.iter().all(|t| match &t.kind {
            TermKind::Fuzzy(p) | TermKind::Exact(p) => p.is_empty(),
            TermKind::HasHidden | TermKind::HasWarnings => false,
        })
    }

    /// True when every record matching `self` also matches `old`: then only the records that
    /// matched `old` need testing (typing one more character narrows the search). A negated
    /// term narrows only when kept as it was; identifiers (prefix matches) narrow too.
    pub fn narrows(&self, old: &Query) -> bool {
        old.terms.iter().all(|ot| {
            self.terms.iter().any(|nt| {
                if nt.scope != ot.scope || nt.negate != ot.negate {
                    return false;
                }
                if ot.negate {
                    return nt.kind == ot.kind;
                }
                match (&ot.kind, &nt.kind) {
                    (TermKind::HasHidden, TermKind::HasHidden) => true,
                    (TermKind::HasWarnings, TermKind::HasWarnings) => true,
                    (TermKind::Exact(o), TermKind::Exact(n)) => n.starts_with(o.as_str()),
                    // A fuzzy pattern turns into an identifier (prefix) as it grows, and a
                    // prefix match is also a fuzzy match: both narrow.
                    (TermKind::Fuzzy(o), TermKind::Fuzzy(n) | TermKind::Exact(n)) => {
                        n.starts_with(o.as_str())
                            && (is_identifier_pattern(n) || !is_identifier_pattern(o))
                    }
                    _ => false,
                }
            })
        })
    }

    pub fn compile(&self) -> Vec<Compiled> {
        self.terms
            .iter()
            .map(|t| Compiled {
                scope: t.scope,
                negate: t.negate,
                kind: match &t.kind {
                    TermKind::HasHidden => CompiledKind::HasHidden,
                    TermKind::HasWarnings => CompiledKind::HasWarnings,
                    TermKind::Fuzzy(p) | TermKind::Exact(p) if p.is_empty() => CompiledKind::Any,
                    TermKind::Fuzzy(p) if is_identifier_pattern(p) => {
                        CompiledKind::Ident(p.clone())
                    }
                    TermKind::Fuzzy(p) => CompiledKind::Fuzzy(FuzzyPattern::new(p)),
                    TermKind::Exact(p) => CompiledKind::Exact(p.clone()),
                },
            })
            .collect()
    }
}

/// The characters of `text` (a cell as displayed) that a filter term matches in it, by the
/// same rules as the filter: for highlighting, so the letters lit are the ones that matched.
/// `None` when the term does not match this text (or is negated: nothing to light).
pub fn term_positions(text: &str, term: &Term, fields: &[Field]) -> Option<Vec<usize>> {
    if term.negate {
        return None;
    }
    // One lowercase character per character, so positions line up with `text`.
    let hay: Vec<char> = text
        .chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect();
    let substring = |p: &str| -> Option<Vec<usize>> {
        let pat: Vec<char> = p.chars().collect();
        if pat.is_empty() || pat.len() > hay.len() {
            return None;
        }
        (0..=hay.len() - pat.len())
            .find(|&s| hay[s..s + pat.len()] == pat[..])
            .map(|s| (s..s + pat.len()).collect())
    };
    match &term.kind {
        TermKind::HasHidden | TermKind::HasWarnings => None,
        TermKind::Exact(p) => substring(p),
        TermKind::Fuzzy(p) if p.is_empty() => None,
        TermKind::Fuzzy(p) if is_identifier_pattern(p) => {
            if fields.iter().any(|f| f.is_identifier()) {
                let lead = usize::from(hay.first() == Some(&'{') && !p.starts_with('{'));
                let pat: Vec<char> = p.chars().collect();
                let end = lead + pat.len();
                (hay.len() >= end && hay[lead..end] == pat[..]).then(|| (lead..end).collect())
            } else {
                substring(p)
            }
        }
        TermKind::Fuzzy(p) => {
            let pat: Vec<char> = p.chars().collect();
            gap_positions(&hay, &pat)
        }
    }
}

/// [`gap_match`] that also says where: the positions of one match of `pat` in `hay`.
fn gap_positions(hay: &[char], pat: &[char]) -> Option<Vec<usize>> {
    let n = pat.len();
    if n == 0 {
        return None;
    }
    let mut last: Vec<Option<usize>> = vec![None; n];
    // For each pattern position, (where it matched, where the previous one did).
    let mut chain: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (q, c) in hay.iter().enumerate() {
        for k in (0..n).rev() {
            if pat[k] != *c {
                continue;
            }
            let prev = if k == 0 {
                Some(q)
            } else {
                last[k - 1].filter(|&r| q - r <= MAX_GAP)
            };
            let Some(prev) = prev else { continue };
            chain[k].push((q, prev));
            if k == n - 1 {
                let mut out = vec![q];
                let mut want = prev;
                for kk in (0..n - 1).rev() {
                    let &(at, p) = chain[kk].iter().rev().find(|(at, _)| *at == want)?;
                    out.push(at);
                    want = p;
                }
                out.reverse();
                return Some(out);
            }
            last[k] = Some(q);
        }
    }
    None
}

fn matches_all(arena: &str, terms: &[Compiled], r: &Rec) -> bool {
    terms.iter().all(|t| r.matches(arena, t))
}

/// Test `recs` against `terms` into `out` (only where `out` is true when `narrow`), on every
/// core for large stores.
fn eval_matches(arena: &str, recs: &[Rec], terms: &[Compiled], out: &mut [bool], narrow: bool) {
    let run = |rs: &[Rec], ms: &mut [bool]| {
        for (m, r) in ms.iter_mut().zip(rs) {
            if !narrow || *m {
                *m = matches_all(arena, terms, r);
            }
        }
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if recs.len() < 20_000 || threads < 2 {
        run(recs, out);
        return;
    }
    let chunk = recs.len().div_ceil(threads);
    std::thread::scope(|s| {
        for (rs, ms) in recs.chunks(chunk).zip(out.chunks_mut(chunk)) {
            s.spawn(move || run(rs, ms));
        }
    });
}

/// 16 bytes of the sort text `a`, NUL, `b` from `off`, packed big-endian (zero-padded).
fn text_chunk((a, b): (&str, &str), off: usize) -> u128 {
    let mut out = [0u8; 16];
    let (a, b) = (a.as_bytes(), b.as_bytes());
    for (i, slot) in out.iter_mut().enumerate() {
        let p = off + i;
        *slot = if p < a.len() {
            a[p]
        } else if p == a.len() {
            0
        } else {
            b.get(p - a.len() - 1).copied().unwrap_or(0)
        };
    }
    u128::from_be_bytes(out)
}

/// Length of the common prefix of two byte strings.
fn mismatch(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 16 <= n && a[i..i + 16] == b[i..i + 16] {
        i += 16;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// How many leading bytes of the sort texts `a`, NUL, `b` of `x` and `y` surely agree,
/// given that the first `from` do (never more than they share; possibly less).
fn common_prefix(x: (&str, &str), y: (&str, &str), from: usize) -> usize {
    let (xa, ya) = (x.0.as_bytes(), y.0.as_bytes());
    let m = if xa == ya {
        xa.len() + 1 + mismatch(x.1.as_bytes(), y.1.as_bytes())
    } else {
        mismatch(xa, ya)
    };
    m.max(from)
}

/// Indices of `texts` in ascending order (ties in index order): a most-significant-digit
/// radix sort with 16-byte digits, so most comparisons are between packed numbers, not
/// strings scattered over the heap.
fn sort_texts(texts: &[(&str, &str)]) -> Vec<u32> {
    let mut v: Vec<(u128, u32)> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| (text_chunk(*t, 0), i as u32))
        .collect();
    sort_parallel(&mut v);
    // Runs of equal digits at each level are sorted by the next digit.
    let mut stack: Vec<(usize, usize, usize)> = Vec::new(); // (start, end, next offset)
    let push_runs = |v: &[(u128, u32)],
                     start: usize,
                     end: usize,
                     off: usize,
                     stack: &mut Vec<(usize, usize, usize)>| {
        let mut i = start;
        while i < end {
            let mut j = i + 1;
            while j < end && v[j].0 == v[i].0 {
                j += 1;
            }
            if j - i > 1 {
                stack.push((i, j, off));
            }
            i = j;
        }
    };
    push_runs(&v, 0, v.len(), 16, &mut stack);
    while let Some((start, end, off)) = stack.pop() {
        let longest = v[start..end]
            .iter()
            .map(|&(_, i)| {
                let (a, b) = texts[i as usize];
                a.len() + 1 + b.len()
            })
            .max()
            .unwrap_or(0);
        if off >= longest {
            continue; // equal texts: index order already
        }
        // Skip what the whole run shares (URLs share long prefixes) in one step.
        let first = texts[v[start].1 as usize];
        let off = v[start + 1..end]
            .iter()
            .map(|&(_, i)| common_prefix(first, texts[i as usize], off))
            .min()
            .unwrap_or(off);
        if off >= longest {
            continue;
        }
        for e in &mut v[start..end] {
            e.0 = text_chunk(texts[e.1 as usize], off);
        }
        v[start..end].sort_unstable();
        push_runs(&v, start, end, off + 16, &mut stack);
    }
    v.into_iter().map(|(_, i)| i).collect()
}

/// Sort on every core: halves sorted apart, then merged.
fn sort_parallel<T: Ord + Send + Copy>(v: &mut [T]) {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    if v.len() < 20_000 || threads < 2 {
        v.sort_unstable();
        return;
    }
    let mid = v.len() / 2;
    {
        let (a, b) = v.split_at_mut(mid);
        std::thread::scope(|s| {
            s.spawn(|| a.sort_unstable());
            b.sort_unstable();
        });
    }
    let mut out = Vec::with_capacity(v.len());
    let (a, b) = v.split_at(mid);
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if b[j] < a[i] {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    v.copy_from_slice(&out);
}

/// Which rows the live/carved toggle lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CarvedFilter {
    #[default]
    All,
    LiveOnly,
    CarvedOnly,
}

impl CarvedFilter {
    pub fn next(self) -> CarvedFilter {
        match self {
            CarvedFilter::All => CarvedFilter::LiveOnly,
            CarvedFilter::LiveOnly => CarvedFilter::CarvedOnly,
            CarvedFilter::CarvedOnly => CarvedFilter::All,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            CarvedFilter::All => "",
            CarvedFilter::LiveOnly => "live only",
            CarvedFilter::CarvedOnly => "carved only",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViewKind {
    Jobs,
    Files,
    Rows,
}

impl ViewKind {
    pub const ALL: [ViewKind; 3] = [ViewKind::Jobs, ViewKind::Files, ViewKind::Rows];

    pub fn index(self) -> usize {
        match self {
            ViewKind::Jobs => 0,
            ViewKind::Files => 1,
            ViewKind::Rows => 2,
        }
    }
    pub fn title(self) -> &'static str {
        match self {
            ViewKind::Jobs => "Jobs",
            ViewKind::Files => "Files",
            ViewKind::Rows => "Rows",
        }
    }
    pub fn next(self) -> ViewKind {
        ViewKind::ALL[(self.index() + 1) % 3]
    }
    pub fn prev(self) -> ViewKind {
        ViewKind::ALL[(self.index() + 2) % 3]
    }

    pub fn columns(self) -> &'static [Col] {
        match self {
            ViewKind::Jobs => &[
                Col::Mark,
                Col::Flags,
                Col::Kind,
                Col::State,
                Col::Created,
                Col::Name,
                Col::Owner,
                Col::Files,
                Col::Command,
                Col::Url,
                Col::Evidence,
            ],
            ViewKind::Files => &[
                Col::Mark,
                Col::Flags,
                Col::Kind,
                Col::Path,
                Col::Url,
                Col::Bytes,
                Col::Name,
                Col::State,
                Col::Created,
                Col::Evidence,
            ],
            ViewKind::Rows => &[
                Col::Mark,
                Col::Flags,
                Col::Kind,
                Col::State,
                Col::Created,
                Col::Name,
                Col::Owner,
                Col::Url,
                Col::Path,
                Col::Command,
                Col::Evidence,
            ],
        }
    }
}

/// A table column: title, width policy, how to show and how to sort it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Mark,
    Flags,
    Kind,
    State,
    Created,
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
    pub fn title(self) -> &'static str {
        match self {
            Col::Mark => "",
            Col::Flags => "Flags",
            Col::Kind => "Kind",
            Col::State => "State",
            Col::Created => "Created (UTC)",
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
            Col::Created => (19, 0),
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

    /// The raw (unescaped) text of the column for an item.
    pub fn text(self, store: &Store, item: &Item) -> String {
        let r = &store.rec(item.rep()).info;
        match self {
            Col::Mark | Col::Flags => String::new(),
            Col::Kind => {
                let kind = if r.carved { "carved" } else { "live" };
                if item.versions > 1 {
                    format!("{kind} ×{}", item.versions)
                } else {
                    kind.to_string()
                }
            }
            Col::State => r.job_state.clone(),
            Col::Created => r.created.replacen('T', " ", 1).chars().take(19).collect(),
            Col::Name => r.job_name.clone(),
            Col::Owner => owner_label(r).to_string(),
            Col::Files => item.files.to_string(),
            Col::Command => {
                if r.job_arguments.is_empty() {
                    r.job_command.clone()
                } else {
                    format!("{} {}", r.job_command, r.job_arguments)
                }
            }
            Col::Url => r.url.clone(),
            Col::Evidence => super::origin::evidence_text(store.evidence_label(&r.evidence), r),
            Col::Path => {
                if r.full_path.is_empty() {
                    r.filename.clone()
                } else {
                    r.full_path.clone()
                }
            }
            Col::Bytes => {
                if r.bytes_transferred == u64::MAX || r.bytes_transferred == 0 {
                    format!("{} of ?", human_size(r.bytes_downloaded))
                } else {
                    let pct = (u128::from(r.bytes_downloaded) * 100
                        / u128::from(r.bytes_transferred))
                    .min(999);
                    format!("{pct}% of {}", human_size(r.bytes_transferred))
                }
            }
        }
    }

    /// The text a string column sorts by (two parts for two-field columns), or `None` for
    /// a numeric column.
    fn sort_text<'a>(self, store: &'a Store, item: &Item) -> Option<(&'a str, &'a str)> {
        let i = &store.rec(item.rep()).info;
        Some(match self {
            Col::State => (&i.job_state, ""),
            Col::Created => (&i.created, ""),
            Col::Name => (&i.job_name, ""),
            Col::Owner => (owner_label(i), ""),
            Col::Command => (&i.job_command, &i.job_arguments),
            Col::Url => (&i.url, ""),
            Col::Path => (&i.full_path, &i.filename),
            Col::Evidence => (&i.evidence, ""),
            _ => return None,
        })
    }

    fn is_text(self) -> bool {
        matches!(
            self,
            Col::State
                | Col::Created
                | Col::Name
                | Col::Owner
                | Col::Command
                | Col::Url
                | Col::Path
                | Col::Evidence
        )
    }

    /// The key a numeric column sorts by.
    fn sort_number(self, store: &Store, item: &Item) -> u128 {
        let r = &store.rec(item.rep());
        let i = &r.info;
        match self {
            Col::Mark => u128::from(store.item_marked(item)),
            Col::Flags => {
                (u128::from(r.hidden) << 48)
                    | (u128::from(r.susp.count_ones()) << 40)
                    | (u128::from(r.susp) << 32)
                    | u128::from(r.warnings)
            }
            Col::Kind => (u128::from(i.carved) << 32) | u128::from(item.versions),
            Col::Files => u128::from(item.files),
            Col::Bytes => (u128::from(i.bytes_downloaded) << 64) | u128::from(i.bytes_transferred),
            _ => 0,
        }
    }

    /// Whether a sorted order by this column stays valid until items are added (the
    /// aggregate and mark columns change without that).
    fn cacheable(self) -> bool {
        !matches!(self, Col::Mark | Col::Files | Col::Kind | Col::Flags)
    }

    fn cmp(self, store: &Store, a: &Item, b: &Item) -> Ordering {
        let (ra, rb) = (&store.rec(a.rep()), &store.rec(b.rep()));
        let (ia, ib) = (&ra.info, &rb.info);
        match self {
            Col::Mark => store.item_marked(a).cmp(&store.item_marked(b)),
            Col::Flags => (ra.hidden, ra.susp.count_ones(), ra.susp, ra.warnings).cmp(&(
                rb.hidden,
                rb.susp.count_ones(),
                rb.susp,
                rb.warnings,
            )),
            Col::Kind => (ia.carved, a.versions).cmp(&(ib.carved, b.versions)),
            Col::State => ia.job_state.cmp(&ib.job_state),
            Col::Created => ia.created.cmp(&ib.created),
            Col::Name => ia.job_name.cmp(&ib.job_name),
            Col::Owner => owner_label(ia).cmp(owner_label(ib)),
            Col::Files => a.files.cmp(&b.files),
            Col::Command => {
                (&ia.job_command, &ia.job_arguments).cmp(&(&ib.job_command, &ib.job_arguments))
            }
            Col::Url => ia.url.cmp(&ib.url),
            Col::Path => (&ia.full_path, &ia.filename).cmp(&(&ib.full_path, &ib.filename)),
            Col::Evidence => ia.evidence.cmp(&ib.evidence),
            Col::Bytes => (ia.bytes_downloaded, ia.bytes_transferred)
                .cmp(&(ib.bytes_downloaded, ib.bytes_transferred)),
        }
    }
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

/// One row of a view: the records it stands for (in store order; the first represents it).
#[derive(Debug, Clone, Default)]
pub struct Item {
    pub members: Vec<u32>,
    /// The first member, and what the toggles test, kept inline so filtering touches only
    /// the item list.
    rep: u32,
    carved: bool,
    susp: u8,
    /// Distinct copies of the job (jobs view) or file (files view) among the members, or the
    /// carver's version count (rows view).
    pub versions: u32,
    /// Distinct files among the members.
    pub files: u32,
    /// Source offsets seen, to count versions and files.
    seen_versions: Vec<u64>,
    seen_files: Vec<(u64, usize)>,
}

impl Item {
    pub fn rep(&self) -> u32 {
        self.rep
    }
}

/// Grouping key of an item in the jobs or files view.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    evidence: String,
    carved: bool,
    id: String,
    extra: String,
}

/// One view: its items, their sort order, and the filtered list shown.
#[derive(Debug, Default)]
pub struct View {
    pub items: Vec<Item>,
    groups: HashMap<GroupKey, u32>,
    /// Every item, in sort order.
    pub order: Vec<u32>,
    /// The items passing the filter, in sort order: what the table shows.
    pub shown: Vec<u32>,
    /// The sort column and whether it is descending; `None` is evidence order.
    pub sort: Option<(Col, bool)>,
    /// The column chosen for sorting (index into the view's columns).
    pub col_cursor: usize,
    /// The last ascending order computed: (column, item count then, order).
    asc_cache: Option<(Col, usize, Vec<u32>)>,
    /// Selected position in `shown`, and the first row on screen.
    pub sel: usize,
    pub offset: usize,
}

impl View {
    pub fn selected_item(&self) -> Option<u32> {
        self.shown.get(self.sel).copied()
    }
}

/// The records and the three views.
#[derive(Debug, Default)]
pub struct Store {
    pub recs: Vec<Rec>,
    /// The search text of every record (see [`Rec`]).
    arena: String,
    pub views: [View; 3],
    /// Per record: does it pass the filter query.
    rec_match: Vec<bool>,
    pub marks: Vec<bool>,
    pub mark_count: usize,
    pub query: Query,
    compiled: Vec<Compiled>,
    pub carved_filter: CarvedFilter,
    pub suspicious_only: bool,
    pub live_count: usize,
    pub carved_count: usize,
    /// The folder evidence paths are shown relative to (the opened folder, or the opened
    /// file's own folder).
    pub root: String,
}

impl Store {
    pub fn rec(&self, i: u32) -> &Rec {
        &self.recs[i as usize]
    }

    pub fn view(&self, k: ViewKind) -> &View {
        &self.views[k.index()]
    }
    pub fn view_mut(&mut self, k: ViewKind) -> &mut View {
        &mut self.views[k.index()]
    }

    /// An evidence path as the Evidence column shows it: relative to [`Store::root`].
    pub fn evidence_label<'a>(&self, evidence: &'a str) -> &'a str {
        if self.root.is_empty() {
            return evidence;
        }
        evidence
            .strip_prefix(self.root.as_str())
            .map(|rest| rest.trim_start_matches(std::path::MAIN_SEPARATOR))
            .filter(|rest| !rest.is_empty())
            .unwrap_or(evidence)
    }

    pub fn clear(&mut self) {
        let query = std::mem::take(&mut self.query);
        let (cf, so) = (self.carved_filter, self.suspicious_only);
        let cursors: Vec<(Option<(Col, bool)>, usize)> =
            self.views.iter().map(|v| (v.sort, v.col_cursor)).collect();
        *self = Store::default();
        self.compiled = query.compile();
        self.query = query;
        self.carved_filter = cf;
        self.suspicious_only = so;
        for (v, (sort, cc)) in self.views.iter_mut().zip(cursors) {
            v.sort = sort;
            v.col_cursor = cc;
        }
    }

    pub fn item_marked(&self, item: &Item) -> bool {
        !item.members.is_empty()
            && item
                .members
                .iter()
                .all(|&m| self.marks.get(m as usize).copied().unwrap_or(false))
    }

    /// Append a batch of records: precompute, group into items, filter and sort.
    pub fn append(&mut self, batch: Vec<BitsInfo>) {
        let first = self.recs.len();
        for info in batch {
            if info.carved {
                self.carved_count += 1;
            } else {
                self.live_count += 1;
            }
            let rec = Rec::new(info, &mut self.arena);
            self.rec_match
                .push(matches_all(&self.arena, &self.compiled, &rec));
            self.recs.push(rec);
            self.marks.push(false);
        }
        for i in first..self.recs.len() {
            let i = i as u32;
            self.group(ViewKind::Jobs, i);
            self.group(ViewKind::Files, i);
            let versions = self.rec(i).info.versions.max(1);
            let (carved, susp) = (self.rec(i).info.carved, self.rec(i).susp);
            self.views[2].items.push(Item {
                members: vec![i],
                rep: i,
                carved,
                susp,
                versions,
                files: u32::from(self.rec(i).info.file_source.is_some()),
                ..Item::default()
            });
        }
        for k in ViewKind::ALL {
            self.resort(k);
        }
    }

    fn group(&mut self, kind: ViewKind, i: u32) {
        let r = &self.recs[i as usize].info;
        let (source, id) = match kind {
            ViewKind::Jobs => (&r.job_source, &r.job_id),
            _ => (&r.file_source, &r.file_id),
        };
        if source.is_none() && id.is_empty() {
            return;
        }
        let off = source.as_ref().map(|s| s.offset).unwrap_or(u64::MAX);
        let evidence = source
            .as_ref()
            .map(super::origin::store_key)
            .unwrap_or_default();
        let key = GroupKey {
            evidence,
            carved: r.carved,
            id: if id.is_empty() {
                format!("@{off}")
            } else {
                id.clone()
            },
            extra: match kind {
                // Legacy inline files share their job's source: tell them apart by content.
                ViewKind::Files if r.file_id.is_empty() => {
                    format!("{}\0{}", r.url, r.full_path)
                }
                _ => String::new(),
            },
        };
        let file_key = r
            .file_source
            .as_ref()
            .map(|s| (s.offset, r.url.len() ^ r.full_path.len()));
        let view = &mut self.views[kind.index()];
        let idx = match view.groups.get(&key) {
            Some(&idx) => idx,
            None => {
                let idx = view.items.len() as u32;
                view.items.push(Item::default());
                view.groups.insert(key, idx);
                idx
            }
        };
        let susp = self.recs[i as usize].susp;
        let carved = self.recs[i as usize].info.carved;
        let view = &mut self.views[kind.index()];
        let item = &mut view.items[idx as usize];
        if item.members.is_empty() {
            item.rep = i;
            item.carved = carved;
        }
        item.susp |= susp;
        item.members.push(i);
        if !item.seen_versions.contains(&off) {
            item.seen_versions.push(off);
        }
        item.versions = item.seen_versions.len() as u32;
        if let Some(fk) = file_key {
            if !item.seen_files.contains(&fk) {
                item.seen_files.push(fk);
            }
        }
        item.files = item.seen_files.len() as u32;
    }

    /// Does an item pass the filter and the toggles?
    fn item_passes(&self, item: &Item) -> bool {
        match self.carved_filter {
            CarvedFilter::LiveOnly if item.carved => return false,
            CarvedFilter::CarvedOnly if !item.carved => return false,
            _ => {}
        }
        if self.suspicious_only && item.susp == 0 {
            return false;
        }
        let hit = |m: u32| self.rec_match.get(m as usize).copied().unwrap_or(false);
        if item.members.len() == 1 {
            return hit(item.rep);
        }
        item.members.iter().any(|&m| hit(m))
    }

    /// Recompute `shown` for every view from the per-record matches, keeping selections.
    fn refilter_views(&mut self) {
        for k in ViewKind::ALL {
            self.refilter(k);
        }
    }

    fn refilter(&mut self, k: ViewKind) {
        let v = &self.views[k.index()];
        let keep = v.selected_item();
        let shown: Vec<u32> = v
            .order
            .iter()
            .copied()
            .filter(|&i| self.item_passes(&v.items[i as usize]))
            .collect();
        let v = &mut self.views[k.index()];
        v.shown = shown;
        if let Some(item) = keep {
            if let Some(pos) = v.shown.iter().position(|&i| i == item) {
                v.sel = pos;
                return;
            }
        }
        v.sel = v.sel.min(v.shown.len().saturating_sub(1));
    }

    /// Sort a view's items by its sort column, then refilter. Ties keep evidence order in
    /// both directions. The ascending order of the last string column is kept, so flipping
    /// the direction costs a reversal, not a sort.
    pub fn resort(&mut self, k: ViewKind) {
        let view = &self.views[k.index()];
        let n = view.items.len();
        let order: Vec<u32> = match view.sort {
            None => (0..n as u32).collect(),
            Some((col, desc)) => {
                let cached = view
                    .asc_cache
                    .as_ref()
                    .filter(|(c, len, _)| *c == col && *len == n && col.cacheable())
                    .map(|(_, _, o)| o.clone());
                let asc = match cached {
                    Some(o) => o,
                    None => self.sorted_ascending(k, col),
                };
                let order = if desc {
                    self.reversed_keeping_ties(k, col, &asc)
                } else {
                    asc.clone()
                };
                self.views[k.index()].asc_cache = Some((col, n, asc));
                order
            }
        };
        self.views[k.index()].order = order;
        self.refilter(k);
    }

    fn sorted_ascending(&self, k: ViewKind, col: Col) -> Vec<u32> {
        let items = &self.views[k.index()].items;
        if col.is_text() {
            let texts: Vec<(&str, &str)> = items
                .iter()
                .map(|it| col.sort_text(self, it).unwrap_or(("", "")))
                .collect();
            sort_texts(&texts)
        } else {
            let mut keyed: Vec<(u128, u32)> = items
                .iter()
                .enumerate()
                .map(|(i, it)| (col.sort_number(self, it), i as u32))
                .collect();
            keyed.sort_unstable();
            keyed.into_iter().map(|(_, i)| i).collect()
        }
    }

    /// `asc` reversed, with each run of equal keys back in evidence order.
    fn reversed_keeping_ties(&self, k: ViewKind, col: Col, asc: &[u32]) -> Vec<u32> {
        let items = &self.views[k.index()].items;
        let mut out: Vec<u32> = Vec::with_capacity(asc.len());
        let mut end = asc.len();
        while end > 0 {
            let mut start = end - 1;
            while start > 0
                && col.cmp(
                    self,
                    &items[asc[start - 1] as usize],
                    &items[asc[end - 1] as usize],
                ) == Ordering::Equal
            {
                start -= 1;
            }
            out.extend_from_slice(&asc[start..end]);
            end = start;
        }
        out
    }

    /// Apply a new filter query. When it only narrows the previous one, only the records that
    /// matched before are tested again.
    pub fn set_query(&mut self, q: Query) {
        if q == self.query {
            return;
        }
        let narrow = q.narrows(&self.query);
        self.compiled = q.compile();
        eval_matches(
            &self.arena,
            &self.recs,
            &self.compiled,
            &mut self.rec_match,
            narrow,
        );
        self.query = q;
        self.refilter_views();
    }

    pub fn set_toggles(&mut self, carved: CarvedFilter, suspicious_only: bool) {
        self.carved_filter = carved;
        self.suspicious_only = suspicious_only;
        self.refilter_views();
    }

    /// Mark or unmark every record of an item (marks all when not all are marked).
    pub fn toggle_mark(&mut self, k: ViewKind, item: u32) {
        let Some(it) = self.views[k.index()].items.get(item as usize) else {
            return;
        };
        let on = !self.item_marked(it);
        let members = it.members.clone();
        for m in members {
            self.set_mark(m, on);
        }
    }

    pub fn set_mark(&mut self, rec: u32, on: bool) {
        if let Some(slot) = self.marks.get_mut(rec as usize) {
            if *slot != on {
                *slot = on;
                if on {
                    self.mark_count += 1;
                } else {
                    self.mark_count -= 1;
                }
            }
        }
    }

    pub fn clear_marks(&mut self) {
        self.marks.iter_mut().for_each(|m| *m = false);
        self.mark_count = 0;
    }

    /// The records to export or copy: the marked ones, else those of the shown items of a
    /// view; in evidence order, each once.
    pub fn export_set(&self, k: ViewKind) -> Vec<u32> {
        if self.mark_count > 0 {
            return (0..self.recs.len() as u32)
                .filter(|&i| self.marks[i as usize])
                .collect();
        }
        let mut take = vec![false; self.recs.len()];
        let v = self.view(k);
        for &i in &v.shown {
            for &m in &v.items[i as usize].members {
                take[m as usize] = true;
            }
        }
        (0..self.recs.len() as u32)
            .filter(|&i| take[i as usize])
            .collect()
    }

    /// Is the item hiding characters, warned about or suspicious in any member?
    /// (hidden, warned, suspicion bits)
    pub fn item_flags(&self, item: &Item) -> (bool, bool, u8) {
        item.members
            .iter()
            .fold((false, false, 0u8), |(h, w, s), &m| {
                let r = self.rec(m);
                (h || r.hidden, w || r.warnings > 0, s | r.susp)
            })
    }

    /// (records carrying warnings, distinct warnings over them).
    pub fn warning_counts(&self) -> (usize, usize) {
        self.recs
            .iter()
            .filter(|r| r.warnings > 0)
            .fold((0, 0), |(n, w), r| (n + 1, w + r.warnings as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fuzzy_matcher::skim::SkimMatcherV2;
    use fuzzy_matcher::FuzzyMatcher;

    #[test]
    fn fuzzy_keeps_good_matches_and_drops_noise() {
        let skim = SkimMatcherV2::default().ignore_case();
        let noise = "http://msedge.b.tlu.dl.delivery.mp.microsoft.com/filestreamingservice/files/899214d6-41f0-4bf5-95db-d9ec00cfc01e?p1=1679173333&p2=404&p3=2&p4=blbaskngx2smxz592a2evjvbahgp8eip4bfltjewglrmhk9%2flhmbbgekegfywamtcedieizfhj9wwfbiwfdptg%3d%3d";
        let moz = "https://download-installer.cdn.mozilla.net/pub/firefox/releases/110.0/update/win64/en-us/firefox-109.0.1-110.0.partial.mar";
        assert!(is_subsequence(noise, "mozilla"));
        assert!(!fuzzy_match(noise, "mozilla"));
        assert!(!fuzzy_match(noise, "moz"));
        assert!(fuzzy_match(moz, "mozilla"));
        assert!(fuzzy_match(moz, "ffx"));
        assert!(fuzzy_match("mozillaupdate 308046b0af4a39cb", "mzup"));
        assert!(fuzzy_match(
            r"c:\users\bob\appdata\local\temp\x.exe",
            "tempexe"
        ));
        assert!(fuzzy_match("日本語 café", "café"));
        assert!(fuzzy_match("anything", ""));
        // Whatever this accepts, the skim matcher accepts too (it is a subsequence).
        for h in [noise, moz, "c:\\windows\\system32\\cmd.exe"] {
            for p in ["m", "mo", "moz", "cmd", "exe", "ms", "s-1-5", "f", "x64"] {
                if fuzzy_match(h, p) {
                    assert!(skim.fuzzy_match(h, p).is_some(), "{h} {p}");
                }
            }
        }
    }

    #[test]
    fn compiled_pattern_agrees_with_the_plain_test() {
        let mut x: u64 = 0x1234_5678_9abc_def1;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = b"abcz.\\\0";
        for _ in 0..5_000 {
            let hay: String = (0..(next() % 40))
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize] as char)
                .collect();
            let pat: String = (0..(1 + next() % 4))
                .map(|_| alphabet[(next() % 5) as usize] as char)
                .collect();
            let want = hay.split('\0').any(|f| fuzzy_match(f, &pat));
            assert_eq!(
                FuzzyPattern::new(&pat).matches(&hay),
                want,
                "{hay:?} {pat:?}"
            );
        }
    }

    #[test]
    fn radix_text_sort_agrees_with_tuple_order() {
        let words = [
            "",
            "a",
            "ab",
            "abc",
            "https://download-installer.cdn.mozilla.net/pub/x",
            "https://download-installer.cdn.mozilla.net/pub/y",
            "S-1-5-21-4066115557-1486886006-1773980413-1001",
            "S-1-5-18",
            "z",
            "日本",
            "ab\u{1}",
        ];
        let mut texts = Vec::new();
        for a in words {
            for b in ["", "x", "aa"] {
                texts.push((a, b));
                texts.push((a, b));
            }
        }
        let got = sort_texts(&texts);
        let mut want: Vec<u32> = (0..texts.len() as u32).collect();
        want.sort_by(|&x, &y| texts[x as usize].cmp(&texts[y as usize]).then(x.cmp(&y)));
        assert_eq!(got, want);
    }

    #[test]
    fn fuzzy_is_monotone_in_the_pattern() {
        let hays = ["mozillaupdate 308046b0af4a39cb", "c:\\program files\\x.exe"];
        for h in hays {
            for p in ["mzup", "mzupd", "prgx", "pfx.e", "308b", "zzz"] {
                for n in 1..=p.len() {
                    if fuzzy_match(h, &p[..n]) {
                        assert!(fuzzy_match(h, &p[..n - 1]), "{h} {p} {n}");
                    }
                }
            }
        }
    }

    #[test]
    fn query_parsing_and_narrowing() {
        let q = Query::parse("URL:moz 'exe has:hidden -cmd:x \"two words\" http://a c:\\x");
        assert_eq!(q.error, None);
        assert_eq!(q.terms.len(), 7);
        assert_eq!(q.terms[0].scope, Scope::Url);
        assert_eq!(q.terms[1].kind, TermKind::Exact("exe".into()));
        assert_eq!(q.terms[2].kind, TermKind::HasHidden);
        assert!(q.terms[3].negate && q.terms[3].scope == Scope::Cmd);
        assert_eq!(q.terms[4].kind, TermKind::Exact("two words".into()));
        assert_eq!(q.terms[5].kind, TermKind::Fuzzy("http://a".into()));
        assert_eq!(q.terms[6].kind, TermKind::Fuzzy("c:\\x".into()));
        let bad = Query::parse("foo:bar moz");
        assert!(bad
            .error
            .as_deref()
            .is_some_and(|e| e.contains("unknown scope foo:")));
        assert_eq!(bad.terms.len(), 1);
        assert!(Query::parse("url:mozi").narrows(&Query::parse("url:moz")));
        assert!(!Query::parse("url:").narrows(&Query::parse("url")));
        assert!(Query::parse("a b").narrows(&Query::parse("a")));
        assert!(!Query::parse("a").narrows(&Query::parse("a b")));
        // A negated term widens as it grows.
        assert!(!Query::parse("-mozi").narrows(&Query::parse("-moz")));
        assert!(Query::parse("-moz x").narrows(&Query::parse("-moz")));
        // A GUID start stops being an identifier when a non-hex letter follows.
        assert!(!Query::parse("308046b0z").narrows(&Query::parse("308046b0")));
        assert!(Query::parse("308046b0").narrows(&Query::parse("308046b")));
    }

    #[test]
    fn identifiers_match_by_prefix_and_highlight_what_matched() {
        let mut arena = String::new();
        let sys = Rec::new(
            BitsInfo {
                owner_sid: "S-1-5-18".into(),
                job_id: "{4F2C1A0B-0000-0000-0000-000000000001}".into(),
                ..BitsInfo::default()
            },
            &mut arena,
        );
        let user = Rec::new(
            BitsInfo {
                owner_sid: "S-1-5-21-1-2-3-1001".into(),
                job_name: "s 1 5 18 fuzzy bait".into(),
                ..BitsInfo::default()
            },
            &mut arena,
        );
        let hit = |q: &str, r: &Rec| matches_all(&arena, &Query::parse(q).compile(), r);
        assert!(hit("owner:S-1-5-18", &sys));
        assert!(!hit("owner:S-1-5-18", &user));
        assert!(hit("owner:s-1-5-21", &user));
        assert!(hit("-owner:S-1-5-18", &user));
        assert!(!hit("-owner:S-1-5-18", &sys));
        assert!(hit("id:4f2c1a0b", &sys) && hit("{4f2c1a0b-0000", &sys));
        assert!(!hit("id:2c1a0b00", &sys));
        // Highlight: the same rules light the same letters.
        let t = |q: &str| Query::parse(q).terms.remove(0);
        let id = [Field::JobId];
        assert_eq!(
            term_positions("{4F2C1A0B-0000…", &t("4f2c1a0b"), &id),
            Some((1..9).collect())
        );
        assert_eq!(
            term_positions("MozillaUpdate", &t("mzup"), &[Field::Name]),
            Some(vec![0, 2, 7, 8])
        );
        assert_eq!(
            term_positions("MozillaUpdate", &t("-moz"), &[Field::Name]),
            None
        );
        assert_eq!(
            term_positions("a two words b", &t("\"two words\""), &[Field::Name]),
            Some((2..11).collect())
        );
    }

    #[test]
    fn suspicion_rules() {
        let r = BitsInfo {
            url: "http://10.0.0.5:8080/a.ps1".into(),
            full_path: r"C:\Users\Public\a.ps1".into(),
            job_command: r"C:\Windows\System32\cmd.exe".into(),
            owner_sid: "S-1-5-21-1-2-3-1001".into(),
            ..BitsInfo::default()
        };
        assert_eq!(
            suspicion(&r),
            SUSP_CMD | SUSP_IP | SUSP_PORT | SUSP_EXE | SUSP_OWNER
        );
        let ok = BitsInfo {
            url: "https://download.mozilla.org:443/update.mar".into(),
            full_path: r"C:\ProgramData\x\update.mar".into(),
            owner_sid: "S-1-5-18".into(),
            ..BitsInfo::default()
        };
        assert_eq!(suspicion(&ok), 0);
        // Non-ASCII within a host's first two bytes (a slice there once panicked).
        for host in [
            "http://bücher.de/katalog.zip",
            "http://aé.example/x",
            "http://é/",
            "http://0é/",
        ] {
            let r = BitsInfo {
                url: host.into(),
                ..BitsInfo::default()
            };
            assert_eq!(suspicion(&r) & SUSP_IP, 0, "{host}");
        }
        for ip in [
            "http://[::1]/x",
            "http://3232235777/x",
            "http://0x7f.0.0.1/",
        ] {
            let r = BitsInfo {
                url: ip.into(),
                ..BitsInfo::default()
            };
            assert_eq!(suspicion(&r) & SUSP_IP, SUSP_IP, "{ip}");
        }
    }
}
