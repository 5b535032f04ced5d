//! `bitscope ese info` and `bitscope ese dump`.

use std::io::{self, Write};

use serde_json::{json, Value as Json};

use crate::ese::checksum::ChecksumStatus;
use crate::ese::header::state_name;
use crate::ese::value::Value;
use crate::ese::{Database, EseError};
use crate::util::diag::Diagnostic;

/// Header facts, tables with columns and row counts, and warnings, as JSON.
pub fn info_json(db: &Database<'_>) -> Json {
    let mut warnings: Vec<Diagnostic> = db.warnings.clone();
    let tables: Vec<Json> = db
        .tables
        .iter()
        .map(|t| {
            let (rows, w) = db.rows(t.root);
            warnings.extend(w.into_iter().map(|w| in_table(&t.name, "", w)));
            json!({
                "name": t.name,
                "objid": t.objid,
                "root_page": t.root,
                "long_value_root": t.lv_root,
                "rows": rows.len(),
                "columns": t.columns.iter().map(|c| json!({
                    "id": c.id,
                    "name": c.name,
                    "type": c.coltype.as_u32(),
                    "type_name": c.coltype.name(),
                    "kind": c.kind(),
                    "size": c.size,
                    "codepage": c.codepage,
                })).collect::<Vec<_>>(),
                "indexes": t.indexes.iter().map(|i| json!({"name": i.name, "root_page": i.root})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let (mut ok, mut blank, mut bad) = (0u32, 0u32, Vec::new());
    for page in db.pages() {
        match page.checksum() {
            ChecksumStatus::Ok => ok += 1,
            ChecksumStatus::Blank => blank += 1,
            ChecksumStatus::Mismatch { .. } => bad.push(page.number),
        }
    }
    if !bad.is_empty() {
        warnings.push(Diagnostic::new(format!(
            "page checksum mismatch on {} page(s): {:?}",
            bad.len(),
            bad
        )));
    }
    let unreferenced: Vec<Json> = db
        .tables
        .iter()
        .filter_map(|t| {
            let (lv, _) = db.long_values(t);
            let n = lv.roots().iter().filter(|r| r.refcount == 0).count();
            (n > 0).then(|| json!({"table": t.name, "long_values": n}))
        })
        .collect();
    let h = &db.header;
    json!({
        "page_checksums": {"ok": ok, "blank": blank, "mismatch": bad},
        "unreferenced_long_values": unreferenced,
        "format_version": format!("{:#x}", h.format_version),
        "format_revision": format!("{:#x}", h.format_revision),
        "file_type": h.file_type,
        "state": state_name(h.state),
        "state_code": h.state,
        "page_size": db.page_size,
        "pages": db.page_count(),
        "header_checksum": {"stored": format!("{:#010x}", h.checksum), "computed": format!("{:#010x}", h.computed_checksum), "ok": h.checksum_ok()},
        "shadow_header_matches": db.shadow.as_ref().map(|s| s == h),
        "tables": tables,
        // As text (as before), and each with its place (offset, page, tag) as fields.
        "warnings": warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "diagnostics": warnings,
    })
}

/// The same facts for a person.
pub fn info_text(db: &Database<'_>, out: &mut dyn Write) -> io::Result<()> {
    let info = info_json(db);
    let s = |k: &str| {
        info.get(k)
            .map(|v| v.to_string().trim_matches('"').to_string())
            .unwrap_or_default()
    };
    writeln!(
        out,
        "format      {} revision {}",
        s("format_version"),
        s("format_revision")
    )?;
    writeln!(out, "state       {}", s("state"))?;
    writeln!(
        out,
        "page size   {} bytes, {} pages",
        s("page_size"),
        s("pages")
    )?;
    let hc = &db.header;
    writeln!(
        out,
        "checksum    {:#010x} ({})",
        hc.checksum,
        if hc.checksum_ok() { "ok" } else { "MISMATCH" }
    )?;
    if let Some(c) = info.get("page_checksums") {
        writeln!(out, "page checksums {c}")?;
    }
    if let Some(Json::Array(u)) = info.get("unreferenced_long_values") {
        for x in u {
            writeln!(
                out,
                "unreferenced long values (refcount 0, for carving): {x}"
            )?;
        }
    }
    // Row counts come from `info_json`, which already walked every tree once.
    let counts = info.get("tables").and_then(Json::as_array);
    for (i, t) in db.tables.iter().enumerate() {
        let rows = counts
            .and_then(|c| c.get(i))
            .and_then(|t| t.get("rows"))
            .and_then(Json::as_u64)
            .unwrap_or(0);
        writeln!(
            out,
            "\ntable {} (root page {}, {} rows)",
            t.name, t.root, rows
        )?;
        for c in &t.columns {
            writeln!(
                out,
                "  {:>4}  {:<28} {:<14} {}",
                c.id,
                c.name,
                c.coltype.name(),
                c.kind()
            )?;
        }
    }
    if let Some(Json::Array(w)) = info.get("warnings") {
        for w in w {
            writeln!(out, "warning: {}", w.as_str().unwrap_or_default())?;
        }
    }
    Ok(())
}

/// One JSON object per row: `{"table": NAME, "values": {COLUMN: VALUE}}`.
pub fn dump(
    db: &Database<'_>,
    table: Option<&str>,
    out: &mut dyn Write,
) -> Result<Vec<Diagnostic>, DumpError> {
    // The database's own warnings first: a dump through the shadow catalog, or of a catalog
    // that named no readable table, says so.
    let mut warnings: Vec<Diagnostic> = db.warnings.clone();
    // Text values that did not decode cleanly: the first SHOWN named, then a count.
    const SHOWN: usize = 32;
    let mut replaced = 0usize;
    if let Some(name) = table {
        if db.table(name).is_none() {
            return Err(DumpError::Ese(EseError::NoSuchTable(name.to_string())));
        }
    }
    for t in db
        .tables
        .iter()
        .filter(|t| table.is_none_or(|n| n == t.name))
    {
        let (lv, w) = db.long_values(t);
        warnings.extend(w.into_iter().map(|w| in_table(&t.name, " long values", w)));
        let (rows, w) = db.rows(t.root);
        warnings.extend(w.into_iter().map(|w| in_table(&t.name, "", w)));
        let table_name = serde_json::to_string(&t.name).map_err(io::Error::from)?;
        let keys: Vec<String> = t
            .columns
            .iter()
            .map(|c| serde_json::to_string(&c.name))
            .collect::<Result<_, _>>()
            .map_err(io::Error::from)?;
        for row in &rows {
            // Streamed rather than built as a map: tables can have thousands of columns.
            write!(out, "{{\"table\":{table_name},\"values\":{{")?;
            for (i, (key, v)) in keys.iter().zip(db.row_values(t, row, &lv)).enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                if matches!(&v, Value::Text(s) if s.contains(char::REPLACEMENT_CHARACTER)) {
                    replaced += 1;
                    if replaced <= SHOWN {
                        warnings.push(
                            Diagnostic::at(row.offset, format!(
                                "{}: row on page {} tag {}, column {key}: text shown with U+FFFD (an unpaired UTF-16 surrogate or cut text)",
                                t.name, row.page, row.tag
                            ))
                            .in_page(row.page)
                            .with_tag(u32::try_from(row.tag).unwrap_or(u32::MAX)),
                        );
                    }
                }
                out.write_all(key.as_bytes())?;
                out.write_all(b":")?;
                serde_json::to_writer(&mut *out, &v.to_json()).map_err(io::Error::from)?;
            }
            out.write_all(b"}}\n")?;
        }
    }
    if replaced > SHOWN {
        warnings.push(Diagnostic::new(format!(
            "{} more text values shown with U+FFFD",
            replaced - SHOWN
        )));
    }
    // Long values refused while the rows above were written (over budget).
    warnings.extend(db.value_warnings());
    Ok(warnings)
}

/// A diagnostic of a table's tree, its text led by the table's name.
fn in_table(table: &str, part: &str, w: Diagnostic) -> Diagnostic {
    Diagnostic {
        what: format!("{table}{part}: {}", w.what),
        ..w
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error(transparent)]
    Ese(#[from] EseError),
    #[error(transparent)]
    Io(#[from] io::Error),
}
