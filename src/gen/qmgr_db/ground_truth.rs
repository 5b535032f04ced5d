//! The ground truth of a laid-out database: every tree's shape, every live record's row and
//! long-value pieces, every deleted blob's pieces, each with its file offset.

use super::layout::Rendered;
use super::layout::{Layout, Loc, Records};
use super::plant::Planted;
use super::EseOptions;
use crate::gen::ese_writer::{page_offset, PAGE_SIZE};
use crate::gen::sha256::sha256_hex;
use crate::gen::truth::{
    DatabaseTruth, DeletedRecord, LiveRecord, OptionsTruth, Piece, TreeTruth, Truth,
};
use crate::util::bytes::hex;
use crate::util::guid::Guid;

/// The truth of the database laid out in `lay`, rendered in `rendered`.
pub(super) fn truth(
    o: &EseOptions,
    lay: &Layout,
    recs: &Records,
    planted: &Planted,
    rendered: &Rendered,
    last_page: u32,
) -> Truth {
    let piece_of = |loc: &Loc| piece(lay, rendered, loc);
    let mut del_pieces: Vec<Vec<Piece>> = planted
        .locs
        .iter()
        .map(|l| l.iter().map(&piece_of).collect())
        .collect();
    let mut live_truth: [Vec<LiveRecord>; 2] = [Vec::new(), Vec::new()];
    for (ti, out) in live_truth.iter_mut().enumerate() {
        *out = live_records(o, lay, recs, ti, &piece_of, &mut del_pieces);
    }
    let deleted_truth: Vec<DeletedRecord> = recs
        .deleted
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
    let blank_pages: Vec<u32> = (1..=last_page)
        .filter(|p| !rendered.written.contains(p))
        .collect();
    let [jobs_truth, files_truth] = live_truth;
    Truth {
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
            file_size: rendered.bytes.len() as u64,
            page_size: PAGE_SIZE as u32,
            pages: last_page,
            blank_pages,
            format_version: 0x620,
            format_revision: 0xc8,
            state: 2,
            db_time: rendered.db_time,
            trees: trees(lay, planted),
        },
        jobs: jobs_truth,
        files: files_truth,
        deleted: deleted_truth,
    }
}

/// Where the bytes at `loc` landed in the file.
fn piece(lay: &Layout, rendered: &Rendered, loc: &Loc) -> Piece {
    match *loc {
        Loc::Node { page, node } => {
            let p = &lay.all[page];
            let at = rendered.layouts[page].node_at[node] + p.data_at[node];
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
            let p = &lay.all[page];
            Piece {
                offset: page_offset(p.pgno)
                    + (rendered.layouts[page].extra_at[extra] + skip) as u64,
                length: len as u64,
                page: p.pgno,
            }
        }
    }
}

/// Every tree's shape; the long-value trees' available pages include the fallback pages.
fn trees(lay: &Layout, planted: &Planted) -> Vec<TreeTruth> {
    let mut trees: Vec<TreeTruth> = lay
        .placed
        .iter()
        .map(|p| {
            let leaves = p.tree.leaves.len();
            TreeTruth {
                name: p.name.to_string(),
                objid: p.objid,
                root: p.root,
                depth: p.tree.depth,
                leaf_pages: leaves,
                branch_pages: p.pgnos.len() - leaves,
                nodes: p.tree.entry_at.len(),
                available_pages: p.available.clone(),
            }
        })
        .collect();
    for (ti, avail) in planted.fallback_pages.iter().enumerate() {
        if let Some(t) = trees.get_mut(lay.tree_index[ti][1]) {
            t.available_pages.extend(avail);
        }
    }
    trees
}

/// The live records of table `ti` in row order, each with its row and long-value pieces; the
/// long-value pieces of deleted blobs still in the tree go to `del_pieces`.
fn live_records(
    o: &EseOptions,
    lay: &Layout,
    recs: &Records,
    ti: usize,
    piece_of: &dyn Fn(&Loc) -> Piece,
    del_pieces: &mut [Vec<Piece>],
) -> Vec<LiveRecord> {
    let live = recs.live(ti);
    let lv = &lay.placed[lay.tree_index[ti][1]];
    let mut pieces_of: Vec<Vec<Piece>> = vec![Vec::new(); live.len()];
    for &(del, i, first, n) in &lay.lv_owner[ti] {
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
    let table = &lay.placed[lay.tree_index[ti][0]];
    let mut out = Vec::with_capacity(live.len());
    for (k, &i) in lay.table_rows[ti].iter().enumerate() {
        let (pg, node) = table.tree.entry_at[k];
        let row = piece_of(&Loc::Node {
            page: table.base + pg,
            node,
        });
        let b = &live[i];
        out.push(LiveRecord {
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
    out
}
