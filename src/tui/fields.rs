//! The fields of the detail pane the cursor stops on, with the raw value `y` copies. They are
//! made with the pane's lines ([`super::detail`]), so this list and the pane cannot disagree.

use ratatui::text::Line;

use crate::bits::model::BitsInfo;

pub use super::style::LABEL_WIDTH;

/// (label as the detail pane prints it, raw value), in the pane's order; empty values are
/// left out (there is nothing to copy).
pub fn copy_fields(r: &BitsInfo) -> Vec<(&'static str, String)> {
    super::detail::fields(r)
        .into_iter()
        .map(|f| (f.label, f.value))
        .collect()
}

/// Does a detail line start with this label?
fn has_label(line: &Line, label: &str) -> bool {
    line.spans
        .first()
        .is_some_and(|s| s.content == format!("{label:<LABEL_WIDTH$}"))
}

/// The line of the detail pane holding field `index` of `fields`, found by its label among
/// the labelled lines, in order. The pane itself lights the line each field was made on
/// ([`super::detail::Field::line`]); this finds it from the drawn text alone (for checks
/// over what was drawn).
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
