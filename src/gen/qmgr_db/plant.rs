//! The deleted blobs, planted where Windows leaves them: old long-value nodes in the slack or
//! holes of live leaf pages, or whole unreferenced pages (freed, stale, or a split pair) set
//! aside among the long-value tree's extent.

use super::layout::{lv_entries, Layout, Loc};
use super::{Deleted, Kind, Table};
use crate::ese::page::FLAG_LEAF;
use crate::gen::ese_writer::{encode_node, lv_kind, Extra, PageSpec};
use crate::gen::rng::Rng;

/// Where the deleted blobs went.
pub(super) struct Planted {
    /// Per deleted blob, the places of its bytes.
    pub(super) locs: Vec<Vec<Loc>>,
    /// Per table, the pages taken after the trees for blobs that found no room in a live page.
    pub(super) fallback_pages: [Vec<u32>; 2],
}

/// Plant every deleted blob: first those meant for live pages (a blob that finds no room
/// becomes a freed page of its own), then the unreferenced pages.
pub(super) fn plant_deleted(lay: &mut Layout, deleted: &mut [Deleted], rng: &mut Rng) -> Planted {
    let mut locs: Vec<Vec<Loc>> = vec![Vec::new(); deleted.len()];
    let mut fallback_pages: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
    // Per table: the long-value tree's objid, its leaf pages (global indexes), their numbers.
    let lv_leaves: Vec<(u32, Vec<usize>, Vec<u32>)> = (0..2)
        .map(|ti| {
            let lv = &lay.placed[lay.tree_index[ti][1]];
            let leaves: Vec<usize> = lv.tree.leaves.iter().map(|&l| lv.base + l).collect();
            let pgnos = leaves.iter().map(|&g| lay.all[g].pgno).collect();
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
        match plant_in_live_page(&mut lay.all, leaves, d, rng) {
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
            deleted[di].group = vec![lay.next_page];
            fallback_pages[ti].push(lay.next_page);
            lay.next_page += 1;
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
            locs[di] =
                unreferenced_pages(&mut lay.all, d, *lv_objid, cleared, live_leaf_pgnos, rng);
        }
    }
    Planted {
        locs,
        fallback_pages,
    }
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
