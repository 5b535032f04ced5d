//! E01 (Expert Witness / EnCase, EWF-E01): one segment file.
//!
//! `EVF` signature, then a chain of sections (76-byte descriptors: type, next, size). The
//! `volume` (or `disk`) section gives the geometry (sectors per chunk, bytes per sector, sector
//! count); each `table` section lists its chunks' offsets (relative to its base offset; the top
//! bit marks a zlib-compressed chunk). Section descriptors and tables carry an Adler-32,
//! checked (a mismatch is a warning); an uncompressed chunk's own Adler-32 is not checked. Backup tables (`table2`) are not read. A segmented image (`next` section)
//! goes on in the next segment file (.E02, ...), opened by the caller's `more`; a missing
//! segment is a warning and its chunks read as errors.

use std::io::{self, Read};
use std::sync::Mutex;

use super::field::{le32, le64};
use super::ReadAt;
use crate::util::diag::Diagnostic;

const SIGNATURE: &[u8; 8] = b"EVF\x09\x0d\x0a\xff\x00";
/// Sections followed in one file.
const MAX_SECTIONS: usize = 1 << 16;
/// Chunks indexed (1 TiB at 32 KiB chunks; 8 bytes each).
const MAX_CHUNKS: u64 = 1 << 25;
/// The largest chunk accepted.
const MAX_CHUNK: u64 = 16 << 20;

/// Chunk offset with this bit set: zlib-compressed.
const COMPRESSED: u64 = 1 << 63;
/// No chunk stored (not in this segment).
const MISSING: u64 = u64::MAX;

/// The media inside an E01 file, by positioned reads (chunks decompressed on demand; the last
/// one is kept).
pub struct Ewf<'a> {
    /// The segment files, in order (.E01, .E02, ...).
    segments: Vec<Box<dyn ReadAt + 'a>>,
    size: u64,
    chunk: u64,
    /// File offset of each chunk, its segment's index in bits 48-62, [`COMPRESSED`] set for a
    /// compressed one, [`MISSING`] if absent.
    chunks: Vec<u64>,
    last: Mutex<Option<(usize, Vec<u8>)>>,
}

/// Segments followed (.E01 to .E99).
const MAX_SEGMENTS: u32 = 99;
/// Offsets in a segment file stay below this (bits 48 and up hold the segment index).
const OFFSET_BITS: u64 = (1 << 48) - 1;

/// The next segment file (number 2, 3, ...), when there is one.
pub type NextSegment<'a> = dyn Fn(u32) -> Option<Box<dyn ReadAt + 'a>> + 'a;

/// Adler-32 checks of one segment's section descriptors and tables: a mismatch is a warning
/// (the section is still read), the first few of a segment listed.
struct Sums {
    number: u32,
    bad: u32,
}

impl Sums {
    const LISTED: u32 = 4;

    /// Whether `b[..at]` has the Adler-32 stored (little-endian) at `at`.
    fn check(
        &mut self,
        b: &[u8],
        at: usize,
        what: impl Fn() -> String,
        warnings: &mut Vec<Diagnostic>,
    ) {
        let stored = le32(b, at);
        let computed = crate::util::checksum::adler32(b.get(..at).unwrap_or_default());
        if stored == computed {
            return;
        }
        self.bad += 1;
        if self.bad <= Self::LISTED {
            let more = if self.bad == Self::LISTED {
                " (further mismatches in this segment are not listed)"
            } else {
                ""
            };
            warnings.push(Diagnostic::from(format!(
                "E01: segment {}: {}: Adler-32 {stored:#010x} stored, {computed:#010x} computed (read anyway){more}",
                self.number,
                what()
            )));
        }
    }
}

/// What one segment file adds: its chunk entries (offsets in that file), and whether it says
/// another segment follows.
fn walk_segment(
    file: &dyn ReadAt,
    number: u32,
    geometry: &mut Option<(u64, u64)>,
    chunks: &mut Vec<u64>,
    warnings: &mut Vec<Diagnostic>,
) -> Option<bool> {
    let mut head = [0u8; 13];
    if file.read_at(0, &mut head).ok()? != 13 || &head[..8] != SIGNATURE {
        if number > 1 {
            warnings.push(Diagnostic::from(format!(
                "E01: segment {number} has no EVF signature"
            )));
        }
        return None;
    }
    let len = file.size();
    let seg = u64::from(number - 1) << 48;
    let mut sums = Sums { number, bad: 0 };
    let mut at = 13u64;
    for _ in 0..MAX_SECTIONS {
        let mut d = [0u8; 76];
        if file.read_at(at, &mut d).ok()? != 76 {
            warnings.push(Diagnostic::from(format!(
                "E01: segment {number}: section at offset {at} is cut off"
            )));
            return Some(false);
        }
        let kind: Vec<u8> = d[..16].iter().copied().take_while(|b| *b != 0).collect();
        let next = le64(&d, 16);
        sums.check(
            &d,
            72,
            || format!("section descriptor at offset {at}"),
            warnings,
        );
        match kind.as_slice() {
            b"volume" | b"disk" if geometry.is_none() => {
                let mut v = [0u8; 24];
                if file.read_at(at + 76, &mut v).ok()? == 24 {
                    let spc = u64::from(le32(&v, 8));
                    let bps = u64::from(le32(&v, 12));
                    let sectors = le64(&v, 16);
                    *geometry = Some((spc * bps, sectors.saturating_mul(bps)));
                }
            }
            b"table" => {
                let Some((chunk, media)) = *geometry else {
                    warnings.push(Diagnostic::from(format!(
                        "E01: segment {number}: table at offset {at} before the volume section"
                    )));
                    return None;
                };
                let mut t = [0u8; 24];
                if file.read_at(at + 76, &mut t).ok()? != 24 {
                    return Some(false);
                }
                sums.check(
                    &t,
                    20,
                    || format!("table header at offset {}", at + 76),
                    warnings,
                );
                let count = u64::from(le32(&t, 0));
                let base = le64(&t, 8);
                let want = media.div_ceil(chunk.max(1));
                if chunks.len() as u64 + count > want.min(MAX_CHUNKS) {
                    warnings.push(Diagnostic::from(format!(
                        "E01: segment {number}: table at offset {at} lists more chunks than the media holds"
                    )));
                    return None;
                }
                // The entries, then their Adler-32.
                let mut raw = vec![0u8; count as usize * 4 + 4];
                if file.read_at(at + 100, &mut raw).ok()? != raw.len() {
                    warnings.push(Diagnostic::from(format!(
                        "E01: segment {number}: table at offset {at} is cut off"
                    )));
                    return None;
                }
                sums.check(
                    &raw,
                    raw.len() - 4,
                    || format!("table entries at offset {}", at + 100),
                    warnings,
                );
                raw.truncate(raw.len() - 4);
                chunks.extend(raw.chunks_exact(4).map(|e| {
                    let e = le32(e, 0);
                    let off = base.saturating_add(u64::from(e & 0x7fff_ffff));
                    if off > OFFSET_BITS {
                        return MISSING;
                    }
                    let off = off | seg;
                    if e & 0x8000_0000 != 0 {
                        off | COMPRESSED
                    } else {
                        off
                    }
                }));
            }
            b"next" => return Some(true),
            b"done" => return Some(false),
            _ => {}
        }
        if next <= at || next >= len {
            return Some(false);
        }
        at = next;
    }
    Some(false)
}

/// The media inside an E01 file; `more` opens its further segments (.E02, ...) when it says
/// it has some.
pub fn open<'a>(
    file: &'a dyn ReadAt,
    more: &NextSegment<'a>,
    warnings: &mut Vec<Diagnostic>,
) -> Option<(String, Ewf<'a>)> {
    let mut geometry = None;
    let mut chunks: Vec<u64> = Vec::new();
    let mut segments: Vec<Box<dyn ReadAt + 'a>> = vec![Box::new(file)];
    let mut segmented = walk_segment(file, 1, &mut geometry, &mut chunks, warnings)?;
    while segmented {
        let number = segments.len() as u32 + 1;
        if number > MAX_SEGMENTS {
            warnings.push(Diagnostic::from(format!(
                "E01: more than {MAX_SEGMENTS} segments; the rest are not read"
            )));
            break;
        }
        let Some(next) = more(number) else {
            warnings.push(Diagnostic::from(format!(
                "E01: segment {number} (.E{number:02}) cannot be opened; its chunks cannot be read"
            )));
            break;
        };
        segmented =
            walk_segment(&*next, number, &mut geometry, &mut chunks, warnings).unwrap_or(false);
        segments.push(next);
    }
    let (chunk, media) = geometry.or_else(|| {
        warnings.push("E01: no volume section".into());
        None
    })?;
    if !(512..=MAX_CHUNK).contains(&chunk) {
        warnings.push(Diagnostic::from(format!(
            "E01: chunk size {chunk} is not valid"
        )));
        return None;
    }
    let want = media.div_ceil(chunk);
    if want > MAX_CHUNKS {
        warnings.push(Diagnostic::from(format!(
            "E01: {want} chunks, more than the {MAX_CHUNKS} read"
        )));
        return None;
    }
    if (chunks.len() as u64) < want {
        warnings.push(Diagnostic::from(format!(
            "E01: the tables list {} of the media's {want} chunks; the rest cannot be read",
            chunks.len()
        )));
        chunks.resize(want as usize, MISSING);
    }
    Some((
        "E01".into(),
        Ewf {
            segments,
            size: media,
            chunk,
            chunks,
            last: Mutex::new(None),
        },
    ))
}

impl Ewf<'_> {
    /// Chunk `i`'s bytes.
    fn load(&self, i: usize) -> io::Result<Vec<u8>> {
        let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
        let entry = *self
            .chunks
            .get(i)
            .ok_or_else(|| bad(format!("E01: no chunk {i}")))?;
        if entry == MISSING {
            return Err(bad(format!("E01: chunk {i} is not in this segment")));
        }
        let at = entry & OFFSET_BITS;
        let seg = ((entry & !COMPRESSED) >> 48) as usize;
        let file = self
            .segments
            .get(seg)
            .ok_or_else(|| bad(format!("E01: chunk {i} is in a segment not opened")))?;
        let len = self
            .chunk
            .min(self.size.saturating_sub(i as u64 * self.chunk)) as usize;
        if entry & COMPRESSED == 0 {
            let mut out = vec![0u8; len];
            if file.read_at(at, &mut out)? != len {
                return Err(bad(format!("E01: chunk {i} at offset {at} is cut off")));
            }
            return Ok(out);
        }
        // A zlib stream ends itself: read a little more than a chunk can grow to.
        let mut packed = vec![0u8; len + len / 8 + 1024];
        let got = file.read_at(at, &mut packed)?;
        packed.truncate(got);
        let mut out = Vec::with_capacity(len);
        flate2::read::ZlibDecoder::new(packed.as_slice())
            .take(len as u64)
            .read_to_end(&mut out)
            .map_err(|e| bad(format!("E01: chunk {i} at offset {at}: {e}")))?;
        if out.len() != len {
            return Err(bad(format!(
                "E01: chunk {i} at offset {at} inflates to {} of {len} bytes",
                out.len()
            )));
        }
        Ok(out)
    }
}

impl ReadAt for Ewf<'_> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let want = usize::try_from(self.size.saturating_sub(offset))
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let mut done = 0;
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        while done < want {
            let at = offset + done as u64;
            let i = usize::try_from(at / self.chunk).unwrap_or(usize::MAX);
            let within = (at % self.chunk) as usize;
            if last.as_ref().map(|(j, _)| *j) != Some(i) {
                *last = Some((i, self.load(i)?));
            }
            let data = last.as_ref().map(|(_, d)| d.as_slice()).unwrap_or_default();
            let src = data.get(within..).unwrap_or_default();
            let n = src.len().min(want - done);
            if n == 0 {
                break;
            }
            buf[done..done + n].copy_from_slice(&src[..n]);
            done += n;
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(out: &mut Vec<u8>, kind: &str, body: &[u8], last: bool) {
        let at = out.len() as u64;
        let size = 76 + body.len() as u64;
        let mut d = [0u8; 76];
        d[..kind.len()].copy_from_slice(kind.as_bytes());
        let next = if last { at } else { at + size };
        d[16..24].copy_from_slice(&next.to_le_bytes());
        d[24..32].copy_from_slice(&size.to_le_bytes());
        let sum = crate::util::checksum::adler32(&d[..72]);
        d[72..].copy_from_slice(&sum.to_le_bytes());
        out.extend_from_slice(&d);
        out.extend_from_slice(body);
    }

    /// An E01 of two 4 KiB chunks (8 sectors each): chunk 0 stored, chunk 1 zlib; `entries`
    /// overrides the table's entry count.
    fn image(entries: u32, second: &[u8]) -> Vec<u8> {
        let mut f = SIGNATURE.to_vec();
        f.extend_from_slice(&[1, 1, 0, 0, 0]);
        let mut vol = vec![0u8; 1052];
        vol[4..8].copy_from_slice(&2u32.to_le_bytes());
        vol[8..12].copy_from_slice(&8u32.to_le_bytes());
        vol[12..16].copy_from_slice(&512u32.to_le_bytes());
        vol[16..24].copy_from_slice(&16u64.to_le_bytes());
        section(&mut f, "volume", &vol, false);
        let base = f.len() as u64;
        let mut sectors = vec![b'A'; 4096];
        sectors.extend_from_slice(&[0; 4]);
        let c1 = sectors.len() as u32 + 76;
        sectors.extend_from_slice(second);
        section(&mut f, "sectors", &sectors, false);
        let mut t = vec![0u8; 24];
        t[..4].copy_from_slice(&entries.to_le_bytes());
        t[8..16].copy_from_slice(&base.to_le_bytes());
        let sum = crate::util::checksum::adler32(&t[..20]);
        t[20..24].copy_from_slice(&sum.to_le_bytes());
        let mut entries = 76u32.to_le_bytes().to_vec();
        entries.extend_from_slice(&(c1 | 0x8000_0000).to_le_bytes());
        let sum = crate::util::checksum::adler32(&entries);
        t.extend_from_slice(&entries);
        t.extend_from_slice(&sum.to_le_bytes());
        section(&mut f, "table", &t, false);
        section(&mut f, "done", &[], true);
        f
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(data).unwrap();
        z.finish().unwrap()
    }

    #[test]
    fn stored_and_compressed_chunks_read_back() {
        let f = image(2, &zlib(&[b'B'; 4096]));
        let mut w = Vec::new();
        let (_, e) = open(&f, &|_| None, &mut w).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(e.size(), 8192);
        let mut buf = vec![0u8; 8192];
        assert_eq!(e.read_at(0, &mut buf).unwrap(), 8192);
        assert!(buf[..4096].iter().all(|b| *b == b'A'));
        assert!(buf[4096..].iter().all(|b| *b == b'B'));
        let mut two = [0u8; 2];
        e.read_at(4095, &mut two).unwrap();
        assert_eq!(&two, b"AB");
    }

    #[test]
    fn hostile_tables_and_chunks_are_errors_not_panics() {
        // More entries than the media holds: refused.
        let mut w = Vec::new();
        assert!(open(&image(u32::MAX, &zlib(&[0; 4096])), &|_| None, &mut w).is_none());
        assert_eq!(w.len(), 1, "{w:?}");
        // A compressed chunk that is not zlib: a read error for that chunk only.
        let f = image(2, &[0xff; 64]);
        let mut w = Vec::new();
        let (_, e) = open(&f, &|_| None, &mut w).unwrap();
        let mut buf = vec![0u8; 4096];
        assert!(e.read_at(0, &mut buf).is_ok());
        assert!(e.read_at(4096, &mut buf).is_err());
        // Fewer entries than chunks: a warning, the missing chunk an error.
        // (The one entry's Adler-32 is then read where the second entry lies: a mismatch.)
        let f = image(1, &[]);
        let mut w = Vec::new();
        let (_, e) = open(&f, &|_| None, &mut w).unwrap();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].what.contains("table entries at offset") && w[0].what.contains("Adler-32"));
        assert!(
            w[1].what.contains("list 1 of the media's 2 chunks"),
            "{w:?}"
        );
        assert!(e.read_at(4096, &mut buf).is_err());
    }
}
