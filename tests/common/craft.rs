//! Hostile databases built in-process: a generated qmgr.db (see `src/gen/`) with some of its
//! trees rebuilt by the generator's own B-tree writer, so the reader sees well-formed pages that
//! say hostile things (decompression bombs, long values shared by many rows, catalogs naming
//! one root thousands of times, child pointers looping to an ancestor).
//!
//! Rebuilt trees keep their root page; their other pages are appended to the file. Every page
//! written carries valid checksums (the writer computes them).

use bitscope::gen::checksum::write_page_checksums;
use bitscope::gen::ese_writer::{
    self, blob_row, build_tree, catalog_entries, catalog_rows, key_guid, page_offset, pages,
    space_header, CatalogRow, LeafEntry, TreeParams, PAGE_SIZE,
};
use bitscope::gen::rng::Rng;
use bitscope::gen::{generate, EseOptions};

/// The first long-value id the generator hands out (8 bytes, top bit set: a 64-bit id).
pub const LID: u64 = 0x8000_0000_8000_0001;
/// Bytes an Xpress chunk from [`bomb_chunk`] declares.
pub const BOMB_CHUNK_OUT: u32 = 65_535;

/// A generated qmgr.db with `jobs` jobs (one file each).
pub fn generated(jobs: usize) -> Vec<u8> {
    generate(&EseOptions {
        jobs,
        ..EseOptions::default()
    })
    .expect("generates")
    .bytes
}

/// 14 bytes of Xpress that decode to 65,535 bytes: header (scheme 3, u16 size 0xFFFF), a flag
/// word (a literal, then a match), the literal 'A', and one match at offset 1 whose length
/// runs through the nibble, byte and u16 forms.
pub fn bomb_chunk() -> Vec<u8> {
    let mut c = vec![3 << 3, 0xFF, 0xFF];
    c.extend_from_slice(&0x4000_0000u32.to_le_bytes());
    c.push(b'A');
    c.extend_from_slice(&7u16.to_le_bytes());
    c.extend_from_slice(&[0x0F, 0xFF, 0xFF, 0xFF]);
    c
}

/// Long-value entries of one value `lid` of `chunks` bomb chunks, with `refcount`.
pub fn bomb_value(lid: u64, refcount: u32, chunks: u32) -> Vec<LeafEntry> {
    let size = chunks.saturating_mul(BOMB_CHUNK_OUT);
    let mut root = refcount.to_le_bytes().to_vec();
    root.extend_from_slice(&size.to_le_bytes());
    let mut out = vec![LeafEntry {
        key: lid.to_be_bytes().to_vec(),
        data: root,
        flags: 0,
    }];
    for i in 0..chunks {
        let mut key = lid.to_be_bytes().to_vec();
        key.extend_from_slice(&(i * BOMB_CHUNK_OUT).to_be_bytes());
        out.push(LeafEntry {
            key,
            data: bomb_chunk(),
            flags: 0,
        });
    }
    out
}

/// `n` Jobs rows (made-up Ids, sorted by key), every one's Blob pointing at long value `lid`.
pub fn rows_sharing(n: usize, lid: u64) -> Vec<LeafEntry> {
    let mut rng = Rng::new(7);
    let mut rows: Vec<LeafEntry> = (0..n)
        .map(|_| {
            let id = rng.guid();
            LeafEntry {
                key: key_guid(&id),
                data: blob_row(&id, lid),
                flags: 0,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    rows.dedup_by(|a, b| a.key == b.key);
    rows
}

/// The FDP object id written in page `pgno`'s header.
fn fdp_of(db: &[u8], pgno: u32) -> u32 {
    let at = page_offset(pgno) as usize + 0x18;
    u32::from_le_bytes(db[at..at + 4].try_into().unwrap())
}

/// Rebuild the tree rooted at `root` over `entries` (sorted by key): the root page is
/// rewritten in place, the other pages appended to the file.
pub fn replace_tree(db: &mut Vec<u8>, root: u32, kind: u32, entries: &[LeafEntry]) {
    let objid = fdp_of(db, root);
    let mut next = (db.len() / PAGE_SIZE) as u32 - 1;
    let mut alloc = || {
        next += 1;
        next - 1
    };
    let params = TreeParams {
        objid,
        root,
        kind,
        space_header: space_header(1, pages::DB_ROOT, 0, 0),
        fill: (90, 95),
    };
    let tree = build_tree(&params, entries, &mut alloc, &mut Rng::new(3));
    for page in &tree.pages {
        let at = page_offset(page.pgno) as usize;
        if db.len() < at + PAGE_SIZE {
            db.resize(at + PAGE_SIZE, 0);
        }
        page.render(&mut db[at..at + PAGE_SIZE]);
    }
}

/// The Jobs table's long-value tree replaced by `entries`.
pub fn with_jobs_long_values(db: &mut Vec<u8>, entries: &[LeafEntry]) {
    replace_tree(db, pages::JOBS_LV, ese_writer::lv_kind(), entries);
}

/// The Jobs table replaced by `rows`.
pub fn with_jobs_rows(db: &mut Vec<u8>, rows: &[LeafEntry]) {
    replace_tree(db, pages::JOBS, 0, rows);
}

/// The catalog (page 4) with `extra` more tables, every one rooted at page `root`.
pub fn with_tables_rooted_at(db: &mut Vec<u8>, extra: usize, root: u32) {
    let mut rows = catalog_rows();
    for i in 0..extra {
        let objid = 1000 + i as i32;
        rows.push(CatalogRow {
            objid_table: objid,
            kind: 1,
            id: objid,
            coltyp_or_fdp: root as i32,
            space_usage: 0,
            flags: 0,
            pages_or_locale: 0,
            root_flag: None,
            record_offset: None,
            lcmap_flags: None,
            name: format!("T{i}"),
            default_value: None,
            key_fld_ids: None,
            locale_name: None,
        });
    }
    let mut entries = catalog_entries(&rows);
    entries.sort_by(|a, b| a.key.cmp(&b.key));
    entries.dedup_by(|a, b| a.key == b.key);
    replace_tree(db, pages::CATALOG, 0, &entries);
}

/// Turn the last leaf under the Jobs root into a branch page whose first child pointer leads
/// back to the root: a loop to an ancestor. Needs a Jobs tree of two levels or more.
pub fn with_child_looping_to_root(db: &mut [u8]) {
    let root_at = page_offset(pages::JOBS) as usize;
    let root = &db[root_at..root_at + PAGE_SIZE];
    // Tag 0 is last in the page; the root's last node (its last child) is tag `count - 1`.
    let count = u16::from_le_bytes([root[0x22], root[0x23]]) as usize & 0x0FFF;
    assert!(count >= 2, "the Jobs root has no child");
    let last_child = node_data(root, count - 1);
    let child = u32::from_le_bytes(last_child[..4].try_into().unwrap());
    let at = page_offset(child) as usize;
    let page = &mut db[at..at + PAGE_SIZE];
    let node = node_data_offset(page, 1);
    page[node..node + 4].copy_from_slice(&pages::JOBS.to_le_bytes());
    // Clear the leaf flag: the page now claims to be a branch.
    page[0x24] &= !0x02;
    write_page_checksums(page, child);
}

/// The data of node `tag` of a large page (after its u16 key length and key; uncompressed
/// keys, as the generator writes branch pages' last nodes).
fn node_data(page: &[u8], tag: usize) -> &[u8] {
    let start = node_data_offset(page, tag);
    &page[start..]
}

/// Offset in the page of the data of node `tag` (key length u16, key, then the data).
fn node_data_offset(page: &[u8], tag: usize) -> usize {
    let t = PAGE_SIZE - 4 * (tag + 1);
    let off = u16::from_le_bytes([page[t + 2], page[t + 3]]) as usize & 0x7FFF;
    let node = 80 + off;
    let first = u16::from_le_bytes([page[node], page[node + 1]]);
    // A compressed node (flag 0x4 in the top three bits) has a prefix length before the suffix.
    let (head, suffix) = if first & 0x8000 != 0 {
        (
            4,
            u16::from_le_bytes([page[node + 2], page[node + 3]]) as usize,
        )
    } else {
        (2, (first & 0x1FFF) as usize)
    };
    node + head + suffix
}
