//! A deterministic generator of legacy BITS queue files (qmgr0.dat / qmgr1.dat), assembled from
//! real pieces, for tests and for the fixtures in `testdata/legacy/`.
//!
//! No real Win7 queue with jobs, nor an early-Win10 one, is public; what is public are the pieces
//! (`../shared/samples/legacy/`, see FORMATS §5):
//!
//! - `legacy/win10-early/empty-queue.dat`: a real early-Win10 queue with no jobs. It gives the
//!   preamble (its first 0x18 bytes: a GUID `2832ED09…` and 8 zero bytes) and the footer (the
//!   0x18 bytes at 0x80: the same GUID, the u32 `0x4FD04D6B` and 4 zero bytes);
//! - `legacy/job-records/win7/system-notify-cmd.job` and
//!   `legacy/job-records/win10-early/system-notify-cmd.job`: two real serialized jobs, each
//!   opened and closed by its version's delimiter.
//!
//! The caller reads these files and hands their bytes to [`Pieces::new`], which checks them once;
//! from then on building cannot fail and never panics.
//!
//! # What a built queue holds
//!
//! | part | bytes |
//! |---|---|
//! | preamble | the first 0x10 (Win7 style, [`Preamble::Win7`]) or 0x18 ([`Preamble::EarlyWin10`]) bytes of the empty queue |
//! | headers | FILE_HEADER, QUEUE_HEADER, u32 job count |
//! | jobs | each job record, back to back |
//! | end of the jobs | QUEUE_HEADER |
//! | second section | QUEUE_HEADER, u32 0, QUEUE_HEADER |
//! | closing header | FILE_HEADER |
//! | footer | the empty queue's bytes at 0x80, as many as the preamble has (0x10: just the GUID) |
//! | slack | the deleted jobs ([`QueueSpec::deleted`]) right after the footer, then zeros up to a multiple of 16 KiB (at least 16 KiB) |
//!
//! This is the real empty queue's layout with jobs put where its job count says they go: built
//! with the 0x18 preamble and no jobs, the result is `empty-queue.dat` byte for byte (a test
//! checks it). The Win7 footer is an assumption: the same length as the preamble, like the
//! early-Win10 one; no real Win7 queue is at hand to confirm it.
//!
//! # Distinct jobs from one record
//!
//! A queue of several jobs repeats the real records. Copy 0 ([`JobSpec::real`]) is the record
//! exactly as published. Copy n ≥ 1 ([`JobSpec::copy`]) changes exactly two things:
//!
//! - the job id: the last two stored bytes of the GUID (record offsets 0x2e and 0x2f) become
//!   `00` and `n`, so the canonical id ends in `…-xxxxxxxx00nn` (hex). The real ids end in `2ffc`
//!   (Win7) and `aa37` (early Win10), so no copy has the real id;
//! - the display name (the counted string at record offset 0x30): `" #n"` (n in decimal) is
//!   appended before the terminating NUL, and the u32 unit count in front of it grows by the
//!   suffix's length, so "TTT" becomes "TTT #2" with count 7 instead of 4.
//!
//! Nothing else in a job records a length or an offset that covers the name (fields are read
//! one after the other; the security descriptor is self-relative with its own length, after
//! the name), so every later field simply moves by twice the suffix length and still decodes.
//! The closing delimiter is kept.
//!
//! A qmgr0/qmgr1 pair is two specs over the same pieces, the older copy holding the job list
//! as it was before (see [`FIXTURES`]).

use crate::bits::job::JOB_DELIMITERS;
use crate::bits::legacy::{FILE_HEADER, QUEUE_HEADER};
use crate::util::guid::Guid;
use crate::util::utf16::decode_utf16le;

/// Queue files are a multiple of this size.
pub const BLOCK: usize = 16 * 1024;

/// Where the committed fixtures live, relative to the crate root.
pub const FIXTURE_DIR: &str = "testdata/legacy";

/// The pieces' paths relative to the samples folder (`../shared/samples` or `$BITSCOPE_SAMPLES`).
pub const EMPTY_QUEUE_SAMPLE: &str = "legacy/win10-early/empty-queue.dat";
pub const WIN7_JOB_SAMPLE: &str = "legacy/job-records/win7/system-notify-cmd.job";
pub const WIN10_JOB_SAMPLE: &str = "legacy/job-records/win10-early/system-notify-cmd.job";

/// Layout of the empty queue piece.
const EMPTY_HEADERS_AT: usize = 0x18;
const EMPTY_CLOSING_HEADER_AT: usize = 0x70;
const EMPTY_FOOTER_AT: usize = 0x80;
/// The longest preamble (and footer).
const MAX_PREAMBLE: usize = 0x18;

/// Layout of a job record: delimiter and four u32, the job id, then the name's unit count.
const JOB_ID_AT: usize = 0x20;
const NAME_AT: usize = 0x30;
/// A name longer than this many UTF-16 units is not what the real records hold.
const MAX_NAME_UNITS: u32 = 1024;

/// Why the pieces handed to [`Pieces::new`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenError {
    #[error("empty queue piece: {0}")]
    EmptyQueue(&'static str),
    #[error("{record:?} job record piece: {why}")]
    JobRecord { record: Record, why: &'static str },
}

/// The preamble style: its length decides the offsets of everything after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preamble {
    /// 0x10 bytes: the preamble GUID (Windows 7).
    Win7,
    /// 0x18 bytes: the GUID and 8 more bytes (early Windows 10).
    EarlyWin10,
}

impl Preamble {
    /// The preamble's size in bytes (also the footer's).
    pub const fn size(self) -> usize {
        match self {
            Preamble::Win7 => 0x10,
            Preamble::EarlyWin10 => 0x18,
        }
    }
}

/// Which real job record a job is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Record {
    /// `legacy/job-records/win7/system-notify-cmd.job` (delimiter `93362035…`, "TTT").
    Win7,
    /// `legacy/job-records/win10-early/system-notify-cmd.job` (delimiter `B346ED3D…`, "STST").
    EarlyWin10,
}

impl Record {
    /// The label the decoders give its delimiter.
    pub fn label(self) -> &'static str {
        match self {
            Record::Win7 => JOB_DELIMITERS[0].1,
            Record::EarlyWin10 => JOB_DELIMITERS[3].1,
        }
    }

    fn delimiter(self) -> &'static [u8; 16] {
        match self {
            Record::Win7 => &JOB_DELIMITERS[0].0,
            Record::EarlyWin10 => &JOB_DELIMITERS[3].0,
        }
    }
}

/// One job of a queue: a real record, verbatim (`copy` 0) or as copy n (id and name rewritten,
/// see the module documentation), with `extras` written into it when set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JobSpec {
    pub record: Record,
    pub copy: u8,
    pub extras: Option<LegacyExtras>,
}

/// Settings a job is given beyond its id and name, for the decoders' round trips: they are
/// written where the decoders read them (the error list after the error count, in ANSSI's
/// 25-byte entries; the proxy settings and custom headers from the proxy usage on), every
/// later field moving by the bytes inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LegacyExtras {
    /// (HRESULT, BG_ERROR_CONTEXT) of each error entry: u32 0, HRESULT, 1, context, 3, 0,
    /// then a zero byte.
    pub errors: &'static [(u32, u32)],
    pub proxy_usage: u32,
    pub proxy_list: Option<&'static str>,
    pub proxy_bypass: Option<&'static str>,
    /// The plain size of custom headers, kept in a DPAPI-shaped blob (nothing encrypted);
    /// 0: no custom headers.
    pub headers: u64,
}

impl JobSpec {
    /// The real record, byte for byte.
    pub const fn real(record: Record) -> Self {
        JobSpec {
            record,
            copy: 0,
            extras: None,
        }
    }

    /// Copy `n` of the record: id ending in `00nn`, name with `" #n"` appended (n = 0 is the
    /// real record).
    pub const fn copy(record: Record, n: u8) -> Self {
        JobSpec {
            record,
            copy: n,
            extras: None,
        }
    }

    /// This job with `extras` written into it.
    pub const fn with(self, extras: LegacyExtras) -> Self {
        JobSpec {
            extras: Some(extras),
            ..self
        }
    }
}

/// A real job record cut where the generator changes it.
#[derive(Debug, Clone, Copy)]
struct RecordParts<'a> {
    /// Delimiter and the four u32 (record bytes 0x00..0x20).
    head: &'a [u8],
    /// The job id as stored (0x20..0x30).
    id: [u8; 16],
    /// The name's UTF-16 units without the terminating NUL.
    name: &'a [u8],
    /// The unit count of the name (with its NUL).
    name_units: u32,
    /// Everything from the name's terminating NUL to the end of the record.
    rest: &'a [u8],
}

impl<'a> RecordParts<'a> {
    fn split(record: Record, b: &'a [u8]) -> Result<Self, GenError> {
        let bad = |why| GenError::JobRecord { record, why };
        let delimiter = record.delimiter();
        if !b.starts_with(delimiter) {
            return Err(bad("does not start with its version's job delimiter"));
        }
        if b.len() < NAME_AT + 4 + 2 + 16 || !b.ends_with(delimiter) {
            return Err(bad("does not end with its job delimiter"));
        }
        let head = b.get(..JOB_ID_AT).ok_or(bad("too short"))?;
        let id: [u8; 16] = b
            .get(JOB_ID_AT..NAME_AT)
            .and_then(|s| s.try_into().ok())
            .ok_or(bad("too short for the job id"))?;
        let units =
            crate::util::bytes::u32_le(b, NAME_AT).ok_or(bad("too short for the name count"))?;
        if units == 0 || units > MAX_NAME_UNITS {
            return Err(bad("name count out of range"));
        }
        let name_start = NAME_AT + 4;
        // units ≤ MAX_NAME_UNITS, so this cannot overflow.
        let nul_at = name_start + 2 * (units as usize - 1);
        if nul_at + 2 > b.len() - 16 {
            return Err(bad("name runs into the closing delimiter"));
        }
        if b.get(nul_at..nul_at + 2) != Some(&[0, 0][..]) {
            return Err(bad("name does not end with a NUL"));
        }
        Ok(RecordParts {
            head,
            id,
            name: b.get(name_start..nul_at).ok_or(bad("too short"))?,
            name_units: units,
            rest: b.get(nul_at..).ok_or(bad("too short"))?,
        })
    }

    /// The record as copy `n` with `extras`, and its id and name.
    fn build(&self, n: u8, extras: Option<LegacyExtras>) -> (Vec<u8>, Guid, String) {
        let mut id = self.id;
        let mut name = self.name.to_vec();
        let mut units = self.name_units;
        if n > 0 {
            id[14] = 0;
            id[15] = n;
            let suffix: Vec<u16> = format!(" #{n}").encode_utf16().collect();
            for u in &suffix {
                name.extend_from_slice(&u.to_le_bytes());
            }
            // At most 5 units added to at most MAX_NAME_UNITS.
            units += suffix.len() as u32;
        }
        let mut out = Vec::with_capacity(self.head.len() + 20 + name.len() + self.rest.len());
        out.extend_from_slice(self.head);
        out.extend_from_slice(&id);
        out.extend_from_slice(&units.to_le_bytes());
        out.extend_from_slice(&name);
        out.extend_from_slice(self.rest);
        if let Some(x) = extras {
            out = with_extras(out, &x);
        }
        (out, Guid(id), decode_utf16le(&name))
    }
}

/// `record` with `x` written into it. The places come from the job decoder's field list
/// ("error count", "proxy usage"); a record where they are not found, or whose proxy settings
/// and headers flag are not the empty ones the real records hold, is returned as it is.
fn with_extras(record: Vec<u8>, x: &LegacyExtras) -> Vec<u8> {
    let Ok((lj, _)) = crate::bits::legacy::decode_legacy_job(&record) else {
        return record;
    };
    let at = |name: &str| lj.job.fields.iter().find(|f| f.0 == name).map(|f| f.1);
    let (Some(errors_at), Some(proxy_at)) = (at("error count"), at("proxy usage")) else {
        return record;
    };
    // usage 0, two empty lists, two zero bytes, no headers: 15 bytes.
    let empty = proxy_at
        .checked_add(15)
        .and_then(|end| record.get(proxy_at + 4..end))
        .is_some_and(|b| b.iter().all(|&v| v == 0));
    if !empty || lj.job.error_count != Some(0) || errors_at >= proxy_at {
        return record;
    }
    let extras = crate::gen::blobs::JobExtras {
        proxy_usage: x.proxy_usage,
        proxy_list: x.proxy_list.map(str::to_string),
        proxy_bypass: x.proxy_bypass.map(str::to_string),
        custom_headers: (x.headers > 0).then(|| {
            let mut rng = crate::util::rng::Rng::new(x.headers);
            crate::gen::blobs::HeadersSpec {
                plain_size: x.headers,
                dpapi: crate::gen::blobs::dpapi_blob(
                    &mut rng,
                    "BITS Job Custom headers",
                    [0x42; 16],
                    x.headers,
                ),
            }
        }),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(record.len() + 512);
    out.extend_from_slice(&record[..errors_at]);
    out.extend_from_slice(&(x.errors.len() as u32).to_le_bytes());
    for (hresult, context) in x.errors {
        for w in [0u32, *hresult, 1, *context, 3, 0] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.push(0);
    }
    out.extend_from_slice(&record[errors_at + 4..proxy_at]);
    crate::gen::blobs::put_proxy_and_headers(&mut out, &extras);
    out.extend_from_slice(&record[proxy_at + 15..]);
    out
}

/// The real pieces a queue is built from, checked once by [`Pieces::new`].
#[derive(Debug, Clone, Copy)]
pub struct Pieces<'a> {
    preamble: [u8; MAX_PREAMBLE],
    footer: [u8; MAX_PREAMBLE],
    win7: RecordParts<'a>,
    win10: RecordParts<'a>,
}

impl<'a> Pieces<'a> {
    /// Check the pieces: `empty_queue` must be laid out as `empty-queue.dat` is (FILE_HEADER and
    /// QUEUE_HEADER at 0x18, FILE_HEADER at 0x70, 0x18 footer bytes at 0x80); each job record must
    /// start and end with its version's delimiter and hold a NUL-terminated name at 0x30.
    pub fn new(
        empty_queue: &'a [u8],
        win7_job: &'a [u8],
        win10_job: &'a [u8],
    ) -> Result<Self, GenError> {
        let mut headers = [0u8; 32];
        headers[..16].copy_from_slice(&FILE_HEADER);
        headers[16..].copy_from_slice(&QUEUE_HEADER);
        if empty_queue.get(EMPTY_HEADERS_AT..EMPTY_HEADERS_AT + 32) != Some(&headers[..]) {
            return Err(GenError::EmptyQueue(
                "FILE_HEADER + QUEUE_HEADER not at 0x18",
            ));
        }
        if empty_queue.get(EMPTY_CLOSING_HEADER_AT..EMPTY_CLOSING_HEADER_AT + 16)
            != Some(&FILE_HEADER[..])
        {
            return Err(GenError::EmptyQueue("closing FILE_HEADER not at 0x70"));
        }
        let preamble = empty_queue
            .get(..MAX_PREAMBLE)
            .and_then(|s| s.try_into().ok())
            .ok_or(GenError::EmptyQueue("too short for the preamble"))?;
        let footer = empty_queue
            .get(EMPTY_FOOTER_AT..EMPTY_FOOTER_AT + MAX_PREAMBLE)
            .and_then(|s| s.try_into().ok())
            .ok_or(GenError::EmptyQueue("too short for the footer"))?;
        Ok(Pieces {
            preamble,
            footer,
            win7: RecordParts::split(Record::Win7, win7_job)?,
            win10: RecordParts::split(Record::EarlyWin10, win10_job)?,
        })
    }

    /// The bytes of one job as the generator writes it.
    pub fn job(&self, job: JobSpec) -> Vec<u8> {
        self.parts(job.record).build(job.copy, job.extras).0
    }

    fn parts(&self, record: Record) -> &RecordParts<'a> {
        match record {
            Record::Win7 => &self.win7,
            Record::EarlyWin10 => &self.win10,
        }
    }
}

/// What to build.
#[derive(Debug, Clone, Copy)]
pub struct QueueSpec<'a> {
    pub pieces: Pieces<'a>,
    pub preamble: Preamble,
    /// The live jobs, in order; the job count says how many.
    pub jobs: &'a [JobSpec],
    /// Deleted jobs: whole records written into the slack right after the footer, where an
    /// older, longer state of the queue would have left them. No live structure points at them.
    pub deleted: &'a [JobSpec],
}

/// Where a job was put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedJob {
    pub spec: JobSpec,
    /// Offset of the job's opening delimiter in the file.
    pub offset: usize,
    /// Length through the closing delimiter.
    pub len: usize,
    pub job_id: Guid,
    pub name: String,
}

/// A built queue and where everything in it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltQueue {
    pub bytes: Vec<u8>,
    /// Offset of FILE_HEADER (the preamble's size).
    pub header_offset: usize,
    pub jobs: Vec<PlacedJob>,
    /// Offset of the QUEUE_HEADER that ends the job list.
    pub end_of_jobs: usize,
    /// The footer after the closing FILE_HEADER: offset, length.
    pub footer: (usize, usize),
    /// Everything after the footer to the end of the file: offset, length.
    pub slack: (usize, usize),
    /// The deleted jobs in the slack.
    pub deleted: Vec<PlacedJob>,
}

/// Build a whole queue file. Same spec, same bytes.
pub fn build_queue(spec: &QueueSpec) -> Vec<u8> {
    build_queue_layout(spec).bytes
}

/// Build a whole queue file and say where each part went.
pub fn build_queue_layout(spec: &QueueSpec) -> BuiltQueue {
    let pre = spec.preamble.size();
    let mut b = Vec::with_capacity(BLOCK);
    b.extend_from_slice(&spec.pieces.preamble[..pre]);
    b.extend_from_slice(&FILE_HEADER);
    b.extend_from_slice(&QUEUE_HEADER);
    // A job list longer than u32::MAX cannot be built in memory anyway.
    b.extend_from_slice(
        &u32::try_from(spec.jobs.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    let jobs = place(&mut b, spec.pieces, spec.jobs);
    let end_of_jobs = b.len();
    b.extend_from_slice(&QUEUE_HEADER);
    b.extend_from_slice(&QUEUE_HEADER);
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&QUEUE_HEADER);
    b.extend_from_slice(&FILE_HEADER);
    let footer = (b.len(), pre);
    b.extend_from_slice(&spec.pieces.footer[..pre]);
    let slack_at = b.len();
    let deleted = place(&mut b, spec.pieces, spec.deleted);
    b.resize(b.len().div_ceil(BLOCK).max(1) * BLOCK, 0);
    BuiltQueue {
        header_offset: pre,
        jobs,
        end_of_jobs,
        footer,
        slack: (slack_at, b.len() - slack_at),
        deleted,
        bytes: b,
    }
}

fn place(b: &mut Vec<u8>, pieces: Pieces, jobs: &[JobSpec]) -> Vec<PlacedJob> {
    jobs.iter()
        .map(|&spec| {
            let (bytes, job_id, name) = pieces.parts(spec.record).build(spec.copy, spec.extras);
            let offset = b.len();
            b.extend_from_slice(&bytes);
            PlacedJob {
                spec,
                offset,
                len: bytes.len(),
                job_id,
                name,
            }
        })
        .collect()
}

/// A committed fixture: a file in [`FIXTURE_DIR`] and the spec it is built from.
#[derive(Debug, Clone, Copy)]
pub struct Fixture {
    pub file: &'static str,
    pub preamble: Preamble,
    pub jobs: &'static [JobSpec],
    pub deleted: &'static [JobSpec],
    pub about: &'static str,
}

impl Fixture {
    pub fn spec<'a>(&self, pieces: Pieces<'a>) -> QueueSpec<'a> {
        QueueSpec {
            pieces,
            preamble: self.preamble,
            jobs: self.jobs,
            deleted: self.deleted,
        }
    }
}

const W7: JobSpec = JobSpec::real(Record::Win7);
const W7_2: JobSpec = JobSpec::copy(Record::Win7, 2);
const W10: JobSpec = JobSpec::real(Record::EarlyWin10);
const W10_2: JobSpec = JobSpec::copy(Record::EarlyWin10, 2);
const W10_3: JobSpec = JobSpec::copy(Record::EarlyWin10, 3);

/// The fixtures in `testdata/legacy/` (see `testdata/README.md`). Regenerate them with
/// `cargo test --release --lib bits::legacy_gen -- --ignored regenerate_legacy_fixtures`.
pub const FIXTURES: &[Fixture] = &[
    Fixture {
        file: "win7-0jobs.dat",
        preamble: Preamble::Win7,
        jobs: &[],
        deleted: &[],
        about: "Win7-style queue (0x10 preamble) with no jobs",
    },
    Fixture {
        file: "win7-1job.qmgr0.dat",
        preamble: Preamble::Win7,
        jobs: &[W7],
        deleted: &[],
        about: "Win7-style queue, the real Win7 job record",
    },
    Fixture {
        file: "win7-deleted.qmgr0.dat",
        preamble: Preamble::Win7,
        jobs: &[W7],
        deleted: &[W7_2],
        about: "Win7-style queue after job \"TTT #2\" was deleted: one live job, the deleted one whole in the slack",
    },
    Fixture {
        file: "win7-deleted.qmgr1.dat",
        preamble: Preamble::Win7,
        jobs: &[W7, W7_2],
        deleted: &[],
        about: "the older copy of win7-deleted: both jobs still live",
    },
    Fixture {
        file: "win10early-3jobs.qmgr0.dat",
        preamble: Preamble::EarlyWin10,
        jobs: &[W10, W10_2, W10_3],
        deleted: &[],
        about: "early-Win10 queue (0x18 preamble), three jobs from the real early-Win10 record",
    },
    Fixture {
        file: "win10early-3jobs.qmgr1.dat",
        preamble: Preamble::EarlyWin10,
        jobs: &[W10, W10_2],
        deleted: &[],
        about: "the older copy of win10early-3jobs: the first two jobs",
    },
    Fixture {
        file: "win10early-mixed-2jobs.dat",
        preamble: Preamble::EarlyWin10,
        jobs: &[W10, W7],
        deleted: &[],
        about: "early-Win10 queue holding one job of each version, each with its own delimiter",
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bits::job::test_support::{mutate, sample, Rng};
    use crate::bits::legacy::{decode_legacy_job, decode_legacy_queue};
    use std::path::PathBuf;

    struct Samples {
        empty: Vec<u8>,
        w7: Vec<u8>,
        w10: Vec<u8>,
    }

    impl Samples {
        fn load() -> Option<Samples> {
            Some(Samples {
                empty: sample(EMPTY_QUEUE_SAMPLE)?,
                w7: sample(WIN7_JOB_SAMPLE)?,
                w10: sample(WIN10_JOB_SAMPLE)?,
            })
        }

        fn pieces(&self) -> Pieces<'_> {
            Pieces::new(&self.empty, &self.w7, &self.w10).expect("the real pieces are valid")
        }
    }

    fn fixture_path(file: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(FIXTURE_DIR)
            .join(file)
    }

    #[test]
    fn copy_zero_is_the_real_record() {
        let Some(s) = Samples::load() else { return };
        let p = s.pieces();
        assert_eq!(p.job(JobSpec::real(Record::Win7)), s.w7);
        assert_eq!(p.job(JobSpec::real(Record::EarlyWin10)), s.w10);
    }

    #[test]
    fn the_real_empty_queue_is_rebuilt_byte_for_byte() {
        let Some(s) = Samples::load() else { return };
        let spec = QueueSpec {
            pieces: s.pieces(),
            preamble: Preamble::EarlyWin10,
            jobs: &[],
            deleted: &[],
        };
        assert_eq!(build_queue(&spec), s.empty);
    }

    #[test]
    fn same_spec_same_bytes() {
        let Some(s) = Samples::load() else { return };
        let p = s.pieces();
        for f in FIXTURES {
            assert_eq!(
                build_queue(&f.spec(p)),
                build_queue(&f.spec(p)),
                "{}",
                f.file
            );
        }
    }

    /// Errors (25-byte entries), proxy settings and custom headers written into copies of both
    /// real records decode to what was written, and every field after them still decodes.
    #[test]
    fn extras_round_trip_in_both_versions() {
        use crate::bits::job::ErrorLayout;
        const X: LegacyExtras = LegacyExtras {
            errors: &[(0x8019_0194, 5), (0x8007_2EE7, 6)],
            proxy_usage: 2,
            proxy_list: Some("proxy1.corp.example:8080"),
            proxy_bypass: Some("<local>"),
            headers: 104,
        };
        let Some(s) = Samples::load() else { return };
        let p = s.pieces();
        for (record, _) in [
            (Record::Win7, Preamble::Win7),
            (Record::EarlyWin10, Preamble::EarlyWin10),
        ] {
            let plain = decode_legacy_job(&p.job(JobSpec::copy(record, 4)))
                .expect("decodes")
                .0
                .job;
            let spec = JobSpec::copy(record, 4).with(X);
            let b = p.job(spec);
            let (lj, len) = decode_legacy_job(&b).expect("decodes");
            let j = &lj.job;
            assert!(j.closed && j.stopped.is_none(), "{:?}", j.warnings);
            assert_eq!(len, b.len());
            assert_eq!(j.error_layout, Some(ErrorLayout::Fixed25));
            let got: Vec<(Option<u32>, Option<u32>, usize)> = j
                .errors
                .iter()
                .map(|e| (e.hresult(), e.context(), e.len))
                .collect();
            assert_eq!(
                got,
                [
                    (Some(0x8019_0194), Some(5), 25),
                    (Some(0x8007_2EE7), Some(6), 25)
                ]
            );
            assert_eq!(j.proxy_usage, Some(2));
            assert_eq!(j.proxy_list.as_deref(), Some("proxy1.corp.example:8080"));
            assert_eq!(j.proxy_bypass.as_deref(), Some("<local>"));
            assert_eq!(j.custom_headers_size, Some(104));
            for (a, b) in [
                (j.created, plain.created),
                (j.modified, plain.modified),
                (j.expiration, plain.expiration),
            ] {
                assert_eq!(a, b);
            }
            assert_eq!(
                (j.security_flags, j.max_download_time, j.cost_flags),
                (
                    plain.security_flags,
                    plain.max_download_time,
                    plain.cost_flags
                )
            );
            assert_eq!(
                lj.files,
                decode_legacy_job(&p.job(JobSpec::copy(record, 4)))
                    .expect("decodes")
                    .0
                    .files
            );

            // Through the pipeline, as BitsInfo: tests/gen_all_fields.rs (the pipeline is a
            // layer above the generator).
        }
    }

    /// A copy differs from the real record only in the id's last two bytes and the name; every
    /// other field decodes to the same value, moved by the suffix's length.
    #[test]
    fn copies_keep_every_length_consistent() {
        let Some(s) = Samples::load() else { return };
        let p = s.pieces();
        for (record, real, name) in [
            (Record::Win7, &s.w7, "TTT"),
            (Record::EarlyWin10, &s.w10, "STST"),
        ] {
            let (orig, _) = decode_legacy_job(real).expect("real record decodes");
            for n in [1u8, 2, 9, 10, 255] {
                let b = p.job(JobSpec::copy(record, n));
                let suffix = format!(" #{n}");
                assert_eq!(b.len(), real.len() + 2 * suffix.len());
                let (lj, len) = decode_legacy_job(&b).expect("copy decodes");
                let j = &lj.job;
                assert_eq!(len, b.len());
                assert!(j.closed && j.stopped.is_none(), "{:?}", j.stopped);
                assert_eq!(j.warnings, orig.job.warnings);
                assert_eq!(j.name.as_deref(), Some(format!("{name}{suffix}").as_str()));
                let mut id = orig.job.job_id;
                id.0[14] = 0;
                id.0[15] = n;
                assert_eq!(j.job_id, id);
                assert_ne!(j.job_id, orig.job.job_id);
                // Everything else as in the real record.
                assert_eq!(
                    (
                        &j.description,
                        &j.notify_command,
                        &j.notify_arguments,
                        &j.owner_sid,
                        j.notify_flags,
                        j.file_count,
                        j.created,
                        j.modified,
                        j.expiration,
                        j.max_download_time,
                        j.cost_flags
                    ),
                    (
                        &orig.job.description,
                        &orig.job.notify_command,
                        &orig.job.notify_arguments,
                        &orig.job.owner_sid,
                        orig.job.notify_flags,
                        orig.job.file_count,
                        orig.job.created,
                        orig.job.modified,
                        orig.job.expiration,
                        orig.job.max_download_time,
                        orig.job.cost_flags
                    )
                );
                let shift = 2 * suffix.len();
                assert_eq!(
                    j.security_descriptor.map(|(o, l)| (o - shift, l)),
                    orig.job.security_descriptor
                );
                assert_eq!(lj.files.len(), orig.files.len());
                for (f, g) in lj.files.iter().zip(&orig.files) {
                    assert_eq!(
                        (&f.destination, &f.url, &f.temp_path, f.bytes_transferred),
                        (&g.destination, &g.url, &g.temp_path, g.bytes_transferred)
                    );
                    assert_eq!((f.total_bytes, f.file_size), (g.total_bytes, g.file_size));
                }
            }
        }
    }

    /// Every fixture decodes with bitscope's legacy decoder to what the generator says it put
    /// there: job count, offsets, ids, names; the deleted jobs decode where the slack holds them.
    #[test]
    fn fixtures_decode_as_built() {
        let Some(s) = Samples::load() else { return };
        let p = s.pieces();
        for f in FIXTURES {
            let built = build_queue_layout(&f.spec(p));
            let b = &built.bytes;
            assert!(b.len() % BLOCK == 0 && (BLOCK..=4 * BLOCK).contains(&b.len()));
            let q = decode_legacy_queue(b).expect("decodes");
            assert!(q.warnings.is_empty(), "{}: {:?}", f.file, q.warnings);
            assert_eq!(q.header_offset, f.preamble.size());
            assert_eq!(q.job_count as usize, f.jobs.len());
            assert_eq!(q.jobs.len(), f.jobs.len());
            for (d, placed) in q.jobs.iter().zip(&built.jobs) {
                assert_eq!((d.offset, d.job.len), (placed.offset, placed.len));
                assert_eq!(d.job.job_id, placed.job_id);
                assert_eq!(d.job.name.as_deref(), Some(placed.name.as_str()));
                assert!(d.job.closed && d.job.stopped.is_none());
                assert_eq!(d.files.len(), 1);
            }
            assert_eq!(q.second_section_value, Some(0));
            assert_eq!(q.footer, Some(built.footer));
            assert_eq!(q.slack, Some(built.slack));
            for d in &built.deleted {
                let (lj, len) = decode_legacy_job(&b[d.offset..]).expect("deleted job decodes");
                assert_eq!((len, lj.job.job_id), (d.len, d.job_id));
                assert_eq!(lj.job.name.as_deref(), Some(d.name.as_str()));
                assert!(d.offset >= built.slack.0);
            }
        }
    }

    /// Pieces that are not what they should be are refused, never a panic; whatever is
    /// accepted builds a queue that decodes.
    #[test]
    fn bad_pieces_are_errors() {
        let Some(s) = Samples::load() else { return };
        assert!(matches!(
            Pieces::new(&s.w7, &s.w7, &s.w10),
            Err(GenError::EmptyQueue(_))
        ));
        assert!(matches!(
            Pieces::new(&s.empty, &s.w10, &s.w7),
            Err(GenError::JobRecord {
                record: Record::Win7,
                ..
            })
        ));
        assert!(Pieces::new(&s.empty[..0x90], &s.w7, &s.w10).is_err());
        assert!(Pieces::new(&s.empty, &s.w7[..s.w7.len() - 1], &s.w10).is_err());
        assert!(Pieces::new(&[], &[], &[]).is_err());
        let mut rng = Rng::new(0x1e6a_c79e_4e00_0001);
        for i in 0..3000 {
            let (mut e, mut a, mut b) = (s.empty.clone(), s.w7.clone(), s.w10.clone());
            match i % 3 {
                0 => e = mutate(&mut rng, &e),
                1 => a = mutate(&mut rng, &a),
                _ => b = mutate(&mut rng, &b),
            }
            if let Ok(p) = Pieces::new(&e, &a, &b) {
                let spec = QueueSpec {
                    pieces: p,
                    preamble: Preamble::Win7,
                    jobs: &[W7, W10_2],
                    deleted: &[W7_2],
                };
                let built = build_queue_layout(&spec);
                assert!(built.bytes.len() % BLOCK == 0);
                assert!(built
                    .jobs
                    .iter()
                    .chain(&built.deleted)
                    .all(|j| j.offset + j.len <= built.bytes.len()));
            }
        }
    }

    /// The committed fixtures are exactly what the generator makes now, so they cannot drift.
    #[test]
    fn committed_fixtures_match_the_generator() {
        let Some(s) = Samples::load() else { return };
        let p = s.pieces();
        for f in FIXTURES {
            let path = fixture_path(f.file);
            let committed = std::fs::read(&path).unwrap_or_else(|e| {
                panic!(
                    "{}: {e}; regenerate with `cargo test --release --lib bits::legacy_gen -- --ignored regenerate_legacy_fixtures`",
                    path.display()
                )
            });
            assert!(
                committed == build_queue(&f.spec(p)),
                "{} differs from what the generator builds now; regenerate it",
                path.display()
            );
        }
    }

    /// Writes the fixtures into `testdata/legacy/` and prints the table for `testdata/README.md`.
    #[test]
    #[ignore = "writes testdata/legacy/; run by hand to regenerate the fixtures"]
    fn regenerate_legacy_fixtures() {
        let s = Samples::load().expect("the samples are needed to regenerate the fixtures");
        let p = s.pieces();
        let dir = fixture_path("");
        std::fs::create_dir_all(&dir).expect("create testdata/legacy");
        println!("| file | bytes | preamble | live jobs (offset, length: name, id) | slack |");
        println!("|---|---|---|---|---|");
        for f in FIXTURES {
            let built = build_queue_layout(&f.spec(p));
            std::fs::write(dir.join(f.file), &built.bytes).expect("write fixture");
            let list = |jobs: &[PlacedJob]| {
                jobs.iter()
                    .map(|j| format!("{:#x}, {}: \"{}\" `{}`", j.offset, j.len, j.name, j.job_id))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let jobs = if built.jobs.is_empty() {
                "none".to_string()
            } else {
                format!("{}: {}", built.jobs.len(), list(&built.jobs))
            };
            let slack = if built.deleted.is_empty() {
                format!("{:#x}.., zeros", built.slack.0)
            } else {
                format!(
                    "{:#x}..; deleted job {}; then zeros",
                    built.slack.0,
                    list(&built.deleted)
                )
            };
            println!(
                "| `{}` | {} | {:#x} | {} | {} |",
                f.file,
                built.bytes.len(),
                f.preamble.size(),
                jobs,
                slack
            );
        }
    }
}
