//! Punycode (RFC 3492) and the ASCII form of a host name (IDNA's `xn--` labels), so the
//! explorer can show a host such as `pаypal.com` (a Cyrillic `а`) as the `xn--pypal-4ve.com`
//! a resolver sees. Encoding only: the explorer shows what the record holds and its ASCII
//! form, it never needs to decode one.
//!
//! Not full IDNA (UTS #46): a label is lowercased (`char::to_lowercase`) and encoded as it is,
//! without NFC normalisation or the UTS #46 mapping a browser applies (`ｅ` fullwidth to `e`,
//! and so on). The form shown is the encoding of the bytes the record holds, which is what
//! an analyst compares; a browser may have asked for a different name.

const BASE: u32 = 36;
const T_MIN: u32 = 1;
const T_MAX: u32 = 26;
const SKEW: u32 = 38;
const DAMP: u32 = 700;
const INITIAL_BIAS: u32 = 72;
const INITIAL_N: u32 = 128;
/// `BASE - T_MIN`, and `(BASE - T_MIN) * T_MAX / 2` (RFC 3492 §6.1), written out.
const BASE_LESS_T_MIN: u32 = 35;
const ADAPT_LIMIT: u32 = 455;
/// A host longer than this is no name a resolver takes (DNS: 253 octets): not encoded, so
/// the quadratic encoder never meets a hostile megabyte.
const MAX_HOST: usize = 1024;

/// RFC 3492 §6.1: the bias after a code point. (Saturating and checked throughout: the
/// values stay far below `u32::MAX` for any label, and a hostile one is cut short before.)
fn adapt(delta: u32, points: u32, first: bool) -> u32 {
    let div = |a: u32, b: u32| a.checked_div(b).unwrap_or(0);
    let mut delta = if first {
        div(delta, DAMP)
    } else {
        div(delta, 2)
    };
    delta = delta.saturating_add(div(delta, points));
    let mut k: u32 = 0;
    while delta > ADAPT_LIMIT {
        delta = div(delta, BASE_LESS_T_MIN);
        k = k.saturating_add(BASE);
    }
    k.saturating_add(div(
        BASE_LESS_T_MIN.saturating_add(1).saturating_mul(delta),
        delta.saturating_add(SKEW),
    ))
}

/// A base-36 digit: `a`–`z` for 0–25, `0`–`9` for 26–35.
fn digit(d: u32) -> char {
    let d = u8::try_from(d.min(35)).unwrap_or(35);
    match d {
        0..=25 => char::from(b'a'.saturating_add(d)),
        _ => char::from(b'0'.saturating_add(d.saturating_sub(26))),
    }
}

/// The threshold `t` of RFC 3492 §6.3 for the digit at `k` with `bias`.
fn threshold(k: u32, bias: u32) -> u32 {
    if k <= bias {
        T_MIN
    } else if k >= bias.saturating_add(T_MAX) {
        T_MAX
    } else {
        k.saturating_sub(bias)
    }
}

/// The variable-length digits of `q` (RFC 3492 §6.3's inner loop), onto `out`.
fn push_number(out: &mut String, mut q: u32, bias: u32) -> Option<()> {
    let mut k = BASE;
    loop {
        let t = threshold(k, bias);
        if q < t {
            break;
        }
        let span = BASE.checked_sub(t)?;
        let rest = q.checked_sub(t)?;
        out.push(digit(t.checked_add(rest.checked_rem(span)?)?));
        q = rest.checked_div(span)?;
        k = k.checked_add(BASE)?;
    }
    out.push(digit(q));
    Some(())
}

/// RFC 3492 §6.3: the Punycode of `input` (no `xn--`); `None` when a count would overflow
/// (a label no DNS name can hold: thousands of characters).
pub fn encode(input: &str) -> Option<String> {
    let points: Vec<u32> = input.chars().map(u32::from).collect();
    let mut out: String = input.chars().filter(char::is_ascii).collect();
    let basic = u32::try_from(out.len()).ok()?;
    let mut handled = basic;
    if basic > 0 {
        out.push('-');
    }
    let total = u32::try_from(points.len()).ok()?;
    let (mut n, mut delta, mut bias) = (INITIAL_N, 0u32, INITIAL_BIAS);
    while handled < total {
        let m = points.iter().copied().filter(|&c| c >= n).min()?;
        let step = m.checked_sub(n)?.checked_mul(handled.checked_add(1)?)?;
        delta = delta.checked_add(step)?;
        n = m;
        for &c in &points {
            if c < n {
                delta = delta.checked_add(1)?;
            }
            if c == n {
                push_number(&mut out, delta, bias)?;
                let next = handled.checked_add(1)?;
                bias = adapt(delta, next, handled == basic);
                delta = 0;
                handled = next;
            }
        }
        delta = delta.checked_add(1)?;
        n = n.checked_add(1)?;
    }
    Some(out)
}

/// The ASCII form of a host: each label holding a non-ASCII character lowercased and written
/// `xn--` + its Punycode; `None` when every label is ASCII already (nothing more to show) or
/// a label cannot be encoded, or the host is longer than any DNS name.
pub fn host_to_ascii(host: &str) -> Option<String> {
    if host.is_ascii() || host.len() > MAX_HOST {
        return None;
    }
    let labels: Option<Vec<String>> = host
        .split('.')
        .map(|label| {
            if label.is_ascii() {
                Some(label.to_string())
            } else {
                let lower: String = label.chars().flat_map(char::to_lowercase).collect();
                encode(&lower).map(|p| format!("xn--{p}"))
            }
        })
        .collect();
    labels.map(|l| l.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_3492_samples_and_host_names() {
        // RFC 3492 §7.1: (A) Arabic (Egyptian), (B) Chinese (simplified), (L) 3年B組金八先生,
        // (M) 安室奈美恵-with-SUPER-MONKEYS.
        let arabic: String = [
            0x0644, 0x064A, 0x0647, 0x0645, 0x0627, 0x0628, 0x062A, 0x0643, 0x0644, 0x0645, 0x0648,
            0x0634, 0x0639, 0x0631, 0x0628, 0x064A, 0x061F,
        ]
        .iter()
        .filter_map(|&c| char::from_u32(c))
        .collect();
        assert_eq!(encode(&arabic).as_deref(), Some("egbpdaj6bu4bxfgehfvwxn"));
        assert_eq!(
            encode("他们为什么不说中文").as_deref(),
            Some("ihqwcrb4cv8a8dqg056pqjye")
        );
        assert_eq!(
            encode("3年B組金八先生").as_deref(),
            Some("3B-ww4c5e180e575a65lsy2b")
        );
        assert_eq!(
            encode("安室奈美恵-with-SUPER-MONKEYS").as_deref(),
            Some("-with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n")
        );
        assert_eq!(encode("abc").as_deref(), Some("abc-"));
        assert_eq!(encode("").as_deref(), Some(""));
        assert_eq!(
            host_to_ascii("bücher.example").as_deref(),
            Some("xn--bcher-kva.example")
        );
        assert_eq!(
            host_to_ascii("Bücher.example").as_deref(),
            Some("xn--bcher-kva.example")
        );
        assert_eq!(host_to_ascii("update.example"), None);
        // Hostile: very long labels and the top code points neither panic nor hang.
        let long: String = std::iter::repeat_n('\u{10FFFF}', 5000).collect();
        let _ = encode(&long);
        let _ = host_to_ascii(&format!("{long}.x"));
    }
}
