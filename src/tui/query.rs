//! The filter line parsed: terms, their scopes (`url:`, `owner:`, …) and the search fields
//! each scope reaches. Parsing only; [`super::matcher`] decides what a term matches.

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
        // A GUID start stops being an identifier when a non-hex letter follows.
        assert!(!Query::parse("308046b0z").narrows(&Query::parse("308046b0")));
        assert!(Query::parse("308046b0").narrows(&Query::parse("308046b")));
    }
}
