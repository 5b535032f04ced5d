//! The fleet assets run as written: the Velociraptor artifact (`assets/velociraptor/
//! bitscope.yaml`) and the KAPE module (`assets/kape/bitscope.mkape`) are read with PyYAML,
//! and the exact bitscope command lines they hold run under wine (both are Windows-only) on
//! the layouts they run over: a Downloader folder copied under `HOSTNAME\ProgramData` (the
//! artifact's copy step), a KAPE tree from the BITS.tkape target. The output is what the
//! artifact's `parse_jsonl` reads (one JSON object per line, with the columns the artifact
//! documents) and the CSV the module promises. A Velociraptor collection zip, as the offline
//! collector writes it, is then parsed on the analyst's side.

mod common;

use std::path::{Path, PathBuf};

use bitscope::gen::fleet::zip_stored;
use common::wine::{win_path, Wine};
use serde_json::Value;

fn asset(rel: &str) -> Value {
    common::yaml_as_json(&common::manifest_dir().join(rel)).expect("checked by the caller")
}

/// The columns the artifact's description lists after "Columns of each row:".
fn documented_columns(artifact: &Value) -> Vec<String> {
    let d = artifact["description"].as_str().unwrap();
    let list = d.split("Columns of each row:").nth(1).unwrap();
    let list = list.split("(see").next().unwrap();
    list.split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

/// Lines of a JSONL file, each required to be one JSON object (what `parse_jsonl` reads).
fn objects(path: &Path) -> Vec<serde_json::Map<String, Value>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| match serde_json::from_str(l) {
            Ok(Value::Object(m)) => m,
            other => panic!("not one JSON object per line: {l:.80} ({other:?})"),
        })
        .collect()
}

/// The sample copied to `dir/rel/qmgr.db`.
fn place(sample: &Path, dir: &Path, rel: &str) -> PathBuf {
    let d = dir.join(rel);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(sample, d.join("qmgr.db")).unwrap();
    d
}

#[test]
fn the_velociraptor_artifact_runs_as_written_and_parse_jsonl_gets_its_columns() {
    if common::yaml_as_json(&common::manifest_dir().join("assets/kape/bitscope.mkape")).is_none() {
        return;
    }
    let Some(w) = Wine::get() else { return };
    let Some(win11) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let art = asset("assets/velociraptor/bitscope.yaml");
    // The exchange's pattern: a tool, FetchBinary, execve, parse_jsonl, uploads.
    assert_eq!(art["tools"][0]["name"], "bitscope");
    let query = art["sources"][0]["query"].as_str().unwrap();
    for needle in [
        "Artifact.Generic.Utils.FetchBinary(ToolName=\"bitscope\")",
        "execve(argv=Argv",
        "parse_jsonl(filename=OutFile)",
        "accessor=\"ntfs\"",
    ] {
        assert!(query.contains(needle), "{needle}");
    }
    let sources: Vec<&str> = art["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["query"].as_str().unwrap())
        .collect();
    assert!(sources[1..].iter().all(|q| q.contains("upload(")));
    let params: Vec<&str> = art["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for p in ["Carve", "EventLog", "DownloaderGlob"] {
        assert!(params.contains(&p), "{params:?}");
    }
    let columns = documented_columns(&art);
    assert!(columns.len() > 20, "{columns:?}");

    let dir = common::scratch_dir("velociraptor");
    // The copy step's layout: TempDir\HOSTNAME\ProgramData\Microsoft\Network\Downloader.
    let collected = place(
        &win11,
        &dir,
        "WKS-VR-01/ProgramData/Microsoft/Network/Downloader",
    );
    for (branch, carve) in [("then=[", true), ("else=[", false)] {
        // The argv list, up to its last item (`Bin[0]` holds a bracket of its own).
        let argv = query.split(branch).nth(1).unwrap();
        let argv = format!("{}Collected", argv.split("Collected]").next().unwrap());
        let out = dir.join(format!("bitscope-{carve}.jsonl"));
        let args: Vec<String> = argv
            .split(',')
            .map(str::trim)
            .skip(1) // Bin[0].OSPath: the program itself
            .map(|a| match a {
                "OutFile" => win_path(&out),
                "Collected" => win_path(&collected),
                quoted => quoted.trim_matches('"').to_string(),
            })
            .collect();
        assert_eq!(args.contains(&"--carve".to_string()), carve, "{args:?}");
        let run = w.run(&args);
        assert!(
            run.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let rows = objects(&out);
        assert!(rows.len() >= 4, "{} rows", rows.len());
        for r in &rows {
            for c in &columns {
                assert!(r.contains_key(c), "column {c} missing");
            }
            assert_eq!(r["host"], "WKS-VR-01");
            assert_eq!(r["host_source"], "folder name");
        }
        // The same records as the Linux build reads from the same folder.
        let linux = common::run_bitscope(
            std::iter::once("parse".to_string())
                .chain(args[1..args.len() - 3].iter().cloned())
                .chain([collected.display().to_string()]),
        );
        assert_eq!(
            String::from_utf8_lossy(&linux.stdout).lines().count(),
            rows.len()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_velociraptor_collection_zip_parses_with_its_host() {
    let Some(win10) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let dir = common::scratch_dir("velociraptor-zip");
    // The offline collector's zip: uploads under the accessor and the escaped drive.
    let zip = zip_stored(&[
        (
            "uploads/auto/C%3A/ProgramData/Microsoft/Network/Downloader/qmgr.db".into(),
            std::fs::read(&win10).unwrap(),
        ),
        (
            "client_info.json".into(),
            br#"{"Hostname":"WKS-ZIP-7"}"#.to_vec(),
        ),
    ])
    .unwrap();
    let case = dir.join("case");
    std::fs::create_dir_all(&case).unwrap();
    std::fs::write(case.join("WKS-ZIP-7.zip"), zip).unwrap();
    let out = common::run_bitscope([
        "parse",
        "--carve",
        "--format",
        "jsonl",
        case.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alone = common::run_bitscope([
        "parse",
        "--carve",
        "--format",
        "jsonl",
        win10.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().count(),
        String::from_utf8_lossy(&alone.stdout).lines().count()
    );
    for l in text.lines() {
        let r: Value = serde_json::from_str(l).unwrap();
        assert_eq!(r["host"], "WKS-ZIP-7");
        assert_eq!(r["host_source"], "file name");
        let chain = r["job_source"]["container_chain"].to_string()
            + &r["file_source"]["container_chain"].to_string();
        assert!(chain.contains("uploads/auto/C%3A/ProgramData"), "{chain}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_kape_module_runs_as_written_over_a_bits_target_tree() {
    let Some(module) =
        common::yaml_as_json(&common::manifest_dir().join("assets/kape/bitscope.mkape"))
    else {
        return;
    };
    let Some(w) = Wine::get() else { return };
    let Some(win11) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let dir = common::scratch_dir("kape");
    // BITS.tkape with RecreateDirectories: tdest\C\ProgramData\Microsoft\Network\Downloader.
    let tdest = dir.join("WKS-KAPE-3");
    place(&win11, &tdest, "C/ProgramData/Microsoft/Network/Downloader");
    let mdest = dir.join("mdest");
    std::fs::create_dir_all(&mdest).unwrap();
    let processors = module["Processors"].as_array().unwrap();
    assert_eq!(processors.len(), 2);
    let mut counts = Vec::new();
    for p in processors {
        assert_eq!(p["Executable"], "bitscope.exe");
        let line = p["CommandLine"]
            .as_str()
            .unwrap()
            .replace("%sourceDirectory%", &win_path(&tdest))
            .replace("%destinationDirectory%", &win_path(&mdest));
        let args: Vec<&str> = line.split_whitespace().collect();
        let run = w.run(&args);
        assert!(
            run.status.success(),
            "{line}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        match p["ExportFormat"].as_str().unwrap() {
            "jsonl" => {
                let rows = objects(&mdest.join("bitscope.jsonl"));
                assert!(rows.iter().all(|r| r["host"] == "WKS-KAPE-3"));
                counts.push(rows.len());
            }
            "csv" => {
                let text = std::fs::read_to_string(mdest.join("bitscope.csv")).unwrap();
                let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
                let header = lines.next().unwrap();
                assert!(
                    header.starts_with("job_id,file_id,owner_sid")
                        && header.ends_with(",host,host_source"),
                    "{header}"
                );
                let rows: Vec<&str> = lines.collect();
                assert!(rows.iter().all(|r| r.ends_with(",WKS-KAPE-3,folder name")));
                counts.push(rows.len());
            }
            other => panic!("export format {other}"),
        }
    }
    assert_eq!(counts[0], counts[1]);
    assert!(counts[0] >= 4, "{counts:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
