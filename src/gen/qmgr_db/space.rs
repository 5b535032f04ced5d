//! The space trees: for every object, its owned-extent page and its available-extent page,
//! from the pages the layout gave its trees (and the pages set aside among them).

use super::layout::{Layout, Placed};
use super::GenError;
use crate::gen::ese_writer::{index_kind, lv_kind, objids, pages, runs, space_tree_page};
use crate::gen::rng::Rng;

/// The space of one object: its owned-extent page (the available-extent page follows it).
struct SpaceOf {
    objid: u32,
    oe: u32,
    kind: u32,
    owned: Vec<u32>,
    available: Vec<u32>,
}

/// Page numbers of a tree's pages other than its root.
fn tree_pgnos(p: &Placed) -> Vec<u32> {
    p.pgnos.iter().copied().filter(|&n| n != p.root).collect()
}

/// Push every object's two space-tree pages: pages `1..=last_page` are the database's, those
/// from `tree_pages_end` on are available.
pub(super) fn space_pages(
    lay: &mut Layout,
    fallback_pages: &[Vec<u32>; 2],
    tree_pages_end: u32,
    last_page: u32,
    rng: &mut Rng,
) -> Result<(), GenError> {
    for sp in &objects(lay, fallback_pages, tree_pages_end, last_page) {
        for (page, list) in [(sp.oe, &sp.owned), (sp.oe + 1, &sp.available)] {
            let page =
                space_tree_page(page, sp.objid, sp.kind, &runs(list), rng).ok_or_else(|| {
                    GenError::Internal(format!(
                        "the extents of object {} need more than one space-tree page",
                        sp.objid
                    ))
                })?;
            lay.all.push(page);
        }
    }
    Ok(())
}

/// The owned and available pages of each object, the database's first.
fn objects(
    lay: &Layout,
    fallback_pages: &[Vec<u32>; 2],
    tree_pages_end: u32,
    last_page: u32,
) -> [SpaceOf; 9] {
    let jobs_p = &lay.placed[lay.tree_index[0][0]];
    let jobs_lv = &lay.placed[lay.tree_index[0][1]];
    let files_p = &lay.placed[lay.tree_index[1][0]];
    let files_lv = &lay.placed[lay.tree_index[1][1]];
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
    [
        SpaceOf {
            objid: objids::DB,
            oe: pages::DB_OE,
            kind: 0,
            owned: (1..=last_page).collect(),
            available: (tree_pages_end..=last_page).collect(),
        },
        SpaceOf {
            objid: objids::CATALOG,
            oe: pages::CATALOG_OE,
            kind: 0,
            owned: (pages::CATALOG..=pages::CATALOG_LAST).collect(),
            available: (pages::ROOT_INDEX_AE + 1..=pages::CATALOG_LAST).collect(),
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
            owned: (pages::SHADOW..=pages::SHADOW_LAST).collect(),
            available: (pages::SHADOW_AE + 1..=pages::SHADOW_LAST).collect(),
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
    ]
}
