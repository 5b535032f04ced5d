//! Sorting index lists: a radix sort over pairs of texts, and a parallel sort of keys.

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
pub fn sort_texts(texts: &[(&str, &str)]) -> Vec<u32> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
