//! The one escaping layer between untrusted text (names, URLs, commands, paths from a suspect
//! file) and the terminal.
//!
//! ratatui drops C0/C1 control characters silently (`\x1b[31m` would show as `[31m`, a `\r`
//! or NUL vanishes) and passes bidi and invisible characters straight to the terminal, where
//! U+202E reverses what follows and U+200B hides in plain sight. Every string that reaches a
//! widget goes through [`escape`] first, which shows each such character as a visible escape:
//!
//! - `\xHH` (two lowercase hex digits) for the C0 controls U+0000–U+001F and DEL;
//! - `\u{H..}` (lowercase hex) for every other hidden character: C1 controls, bidi controls,
//!   zero-width and format characters, non-ASCII spaces, variation selectors, tag characters,
//!   private-use and noncharacters.
//!
//! A literal backslash stays a backslash (Windows paths stay readable), except where it would
//! read as the start of an escape (a `\` followed by `x` and two hex digits, or by `u{`): that
//! backslash is shown as `\x5c`. So the display form decodes back to exactly one raw value
//! ([`unescape`]), and two different raw values never display the same.

use std::borrow::Cow;

/// True for a character that must never reach the terminal raw: controls, bidi controls,
/// invisible/format characters, spaces other than U+0020, and characters with no agreed glyph.
pub fn is_hidden(c: char) -> bool {
    let u = c as u32;
    match u {
        0x00..=0x1F | 0x7F..=0x9F => true,
        // Soft hyphen, combining grapheme joiner, Arabic letter mark.
        0xAD | 0x34F | 0x61C => true,
        // Arabic number signs and other prepended format characters (Cf).
        0x600..=0x605 | 0x6DD | 0x70F | 0x890..=0x891 | 0x8E2 => true,
        // Hangul fillers, Khmer inherent vowels, Mongolian vowel separator and free variation
        // selectors.
        0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F | 0x3164 | 0xFFA0 => true,
        // Ogham space mark and the typographic spaces U+2000–U+200A.
        0x1680 | 0x2000..=0x200A => true,
        // Zero-width space/non-joiner/joiner, LRM, RLM.
        0x200B..=0x200F => true,
        // Line and paragraph separators, bidi embeddings/overrides (LRE..RLO), narrow NBSP.
        0x2028..=0x202F => true,
        // Medium math space, word joiner, invisible operators, bidi isolates, deprecated
        // format characters.
        0x205F..=0x206F => true,
        0x3000 => true,
        // No-break space.
        0xA0 => true,
        // Variation selectors.
        0xFE00..=0xFE0F | 0xE0100..=0xE01EF => true,
        // BOM / zero-width no-break space; interlinear annotation; object replacement.
        0xFEFF | 0xFFF9..=0xFFFC => true,
        // Noncharacters.
        0xFDD0..=0xFDEF => true,
        _ if u & 0xFFFE == 0xFFFE => true,
        // Private use (BMP and planes 15–16).
        0xE000..=0xF8FF | 0xF0000..=0x10FFFF => true,
        // Other format characters (Cf) outside the BMP; tag characters.
        0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A => true,
        0xE0000..=0xE007F => true,
        _ => false,
    }
}

/// True when `s` holds any character that [`escape`] would rewrite as hidden (a backslash
/// alone does not count).
pub fn has_hidden(s: &str) -> bool {
    s.chars().any(is_hidden)
}

/// Would a backslash at byte `i` of `s` read as the start of an escape?
fn backslash_needs_escape(s: &[u8], i: usize) -> bool {
    match s.get(i..) {
        Some([_, b'x', a, b, ..]) => a.is_ascii_hexdigit() && b.is_ascii_hexdigit(),
        Some([_, b'u', b'{', ..]) => true,
        _ => false,
    }
}

/// The display form of untrusted text: every hidden character as a visible escape, the rest
/// unchanged. Borrowed when nothing needed escaping.
pub fn escape(s: &str) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    let clean = s
        .char_indices()
        .all(|(i, c)| !(is_hidden(c) || c == '\\' && backslash_needs_escape(bytes, i)));
    if clean {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len().saturating_add(16));
    for (i, c) in s.char_indices() {
        push_escaped(&mut out, c, bytes, i);
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char, bytes: &[u8], i: usize) {
    use std::fmt::Write;
    if c == '\\' && backslash_needs_escape(bytes, i) {
        out.push_str("\\x5c");
    } else if is_hidden(c) {
        let u = c as u32;
        // Writing to a String cannot fail.
        let _ = if u < 0x80 {
            write!(out, "\\x{u:02x}")
        } else {
            write!(out, "\\u{{{u:x}}}")
        };
    } else {
        out.push(c);
    }
}

/// The inverse of [`escape`]: `unescape(&escape(s)) == s` for every string `s`, which is what
/// makes the display injective. Used by tests and to read back a display string.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if let Some((decoded, after)) = unescape_one(rest) {
            out.push(decoded);
            rest = after;
        } else {
            out.push(c);
            rest = rest.get(c.len_utf8()..).unwrap_or_default();
        }
    }
    out
}

/// The character an escape at the start of `s` stands for (`\xHH` or `\u{H..}`), and the
/// text after it; `None` when `s` does not start with one (its backslash is then literal).
fn unescape_one(s: &str) -> Option<(char, &str)> {
    if let Some(after) = s.strip_prefix("\\x") {
        let hex = after.get(..2)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let c = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)?;
        return Some((c, after.get(2..)?));
    }
    let (hex, after) = s.strip_prefix("\\u{")?.split_once('}')?;
    let c = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)?;
    Some((c, after))
}
