//! The filter line parsed: terms, their scopes (`url:`, `owner:`, …), the search fields each
//! scope reaches, and what kind of value a pattern is (a GUID, a SID, a date, an IP address,
//! free text). Parsing only; [`super::matcher`] decides what a term matches.

use crate::bits::model::BitsInfo;

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
    /// The host the record was collected from (`host`, as `parse` names it).
    Host,
}

pub const FIELD_COUNT: usize = 26;

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
        Field::Host,
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
            Field::Host => &r.host,
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
    /// `host:NAME`: the record's host, the whole name (any case): `host:HOST-A` never
    /// finds `HOST-AB`.
    Host,
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
            Scope::Host => &[Field::Host],
        }
    }

    /// The scope names the filter knows (matched without regard to case).
    pub const NAMES: [(&'static str, Scope); 8] = [
        ("url", Scope::Url),
        ("cmd", Scope::Cmd),
        ("name", Scope::Name),
        ("owner", Scope::Owner),
        ("path", Scope::Path),
        ("id", Scope::Id),
        ("ev", Scope::Ev),
        ("host", Scope::Host),
    ];
}

impl Field {
    /// Identifiers (GUIDs, SIDs) match exactly or by prefix, never fuzzily.
    pub fn is_identifier(self) -> bool {
        matches!(self, Field::JobId | Field::FileId | Field::OwnerSid)
    }

    /// The job's four times (what `after:` and `before:` compare).
    pub const TIMES: [Field; 4] = [
        Field::Created,
        Field::Modified,
        Field::Completed,
        Field::Expiration,
    ];
}

/// What a (lowercase) pattern is, which decides how it matches: free text is fuzzy, the rest
/// exact or by whole components, so `S-1-5-1` never finds `S-1-5-18` nor `2026-03-01` the
/// 10th.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Free text: fuzzy (letters in order, small gaps).
    Free,
    /// A GUID or its start (`{99c96e1b…`, `99c96e1b-…`, or any hex after `id:`): the id
    /// fields by prefix, braces aside; other fields by substring.
    Guid,
    /// A SID or its first components (`s-1-5-21`): whole components only.
    Sid,
    /// A date or time, at least year and month (`2026-03`, `2026-03-01t12:30`): whole
    /// numbers only.
    Date,
    /// An IPv4 address or its first parts (`10.0.0.5`, `10.0`): whole numbers only.
    Ip,
    /// Text under `ev:` or `owner:`: at the start of a path component or word (`ev:host-a`
    /// finds `HOST-A/…` and `HOST-AB/…`, never `HOST-B`).
    Component,
    /// Text under `host:`: the whole field, nothing before or after it.
    Whole,
}

/// Digits only, exactly `n` of them.
fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// `yyyy-mm`, `yyyy-mm-dd`, then optionally `thh`, `:mm`, `:ss`, `.fff`, `z` (lowercase).
pub fn is_date_pattern(p: &str) -> bool {
    let (date, time) = match p.split_once(['t', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (p, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let date_ok = match parts.as_slice() {
        [y, m] => digits(y, 4) && digits(m, 2),
        [y, m, d] => digits(y, 4) && digits(m, 2) && digits(d, 2),
        _ => false,
    };
    let Some(time) = time else {
        return date_ok;
    };
    let time = time.strip_suffix('z').unwrap_or(time);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let hms_ok =
        !hms.is_empty() && hms.split(':').count() <= 3 && hms.split(':').all(|x| digits(x, 2));
    date_ok && parts.len() == 3 && hms_ok && frac.bytes().all(|b| b.is_ascii_digit())
}

/// Two to four dot-separated numbers of at most three digits (`10.0`, `203.0.113.7`).
fn is_ip_pattern(p: &str) -> bool {
    let p = p.strip_suffix('.').unwrap_or(p);
    let n = p.split('.').count();
    (2..=4).contains(&n)
        && p.split('.')
            .all(|x| !x.is_empty() && x.len() <= 3 && x.bytes().all(|b| b.is_ascii_digit()))
}

/// A GUID or its start: eight hex digits first (braces aside), then hex digits and dashes,
/// a closing brace at the end; or, after `id:`, any hex digits and dashes.
fn is_guid_pattern(p: &str, scope: Scope) -> bool {
    let p = p.strip_prefix('{').unwrap_or(p);
    let p = p.strip_suffix('}').unwrap_or(p);
    let hexish = !p.is_empty() && p.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    hexish
        && (scope == Scope::Id
            || p.bytes().take(8).filter(u8::is_ascii_hexdigit).count() == 8 && p.len() >= 8)
}

impl Class {
    /// The class of a lowercase pattern under a scope.
    pub fn of(p: &str, scope: Scope) -> Class {
        if scope == Scope::Host {
            Class::Whole
        } else if p.starts_with("s-1-") {
            Class::Sid
        } else if is_guid_pattern(p, scope) && !is_ip_pattern(p) {
            Class::Guid
        } else if is_date_pattern(p) {
            Class::Date
        } else if is_ip_pattern(p) {
            Class::Ip
        } else if matches!(scope, Scope::Ev | Scope::Owner) {
            Class::Component
        } else {
            Class::Free
        }
    }
}

/// Does a (lowercase) pattern look like an identifier (a SID or a GUID)?
pub fn is_identifier_pattern(p: &str) -> bool {
    matches!(Class::of(p, Scope::All), Class::Sid | Class::Guid)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermKind {
    /// A pattern matched by its [`Class`]: fuzzy for free text.
    Fuzzy(String),
    /// `'text` or `"a phrase"`: a plain substring (look-alike letters folded, so `'update`
    /// also finds `updаte` with a Cyrillic `а`).
    Exact(String),
    /// `has:hidden`.
    HasHidden,
    /// `has:warnings`.
    HasWarnings,
    /// `flag:CODE`: a triage rule fired (its [`crate::bits::triage::Rule::bit`]).
    Flag(u8),
    /// `after:TIME`: one of the job's times is at or after it (ISO text, lowercase).
    After(String),
    /// `before:TIME`: one of the job's times is before it.
    Before(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub scope: Scope,
    pub kind: TermKind,
    /// `-term`: rows that do not match.
    pub negate: bool,
    /// Terms of one group are alternatives (`a | b`, `a OR b`); groups must all match.
    pub group: usize,
}

/// A parsed filter: every group must match (in some member record of an item), a group when
/// any of its terms does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub terms: Vec<Term>,
    /// What the filter line got wrong (an unknown `scope:`, an unclosed quote), for the
    /// prompt; a faulty term is left out of the match.
    pub error: Option<String>,
}

/// Split the filter line into words; a `"` starts a phrase that runs, spaces included, to
/// the next `"` (or the end: then the second value says so).
fn split_terms(text: &str) -> (Vec<String>, bool) {
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
    (out, quoted)
}

/// The filter's special words and what they take, for error messages.
const SPECIALS: &str = "has:hidden has:warnings flag:CODE after:TIME before:TIME";

/// A word of the filter line, parsed.
enum Word {
    Term(Term),
    /// `|` or `OR`: the next term is an alternative to the one before.
    Or,
    /// Nothing to match yet (`-`, `'`, `url:`): left out.
    Empty,
    Error(String),
}

fn names(list: &[(&'static str, Scope)]) -> String {
    list.iter()
        .map(|(n, _)| format!("{n}:"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `has:` and `flag:` words; `None` when the word is neither.
fn special(name: &str, value: &str) -> Option<Result<TermKind, String>> {
    let kind = match (name, value) {
        ("has", "hidden") => Ok(TermKind::HasHidden),
        ("has", "warnings") => Ok(TermKind::HasWarnings),
        ("has", v) => Err(format!(
            "has: takes hidden or warnings, not {v:?} (triage codes: flag:{v})"
        )),
        ("flag", v) => match crate::bits::triage::Rule::ALL
            .iter()
            .find(|r| r.code() == v)
        {
            Some(r) => Ok(TermKind::Flag(r.bit())),
            None => {
                let codes: Vec<&str> = crate::bits::triage::Rule::ALL
                    .iter()
                    .map(|r| r.code())
                    .collect();
                Err(format!(
                    "flag: takes a triage code ({}), not {v:?}",
                    codes.join(" ")
                ))
            }
        },
        ("after" | "before", "") => return Some(Err(String::new())),
        ("after" | "before", v) if is_date_pattern(v) || digits(v, 4) => {
            let v = v.replace(' ', "t");
            Ok(if name == "after" {
                TermKind::After(v)
            } else {
                TermKind::Before(v)
            })
        }
        ("after" | "before", v) => Err(format!(
            "{name}: takes a date or time (2026-03-01, 2026-03-01T12:30), not {v:?}"
        )),
        _ => return None,
    };
    Some(kind)
}

fn parse_word(word: &str) -> Word {
    if word == "|" || word == "OR" {
        return Word::Or;
    }
    let lower = word.to_lowercase();
    let (negate, body) = match lower.strip_prefix(['-', '!']) {
        Some(rest) => (true, rest),
        None => (false, lower.as_str()),
    };
    let term = |scope, kind| {
        Word::Term(Term {
            scope,
            kind,
            negate,
            group: 0,
        })
    };
    let mut scope = Scope::All;
    let mut rest = body;
    if let Some((name, after)) = body.split_once(':') {
        if let Some(kind) = special(name, after) {
            return match kind {
                Ok(k) => term(Scope::All, k),
                Err(e) if e.is_empty() => Word::Empty,
                Err(e) => Word::Error(e),
            };
        }
        if let Some((_, s)) = Scope::NAMES.iter().find(|(n, _)| *n == name) {
            scope = *s;
            rest = after;
        } else if name.len() >= 2
            && name.bytes().all(|b| b.is_ascii_alphabetic())
            && !after.starts_with("//")
        {
            return Word::Error(format!(
                "unknown scope {name}: (scopes: {} {SPECIALS})",
                names(&Scope::NAMES)
            ));
        }
    }
    let kind = if let Some(e) = rest.strip_prefix('\'') {
        TermKind::Exact(e.to_string())
    } else if let Some(p) = rest.strip_prefix('"') {
        TermKind::Exact(p.strip_suffix('"').unwrap_or(p).to_string())
    } else {
        TermKind::Fuzzy(rest.to_string())
    };
    match &kind {
        TermKind::Exact(p) | TermKind::Fuzzy(p) if p.is_empty() => Word::Empty,
        _ => term(scope, kind),
    }
}

impl Query {
    /// Parse the filter line: terms separated by spaces, each optionally `-`-prefixed to
    /// negate, `scope:`-prefixed (any case), and `'`-prefixed for an exact substring or
    /// `"quoted"` for a phrase; `has:`, `flag:`, `after:` and `before:` select records; `|`
    /// or `OR` between two terms makes them alternatives. Matching ignores case. A `word:`
    /// that is not a scope is an error (shown in the prompt), unless it is a URL scheme
    /// (`http://`) or a drive letter (`c:\`). A term with nothing to match yet (`-`, `'`,
    /// `url:`) is left out.
    pub fn parse(text: &str) -> Query {
        let (words, open_quote) = split_terms(text);
        let mut terms: Vec<Term> = Vec::new();
        let mut error = None;
        let mut or_next = false;
        let mut group = 0;
        for word in words {
            match parse_word(&word) {
                Word::Or => or_next = !terms.is_empty(),
                Word::Empty => {}
                Word::Error(e) => {
                    error.get_or_insert(e);
                }
                Word::Term(mut t) => {
                    if !or_next && !terms.is_empty() {
                        group += 1;
                    }
                    t.group = group;
                    terms.push(t);
                    or_next = false;
                }
            }
        }
        if open_quote {
            error.get_or_insert_with(|| "a \" is not closed: the phrase runs to the end".into());
        }
        Query { terms, error }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Does any group hold alternatives?
    fn has_or(&self) -> bool {
        self.terms.windows(2).any(|w| w[0].group == w[1].group)
    }

    /// True when every record matching `self` also matches `old`: then only the records that
    /// matched `old` need testing (typing one more character narrows the search). A negated
    /// term narrows only when kept as it was; alternatives only when nothing changed; a
    /// pattern matched exactly or by components only when kept as it was, since growing
    /// `s-1-5-1` to `s-1-5-18` finds other records.
    pub fn narrows(&self, old: &Query) -> bool {
        if self.has_or() || old.has_or() {
            return false;
        }
        old.terms.iter().all(|ot| {
            self.terms.iter().any(|nt| {
                if nt.scope != ot.scope || nt.negate != ot.negate {
                    return false;
                }
                if ot.negate || nt.kind == ot.kind {
                    return nt.kind == ot.kind;
                }
                match (&ot.kind, &nt.kind) {
                    (TermKind::Exact(o), TermKind::Exact(n)) => n.starts_with(o.as_str()),
                    // Free text that grows stays within what it matched (a substring is a
                    // fuzzy match too).
                    (TermKind::Fuzzy(o), TermKind::Fuzzy(n) | TermKind::Exact(n)) => {
                        n.starts_with(o.as_str())
                            && Class::of(o, ot.scope) == Class::Free
                            && matches!(Class::of(n, nt.scope), Class::Free)
                    }
                    _ => false,
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // Identifiers match by whole components or prefix rules of their own: no narrowing.
        assert!(!Query::parse("308046b0z").narrows(&Query::parse("308046b0")));
        assert!(!Query::parse("s-1-5-18").narrows(&Query::parse("s-1-5-1")));
        assert!(!Query::parse("a | b c").narrows(&Query::parse("a | b")));
    }

    #[test]
    fn patterns_are_classed_by_shape_and_scope() {
        for (p, scope, class) in [
            ("mozilla", Scope::All, Class::Free),
            ("s-1-5-18", Scope::All, Class::Sid),
            ("{99c96e1b", Scope::All, Class::Guid),
            (
                "{99c96e1b-5dc8-4f17-b0c9-4d0ed9d4e8a3}",
                Scope::All,
                Class::Guid,
            ),
            ("99c96e1b", Scope::All, Class::Guid),
            ("99c9", Scope::All, Class::Free),
            ("99c9", Scope::Id, Class::Guid),
            ("2026-03-01", Scope::All, Class::Date),
            ("2026-03", Scope::All, Class::Date),
            ("2026-03-01t12:30", Scope::All, Class::Date),
            ("2026-3-1", Scope::All, Class::Free),
            ("203.0.113.7", Scope::All, Class::Ip),
            ("10.0", Scope::Url, Class::Ip),
            ("host-a", Scope::Ev, Class::Component),
            ("system", Scope::Owner, Class::Component),
            ("host-a", Scope::All, Class::Free),
        ] {
            assert_eq!(Class::of(p, scope), class, "{p} {scope:?}");
        }
    }

    #[test]
    fn specials_alternatives_and_what_is_wrong() {
        let q = Query::parse("flag:cmd after:2026-03-01 before:2026-04 a | b OR c d");
        assert_eq!(q.error, None);
        let kinds: Vec<(&TermKind, usize)> = q.terms.iter().map(|t| (&t.kind, t.group)).collect();
        assert_eq!(
            kinds,
            [
                (&TermKind::Flag(crate::bits::triage::Rule::Command.bit()), 0),
                (&TermKind::After("2026-03-01".into()), 1),
                (&TermKind::Before("2026-04".into()), 2),
                (&TermKind::Fuzzy("a".into()), 3),
                (&TermKind::Fuzzy("b".into()), 3),
                (&TermKind::Fuzzy("c".into()), 3),
                (&TermKind::Fuzzy("d".into()), 4),
            ]
        );
        let err = |q: &str| Query::parse(q).error.unwrap_or_default();
        assert!(
            err("has:cmd").contains("has: takes hidden or warnings"),
            "{}",
            err("has:cmd")
        );
        assert!(err("flag:zz").contains("cmd"), "{}", err("flag:zz"));
        assert!(err("after:march").contains("date or time"));
        assert!(err("\"two wo").contains("not closed"));
        // Nothing to match yet: left out, not a term that hides or keeps everything.
        for q in ["-'", "-", "'", "url:", "-url:", "after:"] {
            let p = Query::parse(q);
            assert!(p.terms.is_empty() && p.error.is_none(), "{q}: {p:?}");
        }
        let quote = Query::parse("\"");
        assert!(quote.terms.is_empty() && quote.error.is_some());
    }
}
