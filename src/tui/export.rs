//! The explorer's export formats: which one a path asks for, and Tab's cycle through them.
//! The writing itself is `bitscope parse`'s (output::bits::RecordWriter into an AtomicFile).

use std::path::Path;

use crate::output::bits::Format;

/// The formats `e` writes, in the order Tab cycles them (those of `bitscope parse -f`).
pub const EXPORT_FORMATS: [Format; 3] = [Format::Json, Format::Jsonl, Format::Csv];

/// The export format a path asks for by its extension (JSON when it names none of them).
pub fn export_format(path: &str) -> Format {
    let ext = Path::new(path)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    EXPORT_FORMATS
        .into_iter()
        .find(|f| ext.as_deref() == Some(f.extension()))
        .unwrap_or(Format::Json)
}

/// `path` with its extension replaced by the one of the next export format.
pub fn with_next_format(path: &str) -> String {
    let now = export_format(path);
    let i = EXPORT_FORMATS.iter().position(|&f| f == now).unwrap_or(0);
    let next = EXPORT_FORMATS[(i + 1) % EXPORT_FORMATS.len()];
    let p = Path::new(path);
    let known = p.extension().is_some_and(|e| {
        EXPORT_FORMATS
            .iter()
            .any(|f| e.eq_ignore_ascii_case(f.extension()))
    });
    let stem = if known {
        path.get(..path.len() - p.extension().map_or(0, |e| e.len() + 1))
            .unwrap_or(path)
    } else {
        path
    };
    format!("{stem}.{}", next.extension())
}

/// A format's name as the status line says it.
pub fn format_name(f: Format) -> &'static str {
    match f {
        Format::Json => "JSON",
        Format::Jsonl => "JSON Lines",
        Format::Csv => "CSV",
        Format::Timeline => "timeline JSONL",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_chooses_and_tab_cycles() {
        assert_eq!(export_format("a.json"), Format::Json);
        assert_eq!(export_format("dir.v2/a.JSONL"), Format::Jsonl);
        assert_eq!(export_format("a.csv"), Format::Csv);
        assert_eq!(export_format("a.txt"), Format::Json);
        assert_eq!(export_format("csv"), Format::Json);
        assert_eq!(with_next_format("a.json"), "a.jsonl");
        assert_eq!(with_next_format("a.jsonl"), "a.csv");
        assert_eq!(with_next_format("a.CSV"), "a.json");
        assert_eq!(with_next_format("dir.v2/a"), "dir.v2/a.jsonl");
        assert_eq!(with_next_format("été.json"), "été.jsonl");
        assert_eq!(with_next_format(""), ".jsonl");
    }
}
