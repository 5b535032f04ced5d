//! The join: jobs with the files they list (Win10+) or carry (legacy), and live records with
//! their carved copies, so each record is emitted once with its final `versions`.

use std::collections::HashMap;

use super::{RunError, Sink, Stop};
use crate::bits::carve::{self, Carved};
use crate::bits::decoded::{join_job, row};
use crate::bits::model::{FileEntry, JobEntry, Source};
use crate::util::guid::Guid;

/// Joins of an already joined file allowed beyond one per file (see [`join_job`]).
const SHARED_JOINS: usize = 1024;

/// A carved record with its place in the carver's output (the order rows are emitted in).
type Candidate = (usize, Carved);

/// The join of jobs and files into rows, and of live records with their carved copies.
pub(super) struct Join {
    /// Keep each carved record's per-field byte ranges (`--provenance fields`).
    field_ranges: bool,
    files: Vec<FileEntry>,
    by_id: HashMap<Guid, Vec<usize>>,
    claimed: Vec<bool>,
    /// How many more times a file already joined to one job may join another (see
    /// [`join_job`]): rows stay bounded by the records present, whatever the file lists say.
    shared_left: usize,
    /// Carved jobs (Win10+ and legacy) not yet settled, by job id.
    pending: HashMap<Guid, Vec<Candidate>>,
    /// Carved files, settled against the live files when added.
    carved_files: Vec<Candidate>,
    /// Carved jobs whose live copies have all been seen: they will be emitted.
    settled: Vec<Candidate>,
    /// Live jobs per id (from the table's Id column, or the queue), so a job's carved copies
    /// are settled once its last live copy has been seen.
    pub(super) live_counts: HashMap<Guid, u32>,
    /// Live copies seen so far per id: (where, blob) and, for ids with several live copies,
    /// the entries held back until the last one.
    live_seen: HashMap<Guid, Vec<LiveCopy>>,
}

struct LiveCopy {
    at: CopyKey,
    blob: Vec<u8>,
    held: Option<(JobEntry, Option<Vec<FileEntry>>)>,
}

impl Join {
    pub(super) fn new(field_ranges: bool, files: Vec<FileEntry>) -> Join {
        let mut by_id: HashMap<Guid, Vec<usize>> = HashMap::new();
        for (i, f) in files.iter().enumerate() {
            if let Some(id) = f.id {
                by_id.entry(id).or_default().push(i);
            }
        }
        let claimed = vec![false; files.len()];
        Join {
            field_ranges,
            shared_left: files.len().saturating_add(SHARED_JOINS),
            files,
            by_id,
            claimed,
            pending: HashMap::new(),
            carved_files: Vec::new(),
            settled: Vec::new(),
            live_counts: HashMap::new(),
            live_seen: HashMap::new(),
        }
    }

    /// Take the carver's finds. Carved files are settled at once against the live files
    /// (already decoded); carved jobs wait for their live copies.
    pub(super) fn add_candidates(&mut self, found: Vec<Carved>) {
        let mut files = Vec::new();
        for (i, mut c) in found.into_iter().enumerate() {
            if !self.field_ranges {
                c.source_mut().fields = Vec::new();
            }
            match c {
                Carved::File(_) => files.push((i, c)),
                Carved::Job(ref j) | Carved::Legacy(ref j, _) => {
                    let id = j.job.job_id;
                    self.pending.entry(id).or_default().push((i, c));
                }
            }
        }
        let live: Vec<&[u8]> = self.files.iter().map(|f| f.blob.as_slice()).collect();
        self.carved_files = dedup_indexed(&live, files);
        // The live files' bytes were kept for this comparison only.
        for f in &mut self.files {
            f.blob = Vec::new();
        }
    }

    /// A live Win10+ job: settle its carved copies and emit its rows (or hold it back while
    /// more live copies of its id are to come).
    pub(super) fn live_job(&mut self, job: JobEntry, sink: &mut dyn Sink) -> Result<(), Stop> {
        self.live(job, None, sink)
    }

    /// A live legacy job with its inline files.
    pub(super) fn live_legacy(
        &mut self,
        job: JobEntry,
        files: Vec<FileEntry>,
        sink: &mut dyn Sink,
    ) -> Result<(), Stop> {
        self.live(job, Some(files), sink)
    }

    fn live(
        &mut self,
        job: JobEntry,
        inline: Option<Vec<FileEntry>>,
        sink: &mut dyn Sink,
    ) -> Result<(), Stop> {
        let id = job.job.job_id;
        let expected = self.live_counts.get(&id).copied().unwrap_or(1).max(1);
        let seen = self.live_seen.entry(id).or_default();
        let last = seen.len().saturating_add(1) >= expected as usize;
        let copy = LiveCopy {
            at: copy_key(&job.source),
            blob: if self.pending.contains_key(&id) {
                job.blob.clone()
            } else {
                Vec::new()
            },
            held: None,
        };
        if !last {
            seen.push(LiveCopy {
                held: Some((job, inline)),
                ..copy
            });
            return Ok(());
        }
        seen.push(copy);
        let versions = self.settle_and_emit_held(id, sink)?;
        self.emit_job(&job, inline.as_deref(), versions, sink)
    }

    /// Settle `id` and emit the live copies held back for it; returns its version count.
    fn settle_and_emit_held(&mut self, id: Guid, sink: &mut dyn Sink) -> Result<u32, Stop> {
        let versions = self.settle(id);
        let held: Vec<_> = self
            .live_seen
            .get_mut(&id)
            .map(|v| v.iter_mut().filter_map(|c| c.held.take()).collect())
            .unwrap_or_default();
        for (j, files) in held {
            self.emit_job(&j, files.as_deref(), versions, sink)?;
        }
        Ok(versions)
    }

    /// All live copies of `id` are in: drop the carved candidates that copy one of them,
    /// merge identical carved copies, and return the number of distinct copies.
    fn settle(&mut self, id: Guid) -> u32 {
        let copies = self.live_seen.get(&id);
        let live: Vec<&[u8]> = copies
            .map(|v| v.iter().map(|c| c.blob.as_slice()).collect())
            .unwrap_or_default();
        let mut offsets: Vec<CopyKey> = copies
            .map(|v| v.iter().map(|c| c.at).collect())
            .unwrap_or_default();
        if let Some(group) = self.pending.remove(&id) {
            let kept = dedup_indexed(&live, group);
            offsets.extend(kept.iter().map(|(_, c)| copy_key(c.source())));
            self.settled.extend(kept);
        }
        // Free the blobs: only the offsets are needed from here on.
        if let Some(v) = self.live_seen.get_mut(&id) {
            for c in v.iter_mut() {
                c.blob = Vec::new();
            }
        }
        offsets.sort_unstable();
        offsets.dedup();
        u32::try_from(offsets.len()).unwrap_or(u32::MAX)
    }

    /// The rows of one job: joined with the files it lists (Win10+) or with its inline files
    /// (legacy).
    fn emit_job(
        &mut self,
        j: &JobEntry,
        inline: Option<&[FileEntry]>,
        versions: u32,
        sink: &mut dyn Sink,
    ) -> Result<(), Stop> {
        let mut rows = Vec::new();
        match inline {
            Some([]) => rows.push(row(Some(j), None, None)),
            Some(files) => rows.extend(files.iter().map(|f| row(Some(j), Some(f), None))),
            None => {
                let extra = join_job(
                    j,
                    &self.files,
                    &self.by_id,
                    &mut self.claimed,
                    &mut self.shared_left,
                    &mut rows,
                );
                rows.extend(extra);
            }
        }
        for mut r in rows {
            r.versions = versions;
            sink.record(r)?;
        }
        Ok(())
    }

    /// After the live records: the carved jobs, the files no job claims, the carved files,
    /// the carved legacy jobs, each group in the carver's order.
    pub(super) fn finish(mut self, sink: &mut dyn Sink) -> Result<(), RunError> {
        self.flush_held(sink)?;
        let ids: Vec<Guid> = self.pending.keys().copied().collect();
        for id in ids {
            self.settle(id);
        }
        let mut settled = std::mem::take(&mut self.settled);
        settled.sort_by_key(|(i, _)| *i);
        let counts = self.version_counts(&settled);
        let versions = |id: &Guid| counts.get(id).copied().unwrap_or(1);
        let mut legacy = Vec::new();
        for (_, c) in settled {
            match c {
                Carved::Job(j) => {
                    self.emit_job(&j, None, versions(&j.job.job_id), sink)?;
                }
                Carved::Legacy(j, files) => legacy.push((j, files)),
                Carved::File(_) => {}
            }
        }
        let orphans: Vec<usize> = (0..self.files.len())
            .filter(|i| !self.claimed.get(*i).copied().unwrap_or(true))
            .collect();
        for i in orphans {
            if let Some(f) = self.files.get(i) {
                sink.record(row(None, Some(f), f.id))?;
            }
        }
        for (_, c) in std::mem::take(&mut self.carved_files) {
            if let Carved::File(f) = c {
                sink.record(row(None, Some(&f), None))?;
            }
        }
        for (j, files) in legacy {
            self.emit_job(&j, Some(&files), versions(&j.job.job_id), sink)?;
        }
        Ok(())
    }

    /// Live jobs held back for more copies of their id that never came (the Id column and
    /// the blobs disagree): settle and emit them now.
    fn flush_held(&mut self, sink: &mut dyn Sink) -> Result<(), Stop> {
        let ids: Vec<Guid> = self
            .live_seen
            .iter()
            .filter(|(_, v)| v.iter().any(|c| c.held.is_some()))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.settle_and_emit_held(id, sink)?;
        }
        Ok(())
    }

    /// Distinct copies (live offsets and carved offsets) of each carved job's id.
    fn version_counts(&self, settled: &[Candidate]) -> HashMap<Guid, u32> {
        let mut offsets: HashMap<Guid, Vec<CopyKey>> = HashMap::new();
        for (_, c) in settled {
            if let Carved::Job(j) | Carved::Legacy(j, _) = c {
                offsets
                    .entry(j.job.job_id)
                    .or_default()
                    .push(copy_key(&j.source));
            }
        }
        for (id, v) in offsets.iter_mut() {
            if let Some(live) = self.live_seen.get(id) {
                v.extend(live.iter().map(|c| c.at));
            }
            v.sort_unstable();
            v.dedup();
        }
        offsets
            .into_iter()
            .map(|(id, v)| (id, u32::try_from(v.len()).unwrap_or(u32::MAX)))
            .collect()
    }
}

/// Where a copy of a record lies: its evidence file (hashed) and its offset there. Copies of
/// one job are counted by it, so that the two files of a qmgr0/qmgr1 pair, whose jobs may lie
/// at equal offsets, never merge two copies into one.
type CopyKey = (u64, u64);

fn copy_key(s: &Source) -> CopyKey {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.evidence.hash(&mut h);
    (h.finish(), s.offset)
}

/// [`carve::dedup`] keeping each survivor's place in the carver's output.
fn dedup_indexed(live: &[&[u8]], group: Vec<Candidate>) -> Vec<Candidate> {
    let (order, carved): (Vec<usize>, Vec<Carved>) = group.into_iter().unzip();
    let first_offset: HashMap<CopyKey, usize> = order
        .iter()
        .zip(&carved)
        .map(|(i, c)| (copy_key(c.source()), *i))
        .collect();
    carve::dedup(live, carved)
        .into_iter()
        .map(|c| {
            // A merged copy keeps the place of whichever offset it now carries.
            let i = first_offset
                .get(&copy_key(c.source()))
                .copied()
                .unwrap_or(usize::MAX);
            (i, c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bits::file::FileRecord;
    use crate::bits::job::JobRecord;

    fn guid(n: u32) -> Guid {
        let mut g = [0x11u8; 16];
        g[..4].copy_from_slice(&n.to_le_bytes());
        Guid(g)
    }

    fn job(n: u32, files: Vec<Guid>) -> JobEntry {
        JobEntry {
            job: JobRecord {
                job_id: guid(1_000_000 + n),
                file_ids: files,
                ..JobRecord::default()
            },
            blob: Vec::new(),
            source: Source {
                offset: u64::from(n),
                ..Source::default()
            },
        }
    }

    fn file(id: Guid, n: u64) -> FileEntry {
        FileEntry {
            id: Some(id),
            file: FileRecord::default(),
            blob: Vec::new(),
            source: Source {
                offset: n,
                ..Source::default()
            },
        }
    }

    fn rows_of(files: Vec<FileEntry>, jobs: Vec<JobEntry>) -> Parsed {
        let mut join = Join::new(false, files);
        let mut out = Parsed::default();
        for j in jobs {
            join.live_job(j, &mut out).unwrap();
        }
        join.finish(&mut out).unwrap();
        out
    }

    use crate::pipeline::Parsed;

    #[test]
    fn one_shared_file_id_listed_over_and_over_is_joined_once_per_job() {
        // 800 Files rows all with one Id; 200 jobs each listing that Id 800 times: once
        // 160,000 rows, now one row per job, each saying why.
        let id = guid(7);
        let files = (0..800).map(|n| file(id, n)).collect();
        let jobs = (0..200).map(|n| job(n, vec![id; 800])).collect();
        let out = rows_of(files, jobs);
        // 200 job rows and the 799 Files rows no job joined (they are records too).
        assert_eq!(out.records.len(), 200 + 799);
        let w = &out.records[0].warnings;
        assert!(
            w.iter()
                .any(|w| w.starts_with("799 file id(s) listed more than once")),
            "{w:?}"
        );
        assert!(
            w.iter()
                .any(|w| w.starts_with("799 more Files row(s) share an Id")),
            "{w:?}"
        );
    }

    #[test]
    fn files_claimed_by_every_job_stop_at_the_bound() {
        // 800 distinct files, 200 jobs each listing all of them: 160,000 pairs, of which
        // the first job's 800 and then files + 1,024 shared joins are made (jobs 1 to 3);
        // the 196 jobs after the bound still get a row each, saying so.
        let ids: Vec<Guid> = (0..800).map(guid).collect();
        let files = ids
            .iter()
            .enumerate()
            .map(|(n, id)| file(*id, n as u64))
            .collect();
        let jobs = (0..200).map(|n| job(n, ids.clone())).collect();
        let out = rows_of(files, jobs);
        assert_eq!(out.records.len(), 800 + (800 + SHARED_JOINS) + 196);
        let last = out.records.last().unwrap();
        assert!(
            last.warnings
                .iter()
                .any(|w| w.contains("already claimed by other jobs")),
            "{:?}",
            last.warnings
        );
    }
}
