//! An open database: header, pages, catalog, B-tree walks, records and long values.
//!
//! Page numbering: the file's first two pages are the header and its shadow; database page
//! `n` (from 1) sits at file offset `(n + 1) * page_size`.
//!
//! Each page is read as part of one tree at most. At open, every tree the catalog names is
//! walked once (catalog, shadow catalog, then each table's tree, long-value tree and secondary
//! indexes in catalog order) and each page is given to the first tree that reaches it; a later
//! walk of another tree stops at that page with a warning. So a table whose root lies inside
//! another table's tree yields a warning and no rows, and a page shared by many trees costs one
//! read, not one per tree. (Two catalog objects naming one root are settled earlier, by
//! [`catalog::claim_roots`].) Walking the same tree again is the caller's choice and costs the
//! same each time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::budget::{BudgetStats, LvPool};
use super::catalog::{self, Column, Index, Table};
use super::compression;
use super::error::EseError;
use super::header::{self, FileHeader};
use super::page::{Node, Page};
use super::record::{
    ColumnType, RawCell, RecordLayout, TAGFLD_COMPRESSED, TAGFLD_ENCRYPTED, TAGFLD_MULTI,
    TAGFLD_SEPARATED, TAGFLD_TWO_VALUES,
};
use super::value::{typed, Value};
use crate::util::bytes::{u16_le, u32_be, u32_le, u8_at};
use crate::util::diag::Diagnostic;

/// B-trees deeper than this are corrupt (a 4 KiB-page tree of depth 16 holds more than any file).
const MAX_DEPTH: usize = 16;
/// A value larger than this is not reassembled (bounded memory on hostile long-value sizes).
/// This bounds one value; all values together are bounded by the database's budget
/// (`budget.rs`).
pub const MAX_VALUE: usize = 256 << 20;

pub struct Database<'a> {
    pub data: &'a [u8],
    /// The header copy the database is read with (the primary, or the shadow when the primary
    /// is implausible: see `header_from_shadow` and the warnings).
    pub header: FileHeader,
    pub shadow: Option<FileHeader>,
    pub header_from_shadow: bool,
    pub page_size: usize,
    /// Pages of 16 KiB and more use the large-page layout.
    pub large: bool,
    pub tables: Vec<Table>,
    pub warnings: Vec<Diagnostic>,
    /// Budget and cache for long values and decompression, shared with every `LongValues`.
    lv_pool: Arc<LvPool>,
    /// Page number → root page of the tree it belongs to (0: none); empty until the catalog
    /// is read.
    owners: Vec<u32>,
}

/// State of one tree walk.
struct Walk<'w> {
    root: u32,
    seen: HashSet<u32>,
    warnings: Vec<Diagnostic>,
    /// Pages skipped because another tree owns them.
    foreign: usize,
    /// While owners are assigned at open: the page → root map being filled.
    claim: Option<&'w mut Vec<u32>>,
}

impl<'w> Walk<'w> {
    fn new(root: u32, claim: Option<&'w mut Vec<u32>>) -> Walk<'w> {
        Walk {
            root,
            seen: HashSet::new(),
            warnings: Vec::new(),
            foreign: 0,
            claim,
        }
    }
}

/// One live row: where it is and its record bytes.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub page: u32,
    pub tag: usize,
    pub key: Vec<u8>,
    pub data: &'a [u8],
    /// File offset of `data`.
    pub offset: u64,
}

impl<'a> Database<'a> {
    /// Open the database in `data`, its long-value budget based on its length.
    pub fn open(data: &'a [u8]) -> Result<Database<'a>, EseError> {
        Database::open_holding(data, data.len() as u64)
    }

    /// [`Database::open`] for a file that holds only `held` of its bytes (a sparse file's
    /// allocated blocks): the long-value budget is based on those (see `budget.rs`).
    pub fn open_holding(data: &'a [u8], held: u64) -> Result<Database<'a>, EseError> {
        if data.len() < header::MIN_HEADER {
            return Err(EseError::TooSmall { len: data.len() });
        }
        let chosen = header::choose(data)?;
        let page_size = chosen.header.page_size as usize;
        let mut warnings = chosen.warnings;
        // The header check refused page sizes outside 2-32 KiB, so the remainder is defined.
        let trailing = data.len().checked_rem(page_size).unwrap_or(0);
        if trailing != 0 {
            warnings.push(Diagnostic::at(
                data.len().saturating_sub(trailing),
                format!(
                    "file size {} is not a multiple of the page size {page_size}: {trailing} trailing bytes",
                    data.len(),
                ),
            ));
        }
        let mut db = Database {
            data,
            header: chosen.header,
            shadow: chosen.shadow,
            header_from_shadow: chosen.used_shadow,
            page_size,
            large: page_size >= 16384,
            tables: Vec::new(),
            warnings,
            lv_pool: Arc::new(LvPool::new(held.min(data.len() as u64))),
            owners: Vec::new(),
        };
        db.tables = db.read_catalogs()?;
        db.assign_owners();
        Ok(db)
    }

    /// The catalog's tables (from its shadow when the catalog yields none), each root claimed
    /// once. No table at all is an error: the file cannot be read as a database.
    fn read_catalogs(&mut self) -> Result<Vec<Table>, EseError> {
        let (root, shadow_root) = (catalog::CATALOG_ROOT, catalog::SHADOW_CATALOG_ROOT);
        let mut tables = self.read_catalog(root);
        if tables.is_empty() {
            self.warnings.push(
                Diagnostic::new(format!(
                    "catalog (page {root}, offset {:#x}) is unreadable; trying the shadow catalog (page {shadow_root}, offset {:#x})",
                    self.page_offset(root),
                    self.page_offset(shadow_root)
                ))
                .in_page(root),
            );
            tables = self.read_catalog(shadow_root);
        }
        if tables.is_empty() {
            return Err(EseError::CatalogUnreadable {
                root,
                offset: self.page_offset(root),
                shadow_root,
                shadow_offset: self.page_offset(shadow_root),
            });
        }
        let taken = [(root, "MSysObjects"), (shadow_root, "MSysObjectsShadow")];
        let (tables, w) = catalog::claim_roots(tables, &taken);
        self.warnings.extend(w);
        Ok(tables)
    }

    /// Every tree root the catalog names, each once: catalog, shadow catalog, then per table its
    /// tree, long-value tree and secondary indexes.
    fn tree_roots(&self) -> Vec<u32> {
        let mut roots = vec![catalog::CATALOG_ROOT, catalog::SHADOW_CATALOG_ROOT];
        for t in &self.tables {
            roots.push(t.root);
            roots.extend(t.lv_root);
            roots.extend(t.indexes.iter().map(|i| i.root));
        }
        let mut once = HashSet::new();
        roots.retain(|r| once.insert(*r));
        roots
    }

    /// Give each page to the first tree that reaches it (see the module documentation).
    fn assign_owners(&mut self) {
        let mut owners = vec![0u32; (self.page_count() as usize).saturating_add(1)];
        let mut shared = 0usize;
        for root in self.tree_roots() {
            let mut w = Walk::new(root, Some(&mut owners));
            self.walk(root, 0, &mut w, &mut |_, _| {});
            shared = shared.saturating_add(w.foreign);
        }
        if shared > 0 {
            self.warnings.push(Diagnostic::new(format!(
                "{shared} link(s) from one tree into a page of another (corruption); each page is read only as part of the first tree that reaches it"
            )));
        }
        self.owners = owners;
    }

    /// Bytes of long values (and compressed values) decoded so far, against the budget.
    pub fn budget(&self) -> BudgetStats {
        self.lv_pool.stats()
    }

    /// Warnings raised while values were read (after `open`): long values refused as over
    /// budget. Callers add them to `warnings` when they report.
    pub fn value_warnings(&self) -> Vec<Diagnostic> {
        self.lv_pool.warnings()
    }

    /// Number of database pages (header pages excluded), counting a trailing partial page.
    pub fn page_count(&self) -> u32 {
        let n = self.data.len().div_ceil(self.page_size).saturating_sub(2);
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    pub fn page_offset(&self, pgno: u32) -> u64 {
        (u64::from(pgno).saturating_add(1)).saturating_mul(self.page_size as u64)
    }

    /// Page `pgno` (from 1). A page cut short by the end of the file is an error.
    pub fn page(&self, pgno: u32) -> Result<Page<'a>, EseError> {
        let out_of_range = EseError::PageOutOfRange {
            page: pgno,
            pages: self.page_count(),
        };
        if pgno == 0 {
            return Err(out_of_range);
        }
        let start = usize::try_from(self.page_offset(pgno)).map_err(|_| out_of_range.clone())?;
        let buf =
            crate::util::bytes::slice(self.data, start, self.page_size).ok_or(out_of_range)?;
        Page::parse(pgno, buf, self.large).ok_or(EseError::BadPage {
            page: pgno,
            offset: start as u64,
            what: "short page header".into(),
        })
    }

    /// Every page in the file, referenced by a tree or not (for the carver).
    pub fn pages(&self) -> impl Iterator<Item = Page<'a>> + '_ {
        (1..=self.page_count()).filter_map(move |n| self.page(n).ok())
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Visit every leaf node of the tree rooted at `root`, in key order. Guards against
    /// pages that point to themselves or to an ancestor, against absurd depth, and against
    /// pages of another tree; what it had to skip comes back as warnings.
    pub fn walk_leaves(
        &self,
        root: u32,
        visit: &mut dyn FnMut(&Page<'a>, Node<'a>),
    ) -> Vec<Diagnostic> {
        let mut w = Walk::new(root, None);
        self.walk(root, 0, &mut w, visit);
        w.warnings
    }

    fn walk(
        &self,
        pgno: u32,
        depth: usize,
        w: &mut Walk<'_>,
        visit: &mut dyn FnMut(&Page<'a>, Node<'a>),
    ) {
        if depth > MAX_DEPTH {
            w.warnings.push(
                Diagnostic::new(format!(
                    "page {pgno}: B-tree deeper than {MAX_DEPTH}, not followed"
                ))
                .in_page(pgno),
            );
            return;
        }
        if !w.seen.insert(pgno) {
            w.warnings.push(
                Diagnostic::new(format!(
                    "page {pgno} is referenced twice (loop), not followed again"
                ))
                .in_page(pgno),
            );
            return;
        }
        if let Some(owner) = self.foreign_owner(pgno, w) {
            w.foreign = w.foreign.saturating_add(1);
            w.warnings.push(
                Diagnostic::new(format!(
                    "page {pgno} (offset {:#x}) belongs to the tree rooted at page {owner}; not read as part of the tree rooted at page {}",
                    self.page_offset(pgno),
                    w.root
                ))
                .in_page(pgno),
            );
            return;
        }
        let page = match self.page(pgno) {
            Ok(p) => p,
            Err(e) => {
                w.warnings
                    .push(Diagnostic::new(e.to_string()).in_page(pgno));
                return;
            }
        };
        let bad_nodes = page.node_count().saturating_sub(page.nodes().count());
        if bad_nodes > 0 {
            w.warnings.push(
                Diagnostic::new(format!("page {pgno}: {bad_nodes} malformed tag(s) skipped"))
                    .in_page(pgno),
            );
        }
        if page.header.is_leaf() {
            for node in page.nodes() {
                visit(&page, node);
            }
            return;
        }
        for node in page.nodes() {
            match u32_le(node.data, 0) {
                Some(child) => self.walk(child, depth.saturating_add(1), w, visit),
                None => w.warnings.push(
                    Diagnostic::new(format!("page {pgno}: branch node without a child page"))
                        .in_page(pgno)
                        .with_tag(u32::try_from(node.tag.index).unwrap_or(u32::MAX)),
                ),
            }
        }
    }

    /// The root of another tree that owns `pgno`, if any. While owners are being assigned, an
    /// unowned page is claimed for the walk's tree.
    fn foreign_owner(&self, pgno: u32, w: &mut Walk<'_>) -> Option<u32> {
        let root = w.root;
        let owner = match w.claim.as_deref_mut() {
            Some(map) => {
                let slot = map.get_mut(pgno as usize)?;
                if *slot == 0 {
                    *slot = root;
                }
                *slot
            }
            None => self.owners.get(pgno as usize).copied().unwrap_or(0),
        };
        (owner != 0 && owner != root).then_some(owner)
    }

    /// Every page some tree reaches (catalog, shadow catalog, each table, index and long-value
    /// tree, branches included). Pages outside this set hold only what no tree references.
    pub fn reachable_pages(&self) -> HashSet<u32> {
        self.owners
            .iter()
            .enumerate()
            .filter(|(_, owner)| **owner != 0)
            .filter_map(|(page, _)| u32::try_from(page).ok())
            .collect()
    }

    /// The live rows of a tree: leaf nodes not flagged deleted.
    pub fn rows(&self, root: u32) -> (Vec<Row<'a>>, Vec<Diagnostic>) {
        let mut rows = Vec::new();
        let warnings = self.walk_leaves(root, &mut |page, node| {
            if node.is_deleted() {
                return;
            }
            rows.push(Row {
                page: page.number,
                tag: node.tag.index,
                key: node.key(page.key_prefix()),
                data: node.data,
                offset: self
                    .page_offset(page.number)
                    .saturating_add(node.data_offset as u64),
            });
        });
        (rows, warnings)
    }

    /// The tables described by the catalog tree at `root`. The rows come sorted by
    /// (ObjidTable, Type, Id), so a table's row precedes its columns, indexes and long-value
    /// tree. There are at most as many rows as the catalog's pages hold nodes (each page is
    /// read once), and each is handled in constant time, so a hostile catalog costs its size.
    fn read_catalog(&mut self, root: u32) -> Vec<Table> {
        let cat = Table::catalog(root);
        let (rows, warnings) = self.rows(root);
        self.warnings
            .extend(warnings.into_iter().map(|w| Diagnostic {
                what: format!("catalog: {}", w.what),
                ..w
            }));
        let mut tables: Vec<Table> = Vec::new();
        // ObjidTable → index in `tables` of the latest table row with that id.
        let mut by_objid: HashMap<u32, usize> = HashMap::new();
        // (table index, column id) already added: a column id is defined once per table.
        let mut column_ids: HashSet<(usize, u32)> = HashSet::new();
        let mut notes = CappedWarnings::default();
        for row in &rows {
            let Some(e) = self.catalog_entry(&cat, row) else {
                notes.push(
                    Diagnostic::new(format!(
                        "catalog: unreadable record on page {} tag {} (offset {:#x})",
                        row.page, row.tag, row.offset
                    ))
                    .in_page(row.page)
                    .with_tag(u32::try_from(row.tag).unwrap_or(u32::MAX)),
                );
                continue;
            };
            if e.kind == catalog::SYSOBJ_TABLE {
                by_objid.insert(e.objid, tables.len());
                tables.push(Table::new(e.objid, e.name, e.pgno_or_type));
                continue;
            }
            let found = by_objid.get(&e.objid).copied();
            let Some((ti, table)) = found.and_then(|i| Some((i, tables.get_mut(i)?))) else {
                notes.push(
                    Diagnostic::new(format!(
                        "catalog: {:?} (offset {:#x}) belongs to unknown table {}",
                        e.name, row.offset, e.objid
                    ))
                    .in_page(row.page),
                );
                continue;
            };
            if e.kind == catalog::SYSOBJ_COLUMN && !column_ids.insert((ti, e.id)) {
                notes.push(
                    Diagnostic::new(format!(
                        "catalog: column {:?} (offset {:#x}) repeats column id {} of table {:?}; skipped",
                        e.name, row.offset, e.id, table.name
                    ))
                    .in_page(row.page),
                );
                continue;
            }
            add_catalog_entry(table, e);
        }
        self.warnings.extend(notes.finish("catalog rows skipped"));
        tables
    }

    /// The fields of one catalog row; `None` when its record is unreadable.
    fn catalog_entry(&self, cat: &Table, row: &Row<'_>) -> Option<CatalogEntry> {
        let rec = RecordLayout::parse(row.data, self.large)?;
        let empty = LongValues::default();
        let get = |name: &str| {
            cat.column(name)
                .map(|c| cell_value(c, &rec, &empty))
                .unwrap_or(Value::Null)
        };
        let int = |name: &str| get(name).as_i64().unwrap_or(0);
        let uint = |name: &str| u32::try_from(int(name)).unwrap_or(0);
        Some(CatalogEntry {
            objid: uint("ObjidTable"),
            kind: int("Type"),
            id: uint("Id"),
            fixed: row_is_fixed(int("Id")),
            name: get("Name").as_str().unwrap_or_default().to_string(),
            pgno_or_type: uint("ColtypOrPgnoFDP"),
            space: uint("SpaceUsage"),
            flags: uint("Flags"),
            locale: uint("PagesOrLocale"),
            default: get("DefaultValue").as_bytes().map(<[u8]>::to_vec),
        })
    }

    /// Index the long-value tree of `table` (empty when it has none).
    pub fn long_values(&self, table: &Table) -> (LongValues<'a>, Vec<Diagnostic>) {
        let mut lv = LongValues {
            pool: Some(Arc::clone(&self.lv_pool)),
            ..LongValues::default()
        };
        let Some(root) = table.lv_root else {
            return (lv, Vec::new());
        };
        lv.tree = root;
        let warnings = self.walk_leaves(root, &mut |page, node| {
            lv.nodes.insert(
                node.key(page.key_prefix()),
                LvNode {
                    page: page.number,
                    data: node.data,
                    offset: self
                        .page_offset(page.number)
                        .saturating_add(node.data_offset as u64),
                    deleted: node.is_deleted(),
                },
            );
        });
        (lv, warnings)
    }

    /// All values of a row, in catalog column order.
    pub fn row_values(&self, table: &Table, row: &Row<'_>, lv: &LongValues<'_>) -> Vec<Value> {
        match RecordLayout::parse(row.data, self.large) {
            Some(rec) => table
                .columns
                .iter()
                .map(|c| cell_value(c, &rec, lv))
                .collect(),
            None => vec![Value::Null; table.columns.len()],
        }
    }
}

/// The typed value of `column` in a record.
pub fn cell_value(column: &Column, rec: &RecordLayout<'_>, lv: &LongValues<'_>) -> Value {
    let cell = match column.id {
        0..=127 => rec.fixed(column.id, column.fixed_offset, column.size),
        128..=255 => rec.variable(column.id),
        _ => rec.tagged(column.id),
    };
    match cell {
        RawCell::Missing => match &column.default {
            Some(d) => typed(column.coltype, column.codepage, d),
            None => Value::Null,
        },
        RawCell::Null => Value::Null,
        RawCell::Bytes { data, flags, .. } => bytes_value(column, data, flags, lv),
    }
}

fn bytes_value(column: &Column, data: &[u8], flags: u8, lv: &LongValues<'_>) -> Value {
    if flags & TAGFLD_ENCRYPTED != 0 {
        return Value::Undecoded {
            reason: "encrypted column value".into(),
            raw: data.to_vec(),
        };
    }
    if flags & (TAGFLD_MULTI | TAGFLD_TWO_VALUES) != 0 {
        return multi_value(column, data, flags, lv);
    }
    let resolved = if flags & TAGFLD_SEPARATED != 0 {
        lv.get(data, MAX_VALUE)
    } else if flags & TAGFLD_COMPRESSED != 0 {
        lv.decompress_inline(data)
    } else {
        Ok(data.to_vec())
    };
    match resolved {
        Ok(b) => typed(column.coltype, column.codepage, &b),
        Err(reason) => Value::Undecoded {
            reason,
            raw: data.to_vec(),
        },
    }
}

/// Multi-valued tagged data. Two values: a u8 size of the first, then both. Otherwise an
/// array of u16 offsets (the first one is the array's size); bit 15 of an offset marks a
/// value stored as a separate long value. With the compressed flag only the first value is
/// compressed.
fn multi_value(column: &Column, data: &[u8], flags: u8, lv: &LongValues<'_>) -> Value {
    let mut parts: Vec<(Vec<u8>, bool)> = Vec::new();
    if flags & TAGFLD_TWO_VALUES != 0 {
        // At most 256: the split point stays inside the bytes present.
        let split = (usize::from(u8_at(data, 0).unwrap_or(0)) + 1).min(data.len());
        let a = data.get(1..split).unwrap_or(&[]);
        let b = data.get(split..).unwrap_or(&[]);
        parts.push((a.to_vec(), false));
        parts.push((b.to_vec(), false));
    } else {
        let first = u16_le(data, 0).map_or(0, |v| (v & 0x7FFF) as usize);
        let n = (first / 2).min(data.len() / 2);
        for i in 0..n {
            // `i < n <= data.len() / 2`: the offsets below stay inside `data`.
            let raw = u16_le(data, i.saturating_mul(2)).unwrap_or(0);
            let start = (raw & 0x7FFF) as usize;
            let next = i.saturating_add(1);
            let end = if next < n {
                u16_le(data, next.saturating_mul(2)).map_or(data.len(), |v| (v & 0x7FFF) as usize)
            } else {
                data.len()
            };
            let bytes = data
                .get(start..end.max(start).min(data.len()))
                .unwrap_or(&[]);
            parts.push((bytes.to_vec(), raw & 0x8000 != 0));
        }
    }
    let values = parts
        .into_iter()
        .enumerate()
        .map(|(i, (bytes, separated))| {
            let resolved = if separated {
                lv.get(&bytes, MAX_VALUE)
            } else if i == 0 && flags & TAGFLD_COMPRESSED != 0 {
                lv.decompress_inline(&bytes)
            } else {
                Ok(bytes.clone())
            };
            match resolved {
                Ok(b) => typed(column.coltype, column.codepage, &b),
                Err(reason) => Value::Undecoded { reason, raw: bytes },
            }
        })
        .collect();
    Value::Multi(values)
}

/// One catalog row's fields, as read from MSysObjects (see `catalog.rs` for the columns).
struct CatalogEntry {
    objid: u32,
    kind: i64,
    id: u32,
    fixed: bool,
    name: String,
    pgno_or_type: u32,
    space: u32,
    flags: u32,
    locale: u32,
    default: Option<Vec<u8>>,
}

/// File a column, index or long-value row under its table.
fn add_catalog_entry(table: &mut Table, e: CatalogEntry) {
    match e.kind {
        catalog::SYSOBJ_COLUMN => {
            let coltype = ColumnType::from_u32(e.pgno_or_type);
            let size = if e.space > 0 && e.fixed {
                e.space
            } else {
                coltype.fixed_size().unwrap_or(e.space)
            };
            table.add_column(Column {
                id: e.id,
                name: e.name,
                coltype,
                size,
                flags: e.flags,
                codepage: e.locale,
                default: e.default,
                fixed_offset: 0,
            });
        }
        catalog::SYSOBJ_INDEX => table.indexes.push(Index {
            name: e.name,
            root: e.pgno_or_type,
        }),
        catalog::SYSOBJ_LONG_VALUE => table.lv_root = Some(e.pgno_or_type),
        _ => {}
    }
}

/// Warnings of which only the first few are kept word for word, so a hostile file cannot
/// make the warning list as large as itself.
#[derive(Default)]
struct CappedWarnings {
    kept: Vec<Diagnostic>,
    dropped: usize,
}

impl CappedWarnings {
    const KEEP: usize = 32;

    fn push(&mut self, w: Diagnostic) {
        if self.kept.len() < Self::KEEP {
            self.kept.push(w);
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    fn finish(mut self, what: &str) -> Vec<Diagnostic> {
        if self.dropped > 0 {
            self.kept
                .push(Diagnostic::new(format!("{} more {what}", self.dropped)));
        }
        self.kept
    }
}

fn row_is_fixed(id: i64) -> bool {
    (1..128).contains(&id)
}

fn decompress(data: &[u8]) -> Result<Vec<u8>, String> {
    compression::decompress(data, MAX_VALUE).map_err(|e| e.to_string())
}

/// A node of a long-value tree.
#[derive(Debug, Clone, Copy)]
pub struct LvNode<'a> {
    pub page: u32,
    pub data: &'a [u8],
    pub offset: u64,
    pub deleted: bool,
}

/// A table's long-value tree, indexed by key.
///
/// Keys: the long-value id big-endian (4 or 8 bytes) for the value's root node, whose data is
/// u32 reference count and u32 total size; the id followed by the u32 big-endian byte offset
/// for each chunk. The record holds the id little-endian, so it is reversed to look it up.
///
/// Built by [`Database::long_values`], it decodes within the database's budget and through its
/// cache (see `budget.rs`); a `LongValues::default()` filled by hand has neither, only the
/// per-value limit.
#[derive(Debug, Default)]
pub struct LongValues<'a> {
    pub nodes: BTreeMap<Vec<u8>, LvNode<'a>>,
    pool: Option<Arc<LvPool>>,
    /// Root page of the tree: with the long-value id, the cache key.
    tree: u32,
}

/// A long value's root: its id (as in the key), reference count and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LvRoot {
    pub id: Vec<u8>,
    pub refcount: u32,
    pub size: u32,
    pub offset: u64,
    pub page: u32,
}

impl<'a> LongValues<'a> {
    /// Reassemble the value referenced by `reference` (the id as stored in the record).
    pub fn get(&self, reference: &[u8], max: usize) -> Result<Vec<u8>, String> {
        if reference.len() != 4 && reference.len() != 8 {
            return Err(format!("long-value reference of {} bytes", reference.len()));
        }
        let key: Vec<u8> = reference.iter().rev().copied().collect();
        let root = self
            .nodes
            .get(&key)
            .ok_or_else(|| format!("long value {} not found", crate::util::bytes::hex(&key)))?;
        let size = u32_le(root.data, 4).ok_or("long-value root too short")? as usize;
        self.assemble(&key, size, max)
    }

    /// The value `key` of `size` bytes: from the cache, or assembled within the budget (see
    /// `budget.rs`); without a database, assembled under `max` alone.
    pub fn assemble(&self, key: &[u8], size: usize, max: usize) -> Result<Vec<u8>, String> {
        if size > max {
            return Err(format!(
                "long value of {size} bytes exceeds the {max}-byte limit"
            ));
        }
        let Some(pool) = &self.pool else {
            let mut out = Vec::new();
            return self.assemble_into(key, size, &mut out).map(|()| out);
        };
        let root = self.nodes.get(key);
        let offset = root.map_or(0, |n| n.offset);
        // Only a value the database says is shared (reference count above 1) is kept: caching
        // every value would hold a whole database's blobs while its rows stream out. A value
        // shared but marked 1 is assembled again per row, each time within the budget.
        let shared = root.and_then(|n| u32_le(n.data, 0)).is_some_and(|r| r > 1);
        if let Some(hit) = pool.cached(self.tree, key, offset) {
            return hit;
        }
        let result = self.assemble_charged(pool, key, size, offset, shared);
        if shared || result.is_err() {
            pool.store(self.tree, key, &result);
        } else if result.is_ok() {
            pool.count_assembled(size);
        }
        result
    }

    /// Assemble a value not yet cached. Charged: the caller's copy, and the cache's when the
    /// value is `shared` (kept).
    fn assemble_charged(
        &self,
        pool: &LvPool,
        key: &[u8],
        size: usize,
        offset: u64,
        shared: bool,
    ) -> Result<Vec<u8>, String> {
        let what = format!(
            "long value {} (root node at offset {offset:#x}, {size} bytes{})",
            crate::util::bytes::hex(key),
            if shared { ", cached and copied" } else { "" }
        );
        let copies = if shared { 2 } else { 1 };
        let reserved = (size as u64).saturating_mul(copies);
        pool.reserve(reserved, &what)?;
        let mut out = Vec::new();
        match self.assemble_into(key, size, &mut out) {
            Ok(()) => {
                pool.served(out.len());
                Ok(out)
            }
            // What was decoded before the failure stays charged: it was work done.
            Err(e) => {
                pool.refund(reserved.saturating_sub(out.len() as u64));
                Err(e)
            }
        }
    }

    /// Decompress an inline compressed column value, charged to the budget when there is one.
    pub fn decompress_inline(&self, data: &[u8]) -> Result<Vec<u8>, String> {
        let Some(pool) = &self.pool else {
            return decompress(data);
        };
        // A size that cannot be read is reported by `decompress` itself.
        let declared = compression::decompressed_len(data).unwrap_or(0) as u64;
        pool.reserve(declared, "compressed column value")?;
        let result = decompress(data);
        match &result {
            Ok(v) => pool.served(v.len()),
            Err(_) => pool.refund(declared),
        }
        result
    }

    /// Does the value referenced by `reference` lie whole and uncompressed in its chunks
    /// (offsets from 0, each chunk exactly as long as the gap to the next, up to its size)?
    /// Reads only the tree: nothing is assembled or charged.
    pub fn is_whole(&self, reference: &[u8]) -> bool {
        let key: Vec<u8> = reference.iter().rev().copied().collect();
        let Some(size) = self.nodes.get(&key).and_then(|n| u32_le(n.data, 4)) else {
            return false;
        };
        let mut at = 0u64;
        for (k, n) in self
            .nodes
            .range(key.clone()..)
            .take_while(|(k, _)| k.starts_with(&key))
            .filter(|(k, _)| k.len() == key.len().saturating_add(4))
        {
            if u32_be(k, key.len()).map(u64::from) != Some(at) {
                return false;
            }
            at = at.saturating_add(n.data.len() as u64);
        }
        at == u64::from(size)
    }

    /// Concatenate the chunks of value `key` by their offsets into `out`. A chunk whose stored
    /// length differs from the gap to the next offset is compressed.
    fn assemble_into(&self, key: &[u8], size: usize, out: &mut Vec<u8>) -> Result<(), String> {
        let chunks: Vec<(u32, &[u8])> = self
            .nodes
            .range(key.to_vec()..)
            .take_while(|(k, _)| k.starts_with(key))
            .filter(|(k, _)| k.len() == key.len().saturating_add(4))
            .filter_map(|(k, n)| Some((u32_be(k, key.len())?, n.data)))
            .collect();
        out.reserve(size.min(self.nodes.len().saturating_mul(32 << 10)));
        for (i, (off, chunk)) in chunks.iter().enumerate() {
            let off = *off as usize;
            if off != out.len() {
                return Err(format!(
                    "long value {}: chunk at offset {off} but {} bytes assembled",
                    crate::util::bytes::hex(key),
                    out.len()
                ));
            }
            let next = chunks
                .get(i.saturating_add(1))
                .map_or(size, |(o, _)| *o as usize);
            let want = next.saturating_sub(off);
            if chunk.len() == want {
                out.extend_from_slice(chunk);
            } else {
                let d = compression::decompress(chunk, want).map_err(|e| e.to_string())?;
                out.extend_from_slice(&d);
            }
            if out.len() > size {
                out.truncate(size);
                break;
            }
        }
        if out.len() != size {
            return Err(format!(
                "long value {}: {} of {size} bytes present",
                crate::util::bytes::hex(key),
                out.len()
            ));
        }
        Ok(())
    }

    /// Where the chunks of the value referenced by `reference` lie: (page, file offset, length)
    /// in offset order. Empty when the value is not in the tree.
    pub fn extents(&self, reference: &[u8]) -> Vec<(u32, u64, usize)> {
        let key: Vec<u8> = reference.iter().rev().copied().collect();
        self.nodes
            .range(key.clone()..)
            .take_while(|(k, _)| k.starts_with(&key))
            .filter(|(k, _)| k.len() == key.len().saturating_add(4))
            .map(|(_, n)| (n.page, n.offset, n.data.len()))
            .collect()
    }

    /// Every long value's root node. A root's key is the bare id: 4 bytes for a 32-bit id, or
    /// 8 bytes with the top bit set for a 64-bit id (an 8-byte key without it is a chunk of a
    /// 32-bit id).
    pub fn roots(&self) -> Vec<LvRoot> {
        self.nodes
            .iter()
            .filter(|(k, _)| is_root_key(k))
            .filter_map(|(k, n)| {
                Some(LvRoot {
                    id: k.clone(),
                    refcount: u32_le(n.data, 0)?,
                    size: u32_le(n.data, 4)?,
                    offset: n.offset,
                    page: n.page,
                })
            })
            .collect()
    }

    /// Long values no record references any more (reference count 0), each reassembled as far
    /// as its chunks allow: deleted data that ESE has not yet cleaned up, for the carver.
    pub fn orphans(&self) -> Vec<(LvRoot, Result<Vec<u8>, String>)> {
        self.roots()
            .into_iter()
            .filter(|r| r.refcount == 0)
            .map(|r| {
                let bytes = self.assemble(&r.id, r.size as usize, MAX_VALUE);
                (r, bytes)
            })
            .collect()
    }
}

fn is_root_key(k: &[u8]) -> bool {
    match k.len() {
        4 => true,
        8 => k.first().is_some_and(|b| b & 0x80 != 0),
        _ => false,
    }
}
