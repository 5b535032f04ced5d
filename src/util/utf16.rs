//! UTF-16LE text as stored by Windows.

/// Decode UTF-16LE, replacing unpaired surrogates, and drop trailing NULs.
pub fn decode_utf16le(buf: &[u8]) -> String {
    let units = buf
        .chunks_exact(2)
        .filter_map(|c| c.try_into().ok())
        .map(u16::from_le_bytes);
    let mut s: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    while s.ends_with('\0') {
        s.pop();
    }
    s
}

/// Decode strictly: `None` when the bytes are not valid UTF-16 (odd length or unpaired surrogate).
/// Carving uses this to reject random bytes that only look like a counted string.
pub fn decode_utf16le_strict(buf: &[u8]) -> Option<String> {
    if buf.len() % 2 != 0 {
        return None;
    }
    let units = buf
        .chunks_exact(2)
        .filter_map(|c| c.try_into().ok())
        .map(u16::from_le_bytes);
    let mut s = String::with_capacity(buf.len() / 2);
    for r in char::decode_utf16(units) {
        s.push(r.ok()?);
    }
    while s.ends_with('\0') {
        s.pop();
    }
    Some(s)
}
