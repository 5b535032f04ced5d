//! The legacy BITS queue: qmgr0.dat / qmgr1.dat (Windows XP to early Windows 10).
//!
//! # Layout
//!
//! Offsets of `legacy/win10-early/empty-queue.dat` (16,384 bytes, no jobs):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0x00 | 0x18 | preamble: a GUID (`2832ED09…`) and 8 bytes; 0x10 bytes (the GUID) on Windows 7 |
//! | 0x18 | 16 | FILE_HEADER `13F72BC8…` |
//! | 0x28 | 16 | QUEUE_HEADER `47445F00…` |
//! | 0x38 | 4 | job count |
//! | 0x3c | … | the jobs, each opened and closed by its version's delimiter (see below) |
//! | 0x3c | 16 | QUEUE_HEADER (end of the jobs) |
//! | 0x4c | 16+4+16 | a second section: QUEUE_HEADER, u32 (0), QUEUE_HEADER |
//! | 0x70 | 16 | FILE_HEADER |
//! | 0x80 | preamble size | footer: the preamble GUID again and a u32 (`0x4FD04D6B`) |
//! | 0x98 | … | slack up to the file size (16 KiB multiples): older queue bytes, a carving area |
//!
//! The preamble size is not assumed: the decoder looks for FILE_HEADER followed by QUEUE_HEADER.
//!
//! A job (`legacy/job-records/win7/system-notify-cmd.job`, 1,980 bytes) is laid out as in
//! `job.rs` from the marker to the custom headers, with two differences: the marker is one of the
//! job delimiters ([`crate::bits::job::JOB_DELIMITERS`]), which also closes the job, and the XFER
//! section holds full file records (`file.rs`) instead of GUIDs:
//!
//! | offset (Win7) | size | field |
//! |---|---|---|
//! | 0x000 | 16 | job delimiter (Win7 `93362035…`) |
//! | 0x010 | 16 | type, priority, state, unknown |
//! | 0x020 | 16 | job id |
//! | 0x030 | … | name, description, notify command, notify arguments, owner SID (`S-1-5-18`) |
//! | 0x09a | 4 | notify flags |
//! | 0x09e | 24+1144 | security area: five u32, descriptor length, descriptor |
//! | 0x52e | 16 | XFER marker |
//! | 0x53e | 4 | file count |
//! | 0x542 | … | file records |
//! | 0x718 | 16 | XFER marker |
//! | 0x728 | … | errors, counts, times, expiration, proxy settings, custom headers flag |
//! | 0x780 | 44 | settings: maximum download time at +0x20 (cost flags at +0x2c when longer); the rest is kept as the trailer |
//! | 0x7ac | 16 | closing job delimiter |

use crate::bits::file::FileRecord;
use crate::bits::job::{self, Flavor, JobRecord};
use crate::bits::reader::{find, DecodeError, Diagnostic};
use crate::util::guid::Guid;

pub const FILE_HEADER: [u8; 16] = [
    0x13, 0xF7, 0x2B, 0xC8, 0x40, 0x99, 0x12, 0x4A, 0x9F, 0x1A, 0x3A, 0xAE, 0xBD, 0x89, 0x4E, 0xEA,
];
pub const QUEUE_HEADER: [u8; 16] = [
    0x47, 0x44, 0x5F, 0x00, 0xA9, 0xBD, 0xBA, 0x44, 0x98, 0x51, 0xC4, 0x7B, 0xB6, 0xC0, 0x7A, 0xCE,
];
/// How far into the file the headers are looked for.
const HEADER_SEARCH: usize = 4096;
/// The smallest possible job (delimiters, header, five strings, XFER section, metadata) is far
/// larger than this; it bounds the job count by the bytes present.
const MIN_JOB: usize = 128;

/// One job of a legacy queue, with its file records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyJob {
    /// Offset of the job's opening delimiter in the buffer decoded.
    pub offset: usize,
    /// The job fields; `job.marker` is the delimiter and `job.len` the job's length.
    pub job: JobRecord,
    pub files: Vec<FileRecord>,
}

/// A decoded queue file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LegacyQueue {
    /// Offset of FILE_HEADER, i.e. the preamble's size.
    pub header_offset: usize,
    /// The GUID that opens the preamble (and reappears in the footer).
    pub preamble_guid: Option<Guid>,
    pub job_count: u32,
    pub jobs: Vec<LegacyJob>,
    /// The u32 between the QUEUE_HEADERs of the second section.
    pub second_section_value: Option<u32>,
    /// Footer after the closing FILE_HEADER: offset, length.
    pub footer: Option<(usize, usize)>,
    /// The rest of the file after the footer (deleted jobs may be there): offset, length.
    pub slack: Option<(usize, usize)>,
    pub warnings: Vec<Diagnostic>,
}

/// Does `head` (a file's first bytes) start like a queue file: FILE_HEADER followed by
/// QUEUE_HEADER within the first 4096 bytes, then room for the job count? Reads nothing else,
/// so a large file that is not a queue is told apart by its header alone.
pub fn is_legacy_queue(head: &[u8]) -> bool {
    let mut both = [0u8; 32];
    both[..16].copy_from_slice(&FILE_HEADER);
    both[16..].copy_from_slice(&QUEUE_HEADER);
    find(head, &both, 0, HEADER_SEARCH).is_some_and(|h| head.len().saturating_sub(h) >= 36)
}

/// Decode a legacy queue file.
///
/// Errors only when FILE_HEADER followed by QUEUE_HEADER is not found near the start, or the job
/// count is cut off; jobs that do not decode are reported in the warnings and skipped when their
/// closing delimiter can be found.
pub fn decode_legacy_queue(buf: &[u8]) -> Result<LegacyQueue, DecodeError> {
    let mut q = LegacyQueue::default();
    let mut both = [0u8; 32];
    both[..16].copy_from_slice(&FILE_HEADER);
    both[16..].copy_from_slice(&QUEUE_HEADER);
    let Some(h) = find(buf, &both, 0, HEADER_SEARCH) else {
        return Err(DecodeError::Missing {
            what: "FILE_HEADER + QUEUE_HEADER",
            offset: 0,
        });
    };
    q.header_offset = h;
    if h != 0x10 && h != 0x18 {
        q.warnings.push(Diagnostic::at(
            h,
            format!("preamble is {h:#x} bytes, not 0x10 (Win7) or 0x18 (early Win10)"),
        ));
    }
    q.preamble_guid = buf.get(..16).filter(|_| h >= 16).and_then(Guid::from_slice);
    // Offsets within `buf` (found in it, or past a field read from it): the sums below cannot
    // overflow.
    let count_at = h.saturating_add(32);
    let count = crate::util::bytes::u32_le(buf, count_at).ok_or(DecodeError::Truncated {
        what: "job count",
        offset: count_at,
        need: 4,
        have: buf.len().saturating_sub(count_at),
    })?;
    q.job_count = count;
    let mut pos = count_at.saturating_add(4);
    let fits = buf.len().saturating_sub(pos) / MIN_JOB;
    if count as usize > fits {
        q.warnings.push(Diagnostic::at(
            count_at,
            format!(
                "job count {count} is more than the {} bytes after it can hold",
                buf.len().saturating_sub(pos)
            ),
        ));
    }

    // Each job carries its own delimiter: a queue rewritten by a newer BITS may mix versions.
    for i in 0..count.min(u32::try_from(fits).unwrap_or(u32::MAX)) {
        if buf.get(pos..).is_some_and(|r| r.starts_with(&QUEUE_HEADER)) {
            q.warnings.push(Diagnostic::at(
                pos,
                format!("job list ends after {i} of {count} jobs"),
            ));
            break;
        }
        match job::decode_job_at(buf, pos, Flavor::Legacy) {
            Ok((job, files)) => {
                let len = job.len;
                let closed = job.closed;
                if let Some(e) = &job.stopped {
                    q.warnings
                        .push(Diagnostic::at(pos, format!("job {i}: {e}")));
                }
                q.jobs.push(LegacyJob {
                    offset: pos,
                    job,
                    files,
                });
                if !closed {
                    q.warnings.push(Diagnostic::at(
                        pos,
                        format!("job {i} has no closing delimiter; job list abandoned"),
                    ));
                    break;
                }
                pos = pos.saturating_add(len);
            }
            Err(e) => {
                q.warnings.push(Diagnostic::at(
                    pos,
                    format!("job {i}: {e}; job list abandoned"),
                ));
                break;
            }
        }
    }

    // The closing QUEUE_HEADER, the second section and the footer. When the job list was
    // abandoned these are looked for, so the footer and slack are still found.
    let after_jobs = if buf.get(pos..).is_some_and(|r| r.starts_with(&QUEUE_HEADER)) {
        Some(pos)
    } else {
        let at = find(buf, &QUEUE_HEADER, pos, usize::MAX);
        if let Some(at) = at {
            q.warnings.push(Diagnostic::at(
                at,
                format!("end of the job list found by search, not at {pos}"),
            ));
        }
        at
    };
    let Some(end) = after_jobs else {
        q.warnings
            .push(Diagnostic::at(pos, "no QUEUE_HEADER after the jobs"));
        return Ok(q);
    };
    pos = end.saturating_add(16);
    let second = buf.get(pos..).and_then(|r| {
        let v = crate::util::bytes::u32_le(r, 16)?;
        (r.starts_with(&QUEUE_HEADER) && r.get(20..36) == Some(&QUEUE_HEADER[..])).then_some(v)
    });
    match second {
        Some(v) => {
            q.second_section_value = Some(v);
            pos = pos.saturating_add(36);
        }
        None => q.warnings.push(Diagnostic::at(
            pos,
            "second section (QUEUE_HEADER u32 QUEUE_HEADER) not here",
        )),
    }
    if buf.get(pos..).is_some_and(|r| r.starts_with(&FILE_HEADER)) {
        let footer = pos.saturating_add(16);
        let len = h.min(buf.len().saturating_sub(footer));
        q.footer = Some((footer, len));
        if q.preamble_guid.is_some() && crate::util::bytes::slice(buf, footer, 16) != buf.get(..16)
        {
            q.warnings.push(Diagnostic::at(
                footer,
                "footer does not repeat the preamble GUID",
            ));
        }
        let slack = footer.saturating_add(len);
        if let Some(n) = buf.len().checked_sub(slack).filter(|&n| n > 0) {
            q.slack = Some((slack, n));
        }
    } else {
        q.warnings
            .push(Diagnostic::at(pos, "closing FILE_HEADER not here"));
    }
    Ok(q)
}

/// Decode one legacy job starting with its delimiter at the start of `buf`; returns the job and
/// the bytes it takes (through the closing delimiter when found).
///
/// Errors only when `buf` does not start with a known delimiter followed by the 32 header bytes.
pub fn decode_legacy_job(buf: &[u8]) -> Result<(LegacyJob, usize), DecodeError> {
    let (job, files) = job::decode_job_at(buf, 0, Flavor::Legacy)?;
    let len = job.len;
    Ok((
        LegacyJob {
            offset: 0,
            job,
            files,
        },
        len,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bits::job::test_support::{fields_in_bounds, mutate, sample, Rng};
    use std::time::{Duration, Instant};

    const WIN7: &str = "legacy/job-records/win7/system-notify-cmd.job";
    const WIN10: &str = "legacy/job-records/win10-early/system-notify-cmd.job";
    const EMPTY: &str = "legacy/win10-early/empty-queue.dat";

    /// A whole queue around real job records, the way BITS lays one out: the empty queue's
    /// preamble (`pre` bytes of it), the headers, the jobs, both closing sections, the footer
    /// and zero slack up to 16 KiB.
    fn queue(empty: &[u8], pre: usize, jobs: &[&[u8]]) -> Vec<u8> {
        let mut q = empty[..pre].to_vec();
        q.extend_from_slice(&FILE_HEADER);
        q.extend_from_slice(&QUEUE_HEADER);
        q.extend_from_slice(&(jobs.len() as u32).to_le_bytes());
        for j in jobs {
            q.extend_from_slice(j);
        }
        q.extend_from_slice(&QUEUE_HEADER);
        q.extend_from_slice(&QUEUE_HEADER);
        q.extend_from_slice(&0u32.to_le_bytes());
        q.extend_from_slice(&QUEUE_HEADER);
        q.extend_from_slice(&FILE_HEADER);
        q.extend_from_slice(&empty[0x80..0x80 + pre]);
        q.resize(q.len().div_ceil(16384) * 16384, 0);
        q
    }

    fn iso(t: Option<u64>) -> String {
        JobRecord::iso(t)
    }

    #[test]
    fn win7_job_record() {
        let Some(b) = sample(WIN7) else { return };
        let (lj, len) = decode_legacy_job(&b).expect("decodes");
        let j = &lj.job;
        assert_eq!(len, b.len());
        assert!(j.closed && j.stopped.is_none(), "{:?}", j.warnings);
        assert_eq!(j.marker_label, "Windows 7");
        assert_eq!(j.job_id.to_string(), "81120ac0-35b5-49ef-9c1a-0ee3d5572ffc");
        assert_eq!(j.name.as_deref(), Some("TTT"));
        assert_eq!(j.owner_sid.as_deref(), Some("S-1-5-18"));
        assert_eq!(
            j.notify_command.as_deref(),
            Some(r"c:\windows\system32\cmd.exe")
        );
        assert_eq!(j.notify_arguments.as_deref(), Some(""));
        assert_eq!(j.notify_flags, Some(3));
        assert_eq!((j.type_at_16, j.priority, j.state), (0, 2, 0));
        assert_eq!(j.security_descriptor, Some((0xb6, 1144)));
        assert_eq!(
            (j.retry_delay, j.no_progress_timeout),
            (Some(600), Some(1_209_600))
        );
        // ANSSI bits_parser 1.0.1 on a queue built around this record: ctime 2017-03-06
        // 11:12:58.864298, mtime 11:55:00.092504, other_time2 2017-06-04 11:55:00.092504.
        assert_eq!(iso(j.created), "2017-03-06T11:12:58.864Z");
        assert_eq!(iso(j.modified), "2017-03-06T11:55:00.092Z");
        assert_eq!(j.completed, Some(0));
        assert_eq!(iso(j.expiration), "2017-06-04T11:55:00.092Z");
        assert_eq!(j.max_download_time, Some(7_776_000));
        assert_eq!(j.cost_flags, None);
        assert_eq!(j.trailer, Some((0x7a4, 8)));
        assert_eq!(lj.files.len(), 1);
        let f = &lj.files[0];
        assert_eq!(f.destination.as_deref(), Some(r"c:\temp\_bits2\vlc3.exe"));
        assert_eq!(
            f.url.as_deref(),
            Some("http://mirror.isoc.org.il/pub/videolan/vlc/2.2.4/win64/vlc-2.2.4-win64.exe")
        );
        assert_eq!(f.temp_path.as_deref(), Some(r"c:\temp\_bits2\BIT36BE.tmp"));
        assert_eq!((f.bytes_transferred, f.total_known()), (Some(0), None));
        assert_eq!(f.drive.as_deref(), Some(r"c:\"));
        assert_eq!(
            f.volume.as_deref(),
            Some(r"\\?\Volume{9a222d92-399d-11e5-8e3a-806e6f6e6963}\")
        );
        assert_eq!((f.file_size, f.remote_mtime), (Some(-1), Some(0)));
        assert!(f.closed);
        assert!(fields_in_bounds(&j.fields, b.len()) && fields_in_bounds(&f.fields, b.len()));
    }

    #[test]
    fn early_win10_job_record() {
        let Some(b) = sample(WIN10) else { return };
        let (lj, len) = decode_legacy_job(&b).expect("decodes");
        let j = &lj.job;
        assert_eq!(len, b.len());
        assert!(
            j.closed && j.stopped.is_none() && j.warnings.is_empty(),
            "{:?}",
            j.warnings
        );
        assert_eq!(j.marker_label, "early Windows 10 (legacy format)");
        assert_eq!(j.job_id.to_string(), "2f265c44-d606-40f4-ba5e-3c269739aa37");
        assert_eq!(j.name.as_deref(), Some("STST"));
        assert_eq!(j.owner_sid.as_deref(), Some("S-1-5-18"));
        assert_eq!(
            j.notify_command.as_deref(),
            Some(r"c:\windows\System32\cmd.exe")
        );
        assert_eq!(j.notify_arguments.as_deref(), Some(""));
        assert_eq!(iso(j.created), "2017-07-09T10:44:34.320Z");
        assert_eq!(iso(j.modified), "2017-07-09T10:48:24.237Z");
        assert_eq!(iso(j.expiration), "2017-10-07T10:48:24.237Z");
        assert_eq!(j.cost_flags, Some(0x8000_0067));
        let f = &lj.files[0];
        assert_eq!(f.destination.as_deref(), Some(r"c:\temp\vlc.exe"));
        assert_eq!(
            f.url.as_deref(),
            Some("http://get.videolan.org/vlc/2.2.4/win64/vlc-2.2.4-win64.exe")
        );
        assert_eq!(f.temp_path.as_deref(), Some(r"c:\temp\BITFFC1.tmp"));
        assert_eq!(
            (f.bytes_transferred, f.total_bytes),
            (Some(9985), Some(31_717_016))
        );
        assert_eq!(f.file_size, Some(31_717_016));
        assert_eq!(f.remote_mtime, Some(131_092_666_980_000_000));
        assert_eq!(lj.files.len(), 1);
    }

    #[test]
    fn empty_queue() {
        let Some(b) = sample(EMPTY) else { return };
        let q = decode_legacy_queue(&b).expect("decodes");
        assert_eq!((q.header_offset, q.job_count, q.jobs.len()), (0x18, 0, 0));
        assert_eq!(q.second_section_value, Some(0));
        assert_eq!(q.footer, Some((0x80, 0x18)));
        assert_eq!(q.slack, Some((0x98, 16384 - 0x98)));
        assert!(q.warnings.is_empty(), "{:?}", q.warnings);
    }

    #[test]
    fn queues_built_from_real_records() {
        let (Some(e), Some(w7), Some(w10)) = (sample(EMPTY), sample(WIN7), sample(WIN10)) else {
            return;
        };
        // Win7 layout: 0x10-byte preamble.
        let q = decode_legacy_queue(&queue(&e, 0x10, &[&w7])).expect("decodes");
        assert_eq!((q.header_offset, q.job_count, q.jobs.len()), (0x10, 1, 1));
        assert_eq!(q.jobs[0].offset, 0x34);
        assert_eq!(q.jobs[0].job.name.as_deref(), Some("TTT"));
        assert!(q.warnings.is_empty(), "{:?}", q.warnings);
        // Early Win10: 0x18 preamble; two jobs of different versions, each with its delimiter.
        let q = decode_legacy_queue(&queue(&e, 0x18, &[&w10, &w7])).expect("decodes");
        assert_eq!((q.header_offset, q.jobs.len()), (0x18, 2));
        assert_eq!(q.jobs[0].offset, 0x3c);
        assert_eq!(q.jobs[1].offset, 0x3c + w10.len());
        assert_eq!(q.jobs[1].job.marker_label, "Windows 7");
        assert_eq!(
            q.jobs[1].files[0].temp_path.as_deref(),
            Some(r"c:\temp\_bits2\BIT36BE.tmp")
        );
        assert!(q.footer.is_some() && q.slack.is_some());
        assert!(q.warnings.is_empty(), "{:?}", q.warnings);
    }

    #[test]
    fn every_truncation() {
        let (Some(e), Some(w7)) = (sample(EMPTY), sample(WIN7)) else {
            return;
        };
        for n in 0..w7.len() {
            if let Ok((lj, len)) = decode_legacy_job(&w7[..n]) {
                assert!(!lj.job.closed && len <= n);
                assert!(fields_in_bounds(&lj.job.fields, n));
            }
        }
        let q = queue(&e, 0x10, &[&w7]);
        for n in (0..q.len()).step_by(7).chain(0x20..0x24 + w7.len() + 100) {
            if let Ok(d) = decode_legacy_queue(&q[..n]) {
                assert!(d.jobs.iter().all(|j| j.offset + j.job.len <= n));
            }
        }
    }

    #[test]
    fn random_mutations() {
        let (Some(e), Some(w7), Some(w10)) = (sample(EMPTY), sample(WIN7), sample(WIN10)) else {
            return;
        };
        let q = queue(&e, 0x18, &[&w10, &w7]);
        let mut rng = Rng::new(0xdead_beef_cafe_f00d);
        let start = Instant::now();
        for i in 0..5000 {
            let t = Instant::now();
            let base: &[u8] = if i % 2 == 0 { &w7 } else { &w10 };
            let m = mutate(&mut rng, base);
            if let Ok((lj, len)) = decode_legacy_job(&m) {
                assert!(len <= m.len() && fields_in_bounds(&lj.job.fields, m.len()));
            }
            if i % 5 == 0 {
                let m = mutate(&mut rng, &q);
                if let Ok(d) = decode_legacy_queue(&m) {
                    assert!(d.jobs.iter().all(|j| j.offset + j.job.len <= m.len()));
                }
            }
            assert!(t.elapsed() < Duration::from_millis(300));
        }
        assert!(start.elapsed() < Duration::from_secs(90));
    }
}
