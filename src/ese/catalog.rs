//! The catalog (MSysObjects, rooted at page 4; its shadow copy MSysObjectsShadow at page 24).
//!
//! Every catalog row is a record with the fixed columns below; rows are keyed by
//! (ObjidTable, Type, Id), so a table's row is followed by its columns, indexes and long-value tree.
//! Type: 1 table, 2 column, 3 index, 4 long-value tree, 5 callback.
//! For a table, index or LV tree, ColtypOrPgnoFDP is the root page; for a column, its type.
//!
//! Every tree has a root page of its own, except a table's primary (clustered) index, which
//! *is* the table's tree and names the table's root. Two objects naming one root is corruption
//! (and the way a small file makes a reader walk one tree tens of thousands of times), so
//! [`claim_roots`] keeps the first claim in catalog order and drops the others with a warning.
//! One consequence: a database never has more tables than pages.

use std::collections::HashMap;

use super::record::ColumnType;
use crate::util::diag::Diagnostic;

pub const CATALOG_ROOT: u32 = 4;
pub const SHADOW_CATALOG_ROOT: u32 = 24;

pub const SYSOBJ_TABLE: i64 = 1;
pub const SYSOBJ_COLUMN: i64 = 2;
pub const SYSOBJ_INDEX: i64 = 3;
pub const SYSOBJ_LONG_VALUE: i64 = 4;

/// A column definition from the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub id: u32,
    pub name: String,
    pub coltype: ColumnType,
    /// Bytes of a fixed column (SpaceUsage, or the type's natural size).
    pub size: u32,
    pub flags: u32,
    /// Code page of text columns (1200 UTF-16LE, 1252 Western, 20127 ASCII).
    pub codepage: u32,
    /// Raw default value, used when a record stops before this column.
    pub default: Option<Vec<u8>>,
    /// Offset of a fixed column's value after the 4-byte record header.
    pub fixed_offset: u32,
}

impl Column {
    pub fn kind(&self) -> &'static str {
        match self.id {
            0..=127 => "fixed",
            128..=255 => "variable",
            _ => "tagged",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    pub name: String,
    pub root: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub objid: u32,
    pub name: String,
    pub root: u32,
    pub columns: Vec<Column>,
    pub indexes: Vec<Index>,
    /// Root page of the table's long-value tree, if it has one.
    pub lv_root: Option<u32>,
}

impl Table {
    pub fn new(objid: u32, name: String, root: u32) -> Table {
        Table {
            objid,
            name,
            root,
            columns: Vec::new(),
            indexes: Vec::new(),
            lv_root: None,
        }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Add a column, placing a fixed column after the fixed columns before it.
    pub fn add_column(&mut self, mut column: Column) {
        if column.id < 128 {
            column.fixed_offset = self
                .columns
                .iter()
                .filter(|c| c.id < column.id)
                .map(|c| c.size)
                .fold(0u32, u32::saturating_add);
        }
        self.columns.push(column);
    }

    /// The hard-coded definition of the catalog table itself.
    pub fn catalog(root: u32) -> Table {
        use ColumnType as T;
        let defs: [(u32, &str, ColumnType); 28] = [
            (1, "ObjidTable", T::Long),
            (2, "Type", T::Short),
            (3, "Id", T::Long),
            (4, "ColtypOrPgnoFDP", T::Long),
            (5, "SpaceUsage", T::Long),
            (6, "Flags", T::Long),
            (7, "PagesOrLocale", T::Long),
            (8, "RootFlag", T::Bit),
            (9, "RecordOffset", T::Short),
            (10, "LCMapFlags", T::Long),
            (11, "KeyMost", T::UnsignedShort),
            (12, "LVChunkMax", T::Long),
            (128, "Name", T::Text),
            (129, "Stats", T::Binary),
            (130, "TemplateTable", T::Text),
            (131, "DefaultValue", T::Binary),
            (132, "KeyFldIDs", T::Binary),
            (133, "VarSegMac", T::Binary),
            (134, "ConditionalColumns", T::Binary),
            (135, "TupleLimits", T::Binary),
            (136, "Version", T::Binary),
            (137, "SortID", T::Binary),
            (256, "CallbackData", T::LongBinary),
            (257, "CallbackDependencies", T::LongBinary),
            (258, "SeparateLV", T::LongBinary),
            (259, "SpaceHints", T::LongBinary),
            (260, "SpaceDeferredLVHints", T::LongBinary),
            (261, "LocaleName", T::LongBinary),
        ];
        let mut t = Table::new(0, "MSysObjects".into(), root);
        for (id, name, coltype) in defs {
            t.add_column(Column {
                id,
                name: name.into(),
                coltype,
                size: coltype.fixed_size().unwrap_or(0),
                flags: 0,
                codepage: 0,
                default: None,
                fixed_offset: 0,
            });
        }
        t
    }
}

/// Claim warnings kept word for word; later ones are only counted.
const MAX_CLAIM_WARNINGS: usize = 32;

/// Keep, in catalog order, only objects whose root page no earlier object took: a table whose
/// root is taken is dropped (with its long-value tree and indexes), a long-value tree or a
/// secondary index whose root is taken is dropped from its table. `taken` holds roots claimed
/// before the catalog (the catalog's own, for instance), with their owners' names.
pub fn claim_roots(tables: Vec<Table>, taken: &[(u32, &str)]) -> (Vec<Table>, Vec<Diagnostic>) {
    let mut owners: HashMap<u32, String> = taken
        .iter()
        .map(|(page, name)| (*page, name.to_string()))
        .collect();
    let mut warnings = Vec::new();
    let mut dropped = 0usize;
    let mut refuse = |what: String, page: u32, owner: &str| {
        dropped = dropped.saturating_add(1);
        if warnings.len() < MAX_CLAIM_WARNINGS {
            warnings.push(
                Diagnostic::new(format!(
                    "catalog: {what} is rooted at page {page}, which already belongs to {owner}; not read"
                ))
                .in_page(page),
            );
        }
    };
    let mut kept = Vec::new();
    for mut t in tables {
        let table_name = format!("table {:?} (objid {})", t.name, t.objid);
        if let Some(owner) = owners.get(&t.root).filter(|o| !is_own_root(o, &t)) {
            refuse(table_name, t.root, owner);
            continue;
        }
        owners.insert(t.root, table_name.clone());
        if let Some(lv) = t.lv_root {
            let what = format!("long-value tree of {table_name}");
            match owners.get(&lv) {
                Some(owner) => {
                    refuse(what, lv, owner);
                    t.lv_root = None;
                }
                None => {
                    owners.insert(lv, what);
                }
            }
        }
        t.indexes.retain(|i| {
            if i.root == t.root {
                return true; // the primary index is the table's own tree
            }
            let what = format!("index {:?} of {table_name}", i.name);
            if let Some(owner) = owners.get(&i.root) {
                refuse(what, i.root, owner);
                return false;
            }
            owners.insert(i.root, what);
            true
        });
        kept.push(t);
    }
    if dropped > warnings.len() {
        warnings.push(Diagnostic::new(format!(
            "catalog: {} more objects rooted at pages already taken; not read",
            dropped.saturating_sub(warnings.len())
        )));
    }
    (kept, warnings)
}

/// A pre-claimed root (the catalog's, claimed under its table's bare name) met by the catalog
/// row of that very table.
fn is_own_root(owner: &str, t: &Table) -> bool {
    owner == t.name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(objid: u32, name: &str, root: u32, lv: Option<u32>, indexes: &[u32]) -> Table {
        let mut t = Table::new(objid, name.into(), root);
        t.lv_root = lv;
        t.indexes = indexes
            .iter()
            .map(|&root| Index {
                name: format!("i{root}"),
                root,
            })
            .collect();
        t
    }

    #[test]
    fn the_first_claim_on_a_root_wins() {
        let tables = vec![
            table(2, "MSysObjects", 4, None, &[4, 7]),
            table(8, "Jobs", 31, Some(36), &[31]),
            table(9, "Files", 31, Some(40), &[32]),
            table(10, "Other", 50, Some(36), &[7, 51]),
        ];
        let (kept, warnings) = claim_roots(tables, &[(4, "MSysObjects")]);
        let names: Vec<&str> = kept.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["MSysObjects", "Jobs", "Other"]);
        // The primary index on the table's own root is not a second claim.
        assert_eq!(kept[0].indexes.len(), 2);
        assert_eq!(kept[1].indexes.len(), 1);
        // Other's long-value tree and its index on page 7 were taken; its index on 51 stays.
        assert_eq!(kept[2].lv_root, None);
        assert_eq!(
            kept[2].indexes,
            vec![Index {
                name: "i51".into(),
                root: 51
            }]
        );
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[0]
            .what
            .contains("table \"Files\" (objid 9) is rooted at page 31"));
    }

    #[test]
    fn tables_naming_the_catalog_root_are_dropped_with_a_capped_warning() {
        let mut tables = vec![table(2, "MSysObjects", 4, None, &[])];
        tables.extend((0..1000).map(|i| table(100 + i, &format!("T{i}"), 4, None, &[])));
        let (kept, warnings) = claim_roots(tables, &[(4, "MSysObjects")]);
        assert_eq!(kept.len(), 1);
        assert_eq!(warnings.len(), MAX_CLAIM_WARNINGS + 1);
        assert!(warnings[MAX_CLAIM_WARNINGS]
            .what
            .starts_with("catalog: 968 more objects"));
    }
}
