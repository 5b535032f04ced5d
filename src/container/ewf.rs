//! E01 (Expert Witness Compression Format: EnCase's EWF-E01 and SMART's EWF-S01): a media image
//! stored in chunks across one or more segment files.
//!
//! Each segment file starts with a 13-byte header: the signature `EVF\x09\x0d\x0a\xff\x00`,
//! 0x01, the segment number (u16, from 1) and 0x0000. Then a chain of sections, each opened by
//! a 76-byte descriptor: type (16 bytes, NUL-padded) at 0, the next section's offset in the
//! file (u64) at 16, the section's size (u64) at 24, padding, and the Adler-32 of bytes 0..72
//! at 72. The sections read:
//!
//! - `volume` or `disk` (first segment; `data`, a copy, in later ones). EWF-E01: 1052 bytes,
//!   sectors per chunk (u32) at 8, bytes per sector (u32) at 12, sector count (u64) at 16, the
//!   set identifier (a GUID, 16 bytes) at 64, Adler-32 at 1048. EWF-S01 (SMART): 94 bytes, the
//!   same fields but a u32 sector count, Adler-32 at 90.
//! - `table`: a 24-byte header (entry count u32 at 0; base offset u64 at 8, zero before EnCase
//!   6.7; Adler-32 of bytes 0..20 at 20), then the entries (u32 each: bit 31 set means a
//!   zlib-compressed chunk, the rest is the chunk's offset from the base), then the entries'
//!   Adler-32. SMART and EnCase 1 put the chunks straight after the entries, with no Adler-32:
//!   the footer is taken to be there only when the first chunk does not start where the
//!   entries end.
//! - `hash` (the media's MD5, 16 bytes at 0) and `digest` (MD5 at 0, SHA-1 at 16): the hashes
//!   computed at acquisition, shown and checked on request ([`Ewf::stored`]).
//! - `next` (the chain goes on in the next segment file) and `done` (the last section).
//!
//! `header`/`header2` (case notes), `sectors` (the chunks themselves), `table2` (a copy of
//! `table`), `error2` and `session` are not read. Checksums (descriptors, volume, tables,
//! hashes) are checked: a mismatch is a warning and the section is read anyway; a chunk's own
//! Adler-32 is not checked (a media hash check covers every chunk).
//!
//! Segment files are named `.E01`…`.E99`, then `.EAA`…`.EZZ`, `.FAA`… up to `.ZZZ` (SMART:
//! `.s01`…, lower case `.e01`… likewise; see [`segment_extension`]); the caller opens them
//! (`more`). Each segment's header must carry its own number and its set identifier (when one
//! is stored) the first segment's: a swapped, repeated or foreign segment ends the chain with
//! a warning, and its chunks read as errors.
//!
//! Nothing is sized by what a header claims: the chunk tables stay in the files and are read
//! entry by entry (only their places are kept, a few bytes per table section). A chunk no
//! table lists (its segment missing) is a read error naming it; carving the media reads only
//! the chunks listed ([`ReadAt::backed`]).

use std::io::{self, Read};
use std::sync::Mutex;

use super::field::{le32, le64};
use super::{ReadAt, Refusal};
use crate::util::checksum::{adler32, Adler32};
use crate::util::diag::Diagnostic;

/// The signature every segment file starts with (EWF-E01 and EWF-S01).
pub const SIGNATURE: &[u8; 8] = b"EVF\x09\x0d\x0a\xff\x00";
/// Sections followed in one segment file.
const MAX_SECTIONS: usize = 1 << 16;
/// The largest chunk accepted (32,768 sectors of 512 bytes).
const MAX_CHUNK: u64 = 16 << 20;
/// Segments followed: the segment number is a u16.
const MAX_SEGMENTS: u32 = u16::MAX as u32;
/// Table entries checked per read while their Adler-32 is computed.
const ENTRIES_PER_READ: u64 = 16 << 10;

/// The next segment file (number 2, 3, ...), when there is one.
pub type NextSegment<'a> = dyn Fn(u32) -> Option<Box<dyn ReadAt + 'a>> + 'a;

/// The media hashes stored in the image at acquisition (`hash` and `digest` sections).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredHashes {
    pub md5: Option<[u8; 16]>,
    pub sha1: Option<[u8; 20]>,
}

/// Where one table section's entries are: chunks `first..first + count`, their entries at
/// `entries` in segment `segment` (0-based), offsets from `base`.
#[derive(Debug, Clone, Copy)]
struct Table {
    first: u64,
    count: u64,
    segment: usize,
    entries: u64,
    base: u64,
}

/// The media inside an E01 image, by positioned reads (chunks decompressed on demand; the last
/// one is kept).
pub struct Ewf<'a> {
    /// The segment files, in order (.E01, .E02, ...).
    segments: Vec<Box<dyn ReadAt + 'a>>,
    size: u64,
    chunk: u64,
    tables: Vec<Table>,
    stored: StoredHashes,
    last: Mutex<Option<(u64, Vec<u8>)>>,
}

/// The file name extension of segment `n` (from 1) of an image whose first segment's
/// extension is `first` (`E01`, `e01`, `s01`, ...), as libewf names them: `E01`…`E99`, then
/// `EAA`…`EAZ`, `EBA`…`EZZ`, `FAA`… up to `ZZZ` (lower case to `zzz`). `None` past the last
/// name, and when `first` is no first segment's extension.
pub fn segment_extension(first: &str, n: u32) -> Option<String> {
    let &[lead, b'0', b'1'] = first.as_bytes() else {
        return None;
    };
    if !lead.is_ascii_alphabetic() {
        return None;
    }
    let (extra, last) = if lead.is_ascii_uppercase() {
        (b'A', b'Z')
    } else {
        (b'a', b'z')
    };
    match n {
        0 => None,
        1..=99 => Some(format!("{}{n:02}", char::from(lead))),
        _ => {
            // n > 99 here; each digit is below 26, so the letters stay within `a..=z`
            // or `A..=Z`, and a head past the last letter is refused below.
            let k = n.saturating_sub(100);
            let third = extra.saturating_add((k % 26) as u8);
            let second = extra.saturating_add((k / 26 % 26) as u8);
            let head = u32::from(lead).saturating_add(k / (26 * 26));
            let head = u8::try_from(head).ok().filter(|h| *h <= last)?;
            Some(String::from_utf8_lossy(&[head, second, third]).into_owned())
        }
    }
}

/// Whether the segment in `file` ends its chain with a `next` section (another segment
/// follows). Reads the section descriptors only; false for anything that is not a whole
/// segment.
pub fn continues(file: &dyn ReadAt) -> bool {
    let mut head = [0u8; 13];
    if file.read_at(0, &mut head).ok() != Some(13) || head[..8] != SIGNATURE[..] {
        return false;
    }
    let len = file.size();
    let mut at = 13u64;
    for _ in 0..MAX_SECTIONS {
        let mut d = [0u8; 76];
        if file.read_at(at, &mut d).ok() != Some(76) {
            return false;
        }
        match section_type(&d) {
            b"next" => return true,
            b"done" => return false,
            _ => {}
        }
        let next = le64(&d, 16);
        if next <= at || next >= len {
            return false;
        }
        at = next;
    }
    false
}

fn section_type(d: &[u8]) -> &[u8] {
    let t = d.get(..16).unwrap_or_default();
    let end = t.iter().position(|b| *b == 0).unwrap_or(t.len());
    t.get(..end).unwrap_or_default()
}

/// Adler-32 checks of one segment's structures: a mismatch is a warning (the structure is
/// still read), the first few of a segment listed.
struct Sums {
    number: u32,
    bad: u32,
}

impl Sums {
    const LISTED: u32 = 4;

    /// Whether `computed` equals the Adler-32 `stored` (little-endian) for `what` at `at`.
    fn compare(
        &mut self,
        stored: u32,
        computed: u32,
        at: u64,
        what: &str,
        warnings: &mut Vec<Diagnostic>,
    ) {
        if stored == computed {
            return;
        }
        self.bad = self.bad.saturating_add(1);
        if self.bad <= Self::LISTED {
            let more = if self.bad == Self::LISTED {
                " (further mismatches in this segment are not listed)"
            } else {
                ""
            };
            warnings.push(Diagnostic::at(
                at,
                format!(
                    "E01: segment {}: {what}: Adler-32 {stored:#010x} stored, {computed:#010x} computed (read anyway){more}",
                    self.number
                ),
            ));
        }
    }

    /// Whether `b[..at]` has the Adler-32 stored at `at`.
    fn check(&mut self, b: &[u8], at: usize, offset: u64, what: &str, w: &mut Vec<Diagnostic>) {
        let computed = adler32(b.get(..at).unwrap_or_default());
        self.compare(le32(b, at), computed, offset, what, w);
    }
}

/// The media's geometry, from the first volume section.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    chunk: u64,
    media: u64,
    set: [u8; 16],
}

/// What the walk of the segments has found so far.
#[derive(Default)]
struct Walk {
    geometry: Option<Geometry>,
    tables: Vec<Table>,
    listed: u64,
    stored: StoredHashes,
    /// The media holds no more chunks than this: further entries are ignored (warned once).
    extra_warned: bool,
}

/// How a segment's chain of sections ended.
enum End {
    Next,
    Done,
    /// Cut short, or an unreadable structure: no further segment is read.
    Broken,
}

impl Walk {
    /// Walk segment `number` (from 1). An error refuses the whole image (the first segment
    /// cannot be read); a later segment's problems are warnings that end the chain.
    fn segment(
        &mut self,
        file: &dyn ReadAt,
        number: u32,
        warnings: &mut Vec<Diagnostic>,
    ) -> Result<End, String> {
        let mut head = [0u8; 13];
        if file.read_at(0, &mut head).ok() != Some(13) || head[..8] != SIGNATURE[..] {
            if number == 1 {
                return Err("no EVF signature".into());
            }
            warnings.push(Diagnostic::new(format!(
                "E01: segment {number} has no EVF signature: not read"
            )));
            return Ok(End::Broken);
        }
        let says = u32::from(u16::from_le_bytes([head[9], head[10]]));
        if says != number {
            let what = format!(
                "E01: the file read as segment {number} says it is segment {says} (segments swapped, repeated or from another image)"
            );
            if number == 1 {
                return Err(what);
            }
            warnings.push(Diagnostic::new(format!(
                "{what}: it and the segments after it are not read"
            )));
            return Ok(End::Broken);
        }
        let len = file.size();
        let mut sums = Sums { number, bad: 0 };
        let mut at = 13u64;
        for _ in 0..MAX_SECTIONS {
            let mut d = [0u8; 76];
            if file.read_at(at, &mut d).ok() != Some(76) {
                warnings.push(Diagnostic::at(
                    at,
                    format!("E01: segment {number}: the section here is cut off"),
                ));
                return Ok(End::Broken);
            }
            let next = le64(&d, 16);
            sums.check(&d, 72, at, "section descriptor", warnings);
            // The section's own bytes: its size, or (tools that leave it 0) up to the next.
            let size = match le64(&d, 24) {
                s if s > 76 => s.saturating_sub(76),
                _ => next.saturating_sub(at).saturating_sub(76),
            };
            // The 76-byte descriptor at `at` was read whole: `at + 76` is within the file.
            let body = at.saturating_add(76);
            match section_type(&d) {
                b"volume" | b"disk" | b"data"
                    if !self.volume(file, number, body, size, &mut sums, warnings)? =>
                {
                    return Ok(End::Broken);
                }
                b"table" if !self.table(file, number, at, &mut sums, warnings)? => {
                    return Ok(End::Broken);
                }
                b"hash" => self.hash(file, body, &mut sums, warnings),
                b"digest" => self.digest(file, body, &mut sums, warnings),
                b"next" => return Ok(End::Next),
                b"done" => return Ok(End::Done),
                _ => {}
            }
            if next <= at || next >= len {
                warnings.push(Diagnostic::at(
                    at,
                    format!(
                        "E01: segment {number}: the chain of sections ends without a done or next section"
                    ),
                ));
                return Ok(End::Broken);
            }
            at = next;
        }
        warnings.push(Diagnostic::new(format!(
            "E01: segment {number}: more than {MAX_SECTIONS} sections; the rest are not read"
        )));
        Ok(End::Broken)
    }

    /// A volume (or disk, or data) section: the geometry from the first, the set identifier
    /// compared in the others. False when this segment belongs to another image.
    fn volume(
        &mut self,
        file: &dyn ReadAt,
        number: u32,
        body: u64,
        size: u64,
        sums: &mut Sums,
        warnings: &mut Vec<Diagnostic>,
    ) -> Result<bool, String> {
        // SMART's volume section is 94 bytes; EnCase's 1052.
        let smart = size == 94;
        let mut v = vec![0u8; if smart { 94 } else { 1052 }];
        let got = file.read_at(body, &mut v).unwrap_or(0);
        if got < 24 {
            if self.geometry.is_none() {
                return Err(format!("the volume section at offset {body} is cut off"));
            }
            return Ok(true);
        }
        if got == v.len() {
            let sum_at = v.len().saturating_sub(4); // 94 or 1052 bytes
            sums.check(&v, sum_at, body, "volume section", warnings);
        }
        let mut set = [0u8; 16];
        if !smart {
            if let Some(s) = v.get(64..80) {
                set.copy_from_slice(s);
            }
        }
        if let Some(g) = self.geometry {
            let stored = |s: &[u8; 16]| s.iter().any(|b| *b != 0);
            if stored(&g.set) && stored(&set) && g.set != set {
                warnings.push(Diagnostic::at(
                    body,
                    format!(
                        "E01: segment {number} belongs to another image (set identifier {}, not {}): it and the segments after it are not read",
                        crate::util::bytes::hex(&set),
                        crate::util::bytes::hex(&g.set)
                    ),
                ));
                return Ok(false);
            }
            return Ok(true);
        }
        let per_chunk = u64::from(le32(&v, 8));
        let sector = u64::from(le32(&v, 12));
        let sectors = if smart {
            u64::from(le32(&v, 16))
        } else {
            le64(&v, 16)
        };
        if !sector.is_power_of_two() || !(512..=4096).contains(&sector) {
            return Err(format!("{sector} bytes per sector is not valid"));
        }
        let chunk = per_chunk.saturating_mul(sector);
        if !(512..=MAX_CHUNK).contains(&chunk) {
            return Err(format!(
                "a chunk of {per_chunk} sectors of {sector} bytes is not valid"
            ));
        }
        self.geometry = Some(Geometry {
            chunk,
            media: sectors.saturating_mul(sector),
            set,
        });
        Ok(true)
    }

    /// A table section at `at`: its place kept, its header and entries checked. False when
    /// the segment cannot be read further.
    fn table(
        &mut self,
        file: &dyn ReadAt,
        number: u32,
        at: u64,
        sums: &mut Sums,
        warnings: &mut Vec<Diagnostic>,
    ) -> Result<bool, String> {
        let Some(g) = self.geometry else {
            if number == 1 {
                return Err(format!("a table at offset {at} before the volume section"));
            }
            warnings.push(Diagnostic::at(
                at,
                format!("E01: segment {number}: a table before the volume section"),
            ));
            return Ok(false);
        };
        // The section's descriptor at `at` was read whole, and the header after it just now:
        // these offsets are all within the file.
        let header = at.saturating_add(76);
        let mut t = [0u8; 24];
        if file.read_at(header, &mut t).ok() != Some(24) {
            warnings.push(Diagnostic::at(
                at,
                format!("E01: segment {number}: the table here is cut off"),
            ));
            return Ok(false);
        }
        sums.check(&t, 20, header, "table header", warnings);
        let mut count = u64::from(le32(&t, 0));
        let base = le64(&t, 8);
        let entries = header.saturating_add(24);
        // The entries lie in the file: never more than it holds.
        let room = file.size().saturating_sub(entries) / 4;
        if count > room {
            warnings.push(Diagnostic::at(
                at,
                format!(
                    "E01: segment {number}: the table here lists {count} chunks but the file holds {room} entries"
                ),
            ));
            count = room;
        }
        let want = g.media.div_ceil(g.chunk);
        let left = want.saturating_sub(self.listed);
        if count > left && !self.extra_warned {
            self.extra_warned = true;
            warnings.push(Diagnostic::at(
                at,
                format!(
                    "E01: segment {number}: the tables list more chunks than the media's {want}; the extra entries are ignored"
                ),
            ));
        }
        // The entries' Adler-32, computed piece by piece.
        let mut sum = Adler32::new();
        // `count` is cut to the entries the file holds after `entries`: every offset below
        // is within the file.
        let mut buf = vec![0u8; count.min(ENTRIES_PER_READ).saturating_mul(4) as usize];
        let mut first = None;
        let mut done = 0u64;
        while done < count {
            let n = count.saturating_sub(done).min(ENTRIES_PER_READ);
            let piece = buf
                .get_mut(..n.saturating_mul(4) as usize)
                .unwrap_or_default();
            let piece_at = entries.saturating_add(done.saturating_mul(4));
            if file.read_at(piece_at, piece).ok() != Some(piece.len()) {
                break;
            }
            first = first.or(Some(le32(piece, 0)));
            sum.update(piece);
            done = done.saturating_add(n);
        }
        let end = entries.saturating_add(count.saturating_mul(4));
        let footer = first.is_some_and(|e| base.saturating_add(u64::from(e & 0x7fff_ffff)) != end);
        if footer {
            let mut s = [0u8; 4];
            if file.read_at(end, &mut s).ok() == Some(4) {
                sums.compare(
                    u32::from_le_bytes(s),
                    sum.sum(),
                    entries,
                    "table entries",
                    warnings,
                );
            }
        }
        let count = count.min(left);
        if count > 0 {
            self.tables.push(Table {
                first: self.listed,
                count,
                segment: (number as usize).saturating_sub(1), // segments count from 1
                entries,
                base,
            });
            // `count <= left`: the chunks listed never pass the media's.
            self.listed = self.listed.saturating_add(count);
        }
        Ok(true)
    }

    fn hash(&mut self, file: &dyn ReadAt, body: u64, sums: &mut Sums, w: &mut Vec<Diagnostic>) {
        let mut h = [0u8; 36];
        if file.read_at(body, &mut h).ok() != Some(36) {
            return;
        }
        sums.check(&h, 32, body, "hash section", w);
        let mut md5 = [0u8; 16];
        md5.copy_from_slice(&h[..16]);
        self.stored.md5 = Some(md5);
    }

    fn digest(&mut self, file: &dyn ReadAt, body: u64, sums: &mut Sums, w: &mut Vec<Diagnostic>) {
        let mut h = [0u8; 80];
        if file.read_at(body, &mut h).ok() != Some(80) {
            return;
        }
        sums.check(&h, 76, body, "digest section", w);
        let (mut md5, mut sha1) = ([0u8; 16], [0u8; 20]);
        md5.copy_from_slice(&h[..16]);
        sha1.copy_from_slice(&h[16..36]);
        // A digest section without a SHA-1 leaves it zero.
        if md5.iter().any(|b| *b != 0) {
            self.stored.md5 = Some(md5);
        }
        if sha1.iter().any(|b| *b != 0) {
            self.stored.sha1 = Some(sha1);
        }
    }
}

/// The media inside an E01 image: `None` when `file` is not one, a refusal when it is one
/// that cannot be read. `more` opens the further segments (.E02, ...) when the chain says
/// there are some.
pub fn open<'a>(
    file: &'a dyn ReadAt,
    more: &NextSegment<'a>,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Result<(String, Ewf<'a>), Refusal>> {
    let mut head = [0u8; 8];
    if file.read_at(0, &mut head).ok()? != 8 || head != *SIGNATURE {
        return None;
    }
    let refuse = |why: String| Some(Err(Refusal::new("E01", why)));
    let mut walk = Walk::default();
    let mut segments: Vec<Box<dyn ReadAt + 'a>> = vec![Box::new(file)];
    let mut end = match walk.segment(file, 1, warnings) {
        Ok(end) => end,
        Err(why) => return refuse(why),
    };
    while matches!(end, End::Next) {
        // At most MAX_SEGMENTS + 1: checked just below.
        let number = (segments.len() as u32).saturating_add(1);
        if number > MAX_SEGMENTS {
            warnings.push(Diagnostic::new(format!(
                "E01: more than {MAX_SEGMENTS} segments; the rest are not read"
            )));
            break;
        }
        let Some(next) = more(number) else {
            warnings.push(Diagnostic::new(format!(
                "E01: segment {number} is missing (the chain goes on past segment {}): chunks from {} on cannot be read",
                number.saturating_sub(1),
                walk.listed
            )));
            break;
        };
        end = walk
            .segment(&*next, number, warnings)
            .unwrap_or(End::Broken);
        segments.push(next);
    }
    let Some(g) = walk.geometry else {
        return refuse("no volume section".into());
    };
    let want = g.media.div_ceil(g.chunk);
    if walk.listed == 0 {
        return refuse("no chunk of the media is listed".into());
    }
    if walk.listed < want {
        warnings.push(Diagnostic::new(format!(
            "E01: the tables list {} of the media's {want} chunks: the media's bytes from offset {} on cannot be read",
            walk.listed,
            walk.listed.saturating_mul(g.chunk)
        )));
    }
    Some(Ok((
        "E01".into(),
        Ewf {
            segments,
            size: g.media,
            chunk: g.chunk,
            tables: walk.tables,
            stored: walk.stored,
            last: Mutex::new(None),
        },
    )))
}

impl Ewf<'_> {
    /// The media hashes the image stores (from its acquisition).
    pub fn stored(&self) -> &StoredHashes {
        &self.stored
    }

    /// Segment files read (including the first).
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Chunk `i`'s (segment index, offset in that segment, compressed).
    fn entry(&self, i: u64) -> io::Result<(usize, u64, bool)> {
        let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
        let t = self.tables.partition_point(|t| t.first <= i);
        let t = t
            .checked_sub(1)
            .and_then(|t| self.tables.get(t))
            .filter(|t| i.checked_sub(t.first).is_some_and(|k| k < t.count))
            .ok_or_else(|| {
                bad(format!(
                    "E01: chunk {i} (media offset {}) is in no segment read (a segment missing?)",
                    i.saturating_mul(self.chunk)
                ))
            })?;
        let file = self
            .segments
            .get(t.segment)
            .ok_or_else(|| bad(format!("E01: chunk {i} is in a segment not opened")))?;
        let mut e = [0u8; 4];
        // `i - t.first < t.count` (above), and the table's entries lie in its segment.
        let entry_at = t
            .entries
            .saturating_add(i.saturating_sub(t.first).saturating_mul(4));
        if file.read_at(entry_at, &mut e)? != 4 {
            return Err(bad(format!("E01: the table entry of chunk {i} is cut off")));
        }
        let e = u32::from_le_bytes(e);
        let at = t.base.saturating_add(u64::from(e & 0x7fff_ffff));
        Ok((t.segment, at, e & 0x8000_0000 != 0))
    }

    /// Chunk `i`'s bytes.
    fn load(&self, i: u64) -> io::Result<Vec<u8>> {
        let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
        let (seg, at, compressed) = self.entry(i)?;
        let file = self
            .segments
            .get(seg)
            .ok_or_else(|| bad(format!("E01: chunk {i} is in a segment not opened")))?;
        let len = self
            .chunk
            .min(self.size.saturating_sub(i.saturating_mul(self.chunk))) as usize;
        if !compressed {
            let mut out = vec![0u8; len];
            if file.read_at(at, &mut out)? != len {
                return Err(bad(format!(
                    "E01: chunk {i} at offset {at} of segment {} is cut off",
                    seg.saturating_add(1)
                )));
            }
            return Ok(out);
        }
        // A zlib stream ends itself: read a little more than a chunk can grow to.
        // `len` is at most a chunk (MAX_CHUNK): no saturation.
        let mut packed = vec![0u8; len.saturating_add(len / 8).saturating_add(1024)];
        let got = file.read_at(at, &mut packed)?;
        packed.truncate(got);
        let mut out = Vec::with_capacity(len);
        flate2::read::ZlibDecoder::new(packed.as_slice())
            .take(len as u64)
            .read_to_end(&mut out)
            .map_err(|e| {
                bad(format!(
                    "E01: chunk {i} at offset {at} of segment {}: {e}",
                    seg.saturating_add(1)
                ))
            })?;
        if out.len() != len {
            return Err(bad(format!(
                "E01: chunk {i} at offset {at} of segment {} inflates to {} of {len} bytes",
                seg.saturating_add(1),
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
        let mut done = 0usize;
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        while done < want {
            // `done < want <= size - offset`: the sum is within the media.
            let at = offset.saturating_add(done as u64);
            let (Some(i), Some(within)) = (at.checked_div(self.chunk), at.checked_rem(self.chunk))
            else {
                break;
            };
            let within = within as usize;
            if last.as_ref().map(|(j, _)| *j) != Some(i) {
                *last = Some((i, self.load(i)?));
            }
            let data = last.as_ref().map(|(_, d)| d.as_slice()).unwrap_or_default();
            let src = data.get(within..).unwrap_or_default();
            let n = src.len().min(want.saturating_sub(done));
            let (Some(dst), Some(src)) = (buf.get_mut(done..done.saturating_add(n)), src.get(..n))
            else {
                break;
            };
            if n == 0 {
                break;
            }
            dst.copy_from_slice(src);
            done = done.saturating_add(n);
        }
        Ok(done)
    }

    /// Every chunk listed, but a chunk whose entry points back at or before an earlier chunk
    /// of its segment (chunks are written in order: a table naming one chunk many times) is
    /// left out.
    fn backed(&self) -> Option<Vec<(u64, u64)>> {
        let mut reach: Vec<Option<u64>> = vec![None; self.segments.len()];
        let mut kept = Vec::new();
        let mut buf = vec![0u8; (ENTRIES_PER_READ * 4) as usize];
        for t in &self.tables {
            let file = self.segments.get(t.segment)?;
            // The table's entries lie in its segment (cut at open): no offset saturates.
            let mut done = 0u64;
            while done < t.count {
                let n = t.count.saturating_sub(done).min(ENTRIES_PER_READ);
                let piece = buf
                    .get_mut(..n.saturating_mul(4) as usize)
                    .unwrap_or_default();
                let piece_at = t.entries.saturating_add(done.saturating_mul(4));
                if file.read_at(piece_at, piece).ok() != Some(piece.len()) {
                    break;
                }
                for (k, e) in piece.chunks_exact(4).enumerate() {
                    let at = t.base.saturating_add(u64::from(le32(e, 0) & 0x7fff_ffff));
                    let last = reach.get_mut(t.segment)?;
                    if last.is_none_or(|l| at > l) {
                        *last = Some(at);
                        kept.push(t.first.saturating_add(done).saturating_add(k as u64));
                    }
                }
                done = done.saturating_add(n);
            }
        }
        Some(super::block_runs(kept.into_iter(), self.chunk, self.size))
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
        let sum = adler32(&d[..72]);
        d[72..].copy_from_slice(&sum.to_le_bytes());
        out.extend_from_slice(&d);
        out.extend_from_slice(body);
    }

    fn volume(sectors: u64) -> Vec<u8> {
        let mut vol = vec![0u8; 1052];
        vol[4..8].copy_from_slice(&2u32.to_le_bytes());
        vol[8..12].copy_from_slice(&8u32.to_le_bytes());
        vol[12..16].copy_from_slice(&512u32.to_le_bytes());
        vol[16..24].copy_from_slice(&sectors.to_le_bytes());
        let sum = adler32(&vol[..1048]);
        vol[1048..].copy_from_slice(&sum.to_le_bytes());
        vol
    }

    /// An E01 of two 4 KiB chunks (8 sectors each): chunk 0 stored, chunk 1 zlib; `entries`
    /// overrides the table's entry count, `sectors` the volume's sector count.
    fn image_with(entries: u32, second: &[u8], sectors: u64) -> Vec<u8> {
        let mut f = SIGNATURE.to_vec();
        f.extend_from_slice(&[1, 1, 0, 0, 0]);
        section(&mut f, "volume", &volume(sectors), false);
        let base = f.len() as u64;
        let mut data = vec![b'A'; 4096];
        data.extend_from_slice(&[0; 4]);
        let c1 = data.len() as u32 + 76;
        data.extend_from_slice(second);
        section(&mut f, "sectors", &data, false);
        let mut t = vec![0u8; 24];
        t[..4].copy_from_slice(&entries.to_le_bytes());
        t[8..16].copy_from_slice(&base.to_le_bytes());
        let sum = adler32(&t[..20]);
        t[20..24].copy_from_slice(&sum.to_le_bytes());
        let mut list = 76u32.to_le_bytes().to_vec();
        list.extend_from_slice(&(c1 | 0x8000_0000).to_le_bytes());
        let sum = adler32(&list);
        t.extend_from_slice(&list);
        t.extend_from_slice(&sum.to_le_bytes());
        section(&mut f, "table", &t, false);
        section(&mut f, "done", &[], true);
        f
    }

    fn image(entries: u32, second: &[u8]) -> Vec<u8> {
        image_with(entries, second, 16)
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(data).unwrap();
        z.finish().unwrap()
    }

    fn opened<'a>(f: &'a Vec<u8>, w: &mut Vec<Diagnostic>) -> Ewf<'a> {
        match open(f, &|_| None, w) {
            Some(Ok((_, e))) => e,
            _ => panic!("not opened: {w:?}"),
        }
    }

    #[test]
    fn stored_and_compressed_chunks_read_back() {
        let f = image(2, &zlib(&[b'B'; 4096]));
        let mut w = Vec::new();
        let e = opened(&f, &mut w);
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
        // More entries than the file holds: cut to what it holds, and a warning.
        let mut w = Vec::new();
        let f = image(u32::MAX, &zlib(&[0; 4096]));
        let e = opened(&f, &mut w);
        assert!(w.iter().any(|w| w.what.contains("the file holds")), "{w:?}");
        assert_eq!(e.size(), 8192);
        // A compressed chunk that is not zlib: a read error for that chunk only.
        let f = image(2, &[0xff; 64]);
        let mut w = Vec::new();
        let e = opened(&f, &mut w);
        let mut buf = vec![0u8; 4096];
        assert!(e.read_at(0, &mut buf).is_ok());
        assert!(e.read_at(4096, &mut buf).is_err());
        // Fewer entries than chunks: a warning; the media keeps its stated size and the chunk
        // not listed is a read error. (The one entry's Adler-32 is then read where the second
        // entry lies: a mismatch.)
        let f = image(1, &[]);
        let mut w = Vec::new();
        let e = opened(&f, &mut w);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].what.contains("table entries") && w[0].what.contains("Adler-32"));
        assert!(
            w[1].what.contains("list 1 of the media's 2 chunks"),
            "{w:?}"
        );
        assert_eq!(e.size(), 8192);
        assert!(e.read_at(4096, &mut buf).is_err());
    }

    /// A sector count of 2^31 (1 TiB) in a file of a few KB: no table is sized by it.
    #[test]
    fn a_huge_sector_count_sizes_nothing() {
        let f = image_with(2, &zlib(&[b'B'; 4096]), 1 << 31);
        let mut w = Vec::new();
        let e = opened(&f, &mut w);
        assert_eq!(e.size(), 1 << 40, "{w:?}");
        assert!(
            w.iter().any(|w| w.what.contains("list 2 of the media's")),
            "{w:?}"
        );
        assert_eq!(e.tables.len(), 1);
        // What is carved of it: the two chunks its file holds.
        assert_eq!(e.backed(), Some(vec![(0, 8192)]));
    }

    #[test]
    fn wrong_segment_number_and_bad_geometry_are_refused() {
        let refusal = |f: &Vec<u8>| match open(f, &|_| None, &mut Vec::new()) {
            Some(Err(r)) => r.why,
            _ => panic!("not refused"),
        };
        let mut f = image(2, &zlib(&[b'B'; 4096]));
        f[9] = 2;
        assert!(refusal(&f).contains("says it is segment 2"));
        let mut f = image(2, &zlib(&[b'B'; 4096]));
        // Bytes per sector 3 (the volume body starts at 13 + 76).
        f[13 + 76 + 12..13 + 76 + 16].copy_from_slice(&3u32.to_le_bytes());
        assert!(refusal(&f).contains("bytes per sector"));
    }

    #[test]
    fn segment_names_follow_libewf() {
        let names: Vec<String> = [1, 2, 99, 100, 101, 125, 126, 775, 776, 14971]
            .iter()
            .map(|n| segment_extension("E01", *n).unwrap())
            .collect();
        assert_eq!(
            names,
            ["E01", "E02", "E99", "EAA", "EAB", "EAZ", "EBA", "EZZ", "FAA", "ZZZ"]
        );
        assert_eq!(segment_extension("E01", 14972), None);
        assert_eq!(segment_extension("s01", 100).as_deref(), Some("saa"));
        assert_eq!(segment_extension("s01", 5507).as_deref(), Some("zzz"));
        assert_eq!(segment_extension("s01", 5508), None);
        assert_eq!(segment_extension("e01", 382).as_deref(), Some("ekw"));
        assert_eq!(segment_extension("E02", 2), None);
        assert_eq!(segment_extension("raw", 2), None);
    }
}
