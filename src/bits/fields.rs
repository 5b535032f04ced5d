//! The byte range of every field of one record, decoded again from the record's bytes.
//!
//! Records carry record-level provenance only (offset, length, extents); the explorer's hex
//! view asks for the field ranges of the one record it shows, when it opens (`parse` attaches
//! them to every record only with `--provenance fields`).

use super::file::{decode_file_blob, FILE_MARKER};
use super::job::{decode_job_blob, job_delimiter_label, job_marker_label};
use super::legacy::decode_legacy_job;
use super::model::FieldRange;

/// The field ranges of the record whose bytes are `bytes` (a Win10+ job or file blob, or a
/// legacy job), told apart by the marker it starts with; empty when it starts with none.
pub fn record_fields(bytes: &[u8]) -> Vec<FieldRange> {
    let head = bytes.get(..16).unwrap_or(&[]);
    let fields = if job_marker_label(head).is_some() {
        decode_job_blob(bytes).map(|j| j.fields).ok()
    } else if job_delimiter_label(head).is_some() {
        decode_legacy_job(bytes).map(|(j, _)| j.job.fields).ok()
    } else if head == FILE_MARKER {
        decode_file_blob(bytes).map(|f| f.fields).ok()
    } else {
        None
    };
    fields.map_or_else(Vec::new, |f| FieldRange::from_fields(&f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_for_bytes_without_a_marker() {
        assert!(record_fields(b"not a record at all, no marker here").is_empty());
        assert!(record_fields(&[]).is_empty());
    }
}
