//! Jobs and files of a Windows 10/11 qmgr.db, read through the ESE reader.
//!
//! The `Jobs` and `Files` tables each hold column 1 `Id` (GUID) and column 256 `Blob` (long
//! binary, stored as a separated long value). Each blob is decoded by [`super::job`] or
//! [`super::file`]; each entry keeps where its bytes lie in the file.

use crate::ese::catalog::Table;
use crate::ese::record::{RawCell, RecordLayout, TAGFLD_SEPARATED};
use crate::ese::value::Value;
use crate::ese::{cell_value, Database, EseError, LongValues};
use crate::util::guid::Guid;

use super::decoded::{Decoded, FileEntry, JobEntry};
use super::file::{decode_file_blob, FileRecord};
use super::job::{decode_job_blob, JobRecord};
use super::model::Source;

/// Decode every live job and file of a qmgr.db held in `data`.
pub fn read_qmgr_db(data: &[u8], evidence: &str) -> Result<Decoded, EseError> {
    let db = Database::open(data)?;
    let mut out = Decoded {
        warnings: db.warnings.clone(),
        ..Decoded::default()
    };
    for (name, is_job) in [("Jobs", true), ("Files", false)] {
        let Some(table) = db.table(name) else {
            out.warnings.push(format!("no {name} table in the catalog"));
            continue;
        };
        for blob in table_blobs(&db, table, evidence, &mut out.warnings) {
            let (id, bytes, source) = blob;
            if is_job {
                match decode_job_blob(&bytes) {
                    Ok(job) => {
                        if id.is_some_and(|id| id != job.job_id) {
                            out.warnings.push(format!(
                                "Jobs row {} holds a blob for job {}",
                                id.map(|g| g.to_string()).unwrap_or_default(),
                                job.job_id
                            ));
                        }
                        let source = source.with_fields(&job.fields);
                        out.jobs.push(JobEntry {
                            job,
                            blob: bytes,
                            source,
                        });
                    }
                    Err(e) => {
                        let Some(id) = id else {
                            out.warnings
                                .push(format!("Jobs row without Id: undecodable blob: {e}"));
                            continue;
                        };
                        let job = JobRecord {
                            job_id: id,
                            warnings: vec![format!("job blob not decodable: {e}")],
                            ..JobRecord::default()
                        };
                        out.jobs.push(JobEntry {
                            job,
                            blob: bytes,
                            source,
                        });
                    }
                }
            } else {
                match decode_file_blob(&bytes) {
                    Ok(file) => {
                        let source = source.with_fields(&file.fields);
                        out.files.push(FileEntry {
                            id,
                            file,
                            blob: bytes,
                            source,
                        });
                    }
                    Err(e) => {
                        let file = FileRecord {
                            warnings: vec![format!("file blob not decodable: {e}")],
                            ..FileRecord::default()
                        };
                        out.files.push(FileEntry {
                            id,
                            file,
                            blob: bytes,
                            source,
                        });
                    }
                }
            }
        }
    }
    // Long values the ESE reader refused while the blobs were read (over its budget).
    out.warnings.extend(db.value_warnings());
    Ok(out)
}

/// The (Id, Blob bytes, source) of every live row of a Jobs/Files-shaped table.
fn table_blobs(
    db: &Database<'_>,
    table: &Table,
    evidence: &str,
    warnings: &mut Vec<String>,
) -> Vec<(Option<Guid>, Vec<u8>, Source)> {
    let (lv, w) = db.long_values(table);
    warnings.extend(
        w.into_iter()
            .map(|w| format!("{} long values: {w}", table.name)),
    );
    let (rows, w) = db.rows(table.root);
    warnings.extend(w.into_iter().map(|w| format!("{}: {w}", table.name)));
    let (Some(id_col), Some(blob_col)) = (table.column("Id"), table.column("Blob")) else {
        warnings.push(format!("{} has no Id/Blob columns", table.name));
        return Vec::new();
    };
    let mut out = Vec::new();
    for row in &rows {
        let Some(rec) = RecordLayout::parse(row.data, db.large) else {
            warnings.push(format!(
                "{}: unreadable record on page {} tag {}",
                table.name, row.page, row.tag
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
            warnings.push(format!("{} row {id}: Blob lost: {reason}", table.name));
        }
        let source = blob_source(table, row, &rec, blob_col.id, &lv, evidence, bytes.len());
        out.push((id, bytes, source));
    }
    out
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
        kind: "live".into(),
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
            source.extents = extents.iter().map(|(_, o, l)| (*o, *l as u64)).collect();
            source.container = format!("ese:{} long value", table.name);
        } else {
            source.offset = row.offset + offset as u64;
        }
    }
    source
}
