//! The ESE reader against an independent oracle (dissect.esedb, `tests/oracle/esedb_oracle.py`).
//!
//! For each real database this runs `bitscope ese info --json PATH` and `bitscope ese dump PATH`
//! and the oracle's `info` and `dump`, then compares:
//! - tables: the same names in the same order, the same columns (id, name, type) and row counts
//!   (extra keys in bitscope's JSON are ignored);
//! - rows: every JSON Lines row, table by table and row by row, every column. Numbers compare
//!   as integers when both are integers, otherwise as exact f64 values. Cells where the oracle
//!   itself failed (`"!ERROR! ..."`) are not compared but listed, since bitscope may decode what
//!   dissect cannot.
//!
//! Every difference is collected (the first 50 printed) and the test fails with a summary.

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

const MAX_PRINTED: usize = 50;
const ORACLE_ERROR: &str = "!ERROR!";

#[test]
fn win10_qmgr() {
    check_database("ese/win10/qmgr.db");
}

#[test]
fn win11_qmgr() {
    check_database("ese/win11/qmgr.db");
}

#[test]
fn other_basic() {
    check_database("ese/other/basic.edb.gz");
}

#[test]
fn other_binary() {
    check_database("ese/other/binary.edb.gz");
}

#[test]
fn other_default() {
    check_database("ese/other/default.edb.gz");
}

#[test]
fn other_index() {
    check_database("ese/other/index.edb.gz");
}

#[test]
fn other_multi() {
    check_database("ese/other/multi.edb.gz");
}

#[test]
fn other_text() {
    check_database("ese/other/text.edb.gz");
}

#[test]
fn other_decompress_test() {
    check_database("ese/other/decompress_test.edb");
}

#[test]
fn other_large() {
    check_database("ese/other/large.edb.gz");
}

/// Differences found so far, and cells the oracle could not decode.
#[derive(Default)]
struct Report {
    diffs: Vec<String>,
    total_diffs: usize,
    oracle_errors: Vec<String>,
    total_oracle_errors: usize,
}

impl Report {
    fn diff(&mut self, msg: String) {
        self.total_diffs += 1;
        if self.diffs.len() < MAX_PRINTED {
            self.diffs.push(msg);
        }
    }

    fn oracle_error(&mut self, msg: String) {
        self.total_oracle_errors += 1;
        if self.oracle_errors.len() < MAX_PRINTED {
            self.oracle_errors.push(msg);
        }
    }
}

fn check_database(rel: &str) {
    let Some(path) = common::unpacked(rel) else {
        return;
    };
    if common::oracle_python().is_none() {
        return;
    }

    // The four runs are independent: do them side by side (the oracle is the slow part).
    let (bs_info, bs_dump, or_info, or_dump) = std::thread::scope(|s| {
        let bs_info = s.spawn(|| run_bitscope(&["ese", "info", "--json"], &path));
        let bs_dump = s.spawn(|| run_bitscope(&["ese", "dump"], &path));
        let or_info = s.spawn(|| common::run_oracle([Path::new("info"), path.as_path()]));
        let or_dump = s.spawn(|| common::run_oracle([Path::new("dump"), path.as_path()]));
        let join = |h: std::thread::ScopedJoinHandle<'_, String>| {
            h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
        };
        (join(bs_info), join(bs_dump), join(or_info), join(or_dump))
    });

    let mut report = Report::default();
    let column_order = compare_info(&bs_info, &or_info, &mut report);
    compare_dump(&bs_dump, &or_dump, &column_order, &mut report);

    if report.total_oracle_errors > 0 {
        eprintln!(
            "NOTE: {rel}: {} cell(s) the oracle could not decode were not compared{}:",
            report.total_oracle_errors,
            if report.total_oracle_errors > MAX_PRINTED {
                format!(" (first {MAX_PRINTED} listed)")
            } else {
                String::new()
            }
        );
        for e in &report.oracle_errors {
            eprintln!("  {e}");
        }
    }
    if report.total_diffs > 0 {
        let mut msg = format!(
            "{rel}: {} difference(s) between bitscope and the oracle (dissect.esedb){}:\n",
            report.total_diffs,
            if report.total_diffs > MAX_PRINTED {
                format!(", first {MAX_PRINTED} shown")
            } else {
                String::new()
            }
        );
        for d in &report.diffs {
            let _ = writeln!(msg, "  {d}");
        }
        panic!("{msg}");
    }
}

/// Run `bitscope ARGS PATH`; panics with its stderr when it fails.
fn run_bitscope(args: &[&str], path: &Path) -> String {
    let mut all: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    all.push(path.as_os_str());
    let out = common::run_bitscope(&all);
    if !out.status.success() {
        panic!(
            "`bitscope {}` failed ({}):\n{}",
            all.iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout).expect("bitscope output is UTF-8")
}

// ---------------------------------------------------------------------------------------------
// info

/// One table as both sides describe it (only the keys the contract shares; extra keys ignored).
#[derive(Deserialize, Debug)]
struct InfoTable {
    name: String,
    columns: Vec<InfoColumn>,
    rows: u64,
}

#[derive(Deserialize, Debug, PartialEq)]
struct InfoColumn {
    id: u32,
    name: String,
    #[serde(rename = "type")]
    coltyp: u32,
}

/// Column names per table, in catalog order.
type ColumnOrder = HashMap<String, Vec<String>>;

#[derive(Deserialize)]
struct Info {
    tables: Vec<InfoTable>,
}

fn parse_info(who: &str, text: &str) -> Info {
    if text.trim().is_empty() {
        panic!(
            "{who} printed nothing for `ese info --json` (does the `ese` subcommand exist yet?)"
        );
    }
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        let head: String = text.chars().take(300).collect();
        panic!("{who}'s info output is not the expected JSON ({e}); it begins: {head:?}")
    })
}

/// Compares the table lists; returns the oracle's column names per table, in catalog order
/// (used to report row differences in column order).
fn compare_info(bitscope: &str, oracle: &str, report: &mut Report) -> ColumnOrder {
    let ours = parse_info("bitscope", bitscope);
    let theirs = parse_info("the oracle", oracle);
    let column_order = theirs
        .tables
        .iter()
        .map(|t| {
            let names = t.columns.iter().map(|c| c.name.clone()).collect();
            (t.name.clone(), names)
        })
        .collect();

    let our_names: Vec<&str> = ours.tables.iter().map(|t| t.name.as_str()).collect();
    let their_names: Vec<&str> = theirs.tables.iter().map(|t| t.name.as_str()).collect();
    if our_names != their_names {
        report.diff(format!(
            "info: tables differ: bitscope {our_names:?}, oracle {their_names:?}"
        ));
    }

    for theirs in &theirs.tables {
        let Some(ours) = ours.tables.iter().find(|t| t.name == theirs.name) else {
            continue; // already reported in the name lists
        };
        let table = &theirs.name;
        if ours.rows != theirs.rows {
            report.diff(format!(
                "info: table {table}: rows: bitscope {}, oracle {}",
                ours.rows, theirs.rows
            ));
        }
        if ours.columns.len() != theirs.columns.len() {
            report.diff(format!(
                "info: table {table}: column count: bitscope {}, oracle {}",
                ours.columns.len(),
                theirs.columns.len()
            ));
        }
        for i in 0..ours.columns.len().max(theirs.columns.len()) {
            let (a, b) = (ours.columns.get(i), theirs.columns.get(i));
            if a != b {
                report.diff(format!(
                    "info: table {table}: column #{i}: bitscope {}, oracle {}",
                    describe_column(a),
                    describe_column(b)
                ));
            }
        }
    }
    column_order
}

fn describe_column(c: Option<&InfoColumn>) -> String {
    match c {
        Some(c) => format!("(id {}, {:?}, type {})", c.id, c.name, c.coltyp),
        None => "(none)".to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// dump

#[derive(Deserialize)]
struct RowHead {
    table: String,
}

/// A row fully parsed.
#[derive(Deserialize)]
struct Row {
    table: String,
    values: Map<String, Value>,
}

/// The JSONL lines grouped by table, in order of first appearance.
struct Tables<'a> {
    order: Vec<String>,
    rows: Vec<(String, Vec<&'a str>)>,
}

fn group_lines<'a>(who: &str, text: &'a str) -> Tables<'a> {
    let mut rows: Vec<(String, Vec<&'a str>)> = Vec::new();
    let mut order = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let head: RowHead = serde_json::from_str(line).unwrap_or_else(|e| {
            let head: String = line.chars().take(300).collect();
            panic!(
                "{who}'s dump line {} is not a row object ({e}): {head:?}",
                n + 1
            )
        });
        if order.last() != Some(&head.table) {
            order.push(head.table.clone());
        }
        match rows.iter_mut().find(|(t, _)| *t == head.table) {
            Some((_, lines)) => lines.push(line),
            None => rows.push((head.table, vec![line])),
        }
    }
    Tables { order, rows }
}

fn parse_row(who: &str, line: &str) -> Row {
    serde_json::from_str(line).unwrap_or_else(|e| {
        let head: String = line.chars().take(300).collect();
        panic!("{who}'s dump row is not {{\"table\",\"values\"}} ({e}): {head:?}")
    })
}

fn compare_dump(bitscope: &str, oracle: &str, column_order: &ColumnOrder, report: &mut Report) {
    let ours = group_lines("bitscope", bitscope);
    let theirs = group_lines("the oracle", oracle);

    if ours.order != theirs.order {
        report.diff(format!(
            "dump: table sequence differs: bitscope {:?}, oracle {:?}",
            ours.order, theirs.order
        ));
    }

    let no_order = Vec::new();
    for (table, their_lines) in &theirs.rows {
        let order = column_order.get(table).unwrap_or(&no_order);
        let empty = Vec::new();
        let our_lines = ours
            .rows
            .iter()
            .find(|(t, _)| t == table)
            .map(|(_, l)| l)
            .unwrap_or(&empty);
        if our_lines.len() != their_lines.len() {
            report.diff(format!(
                "dump: table {table}: bitscope has {} rows, oracle {}",
                our_lines.len(),
                their_lines.len()
            ));
        }
        for (idx, (our_line, their_line)) in our_lines.iter().zip(their_lines).enumerate() {
            let our_row = parse_row("bitscope", our_line);
            let their_row = parse_row("the oracle", their_line);
            debug_assert_eq!(our_row.table, their_row.table);
            compare_row(
                table,
                idx,
                order,
                &our_row.values,
                &their_row.values,
                report,
            );
        }
    }
    for (table, lines) in &ours.rows {
        if !theirs.rows.iter().any(|(t, _)| t == table) {
            report.diff(format!(
                "dump: table {table}: bitscope has {} rows, the oracle has no such table",
                lines.len()
            ));
        }
    }
}

fn compare_row(
    table: &str,
    idx: usize,
    order: &[String],
    ours: &Map<String, Value>,
    theirs: &Map<String, Value>,
    report: &mut Report,
) {
    // The oracle's columns in catalog order, then any its info did not list.
    let listed: HashSet<&str> = order.iter().map(String::as_str).collect();
    let columns = order
        .iter()
        .filter_map(|name| theirs.get_key_value(name))
        .chain(theirs.iter().filter(|(k, _)| !listed.contains(k.as_str())));
    for (column, their_value) in columns {
        if let Value::String(s) = their_value {
            if s.starts_with(ORACLE_ERROR) {
                report.oracle_error(format!(
                    "table {table}, row {idx}, column {column}: oracle {s:?}; bitscope {}",
                    ours.get(column)
                        .map(short)
                        .unwrap_or_else(|| "(missing)".to_string())
                ));
                continue;
            }
        }
        match ours.get(column) {
            None => report.diff(format!(
                "dump: table {table}, row {idx}, column {column}: missing in bitscope; oracle {}",
                short(their_value)
            )),
            Some(our_value) if !same_value(our_value, their_value) => report.diff(format!(
                "dump: table {table}, row {idx}, column {column}: bitscope {}, oracle {}",
                short(our_value),
                short(their_value)
            )),
            Some(_) => {}
        }
    }
    let extra: BTreeSet<&String> = ours.keys().filter(|k| !theirs.contains_key(*k)).collect();
    if !extra.is_empty() {
        report.diff(format!(
            "dump: table {table}, row {idx}: columns only bitscope has: {extra:?}"
        ));
    }
}

/// JSON equality, except that numbers compare as integers when both are integers and as exact
/// f64 values (bit for bit) otherwise.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x.is_f64() || y.is_f64() {
                match (x.as_f64(), y.as_f64()) {
                    (Some(x), Some(y)) => x.to_bits() == y.to_bits(),
                    _ => false,
                }
            } else {
                x == y
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

/// A value for a message, shortened when long.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= 200 {
        s
    } else {
        let head: String = s.chars().take(160).collect();
        format!("{head}... ({} chars)", s.chars().count())
    }
}
