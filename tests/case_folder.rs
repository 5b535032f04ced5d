//! `bitscope parse CASE_FOLDER`: many host collections side by side (KAPE trees, zips,
//! images) run on all cores, each record named with its host, the output the same bytes
//! whatever the thread count.

mod common;

use std::collections::BTreeMap;

use bitscope::gen::fleet;
use serde_json::Value;

fn parse(case: &std::path::Path, threads: &str) -> (Vec<u8>, String) {
    let out = common::run_bitscope([
        "parse",
        "--carve",
        "--format",
        "jsonl",
        "--threads",
        threads,
        case.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    (out.stdout, err)
}

#[test]
fn a_case_of_zips_and_kape_trees_names_every_host_in_a_fixed_order() {
    let Some(win11) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let case = common::scratch_dir("case-folder");
    // 40 zipped KAPE trees from the generator, and one KAPE tree as a folder.
    let zips = fleet::write_fleet(&case, 40, 3).unwrap();
    let tree = case.join("SRV-KAPE/C/ProgramData/Microsoft/Network/Downloader");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::copy(&win11, tree.join("qmgr.db")).unwrap();

    let (one, _) = parse(&case, "1");
    let (many, _) = parse(&case, "8");
    assert!(one == many, "the output depends on the thread count");

    let mut per_host: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for line in String::from_utf8_lossy(&one).lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        let e = per_host
            .entry(r["host"].as_str().unwrap().to_string())
            .or_default();
        e.0 += 1;
        e.1 = r["host_source"].as_str().unwrap().to_string();
    }
    assert_eq!(per_host.len(), 41, "{:?}", per_host.keys());
    for (n, zip) in zips.iter().enumerate() {
        let name = fleet::host_name(n);
        let (records, source) = &per_host[&name];
        assert_eq!(source, "file name", "{}", zip.display());
        // Each zip alone gives the same records under the same host.
        let out = common::run_bitscope([
            "parse",
            "--carve",
            "--format",
            "jsonl",
            zip.to_str().unwrap(),
        ]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).lines().count(),
            *records
        );
    }
    let (records, source) = &per_host["SRV-KAPE"];
    assert_eq!(source, "folder name");
    // win11 with carving alone, as parse gives it.
    let out = common::run_bitscope([
        "parse",
        "--carve",
        "--format",
        "jsonl",
        win11.to_str().unwrap(),
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        *records
    );
    let _ = std::fs::remove_dir_all(&case);
}

/// The demo case (two hosts, each with its queue and its BITS event log) parsed as one
/// folder: every record, the jobs only an event log knows among them, names the host whose
/// folder its evidence lies in, on one thread and on several. (The log-only jobs were named
/// with the first store's host, another host's, before.)
#[test]
fn an_event_logs_own_jobs_name_the_host_of_its_collection() {
    let case = common::scratch_dir("case-logs");
    for f in bitscope::gen::demo::files().unwrap() {
        let at = case.join(&f.path);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(&at, &f.bytes).unwrap();
    }
    for threads in ["1", "4"] {
        let (out, _) = parse(&case, threads);
        let mut log_only = 0;
        let mut hosts = BTreeMap::<String, usize>::new();
        for line in String::from_utf8(out).unwrap().lines() {
            let r: Value = serde_json::from_str(line).unwrap();
            let evidence = r["evidence"].as_str().unwrap();
            let folder = std::path::Path::new(evidence)
                .strip_prefix(&case)
                .ok()
                .and_then(|p| p.components().next())
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .unwrap_or_default();
            assert_eq!(r["host"].as_str(), Some(folder.as_str()), "{line}");
            *hosts.entry(folder).or_default() += 1;
            if r["job_source"]["kind"].as_str() == Some("event_log") {
                log_only += 1;
            }
        }
        println!("threads {threads}: {log_only} log-only jobs; records by host {hosts:?}");
        assert!(log_only > 0, "the demo's logs hold jobs no queue does");
        assert_eq!(hosts.len(), 2, "{hosts:?}");
    }
    let _ = std::fs::remove_dir_all(&case);
}
