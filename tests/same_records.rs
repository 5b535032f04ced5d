//! One path, the same records: `parse --carve`, the TOML collection and the explorer's load
//! run the same pipeline, so for the same evidence they give the same records, field for
//! field and in the same order (`versions` included).

mod common;

use std::path::Path;

use common::{manifest_dir, run_bitscope, sample};

fn tmpdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("bitscope-same-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn by_parse(path: &Path) -> Vec<serde_json::Value> {
    let out = run_bitscope([
        "parse",
        "--carve",
        "--format",
        "jsonl",
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    lines(&String::from_utf8_lossy(&out.stdout))
}

fn by_collect(path: &Path, dir: &Path) -> Vec<serde_json::Value> {
    let toml = format!(
        "[output]\nname = \"run\"\ndirectory = {:?}\nformat = \"jsonl\"\ncompress = false\n\
         endpoint_id = \"e\"\ncollection_id = 1\noutput = \"local\"\n\n[[artifacts]]\n\
         artifact_name = \"bits\"\n[artifacts.bits]\ncarve = true\nalt_path = {:?}\n",
        dir.display().to_string(),
        path.display().to_string()
    );
    let cfg = dir.join("collect.toml");
    std::fs::write(&cfg, toml).unwrap();
    let config = bitscope::collect::load(&cfg).expect("config");
    let done = bitscope::collect::run(&config).expect("collect");
    assert_eq!(done.status, "complete");
    let data = done
        .files
        .iter()
        .find(|f| f.to_string_lossy().ends_with(".jsonl"))
        .expect("data file");
    lines(&std::fs::read_to_string(data).unwrap())
}

fn by_explorer(path: &Path) -> Vec<serde_json::Value> {
    common::explorer_load(path)
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect()
}

#[test]
fn parse_collect_and_explorer_agree() {
    let mut inputs = vec![manifest_dir().join("testdata/legacy/win7-deleted.qmgr0.dat")];
    inputs.extend(sample("ese/win10/qmgr.db"));
    inputs.extend(sample("ese/win11/qmgr.db"));
    for (i, path) in inputs.iter().enumerate() {
        let parsed = by_parse(path);
        assert!(!parsed.is_empty());
        assert!(
            parsed.iter().any(|r| r["carved"] == true),
            "{}: carving found nothing",
            path.display()
        );
        let dir = tmpdir(&i.to_string());
        let collected = by_collect(path, &dir);
        assert_eq!(collected, parsed, "collect vs parse: {}", path.display());
        let explored = by_explorer(path);
        assert_eq!(explored, parsed, "explorer vs parse: {}", path.display());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
