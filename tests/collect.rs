//! `bitscope collect`: the seed's TOML, compression, timelines, and bad configs.

mod common;

use std::path::{Path, PathBuf};

use common::run_bitscope;
use serde_json::Value;

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bitscope-collect-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The seed's TOML collection, with `alt_path` and `directory` filled in.
fn seed_toml(dir: &Path, alt_path: &Path, format: &str, compress: bool, timeline: bool) -> String {
    format!(
        r#"[output]
name = "bits_collection"
directory = "{}"
format = "{format}"
compress = {compress}
endpoint_id = "6c51b123-1522-4572-9f2a-0bd5abd81b82"
collection_id = 1
output = "local"
timeline = {timeline}

[[artifacts]]
artifact_name = "bits"
[artifacts.bits]
carve = true
# Optional
alt_path = "{}"
"#,
        dir.display(),
        alt_path.display()
    )
}

fn collect(toml: &str, dir: &Path) -> (std::process::Output, Vec<PathBuf>) {
    let cfg = dir.join("collect.toml");
    std::fs::write(&cfg, toml).unwrap();
    let out = run_bitscope(["collect", "--config", cfg.to_str().unwrap()]);
    let files = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(PathBuf::from)
        .collect();
    (out, files)
}

fn parse_carve(db: &Path) -> Vec<Value> {
    let out = run_bitscope(["parse", "--carve", db.to_str().unwrap()]);
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_seed_toml_writes_records_equal_to_parse() {
    let Some(db) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let dir = tmpdir("seed");
    let (out, files) = collect(&seed_toml(&dir, &db, "json", false, false), &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(files.len(), 2);
    let data = files
        .iter()
        .find(|f| {
            f.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("bits_")
        })
        .unwrap();
    let report = files
        .iter()
        .find(|f| {
            f.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("report_")
        })
        .unwrap();
    assert!(data.starts_with(dir.join("bits_collection")));
    let records: Vec<Value> = serde_json::from_slice(&std::fs::read(data).unwrap()).unwrap();
    assert_eq!(records, parse_carve(&db));
    let report: Value = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    assert_eq!(report["records"], records.len());
    assert_eq!(
        report["endpoint_id"],
        "6c51b123-1522-4572-9f2a-0bd5abd81b82"
    );
    assert_eq!(
        report["inputs"][0]["sha256"],
        "1a0333f6061c12c47b34f918a6055f2f60af5f51e6418e0b5189b473f2e39407"
    );
    // A second run never overwrites the first.
    let (out2, files2) = collect(&seed_toml(&dir, &db, "json", false, false), &dir);
    assert!(out2.status.success());
    assert!(files2.iter().all(|f| !files.contains(f)));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compressed_output_gunzips_to_the_same() {
    let Some(db) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let dir = tmpdir("gz");
    let (out, files) = collect(&seed_toml(&dir, &db, "jsonl", true, false), &dir);
    assert!(out.status.success());
    let gz = files
        .iter()
        .find(|f| f.to_str().unwrap().ends_with(".jsonl.gz"))
        .unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(gz).unwrap()),
        &mut text,
    )
    .unwrap();
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows, parse_carve(&db));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn timeline_has_one_entry_per_distinct_timestamp() {
    let Some(db) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let dir = tmpdir("timeline");
    let (out, files) = collect(&seed_toml(&dir, &db, "json", false, true), &dir);
    assert!(out.status.success());
    let data = files
        .iter()
        .find(|f| f.to_str().unwrap().ends_with(".jsonl"))
        .unwrap();
    let entries: Vec<Value> = std::fs::read_to_string(data)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let records = parse_carve(&db);
    let expected: usize = records
        .iter()
        .map(|r| {
            let mut t: Vec<&str> = [
                "created",
                "modified",
                "completed",
                "expiration",
                "remote_modified",
            ]
            .iter()
            .filter_map(|k| r[*k].as_str().filter(|s| !s.is_empty()))
            .collect();
            t.sort();
            t.dedup();
            t.len()
        })
        .sum();
    assert_eq!(entries.len(), expected);
    let live = &entries[0];
    assert_eq!(live["datetime"], "2022-12-21T02:18:03.120Z");
    assert_eq!(live["timestamp_desc"], "BITS Created");
    assert_eq!(
        live["message"],
        r"Job: Chrome Component Updater - Target Path: C:\Program Files\Chromium\Application\chrome.exe"
    );
    assert_eq!(
        entries[1]["timestamp_desc"],
        "BITS Modified, BITS Completed"
    );
    assert_eq!(live["data_type"], "windows:ese:bits:entry");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_configs_name_the_line_and_column_and_leave_nothing() {
    let Some(db) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let dir = tmpdir("bad");
    let good = seed_toml(&dir, &db, "json", false, false);
    let cases = [
        (
            good.replace("format = \"json\"", "format = \"xml\""),
            ":4:10:",
            "unknown variant",
        ),
        (
            good.replace("artifact_name = \"bits\"", "artifact_name = \"prefetch\""),
            ":12:17:",
            "unknown artifact",
        ),
        (
            good.replace(db.to_str().unwrap(), "/no/such/qmgr.db"),
            ":16:12:",
            "does not exist",
        ),
        (
            good.replace(
                &format!("directory = \"{}\"", dir.display()),
                "directory = \"/proc/bitscope-no\"",
            ),
            "",
            "cannot create",
        ),
    ];
    for (toml, place, what) in cases {
        let (out, _) = collect(&toml, &dir);
        assert_eq!(out.status.code(), Some(1), "{toml}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(place) && err.contains(what),
            "{place} {what}: {err}"
        );
        assert!(!dir.join("bits_collection").exists(), "no partial output");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn names_outside_the_directory_and_non_utf8_configs_are_refused() {
    let Some(db) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let dir = tmpdir("names");
    let good = seed_toml(&dir, &db, "json", false, false);
    for name in ["../../x", "/tmp/abs", "a/b", "..", ""] {
        let toml = good.replace("name = \"bits_collection\"", &format!("name = {name:?}"));
        let (out, _) = collect(&toml, &dir);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(":2:8:") && err.contains("one plain folder name"),
            "{err}"
        );
    }
    let mut bytes = good.clone().into_bytes();
    let at = good.find("endpoint_id").unwrap();
    bytes.insert(at + 3, 0xff);
    std::fs::write(dir.join("bad.toml"), &bytes).unwrap();
    let out = run_bitscope([
        "collect",
        "--config",
        dir.join("bad.toml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(":6:4:") && err.contains("not UTF-8"), "{err}");
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 2, "only the two configs: {names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failed_run_removes_the_folders_it_made_and_says_partial_or_failed() {
    let Some(db) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let dir = tmpdir("status");
    // An input that cannot be read (a FIFO) beside a real one: partial, exit 1, records still
    // written.
    let inputs = dir.join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::copy(&db, inputs.join("qmgr.db")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(inputs.join("qmgr0.dat"))
        .status();
    if !fifo.is_ok_and(|s| s.success()) {
        common::skip("mkfifo");
        return;
    }
    let toml = seed_toml(&dir, &inputs, "jsonl", false, false);
    let (out, files) = collect(&toml, &dir);
    assert_eq!(out.status.code(), Some(1));
    let report = files
        .iter()
        .find(|f| f.to_string_lossy().contains("report_"))
        .unwrap();
    let report: Value = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    assert_eq!(report["status"], "partial");
    assert_eq!(report["inputs_failed"], 1);
    assert!(report["records"].as_u64().unwrap() > 0);
    // Nothing readable at all: failed.
    std::fs::remove_file(inputs.join("qmgr.db")).unwrap();
    let toml = seed_toml(&dir, &inputs, "jsonl", false, false).replace("bits_collection", "second");
    let (out, files) = collect(&toml, &dir);
    assert_eq!(out.status.code(), Some(1));
    let report = files
        .iter()
        .find(|f| f.to_string_lossy().contains("report_"))
        .unwrap();
    let report: Value = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    assert_eq!(report["status"], "failed");
    // A run that fails before writing leaves no new parent folders behind.
    let deep = dir.join("newparent/deeper");
    let toml = seed_toml(&deep, &inputs, "xml-is-no-format", false, false);
    let (out, _) = collect(&toml, &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.join("newparent").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
