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

use std::collections::HashSet;

use super::blobs::{
    encode_file, encode_job, enlarge_file, enlarge_job, enrich, random_job, FileSpec, JobSpec,
    JobWithFiles, Machine, FT_DAY,
};
use super::ese_writer::{
    blob_row, build_tree, catalog_entries, catalog_index_entries, catalog_rows, encode_node,
    header_page, index_kind, key_guid, locales_entries, lv_kind, objids, objids_entries,
    page_offset, pages, runs, space_header, space_tree_page, BuiltTree, Extra, HeaderParams,
    LeafEntry, PageLayout, PageSpec, TreeParams, BODY, LV_CHUNK, PAGE_SIZE,
};
use super::rng::Rng;
use super::sha256::sha256_hex;
use super::truth::{
    DatabaseTruth, DeletedRecord, FileValues, JobValues, LiveRecord, OptionsTruth, Piece,
    TreeTruth, Truth, Values,
};
use super::GenError;
use crate::ese::page::{FLAG_LEAF, FLAG_ROOT, NODE_DELETED, NODE_VERSION};
use crate::util::bytes::hex;
use crate::util::guid::Guid;

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

/// Where in the final page list a blob's bytes went.
#[derive(Debug, Clone, Copy)]
enum Loc {
    /// Node `node` of page `page` (global index); the piece is the node's data.
    Node { page: usize, node: usize },
    /// Extra `extra` of page `page`, from `skip` bytes in, `len` bytes.
    Extra {
        page: usize,
        extra: usize,
        skip: usize,
        len: usize,
    },
}

/// Hands out page numbers for one tree's extent, setting aside unreferenced pages among them.
///
/// The set-aside groups (1 or 2 consecutive pages each) are dropped in at random points, in
/// batches when there are many, so that the tree's available-extent list stays at a few
/// hundred runs (one space-tree page).
struct Alloc {
    next: u32,
    /// Unreferenced-page groups still to place.
    pending: Vec<u32>,
    placed: Vec<Vec<u32>>,
    /// Groups placed together at one point.
    batch: usize,
    estimate_left: u64,
    rng: Rng,
}

/// At most this many places in an extent get unreferenced pages.
const MAX_PLACES: usize = 400;

impl Alloc {
    fn new(start: u32, pending: Vec<u32>, estimate: u64, rng: Rng) -> Alloc {
        Alloc {
            next: start,
            batch: pending.len().div_ceil(MAX_PLACES).max(1),
            pending,
            placed: Vec::new(),
            estimate_left: estimate.max(1),
            rng,
        }
    }

    fn place_batch(&mut self) {
        for _ in 0..self.batch {
            let Some(n) = self.pending.pop() else {
                return;
            };
            let g: Vec<u32> = (self.next..self.next + n).collect();
            self.next += n;
            self.placed.push(g);
        }
    }

    fn take(&mut self) -> u32 {
        let batches = self.pending.len().div_ceil(self.batch) as u64;
        if batches > 0 && self.rng.below(self.estimate_left + batches) < batches {
            self.place_batch();
        }
        let p = self.next;
        self.next += 1;
        self.estimate_left = self.estimate_left.saturating_sub(1).max(1);
        p
    }

    fn finish(&mut self) {
        while !self.pending.is_empty() {
            self.place_batch();
        }
    }
}

/// The long-value nodes of a value: root (reference count, size), then its chunks.
fn lv_entries(lid: u64, blob: &[u8], refcount: u32, flags: u8) -> Vec<LeafEntry> {
    let key = lid.to_be_bytes();
    let mut data = refcount.to_le_bytes().to_vec();
    data.extend_from_slice(&(blob.len() as u32).to_le_bytes());
    let mut v = vec![LeafEntry {
        key: key.to_vec(),
        data,
        flags,
    }];
    for (i, chunk) in blob.chunks(LV_CHUNK).enumerate() {
        let mut k = key.to_vec();
        k.extend_from_slice(&((i * LV_CHUNK) as u32).to_be_bytes());
        v.push(LeafEntry {
            key: k,
            data: chunk.to_vec(),
            flags,
        });
    }
    v
}

/// Raw size of entries on a page (for estimates).
fn entries_size(e: &[LeafEntry]) -> u64 {
    e.iter()
        .map(|x| (8 + x.key.len() + x.data.len()) as u64)
        .sum()
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

/// A tree built into the global page list.
struct Placed {
    name: &'static str,
    objid: u32,
    root: u32,
    /// Index of the tree's first page in the global page list.
    base: usize,
    /// The tree, its pages moved to the global list.
    tree: BuiltTree,
    /// Page numbers of the tree's pages, in `tree.pages` order.
    pgnos: Vec<u32>,
    available: Vec<u32>,
}

/// A system tree that fits in its root page.
struct FixedTree<'a> {
    name: &'static str,
    objid: u32,
    root: u32,
    kind: u32,
    header: Vec<u8>,
    entries: &'a [LeafEntry],
}

/// The space of one object: its owned-extent page (the available-extent page follows it).
struct SpaceOf {
    objid: u32,
    oe: u32,
    kind: u32,
    owned: Vec<u32>,
    available: Vec<u32>,
}

/// Move a built tree's pages into the global list.
fn place(
    all: &mut Vec<PageSpec>,
    name: &'static str,
    objid: u32,
    root: u32,
    mut tree: BuiltTree,
    available: Vec<u32>,
) -> Placed {
    let base = all.len();
    let pgnos = tree.pages.iter().map(|p| p.pgno).collect();
    all.append(&mut tree.pages);
    Placed {
        name,
        objid,
        root,
        base,
        tree,
        pgnos,
        available,
    }
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

/// Lay out the live and deleted blobs as a whole database (`rng` continues the caller's
/// stream, so that [`generate`] stays the same for a seed), with its truth.
fn assemble(
    o: &EseOptions,
    now: u64,
    mut rng: Rng,
    mut live_jobs: Vec<Blob>,
    mut live_files: Vec<Blob>,
    mut deleted: Vec<Deleted>,
) -> Result<Generated, GenError> {
    // Long-value ids in creation order (live and deleted interleaved), per table.
    let mut lid_rng = rng.fork(4);
    for table in [Table::Jobs, Table::Files] {
        // (is_deleted, index)
        let mut order: Vec<(bool, usize)> = match table {
            Table::Jobs => (0..live_jobs.len()).map(|i| (false, i)).collect(),
            Table::Files => (0..live_files.len()).map(|i| (false, i)).collect(),
        };
        order.extend(
            deleted
                .iter()
                .enumerate()
                .filter(|(_, d)| d.blob.table == table)
                .map(|(i, _)| (true, i)),
        );
        lid_rng.shuffle(&mut order);
        let base = 0x8000_0000_8000_0000u64 + 1 + lid_rng.below(16);
        for (n, (del, i)) in order.into_iter().enumerate() {
            let lid = base + n as u64;
            match (del, table) {
                (true, _) => deleted[i].blob.lid = lid,
                (false, Table::Jobs) => live_jobs[i].lid = lid,
                (false, Table::Files) => live_files[i].lid = lid,
            }
        }
    }

    // About one live record in ten was changed since the last version-store cleanup.
    let mut version_rng = rng.fork(7);
    for b in live_jobs.iter_mut().chain(live_files.iter_mut()) {
        b.versioned = version_rng.chance(1, 10);
    }

    let mut build_rng = rng.fork(5);
    let mut all: Vec<PageSpec> = Vec::new();
    let mut placed: Vec<Placed> = Vec::new();
    let mut next_page = pages::FIRST_FREE;

    // Table rows, sorted by key: `table_rows[t][k]` is the live record of entry k.
    let mut table_rows: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    // Long-value entries: sorted by LID. Owners: (is_deleted, index, first entry, chunks).
    let mut lv_owner: [Vec<(bool, usize, usize, usize)>; 2] = [Vec::new(), Vec::new()];
    let mut tree_index: [[usize; 2]; 2] = [[0; 2]; 2];
    for (ti, table) in [Table::Jobs, Table::Files].into_iter().enumerate() {
        let live = if table == Table::Jobs {
            &live_jobs
        } else {
            &live_files
        };
        let (objid, root, oe, lv_objid, lv_root, lv_oe) = match table {
            Table::Jobs => (
                objids::JOBS,
                pages::JOBS,
                pages::JOBS_OE,
                objids::JOBS_LV,
                pages::JOBS_LV,
                pages::JOBS_LV_OE,
            ),
            Table::Files => (
                objids::FILES,
                pages::FILES,
                pages::FILES_OE,
                objids::FILES_LV,
                pages::FILES_LV,
                pages::FILES_LV_OE,
            ),
        };
        // The table.
        let mut keyed: Vec<(Vec<u8>, usize)> = live
            .iter()
            .enumerate()
            .map(|(i, b)| (key_guid(&b.id), i))
            .collect();
        keyed.sort_unstable();
        let entries: Vec<LeafEntry> = keyed
            .iter()
            .map(|(k, i)| LeafEntry {
                key: k.clone(),
                data: blob_row(&live[*i].id, live[*i].lid),
                flags: if live[*i].versioned { NODE_VERSION } else { 0 },
            })
            .collect();
        table_rows[ti] = keyed.into_iter().map(|(_, i)| i).collect();
        let params = TreeParams {
            objid,
            root,
            kind: 0,
            space_header: space_header(1, pages::DB_ROOT, 1, oe),
            fill: (60, 92),
        };
        let mut alloc = Alloc::new(
            next_page,
            Vec::new(),
            entries_size(&entries) / (BODY as u64 * 3 / 4) + 1,
            build_rng.fork(10 + ti as u64),
        );
        let tree = build_tree(&params, &entries, &mut || alloc.take(), &mut build_rng);
        alloc.finish();
        next_page = alloc.next;
        tree_index[ti][0] = placed.len();
        placed.push(place(&mut all, table.name(), objid, root, tree, Vec::new()));
        drop(entries);

        // Its long values: live ones and those of deleted rows still in the tree.
        let mut values: Vec<(u64, bool, usize)> = live
            .iter()
            .enumerate()
            .map(|(i, b)| (b.lid, false, i))
            .collect();
        values.extend(
            deleted
                .iter()
                .enumerate()
                .filter(|(_, d)| d.blob.table == table && d.kind.in_lv_tree())
                .map(|(i, d)| (d.blob.lid, true, i)),
        );
        values.sort_unstable();
        let mut entries: Vec<LeafEntry> = Vec::new();
        for (_, del, i) in &values {
            let (blob, refcount, flags) = if *del {
                let d = &deleted[*i];
                let flags = if d.kind == Kind::DeletedLv {
                    NODE_DELETED
                } else {
                    0
                };
                (&d.blob, 0, flags)
            } else {
                (
                    &live[*i],
                    1,
                    if live[*i].versioned { NODE_VERSION } else { 0 },
                )
            };
            let e = lv_entries(blob.lid, &blob.bytes, refcount, flags);
            lv_owner[ti].push((*del, *i, entries.len() + 1, e.len() - 1));
            entries.extend(e);
        }
        let pending: Vec<u32> = deleted
            .iter()
            .filter(|d| d.blob.table == table)
            .map(|d| d.kind.orphan_pages())
            .filter(|&n| n > 0)
            .collect();
        let params = TreeParams {
            objid: lv_objid,
            root: lv_root,
            kind: lv_kind(),
            space_header: space_header(4, root, 5, lv_oe),
            fill: (55, 90),
        };
        let mut alloc = Alloc::new(
            next_page,
            pending,
            entries_size(&entries) / (BODY as u64 * 3 / 4) + 1,
            build_rng.fork(20 + ti as u64),
        );
        let tree = build_tree(&params, &entries, &mut || alloc.take(), &mut build_rng);
        alloc.finish();
        next_page = alloc.next;
        tree_index[ti][1] = placed.len();
        let available: Vec<u32> = alloc.placed.iter().flatten().copied().collect();
        let name = if table == Table::Jobs {
            "Jobs long values"
        } else {
            "Files long values"
        };
        placed.push(place(&mut all, name, lv_objid, lv_root, tree, available));
        // Hand the set-aside groups to the deleted records that need them, in order.
        // (Groups were placed in no particular order: match them by size.)
        let (mut singles, mut pairs): (Vec<Vec<u32>>, Vec<Vec<u32>>) =
            alloc.placed.into_iter().partition(|g| g.len() == 1);
        singles.reverse();
        pairs.reverse();
        for d in deleted.iter_mut().filter(|d| d.blob.table == table) {
            let group = match d.kind.orphan_pages() {
                1 => singles.pop(),
                2 => pairs.pop(),
                _ => None,
            };
            if let Some(g) = group {
                d.group = g;
            }
        }
    }

    // The catalog and the small system tables: one root page each.
    let rows = catalog_rows();
    let cat_entries = catalog_entries(&rows);
    let (by_name, by_root) = catalog_index_entries(&rows);
    let mut no_alloc_used = false;
    let mut no_alloc = || {
        no_alloc_used = true;
        0
    };
    let fixed_trees: [FixedTree<'_>; 6] = [
        FixedTree {
            name: "MSysObjects",
            objid: objids::CATALOG,
            root: pages::CATALOG,
            kind: 0,
            header: space_header(20, pages::DB_ROOT, 1, pages::CATALOG_OE),
            entries: &cat_entries,
        },
        FixedTree {
            name: "MSysObjects/Name",
            objid: objids::NAME_INDEX,
            root: pages::NAME_INDEX,
            kind: index_kind(),
            header: space_header(3, pages::CATALOG, 1, pages::NAME_INDEX_OE),
            entries: &by_name,
        },
        FixedTree {
            name: "MSysObjects/RootObjects",
            objid: objids::ROOT_INDEX,
            root: pages::ROOT_INDEX,
            kind: index_kind(),
            header: space_header(3, pages::CATALOG, 1, pages::ROOT_INDEX_OE),
            entries: &by_root,
        },
        FixedTree {
            name: "MSysObjectsShadow",
            objid: objids::SHADOW,
            root: pages::SHADOW,
            kind: 0,
            header: space_header(5, pages::DB_ROOT, 1, pages::SHADOW_OE),
            entries: &cat_entries,
        },
        FixedTree {
            name: "MSysObjids",
            objid: objids::OBJIDS,
            root: pages::OBJIDS,
            kind: 0,
            header: space_header(1, pages::DB_ROOT, 0, 0),
            entries: &objids_entries(),
        },
        FixedTree {
            name: "MSysLocales",
            objid: objids::LOCALES,
            root: pages::LOCALES,
            kind: 0,
            header: space_header(1, pages::DB_ROOT, 0, 0),
            entries: &locales_entries(),
        },
    ];
    for t in fixed_trees {
        let params = TreeParams {
            objid: t.objid,
            root: t.root,
            kind: t.kind,
            space_header: t.header,
            fill: (90, 100),
        };
        let tree = build_tree(&params, t.entries, &mut no_alloc, &mut build_rng);
        placed.push(place(&mut all, t.name, t.objid, t.root, tree, Vec::new()));
    }
    if no_alloc_used {
        return Err(GenError::Internal(
            "a system table did not fit in its root page".into(),
        ));
    }

    // Deleted blobs in live long-value pages (slack, holes), or on pages set aside.
    let mut plant_rng = rng.fork(6);
    let mut locs: Vec<Vec<Loc>> = vec![Vec::new(); deleted.len()];
    let mut fallback_pages: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
    // Per table: the long-value tree's objid, its leaf pages (global indexes), their numbers.
    let lv_leaves: Vec<(u32, Vec<usize>, Vec<u32>)> = (0..2)
        .map(|ti| {
            let lv = &placed[tree_index[ti][1]];
            let leaves: Vec<usize> = lv.tree.leaves.iter().map(|&l| lv.base + l).collect();
            let pgnos = leaves.iter().map(|&g| all[g].pgno).collect();
            (lv.objid, leaves, pgnos)
        })
        .collect();
    // First pass: blobs in live pages; those that find no room go to freed pages.
    let mut fallback: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    for (di, d) in deleted.iter_mut().enumerate() {
        if !matches!(d.kind, Kind::PageSlack | Kind::PageHole) {
            continue;
        }
        let ti = if d.blob.table == Table::Jobs { 0 } else { 1 };
        let leaves = &lv_leaves[ti].1;
        match plant_in_live_page(&mut all, leaves, d, &mut plant_rng) {
            Some(loc) => locs[di].push(loc),
            None => {
                d.kind = Kind::FreedPage;
                fallback[ti].push(di);
            }
        }
    }
    // Pages for the fallbacks, one run per table after the trees.
    for (ti, list) in fallback.iter().enumerate() {
        for &di in list {
            deleted[di].group = vec![next_page];
            fallback_pages[ti].push(next_page);
            next_page += 1;
        }
    }
    // Second pass: the unreferenced pages.
    for (di, d) in deleted.iter().enumerate() {
        if matches!(d.kind, Kind::FreedPage | Kind::StalePage | Kind::SplitPages) {
            let ti = if d.blob.table == Table::Jobs { 0 } else { 1 };
            let (lv_objid, _, live_leaf_pgnos) = &lv_leaves[ti];
            let cleared = match d.kind {
                Kind::FreedPage => true,
                Kind::StalePage => false,
                _ => di % 4 == 3,
            };
            locs[di] = unreferenced_pages(
                &mut all,
                d,
                *lv_objid,
                cleared,
                live_leaf_pgnos,
                &mut plant_rng,
            );
        }
    }

    // Page numbers in use, the blank ones, the file size.
    let tree_pages_end = next_page;
    let trailing = 1 + build_rng.below(16) as u32;
    let last_page = tree_pages_end - 1 + trailing;

    // Space trees. Owned and available pages of each object.
    let jobs_p = &placed[tree_index[0][0]];
    let jobs_lv = &placed[tree_index[0][1]];
    let files_p = &placed[tree_index[1][0]];
    let files_lv = &placed[tree_index[1][1]];
    let tree_pgnos =
        |p: &Placed| -> Vec<u32> { p.pgnos.iter().copied().filter(|&n| n != p.root).collect() };
    let mut jobs_lv_owned: Vec<u32> = vec![pages::JOBS_LV, pages::JOBS_LV_OE, pages::JOBS_LV_AE];
    jobs_lv_owned.extend(tree_pgnos(jobs_lv));
    jobs_lv_owned.extend(&jobs_lv.available);
    jobs_lv_owned.extend(&fallback_pages[0]);
    let mut jobs_lv_avail = jobs_lv.available.clone();
    jobs_lv_avail.extend(&fallback_pages[0]);
    let mut files_lv_owned: Vec<u32> =
        vec![pages::FILES_LV, pages::FILES_LV_OE, pages::FILES_LV_AE];
    files_lv_owned.extend(tree_pgnos(files_lv));
    files_lv_owned.extend(&files_lv.available);
    files_lv_owned.extend(&fallback_pages[1]);
    let mut files_lv_avail = files_lv.available.clone();
    files_lv_avail.extend(&fallback_pages[1]);
    let mut jobs_owned: Vec<u32> = vec![
        pages::JOBS,
        pages::JOBS_OE,
        pages::JOBS_AE,
        pages::JOBS_SPARE,
    ];
    jobs_owned.extend(tree_pgnos(jobs_p));
    jobs_owned.extend(&jobs_lv_owned);
    let mut files_owned: Vec<u32> = vec![
        pages::FILES,
        pages::FILES_OE,
        pages::FILES_AE,
        pages::FILES_SPARE,
    ];
    files_owned.extend(tree_pgnos(files_p));
    files_owned.extend(&files_lv_owned);
    let all_pages: Vec<u32> = (1..=last_page).collect();
    let db_avail: Vec<u32> = (tree_pages_end..=last_page).collect();
    let catalog_owned: Vec<u32> = (pages::CATALOG..=pages::CATALOG_LAST).collect();
    let catalog_avail: Vec<u32> = (pages::ROOT_INDEX_AE + 1..=pages::CATALOG_LAST).collect();
    let shadow_owned: Vec<u32> = (pages::SHADOW..=pages::SHADOW_LAST).collect();
    let shadow_avail: Vec<u32> = (pages::SHADOW_AE + 1..=pages::SHADOW_LAST).collect();
    let space: [SpaceOf; 9] = [
        SpaceOf {
            objid: objids::DB,
            oe: pages::DB_OE,
            kind: 0,
            owned: all_pages,
            available: db_avail,
        },
        SpaceOf {
            objid: objids::CATALOG,
            oe: pages::CATALOG_OE,
            kind: 0,
            owned: catalog_owned,
            available: catalog_avail,
        },
        SpaceOf {
            objid: objids::NAME_INDEX,
            oe: pages::NAME_INDEX_OE,
            kind: index_kind(),
            owned: (pages::NAME_INDEX..=pages::NAME_INDEX_AE).collect(),
            available: Vec::new(),
        },
        SpaceOf {
            objid: objids::ROOT_INDEX,
            oe: pages::ROOT_INDEX_OE,
            kind: index_kind(),
            owned: (pages::ROOT_INDEX..=pages::ROOT_INDEX_AE).collect(),
            available: Vec::new(),
        },
        SpaceOf {
            objid: objids::SHADOW,
            oe: pages::SHADOW_OE,
            kind: 0,
            owned: shadow_owned,
            available: shadow_avail,
        },
        SpaceOf {
            objid: objids::JOBS,
            oe: pages::JOBS_OE,
            kind: 0,
            owned: jobs_owned,
            available: vec![pages::JOBS_SPARE],
        },
        SpaceOf {
            objid: objids::FILES,
            oe: pages::FILES_OE,
            kind: 0,
            owned: files_owned,
            available: vec![pages::FILES_SPARE],
        },
        SpaceOf {
            objid: objids::JOBS_LV,
            oe: pages::JOBS_LV_OE,
            kind: lv_kind(),
            owned: jobs_lv_owned,
            available: jobs_lv_avail,
        },
        SpaceOf {
            objid: objids::FILES_LV,
            oe: pages::FILES_LV_OE,
            kind: lv_kind(),
            owned: files_lv_owned,
            available: files_lv_avail,
        },
    ];
    for sp in &space {
        for (page, list) in [(sp.oe, &sp.owned), (sp.oe + 1, &sp.available)] {
            let page = space_tree_page(page, sp.objid, sp.kind, &runs(list), &mut build_rng)
                .ok_or_else(|| {
                    GenError::Internal(format!(
                        "the extents of object {} need more than one space-tree page",
                        sp.objid
                    ))
                })?;
            all.push(page);
        }
    }
    let mut db_root = PageSpec::new(pages::DB_ROOT, objids::DB, FLAG_ROOT | FLAG_LEAF | 0x8000);
    db_root.tag0 = space_header(last_page.min(46), 0, 1, pages::DB_OE);
    all.push(db_root);

    // Database times: every page older than the header's.
    let max_time = 0x1000 + 8 * u64::from(last_page);
    for p in all.iter_mut() {
        if p.dbtime == 0 {
            p.dbtime = 0x40 + build_rng.below(max_time - 0x40);
        }
    }

    // Render.
    let mut written: HashSet<u32> = HashSet::with_capacity(all.len());
    for p in &all {
        if p.pgno == 0 || p.pgno > last_page || !written.insert(p.pgno) {
            return Err(GenError::Internal(format!(
                "page {} allocated twice or out of range",
                p.pgno
            )));
        }
    }
    let file_len = (last_page as usize + 2) * PAGE_SIZE;
    let mut bytes = vec![0u8; file_len];
    let mut layouts: Vec<PageLayout> = Vec::with_capacity(all.len());
    for p in &all {
        let at = page_offset(p.pgno) as usize;
        layouts.push(p.render(&mut bytes[at..at + PAGE_SIZE]));
    }
    let header = header_page(&HeaderParams {
        db_time: max_time + 1 + build_rng.below(64),
        signature_random: build_rng.next_u32(),
        log_signature_random: build_rng.next_u32(),
        created: now.saturating_sub(180 * FT_DAY + build_rng.below(400 * FT_DAY)),
        attached: now.saturating_sub(build_rng.below(FT_DAY)),
        format_revision: 0xc8,
        build: 22000,
        log_generation: 1 + build_rng.below(0x40) as u32,
        last_objid: objids::FILES_LV,
        win11_tail: o.win11_header,
    });
    bytes[..PAGE_SIZE].copy_from_slice(&header);
    bytes[PAGE_SIZE..2 * PAGE_SIZE].copy_from_slice(&header);
    let db_time = u64::from_le_bytes(header[0x10..0x18].try_into().unwrap_or([0; 8]));

    // Truth.
    let piece_of = |loc: &Loc| -> Piece {
        match *loc {
            Loc::Node { page, node } => {
                let p = &all[page];
                let at = layouts[page].node_at[node] + p.data_at[node];
                let len = p.nodes[node].len() - p.data_at[node];
                Piece {
                    offset: page_offset(p.pgno) + at as u64,
                    length: len as u64,
                    page: p.pgno,
                }
            }
            Loc::Extra {
                page,
                extra,
                skip,
                len,
            } => {
                let p = &all[page];
                Piece {
                    offset: page_offset(p.pgno) + (layouts[page].extra_at[extra] + skip) as u64,
                    length: len as u64,
                    page: p.pgno,
                }
            }
        }
    };
    let mut trees = Vec::new();
    for p in &placed {
        let leaves = p.tree.leaves.len();
        trees.push(TreeTruth {
            name: p.name.to_string(),
            objid: p.objid,
            root: p.root,
            depth: p.tree.depth,
            leaf_pages: leaves,
            branch_pages: p.pgnos.len() - leaves,
            nodes: p.tree.entry_at.len(),
            available_pages: p.available.clone(),
        });
    }
    for (ti, avail) in fallback_pages.iter().enumerate() {
        if let Some(t) = trees.get_mut(tree_index[ti][1]) {
            t.available_pages.extend(avail);
        }
    }
    let mut live_truth: [Vec<LiveRecord>; 2] = [Vec::new(), Vec::new()];
    let mut del_pieces: Vec<Vec<Piece>> = locs
        .iter()
        .map(|l| l.iter().map(&piece_of).collect())
        .collect();
    for ti in 0..2 {
        let live = if ti == 0 { &live_jobs } else { &live_files };
        let lv = &placed[tree_index[ti][1]];
        let mut pieces_of: Vec<Vec<Piece>> = vec![Vec::new(); live.len()];
        for &(del, i, first, n) in &lv_owner[ti] {
            let pieces: Vec<Piece> = (first..first + n)
                .map(|e| {
                    let (pg, node) = lv.tree.entry_at[e];
                    piece_of(&Loc::Node {
                        page: lv.base + pg,
                        node,
                    })
                })
                .collect();
            if del {
                del_pieces[i] = pieces;
            } else {
                pieces_of[i] = pieces;
            }
        }
        let table = &placed[tree_index[ti][0]];
        for (k, &i) in table_rows[ti].iter().enumerate() {
            let (pg, node) = table.tree.entry_at[k];
            let row = piece_of(&Loc::Node {
                page: table.base + pg,
                node,
            });
            let b = &live[i];
            live_truth[ti].push(LiveRecord {
                id: Guid(b.id).to_string(),
                table: b.table.name().to_string(),
                row_page: row.page,
                row_offset: row.offset,
                lid: format!("{:#018x}", b.lid),
                blob_len: b.bytes.len(),
                blob_sha256: sha256_hex(&b.bytes),
                blob_hex: o.truth_hex.then(|| hex(&b.bytes)),
                versioned: b.versioned,
                pieces: std::mem::take(&mut pieces_of[i]),
                values: b.values.clone(),
            });
        }
    }
    let deleted_truth: Vec<DeletedRecord> = deleted
        .iter()
        .zip(del_pieces)
        .map(|(d, pieces)| DeletedRecord {
            kind: d.kind.name().to_string(),
            split: pieces.len() > 1,
            table: d.blob.table.name().to_string(),
            id: Guid(d.blob.id).to_string(),
            lid: format!("{:#018x}", d.blob.lid),
            blob_len: d.blob.bytes.len(),
            blob_sha256: sha256_hex(&d.blob.bytes),
            blob_hex: hex(&d.blob.bytes),
            pieces,
            values: d.blob.values.clone(),
        })
        .collect();
    let blank_pages: Vec<u32> = (1..=last_page).filter(|p| !written.contains(p)).collect();
    let [jobs_truth, files_truth] = live_truth;
    let truth = Truth {
        generator: "bitscope-gen ese".into(),
        truth_format: 1,
        options: OptionsTruth {
            jobs: o.jobs,
            files_per_job: o.files_per_job,
            deleted: o.deleted,
            seed: o.seed,
            win11_header: o.win11_header,
        },
        database: DatabaseTruth {
            file_size: file_len as u64,
            page_size: PAGE_SIZE as u32,
            pages: last_page,
            blank_pages,
            format_version: 0x620,
            format_revision: 0xc8,
            state: 2,
            db_time,
            trees,
        },
        jobs: jobs_truth,
        files: files_truth,
        deleted: deleted_truth,
    };
    Ok(Generated { bytes, truth })
}

/// The bytes of a long value's old root and single chunk node, as left after a cleanup.
fn old_lv_bytes(lid: u64, blob: &[u8]) -> Vec<u8> {
    let key = lid.to_be_bytes();
    let mut root = 1u32.to_le_bytes().to_vec();
    root.extend_from_slice(&(blob.len() as u32).to_le_bytes());
    let mut v = encode_node(0, 0, &key, &root);
    let mut ck = key.to_vec();
    ck.extend_from_slice(&0u32.to_be_bytes());
    v.extend(encode_node(0, 0, &ck, blob));
    v
}

/// Put a deleted blob's old long-value nodes in the free space of a live leaf page (past the
/// data for slack, between nodes for a hole). `None` when no page has the room.
fn plant_in_live_page(
    all: &mut [PageSpec],
    leaves: &[usize],
    d: &Deleted,
    rng: &mut Rng,
) -> Option<Loc> {
    let bytes = old_lv_bytes(d.blob.lid, &d.blob.bytes);
    let skip = bytes.len() - d.blob.bytes.len();
    let n = leaves.len();
    let start = rng.index(n);
    // A bounded search, so that many plants in a large file stay linear.
    for k in 0..n.min(512) {
        let g = leaves[(start + k) % n];
        let page = &mut all[g];
        if !page.extras.is_empty() {
            continue;
        }
        let (s, e) = page.free_range();
        if e.saturating_sub(s) < bytes.len() + 8 {
            continue;
        }
        let extra = if d.kind == Kind::PageHole {
            let after = if page.nodes.is_empty() {
                usize::MAX
            } else {
                rng.index(page.nodes.len())
            };
            Extra::Hole { after, bytes }
        } else {
            let room = e - s - bytes.len();
            let at = s + rng.index(room + 1);
            Extra::Slack { at, bytes }
        };
        page.extras.push(extra);
        return Some(Loc::Extra {
            page: g,
            extra: page.extras.len() - 1,
            skip,
            len: d.blob.bytes.len(),
        });
    }
    None
}

/// The unreferenced page(s) of a deleted blob: an old leaf of the long-value tree holding the
/// value's root node and first chunk, the second page (split blobs) its further chunks. A
/// `cleared` page is a freed one: its header shows no nodes, its body still has them.
fn unreferenced_pages(
    all: &mut Vec<PageSpec>,
    d: &Deleted,
    lv_objid: u32,
    cleared: bool,
    live_leaf_pgnos: &[u32],
    rng: &mut Rng,
) -> Vec<Loc> {
    let entries = lv_entries(d.blob.lid, &d.blob.bytes, 1, 0);
    let dbtime = 1 + rng.below(0x800);
    let mut specs: Vec<PageSpec> = d
        .group
        .iter()
        .map(|&p| {
            let mut s = PageSpec::new(p, lv_objid, FLAG_LEAF | lv_kind() | 0x8000);
            s.cleared = cleared;
            s.dbtime = dbtime;
            // Stale links to where the page used to sit among the live leaves.
            let prev = rng.pick(live_leaf_pgnos).copied().unwrap_or(0);
            let next = rng.pick(live_leaf_pgnos).copied().unwrap_or(0);
            if !cleared {
                (s.prev, s.next) = (prev, next);
            }
            s
        })
        .collect();
    let base = all.len();
    let mut locs = Vec::new();
    for (k, e) in entries.iter().enumerate() {
        let page = usize::from(k >= 2 && specs.len() > 1);
        if let Some(s) = specs.get_mut(page) {
            s.push_node(e.flags, 0, &e.key, &e.data);
            if k >= 1 {
                locs.push(Loc::Node {
                    page: base + page,
                    node: s.nodes.len() - 1,
                });
            }
        }
    }
    if let [a, b] = specs.as_mut_slice() {
        a.next = b.pgno;
        b.prev = a.pgno;
    }
    all.extend(specs);
    locs
}
