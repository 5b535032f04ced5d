//! Display helpers for the explorer: widths, cutting with `…`, and the search form of a value.
//! The escaping itself lives in [`crate::util::text`] (error messages need it too); it is
//! re-exported here for the views.

use std::borrow::Cow;

use unicode_width::UnicodeWidthChar;
use unicode_width::UnicodeWidthStr;

pub use crate::util::text::{escape, has_hidden, is_hidden, unescape};

/// Display width in terminal cells of an already escaped string.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` (already escaped) cut to at most `max` cells, ending in `…` when cut.
pub fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    // Never end inside an escape (`\u{20…` reads as a different character): cut before it.
    if let Some(at) = out.rfind('\\') {
        let tail = &out[at..];
        let open = (tail.starts_with("\\x") && tail.len() < 4)
            || (tail.starts_with("\\u") && !tail.contains('}'))
            || tail == "\\";
        if open {
            out.truncate(at);
        }
    }
    out.push('…');
    Cow::Owned(out)
}

/// The byte spans of the escapes in an escaped string (`\xHH`, `\u{…}`), so no cut falls
/// inside one (`\u{20…` would read as another character).
fn escape_spans(s: &str) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(rel) = b
        .get(i..)
        .and_then(|rest| rest.iter().position(|&c| c == b'\\'))
    {
        let at = i + rel;
        let hex = |r: &[u8]| r.iter().all(u8::is_ascii_hexdigit);
        let len = match b.get(at + 1) {
            Some(b'x') if b.get(at + 2..at + 4).is_some_and(hex) => 4,
            Some(b'u') if b.get(at + 2) == Some(&b'{') => b
                .get(at..)
                .and_then(|r| r.iter().position(|&c| c == b'}'))
                .map_or(1, |e| e + 1),
            _ => 1,
        };
        if len > 1 {
            out.push((at, at + len));
        }
        i = at + len;
    }
    out
}

/// The longest prefix of `s` within `max` cells that ends on a character and outside any
/// escape (its byte length).
fn head_within(s: &str, max: usize, spans: &[(usize, usize)]) -> usize {
    let mut used = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        let w = c.width().unwrap_or(0);
        if used + w > max {
            break;
        }
        used += w;
        end = i + c.len_utf8();
    }
    match spans.iter().find(|&&(a, b)| a < end && end < b) {
        Some(&(a, _)) => a,
        None => end,
    }
}

/// The longest suffix of `s` within `max` cells that starts on a character and outside any
/// escape (its byte start).
fn tail_within(s: &str, max: usize, spans: &[(usize, usize)]) -> usize {
    let mut used = 0;
    let mut start = s.len();
    for (i, c) in s.char_indices().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > max {
            break;
        }
        used += w;
        start = i;
    }
    match spans.iter().find(|&&(a, b)| a < start && start < b) {
        Some(&(_, b)) => b,
        None => start,
    }
}

/// `s` (already escaped) cut to at most `max` cells by taking out its middle: its start and
/// its end stay (`Mozill…F4A39CB`), the end getting the larger half; never inside an escape.
pub fn elide_middle(s: &str, max: usize) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    if max < 2 {
        return truncate(s, max);
    }
    let spans = escape_spans(s);
    let room = max - 1;
    let head = head_within(s, room / 2, &spans);
    let tail = tail_within(s, room - room / 2, &spans).max(head);
    Cow::Owned(format!("{}…{}", &s[..head], &s[tail..]))
}

/// Where a path's separators lie, by byte: each `/`, `\` (not an escape's) or `›`, and the
/// byte after it.
fn separators(s: &str, spans: &[(usize, usize)]) -> Vec<(usize, usize)> {
    s.char_indices()
        .filter(|&(i, c)| {
            matches!(c, '/' | '\\' | '›') && !spans.iter().any(|&(a, b)| a <= i && i < b)
        })
        .map(|(i, c)| (i, i + c.len_utf8()))
        .collect()
}

/// A path, URL or container chain (already escaped) cut to at most `max` cells keeping its
/// first component (a URL's scheme and host, a path's host folder or drive, an image's
/// name) and its last (the file name): whole components are taken out of the middle
/// (`https://host/…/setup.exe`, `HOST-A/…/Downloader/qmgr.db`), a URL's query first. When
/// even the first and last do not fit, the middle of the text goes ([`elide_middle`]).
pub fn elide_path(s: &str, max: usize) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    // A URL's query goes before any of its path does.
    if let Some(q) = s.find('?').filter(|_| s.contains("://")) {
        let short = format!("{}?…", &s[..q]);
        return Cow::Owned(elide_components(&short, max).into_owned());
    }
    elide_components(s, max)
}

/// [`elide_path`] once the query is dealt with: whole components out of the middle.
fn elide_components(s: &str, max: usize) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    let spans = escape_spans(s);
    let mut seps = separators(s, &spans);
    // A URL's head is its scheme and host: the slashes of `://` are not separators.
    if let Some(at) = s.find("://") {
        seps.retain(|&(i, _)| i > at + 2);
    }
    // Leading separators (`\\server`, `/abs`) belong to the first component.
    let named = |i: usize| s[..i].chars().any(|c| !matches!(c, '/' | '\\' | '›' | ' '));
    let Some(&(_, first)) = seps.iter().find(|&&(i, _)| named(i)) else {
        return elide_middle(s, max);
    };
    // head: up to and with a separator; tail: from a separator on.
    let fits = |h: usize, t: usize| width(&s[..h]) + 1 + width(&s[t..]) <= max;
    let last = seps.last().map_or(first, |&(l, _)| l);
    if last < first || !fits(first, last) {
        // Not even the first and the last: as much of the first (the host) as two thirds
        // of the room, then the end.
        if max < 2 {
            return truncate(s, max);
        }
        let room = max - 1;
        let head = head_within(s, width(&s[..first]).min(room * 2 / 3), &spans);
        let tail = tail_within(s, room - width(&s[..head]), &spans).max(head);
        return Cow::Owned(format!("{}…{}", &s[..head], &s[tail..]));
    }
    let (mut head, mut tail) = (first, last);
    // Whole components back in from the end, then from the start, while they fit.
    for &(t, _) in seps.iter().rev().filter(|&&(t, _)| t < last && t >= first) {
        if !fits(head, t) {
            break;
        }
        tail = t;
    }
    for &(_, h) in seps.iter().filter(|&&(_, h)| h > first && h <= tail) {
        if !fits(h, tail) {
            break;
        }
        head = h;
    }
    Cow::Owned(format!("{}…{}", &s[..head], &s[tail..]))
}

/// Escape then truncate: the table-cell form of an untrusted string.
pub fn cell(s: &str, max: usize) -> String {
    truncate(&escape(s), max).into_owned()
}

/// What the explorer shows for a field the record did not yield.
pub const UNKNOWN: &str = "—";

/// Did the record not yield `field` (it is in `missing_fields`: unknown, not empty or zero)?
pub fn is_unknown(r: &crate::bits::model::BitsInfo, field: &str) -> bool {
    r.missing_fields.iter().any(|m| m == field)
}

/// `value`, or [`UNKNOWN`] when the record did not yield `field`.
pub fn or_unknown(r: &crate::bits::model::BitsInfo, field: &str, value: String) -> String {
    if is_unknown(r, field) {
        UNKNOWN.to_string()
    } else {
        value
    }
}

/// Lowercase display form, for case-insensitive search over what the analyst sees.
pub fn search_form(s: &str) -> String {
    escape(s).to_lowercase()
}

/// `40000` as `40,000`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "" for one, "s" otherwise.
pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_bidi_invisible() {
        assert_eq!(escape("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(escape("\r\n\0\t"), "\\x0d\\x0a\\x00\\x09");
        assert_eq!(escape("x\u{202e}y\u{200b}z"), "x\\u{202e}y\\u{200b}z");
        assert_eq!(escape("\u{85}\u{ad}\u{feff}"), "\\u{85}\\u{ad}\\u{feff}");
        assert_eq!(escape("a\u{a0}b"), "a\\u{a0}b");
        assert!(matches!(escape(r"C:\Program Files\x"), Cow::Borrowed(_)));
        assert!(matches!(escape("plain café 日本"), Cow::Borrowed(_)));
    }

    #[test]
    fn backslashes_that_look_like_escapes_are_escaped() {
        assert_eq!(escape(r"\x1b"), r"\x5cx1b");
        assert_eq!(escape(r"\u{202e}"), r"\x5cu{202e}");
        assert_eq!(escape(r"C:\users\x64\new"), r"C:\users\x5cx64\new");
        // A backslash before a real escape stays a backslash.
        assert_eq!(escape("\\\x1b"), "\\\\x1b");
    }

    #[test]
    fn injective_on_tricky_pairs() {
        let pairs = [
            ("\x1b", r"\x1b"),
            ("\u{202e}", r"\u{202e}"),
            ("\\\x1b", r"\\x1b"),
            ("\\\\x1b", "\\\\\x1b"),
            (r"\x5c", "\\"),
            ("a\u{a0}b", "a b"),
        ];
        for (a, b) in pairs {
            assert_ne!(escape(a), escape(b), "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn roundtrip_random() {
        let mut rng = crate::util::rng::Rng::new(0x9e37_79b9_7f4a_7c15);
        let alphabet: Vec<char> = "\\xu{}0123456789abfAF \x1b\r\n\0\u{202e}\u{200b}\u{85}é日"
            .chars()
            .collect();
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..rng.index(12) {
                s.push(alphabet[rng.index(alphabet.len())]);
            }
            let e = escape(&s);
            assert!(!e.chars().any(is_hidden), "{s:?} -> {e:?}");
            assert_eq!(unescape(&e), s, "{s:?} -> {e:?}");
        }
    }

    #[test]
    fn paths_lose_their_middle_keeping_host_and_file_name() {
        let ev = "HOST-A/C/ProgramData/Microsoft/Network/Downloader/qmgr.db";
        assert_eq!(elide_path(ev, 80), ev);
        assert_eq!(elide_path(ev, 30), "HOST-A/C/…/Downloader/qmgr.db");
        assert_eq!(elide_path(ev, 27), "HOST-A/…/Downloader/qmgr.db");
        assert_eq!(elide_path(ev, 16), "HOST-A/…/qmgr.db");
        assert_eq!(elide_path(ev, 12), "HOST-A/…r.db");
        let url =
            "https://dl.google.com/release2/chrome/acgvgzkqlcbf/131.0.6778.86_chrome_installer.exe";
        assert_eq!(
            elide_path(url, 60),
            "https://dl.google.com/…/131.0.6778.86_chrome_installer.exe"
        );
        let q = "http://msedge.b.tlu.dl.delivery.mp.microsoft.com/filestreamingservice/files/899214d6?P1=16791&P2=404";
        assert_eq!(
            elide_path(q, 70),
            "http://msedge.b.tlu.dl.delivery.mp.microsoft.com/…/files/899214d6?…"
        );
        let chain = "v.img › p1 › \\Windows.old\\…\\Downloader\\qmgr.db (deleted)";
        assert_eq!(elide_path(chain, 30), "v.img ›…\\qmgr.db (deleted)");
        for s in [ev, url, q, chain] {
            for w in 0..90 {
                let e = elide_path(s, w);
                assert!(width(&e) <= w, "{s} {w}: {e}");
            }
        }
    }

    #[test]
    fn the_middle_goes_never_an_escape() {
        assert_eq!(
            elide_middle("MozillaUpdate 308046B0AF4A39CB", 14),
            "Mozill…F4A39CB"
        );
        assert_eq!(elide_middle("abc", 3), "abc");
        let e = escape("job\u{202e}name\x1b with a long \u{200b} tail");
        for w in 0..e.len() + 2 {
            for cut in [elide_middle(&e, w), elide_path(&e, w)] {
                assert!(width(&cut) <= w, "{w}: {cut}");
                // What is left of the escapes is whole: unescaping gives no stray `\`.
                let raw = unescape(&cut.replace('…', ""));
                assert!(!raw.contains('\\'), "{w}: {cut} -> {raw:?}");
            }
        }
    }

    #[test]
    fn truncates_with_ellipsis() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("日本語", 4), "日…");
        assert_eq!(truncate("abc", 0), "");
        // An escape is kept whole or left out, never cut in the middle.
        assert_eq!(truncate("zero\\u{200b}width", 10), "zero…");
        assert_eq!(truncate("zero\\u{200b}width", 13), "zero\\u{200b}…");
        assert_eq!(truncate("a\\x1bb", 4), "a…");
        assert_eq!(truncate("a\\x1bbc", 6), "a\\x1b…");
        assert_eq!(truncate(r"C:\Users\x", 4), "C:…");
    }
}
