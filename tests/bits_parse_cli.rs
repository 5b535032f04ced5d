//! `bitscope parse` end to end: formats, bad input, truncated databases, and evidence safety.

mod common;

use common::{run_bitscope, sample};
use serde_json::Value;
use std::os::unix::fs::FileTypeExt;

fn tmpdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("bitscope-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn json_jsonl_and_csv_hold_the_same_records() {
    let Some(db) = sample("ese/win11/qmgr.db") else {
        return;
    };
    let db = db.to_str().unwrap();
    let json = run_bitscope(["parse", db]);
    assert!(json.status.success());
    let arr: Vec<Value> = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(arr.len(), 4);
    let jsonl = run_bitscope(["parse", db, "--format", "jsonl"]);
    let lines: Vec<Value> = String::from_utf8(jsonl.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, arr);
    let csv = run_bitscope(["parse", db, "--format", "csv"]);
    let text = String::from_utf8(csv.stdout).unwrap();
    assert_eq!(text.lines().count(), 5, "header + 4 rows");
    assert!(text.starts_with("job_id,file_id,owner_sid,owner_account,created,"));
    assert!(text.contains("MozillaUpdate 308046B0AF4A39CB"));
    assert!(text.contains("AccessDenied S-1-5-7 (ANONYMOUS LOGON) 0x000f003f [FileReadData,"));
}

#[test]
fn a_folder_is_searched_for_queue_files() {
    let Some(dir) = common::samples_dir() else {
        common::skip("samples dir");
        return;
    };
    let out = run_bitscope([
        "parse",
        dir.join("ese").to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n = String::from_utf8(out.stdout).unwrap().lines().count();
    // Each qmgr.db under ese/ parsed alone, summed: the folder search must find every one.
    let alone: usize = ["win10", "win11", "win11-24h2"]
        .iter()
        .map(|host| {
            let db = dir.join("ese").join(host).join("qmgr.db");
            let one = run_bitscope(["parse", db.to_str().unwrap(), "--format", "jsonl"]);
            assert!(one.status.success(), "{host}");
            String::from_utf8(one.stdout).unwrap().lines().count()
        })
        .sum();
    assert_eq!(
        n,
        1 + 4 + 1,
        "win10 (1 row), win11 (4 rows) and win11-24h2 (1 row)"
    );
    assert_eq!(n, alone);
}

#[test]
fn not_a_bits_queue_is_a_clear_error() {
    let d = tmpdir("notbits");
    let f = d.join("qmgr0.dat");
    std::fs::write(&f, vec![0x41u8; 20000]).unwrap();
    let out = run_bitscope(["parse", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a BITS queue"), "{err}");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_truncated_database_yields_what_it_can_with_warnings() {
    let Some(db) = sample("ese/win11/qmgr.db") else {
        return;
    };
    let data = std::fs::read(db).unwrap();
    let d = tmpdir("trunc");
    let f = d.join("qmgr.db");
    std::fs::write(&f, &data[..600_000]).unwrap();
    let out = run_bitscope(["parse", f.to_str().unwrap(), "--format", "jsonl"]);
    assert!(out.status.success());
    let rows: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The four jobs and four files are still named by their Ids; their blobs are gone.
    let jobs = rows.iter().filter(|r| r["job_id"] != "").count();
    let files = rows.iter().filter(|r| r["file_id"] != "").count();
    assert_eq!((jobs, files), (4, 4));
    assert!(rows
        .iter()
        .all(|r| !r["warnings"].as_array().unwrap().is_empty()));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("page 36 is out of range (file has 35 pages)"),
        "{err}"
    );
    assert!(err.contains("Blob lost"), "{err}");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn output_never_overwrites_an_input() {
    let Some(db) = sample("ese/win10/qmgr.db") else {
        return;
    };
    let d = tmpdir("evidence");
    let copy = d.join("qmgr.db");
    std::fs::copy(&db, &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let out = run_bitscope([
        "parse",
        copy.to_str().unwrap(),
        "-o",
        copy.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is one of the evidence files: refused"),
        "{err}"
    );
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    // The evidence under another name (a hard link), a symlink and a device: all refused,
    // none replaced.
    let hard = d.join("hard.db");
    std::fs::hard_link(&copy, &hard).unwrap();
    let link = d.join("link.json");
    std::os::unix::fs::symlink("/proc/self/fd/1", &link).unwrap();
    for (target, why) in [
        (hard.to_str().unwrap(), "is one of the evidence files"),
        (link.to_str().unwrap(), "is a symlink"),
        ("/dev/full", "is not a regular file"),
    ] {
        let out = run_bitscope(["parse", copy.to_str().unwrap(), "-o", target]);
        assert_eq!(out.status.code(), Some(1), "{target}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "{target}: {err}");
    }
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::metadata("/dev/full")
        .unwrap()
        .file_type()
        .is_char_device());
    // A normal output file is written whole.
    let dest = d.join("out.json");
    let out = run_bitscope([
        "parse",
        copy.to_str().unwrap(),
        "-o",
        dest.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let arr: Vec<Value> = serde_json::from_slice(&std::fs::read(&dest).unwrap()).unwrap();
    assert_eq!(arr[0]["job_name"], "Chrome Component Updater");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn an_ese_database_that_is_not_bits_is_refused() {
    // dissect.esedb's test database: a real ESE file with no Jobs or Files table.
    let Some(db) = common::unpacked("ese/other/basic.edb.gz") else {
        return;
    };
    let out = run_bitscope(["parse", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("neither a Jobs nor a Files table"), "{err}");
    // Carving it is still allowed: it finds nothing, and says so as a warning.
    let out = run_bitscope(["parse", "--carve", db.to_str().unwrap()]);
    assert!(out.status.success());
}

#[test]
fn folder_mode_reports_what_it_passes_over() {
    let Some(db) = sample("ese/win10/qmgr.db") else {
        return;
    };
    let d = tmpdir("folders");
    let host = d.join("host");
    std::fs::create_dir_all(host.join("locked")).unwrap();
    std::fs::copy(&db, host.join("qmgr.db")).unwrap();
    // A second name for the same file and a folder loop: read once, never followed.
    std::os::unix::fs::symlink(host.join("qmgr.db"), host.join("locked/../qmgr1.dat")).ok();
    std::os::unix::fs::symlink(&host, host.join("loop")).unwrap();
    let out = run_bitscope(["parse", "--format", "jsonl", host.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("symlinked folder not followed"), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_database_whose_catalog_is_gone_is_an_error_not_an_empty_success() {
    // win10 has 16 KiB pages: 64 KiB holds the two headers and pages 1-2, not the catalog
    // (page 4) nor its shadow (page 24).
    let Some(db) = sample("ese/win10/qmgr.db") else {
        return;
    };
    let data = std::fs::read(db).unwrap();
    let d = tmpdir("nocatalog");
    let f = d.join("qmgr.db");
    std::fs::write(&f, &data[..64 * 1024]).unwrap();
    for carve in [false, true] {
        let mut args = vec!["parse", f.to_str().unwrap()];
        if carve {
            args.push("--carve");
        }
        let out = run_bitscope(&args);
        assert_eq!(out.status.code(), Some(1), "carve {carve}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("catalog"), "{err}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    }
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_primary_header_disagreeing_with_the_shadow_falls_back_to_it() {
    // The page size field (offset 236) says 4 KiB; the shadow header at 16 KiB says 16 KiB.
    let Some(db) = sample("ese/win10/qmgr.db") else {
        return;
    };
    let mut data = std::fs::read(db).unwrap();
    data[236..240].copy_from_slice(&4096u32.to_le_bytes());
    let d = tmpdir("shadow");
    let f = d.join("qmgr.db");
    std::fs::write(&f, &data).unwrap();
    let out = run_bitscope(["parse", "--carve", "--format", "jsonl", f.to_str().unwrap()]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("using the shadow header"), "{err}");
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let live: Vec<&Value> = rows.iter().filter(|r| r["carved"] == false).collect();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["job_name"], "Chrome Component Updater");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_wiped_primary_header_is_read_through_the_shadow() {
    let Some(db) = sample("ese/win10/qmgr.db") else {
        return;
    };
    let mut data = std::fs::read(db).unwrap();
    data[..4096].fill(0);
    let d = tmpdir("wiped");
    let f = d.join("qmgr.db");
    std::fs::write(&f, &data).unwrap();
    let out = run_bitscope(["parse", "--format", "jsonl", f.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("shadow header"), "{err}");
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["job_name"], "Chrome Component Updater");
    std::fs::remove_dir_all(d).unwrap();
}
