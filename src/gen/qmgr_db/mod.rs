//! Assemble a whole qmgr.db: catalog, `Jobs`/`Files` with their long-value trees, space trees,
//! deleted blobs planted where Windows leaves them, and the ground truth.
//!
//! Page map (the system pages sit where the real samples have them):
//!
//! | pages | what |
//! |---|---|
//! | 1, 2, 3 | database root, its owned and available extents |
//! | 4-23 | MSysObjects (root 4, space 5/6), its `Name` index (7, space 8/9) and `RootObjects` index (10, space 11/12); 13-23 blank, available |
//! | 24-28 | MSysObjectsShadow (24, space 25/26); 27-28 blank |
//! | 29, 30 | MSysObjids, MSysLocales |
//! | 31, 33, 34, 35 | `Jobs` root, its space trees, a spare page |
//! | 32, 37, 38, 39 | `Files` root, its space trees, a spare page |
//! | 36, 41, 42 | `Jobs` long-value root and space trees |
//! | 40, 43, 44 | `Files` long-value root and space trees |
//! | 45 on | `Jobs` pages, `Jobs` long values, `Files` pages, `Files` long values (each one extent, the long-value extents with unreferenced pages among them), then a few blank pages |

use super::blobs::{
    encode_file, encode_job, enlarge_file, enlarge_job, enrich, random_job, FileSpec, JobSpec,
    JobWithFiles, Machine,
};
use super::ese_writer::LV_CHUNK;
use super::rng::Rng;
use super::truth::{FileValues, JobValues, Truth, Values};
use super::GenError;

mod ground_truth;
mod layout;
mod plant;
mod space;

use layout::assemble;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EseOptions {
    pub jobs: usize,
    pub files_per_job: usize,
    pub deleted: usize,
    pub seed: u64,
    /// Write data past byte 668 of the header, as Windows 11 does.
    pub win11_header: bool,
    /// Put every live blob's bytes (hex) in the truth, not only its digest.
    pub truth_hex: bool,
    /// Give jobs the settings the default leaves alone ([`super::blobs::enrich`]): 24H2
    /// package identities, proxies, custom headers, security flags, error texts, upload-reply
    /// jobs. Off, the database is what it always was for the seed.
    pub all_fields: bool,
}

impl Default for EseOptions {
    fn default() -> Self {
        EseOptions {
            jobs: 10,
            files_per_job: 1,
            deleted: 0,
            seed: 1,
            win11_header: false,
            truth_hex: false,
            all_fields: false,
        }
    }
}

/// Limits that keep a generated file inside what ESE itself would write.
pub const MAX_JOBS: usize = 2_000_000;
pub const MAX_FILES_PER_JOB: usize = 1000;
pub const MAX_DELETED: usize = 100_000;

/// A generated database and its truth.
#[derive(Debug, Clone)]
pub struct Generated {
    pub bytes: Vec<u8>,
    pub truth: Truth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Jobs,
    Files,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Jobs => "Jobs",
            Table::Files => "Files",
        }
    }
}

/// A blob with its identity and decoded values.
struct Blob {
    table: Table,
    id: [u8; 16],
    bytes: Vec<u8>,
    values: Values,
    lid: u64,
    /// Its nodes carry the version flag (changed since the last version-store cleanup, as
    /// the live rows of a database copied from a running machine often are).
    versioned: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    OrphanLv,
    DeletedLv,
    PageSlack,
    PageHole,
    FreedPage,
    StalePage,
    SplitPages,
}

const KINDS: [Kind; 7] = [
    Kind::OrphanLv,
    Kind::DeletedLv,
    Kind::PageSlack,
    Kind::PageHole,
    Kind::FreedPage,
    Kind::StalePage,
    Kind::SplitPages,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::OrphanLv => "orphan_lv",
            Kind::DeletedLv => "deleted_lv",
            Kind::PageSlack => "page_slack",
            Kind::PageHole => "page_hole",
            Kind::FreedPage => "freed_page",
            Kind::StalePage => "stale_page",
            Kind::SplitPages => "split_pages",
        }
    }

    /// Whether a blob of one long-value chunk can be left this way (`split_pages` needs a
    /// blob of two): the kinds a chosen deleted record is left as, in turn.
    fn single_chunk(self) -> bool {
        self != Kind::SplitPages
    }

    fn in_lv_tree(self) -> bool {
        matches!(self, Kind::OrphanLv | Kind::DeletedLv)
    }

    /// Pages of the long-value tree's extent set aside for it.
    fn orphan_pages(self) -> u32 {
        match self {
            Kind::FreedPage | Kind::StalePage => 1,
            Kind::SplitPages => 2,
            _ => 0,
        }
    }
}

struct Deleted {
    kind: Kind,
    blob: Blob,
    /// The unreferenced page(s) set aside for it.
    group: Vec<u32>,
}

fn validate(o: &EseOptions) -> Result<(), GenError> {
    if o.jobs > MAX_JOBS {
        return Err(GenError::Invalid(format!(
            "--jobs {} is above the limit of {MAX_JOBS}",
            o.jobs
        )));
    }
    if o.files_per_job > MAX_FILES_PER_JOB {
        return Err(GenError::Invalid(format!(
            "--files-per-job {} is above the limit of {MAX_FILES_PER_JOB}",
            o.files_per_job
        )));
    }
    if o.deleted > MAX_DELETED {
        return Err(GenError::Invalid(format!(
            "--deleted {} is above the limit of {MAX_DELETED}",
            o.deleted
        )));
    }
    Ok(())
}

/// Generate a qmgr.db in memory.
pub fn generate(o: &EseOptions) -> Result<Generated, GenError> {
    validate(o)?;
    let mut rng = Rng::new(o.seed);
    let machine = Machine::random(&mut rng.fork(1));

    // Live jobs and their files. The extra settings draw from a stream of their own.
    let mut job_rng = rng.fork(2);
    let mut extra_rng = Rng::new(o.seed ^ 0xA11_F1E1D5);
    let mut enriched = |job: &mut JobSpec| {
        if o.all_fields {
            enrich(&mut extra_rng, &machine, job);
        }
    };
    let mut live_jobs: Vec<Blob> = Vec::with_capacity(o.jobs);
    let mut live_files: Vec<Blob> = Vec::with_capacity(o.jobs * o.files_per_job);
    for _ in 0..o.jobs {
        let JobWithFiles { mut job, files } = random_job(&mut job_rng, &machine, o.files_per_job);
        enriched(&mut job);
        live_files.extend(files.iter().map(|f| file_blob(f, &job.id)));
        live_jobs.push(job_blob(&job)?);
    }

    // Deleted jobs and files: pairs (a job, then its file), kinds in turn.
    let mut del_rng = rng.fork(3);
    let mut deleted: Vec<Deleted> = Vec::with_capacity(o.deleted);
    let mut pair: Option<JobWithFiles> = None;
    for d in 0..o.deleted {
        let kind = KINDS[d % KINDS.len()];
        if d % 2 == 0 {
            let mut p = random_job(&mut del_rng, &machine, 1);
            enriched(&mut p.job);
            pair = Some(p);
        }
        let Some(p) = pair.as_mut() else {
            continue;
        };
        let blob = if d % 2 == 0 {
            if kind == Kind::SplitPages {
                enlarge_job(&mut del_rng, &mut p.job, LV_CHUNK + 100);
            }
            job_blob(&p.job)?
        } else {
            let job_id = p.job.id;
            let Some(f) = p.files.first_mut() else {
                continue;
            };
            if kind == Kind::SplitPages {
                enlarge_file(&mut del_rng, f, LV_CHUNK + 100);
            }
            file_blob(f, &job_id)
        };
        deleted.push(Deleted {
            kind,
            blob,
            group: Vec::new(),
        });
    }
    assemble(o, machine.now, rng, live_jobs, live_files, deleted)
}

/// Generate a qmgr.db holding exactly the given jobs: `live` as `Jobs`/`Files` rows, and
/// `deleted` left where Windows leaves deleted records (each job's blob, then its files'
/// blobs, as `orphan_lv`, `deleted_lv`, `page_slack`, `page_hole`, `freed_page` and
/// `stale_page` in turn). The layout (long-value ids, page fill, page times) comes from
/// `seed`; the header's times from `now` (FILETIME). Same arguments, same bytes.
pub fn generate_jobs(
    seed: u64,
    now: u64,
    live: &[JobWithFiles],
    deleted: &[JobWithFiles],
) -> Result<Generated, GenError> {
    let mut live_jobs = Vec::with_capacity(live.len());
    let mut live_files = Vec::new();
    for j in live {
        live_files.extend(j.files.iter().map(|f| file_blob(f, &j.job.id)));
        live_jobs.push(job_blob(&j.job)?);
    }
    let mut old = Vec::new();
    for j in deleted {
        old.push(job_blob(&j.job)?);
        old.extend(j.files.iter().map(|f| file_blob(f, &j.job.id)));
    }
    let deleted: Vec<Deleted> = old
        .into_iter()
        .zip(KINDS.iter().filter(|k| k.single_chunk()).cycle())
        .map(|(blob, &kind)| Deleted {
            kind,
            blob,
            group: Vec::new(),
        })
        .collect();
    let o = EseOptions {
        jobs: live.len(),
        files_per_job: live.iter().map(|j| j.files.len()).max().unwrap_or(0),
        deleted: deleted.len(),
        seed,
        win11_header: false,
        truth_hex: false,
        all_fields: false,
    };
    validate(&o)?;
    if deleted.iter().any(|d| d.blob.bytes.len() > LV_CHUNK) {
        return Err(GenError::Invalid(
            "a deleted record does not fit one long-value chunk".into(),
        ));
    }
    assemble(&o, now, Rng::new(seed), live_jobs, live_files, deleted)
}

fn job_blob(job: &JobSpec) -> Result<Blob, GenError> {
    let bytes = encode_job(job)
        .ok_or_else(|| GenError::Internal(format!("bad owner SID {}", job.owner_sid)))?;
    Ok(Blob {
        table: Table::Jobs,
        id: job.id,
        values: Values::Job(JobValues::of(job)),
        bytes,
        lid: 0,
        versioned: false,
    })
}

fn file_blob(f: &FileSpec, job_id: &[u8; 16]) -> Blob {
    Blob {
        table: Table::Files,
        id: f.id,
        bytes: encode_file(f),
        values: Values::File(FileValues::of(f, job_id)),
        lid: 0,
        versioned: false,
    }
}
