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
