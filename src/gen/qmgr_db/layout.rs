//! Laying out a whole qmgr.db, phase by phase: long-value ids, the `Jobs` and `Files` trees
//! with their long-value trees, the system trees, the deleted blobs (`plant.rs`), the space
//! trees (`space.rs`), the rendered bytes, and the ground truth (`ground_truth.rs`).

use std::collections::HashSet;

use super::{Blob, Deleted, EseOptions, GenError, Generated, Kind, Table};
use crate::ese::page::{FLAG_LEAF, FLAG_ROOT, NODE_DELETED, NODE_VERSION};
use crate::gen::blobs::FT_DAY;
use crate::gen::ese_writer::{
    blob_row, build_tree, catalog_entries, catalog_index_entries, catalog_rows, header_page,
    index_kind, key_guid, locales_entries, lv_kind, objids, objids_entries, page_offset, pages,
    space_header, BuiltTree, HeaderParams, LeafEntry, PageLayout, PageSpec, TreeParams, BODY,
    LV_CHUNK, PAGE_SIZE,
};
use crate::gen::rng::Rng;

/// Where in the final page list a blob's bytes went.
#[derive(Debug, Clone, Copy)]
pub(super) enum Loc {
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
pub(super) fn lv_entries(lid: u64, blob: &[u8], refcount: u32, flags: u8) -> Vec<LeafEntry> {
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
/// A tree built into the global page list.
pub(super) struct Placed {
    pub(super) name: &'static str,
    pub(super) objid: u32,
    pub(super) root: u32,
    /// Index of the tree's first page in the global page list.
    pub(super) base: usize,
    /// The tree, its pages moved to the global list.
    pub(super) tree: BuiltTree,
    /// Page numbers of the tree's pages, in `tree.pages` order.
    pub(super) pgnos: Vec<u32>,
    pub(super) available: Vec<u32>,
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

/// The pages laid out so far, and where each tree went.
pub(super) struct Layout {
    /// Every page, in the order the phases made them (not page-number order).
    pub(super) all: Vec<PageSpec>,
    pub(super) placed: Vec<Placed>,
    /// The next page number free for a tree's extent.
    pub(super) next_page: u32,
    /// Per table (Jobs, Files): the index in `placed` of its tree and of its long-value tree.
    pub(super) tree_index: [[usize; 2]; 2],
    /// Per table: the live record behind each row, in key order.
    pub(super) table_rows: [Vec<usize>; 2],
    /// Per table: long-value owners (is_deleted, index, first entry, chunks), in LID order.
    pub(super) lv_owner: [Vec<(bool, usize, usize, usize)>; 2],
}

/// The live and deleted blobs of one database.
pub(super) struct Records {
    pub(super) jobs: Vec<Blob>,
    pub(super) files: Vec<Blob>,
    pub(super) deleted: Vec<Deleted>,
}

impl Records {
    /// The live blobs of the table with index `ti` (0: Jobs, 1: Files).
    pub(super) fn live(&self, ti: usize) -> &[Blob] {
        if ti == 0 {
            &self.jobs
        } else {
            &self.files
        }
    }
}

/// Lay out the live and deleted blobs as a whole database (`rng` continues the caller's
/// stream, so that `generate` stays the same for a seed), with its truth. The phases draw
/// from `rng` in a fixed order (forks 4, 7, 5, 6), so a seed gives the same bytes.
pub(super) fn assemble(
    o: &EseOptions,
    now: u64,
    mut rng: Rng,
    live_jobs: Vec<Blob>,
    live_files: Vec<Blob>,
    deleted: Vec<Deleted>,
) -> Result<Generated, GenError> {
    let mut recs = Records {
        jobs: live_jobs,
        files: live_files,
        deleted,
    };
    assign_lids(&mut rng.fork(4), &mut recs);
    // About one live record in ten was changed since the last version-store cleanup.
    let mut version_rng = rng.fork(7);
    for b in recs.jobs.iter_mut().chain(recs.files.iter_mut()) {
        b.versioned = version_rng.chance(1, 10);
    }
    let mut build_rng = rng.fork(5);
    let mut lay = Layout {
        all: Vec::new(),
        placed: Vec::new(),
        next_page: pages::FIRST_FREE,
        tree_index: [[0; 2]; 2],
        table_rows: [Vec::new(), Vec::new()],
        lv_owner: [Vec::new(), Vec::new()],
    };
    for (ti, table) in [Table::Jobs, Table::Files].into_iter().enumerate() {
        table_trees(&mut lay, &mut recs, ti, table, &mut build_rng);
    }
    system_trees(&mut lay, &mut build_rng)?;
    let planted = super::plant::plant_deleted(&mut lay, &mut recs.deleted, &mut rng.fork(6));
    // Page numbers in use, the blank ones, the file size.
    let tree_pages_end = lay.next_page;
    let trailing = 1 + build_rng.below(16) as u32;
    let last_page = tree_pages_end - 1 + trailing;
    super::space::space_pages(
        &mut lay,
        &planted.fallback_pages,
        tree_pages_end,
        last_page,
        &mut build_rng,
    )?;
    let rendered = render(o, now, &mut lay, last_page, &mut build_rng)?;
    let truth = super::ground_truth::truth(o, &lay, &recs, &planted, &rendered, last_page);
    Ok(Generated {
        bytes: rendered.bytes,
        truth,
    })
}

/// Long-value ids in creation order (live and deleted interleaved), per table.
fn assign_lids(lid_rng: &mut Rng, recs: &mut Records) {
    for table in [Table::Jobs, Table::Files] {
        // (is_deleted, index)
        let mut order: Vec<(bool, usize)> = match table {
            Table::Jobs => (0..recs.jobs.len()).map(|i| (false, i)).collect(),
            Table::Files => (0..recs.files.len()).map(|i| (false, i)).collect(),
        };
        order.extend(
            recs.deleted
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
                (true, _) => recs.deleted[i].blob.lid = lid,
                (false, Table::Jobs) => recs.jobs[i].lid = lid,
                (false, Table::Files) => recs.files[i].lid = lid,
            }
        }
    }
}

/// One table's tree (rows sorted by key) and its long-value tree (live values, and those of
/// deleted rows still in the tree), with pages set aside among its extent for the deleted
/// blobs that need unreferenced pages.
fn table_trees(lay: &mut Layout, recs: &mut Records, ti: usize, table: Table, rng: &mut Rng) {
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
    let live = recs.live(ti);
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
    lay.table_rows[ti] = keyed.into_iter().map(|(_, i)| i).collect();
    let params = TreeParams {
        objid,
        root,
        kind: 0,
        space_header: space_header(1, pages::DB_ROOT, 1, oe),
        fill: (60, 92),
    };
    let mut alloc = Alloc::new(
        lay.next_page,
        Vec::new(),
        entries_size(&entries) / (BODY as u64 * 3 / 4) + 1,
        rng.fork(10 + ti as u64),
    );
    let tree = build_tree(&params, &entries, &mut || alloc.take(), rng);
    alloc.finish();
    lay.next_page = alloc.next;
    lay.tree_index[ti][0] = lay.placed.len();
    let placed = place(&mut lay.all, table.name(), objid, root, tree, Vec::new());
    lay.placed.push(placed);
    drop(entries);

    // Its long values.
    let entries = lv_tree_entries(lay, recs, ti, table);
    let pending: Vec<u32> = recs
        .deleted
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
        lay.next_page,
        pending,
        entries_size(&entries) / (BODY as u64 * 3 / 4) + 1,
        rng.fork(20 + ti as u64),
    );
    let tree = build_tree(&params, &entries, &mut || alloc.take(), rng);
    alloc.finish();
    lay.next_page = alloc.next;
    lay.tree_index[ti][1] = lay.placed.len();
    let available: Vec<u32> = alloc.placed.iter().flatten().copied().collect();
    let name = if table == Table::Jobs {
        "Jobs long values"
    } else {
        "Files long values"
    };
    let placed = place(&mut lay.all, name, lv_objid, lv_root, tree, available);
    lay.placed.push(placed);
    // Hand the set-aside groups to the deleted records that need them, in order.
    // (Groups were placed in no particular order: match them by size.)
    let (mut singles, mut pairs): (Vec<Vec<u32>>, Vec<Vec<u32>>) =
        alloc.placed.into_iter().partition(|g| g.len() == 1);
    singles.reverse();
    pairs.reverse();
    for d in recs.deleted.iter_mut().filter(|d| d.blob.table == table) {
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

/// The long-value tree's entries of table `ti`, in LID order: live values, and those of
/// deleted rows still in the tree (flagged deleted where the row's delete reached the tree);
/// each owner's entries are noted in `lay.lv_owner`.
fn lv_tree_entries(lay: &mut Layout, recs: &Records, ti: usize, table: Table) -> Vec<LeafEntry> {
    let live = recs.live(ti);
    let mut values: Vec<(u64, bool, usize)> = live
        .iter()
        .enumerate()
        .map(|(i, b)| (b.lid, false, i))
        .collect();
    values.extend(
        recs.deleted
            .iter()
            .enumerate()
            .filter(|(_, d)| d.blob.table == table && d.kind.in_lv_tree())
            .map(|(i, d)| (d.blob.lid, true, i)),
    );
    values.sort_unstable();
    let mut entries: Vec<LeafEntry> = Vec::new();
    for (_, del, i) in &values {
        let (blob, refcount, flags) = if *del {
            let d = &recs.deleted[*i];
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
        lay.lv_owner[ti].push((*del, *i, entries.len() + 1, e.len() - 1));
        entries.extend(e);
    }
    entries
}

/// The catalog and the small system tables: one root page each.
fn system_trees(lay: &mut Layout, rng: &mut Rng) -> Result<(), GenError> {
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
        let tree = build_tree(&params, t.entries, &mut no_alloc, rng);
        let placed = place(&mut lay.all, t.name, t.objid, t.root, tree, Vec::new());
        lay.placed.push(placed);
    }
    if no_alloc_used {
        return Err(GenError::Internal(
            "a system table did not fit in its root page".into(),
        ));
    }
    Ok(())
}

/// The file's bytes, and where each page's nodes and extras landed in them.
pub(super) struct Rendered {
    pub(super) bytes: Vec<u8>,
    pub(super) layouts: Vec<PageLayout>,
    /// Page numbers written (the others are blank).
    pub(super) written: HashSet<u32>,
    pub(super) db_time: u64,
}

/// The database root page, database times, every page rendered at its place, and the two
/// header copies.
fn render(
    o: &EseOptions,
    now: u64,
    lay: &mut Layout,
    last_page: u32,
    rng: &mut Rng,
) -> Result<Rendered, GenError> {
    let mut db_root = PageSpec::new(pages::DB_ROOT, objids::DB, FLAG_ROOT | FLAG_LEAF | 0x8000);
    db_root.tag0 = space_header(last_page.min(46), 0, 1, pages::DB_OE);
    lay.all.push(db_root);

    // Database times: every page older than the header's.
    let max_time = 0x1000 + 8 * u64::from(last_page);
    for p in lay.all.iter_mut() {
        if p.dbtime == 0 {
            p.dbtime = 0x40 + rng.below(max_time - 0x40);
        }
    }

    let mut written: HashSet<u32> = HashSet::with_capacity(lay.all.len());
    for p in &lay.all {
        if p.pgno == 0 || p.pgno > last_page || !written.insert(p.pgno) {
            return Err(GenError::Internal(format!(
                "page {} allocated twice or out of range",
                p.pgno
            )));
        }
    }
    let file_len = (last_page as usize + 2) * PAGE_SIZE;
    let mut bytes = vec![0u8; file_len];
    let mut layouts: Vec<PageLayout> = Vec::with_capacity(lay.all.len());
    for p in &lay.all {
        let at = page_offset(p.pgno) as usize;
        layouts.push(p.render(&mut bytes[at..at + PAGE_SIZE]));
    }
    let header = header_page(&HeaderParams {
        db_time: max_time + 1 + rng.below(64),
        signature_random: rng.next_u32(),
        log_signature_random: rng.next_u32(),
        created: now.saturating_sub(180 * FT_DAY + rng.below(400 * FT_DAY)),
        attached: now.saturating_sub(rng.below(FT_DAY)),
        format_revision: 0xc8,
        build: 22000,
        log_generation: 1 + rng.below(0x40) as u32,
        last_objid: objids::FILES_LV,
        win11_tail: o.win11_header,
    });
    bytes[..PAGE_SIZE].copy_from_slice(&header);
    bytes[PAGE_SIZE..2 * PAGE_SIZE].copy_from_slice(&header);
    let db_time = u64::from_le_bytes(header[0x10..0x18].try_into().unwrap_or([0; 8]));
    Ok(Rendered {
        bytes,
        layouts,
        written,
        db_time,
    })
}
