//! The filter's fuzzy test for free text: the letters of a pattern in order, each at most
//! [`MAX_GAP`] characters after the one before; past [`FUZZY_MAX_CHARS`] characters a pattern
//! is a plain substring. One rule, three forms that agree: [`FuzzyPattern::matches`] over a
//! record's whole search text, [`fuzzy_match`] over one field, [`positions`] for the letters
//! a cell lights.

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

/// Patterns longer than this many characters match as a plain substring. A fuzzy test costs
/// the field's length times the pattern's, and a pasted URL or path is meant literally: past
/// 32 characters an abbreviation is no longer what is typed. A substring is also a fuzzy match
/// (no gap at all), so typing on past the limit still only narrows.
pub const FUZZY_MAX_CHARS: usize = 32;

/// Is `pat` past [`FUZZY_MAX_CHARS`] (so it matches as a substring)?
pub fn too_long_for_fuzzy(pat: &str) -> bool {
    pat.chars().nth(FUZZY_MAX_CHARS).is_some()
}

impl FuzzyPattern {
    pub fn new(pat: &str) -> FuzzyPattern {
        let table = (pat.is_ascii() && !pat.is_empty() && !too_long_for_fuzzy(pat)).then(|| {
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
        if too_long_for_fuzzy(&self.pat) {
            // A pattern never holds NUL (hidden characters are not typed), so no substring
            // spans two fields.
            return hay.contains(self.pat.as_str());
        }
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
    if too_long_for_fuzzy(pat) {
        return hay.contains(pat);
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

/// The characters of `hay` (one lowercase character per displayed one) that `pat` matches:
/// the substring's own when the pattern is long, else one fuzzy match's letters.
pub fn positions(hay: &[char], pat: &str) -> Option<Vec<usize>> {
    if pat.is_empty() {
        return None;
    }
    if too_long_for_fuzzy(pat) {
        let lower: String = hay.iter().collect();
        let at = lower.find(pat)?;
        let start = lower.get(..at)?.chars().count();
        return Some((start..start + pat.chars().count()).collect());
    }
    let pat: Vec<char> = pat.chars().collect();
    gap_positions(hay, &pat)
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
    fn long_patterns_match_and_light_as_substrings() {
        let url = "https://download-installer.cdn.mozilla.net/pub/firefox/releases/110.0/x.mar";
        let whole = &url[8..60];
        assert!(too_long_for_fuzzy(whole) && !too_long_for_fuzzy(&whole[..32]));
        assert!(fuzzy_match(url, whole) && FuzzyPattern::new(whole).matches(url));
        // Letters in order with small gaps, but not a substring: no match once it is long.
        let spaced: String = whole.chars().flat_map(|c| [c, 'z']).collect();
        let hay: String = whole.chars().flat_map(|c| [c, 'z', 'z']).collect();
        assert!(!fuzzy_match(&hay, &spaced) && !FuzzyPattern::new(&spaced).matches(&hay));
        let short: String = spaced.chars().take(FUZZY_MAX_CHARS).collect();
        assert!(fuzzy_match(&hay, &short) && FuzzyPattern::new(&short).matches(&hay));
        // The highlight follows the same rule: the substring's own characters.
        let chars: Vec<char> = url.chars().collect();
        assert_eq!(positions(&chars, whole), Some((8..60).collect()));
        // No substring spans two fields of the NUL-separated text.
        let two = format!("{}\0{}", &whole[..20], &whole[20..]);
        assert!(!FuzzyPattern::new(whole).matches(&two));
    }

    #[test]
    fn long_patterns_on_long_values_take_linear_time() {
        let hay = "ab".repeat(200_000);
        let pat = format!("{}c", "ab".repeat(2_000));
        let start = std::time::Instant::now();
        let chars: Vec<char> = hay.chars().collect();
        for _ in 0..10 {
            assert!(!fuzzy_match(&hay, &pat));
            assert!(!FuzzyPattern::new(&pat).matches(&hay));
            assert_eq!(positions(&chars, &pat), None);
        }
        // A quadratic test is 400k x 4k = 1.6e9 steps a call; linear is well under a second.
        assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
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
}
