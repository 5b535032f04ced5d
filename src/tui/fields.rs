//! The fields of the detail pane the cursor stops on, with the raw value `y` copies.
//!
//! Each field is named by the label the detail pane prints before it, in the pane's order,
//! so the drawing can find the field's line ([`field_line`]) without the pane's lines
//! carrying the raw values. Empty values are left out: there is nothing to copy.

use ratatui::text::Line;

use crate::bits::model::BitsInfo;

/// Width of the detail pane's label column (the labels are padded to it).
pub const LABEL_WIDTH: usize = 16;

/// (label as the detail pane prints it, raw value), in the pane's order.
pub fn copy_fields(r: &BitsInfo) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let mut push = |label: &'static str, v: &str| {
        if !v.is_empty() {
            out.push((label, v.to_string()));
        }
    };
    push("job id", &r.job_id);
    push("name", &r.job_name);
    push("description", &r.job_description);
    push("notify command", &r.job_command);
    push("notify args", &r.job_arguments);
    push("notify program", &r.target_path);
    push("created", &r.created);
    push("modified", &r.modified);
    push("completed", &r.completed);
    push("expiration", &r.expiration);
    push("file id", &r.file_id);
    push("url", &r.url);
    push("local path", &r.full_path);
    push("file name", &r.filename);
    push("temp path", &r.tmp_fullpath);
    push("remote modified", &r.remote_modified);
    push("owner", &r.owner_sid);
    for (i, sid) in r.additional_sids.iter().enumerate() {
        // Later SIDs are printed under the first, with an empty label.
        push(if i == 0 { "additional SIDs" } else { "" }, sid);
    }
    push("SDDL", &r.sddl);
    push("  evidence", &r.evidence);
    out
}

/// Does a detail line start with this label?
fn has_label(line: &Line, label: &str) -> bool {
    line.spans
        .first()
        .is_some_and(|s| s.content == format!("{label:<LABEL_WIDTH$}"))
}

/// The line of the detail pane holding field `index` of `fields`: the fields are matched to
/// labelled lines in order, each after the one before.
pub fn field_line(lines: &[Line], fields: &[(&str, String)], index: usize) -> Option<usize> {
    let mut from = 0;
    for (i, (label, _)) in fields.iter().enumerate() {
        let at = from
            + lines
                .get(from..)?
                .iter()
                .position(|l| has_label(l, label))?;
        if i == index {
            return Some(at);
        }
        from = at + 1;
    }
    None
}
