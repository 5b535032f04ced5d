//! Matching: whether a record's search text matches the filter's terms, and which characters
//! of a cell a term lit. The same rules decide both: free text by [`super::fuzzy`], the rest
//! by [`Needle::find`], whose pattern class ([`Class`]) says where a match may start and end.

use memchr::memmem::Finder;

use super::fuzzy::{self, FuzzyPattern};
use super::query::{Class, Field, Query, Scope, Term, TermKind, FIELD_COUNT};

/// One record's search text as the matcher reads it: the lowercased display forms of the
/// search fields separated by NUL (which a display form never holds), where each field ends,
/// and the record's flags.
pub struct Hay<'a> {
    pub text: &'a str,
    pub ends: &'a [u32; FIELD_COUNT],
    pub hidden: bool,
    pub warned: bool,
    /// The triage rules that fired ([`crate::bits::triage::Rule::bit`]).
    pub susp: u8,
    /// The record's times `after:` and `before:` compare, sorted FILETIMEs
    /// ([`super::when::record_times`]).
    pub times: &'a [u64],
}

impl<'a> Hay<'a> {
    /// The lowercased display form of one search field.
    pub fn field(&self, f: Field) -> &'a str {
        let i = f as usize;
        let start = match i.checked_sub(1).and_then(|p| self.ends.get(p)) {
            Some(&e) => e as usize + 1,
            None => 0,
        };
        let end = self.ends.get(i).map_or(0, |&e| e as usize);
        self.text.get(start..end).unwrap_or("")
    }
}

/// At most this many occurrences of a pattern are tested against its boundaries in one field
/// (a field of `1.1.1.1…` and the pattern `1.1` would otherwise cost its length times the
/// pattern's); the matcher and the highlight stop at the same one.
const MAX_OCCURRENCES: usize = 4096;

/// A pattern matched exactly, with the boundaries its class asks for.
#[derive(Debug, Clone)]
pub struct Needle {
    class: Class,
    /// The pattern, braces aside for a GUID.
    pat: String,
    /// A GUID typed with its closing brace: the whole id, not a prefix.
    closed: bool,
    finder: Finder<'static>,
    /// The pattern with look-alikes folded (see [`fold`]), for a plain substring.
    folded: String,
}

/// `c` with look-alike letters folded to the one they imitate, lowercase: the triage `mix`
/// rule's TR39 table, one character to one so positions stay put (`а`, Cyrillic, is `a`).
use crate::bits::triage::fold_look_alike as fold;

/// `text` with look-alikes folded (one character for one).
pub fn fold_text(text: &str) -> String {
    text.chars().map(fold).collect()
}

impl Needle {
    pub fn new(pat: &str, class: Class) -> Needle {
        let (pat, closed) = if class == Class::Guid {
            let p = pat.strip_prefix('{').unwrap_or(pat);
            match p.strip_suffix('}') {
                Some(p) => (p, true),
                None => (p, false),
            }
        } else {
            (pat, false)
        };
        Needle {
            class,
            pat: pat.to_string(),
            closed,
            finder: Finder::new(pat.as_bytes()).into_owned(),
            folded: pat.chars().map(fold).collect(),
        }
    }

    /// Could the pattern match anywhere in a record's whole search text? Every match is an
    /// occurrence of the pattern, but for a plain substring of a text holding non-ASCII
    /// letters, which may match folded.
    fn may_match(&self, whole: &str) -> bool {
        self.finder.find(whole.as_bytes()).is_some()
            || (self.class == Class::Free && !whole.is_ascii())
    }

    /// Where the pattern matches in one field's text (lowercase display form): a byte range.
    pub fn find(&self, f: Field, text: &str) -> Option<(usize, usize)> {
        if self.pat.is_empty() {
            return None;
        }
        match self.class {
            Class::Guid if f.is_identifier() => self.id_prefix(text),
            Class::Sid if f == Field::OwnerSid => {
                let n = self.pat.len();
                let whole = text.starts_with(self.pat.as_str())
                    && matches!(text.as_bytes().get(n), None | Some(b'-'));
                whole.then_some((0, n))
            }
            Class::Free => self
                .occurrence(text, |_, _| true)
                .or_else(|| self.folded(text)),
            _ => self.occurrence(text, |before, after| self.bounded(before, after)),
        }
    }

    /// A GUID field starting with the pattern, braces aside (the whole id when the pattern
    /// ends with `}`).
    fn id_prefix(&self, text: &str) -> Option<(usize, usize)> {
        let lead = usize::from(text.starts_with('{'));
        let body = text.get(lead..)?;
        let body = if self.closed {
            body.strip_suffix('}').unwrap_or(body)
        } else {
            body
        };
        let hit = if self.closed {
            body == self.pat
        } else {
            body.starts_with(self.pat.as_str())
        };
        hit.then_some((lead, lead + self.pat.len()))
    }

    /// Does an occurrence between these characters stand on its own, as the class wants?
    fn bounded(&self, before: Option<char>, after: Option<char>) -> bool {
        let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
        match self.class {
            // Whole SID components: not inside a longer number or word.
            Class::Sid => !before.is_some_and(|c| c.is_alphanumeric() || c == '-') && !digit(after),
            Class::Date => !digit(before) && !digit(after),
            Class::Ip => !digit(before) && before != Some('.') && !digit(after),
            Class::Component => !before.is_some_and(char::is_alphanumeric),
            Class::Whole => before.is_none() && after.is_none(),
            Class::Guid | Class::Free => true,
        }
    }

    /// The first occurrence whose neighbours `ok` accepts.
    fn occurrence(
        &self,
        text: &str,
        ok: impl Fn(Option<char>, Option<char>) -> bool,
    ) -> Option<(usize, usize)> {
        let bytes = text.as_bytes();
        let mut from = 0;
        for _ in 0..MAX_OCCURRENCES {
            let at = from + self.finder.find(bytes.get(from..)?)?;
            let end = at + self.pat.len();
            let before = text.get(..at).and_then(|t| t.chars().next_back());
            let after = text.get(end..).and_then(|t| t.chars().next());
            if ok(before, after) {
                return Some((at, end));
            }
            // A match starts on a character boundary; the next may start one byte on.
            from = at + 1;
        }
        None
    }

    /// An exact term against a text holding non-ASCII letters, look-alikes folded on both
    /// sides (`'update.example` finds `updаte.example`).
    fn folded(&self, text: &str) -> Option<(usize, usize)> {
        if text.is_ascii() {
            return None;
        }
        let hay: String = text.chars().map(fold).collect();
        let pat = &self.folded;
        let at = hay.find(pat.as_str())?;
        // Folding keeps one character for one: map character places back to bytes.
        let first = hay.get(..at)?.chars().count();
        let n = pat.chars().count();
        let mut idx = text.char_indices().map(|(i, _)| i).chain([text.len()]);
        let start = idx.nth(first)?;
        let end = if n == 0 { start } else { idx.nth(n - 1)? };
        Some((start, end))
    }
}

/// Free text: fuzzy, and when the record's text holds non-ASCII letters, fuzzy again with
/// look-alikes folded on both sides (`update.example` finds `updаte.example`).
#[derive(Debug, Clone)]
struct Folding {
    plain: FuzzyPattern,
    folded: FuzzyPattern,
}

impl Folding {
    fn new(p: &str) -> Folding {
        Folding {
            plain: FuzzyPattern::new(p),
            folded: FuzzyPattern::new(&fold_text(p)),
        }
    }

    fn matches(&self, text: &str) -> bool {
        self.plain.matches(text) || (!text.is_ascii() && self.folded.matches(&fold_text(text)))
    }
}

#[derive(Debug, Clone)]
enum CompiledKind {
    HasHidden,
    HasWarnings,
    Flag(u8),
    /// Some time of the record in `[after, before)`.
    Time {
        after: Option<u64>,
        before: Option<u64>,
    },
    Fuzzy(Box<Folding>),
    Exact(Box<Needle>),
    /// `site:`: the host, folded.
    Site(String),
    /// `file:`: the name.
    File(String),
}

/// A query term ready to test.
#[derive(Debug, Clone)]
pub struct Compiled {
    scope: Scope,
    kind: CompiledKind,
    negate: bool,
    branch: usize,
}

/// Is `host` (lowercase) `site` or a name under it, look-alikes folded? `site` is folded.
pub fn host_is_under(host: &str, site: &str) -> bool {
    let host = host.trim_end_matches('.');
    let host: std::borrow::Cow<str> = if host.is_ascii() {
        host.into()
    } else {
        fold_text(host).into()
    };
    host == site
        || host
            .strip_suffix(site)
            .is_some_and(|head| head.ends_with('.'))
}

/// The last component of a path (either separator).
pub fn last_component(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

impl Compiled {
    /// Does a record match this term? An unscoped fuzzy term searches the whole NUL-separated
    /// text at once; anything else its fields one by one. A negated term inverts the answer.
    pub fn matches(&self, hay: &Hay) -> bool {
        self.matches_positive(hay) != self.negate
    }

    fn matches_positive(&self, hay: &Hay) -> bool {
        let fields = self.scope.fields();
        match &self.kind {
            CompiledKind::HasHidden => hay.hidden,
            CompiledKind::HasWarnings => hay.warned,
            CompiledKind::Flag(bit) => hay.susp & bit != 0,
            CompiledKind::Time { after, before } => {
                super::when::any_between(hay.times, *after, *before)
            }
            CompiledKind::Fuzzy(m) if self.scope == Scope::All => m.matches(hay.text),
            CompiledKind::Fuzzy(m) => fields.iter().any(|f| m.matches(hay.field(*f))),
            CompiledKind::Site(site) => crate::bits::triage::url_host(hay.field(Field::Url))
                .is_some_and(|h| host_is_under(h, site)),
            CompiledKind::File(name) => fields
                .iter()
                .any(|&f| last_component(hay.field(f)) == name.as_str()),
            // One search of the whole text first: most records hold the pattern nowhere.
            CompiledKind::Exact(n) => {
                n.may_match(hay.text) && fields.iter().any(|&f| n.find(f, hay.field(f)).is_some())
            }
        }
    }
}

/// Does a record match the filter: every term of some alternative (terms in order of their
/// alternative, as [`compile`] gives them)? No terms match everything.
pub fn matches_all(terms: &[Compiled], hay: &Hay) -> bool {
    if terms.is_empty() {
        return true;
    }
    terms
        .chunk_by(|a, b| a.branch == b.branch)
        .any(|alt| alt.iter().all(|t| t.matches(hay)))
}

/// How a pattern matches: fuzzy for free text, else exactly by its class.
fn pattern_kind(p: &str, scope: Scope, exact: bool) -> CompiledKind {
    let class = Class::of(p, scope);
    // A host is named whole, quoted or not (`host:"HOST A"`).
    if exact && class != Class::Whole {
        CompiledKind::Exact(Box::new(Needle::new(p, Class::Free)))
    } else if class == Class::Free {
        CompiledKind::Fuzzy(Box::new(Folding::new(p)))
    } else {
        CompiledKind::Exact(Box::new(Needle::new(p, class)))
    }
}

/// A parsed filter ready to test, in order of alternatives. In each alternative the
/// `after:` and `before:` terms not negated become one term: some time of the record lies
/// between them all (`after:D before:E` is one time in [D, E), not one time after D and
/// another before E).
pub fn compile(q: &Query) -> Vec<Compiled> {
    // Per alternative: the latest `after:` and the earliest `before:`.
    let mut ranges: Vec<(usize, Option<u64>, Option<u64>)> = Vec::new();
    let mut out = Vec::new();
    for t in &q.terms {
        let kind = match &t.kind {
            TermKind::After(v) | TermKind::Before(v) if !t.negate => {
                let at = match ranges.iter().position(|r| r.0 == t.branch) {
                    Some(i) => i,
                    None => {
                        ranges.push((t.branch, None, None));
                        ranges.len() - 1
                    }
                };
                if let Some(r) = ranges.get_mut(at) {
                    if matches!(t.kind, TermKind::After(_)) {
                        r.1 = r.1.max(Some(*v));
                    } else {
                        r.2 = Some(r.2.map_or(*v, |b| b.min(*v)));
                    }
                }
                continue;
            }
            TermKind::After(v) => CompiledKind::Time {
                after: Some(*v),
                before: None,
            },
            TermKind::Before(v) => CompiledKind::Time {
                after: None,
                before: Some(*v),
            },
            TermKind::Site(h) => CompiledKind::Site(fold_text(h)),
            TermKind::File(n) => CompiledKind::File(n.clone()),
            TermKind::HasHidden => CompiledKind::HasHidden,
            TermKind::HasWarnings => CompiledKind::HasWarnings,
            TermKind::Flag(bit) => CompiledKind::Flag(*bit),
            TermKind::Fuzzy(p) => pattern_kind(p, t.scope, false),
            TermKind::Exact(p) => pattern_kind(p, t.scope, true),
        };
        out.push(Compiled {
            scope: t.scope,
            kind,
            negate: t.negate,
            branch: t.branch,
        });
    }
    for (branch, after, before) in ranges {
        out.push(Compiled {
            scope: Scope::All,
            kind: CompiledKind::Time { after, before },
            negate: false,
            branch,
        });
    }
    out.sort_by_key(|t| t.branch);
    out
}

/// The characters of `text` (a cell as displayed) that a filter term matches in it, by the
/// same rules as the filter: for highlighting, so the letters lit are the ones that matched.
/// `fields` are the search fields the cell shows. `None` when the term does not match this
/// text (or is negated or not about text: nothing to light).
pub fn term_positions(text: &str, term: &Term, fields: &[Field]) -> Option<Vec<usize>> {
    if term.negate {
        return None;
    }
    // One lowercase character per character, so positions line up with `text`.
    let hay: Vec<char> = text
        .chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect();
    let (p, exact) = match &term.kind {
        TermKind::Fuzzy(p) => (p, false),
        TermKind::Exact(p) => (p, true),
        _ => return None,
    };
    let needle = match pattern_kind(p, term.scope, exact) {
        CompiledKind::Fuzzy(_) => {
            // Look-alikes folded on both sides when the plain letters do not match.
            return fuzzy::positions(&hay, p).or_else(|| {
                let folded: Vec<char> = hay.iter().copied().map(fold).collect();
                (folded != hay)
                    .then(|| fuzzy::positions(&folded, &fold_text(p)))
                    .flatten()
            });
        }
        CompiledKind::Exact(n) => n,
        _ => return None,
    };
    let lower: String = hay.iter().collect();
    // The cell shows one of its fields; an identifier rule applies when it is one.
    let field = fields
        .iter()
        .copied()
        .find(|f| f.is_identifier())
        .or(fields.first().copied())?;
    let (start, end) = needle.find(field, &lower)?;
    let first = lower.get(..start)?.chars().count();
    let n = lower.get(start..end)?.chars().count();
    Some((first..first + n).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(q: &str, f: Field, text: &str) -> bool {
        let mut ends = [0u32; FIELD_COUNT];
        // Only field `f` holds text: every field before it is empty.
        let mut s = String::new();
        for (i, g) in Field::ALL.iter().enumerate() {
            if i > 0 {
                s.push('\0');
            }
            if *g == f {
                s.push_str(text);
            }
            ends[i] = s.len() as u32;
        }
        // A time field's text is also the record's one time.
        let times: Vec<u64> = match f {
            Field::Created | Field::Modified | Field::Completed => {
                super::super::when::parse_instant(text)
                    .into_iter()
                    .collect()
            }
            _ => Vec::new(),
        };
        let hay = Hay {
            text: &s,
            ends: &ends,
            hidden: false,
            warned: false,
            susp: 0,
            times: &times,
        };
        matches_all(&compile(&Query::parse(q)), &hay)
    }

    #[test]
    fn classes_match_whole_components() {
        let ev = "host-a/c/programdata/microsoft/network/downloader/qmgr.db";
        for (q, f, text, want) in [
            ("ev:host-a", Field::Evidence, ev, true),
            (
                "ev:HOST-A",
                Field::Evidence,
                "host-b/c/programdata/qmgr.db",
                false,
            ),
            ("ev:host", Field::Evidence, ev, true),
            ("ev:ost-a", Field::Evidence, ev, false),
            ("ev:qmgr.db", Field::Evidence, ev, true),
            ("-ev:host-a", Field::Evidence, "host-b/qmgr.db", true),
            ("owner:S-1-5-18", Field::OwnerSid, "s-1-5-18", true),
            ("owner:S-1-5-1", Field::OwnerSid, "s-1-5-18", false),
            (
                "owner:S-1-5-21",
                Field::OwnerSid,
                "s-1-5-21-1-2-3-1001",
                true,
            ),
            ("S-1-5-1", Field::Name, "job for s-1-5-18", false),
            (
                "2026-03-01",
                Field::Created,
                "2026-03-01t10:00:00.000z",
                true,
            ),
            (
                "2026-03-01",
                Field::Created,
                "2026-03-10t10:00:00.000z",
                false,
            ),
            (
                "2026-03-01",
                Field::Created,
                "2026-02-01t10:00:00.000z",
                false,
            ),
            ("2026-03", Field::Created, "2026-03-10t10:00:00.000z", true),
            ("10.0.0.5", Field::Url, "http://10.0.0.5:8080/a", true),
            ("10.0.0.5", Field::Url, "http://10.0.0.50/a", false),
            ("10.0.0.5", Field::Url, "http://110.0.0.5/a", false),
            ("10.0", Field::Url, "http://10.0.0.5/a", true),
            (
                "{99c96e1b",
                Field::JobId,
                "{99c96e1b-5dc8-4f17-b0c9-4d0ed9d4e8a3}",
                true,
            ),
            (
                "{99C96E1B-5DC8-4F17-B0C9-4D0ED9D4E8A3}",
                Field::JobId,
                "{99c96e1b-5dc8-4f17-b0c9-4d0ed9d4e8a3}",
                true,
            ),
            (
                "{99c96e1b-5dc8-4f17-b0c9-4d0ed9d4e8a3}",
                Field::JobId,
                "99c96e1b-5dc8-4f17-b0c9-4d0ed9d4e8a3",
                true,
            ),
            (
                "{99c96e1b}",
                Field::JobId,
                "{99c96e1b-5dc8-4f17-b0c9-4d0ed9d4e8a3}",
                false,
            ),
            (
                "id:99c9",
                Field::JobId,
                "{99c96e1b-5dc8-4f17-b0c9-4d0ed9d4e8a3}",
                true,
            ),
            (
                "'update.example",
                Field::Url,
                "https://upd\u{430}te.example.org/x",
                true,
            ),
            (
                "'update.example",
                Field::Url,
                "https://other.example.org/x",
                false,
            ),
        ] {
            assert_eq!(hit(q, f, &text.to_lowercase()), want, "{q} in {text}");
        }
    }

    #[test]
    fn times_alternatives_and_flags() {
        let t = "2026-03-05t10:00:00.000z";
        assert!(hit("after:2026-03-01", Field::Created, t));
        assert!(!hit("after:2026-03-06", Field::Created, t));
        assert!(hit("before:2026-03-06", Field::Modified, t));
        assert!(hit(
            "after:2026-03-05t09 before:2026-03-05t11",
            Field::Created,
            t
        ));
        assert!(!hit(
            "after:2026-03-05t11 before:2026-03-06",
            Field::Created,
            t
        ));
        assert!(Query::parse("after:1600").error.is_some());
        assert!(hit("zzz | 2026-03-05", Field::Created, t));
        assert!(hit("zzz OR yyy | 2026", Field::Created, t));
        assert!(!hit("zzz | yyy", Field::Created, t));
        // OR binds loosest: `a b OR c` is `(a and b) or c`.
        assert!(!hit("zzz | 2026-03-05 qqq", Field::Created, t));
        assert!(hit(
            "2026-03-05 qqq OR 2026-03 2026-03-05",
            Field::Created,
            t
        ));
        assert!(hit("qqq OR 2026-03-05 -zzz", Field::Created, t));
        assert!(!hit("-2026-03-05 OR qqq", Field::Created, t));
        // Each alternative has its own range.
        assert!(hit(
            "after:2026-04 OR after:2026-03-05 before:2026-03-06",
            Field::Created,
            t
        ));
        assert!(!hit(
            "after:2026-04 OR after:2026-03-06 before:2026-03-07",
            Field::Created,
            t
        ));
        assert!(hit("-after:2026-03-06", Field::Created, t));
    }

    #[test]
    fn look_alikes_fold_in_free_text_url_and_site() {
        let url = "https://upd\u{430}te.example.org/x";
        for (q, want) in [
            ("update.example", true),
            ("url:update.example", true),
            ("url:updte", true),
            ("site:update.example.org", true),
            ("site:example.org", true),
            ("site:Upd\u{430}te.example.org", true),
            ("site:ate.example.org", false),
            ("site:update.example", false),
            ("other.example", false),
        ] {
            assert_eq!(hit(q, Field::Url, &url.to_lowercase()), want, "{q}");
        }
        for (q, text, want) in [
            ("file:setup.exe", "setup.exe", true),
            ("file:setup.exe", "c:\\users\\x\\setup.exe", true),
            ("file:setup.exe", "c:\\users\\x\\mysetup.exe", false),
            ("file:setup", "setup.exe", false),
        ] {
            assert_eq!(hit(q, Field::FullPath, text), want, "{q} {text}");
        }
    }

    #[test]
    fn the_highlight_lights_what_matched() {
        let t = |q: &str| Query::parse(q).terms.remove(0);
        assert_eq!(
            term_positions("HOST-A/qmgr.db", &t("ev:host-a"), &[Field::Evidence]),
            Some((0..6).collect())
        );
        assert_eq!(
            term_positions("x/myhost-a/host-a", &t("ev:host-a"), &[Field::Evidence]),
            Some((11..17).collect())
        );
        assert_eq!(
            term_positions("https://updаte.example", &t("'update"), &[Field::Url]),
            Some((8..14).collect())
        );
        assert_eq!(
            term_positions("2026-03-10 2026-03-01", &t("2026-03-01"), &[Field::Created]),
            Some((11..21).collect())
        );
    }
}
