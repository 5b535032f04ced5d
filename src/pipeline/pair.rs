//! The two files of one legacy queue: BITS keeps its state in `qmgr0.dat` and `qmgr1.dat`,
//! writing the two in turn (FORMATS §1), so a job usually lies in both. Read one by one, each
//! copy was a live row of its own (the demo's server showed 6 rows for its 3 jobs). Read as a
//! pair (the driver pairs the two files of one folder), a job is one job:
//!
//! - copies that are byte for byte the same are one row: the first file's, whose provenance
//!   names the other file's copy in `also_in`;
//! - copies that differ are the job's versions: each is a row, and `versions` counts them
//!   across the two files (the join keys copies by file and offset);
//! - a carved record of one file that copies a live job of the other (a job deleted from the
//!   newer file and still live in the older, or the reverse) is no deleted job: it is dropped
//!   and named in the live row's `also_in`, as a carved copy. Carved copies within one file
//!   are the join's business, as for a single file.
//!
//! Memory: the two decoded queues, as for two files read one after the other (each holds its
//! jobs' bytes, bounded by its file's size); rows still go to the sink one at a time.

use std::collections::{HashMap, HashSet};

use super::store::LegacyDecoded;
use crate::bits::carve::Carved;
use crate::bits::model::{FileEntry, JobEntry, OtherCopy, SourceKind};
use crate::util::guid::Guid;

/// Live jobs of one id a carved record is compared with, at most: a hostile queue can hold
/// thousands of copies of one id, and each comparison reads a whole record. Copies beyond it
/// are left to the join, which compares on its own terms.
const MAX_COMPARED: usize = 64;

/// Merge the copies `second` shares with `first` (see the module documentation).
pub(super) fn merge(first: &mut LegacyDecoded, second: &mut LegacyDecoded) {
    // The carver reads the whole file, live jobs too: those finds are the live records
    // themselves (a single file's join drops them as copies of its live jobs).
    for q in [&mut *first, &mut *second] {
        let live: HashSet<u64> = q.jobs.iter().map(|(j, _)| j.source.offset).collect();
        q.carved.retain(|c| !live.contains(&c.source().offset));
    }
    // Identical live copies: the second file's goes, the first file's names it. Found by the
    // bytes' hash, then compared, so thousands of copies cost one look-up each.
    let mut by_bytes: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, (j, _)) in first.jobs.iter().enumerate() {
        by_bytes.entry(digest(&j.blob)).or_default().push(i);
    }
    let mut kept = Vec::with_capacity(second.jobs.len());
    for (job, files) in std::mem::take(&mut second.jobs) {
        let twin = by_bytes.get(&digest(&job.blob)).and_then(|v| {
            v.iter()
                .copied()
                .take(MAX_COMPARED)
                .find(|&i| first.jobs.get(i).is_some_and(|(j, _)| j.blob == job.blob))
        });
        match twin {
            Some(i) => name_copy(&mut first.jobs, i, &job, SourceKind::Live),
            None => kept.push((job, files)),
        }
    }
    second.jobs = kept;
    // Carved records that copy a live job of the other file.
    drop_carved_copies(&mut first.carved, &mut second.jobs);
    drop_carved_copies(&mut second.carved, &mut first.jobs);
}

fn digest(b: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    b.hash(&mut h);
    h.finish()
}

/// Live jobs by id: the indexes in `jobs` of their first [`MAX_COMPARED`] distinct copies.
fn live_index(jobs: &[(JobEntry, Vec<FileEntry>)]) -> HashMap<Guid, Vec<usize>> {
    let mut by_id: HashMap<Guid, Vec<usize>> = HashMap::new();
    let mut seen: HashSet<(Guid, u64)> = HashSet::new();
    for (i, (j, _)) in jobs.iter().enumerate() {
        let v = by_id.entry(j.job.job_id).or_default();
        if v.len() < MAX_COMPARED && seen.insert((j.job.job_id, digest(&j.blob))) {
            v.push(i);
        }
    }
    by_id
}

/// Name `copy` (a record of the other file) in the provenance of live job `i` and of the
/// file rows it carries inline (they share the job's bytes).
fn name_copy(jobs: &mut [(JobEntry, Vec<FileEntry>)], i: usize, copy: &JobEntry, kind: SourceKind) {
    let Some((job, files)) = jobs.get_mut(i) else {
        return;
    };
    let other = OtherCopy {
        evidence: copy.source.evidence.clone(),
        offset: copy.source.offset,
        kind,
    };
    job.source.also_in.push(other.clone());
    for f in files {
        f.source.also_in.push(other.clone());
    }
}

/// Drop the carved records of one file that copy (whole, or cut short) a live job of the
/// other, naming each in that job's provenance.
fn drop_carved_copies(carved: &mut Vec<Carved>, live: &mut [(JobEntry, Vec<FileEntry>)]) {
    let index = live_index(live);
    carved.retain(|c| {
        let Carved::Legacy(j, _) = c else {
            return true;
        };
        let twin = index.get(&j.job.job_id).and_then(|v| {
            v.iter().copied().find(|&i| {
                live.get(i)
                    .is_some_and(|(l, _)| l.blob.starts_with(&j.blob))
            })
        });
        match twin {
            Some(i) if !j.blob.is_empty() => {
                name_copy(live, i, j, SourceKind::Carved);
                false
            }
            _ => true,
        }
    });
}
