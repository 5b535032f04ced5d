//! A minimal ESE database writer: the file header, 16 KiB large-format pages with their ECC
//! checksums, records, B-trees (root, branch and leaf pages, any depth), space trees, and the
//! catalog of a Windows 10/11 qmgr.db.
//!
//! Everything here mirrors what the reader in `crate::ese` documents (offsets in `header.rs`,
//! `page.rs`, `record.rs`, `catalog.rs`) and what the real samples hold:
//!
//! * **Pages** (`page.rs`): 80-byte header (checksums of the four 4 KiB blocks at 0x00, 0x28,
//!   0x30, 0x38, page number at 0x40), then data growing up from offset 80 and the tag array
//!   growing down from the end of the page: u16 size, u16 offset (relative to the end of the
//!   header), tag 0 last. Node flags sit in the top 3 bits of the node's first u16. Tag 0 holds
//!   the space header on root pages and the common key prefix on the others.
//! * **Nodes**: `[u16 prefix length | flags << 13, when compressed] u16 suffix length, suffix,
//!   data`; branch data is the child page number (u32).
//! * **B-trees**: the key of a branch node is the shortest prefix of the first key of the next
//!   child that is greater than the last key of its own child (so every key of a child is less
//!   than its separator, and the separator is at most the next child's first key); the last
//!   node of a branch page has an empty key. Pages of a level are linked (prev/next); the last
//!   leaf links to nothing, since dissect.esedb follows the last leaf's `next`.
//! * **Records** (`record.rs`): last fixed id, last variable id, end of fixed data; fixed values
//!   (null ones filled with 0x2A, as the samples have them); the null bitmap (unused bits set);
//!   variable end offsets (bit 15 = null); the tagged array of (column id, offset) with a flags
//!   byte before each value (large pages).
//! * **Long values**: root node key = LID big-endian (8 bytes), data = u32 reference count,
//!   u32 size; chunk key = LID + u32 offset big-endian, at most [`LV_CHUNK`] bytes each (what
//!   the win10 sample's long-value pages hold).
//! * **Space trees**: leaf nodes with key = last page of an extent (u32 BE), data = page count.

use crate::ese::header::{xor_checksum, HEADER_BLOCK, SIGNATURE};
use crate::ese::page::{
    FLAG_EMPTY, FLAG_INDEX, FLAG_LEAF, FLAG_LONG_VALUE, FLAG_NEW_CHECKSUM, FLAG_NEW_RECORD_FORMAT,
    FLAG_PARENT, FLAG_ROOT, FLAG_SPACE_TREE, NODE_COMPRESSED,
};
use crate::gen::checksum::write_page_checksums;

use super::rng::Rng;

pub const PAGE_SIZE: usize = 16384;
pub const PAGE_HEADER: usize = 80;
/// Bytes of a page after its header: data, free space and tag array.
pub const BODY: usize = PAGE_SIZE - PAGE_HEADER;
/// Largest long-value chunk on 16 KiB pages (the chunks of the win10 sample's long values).
pub const LV_CHUNK: usize = 4050;
/// The two "flush type" page flags ESE alternates between writes (0x8000, 0x10000).
const FLUSH_FLAGS: [u32; 2] = [0x8000, 0x10000];
/// What null fixed columns are filled with in the samples' records.
const NULL_FILL: u8 = 0x2A;

/// File offset of database page `pgno` (pages 0 and 1 of the file are the header copies).
pub fn page_offset(pgno: u32) -> u64 {
    (u64::from(pgno) + 1) * PAGE_SIZE as u64
}

/// Encode a node: flags in the top 3 bits of the first u16; `prefix_len` > 0 means compressed.
pub fn encode_node(flags: u8, prefix_len: usize, suffix: &[u8], data: &[u8]) -> Vec<u8> {
    let mut n = Vec::with_capacity(4 + suffix.len() + data.len());
    let flags = u16::from(flags & 0x7);
    if prefix_len > 0 {
        let f = flags | u16::from(NODE_COMPRESSED);
        n.extend_from_slice(&((prefix_len as u16 & 0x1FFF) | (f << 13)).to_le_bytes());
        n.extend_from_slice(&(suffix.len() as u16 & 0x1FFF).to_le_bytes());
    } else {
        n.extend_from_slice(&((suffix.len() as u16 & 0x1FFF) | (flags << 13)).to_le_bytes());
    }
    n.extend_from_slice(suffix);
    n.extend_from_slice(data);
    n
}

/// Bytes a node takes before its data, given its encoding.
fn node_head_len(prefix_len: usize, suffix_len: usize) -> usize {
    if prefix_len > 0 {
        4 + suffix_len
    } else {
        2 + suffix_len
    }
}

/// Bytes that are in a page body but referenced by no tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extra {
    /// Inside the data area, right after node `after` (fragmented free space, counted in the
    /// page's free-byte count); `after` = `usize::MAX` puts it right after tag 0.
    Hole { after: usize, bytes: Vec<u8> },
    /// In the contiguous free space past the data area, at `at` bytes from the end of the
    /// header (stale data a page reorganization left behind).
    Slack { at: usize, bytes: Vec<u8> },
}

/// One page before rendering.
#[derive(Debug, Clone)]
pub struct PageSpec {
    pub pgno: u32,
    pub fdp: u32,
    pub flags: u32,
    pub prev: u32,
    pub next: u32,
    pub dbtime: u64,
    pub tag0: Vec<u8>,
    /// Encoded nodes, in tag order.
    pub nodes: Vec<Vec<u8>>,
    /// Offset of each node's data inside its encoded bytes.
    pub data_at: Vec<usize>,
    pub extras: Vec<Extra>,
    /// A freed page: the header says "empty" with no nodes (tag 0 of size 0, nothing in use),
    /// but the old tag 0 and node bytes are still in the body.
    pub cleared: bool,
}

/// Where things landed in a rendered page: offsets from the start of the page.
#[derive(Debug, Clone, Default)]
pub struct PageLayout {
    pub node_at: Vec<usize>,
    pub extra_at: Vec<usize>,
}

impl PageSpec {
    pub fn new(pgno: u32, fdp: u32, flags: u32) -> PageSpec {
        PageSpec {
            pgno,
            fdp,
            flags,
            prev: 0,
            next: 0,
            dbtime: 0,
            tag0: Vec::new(),
            nodes: Vec::new(),
            data_at: Vec::new(),
            extras: Vec::new(),
            cleared: false,
        }
    }

    pub fn push_node(&mut self, flags: u8, prefix_len: usize, suffix: &[u8], data: &[u8]) {
        self.data_at.push(node_head_len(prefix_len, suffix.len()));
        self.nodes
            .push(encode_node(flags, prefix_len, suffix, data));
    }

    fn place_holes(&self, after: usize, out: &mut [u8], pos: &mut usize, layout: &mut PageLayout) {
        for (k, e) in self.extras.iter().enumerate() {
            if let Extra::Hole { after: a, bytes } = e {
                if *a == after {
                    write_at(out, *pos, bytes);
                    layout.extra_at[k] = PAGE_HEADER + *pos;
                    *pos += bytes.len();
                }
            }
        }
    }

    fn holes_len(&self) -> usize {
        self.extras
            .iter()
            .map(|e| match e {
                Extra::Hole { bytes, .. } => bytes.len(),
                Extra::Slack { .. } => 0,
            })
            .sum()
    }

    /// End of the data area (ibMicFree), relative to the end of the header.
    pub fn data_end(&self) -> usize {
        self.tag0.len() + self.nodes.iter().map(Vec::len).sum::<usize>() + self.holes_len()
    }

    pub fn tag_count(&self) -> usize {
        1 + self.nodes.len()
    }

    /// The contiguous free space between the data area and the tag array (relative offsets).
    pub fn free_range(&self) -> (usize, usize) {
        (self.data_end(), BODY.saturating_sub(4 * self.tag_count()))
    }

    /// Bytes a new node (plus its tag) can take.
    pub fn room(&self) -> usize {
        let (s, e) = self.free_range();
        e.saturating_sub(s).saturating_sub(4)
    }

    /// Render into `out` (one page), checksums included.
    pub fn render(&self, out: &mut [u8]) -> PageLayout {
        out.fill(0);
        let mut layout = PageLayout {
            node_at: Vec::with_capacity(self.nodes.len()),
            extra_at: vec![0; self.extras.len()],
        };
        let mut tags: Vec<(usize, usize)> = Vec::with_capacity(self.tag_count());
        let mut pos = 0usize;
        write_at(out, pos, &self.tag0);
        tags.push((self.tag0.len(), pos));
        pos += self.tag0.len();
        self.place_holes(usize::MAX, out, &mut pos, &mut layout);
        for (i, n) in self.nodes.iter().enumerate() {
            write_at(out, pos, n);
            tags.push((n.len(), pos));
            layout.node_at.push(PAGE_HEADER + pos);
            pos += n.len();
            self.place_holes(i, out, &mut pos, &mut layout);
        }
        let data_end = pos;
        for (k, e) in self.extras.iter().enumerate() {
            if let Extra::Slack { at, bytes } = e {
                write_at(out, *at, bytes);
                layout.extra_at[k] = PAGE_HEADER + at;
            }
        }
        let (ntags, ib_mic_free, free) = if self.cleared {
            (1usize, 0usize, BODY - 4)
        } else {
            let ntags = tags.len();
            (
                ntags,
                data_end,
                BODY - data_end - 4 * ntags + self.holes_len(),
            )
        };
        // Tag array: tag i at the end of the page minus 4·(i+1).
        for (i, (size, off)) in tags.iter().enumerate().take(ntags) {
            let (size, off) = if self.cleared { (0, 0) } else { (*size, *off) };
            let at = PAGE_SIZE - 4 * (i + 1);
            if let Some(dst) = out.get_mut(at..at + 4) {
                dst[..2].copy_from_slice(&(size as u16 & 0x7FFF).to_le_bytes());
                dst[2..].copy_from_slice(&(off as u16 & 0x7FFF).to_le_bytes());
            }
        }
        let mut flags = self.flags | FLAG_NEW_RECORD_FORMAT | FLAG_NEW_CHECKSUM;
        if self.cleared {
            flags |= FLAG_EMPTY;
        }
        out[0x08..0x10].copy_from_slice(&self.dbtime.to_le_bytes());
        out[0x10..0x14].copy_from_slice(&self.prev.to_le_bytes());
        out[0x14..0x18].copy_from_slice(&self.next.to_le_bytes());
        out[0x18..0x1c].copy_from_slice(&self.fdp.to_le_bytes());
        out[0x1c..0x1e].copy_from_slice(&(free as u16).to_le_bytes());
        out[0x1e..0x20].copy_from_slice(&0u16.to_le_bytes());
        out[0x20..0x22].copy_from_slice(&(ib_mic_free as u16).to_le_bytes());
        out[0x22..0x24].copy_from_slice(&(ntags as u16).to_le_bytes());
        out[0x24..0x28].copy_from_slice(&flags.to_le_bytes());
        write_page_checksums(out, self.pgno);
        layout
    }
}

/// Copy `bytes` to `rel` bytes past the page header (silently clipped at the page end).
fn write_at(out: &mut [u8], rel: usize, bytes: &[u8]) {
    let at = PAGE_HEADER + rel;
    if let Some(dst) = out.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

/// A leaf entry of a B-tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafEntry {
    pub key: Vec<u8>,
    pub data: Vec<u8>,
    /// Node flags (e.g. `NODE_DELETED`).
    pub flags: u8,
}

/// The 16-byte space header in tag 0 of a tree's root page.
pub fn space_header(primary_pages: u32, parent_fdp: u32, flags: u32, oe_page: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(16);
    for v in [primary_pages, parent_fdp, flags, oe_page] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    h
}

/// How a tree is shaped.
#[derive(Debug, Clone)]
pub struct TreeParams {
    pub objid: u32,
    pub root: u32,
    /// FLAG_INDEX, FLAG_LONG_VALUE or 0.
    pub kind: u32,
    /// Tag 0 of the root page.
    pub space_header: Vec<u8>,
    /// Leaf and branch pages are filled to between these fractions of a page (per cent).
    pub fill: (u64, u64),
}

/// A built tree: its pages (not yet rendered) and where each leaf entry went.
#[derive(Debug, Clone)]
pub struct BuiltTree {
    pub pages: Vec<PageSpec>,
    /// Levels including the leaves (1 = the root is a leaf).
    pub depth: usize,
    /// For each leaf entry, in input order: index into `pages`, node index.
    pub entry_at: Vec<(usize, usize)>,
    /// Indexes into `pages` of the leaf pages, in key order.
    pub leaves: Vec<usize>,
}

fn lcp(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// The shortest prefix of `right` that sorts after `left` (`left` < `right`).
pub fn separator(left: &[u8], right: &[u8]) -> Vec<u8> {
    let i = lcp(left, right);
    right[..(i + 1).min(right.len())].to_vec()
}

/// One node to place on a page: its key, data and flags.
struct Item<'a> {
    key: &'a [u8],
    data: &'a [u8],
    flags: u8,
    /// Branch pages: an empty key is forced on the last node of each page.
    empty_ok: bool,
}

fn raw_size(it: &Item<'_>) -> usize {
    2 + it.key.len() + it.data.len() + 4
}

/// Put `items` on a non-root page, compressing keys against their common prefix when it saves
/// space. For branch pages the last item's key is dropped (empty).
fn fill_page(page: &mut PageSpec, items: &[Item<'_>], branch: bool) {
    let n = items.len();
    let keyed = if branch { n.saturating_sub(1) } else { n };
    let prefix_len = match (items.first(), items.get(keyed.wrapping_sub(1))) {
        (Some(a), Some(b)) if keyed >= 2 => lcp(a.key, b.key),
        _ => 0,
    };
    let prefix_len = if prefix_len >= 3 { prefix_len } else { 0 };
    page.tag0 = items
        .first()
        .map(|it| it.key[..prefix_len].to_vec())
        .unwrap_or_default();
    for (i, it) in items.iter().enumerate() {
        if branch && i + 1 == n && it.empty_ok {
            page.push_node(it.flags, 0, &[], it.data);
        } else if prefix_len > 0 {
            page.push_node(it.flags, prefix_len, &it.key[prefix_len..], it.data);
        } else {
            page.push_node(it.flags, 0, it.key, it.data);
        }
    }
}

/// Split `items` into page-sized runs: each page filled to a random target between the fill
/// bounds (at least one item per page).
fn pack(items: &[Item<'_>], fill: (u64, u64), rng: &mut Rng) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut start = 0;
    while start < items.len() {
        let target = (BODY as u64 * rng.range(fill.0, fill.1) / 100) as usize;
        let mut used = 4; // tag 0 (its prefix bytes are paid for by the compression)
        let mut end = start;
        while end < items.len() {
            let s = raw_size(&items[end]);
            if end > start && (used + s > target || used + s > BODY) {
                break;
            }
            used += s;
            end += 1;
        }
        runs.push(start..end);
        start = end;
    }
    runs
}

fn page_flags(kind: u32, leaf: bool, parent_of_leaf: bool, root: bool, rng: &mut Rng) -> u32 {
    let mut f = kind | FLUSH_FLAGS[rng.index(2)];
    if leaf {
        f |= FLAG_LEAF;
    }
    if parent_of_leaf {
        f |= FLAG_PARENT;
    }
    if root {
        f |= FLAG_ROOT;
    }
    f
}

/// Build a B-tree over `entries` (sorted by key, unique). Non-root pages come from `alloc`,
/// leaves first in key order, then each branch level.
pub fn build_tree(
    params: &TreeParams,
    entries: &[LeafEntry],
    alloc: &mut dyn FnMut() -> u32,
    rng: &mut Rng,
) -> BuiltTree {
    let items: Vec<Item<'_>> = entries
        .iter()
        .map(|e| Item {
            key: &e.key,
            data: &e.data,
            flags: e.flags,
            empty_ok: false,
        })
        .collect();
    let root_room = BODY - 4 - params.space_header.len();
    let total: usize = items.iter().map(raw_size).sum();
    let mut tree = BuiltTree {
        pages: Vec::new(),
        depth: 1,
        entry_at: Vec::with_capacity(entries.len()),
        leaves: Vec::new(),
    };
    if total <= root_room {
        let mut root = PageSpec::new(
            params.root,
            params.objid,
            page_flags(params.kind, true, false, true, rng),
        );
        root.tag0 = params.space_header.clone();
        for (i, it) in items.iter().enumerate() {
            root.push_node(it.flags, 0, it.key, it.data);
            tree.entry_at.push((0, i));
        }
        tree.pages.push(root);
        tree.leaves.push(0);
        return tree;
    }

    // Leaves.
    struct Child {
        pgno: u32,
        page: usize,
        first: Vec<u8>,
        last: Vec<u8>,
    }
    let mut level: Vec<Child> = Vec::new();
    for run in pack(&items, params.fill, rng) {
        let pgno = alloc();
        let mut page = PageSpec::new(
            pgno,
            params.objid,
            page_flags(params.kind, true, false, false, rng),
        );
        fill_page(&mut page, &items[run.clone()], false);
        let idx = tree.pages.len();
        for (n, _) in run.clone().enumerate() {
            tree.entry_at.push((idx, n));
        }
        level.push(Child {
            pgno,
            page: idx,
            first: items[run.start].key.to_vec(),
            last: items[run.end - 1].key.to_vec(),
        });
        tree.leaves.push(idx);
        tree.pages.push(page);
    }
    link(&mut tree.pages, level.iter().map(|c| c.page));

    // Branch levels until one fits in the root.
    let mut parent_of_leaf = true;
    loop {
        tree.depth += 1;
        let seps: Vec<Vec<u8>> = (0..level.len())
            .map(|i| match level.get(i + 1) {
                Some(next) => separator(&level[i].last, &next.first),
                None => Vec::new(),
            })
            .collect();
        let datas: Vec<[u8; 4]> = level.iter().map(|c| c.pgno.to_le_bytes()).collect();
        let bitems: Vec<Item<'_>> = seps
            .iter()
            .zip(&datas)
            .map(|(k, d)| Item {
                key: k,
                data: d,
                flags: 0,
                empty_ok: true,
            })
            .collect();
        let total: usize = bitems.iter().map(raw_size).sum();
        if total <= root_room {
            let mut root = PageSpec::new(
                params.root,
                params.objid,
                page_flags(params.kind, false, parent_of_leaf, true, rng),
            );
            root.tag0 = params.space_header.clone();
            let n = bitems.len();
            for (i, it) in bitems.iter().enumerate() {
                let key: &[u8] = if i + 1 == n { &[] } else { it.key };
                root.push_node(0, 0, key, it.data);
            }
            tree.pages.push(root);
            return tree;
        }
        let mut next_level = Vec::new();
        for run in pack(&bitems, params.fill, rng) {
            let pgno = alloc();
            let mut page = PageSpec::new(
                pgno,
                params.objid,
                page_flags(params.kind, false, parent_of_leaf, false, rng),
            );
            fill_page(&mut page, &bitems[run.clone()], true);
            let idx = tree.pages.len();
            next_level.push(Child {
                pgno,
                page: idx,
                first: level[run.start].first.clone(),
                last: level[run.end - 1].last.clone(),
            });
            tree.pages.push(page);
        }
        link(&mut tree.pages, next_level.iter().map(|c| c.page));
        level = next_level;
        parent_of_leaf = false;
    }
}

/// Link pages (given by index, in order) through prev/next.
fn link(pages: &mut [PageSpec], order: impl Iterator<Item = usize>) {
    let order: Vec<usize> = order.collect();
    for w in order.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (pa, pb) = (pages[a].pgno, pages[b].pgno);
        pages[a].next = pb;
        pages[b].prev = pa;
    }
}

/// Most extent runs one space-tree page holds (14 bytes each with its tag).
pub const MAX_SPACE_RUNS: usize = (BODY - 20) / 14;

/// A space-tree page (owned or available extents) of object `objid`: key = last page of each
/// run (u32 BE), data = its length. `None` when the runs do not fit in one page (the generator
/// keeps its extents in few runs, so its space trees never need a second level).
pub fn space_tree_page(
    pgno: u32,
    objid: u32,
    kind: u32,
    runs: &[(u32, u32)],
    rng: &mut Rng,
) -> Option<PageSpec> {
    if runs.len() > MAX_SPACE_RUNS {
        return None;
    }
    let mut p = PageSpec::new(
        pgno,
        objid,
        kind | FLAG_SPACE_TREE | FLAG_ROOT | FLAG_LEAF | FLUSH_FLAGS[rng.index(2)],
    );
    p.tag0 = vec![0u8; 16];
    for (last, count) in runs {
        p.push_node(0, 0, &last.to_be_bytes(), &count.to_le_bytes());
    }
    Some(p)
}

/// Group page numbers into runs of consecutive pages: (last page, count), ascending.
pub fn runs(pages: &[u32]) -> Vec<(u32, u32)> {
    let mut v: Vec<u32> = pages.to_vec();
    v.sort_unstable();
    v.dedup();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for p in v {
        match out.last_mut() {
            Some((last, count)) if *last + 1 == p => {
                *last = p;
                *count += 1;
            }
            _ => out.push((p, 1)),
        }
    }
    out
}

/// A record builder (see the module docs for the layout).
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// Fixed columns 1..=n: (size, value or null).
    pub fixed: Vec<(usize, Option<Vec<u8>>)>,
    /// Variable columns 128..: value or null.
    pub var: Vec<Option<Vec<u8>>>,
    /// Tagged columns, ascending id: (id, flags byte, value).
    pub tagged: Vec<(u16, u8, Vec<u8>)>,
}

impl Record {
    pub fn encode(&self) -> Vec<u8> {
        let last_fixed = self.fixed.len();
        let bitmap_len = last_fixed.div_ceil(8);
        let fixed_len: usize = self.fixed.iter().map(|(s, _)| s).sum();
        let end_fixed = 4 + fixed_len + bitmap_len;
        let mut r = Vec::with_capacity(end_fixed + 64);
        r.push(last_fixed as u8);
        r.push((127 + self.var.len()) as u8);
        r.extend_from_slice(&(end_fixed as u16).to_le_bytes());
        let mut bitmap = vec![0u8; bitmap_len];
        for (i, (size, v)) in self.fixed.iter().enumerate() {
            match v {
                Some(b) => {
                    let mut b = b.clone();
                    b.resize(*size, 0);
                    r.extend_from_slice(&b);
                }
                None => {
                    r.extend(std::iter::repeat_n(NULL_FILL, *size));
                    bitmap[i / 8] |= 1 << (i % 8);
                }
            }
        }
        for i in last_fixed..bitmap_len * 8 {
            bitmap[i / 8] |= 1 << (i % 8);
        }
        r.extend_from_slice(&bitmap);
        let mut end = 0u16;
        let mut var_data = Vec::new();
        for v in &self.var {
            match v {
                Some(b) => {
                    end += b.len() as u16;
                    var_data.extend_from_slice(b);
                    r.extend_from_slice(&end.to_le_bytes());
                }
                None => r.extend_from_slice(&(end | 0x8000).to_le_bytes()),
            }
        }
        r.extend_from_slice(&var_data);
        let mut off = 4 * self.tagged.len();
        for (id, _, v) in &self.tagged {
            r.extend_from_slice(&id.to_le_bytes());
            r.extend_from_slice(&(off as u16).to_le_bytes());
            off += 1 + v.len();
        }
        for (_, flags, v) in &self.tagged {
            r.push(*flags);
            r.extend_from_slice(v);
        }
        r
    }
}

/// Normalized key segment of a signed 32-bit integer column (0x7F, then big-endian with the
/// sign bit flipped).
pub fn key_i32(v: i32) -> [u8; 5] {
    let b = ((v as u32) ^ 0x8000_0000).to_be_bytes();
    [0x7F, b[0], b[1], b[2], b[3]]
}

/// Normalized key segment of a signed 16-bit integer column.
pub fn key_i16(v: i16) -> [u8; 3] {
    let b = ((v as u16) ^ 0x8000).to_be_bytes();
    [0x7F, b[0], b[1]]
}

/// Normalized key of a GUID column: 0x7F, then the stored bytes reordered
/// [10..16], [8..10], [6..8], [4..6], [0..4] (as the Jobs/Files keys of the samples).
pub fn key_guid(g: &[u8; 16]) -> Vec<u8> {
    let mut k = Vec::with_capacity(17);
    k.push(0x7F);
    k.extend_from_slice(&g[10..16]);
    k.extend_from_slice(&g[8..10]);
    k.extend_from_slice(&g[6..8]);
    k.extend_from_slice(&g[4..6]);
    k.extend_from_slice(&g[0..4]);
    k
}

/// Normalized key of an ASCII text column (code page 1252): 0x7F, upper case, NUL.
pub fn key_text(s: &str) -> Vec<u8> {
    let mut k = vec![0x7F];
    k.extend(s.bytes().map(|b| b.to_ascii_uppercase()));
    k.push(0);
    k
}

/// Normalized key of a binary column: 0x7F, then 8-byte segments each followed by 0x09 when
/// more follow; the last segment zero-padded and followed by its count of significant bytes.
pub fn key_binary(b: &[u8]) -> Vec<u8> {
    let mut k = vec![0x7F];
    let mut chunks = b.chunks(8).peekable();
    if chunks.peek().is_none() {
        k.extend_from_slice(&[0u8; 8]);
        k.push(0);
    }
    while let Some(c) = chunks.next() {
        let mut seg = [0u8; 8];
        seg[..c.len()].copy_from_slice(c);
        k.extend_from_slice(&seg);
        k.push(if chunks.peek().is_some() {
            9
        } else {
            c.len() as u8
        });
    }
    k
}

/// The record of a `Jobs`/`Files` row: fixed column 1 `Id` (GUID), tagged column 256 `Blob`
/// as a separated long value (flags 0x05) holding the 8-byte LID little-endian.
pub fn blob_row(id: &[u8; 16], lid: u64) -> Vec<u8> {
    Record {
        fixed: vec![(16, Some(id.to_vec()))],
        var: Vec::new(),
        tagged: vec![(256, 0x05, lid.to_le_bytes().to_vec())],
    }
    .encode()
}

// ---------------------------------------------------------------------------------------------
// The catalog of a qmgr.db.
// ---------------------------------------------------------------------------------------------

/// Root pages of the catalog's objects: the same as in the real samples.
pub mod pages {
    pub const DB_ROOT: u32 = 1;
    pub const DB_OE: u32 = 2;
    pub const DB_AE: u32 = 3;
    pub const CATALOG: u32 = 4;
    pub const CATALOG_OE: u32 = 5;
    pub const CATALOG_AE: u32 = 6;
    pub const NAME_INDEX: u32 = 7;
    pub const NAME_INDEX_OE: u32 = 8;
    pub const NAME_INDEX_AE: u32 = 9;
    pub const ROOT_INDEX: u32 = 10;
    pub const ROOT_INDEX_OE: u32 = 11;
    pub const ROOT_INDEX_AE: u32 = 12;
    /// The catalog's primary extent: pages 4..=23.
    pub const CATALOG_LAST: u32 = 23;
    pub const SHADOW: u32 = 24;
    pub const SHADOW_OE: u32 = 25;
    pub const SHADOW_AE: u32 = 26;
    pub const SHADOW_LAST: u32 = 28;
    pub const OBJIDS: u32 = 29;
    pub const LOCALES: u32 = 30;
    pub const JOBS: u32 = 31;
    pub const FILES: u32 = 32;
    pub const JOBS_OE: u32 = 33;
    pub const JOBS_AE: u32 = 34;
    pub const JOBS_SPARE: u32 = 35;
    pub const JOBS_LV: u32 = 36;
    pub const FILES_OE: u32 = 37;
    pub const FILES_AE: u32 = 38;
    pub const FILES_SPARE: u32 = 39;
    pub const FILES_LV: u32 = 40;
    pub const JOBS_LV_OE: u32 = 41;
    pub const JOBS_LV_AE: u32 = 42;
    pub const FILES_LV_OE: u32 = 43;
    pub const FILES_LV_AE: u32 = 44;
    /// First page the generator allocates to tree pages.
    pub const FIRST_FREE: u32 = 45;
}

/// Object ids, as in the samples.
pub mod objids {
    pub const DB: u32 = 1;
    pub const CATALOG: u32 = 2;
    pub const SHADOW: u32 = 3;
    pub const NAME_INDEX: u32 = 4;
    pub const ROOT_INDEX: u32 = 5;
    pub const OBJIDS: u32 = 6;
    pub const LOCALES: u32 = 7;
    pub const JOBS: u32 = 8;
    pub const FILES: u32 = 9;
    pub const JOBS_LV: u32 = 10;
    pub const FILES_LV: u32 = 11;
}

/// One catalog (MSysObjects) row.
#[derive(Debug, Clone)]
pub struct CatalogRow {
    pub objid_table: i32,
    pub kind: i16,
    pub id: i32,
    pub coltyp_or_fdp: i32,
    pub space_usage: i32,
    pub flags: i32,
    pub pages_or_locale: i32,
    pub root_flag: Option<bool>,
    pub record_offset: Option<i16>,
    pub lcmap_flags: Option<i32>,
    pub name: String,
    pub default_value: Option<Vec<u8>>,
    pub key_fld_ids: Option<Vec<u8>>,
    pub locale_name: Option<Vec<u8>>,
}

impl CatalogRow {
    fn base(objid_table: u32, kind: i16, id: i32, name: &str) -> CatalogRow {
        CatalogRow {
            objid_table: objid_table as i32,
            kind,
            id,
            coltyp_or_fdp: 0,
            space_usage: 0,
            flags: 0,
            pages_or_locale: 0,
            root_flag: None,
            record_offset: None,
            lcmap_flags: None,
            name: name.to_string(),
            default_value: None,
            key_fld_ids: None,
            locale_name: None,
        }
    }

    pub fn key(&self) -> Vec<u8> {
        let mut k = Vec::with_capacity(13);
        k.extend_from_slice(&key_i32(self.objid_table));
        k.extend_from_slice(&key_i16(self.kind));
        k.extend_from_slice(&key_i32(self.id));
        k
    }

    /// The record, with as many fixed columns as the samples' rows of this kind carry.
    pub fn record(&self) -> Vec<u8> {
        let i32v = |v: i32| Some(v.to_le_bytes().to_vec());
        let mut fixed: Vec<(usize, Option<Vec<u8>>)> = vec![
            (4, i32v(self.objid_table)),
            (2, Some(self.kind.to_le_bytes().to_vec())),
            (4, i32v(self.id)),
            (4, i32v(self.coltyp_or_fdp)),
            (4, i32v(self.space_usage)),
            (4, i32v(self.flags)),
            (4, i32v(self.pages_or_locale)),
        ];
        let n_fixed = if self.lcmap_flags.is_some() {
            10
        } else if self.record_offset.is_some() {
            9
        } else if self.root_flag.is_some() {
            8
        } else {
            7
        };
        if n_fixed >= 8 {
            fixed.push((1, self.root_flag.map(|b| vec![if b { 0xFF } else { 0 }])));
        }
        if n_fixed >= 9 {
            fixed.push((2, self.record_offset.map(|v| v.to_le_bytes().to_vec())));
        }
        if n_fixed >= 10 {
            fixed.push((4, self.lcmap_flags.map(|v| v.to_le_bytes().to_vec())));
        }
        let mut var = vec![Some(self.name.as_bytes().to_vec())];
        if self.default_value.is_some() || self.key_fld_ids.is_some() {
            var.push(None); // Stats
            var.push(None); // TemplateTable
            var.push(self.default_value.clone());
        }
        if self.key_fld_ids.is_some() {
            var.push(self.key_fld_ids.clone());
        }
        let tagged = self
            .locale_name
            .iter()
            .map(|l| (261u16, 0x01u8, l.clone()))
            .collect();
        Record { fixed, var, tagged }.encode()
    }
}

/// JET_coltyp numbers used by the catalog.
mod coltyp {
    pub const BIT: i32 = 1;
    pub const UNSIGNED_BYTE: i32 = 2;
    pub const SHORT: i32 = 3;
    pub const LONG: i32 = 4;
    pub const BINARY: i32 = 9;
    pub const TEXT: i32 = 10;
    pub const LONG_BINARY: i32 = 11;
    pub const GUID: i32 = 16;
    pub const UNSIGNED_SHORT: i32 = 17;
}

/// "en-US" as UTF-16LE, the LocaleName of every index row sampled.
fn en_us() -> Vec<u8> {
    "en-US".encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Key segment list (KeyFldIDs): 4 bytes per segment, the column id in the high u16.
fn key_fields(ids: &[u16]) -> Vec<u8> {
    ids.iter()
        .flat_map(|id| {
            let b = id.to_le_bytes();
            [0, 0, b[0], b[1]]
        })
        .collect()
}

fn table_row(objid: u32, fdp: u32, space: i32, flags: u32, pages: i32, name: &str) -> CatalogRow {
    CatalogRow {
        coltyp_or_fdp: fdp as i32,
        space_usage: space,
        flags: flags as i32,
        pages_or_locale: pages,
        root_flag: Some(true),
        ..CatalogRow::base(objid, 1, objid as i32, name)
    }
}

#[allow(clippy::too_many_arguments)]
fn column_row(
    table: u32,
    id: i32,
    name: &str,
    coltyp: i32,
    space: i32,
    flags: i32,
    codepage: i32,
    record_offset: Option<i16>,
) -> CatalogRow {
    CatalogRow {
        coltyp_or_fdp: coltyp,
        space_usage: space,
        flags,
        pages_or_locale: codepage,
        record_offset,
        ..CatalogRow::base(table, 2, id, name)
    }
}

fn index_row(
    table: u32,
    id: u32,
    fdp: u32,
    density: i32,
    flags: i32,
    name: &str,
    fields: &[u16],
) -> CatalogRow {
    CatalogRow {
        coltyp_or_fdp: fdp as i32,
        space_usage: density,
        flags,
        pages_or_locale: 0,
        lcmap_flags: Some(0x0003_0401),
        key_fld_ids: Some(key_fields(fields)),
        locale_name: Some(en_us()),
        ..CatalogRow::base(table, 3, id as i32, name)
    }
}

fn lv_row(table: u32, id: u32, fdp: u32) -> CatalogRow {
    CatalogRow {
        coltyp_or_fdp: fdp as i32,
        space_usage: 100,
        flags: 0,
        pages_or_locale: 1,
        ..CatalogRow::base(table, 4, id as i32, "LV")
    }
}

/// The columns of MSysObjects (and of its shadow): id, name, type, size, flags.
const CATALOG_COLUMNS: [(i32, &str, i32, i32, i32); 28] = [
    (1, "ObjidTable", coltyp::LONG, 4, 1),
    (2, "Type", coltyp::SHORT, 2, 1),
    (3, "Id", coltyp::LONG, 4, 1),
    (4, "ColtypOrPgnoFDP", coltyp::LONG, 4, 1),
    (5, "SpaceUsage", coltyp::LONG, 4, 1),
    (6, "Flags", coltyp::LONG, 4, 1),
    (7, "PagesOrLocale", coltyp::LONG, 4, 1),
    (8, "RootFlag", coltyp::BIT, 1, 0),
    (9, "RecordOffset", coltyp::SHORT, 2, 0),
    (10, "LCMapFlags", coltyp::LONG, 4, 0),
    (11, "KeyMost", coltyp::UNSIGNED_SHORT, 2, 0),
    (12, "LVChunkMax", coltyp::LONG, 4, 0),
    (128, "Name", coltyp::TEXT, 255, 1),
    (129, "Stats", coltyp::BINARY, 255, 0),
    (130, "TemplateTable", coltyp::TEXT, 255, 0),
    (131, "DefaultValue", coltyp::BINARY, 255, 0),
    (132, "KeyFldIDs", coltyp::BINARY, 255, 0),
    (133, "VarSegMac", coltyp::BINARY, 255, 0),
    (134, "ConditionalColumns", coltyp::BINARY, 255, 0),
    (135, "TupleLimits", coltyp::BINARY, 255, 0),
    (136, "Version", coltyp::BINARY, 255, 0),
    (137, "SortID", coltyp::BINARY, 255, 0),
    (256, "CallbackData", coltyp::LONG_BINARY, 0, 0),
    (257, "CallbackDependencies", coltyp::LONG_BINARY, 0, 0),
    (258, "SeparateLV", coltyp::LONG_BINARY, 0, 0),
    (259, "SpaceHints", coltyp::LONG_BINARY, 0, 0),
    (260, "SpaceDeferredLVHints", coltyp::LONG_BINARY, 0, 0),
    (261, "LocaleName", coltyp::LONG_BINARY, 0, 0),
];

/// Every MSysObjects row of a qmgr.db, in key order: the same 82 rows as the samples.
pub fn catalog_rows() -> Vec<CatalogRow> {
    use objids as o;
    use pages as p;
    let mut rows = Vec::new();
    for (objid, fdp, pages, name) in [
        (o::CATALOG, p::CATALOG, 20, "MSysObjects"),
        (o::SHADOW, p::SHADOW, 5, "MSysObjectsShadow"),
    ] {
        rows.push(table_row(objid, fdp, 80, 0xC000_0000, pages, name));
        for (id, cname, t, size, flags) in CATALOG_COLUMNS {
            let record_offset = (id < 128).then_some(4);
            rows.push(column_row(
                objid,
                id,
                cname,
                t,
                size,
                flags,
                1252,
                record_offset,
            ));
        }
        rows.push(index_row(
            objid,
            objid,
            fdp,
            80,
            0x0001_0031,
            "Id",
            &[1, 2, 3],
        ));
        if objid == o::CATALOG {
            rows.push(index_row(
                objid,
                o::NAME_INDEX,
                p::NAME_INDEX,
                80,
                0x0001_0011,
                "Name",
                &[1, 2, 128],
            ));
            rows.push(index_row(
                objid,
                o::ROOT_INDEX,
                p::ROOT_INDEX,
                80,
                0x0001_0009,
                "RootObjects",
                &[8, 128],
            ));
        }
    }
    rows.push(table_row(
        o::OBJIDS,
        p::OBJIDS,
        100,
        0xC800_0000,
        0,
        "MSysObjids",
    ));
    for (id, name, t, size) in [
        (256, "objid", coltyp::LONG, 4),
        (257, "objidTable", coltyp::LONG, 4),
        (258, "type", coltyp::SHORT, 2),
    ] {
        rows.push(column_row(o::OBJIDS, id, name, t, size, 0, 0, None));
    }
    rows.push(index_row(
        o::OBJIDS,
        o::OBJIDS,
        p::OBJIDS,
        100,
        0x0001_002F,
        "primary",
        &[256],
    ));
    rows.push(table_row(
        o::LOCALES,
        p::LOCALES,
        92,
        0x8800_0000,
        0,
        "MSysLocales",
    ));
    rows.push(column_row(
        o::LOCALES,
        1,
        "Type",
        coltyp::UNSIGNED_BYTE,
        1,
        1,
        0,
        Some(4),
    ));
    rows.push(CatalogRow {
        default_value: Some(vec![0, 0, 0, 0]),
        ..column_row(o::LOCALES, 2, "iValue", coltyp::LONG, 4, 0x30, 0, Some(5))
    });
    rows.push(column_row(
        o::LOCALES,
        128,
        "Key",
        coltyp::BINARY,
        255,
        0,
        0,
        None,
    ));
    rows.push(index_row(
        o::LOCALES,
        o::LOCALES,
        p::LOCALES,
        92,
        0x0001_402F,
        "KeyPrimary",
        &[128],
    ));
    for (objid, fdp, lv_objid, lv_fdp, name, index) in [
        (o::JOBS, p::JOBS, o::JOBS_LV, p::JOBS_LV, "Jobs", "JobsById"),
        (
            o::FILES,
            p::FILES,
            o::FILES_LV,
            p::FILES_LV,
            "Files",
            "FilesById",
        ),
    ] {
        rows.push(table_row(objid, fdp, 80, 0, 0, name));
        rows.push(column_row(objid, 1, "Id", coltyp::GUID, 16, 0, 0, Some(4)));
        rows.push(column_row(
            objid,
            256,
            "Blob",
            coltyp::LONG_BINARY,
            0,
            0,
            0,
            None,
        ));
        rows.push(index_row(objid, objid, fdp, 80, 0x0001_0031, index, &[1]));
        rows.push(lv_row(objid, lv_objid, lv_fdp));
    }
    rows
}

/// Leaf entries of the catalog tree (and of its shadow copy).
pub fn catalog_entries(rows: &[CatalogRow]) -> Vec<LeafEntry> {
    rows.iter()
        .map(|r| LeafEntry {
            key: r.key(),
            data: r.record(),
            flags: 0,
        })
        .collect()
}

/// Leaf entries of the catalog's `Name` index (ObjidTable, Type, Name) and of its
/// `RootObjects` index (RootFlag, Name): key, then the row's primary key as data.
pub fn catalog_index_entries(rows: &[CatalogRow]) -> (Vec<LeafEntry>, Vec<LeafEntry>) {
    let mut by_name: Vec<LeafEntry> = rows
        .iter()
        .map(|r| {
            let mut key = Vec::new();
            key.extend_from_slice(&key_i32(r.objid_table));
            key.extend_from_slice(&key_i16(r.kind));
            key.extend_from_slice(&key_text(&r.name));
            LeafEntry {
                key,
                data: r.key(),
                flags: 0,
            }
        })
        .collect();
    by_name.sort_by(|a, b| a.key.cmp(&b.key));
    let mut roots: Vec<LeafEntry> = rows
        .iter()
        .filter(|r| r.root_flag == Some(true))
        .map(|r| {
            let mut key = vec![0x7F, 0xFF];
            key.extend_from_slice(&key_text(&r.name));
            LeafEntry {
                key,
                data: r.key(),
                flags: 0,
            }
        })
        .collect();
    roots.sort_by(|a, b| a.key.cmp(&b.key));
    (by_name, roots)
}

/// MSysObjids rows: (objid, objidTable, type) of every object but the database.
pub fn objids_entries() -> Vec<LeafEntry> {
    use objids as o;
    [
        (o::CATALOG, o::CATALOG, 1i16),
        (o::SHADOW, o::SHADOW, 1),
        (o::NAME_INDEX, o::CATALOG, 3),
        (o::ROOT_INDEX, o::CATALOG, 3),
        (o::OBJIDS, o::OBJIDS, 1),
        (o::LOCALES, o::LOCALES, 1),
        (o::JOBS, o::JOBS, 1),
        (o::FILES, o::FILES, 1),
        (o::JOBS_LV, o::JOBS, 4),
        (o::FILES_LV, o::FILES, 4),
    ]
    .iter()
    .map(|&(objid, table, kind)| {
        let mut t = (objid as i32).to_le_bytes().to_vec();
        let rec = Record {
            fixed: Vec::new(),
            var: Vec::new(),
            tagged: vec![
                (256, 0, std::mem::take(&mut t)),
                (257, 0, (table as i32).to_le_bytes().to_vec()),
                (258, 0, kind.to_le_bytes().to_vec()),
            ],
        };
        LeafEntry {
            key: key_i32(objid as i32).to_vec(),
            data: rec.encode(),
            flags: 0,
        }
    })
    .collect()
}

/// MSysLocales rows: the schema version entries and the locale-consistency flag.
pub fn locales_entries() -> Vec<LeafEntry> {
    let utf16z = |s: &str| -> Vec<u8> {
        s.encode_utf16()
            .chain(std::iter::once(0))
            .flat_map(u16::to_le_bytes)
            .collect()
    };
    let mut v: Vec<LeafEntry> = [
        (1u8, 1i32, ".Schema\\External\\Major"),
        (1, 0, ".Schema\\External\\Minor"),
        (1, 0, ".Schema\\External\\Update"),
        (1, 1, ".Schema\\Internal\\Major"),
        (1, 0, ".Schema\\Internal\\Minor"),
        (1, 0, ".Schema\\Internal\\Update"),
        (2, 1, "MSysLocalesConsistent"),
    ]
    .iter()
    .map(|&(kind, value, name)| {
        let key_bytes = utf16z(name);
        let rec = Record {
            fixed: vec![
                (1, Some(vec![kind])),
                (4, Some(value.to_le_bytes().to_vec())),
            ],
            var: vec![Some(key_bytes.clone())],
            tagged: Vec::new(),
        };
        LeafEntry {
            key: key_binary(&key_bytes),
            data: rec.encode(),
            flags: 0,
        }
    })
    .collect();
    v.sort_by(|a, b| a.key.cmp(&b.key));
    v
}

/// Kind flags of the catalog's trees, for space-tree pages.
pub fn index_kind() -> u32 {
    FLAG_INDEX
}

pub fn lv_kind() -> u32 {
    FLAG_LONG_VALUE
}

// ---------------------------------------------------------------------------------------------
// The file header.
// ---------------------------------------------------------------------------------------------

/// What goes into the database header.
#[derive(Debug, Clone)]
pub struct HeaderParams {
    pub db_time: u64,
    pub signature_random: u32,
    pub log_signature_random: u32,
    /// FILETIME the database was created and last attached.
    pub created: u64,
    pub attached: u64,
    pub format_revision: u32,
    /// Windows build recorded as the engine that last updated the database.
    pub build: u32,
    pub log_generation: u32,
    pub last_objid: u32,
    /// Write a log time past byte 668 of the header, as Windows 11 does (libesedb 20181229
    /// then refuses the file: it checksums only the first 668 bytes).
    pub win11_tail: bool,
}

/// An ESE "log time": seconds, minutes, hours, day, month, years since 1900, two more bytes.
pub fn log_time(filetime: u64) -> [u8; 8] {
    let Some(dt) = crate::util::time::filetime(filetime) else {
        return [0; 8];
    };
    use chrono::{Datelike, Timelike};
    [
        dt.second() as u8,
        dt.minute() as u8,
        dt.hour() as u8,
        dt.day() as u8,
        dt.month() as u8,
        (dt.year() - 1900).clamp(0, 255) as u8,
        (dt.timestamp_subsec_millis() & 0xFF) as u8,
        (dt.timestamp_subsec_millis() >> 8) as u8,
    ]
}

/// The database header page (also written as its shadow at page 1). Dirty shutdown, format
/// 0x620, the header XOR checksum over the whole 4 KiB block.
pub fn header_page(p: &HeaderParams) -> Vec<u8> {
    let mut h = vec![0u8; PAGE_SIZE];
    let mut put = |off: usize, b: &[u8]| h[off..off + b.len()].copy_from_slice(b);
    put(0x04, &SIGNATURE.to_le_bytes());
    put(0x08, &0x620u32.to_le_bytes());
    put(0x0c, &0u32.to_le_bytes());
    put(0x10, &p.db_time.to_le_bytes());
    put(0x18, &p.signature_random.to_le_bytes());
    put(0x1c, &log_time(p.created));
    put(0x34, &2u32.to_le_bytes()); // dirty shutdown
    let pos = |block: u16, sector: u16, gen: u32| -> [u8; 8] {
        let mut b = [0u8; 8];
        b[..2].copy_from_slice(&block.to_le_bytes());
        b[2..4].copy_from_slice(&sector.to_le_bytes());
        b[4..].copy_from_slice(&gen.to_le_bytes());
        b
    };
    put(
        0x38,
        &pos(0x36, 0x13a, p.log_generation.saturating_sub(1).max(1)),
    );
    put(0x40, &log_time(p.attached.saturating_sub(600 * 10_000_000)));
    put(0x48, &log_time(p.attached));
    put(0x50, &pos(0x268, 0x13c, p.log_generation));
    put(0x68, &1u32.to_le_bytes());
    put(0x6c, &p.log_signature_random.to_le_bytes());
    put(0x70, &log_time(p.created));
    put(0xd4, &p.last_objid.to_le_bytes());
    put(0xd8, &10u32.to_le_bytes());
    put(0xdc, &0u32.to_le_bytes());
    put(0xe0, &p.build.to_le_bytes());
    put(0xe8, &p.format_revision.to_le_bytes());
    put(0xec, &(PAGE_SIZE as u32).to_le_bytes());
    put(0x128, &p.log_generation.to_le_bytes());
    put(0x12c, &p.log_generation.to_le_bytes());
    put(0x154, &0x620u32.to_le_bytes());
    put(0x158, &0x14u32.to_le_bytes());
    put(0x15c, &log_time(p.created));
    put(0x1a0, &p.log_generation.to_le_bytes());
    put(0x1fc, &u32::MAX.to_le_bytes());
    put(0x200, &u32::MAX.to_le_bytes());
    put(0x248, &p.signature_random.rotate_left(7).to_le_bytes());
    put(0x24c, &log_time(p.attached));
    put(0x264, &p.log_signature_random.rotate_left(11).to_le_bytes());
    put(0x268, &log_time(p.attached));
    put(0x280, &1u32.to_le_bytes());
    put(0x290, &pos(0x268, 0x13c, p.log_generation));
    put(0x298, &0x0100_0000u32.to_le_bytes());
    if p.win11_tail {
        put(0x2a0, &log_time(p.created));
    }
    let sum = xor_checksum(&h[4..HEADER_BLOCK]);
    h[0..4].copy_from_slice(&sum.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
            .collect()
    }

    #[test]
    fn catalog_records_match_the_sample_bytes() {
        // Records of win11 qmgr.db page 4 (tags 1, 2, 9, 30, 67, 70, 72, 73, 74, 77).
        let rows = catalog_rows();
        assert_eq!(rows.len(), 82);
        let find = |t: i32, k: i16, id: i32| {
            rows.iter()
                .find(|r| r.objid_table == t && r.kind == k && r.id == id)
                .map(CatalogRow::record)
                .unwrap_or_default()
        };
        let cases: [((i32, i16, i32), &str); 10] = [
            ((2, 1, 2), "08802000020000000100020000000400000050000000000000c014000000ff000b004d5379734f626a65637473"),
            ((2, 2, 1), "0980230002000000020001000000040000000400000001000000e40400002a040080fe0a004f626a69645461626c65"),
            ((2, 2, 128), "07801f00020000000200800000000a000000ff00000001000000e40400008004004e616d65"),
            ((2, 3, 2), "0a84270002000000030002000000040000005000000031000100000000002a2a2a0104030080fd02000280028002800e004964000001000000020000000300050104000165006e002d0055005300"),
            ((6, 3, 6), "0a842700060000000300060000001d000000640000002f000100000000002a2a2a0104030080fd07000780078007800b007072696d61727900000001050104000165006e002d0055005300"),
            ((7, 2, 2), "0983230007000000020002000000040000000400000030000000000000002a050080fe0600068006800a006956616c756500000000"),
            ((7, 3, 7), "0a842700070000000300070000001e0000005c0000002f400100000000002a2a2a0104030080fd0a000a800a800a800e004b65795072696d61727900008000050104000165006e002d0055005300"),
            ((8, 1, 8), "08802000080000000100080000001f000000500000000000000000000000ff0004004a6f6273"),
            ((8, 2, 1), "0980230008000000020001000000100000001000000000000000000000002a040080fe02004964"),
            ((8, 4, 10), "07801f000800000004000a000000240000006400000000000000010000008002004c56"),
        ];
        for ((t, k, id), want) in cases {
            assert_eq!(
                crate::util::bytes::hex(&find(t, k, id)),
                want,
                "row {t} {k} {id}"
            );
        }
        let keys: Vec<Vec<u8>> = rows.iter().map(CatalogRow::key).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "rows in key order");
        assert_eq!(
            crate::util::bytes::hex(&keys[0]),
            "7f800000027f80017f80000002"
        );
    }

    #[test]
    fn index_and_locale_keys_match_the_sample() {
        let (by_name, roots) = catalog_index_entries(&catalog_rows());
        assert_eq!(by_name.len(), 82);
        assert_eq!(
            crate::util::bytes::hex(&by_name[0].key),
            "7f800000027f80017f4d5359534f424a4543545300"
        );
        assert_eq!(
            crate::util::bytes::hex(&by_name[0].data),
            "7f800000027f80017f80000002"
        );
        assert_eq!(roots.len(), 6);
        assert_eq!(crate::util::bytes::hex(&roots[0].key), "7fff7f46494c455300");
        let loc = locales_entries();
        assert_eq!(
            crate::util::bytes::hex(&loc[0].key),
            "7f2e005300630068000965006d0061005c000945007800740065000972006e0061006c00095c004d0061006a00096f0072000000000006"
        );
        assert_eq!(
            crate::util::bytes::hex(&loc[0].data),
            "02800a000101000000fc2e002e0053006300680065006d0061005c00450078007400650072006e0061006c005c004d0061006a006f0072000000"
        );
        let ids = objids_entries();
        assert_eq!(
            crate::util::bytes::hex(&ids[0].data),
            "007f040000010c00010111000201160000020000000002000000000100"
        );
        assert_eq!(
            key_guid(
                &hex("39fc265c4706cf43bd6b2ca3125c7fb3")
                    .try_into()
                    .unwrap_or([0; 16])
            ),
            hex("7f2ca3125c7fb3bd6bcf43470639fc265c")
        );
        assert_eq!(
            crate::util::bytes::hex(&blob_row(
                &hex("39fc265c4706cf43bd6b2ca3125c7fb3")
                    .try_into()
                    .unwrap_or([0; 16]),
                0x8000_0000_8000_0014
            )),
            "017f150039fc265c4706cf43bd6b2ca3125c7fb3fe00010400051400008000000080"
        );
    }

    #[test]
    fn separators() {
        assert_eq!(
            separator(&hex("0000000600000000"), &hex("0000000600000fd2")),
            hex("0000000600000f")
        );
        assert_eq!(separator(b"ab", b"abc"), b"abc".to_vec());
        assert_eq!(separator(b"a", b"b"), b"b".to_vec());
    }

    #[test]
    fn rendered_page_verifies_and_parses() {
        let mut rng = Rng::new(1);
        let mut p = PageSpec::new(77, 8, FLAG_LEAF);
        p.tag0 = vec![0x7F];
        p.push_node(0, 0, b"\x7fkey1", b"data-1");
        p.push_node(2, 0, b"\x7fkey2", b"data-2");
        p.extras.push(Extra::Hole {
            after: 0,
            bytes: b"HOLE".to_vec(),
        });
        let (s, _) = p.free_range();
        p.extras.push(Extra::Slack {
            at: s + 100,
            bytes: b"SLACK".to_vec(),
        });
        let _ = rng.next_u64();
        let mut buf = vec![0u8; PAGE_SIZE];
        let layout = p.render(&mut buf);
        assert_eq!(
            crate::ese::checksum::verify_page(&buf, 77),
            crate::ese::checksum::ChecksumStatus::Ok
        );
        assert_eq!(&buf[layout.extra_at[0]..layout.extra_at[0] + 4], b"HOLE");
        assert_eq!(&buf[layout.extra_at[1]..layout.extra_at[1] + 5], b"SLACK");
        let page = crate::ese::page::Page::parse(77, &buf, true).expect("page");
        let nodes: Vec<_> = page.nodes().collect();
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[1].data, b"data-2");
        assert!(nodes[1].is_deleted());
        // Free bytes: the hole counts, the slack lies in the free area.
        assert_eq!(
            page.header.avail as usize,
            BODY - page.header.first_free_offset as usize - 12 + 4
        );
    }
}
