//! `--format timeline` is Timesketch's JSONL: checked line by line against the importer's
//! rules (`tests/oracle/timesketch_check.py` says which, and why not with PyPI's
//! timesketch-import-client: it cannot check a file without a server), with the host named
//! in every line, and one line per distinct time of each record (counted here from the
//! records themselves).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The checker's summary of a timeline file (it fails on any broken rule).
fn check(file: &Path) -> Value {
    let python = common::timesketch_python().expect("checked by the caller");
    let out = Command::new(python)
        .arg(common::manifest_dir().join("tests/oracle/timesketch_check.py"))
        .arg(file)
        .output()
        .expect("running the timesketch check");
    assert!(
        out.status.success(),
        "{} breaks Timesketch's rules:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the summary")
}

/// Lines a record makes: its distinct non-empty times.
fn distinct_times(r: &Value) -> usize {
    // A record with a story: a line per fact with a time, and the expiration's.
    if let Some(story) = r["story"].as_array().filter(|s| !s.is_empty()) {
        let facts = story
            .iter()
            .filter(|f| f["filetime"].as_u64().is_some_and(|t| t > 0))
            .count();
        let expires = r["expiration"].as_str().is_some_and(|t| !t.is_empty());
        return facts + usize::from(expires);
    }
    let times: BTreeSet<&str> = [
        "created",
        "modified",
        "completed",
        "expiration",
        "remote_modified",
    ]
    .iter()
    .filter_map(|k| r[*k].as_str())
    .filter(|t| !t.is_empty())
    .collect();
    times.len()
}

#[test]
fn the_timeline_follows_timesketchs_import_rules_with_the_host_in_every_line() {
    if common::timesketch_python().is_none() {
        return;
    }
    let Some(win10) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let dir = common::scratch_dir("timesketch");
    let demo = dir.join("demo");
    let out = common::run_bitscope(["demo", "--write", demo.to_str().unwrap()]);
    assert!(out.status.success());
    let timeline = dir.join("t.jsonl");
    let inputs = [demo.to_str().unwrap(), win10.to_str().unwrap()];
    let mut args = vec![
        "parse",
        "--carve",
        "--format",
        "timeline",
        "-o",
        timeline.to_str().unwrap(),
    ];
    args.extend(inputs);
    let out = common::run_bitscope(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = check(&timeline);

    // The same inputs as records: the lines each must make, and their hosts.
    let mut args = vec!["parse", "--carve", "--format", "jsonl"];
    args.extend(inputs);
    let out = common::run_bitscope(&args);
    let records: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let want: usize = records.iter().map(distinct_times).sum();
    assert_eq!(summary["lines"], want, "{summary}");
    assert!(want > 200, "{want} lines");
    let hosts: BTreeSet<&str> = records
        .iter()
        .map(|r| r["host"].as_str().unwrap())
        .collect();
    assert_eq!(
        summary["hosts"],
        serde_json::json!(hosts.iter().collect::<Vec<_>>())
    );
    // The demo's two hosts by their folders; the bare sample by the folder it lies in.
    assert_eq!(
        hosts,
        BTreeSet::from(["SRV-FILE-01", "WKS-FINANCE-07", "win10"])
    );
    let descs = summary["timestamp_desc"].to_string();
    for d in ["BITS Created", "BITS Modified", "BITS Expired"] {
        assert!(descs.contains(d), "{descs}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_collection_timeline_follows_the_same_rules() {
    if common::timesketch_python().is_none() {
        return;
    }
    let Some(win11) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let dir = common::scratch_dir("timesketch-collect");
    let toml = format!(
        "[output]\nname = \"c\"\ndirectory = \"{}\"\nformat = \"jsonl\"\ntimeline = true\n\n\
         [[artifacts]]\nartifact_name = \"bits\"\n[artifacts.bits]\ncarve = true\nalt_path = \"{}\"\n",
        dir.display(),
        win11.display()
    );
    std::fs::write(dir.join("c.toml"), toml).unwrap();
    let out = common::run_bitscope(["collect", "--config", dir.join("c.toml").to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.contains("bits_"))
        .map(std::path::PathBuf::from)
        .expect("the data file");
    let summary = check(&data);
    assert!(summary["lines"].as_u64().unwrap() > 4, "{summary}");
    assert_eq!(summary["hosts"], serde_json::json!(["win11"]));
    let _ = std::fs::remove_dir_all(&dir);
}
