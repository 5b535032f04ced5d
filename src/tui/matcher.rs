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

/// `c` with look-alike letters folded to the one they imitate (TR39 skeleton, one character
/// to one, so positions stay put), lowercase: `а` (Cyrillic) is `a`.
fn fold(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut buf = [0u8; 4];
    let mut sk = unicode_security::skeleton(c.encode_utf8(&mut buf));
    match (sk.next(), sk.next()) {
        (Some(one), None) => one.to_lowercase().next().unwrap_or(one),
        _ => c,
    }
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

#[derive(Debug, Clone)]
enum CompiledKind {
    HasHidden,
    HasWarnings,
    Flag(u8),
    /// Some job time in `[after, before)` (ISO text compares as time).
    Time {
        after: Option<String>,
        before: Option<String>,
    },
    Fuzzy(FuzzyPattern),
    Exact(Box<Needle>),
}

/// A query term ready to test.
#[derive(Debug, Clone)]
pub struct Compiled {
    scope: Scope,
    kind: CompiledKind,
    negate: bool,
    group: usize,
}

/// Is a time field's text a set time (not empty, not the FILETIME epoch's 1601)?
fn set_time(t: &str) -> bool {
    !t.is_empty() && !t.starts_with("1601")
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
            CompiledKind::Time { after, before } => Field::TIMES.iter().any(|&f| {
                let t = hay.field(f);
                set_time(t)
                    && after.as_deref().is_none_or(|a| t >= a)
                    && before.as_deref().is_none_or(|b| t < b)
            }),
            CompiledKind::Fuzzy(m) if self.scope == Scope::All => m.matches(hay.text),
            CompiledKind::Fuzzy(m) => fields.iter().any(|f| m.matches(hay.field(*f))),
            // One search of the whole text first: most records hold the pattern nowhere.
            CompiledKind::Exact(n) => {
                n.may_match(hay.text) && fields.iter().any(|&f| n.find(f, hay.field(f)).is_some())
            }
        }
    }
}

/// Does a record match every group of terms (a group when any of its terms does)?
pub fn matches_all(terms: &[Compiled], hay: &Hay) -> bool {
    let mut i = 0;
    while let Some(first) = terms.get(i) {
        let group = terms[i..]
            .iter()
            .take_while(|t| t.group == first.group)
            .count();
        if !terms[i..i + group].iter().any(|t| t.matches(hay)) {
            return false;
        }
        i += group;
    }
    true
}

/// How a pattern matches: fuzzy for free text, else exactly by its class.
fn pattern_kind(p: &str, scope: Scope, exact: bool) -> CompiledKind {
    let class = Class::of(p, scope);
    // A host is named whole, quoted or not (`host:"HOST A"`).
    if exact && class != Class::Whole {
        CompiledKind::Exact(Box::new(Needle::new(p, Class::Free)))
    } else if class == Class::Free {
        CompiledKind::Fuzzy(FuzzyPattern::new(p))
    } else {
        CompiledKind::Exact(Box::new(Needle::new(p, class)))
    }
}

/// A parsed filter ready to test. `after:` and `before:` terms that stand alone (not
/// negated, not alternatives) become one term: some time of the job lies between them.
pub fn compile(q: &Query) -> Vec<Compiled> {
    let alone = |t: &Term| q.terms.iter().filter(|o| o.group == t.group).count() == 1;
    let (mut after, mut before) = (None::<String>, None::<String>);
    let mut out = Vec::new();
    for t in &q.terms {
        let kind = match &t.kind {
            TermKind::After(v) if !t.negate && alone(t) => {
                after = after.max(Some(v.clone()));
                continue;
            }
            TermKind::Before(v) if !t.negate && alone(t) => {
                before = Some(before.map_or(v.clone(), |b: String| b.min(v.clone())));
                continue;
            }
            TermKind::After(v) => CompiledKind::Time {
                after: Some(v.clone()),
                before: None,
            },
            TermKind::Before(v) => CompiledKind::Time {
                after: None,
                before: Some(v.clone()),
            },
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
            group: t.group,
        });
    }
    if after.is_some() || before.is_some() {
        out.push(Compiled {
            scope: Scope::All,
            kind: CompiledKind::Time { after, before },
            negate: false,
            group: usize::MAX,
        });
    }
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
        CompiledKind::Fuzzy(_) => return fuzzy::positions(&hay, p),
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
        let hay = Hay {
            text: &s,
            ends: &ends,
            hidden: false,
            warned: false,
            susp: 0,
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
        assert!(!hit(
            "after:1600",
            Field::Created,
            "1601-01-01t00:00:00.000z"
        ));
        assert!(hit("zzz | 2026-03-05", Field::Created, t));
        assert!(hit("zzz OR yyy | 2026", Field::Created, t));
        assert!(!hit("zzz | yyy", Field::Created, t));
        assert!(!hit("zzz | 2026-03-05 qqq", Field::Created, t));
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
