//! The BITS file record: the Win10+ `Files.Blob` of qmgr.db, and the file records that a legacy
//! job's XFER section holds in full.
//!
//! # Layout
//!
//! Offsets of `blobs/win10/file.raw` (1,072 bytes); they shift with the string lengths. Counted
//! strings are as in `job.rs`.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0x000 | 16 | file marker `E4CF9E51…` (Win10+ only); the same 16 bytes close the blob |
//! | 0x010 | 4+272 | local destination path |
//! | 0x124 | 4+332 | remote URL |
//! | 0x274 | 4+144 | temporary path (`BITxxxx.tmp`) |
//! | 0x308 | 8 | bytes transferred (4,782) |
//! | 0x310 | 8 | total bytes (4,782; `u64::MAX` = unknown) |
//! | 0x318 | 1 | unknown (0) |
//! | 0x319 | 4+8 | drive (`C:\`) |
//! | 0x325 | 4+100 | volume GUID path (`\\?\Volume{…}\`) |
//! | 0x38d | 4 | 3 in every sample (consistent with DRIVE_FIXED) |
//! | 0x391 | 4 | constant per machine, different across machines (consistent with a volume serial) |
//! | 0x395 | 8 | file size, i64 (-1 = unknown) |
//! | 0x39d | 4 | 0x80 in every sample (consistent with FILE_ATTRIBUTE_NORMAL) |
//! | 0x3a1 | 4+n | i32 n, then n opaque bytes (n 0 in every sample) |
//! | 0x3a5 | 1 | unknown flag |
//! | 0x3a6 | 4+16·n | requested ranges: u32 n, then (u64 offset, u64 length) each |
//! | 0x3aa | 8 | remote file modification FILETIME (BitsParser calls it "CreationTime") |
//! | 0x3b2 | 16 | unknown (zero) |
//! | 0x3c2 | 4 | 1 when the file is complete, else 0 |
//! | 0x3c6 | 8 | a byte counter (4,782; the legacy samples hold bytes transferred here) |
//! | 0x3ce | 8 | unknown (0) |
//! |  |  | *the legacy file record ends here* |
//! | 0x3d6 | 16 | GUID `2eb0ad7a-cf8b-2e4d-b82f-4319d2fb5f75`, the same in every Win10 and Win11 blob |
//! | 0x3e6 | 10 | unknown (u32 1, u32 0, u16 0) |
//! | 0x3f0 | 8+16·n | transferred ranges: u64 n, then (u64 offset, u64 length) each: (0, 4,782) |
//! | 0x408 | 8 | unknown (0) |
//! | 0x410 | 16 | the GUID again |
//! | 0x420 | 16 | closing file marker |
//!
//! Fields are read in order from the marker; BitsParser's way of finding the path (the first
//! `:`) breaks on UNC and `\\?\` paths.

use crate::bits::reader::{bytes_at, note_next_marker, DecodeError, Field, Reader};
use crate::util::guid::Guid;

/// The Win10+ file marker (stored bytes).
pub const FILE_MARKER: [u8; 16] = [
    0xE4, 0xCF, 0x9E, 0x51, 0x46, 0xD9, 0x97, 0x43, 0xB7, 0x3E, 0x26, 0x85, 0x13, 0x05, 0x1A, 0xB2,
];

/// Most ranges a file can list before the count is treated as corrupt.
const MAX_RANGES: u32 = 1 << 20;
/// Largest opaque byte run accepted after the attributes.
const MAX_OPAQUE: u32 = 64 * 1024;

/// A decoded file record. Everything is optional so that a cut record still yields what precedes
/// the cut; `stopped` says where and why decoding ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileRecord {
    /// The opening marker (Win10+ blobs only).
    pub marker: Option<Guid>,
    pub destination: Option<String>,
    pub url: Option<String>,
    pub temp_path: Option<String>,
    pub bytes_transferred: Option<u64>,
    /// `u64::MAX` means unknown (see [`FileRecord::total_known`]).
    pub total_bytes: Option<u64>,
    pub drive: Option<String>,
    pub volume: Option<String>,
    /// The u32 after the volume (3 in every sample).
    pub drive_type: Option<u32>,
    /// The next u32 (per-machine constant).
    pub volume_serial: Option<u32>,
    /// -1 = unknown.
    pub file_size: Option<i64>,
    pub attributes: Option<u32>,
    /// (offset, length) ranges requested for the file.
    pub requested_ranges: Vec<(u64, u64)>,
    /// Remote file modification FILETIME, raw (0 = not known yet).
    pub remote_mtime: Option<u64>,
    /// Win10+: (offset, length) ranges transferred so far.
    pub transferred_ranges: Vec<(u64, u64)>,
    /// Every field read: name, offset, length.
    pub fields: Vec<Field>,
    pub warnings: Vec<String>,
    /// Where and why decoding stopped short of the record's end.
    pub stopped: Option<DecodeError>,
    /// Win10+: the closing marker was found. Legacy: the whole record was decoded (it has no
    /// closing marker of its own).
    pub closed: bool,
    /// Bytes consumed from the record's start, including the closing marker when found.
    pub len: usize,
}

impl FileRecord {
    /// The total size, unless BITS did not know it yet (`u64::MAX`).
    pub fn total_known(&self) -> Option<u64> {
        self.total_bytes.filter(|&t| t != u64::MAX)
    }

    /// The last component of the destination path.
    pub fn file_name(&self) -> Option<&str> {
        let d = self.destination.as_deref()?;
        d.rsplit(['\\', '/']).next()
    }
}

/// Decode a Win10+ file blob (`Files.Blob`) that starts with the file marker.
///
/// Errors only when the buffer does not start with the file marker; anything after it is decoded
/// as far as it goes.
pub fn decode_file_blob(buf: &[u8]) -> Result<FileRecord, DecodeError> {
    if bytes_at(buf, 0, 16, "file marker")? != FILE_MARKER {
        return Err(DecodeError::BadMarker {
            what: "file marker",
            offset: 0,
        });
    }
    let mut r = Reader::new(buf, 0);
    let mut rec = FileRecord {
        marker: Some(Guid(r.array("file marker")?)),
        ..FileRecord::default()
    };
    let outcome =
        parse_common(&mut r, &mut rec).and_then(|()| parse_ese_extension(&mut r, &mut rec));
    match outcome {
        Ok(()) if r.peek(&FILE_MARKER) => {
            r.array::<16>("closing marker")?;
            rec.closed = true;
        }
        outcome => {
            let e = outcome.err().unwrap_or(DecodeError::Missing {
                what: "closing marker",
                offset: r.pos(),
            });
            r.warn(format!("decoding stopped: {e}"));
            rec.stopped = Some(e);
            note_next_marker(&mut r, &FILE_MARKER);
        }
    }
    rec.len = r.pos();
    rec.fields = std::mem::take(&mut r.fields);
    rec.warnings.append(&mut r.warnings);
    Ok(rec)
}

/// Decode one legacy file record (inside an XFER section, after the file count) at the start of
/// `buf`, returning it and the bytes it takes.
///
/// Errors only when not even the destination path can be read; a record cut later is returned
/// with what it holds and `stopped` set.
pub fn decode_legacy_file(buf: &[u8]) -> Result<(FileRecord, usize), DecodeError> {
    parse_legacy_file_at(buf, 0)
}

/// [`decode_legacy_file`] for a record at `at` in `buf`: offsets stay offsets in `buf`, and the
/// returned position is where the record ends (or where decoding stopped).
pub(crate) fn parse_legacy_file_at(
    buf: &[u8],
    at: usize,
) -> Result<(FileRecord, usize), DecodeError> {
    let mut r = Reader::new(buf, at);
    let mut rec = FileRecord::default();
    match parse_common(&mut r, &mut rec) {
        Ok(()) => rec.closed = true,
        Err(e) if rec.destination.is_none() => return Err(e),
        Err(e) => {
            r.warn(format!("decoding stopped: {e}"));
            rec.stopped = Some(e);
        }
    }
    let end = r.pos();
    // The reader only moves forward from `at`.
    rec.len = end.saturating_sub(at);
    rec.fields = std::mem::take(&mut r.fields);
    rec.warnings.append(&mut r.warnings);
    Ok((rec, end))
}

/// The fields that Win10+ blobs and legacy records share: from the destination path through the
/// 36 bytes after the remote modification time.
fn parse_common(r: &mut Reader<'_>, rec: &mut FileRecord) -> Result<(), DecodeError> {
    rec.destination = Some(r.string("destination")?);
    rec.url = Some(r.string("URL")?);
    rec.temp_path = Some(r.string("temporary path")?);
    rec.bytes_transferred = Some(r.u64("bytes transferred")?);
    rec.total_bytes = Some(r.u64("total bytes")?);
    r.u8("unknown byte")?;
    rec.drive = Some(r.string("drive")?);
    rec.volume = Some(r.string("volume")?);
    rec.drive_type = Some(r.u32("drive type")?);
    rec.volume_serial = Some(r.u32("volume serial")?);
    rec.file_size = Some(r.i64("file size")?);
    rec.attributes = Some(r.u32("attributes")?);
    let n_at = r.pos();
    let n = r.i32("opaque length")?;
    let n = u32::try_from(n).map_err(|_| DecodeError::BadCount {
        what: "opaque length",
        offset: n_at,
        count: u64::from(n.unsigned_abs()),
        max: u64::from(MAX_OPAQUE),
    })?;
    r.check_count("opaque length", n_at, n, MAX_OPAQUE, 1)?;
    r.skip("opaque bytes", n as usize)?;
    r.u8("unknown flag")?;
    let n_at = r.pos();
    let n = r.u32("requested range count")?;
    r.check_count("requested range count", n_at, n, MAX_RANGES, 16)?;
    for _ in 0..n {
        rec.requested_ranges
            .push((r.u64("range offset")?, r.u64("range length")?));
    }
    rec.remote_mtime = Some(r.u64("remote modification time")?);
    r.skip("unknown (16 bytes)", 16)?;
    r.u32("complete flag")?;
    r.u64("byte counter")?;
    r.u64("unknown")?;
    Ok(())
}

/// The Win10+ fields after the shared part, up to the closing marker.
fn parse_ese_extension(r: &mut Reader<'_>, rec: &mut FileRecord) -> Result<(), DecodeError> {
    let first = Guid(r.array("GUID")?);
    r.skip("unknown (10 bytes)", 10)?;
    let n_at = r.pos();
    let n = r.u64("transferred range count")?;
    let n = u32::try_from(n).unwrap_or(u32::MAX);
    r.check_count("transferred range count", n_at, n, MAX_RANGES, 16)?;
    for _ in 0..n {
        rec.transferred_ranges
            .push((r.u64("range offset")?, r.u64("range length")?));
    }
    r.u64("unknown")?;
    let second = Guid(r.array("GUID")?);
    if first != second {
        r.warn(format!(
            "the two GUIDs before the closing marker differ ({first} and {second})"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bits::job::test_support::{fields_in_bounds, mutate, sample, Rng};
    use crate::util::time::filetime_iso;
    use std::time::{Duration, Instant};

    const DEST: &str = r"C:\Users\bob\AppData\Local\Temp\chrome_BITS_9548_1667050988\lmelglejhemejginpboagddgdfbepgmp_372_all_ZZ_djv5ss66g7sivnpz6ljtwr2zji.crx3";

    #[test]
    fn win10_file_blob_values() {
        let Some(b) = sample("blobs/win10/file.raw") else {
            return;
        };
        let f = decode_file_blob(&b).expect("decodes");
        assert_eq!(f.destination.as_deref(), Some(DEST));
        assert_eq!(
            f.url.as_deref(),
            Some("http://edgedl.me.gvt1.com/edgedl/release2/chrome_component/i73exzs4s3qvwnxxzwp6zdbtbe_372/lmelglejhemejginpboagddgdfbepgmp_372_all_ZZ_djv5ss66g7sivnpz6ljtwr2zji.crx3")
        );
        assert_eq!(
            f.temp_path.as_deref(),
            Some(r"C:\Users\bob\AppData\Local\Temp\chrome_BITS_9548_1667050988\BITAC67.tmp")
        );
        assert_eq!(
            (f.bytes_transferred, f.total_known()),
            (Some(4782), Some(4782))
        );
        assert_eq!(f.drive.as_deref(), Some(r"C:\"));
        assert_eq!(
            f.volume.as_deref(),
            Some(r"\\?\Volume{08542f90-0000-0000-0000-501f00000000}\")
        );
        assert_eq!(
            (f.drive_type, f.volume_serial),
            (Some(3), Some(0xd49d_126f))
        );
        assert_eq!((f.file_size, f.attributes), (Some(4782), Some(0x80)));
        assert!(f.requested_ranges.is_empty());
        assert_eq!(f.remote_mtime, Some(0x01d9_13d6_0744_8380));
        assert_eq!(
            filetime_iso(f.remote_mtime.unwrap_or(0)),
            "2022-12-19T18:16:35.000Z"
        );
        assert_eq!(f.transferred_ranges, vec![(0, 4782)]);
        assert!(
            f.closed && f.stopped.is_none() && f.warnings.is_empty(),
            "{:?}",
            f.warnings
        );
        assert_eq!(f.len, b.len());
        assert_eq!(f.file_name(), DEST.rsplit('\\').next());
        assert!(fields_in_bounds(&f.fields, b.len()));
        let field = |name| f.fields.iter().find(|x| x.0 == name).copied();
        assert_eq!(field("destination"), Some(("destination", 0x10, 276)));
        assert_eq!(field("URL"), Some(("URL", 0x124, 336)));
        assert_eq!(
            field("remote modification time"),
            Some(("remote modification time", 0x3aa, 8))
        );
    }

    #[test]
    fn win10_file_matches_artemis() {
        let (Some(b), Some(reference)) = (
            sample("blobs/win10/file.raw"),
            sample("reference/artemis/win10-live.json"),
        ) else {
            return;
        };
        let rows: serde_json::Value = serde_json::from_slice(&reference).expect("json");
        let row = &rows[0];
        let f = decode_file_blob(&b).expect("decodes");
        let s = |k: &str| row[k].as_str().unwrap_or_default().to_string();
        assert_eq!(f.destination.clone().unwrap_or_default(), s("full_path"));
        assert_eq!(f.file_name().unwrap_or_default(), s("filename"));
        assert_eq!(f.url.clone().unwrap_or_default(), s("url"));
        assert_eq!(f.temp_path.clone().unwrap_or_default(), s("tmp_fullpath"));
        assert_eq!(f.volume.clone().unwrap_or_default(), s("volume"));
        assert_eq!(f.drive.clone().unwrap_or_default(), s("drive"));
        assert_eq!(f.bytes_transferred, row["bytes_transferred"].as_u64());
        assert_eq!(f.total_bytes, row["bytes_downloaded"].as_u64());
    }

    #[test]
    fn win81_legacy_file_record() {
        let Some(b) = sample("blobs/win81/file.raw") else {
            return;
        };
        // The section: XFER marker, count 1, then the record.
        assert_eq!(b.get(..16), Some(&crate::bits::job::XFER_MARKER[..]));
        assert_eq!(b.get(16..20), Some(&[1u8, 0, 0, 0][..]));
        let (f, end) = decode_legacy_file(&b[20..]).expect("decodes");
        assert!(f.destination.as_deref().is_some_and(
            |d| d.ends_with(r"edge_BITS_888_428908036\430ce39a-f827-4af6-95ea-5dd495961bfc")
        ));
        assert!(f.url.as_deref().is_some_and(|u| u.starts_with(
            "http://msedge.b.tlu.dl.delivery.mp.microsoft.com/filestreamingservice/files/430ce39a"
        )));
        assert!(f
            .temp_path
            .as_deref()
            .is_some_and(|t| t.ends_with(r"\BITB403.tmp")));
        assert_eq!(
            (f.bytes_transferred, f.total_bytes),
            (Some(3_226_443), Some(3_226_443))
        );
        assert_eq!(f.drive.as_deref(), Some(r"C:\"));
        assert_eq!(
            f.volume.as_deref(),
            Some(r"\\?\Volume{8195d9c8-2089-11ea-824e-806e6f6e6963}\")
        );
        assert_eq!(
            (f.drive_type, f.volume_serial),
            (Some(3), Some(0x7adc_e687))
        );
        // The sample ends inside the file size: the record is cut there, and says so.
        assert_eq!(f.file_size, None);
        assert!(!f.closed);
        assert!(matches!(
            f.stopped,
            Some(DecodeError::Truncated {
                what: "file size",
                ..
            })
        ));
        assert_eq!(end, b.len() - 20 - 6);
    }

    #[test]
    fn not_a_file_blob() {
        assert!(matches!(
            decode_file_blob(&[0u8; 32]),
            Err(DecodeError::BadMarker { .. })
        ));
        assert!(decode_file_blob(&FILE_MARKER[..8]).is_err());
        assert!(decode_legacy_file(&[0xff; 8]).is_err());
    }

    #[test]
    fn a_cut_blob_does_not_take_the_next_blobs_marker() {
        let Some(b) = sample("blobs/win10/file.raw") else {
            return;
        };
        for cut in [0x20, 0x300, 0x3b0, 0x3e0, 0x41f] {
            let mut v = b[..cut].to_vec();
            v.extend_from_slice(&b);
            let f = decode_file_blob(&v).expect("decodes");
            assert!(!f.closed && f.stopped.is_some(), "cut at {cut}");
        }
    }

    #[test]
    fn every_truncation() {
        let Some(b) = sample("blobs/win10/file.raw") else {
            return;
        };
        for n in 0..b.len() {
            match decode_file_blob(&b[..n]) {
                Ok(f) => {
                    assert!(!f.closed && f.stopped.is_some(), "cut at {n}");
                    assert!(f.len <= n && fields_in_bounds(&f.fields, n));
                }
                Err(_) => assert!(n < 16),
            }
            // The same bytes as a legacy record (after the marker) must not panic either.
            if let Ok((f, end)) = decode_legacy_file(b.get(16..n).unwrap_or(&[])) {
                assert!(end <= n.saturating_sub(16) && fields_in_bounds(&f.fields, n));
            }
        }
    }

    #[test]
    fn random_mutations() {
        let blobs: Vec<Vec<u8>> = ["blobs/win10/file.raw", "blobs/win81/file.raw"]
            .iter()
            .filter_map(|p| sample(p))
            .collect();
        if blobs.len() < 2 {
            return;
        }
        let mut rng = Rng::new(0x1234_5678_9abc_def1);
        let start = Instant::now();
        for i in 0..5000 {
            let m = mutate(&mut rng, &blobs[i % 2]);
            let t = Instant::now();
            if let Ok(f) = decode_file_blob(&m) {
                assert!(f.len <= m.len() && fields_in_bounds(&f.fields, m.len()));
            }
            let rest = m.get(20..).unwrap_or(&[]);
            if let Ok((f, end)) = decode_legacy_file(rest) {
                assert!(end <= rest.len() && fields_in_bounds(&f.fields, rest.len()));
            }
            assert!(t.elapsed() < Duration::from_millis(200));
        }
        assert!(start.elapsed() < Duration::from_secs(60));
    }
}
