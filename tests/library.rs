//! The library's front door: `bitscope::Parser` gives the records `bitscope parse` writes, says
//! which input failed without stopping the others, and stops when its records are dropped;
//! `examples/list_jobs.rs` runs as a program.

mod common;

use common::{run_bitscope, sample};
use serde_json::Value;

fn parse_jsonl(args: &[&str]) -> Vec<Value> {
    let out = run_bitscope(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

#[test]
fn parser_records_equal_parse_output() {
    let legacy = common::manifest_dir().join("testdata/legacy/win7-deleted.qmgr0.dat");
    let mut paths = vec![legacy];
    paths.extend(sample("ese/win11/qmgr.db"));
    for path in paths {
        let p = path.to_str().expect("utf-8");
        let want = parse_jsonl(&["parse", "--carve", p, "--format", "jsonl"]);
        let got: Vec<Value> = bitscope::Parser::new(&path)
            .carve(true)
            .records()
            .map(|r| serde_json::to_value(r.expect("reads")).expect("serializes"))
            .collect();
        assert!(!want.is_empty());
        assert_eq!(got, want, "{p}");
    }
}

#[test]
fn a_failed_input_is_an_error_item_and_the_others_are_read() {
    let dir = common::scratch_dir("library-failed");
    let bad = dir.join("qmgr0.dat");
    std::fs::write(&bad, vec![0x41u8; 20_000]).expect("write");
    let good = common::manifest_dir().join("testdata/legacy/win7-deleted.qmgr0.dat");
    let items: Vec<_> = bitscope::Parser::new(&bad).and(&good).records().collect();
    let errors: Vec<String> = items
        .iter()
        .filter_map(|i| i.as_ref().err().map(ToString::to_string))
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("not a BITS queue"), "{errors:?}");
    let want = parse_jsonl(&["parse", good.to_str().expect("utf-8"), "--format", "jsonl"]);
    assert_eq!(items.iter().filter(|i| i.is_ok()).count(), want.len());
}

#[test]
fn dropping_the_records_stops_the_reading() {
    let Some(db) = sample("ese/win11/qmgr.db") else {
        return;
    };
    let mut records = bitscope::Parser::new(&db).carve(true).records();
    assert!(records.next().is_some_and(|r| r.is_ok()));
    drop(records);
}

/// The example program, compiled into this test so it runs here whatever cargo built
/// (`.ci/run` also runs the example binary itself).
#[allow(dead_code)]
#[path = "../examples/list_jobs.rs"]
mod list_jobs;

#[test]
fn the_example_lists_a_queues_jobs() {
    let legacy = common::manifest_dir().join("testdata/legacy/win7-deleted.qmgr0.dat");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let path = legacy.to_str().expect("utf-8");
    let all_read = list_jobs::list_jobs(path, true, &mut out, &mut err).expect("writes");
    assert!(all_read, "{}", String::from_utf8_lossy(&err));
    let want = parse_jsonl(&["parse", "--carve", path, "--format", "jsonl"]);
    let text = String::from_utf8(out).expect("utf-8");
    assert_eq!(text.lines().count(), want.len());
    for (line, rec) in text.lines().zip(&want) {
        let id = rec["job_id"].as_str().expect("job_id");
        assert!(line.contains(id), "{line} lacks {id}");
    }
}
