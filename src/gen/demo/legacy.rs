//! The demo's legacy queue (qmgr0.dat and qmgr1.dat), built by [`crate::gen::legacy`] from
//! the real pieces it needs, taken from a committed fixture so that nothing is read at run time.
//!
//! `testdata/legacy/win10early-mixed-2jobs.dat` was built by the same generator from the real
//! early-Win10 empty queue and the two real job records (see `testdata/README.md`): its first
//! 0x18 bytes are the empty queue's preamble, then come FILE_HEADER, QUEUE_HEADER, the job
//! count, the real early-Win10 record and the real Win7 record (each opened and closed by its
//! delimiter), the four closing headers and the empty queue's footer. The empty queue is that
//! layout with no jobs, so it is put back together from the preamble and the footer.

use crate::bits::job::JOB_DELIMITERS;
use crate::bits::legacy::{FILE_HEADER, QUEUE_HEADER};
use crate::gen::legacy::{build_queue, JobSpec, Pieces, Preamble, QueueSpec, Record};

const FIXTURE: &[u8] = include_bytes!("../../../testdata/legacy/win10early-mixed-2jobs.dat");
const PREAMBLE: usize = 0x18;
/// FILE_HEADER, QUEUE_HEADER and the u32 job count.
const HEADERS: usize = 16 + 16 + 4;
/// QUEUE_HEADER, QUEUE_HEADER, u32 0, QUEUE_HEADER, FILE_HEADER.
const CLOSING: usize = 16 + 16 + 4 + 16 + 16;

/// The pieces cut out of the fixture: (empty queue, Win7 record, early-Win10 record).
fn pieces() -> Option<(Vec<u8>, &'static [u8], &'static [u8])> {
    let win10 = record(FIXTURE, PREAMBLE + HEADERS, &JOB_DELIMITERS[3].0)?;
    let win7 = record(
        FIXTURE,
        PREAMBLE + HEADERS + win10.len(),
        &JOB_DELIMITERS[0].0,
    )?;
    let footer_at = PREAMBLE + HEADERS + win10.len() + win7.len() + CLOSING;
    let mut empty = FIXTURE.get(..PREAMBLE)?.to_vec();
    empty.extend_from_slice(&FILE_HEADER);
    empty.extend_from_slice(&QUEUE_HEADER);
    empty.extend_from_slice(&0u32.to_le_bytes());
    // The closing headers and the footer, as they follow the jobs.
    empty.extend_from_slice(FIXTURE.get(footer_at - CLOSING..footer_at + PREAMBLE)?);
    Some((empty, win7, win10))
}

/// The record that starts at `at` with `delimiter` and ends with it.
fn record<'a>(b: &'a [u8], at: usize, delimiter: &[u8; 16]) -> Option<&'a [u8]> {
    let body = b.get(at..)?;
    if !body.starts_with(delimiter) {
        return None;
    }
    let end = body.get(16..)?.windows(16).position(|w| w == delimiter)? + 32;
    body.get(..end)
}

/// qmgr0.dat (the current queue: two jobs, a third deleted into its slack) and qmgr1.dat (the
/// older copy, all three still live), as an early Windows 10 left them. `None` only if the
/// fixture is not the one described above.
pub fn queues() -> Option<(Vec<u8>, Vec<u8>)> {
    let (empty, win7, win10) = pieces()?;
    let pieces = Pieces::new(&empty, win7, win10).ok()?;
    let jobs = [
        JobSpec::real(Record::EarlyWin10),
        JobSpec::copy(Record::EarlyWin10, 2),
        JobSpec::copy(Record::EarlyWin10, 3),
    ];
    let (kept, gone) = jobs.split_at(2);
    let current = build_queue(&QueueSpec {
        pieces,
        preamble: Preamble::EarlyWin10,
        jobs: kept,
        deleted: gone,
    });
    let older = build_queue(&QueueSpec {
        pieces,
        preamble: Preamble::EarlyWin10,
        jobs: &jobs,
        deleted: &[],
    });
    Some((current, older))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pieces_rebuild_the_fixture_they_come_from() {
        let (empty, win7, win10) = pieces().expect("pieces");
        let pieces = Pieces::new(&empty, win7, win10).expect("valid pieces");
        let rebuilt = build_queue(&QueueSpec {
            pieces,
            preamble: Preamble::EarlyWin10,
            jobs: &[
                JobSpec::real(Record::EarlyWin10),
                JobSpec::real(Record::Win7),
            ],
            deleted: &[],
        });
        assert!(
            rebuilt == FIXTURE,
            "the fixture is not rebuilt byte for byte"
        );
        // The empty queue is the real one's 0x98 bytes: headers at 0x18, 0x70, footer at 0x80.
        assert_eq!(empty.len(), 0x98);
        let (current, older) = queues().expect("queues");
        assert_eq!((current.len(), older.len()), (16 * 1024, 16 * 1024));
    }
}
