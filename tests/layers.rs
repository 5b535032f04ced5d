//! The house's rule, kept by a test: imports among the folders of `src/` point down the
//! diagram only (ARCHITECTURE.md), so there is no import circle and no arrow back up.
//!
//! Every `crate::NAME` a file names in code (comments aside) is an import of the folder (or
//! top-level file) `NAME`. A folder may import only folders of a lower layer; two folders of
//! one layer never import each other. A new folder must be given its layer here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, lowest first: a folder (or top-level file) of `src/` and its layer.
const LAYERS: &[(&str, u32)] = &[
    // Shared helpers and opening evidence.
    ("util", 0),
    ("input", 1),
    // Readers: they know nothing of BITS (nor of each other).
    ("ese", 2),
    ("container", 2),
    ("winsec", 2),
    ("evtx", 2),
    ("hive", 2),
    // Decoders: BITS records from the readers' bytes.
    ("bits", 3),
    // Writers (records to json/jsonl/csv/timeline) and the test-data generator.
    ("output", 4),
    ("gen", 4),
    // The pipeline: inputs to sinks, through containers, stores, decoders and the join.
    ("pipeline", 5),
    // Front ends.
    ("collect", 6),
    ("tui", 6),
    // The library's front door (a Parser and its records iterator).
    ("parser", 6),
];

/// Files that only declare the crate (`lib.rs`) or are the command line (`main.rs`, `bin/`):
/// they may name any folder.
const TOP: &[&str] = &["lib", "main", "bin"];

fn layer(name: &str) -> Option<u32> {
    LAYERS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src is readable").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The folder (or top-level file's stem) of `src/` a file belongs to.
fn owner(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("a component");
    let first = Path::new(first.as_os_str());
    first
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The crate-level names a line of code imports: `crate::NAME` and each first name inside
/// `crate::{A, B::c}`.
fn imported(line: &str, out: &mut BTreeSet<String>) {
    let code = line.split("//").next().unwrap_or("");
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
}

#[test]
fn imports_point_down_the_layers_only() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in &files {
        let from = owner(&src, file);
        if TOP.contains(&from.as_str()) {
            continue;
        }
        let Some(from_layer) = layer(&from) else {
            wrong.push(format!(
                "src/{from}: no layer in tests/layers.rs (give it one)"
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("readable");
        let mut names = BTreeSet::new();
        for line in text.lines() {
            imported(line, &mut names);
        }
        for to in names {
            // `crate::NAME!` macros and items of lib.rs itself are not folders.
            let Some(to_layer) = layer(&to) else { continue };
            if to != from && to_layer >= from_layer {
                let rel = file.strip_prefix(&src).unwrap_or(file).display();
                wrong.push(format!(
                    "src/{rel} (layer {from_layer}) imports crate::{to} (layer {to_layer})"
                ));
            }
        }
    }
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_import_reader_sees_plain_and_grouped_paths() {
    let mut names = BTreeSet::new();
    imported("use crate::{bits::model, util};", &mut names);
    imported(
        "    let x = crate::ese::Database::open(d); // crate::tui in a comment",
        &mut names,
    );
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(names, ["bits", "ese", "util"]);
}
