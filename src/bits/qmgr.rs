//! Jobs and files of a Windows 10/11 qmgr.db, read through the ESE reader.
//!
//! The `Jobs` and `Files` tables each hold column 1 `Id` (GUID) and column 256 `Blob` (long
//! binary, stored as a separated long value). Each blob is decoded by [`super::job`] or
//! [`super::file`]; each entry keeps where its bytes lie in the file.

use crate::ese::catalog::Table;
use crate::ese::record::{RawCell, RecordLayout, TAGFLD_SEPARATED};
use crate::ese::value::Value;
use crate::ese::{cell_value, Database, LongValues};
use crate::util::guid::Guid;

use std::collections::HashMap;

use super::file::{decode_file_blob, FileRecord};
use super::job::{decode_job_blob, JobRecord};
use super::model::{FileEntry, JobEntry, Source, SourceKind};
use super::reader::Diagnostic;

/// Every live file of the Files table, decoded (the join needs them all before any job).
pub fn read_files(
    db: &Database<'_>,
    evidence: &str,
    field_ranges: bool,
    warnings: &mut Vec<Diagnostic>,
) -> Vec<FileEntry> {
    let mut out = Vec::new();
    for_each_blob(
        db,
        "Files",
        evidence,
        warnings,
        &mut |id, bytes, source, _| {
            let file = match decode_file_blob(&bytes) {
                Ok(file) => file,
                Err(e) => FileRecord {
                    warnings: vec![format!("file blob not decodable: {e}")],
                    ..FileRecord::default()
                },
            };
            let source = with_fields(source, &file.fields, field_ranges);
            out.push(FileEntry {
                id,
                file,
                blob: bytes,
                source,
            });
            true
        },
    );
    out
}

/// How many live Jobs rows carry each Id (more than one is rare: a copy the pipeline must
/// hold back until all are seen). Reads only the Id column.
pub fn job_id_counts(db: &Database<'_>) -> HashMap<Guid, u32> {
    let mut counts = HashMap::new();
    let Some(table) = db.table("Jobs") else {
        return counts;
    };
    let Some(id_col) = table.column("Id") else {
        return counts;
    };
    let lv = LongValues::default();
    let (rows, _) = db.rows(table.root);
    for row in &rows {
        let Some(rec) = RecordLayout::parse(row.data, db.large) else {
            continue;
        };
        if let Value::Guid(g) = cell_value(id_col, &rec, &lv) {
            let n = counts.entry(g).or_default();
            *n = n.saturating_add(1); // at most the table's rows
        }
    }
    counts
}

/// Decode the live jobs one row at a time, handing each to `f` (which returns false to stop).
pub fn for_each_job(
    db: &Database<'_>,
    evidence: &str,
    field_ranges: bool,
    warnings: &mut Vec<Diagnostic>,
    f: &mut dyn FnMut(JobEntry) -> bool,
) {
    for_each_blob(
        db,
        "Jobs",
        evidence,
        warnings,
        &mut |id, bytes, source, warnings| {
            let job = match decode_job_blob(&bytes) {
                Ok(job) => {
                    if id.is_some_and(|id| id != job.job_id) {
                        warnings.push(Diagnostic::at(
                            source.offset,
                            format!(
                                "Jobs row {} holds a blob for job {}",
                                id.map(|g| g.to_string()).unwrap_or_default(),
                                job.job_id
                            ),
                        ));
                    }
                    job
                }
                Err(e) => {
                    let Some(id) = id else {
                        warnings.push(Diagnostic::at(
                            source.offset,
                            format!("Jobs row without Id: undecodable blob: {e}"),
                        ));
                        return true;
                    };
                    JobRecord {
                        job_id: id,
                        warnings: vec![format!("job blob not decodable: {e}")],
                        ..JobRecord::default()
                    }
                }
            };
            let source = with_fields(source, &job.fields, field_ranges);
            f(JobEntry {
                job,
                blob: bytes,
                source,
            })
        },
    );
}

fn with_fields(source: Source, fields: &[crate::bits::job::Field], field_ranges: bool) -> Source {
    if field_ranges {
        source.with_fields(fields)
    } else {
        source
    }
}

/// A row's (Id, Blob bytes, source), and the warnings list to add to.
type BlobFn<'f> = dyn FnMut(Option<Guid>, Vec<u8>, Source, &mut Vec<Diagnostic>) -> bool + 'f;

/// Hand the (Id, Blob bytes, source) of every live row of a Jobs/Files-shaped table to `f`,
/// one row at a time; stops when `f` returns false.
fn for_each_blob(
    db: &Database<'_>,
    name: &str,
    evidence: &str,
    warnings: &mut Vec<Diagnostic>,
    f: &mut BlobFn<'_>,
) {
    let Some(table) = db.table(name) else {
        warnings.push(Diagnostic::new(format!("no {name} table in the catalog")));
        return;
    };
    let (lv, w) = db.long_values(table);
    warnings.extend(
        w.into_iter()
            .map(|w| Diagnostic::new(format!("{} long values: {w}", table.name))),
    );
    let (rows, w) = db.rows(table.root);
    warnings.extend(
        w.into_iter()
            .map(|w| Diagnostic::new(format!("{}: {w}", table.name))),
    );
    let (Some(id_col), Some(blob_col)) = (table.column("Id"), table.column("Blob")) else {
        warnings.push(Diagnostic::new(format!(
            "{} has no Id/Blob columns",
            table.name
        )));
        return;
    };
    for row in &rows {
        let Some(rec) = RecordLayout::parse(row.data, db.large) else {
            warnings.push(Diagnostic::at(
                row.offset,
                format!(
                    "{}: unreadable record on page {} tag {}",
                    table.name, row.page, row.tag
                ),
            ));
            continue;
        };
        let id = match cell_value(id_col, &rec, &lv) {
            Value::Guid(g) => Some(g),
            _ => None,
        };
        // A row whose blob is lost (e.g. a truncated file) still says which job or file
        // existed: it comes back with an empty blob and the reason.
        let (bytes, lost) = match cell_value(blob_col, &rec, &lv) {
            Value::Binary(b) => (b, None),
            Value::Undecoded { reason, .. } => (Vec::new(), Some(reason)),
            Value::Null => (Vec::new(), Some("no Blob value".to_string())),
            other => (
                Vec::new(),
                Some(format!("unexpected Blob value {}", other.to_json())),
            ),
        };
        if let Some(reason) = lost {
            let id = id.map(|g| g.to_string()).unwrap_or_default();
            warnings.push(Diagnostic::at(
                row.offset,
                format!("{} row {id}: Blob lost: {reason}", table.name),
            ));
        }
        let source = blob_source(table, row, &rec, blob_col.id, &lv, evidence, bytes.len());
        if !f(id, bytes, source, warnings) {
            return;
        }
    }
}

/// Where a row's blob lies: in its long-value chunks when separated, else inside the record.
fn blob_source(
    table: &Table,
    row: &crate::ese::Row<'_>,
    rec: &RecordLayout<'_>,
    blob_col: u32,
    lv: &LongValues<'_>,
    evidence: &str,
    len: usize,
) -> Source {
    let mut source = Source {
        evidence: evidence.to_string(),
        offset: row.offset,
        length: len as u64,
        kind: SourceKind::Live,
        container: format!("ese:{}", table.name),
        page: Some(row.page),
        tag: u32::try_from(row.tag).ok(),
        ..Source::default()
    };
    if let RawCell::Bytes {
        data,
        offset,
        flags,
    } = rec.tagged(blob_col)
    {
        if flags & TAGFLD_SEPARATED != 0 {
            let extents = lv.extents(data);
            if let Some((page, off, _)) = extents.first() {
                source.offset = *off;
                source.page = Some(*page);
                source.tag = None;
            }
            source.set_extents(extents.iter().map(|(_, o, l)| (*o, *l as u64)));
            source.container = format!("ese:{} long value", table.name);
        } else {
            // A position within the row's bytes, within the file.
            source.offset = row.offset.saturating_add(offset as u64);
        }
    }
    source
}
