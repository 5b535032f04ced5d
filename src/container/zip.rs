//! Zip archives of collected files (Velociraptor, KAPE's zip output): the central directory's
//! entries whose file name is a store's.
//!
//! A stored entry is a byte range of the archive; a deflated one is inflated into memory
//! (bounded by [`MAX_STORE`]). Zip64 sizes and offsets are read; encrypted entries and other
//! methods are warnings. Everything is found through the central directory (end record within
//! the last 64 KiB + 22 bytes), never by scanning the archive.

use std::io::Read;

use super::field::{le16, le32, le64};
use super::{is_wanted_name, Extent, ReadAt, Store, StoreData, MAX_STORE};
use crate::util::diag::Diagnostic;

/// Central directory entries looked at.
const MAX_ENTRIES: u64 = 1 << 20;
/// The largest central directory read.
const MAX_DIRECTORY: u64 = 256 << 20;

fn read(file: &dyn ReadAt, at: u64, len: usize) -> Option<Vec<u8>> {
    let mut b = vec![0u8; len];
    (file.read_at(at, &mut b).ok()? == len).then_some(b)
}

/// Whether `file` starts like a zip archive.
pub fn is_zip(file: &dyn ReadAt) -> bool {
    matches!(
        read(file, 0, 4).as_deref(),
        Some(b"PK\x03\x04" | b"PK\x05\x06")
    )
}

/// (entry count, directory size, directory offset) from the end records.
fn directory(file: &dyn ReadAt, warnings: &mut Vec<Diagnostic>) -> Option<(u64, u64, u64)> {
    let len = file.size();
    let tail_len = len.min(65_557);
    let tail = read(file, len - tail_len, tail_len as usize)?;
    let at = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|i| tail.get(*i..*i + 4) == Some(b"PK\x05\x06"))?;
    let eocd = &tail[at..];
    let (mut entries, mut size, mut offset) = (
        u64::from(le16(eocd, 10)),
        u64::from(le32(eocd, 12)),
        u64::from(le32(eocd, 16)),
    );
    if entries == 0xffff || size == 0xffff_ffff || offset == 0xffff_ffff {
        // Zip64: the locator just before the end record points at the zip64 end record.
        let loc = at.checked_sub(20).and_then(|l| tail.get(l..l + 20));
        let Some(loc) = loc.filter(|l| l.get(..4) == Some(b"PK\x06\x07")) else {
            warnings.push("zip: a zip64 archive without its locator".into());
            return None;
        };
        let rec_at = le64(loc, 8);
        let Some(rec) = read(file, rec_at, 56).filter(|r| r.get(..4) == Some(b"PK\x06\x06")) else {
            warnings.push(Diagnostic::from(format!(
                "zip: no zip64 end record at offset {rec_at}"
            )));
            return None;
        };
        (entries, size, offset) = (le64(&rec, 32), le64(&rec, 40), le64(&rec, 48));
    }
    Some((entries, size, offset))
}

/// The stores in a zip archive.
pub fn find_stores(
    file: &dyn ReadAt,
    chain: &[String],
    stores: &mut Vec<Store>,
    warnings: &mut Vec<Diagnostic>,
) {
    let Some((entries, size, offset)) = directory(file, warnings) else {
        warnings.push("zip: no end of central directory record".into());
        return;
    };
    if offset.saturating_add(size) > file.size() {
        warnings.push(Diagnostic::from(format!(
            "zip: the central directory at offset {offset} ({size} bytes) lies past the archive's end"
        )));
        return;
    }
    if size > MAX_DIRECTORY || entries > MAX_ENTRIES {
        warnings.push(Diagnostic::from(format!(
            "zip: a central directory of {size} bytes and {entries} entries is more than is read"
        )));
        return;
    }
    let Some(dir) = read(file, offset, size as usize) else {
        warnings.push(Diagnostic::from(format!(
            "zip: the central directory at offset {offset} lies past the archive's end"
        )));
        return;
    };
    let mut at = 0usize;
    for _ in 0..entries {
        let Some(e) = dir
            .get(at..at + 46)
            .filter(|e| e.get(..4) == Some(b"PK\x01\x02"))
        else {
            warnings.push(Diagnostic::from(format!(
                "zip: central directory entry at offset {} is not valid",
                offset + at as u64
            )));
            return;
        };
        let flags = le16(e, 8);
        let method = le16(e, 10);
        let mut packed = u64::from(le32(e, 20));
        let mut unpacked = u64::from(le32(e, 24));
        let name_len = usize::from(le16(e, 28));
        let extra_len = usize::from(le16(e, 30));
        let comment_len = usize::from(le16(e, 32));
        let mut local = u64::from(le32(e, 42));
        let name_bytes = dir.get(at + 46..at + 46 + name_len).unwrap_or_default();
        let extra = dir
            .get(at + 46 + name_len..at + 46 + name_len + extra_len)
            .unwrap_or_default();
        at += 46 + name_len + extra_len + comment_len;
        let name = String::from_utf8_lossy(name_bytes).to_string();
        let base = name.rsplit(['/', '\\']).next().unwrap_or("").to_string();
        if !is_wanted_name(&base) {
            continue;
        }
        // Zip64 extra field: the 64-bit values of the fields set to 0xffffffff, in order.
        let mut x = 0;
        while x + 4 <= extra.len() {
            let (id, len) = (le16(extra, x), usize::from(le16(extra, x + 2)));
            if id == 1 {
                let mut f = x + 4;
                for v in [&mut unpacked, &mut packed, &mut local] {
                    if *v == 0xffff_ffff && f + 8 <= x + 4 + len {
                        *v = le64(extra, f);
                        f += 8;
                    }
                }
            }
            x += 4 + len;
        }
        let what = format!("zip: {name}");
        if flags & 1 != 0 {
            warnings.push(Diagnostic::from(format!("{what}: encrypted, not read")));
            continue;
        }
        let Some(lh) = read(file, local, 30).filter(|h| h.get(..4) == Some(b"PK\x03\x04")) else {
            warnings.push(Diagnostic::from(format!(
                "{what}: no local header at offset {local}"
            )));
            continue;
        };
        let data_at = local + 30 + u64::from(le16(&lh, 26)) + u64::from(le16(&lh, 28));
        if data_at.saturating_add(packed) > file.size() {
            warnings.push(Diagnostic::from(format!(
                "{what}: data at offset {data_at} runs past the archive's end"
            )));
            continue;
        }
        if unpacked > MAX_STORE || packed > MAX_STORE {
            warnings.push(Diagnostic::from(format!(
                "{what}: {unpacked} bytes, more than a store is read to"
            )));
            continue;
        }
        let data = match method {
            0 => StoreData::Extents(vec![Extent {
                offset: Some(data_at),
                len: packed,
            }]),
            8 => {
                let Some(raw) = read(file, data_at, packed as usize) else {
                    warnings.push(Diagnostic::from(format!(
                        "{what}: data at offset {data_at} is cut off"
                    )));
                    continue;
                };
                let mut out = Vec::new();
                let r = flate2::read::DeflateDecoder::new(raw.as_slice())
                    .take(unpacked)
                    .read_to_end(&mut out);
                if let Err(e) = r {
                    warnings.push(Diagnostic::from(format!("{what}: does not inflate: {e}")));
                    continue;
                }
                StoreData::Resident(out)
            }
            m => {
                warnings.push(Diagnostic::from(format!(
                    "{what}: compression method {m} is not read"
                )));
                continue;
            }
        };
        let size = if method == 0 { packed } else { unpacked };
        let mut chain = chain.to_vec();
        chain.push(name.clone());
        stores.push(Store {
            chain,
            path: name,
            name: base,
            mft_entry: None,
            deleted: false,
            size,
            data,
        });
    }
}
