//! `bitscope demo`: the built-in evidence holds exactly what it says (issue 12), is the same
//! bytes every run, and `--write` writes only into a new or empty folder, never through a
//! symbolic link. The explorer on it is driven in
//! `tests/tui_tmux.rs`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use bitscope::util::text::{escape, unescape};
use serde_json::Value;

const WKS_DB: &str = "WKS-FINANCE-07/ProgramData/Microsoft/Network/Downloader/qmgr.db";
const SRV_DB: &str = "SRV-FILE-01/ProgramData/Microsoft/Network/Downloader/qmgr.db";
const SRV_QMGR0: &str = "SRV-FILE-01/ProgramData/Microsoft/Network/Downloader/qmgr0.dat";
const SRV_QMGR1: &str = "SRV-FILE-01/ProgramData/Microsoft/Network/Downloader/qmgr1.dat";
/// The workstation's Bits-Client log: the job only the log knows is a record of its own.
const WKS_LOG: &str =
    "WKS-FINANCE-07/Windows/System32/winevt/Logs/Microsoft-Windows-Bits-Client%4Operational.evtx";

fn write_demo(dir: &Path) -> std::process::Output {
    common::run_bitscope([Path::new("demo"), Path::new("--write"), dir])
}

/// Every record of `bitscope parse [--carve] DIR --format jsonl`, keyed by the evidence path
/// relative to DIR.
fn parse(dir: &Path, carve: bool) -> BTreeMap<String, Vec<Value>> {
    let mut args = vec!["parse".to_string(), dir.display().to_string()];
    args.extend(["--format".into(), "jsonl".into()]);
    if carve {
        args.push("--carve".into());
    }
    let out = common::run_bitscope(&args);
    assert!(out.status.success(), "{out:?}");
    let mut by_file: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).expect("utf-8").lines() {
        let r: Value = serde_json::from_str(line).expect("a JSON line");
        let ev = r["evidence"].as_str().expect("evidence");
        let rel = Path::new(ev)
            .strip_prefix(dir)
            .expect("evidence under the folder")
            .display()
            .to_string();
        by_file.entry(rel).or_default().push(r);
    }
    by_file
}

fn s<'a>(r: &'a Value, field: &str) -> &'a str {
    r[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {r}"))
}

fn live(records: &[Value]) -> BTreeSet<String> {
    records
        .iter()
        .filter(|r| r["carved"] == false)
        .map(|r| s(r, "job_id").to_string())
        .collect()
}

#[test]
fn the_demo_evidence_holds_what_it_says() {
    let dir = common::scratch_dir("values");
    let out = write_demo(&dir);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The paths written, then the two commands to try.
    for rel in [WKS_DB, SRV_DB, SRV_QMGR0, SRV_QMGR1] {
        assert!(
            stdout.contains(&dir.join(rel).display().to_string()),
            "{stdout}"
        );
    }
    let d = dir.display();
    assert!(stdout.contains(&format!("  bitscope {d}\n")), "{stdout}");
    assert!(
        stdout.contains(&format!("  bitscope parse --carve {d} --format jsonl\n")),
        "{stdout}"
    );

    let all = parse(&dir, true);
    assert_eq!(
        all.keys().map(String::as_str).collect::<Vec<_>>(),
        [SRV_DB, SRV_QMGR0, SRV_QMGR1, WKS_DB, WKS_LOG]
    );
    assert_eq!(all[WKS_LOG].len(), 1);
    assert_eq!(all[WKS_LOG][0]["job_source"]["kind"], "event_log");

    // Live jobs per host and file.
    assert_eq!(live(&all[WKS_DB]).len(), 6);
    assert_eq!(live(&all[SRV_DB]).len(), 4);

    // The T1197 persistence job on the workstation.
    let wks = &all[WKS_DB];
    let p: Vec<&Value> = wks
        .iter()
        .filter(|r| r["url"] == "http://203.0.113.7:8080/update.exe")
        .collect();
    assert_eq!(p.len(), 1, "{wks:?}");
    let p = p[0];
    assert_eq!(p["carved"], false);
    assert_eq!(s(p, "job_id"), "5e59bd31-fa1e-4eb0-ad59-7f18c3b16d65");
    assert_eq!(s(p, "job_name"), "Windows Update Helper");
    assert_eq!(
        s(p, "job_command"),
        r"C:\Users\Public\Libraries\svchost.exe"
    );
    assert_eq!(s(p, "job_arguments"), "-k netsvcs -p -s UpdateHelper");
    assert_eq!(s(p, "full_path"), r"C:\Users\Public\Libraries\svchost.exe");
    assert_eq!(
        s(p, "target_path"),
        r"C:\Users\Public\Libraries\svchost.exe"
    );
    assert_eq!(
        s(p, "owner_sid"),
        "S-1-5-21-2318473921-1630741855-3304761102-1104"
    );
    assert_eq!(s(p, "job_state"), "TransientError");
    assert_eq!(s(p, "created"), "2026-03-03T13:16:38.000Z");
    // The ordinary jobs around it run no command and fetch from their vendors.
    for r in wks.iter().filter(|r| r["carved"] == false && r != &p) {
        assert_eq!(s(r, "job_command"), "", "{r}");
        assert!(!s(r, "url").contains("example"), "{r}");
    }

    // The deleted jobs, found only by carving: the jobs (with their file ids) and the files.
    let carved: Vec<&Value> = wks.iter().filter(|r| r["carved"] == true).collect();
    // (A carved file names its job too, through the job's transfer events in the log: the
    // job rows are those with a job source.)
    let jobs: BTreeMap<&str, (&str, &str)> = carved
        .iter()
        .filter(|r| !s(r, "job_id").is_empty() && !r["job_source"].is_null())
        .map(|r| (s(r, "job_id"), (s(r, "file_id"), s(r, "job_command"))))
        .collect();
    assert_eq!(
        jobs,
        BTreeMap::from([
            (
                "99c96e1b-d5ba-4116-b3c4-123faf35878c",
                (
                    "95f4149f-e132-4ce0-8b7b-b73ad28e5bf7",
                    r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"
                )
            ),
            (
                "a0821aff-5d40-4e85-a39a-1ae2fb17f9c7",
                ("08740ec2-d476-4dea-bdbe-0f965d6de077", "")
            ),
            (
                "d95f2fd7-f2e3-432c-a841-977588515a6a",
                ("e6372141-0a7e-48e5-9095-cac534d5906f", "")
            ),
        ])
    );
    let urls: BTreeSet<&str> = carved
        .iter()
        .map(|r| s(r, "url"))
        .filter(|u| !u.is_empty())
        .collect();
    assert_eq!(
        urls,
        BTreeSet::from([
            "http://192.0.2.44/check.txt",
            "http://198.51.100.23:8443/stage1.ps1",
            "https://fonts.example.com/cache/fontcache-2026.02.cab",
        ])
    );
    let live_only = parse(&dir, false);
    assert!(
        live_only.values().flatten().all(|r| r["carved"] == false
            && (!jobs.contains_key(s(r, "job_id")) || r["job_source"]["kind"] == "event_log")),
        "without --carve no deleted job shows, but as the log tells of it"
    );

    // The legacy queue: qmgr0.dat has two jobs and the third deleted into its slack; the
    // older qmgr1.dat still has all three.
    let names = |rs: &[Value], carved: bool| -> Vec<(String, String)> {
        rs.iter()
            .filter(|r| r["carved"] == carved)
            .map(|r| (s(r, "job_id").to_string(), s(r, "job_name").to_string()))
            .collect()
    };
    let real = "2f265c44-d606-40f4-ba5e-3c269739aa37";
    let copy = |n: u8| format!("2f265c44-d606-40f4-ba5e-3c26973900{n:02x}");
    let three = [
        (real.to_string(), "STST".to_string()),
        (copy(2), "STST #2".to_string()),
        (copy(3), "STST #3".to_string()),
    ];
    // Read as one queue (the two files of one folder), each job is one row: the two jobs
    // both files hold alike are qmgr0.dat's rows naming qmgr1.dat's copies; the third is
    // qmgr1.dat's, naming its deleted copy in qmgr0.dat's slack (no deleted job).
    assert_eq!(names(&all[SRV_QMGR0], false), three[..2]);
    assert_eq!(names(&all[SRV_QMGR0], true), []);
    assert_eq!(names(&all[SRV_QMGR1], false), three[2..]);
    let also = |r: &Value| -> Vec<(String, String)> {
        r["job_source"]["also_in"]
            .as_array()
            .expect("also_in")
            .iter()
            .map(|c| {
                let file = s(c, "evidence")
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_string();
                (file, s(c, "kind").to_string())
            })
            .collect()
    };
    for r in &all[SRV_QMGR0] {
        assert_eq!(also(r), [("qmgr1.dat".into(), "live".into())], "{r}");
    }
    assert_eq!(
        also(&all[SRV_QMGR1][0]),
        [("qmgr0.dat".into(), "carved".into())]
    );
    for r in all[SRV_QMGR0].iter().chain(&all[SRV_QMGR1]) {
        assert_eq!(s(r, "job_command"), r"c:\windows\System32\cmd.exe");
        assert_eq!(s(r, "created"), "2017-07-09T10:44:34.320Z");
    }

    // The hostile-text job: raw values kept exactly, shown only escaped.
    let h: Vec<&Value> = all[SRV_DB]
        .iter()
        .filter(|r| s(r, "job_id") == "6e639524-6d5c-4243-986a-dc2f41b2b568")
        .collect();
    assert_eq!(h.len(), 1);
    let h = h[0];
    let fields = [
        ("job_name", "Backup\u{200B}Agent", r"Backup\u{200b}Agent"),
        (
            "job_description",
            "Nightly sync \u{1b}[2J\u{1b}[31mOK\u{1b}[0m",
            r"Nightly sync \x1b[2J\x1b[31mOK\x1b[0m",
        ),
        (
            "full_path",
            "C:\\Users\\Public\\Documents\\invoice_\u{202E}fdp.exe",
            r"C:\Users\Public\Documents\invoice_\u{202e}fdp.exe",
        ),
        (
            "filename",
            "invoice_\u{202E}fdp.exe",
            r"invoice_\u{202e}fdp.exe",
        ),
        (
            "url",
            "https://upd\u{430}te.example.org/files/invoice.exe",
            "https://upd\u{430}te.example.org/files/invoice.exe",
        ),
    ];
    for (field, raw, shown) in fields {
        assert_eq!(s(h, field), raw, "{field}");
        assert_eq!(escape(raw), shown, "{field}");
        assert_eq!(unescape(shown), raw, "{field}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_runs_write_the_same_bytes() {
    let (a, b) = (common::scratch_dir("same-a"), common::scratch_dir("same-b"));
    let start = std::time::Instant::now();
    assert!(write_demo(&a).status.success());
    // Generous for a loaded machine; it takes about 10 ms.
    assert!(start.elapsed().as_secs_f64() < 3.0, "{:?}", start.elapsed());
    assert!(write_demo(&b).status.success());
    for rel in [WKS_DB, SRV_DB, SRV_QMGR0, SRV_QMGR1] {
        let (x, y) = (std::fs::read(a.join(rel)), std::fs::read(b.join(rel)));
        let (x, y) = (x.expect("first run's file"), y.expect("second run's file"));
        assert!(x == y, "{rel} differs between runs");
        assert!(x.len() >= 16 * 1024, "{rel}: {} bytes", x.len());
    }
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn write_refuses_a_folder_that_is_not_empty_and_leaves_it_untouched() {
    let dir = common::scratch_dir("refuse");
    let kept = dir.join(SRV_QMGR0);
    std::fs::create_dir_all(kept.parent().expect("parent")).expect("mkdir");
    std::fs::write(&kept, b"an analyst's file").expect("write");
    let out = write_demo(&dir);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err,
        format!(
            "bitscope: {} is not an empty folder (the demo writes only into a new or empty one)\n",
            dir.display()
        )
    );
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_eq!(std::fs::read(&kept).expect("kept"), b"an analyst's file");
    // Nothing else appeared: the five folders and the one file.
    let mut all: Vec<PathBuf> = Vec::new();
    let mut todo = vec![dir.clone()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                todo.push(p.clone());
            }
            all.push(p);
        }
    }
    assert_eq!(all.len(), 6, "{all:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn write_refuses_a_symlinked_folder_and_writes_nothing_through_it() {
    let top = common::scratch_dir("symlink");
    let elsewhere = top.join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    // DIR itself a link to an empty folder.
    let link = top.join("link");
    std::os::unix::fs::symlink(&elsewhere, &link).expect("symlink");
    let out = write_demo(&link);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is a symbolic link") && err.lines().count() == 1,
        "{err}"
    );
    // A host folder inside DIR linked elsewhere (what the reviewer saw write through it).
    let out_dir = top.join("out");
    std::fs::create_dir(&out_dir).expect("mkdir");
    std::os::unix::fs::symlink(&elsewhere, out_dir.join("WKS-FINANCE-07")).expect("symlink");
    let out = write_demo(&out_dir);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(std::fs::read_dir(&elsewhere).expect("dir").count(), 0);
    assert_eq!(std::fs::read_dir(&out_dir).expect("dir").count(), 1);
    let _ = std::fs::remove_dir_all(&top);
}

#[test]
fn write_marks_the_folder_as_synthetic() {
    let dir = common::scratch_dir("marker").join("new");
    let out = write_demo(&dir);
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(dir.join("BITSCOPE-DEMO-README.txt")).expect("marker");
    assert!(
        text.contains("SYNTHETIC evidence generated by `bitscope demo`"),
        "{text}"
    );
    assert!(text.contains("192.0.2.0/24"), "{text}");
    let top: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        top,
        BTreeSet::from(
            ["BITSCOPE-DEMO-README.txt", "SRV-FILE-01", "WKS-FINANCE-07"].map(String::from)
        )
    );
    let _ = std::fs::remove_dir_all(dir.parent().expect("parent"));
}

#[test]
fn demo_is_the_subcommand_and_dot_slash_demo_a_folder() {
    // `bitscope ./demo` opens the folder: here an empty one, so it fails as a path does
    // (one line, exit 1, before any terminal is needed) instead of starting the demo.
    let dir = common::scratch_dir("name");
    std::fs::create_dir_all(dir.join("demo")).expect("mkdir");
    let out = std::process::Command::new(common::bitscope_bin())
        .arg("./demo")
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("bitscope: ") && err.contains("demo"),
        "{err}"
    );
    assert!(!dir.join("demo").read_dir().expect("dir").any(|_| true));
    // `bitscope demo --write` is the subcommand.
    let out = std::process::Command::new(common::bitscope_bin())
        .args(["demo", "--write", "out"])
        .current_dir(&dir)
        .output()
        .expect("run");
    assert!(out.status.success(), "{out:?}");
    assert!(dir.join("out").join(WKS_DB).is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `bitscope demo` with TMPDIR=`tmp` and no terminal (stdin and stdout not a tty): the
/// explorer cannot start, so it exits 1 after writing its files.
fn demo_without_terminal(tmp: &Path) -> std::process::Output {
    let out = std::process::Command::new(common::bitscope_bin())
        .arg("demo")
        .env("TMPDIR", tmp)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    out
}

#[test]
fn the_temporary_evidence_is_removed_when_the_explorer_fails() {
    // No terminal (stdin and stdout not a tty): the explorer cannot start; the private
    // folder the demo wrote its files into is gone all the same.
    let tmp = common::scratch_dir("tmpdir");
    let out = demo_without_terminal(&tmp);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("bitscope: cannot set up the terminal"),
        "{err}"
    );
    // What works without a terminal, spelt as the CLI takes it: several paths.
    assert!(
        err.contains("`bitscope parse PATH...` writes the records"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(&tmp).expect("dir").collect();
    assert!(left.is_empty(), "{left:?}");
    let _ = std::fs::remove_dir_all(&tmp);
}

#[cfg(target_os = "linux")]
#[test]
fn the_demo_removes_folders_left_by_killed_demos_and_only_those() {
    let tmp = common::scratch_dir("stale");
    let max: u64 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .expect("pid_max")
        .trim()
        .parse()
        .expect("a number");
    let (gone, own) = (max + 1, std::process::id());
    let make = |name: &str| {
        let d = tmp.join(name);
        std::fs::create_dir_all(d.join("WKS-FINANCE-07")).expect("mkdir");
        std::fs::write(d.join("WKS-FINANCE-07/qmgr.db"), b"x").expect("write");
        d
    };
    let stale = make(&format!("bitscope-demo-{gone}-123-0"));
    let kept = [
        make(&format!("bitscope-demo-{own}-123-0")),
        make(&format!("bitscope-demo-{gone}-123")),
        make(&format!("bitscope-demo-{gone}-123-0-x")),
        make(&format!("bitscope-demo-{gone}x-123-0")),
        make(&format!("other-{gone}-123-0")),
    ];
    // A link with a stale name: neither it nor what it points at goes.
    let target = make("target");
    let link = tmp.join(format!("bitscope-demo-{}-123-0", gone + 1));
    std::os::unix::fs::symlink(&target, &link).expect("symlink");

    demo_without_terminal(&tmp);
    assert!(!stale.exists(), "the stale folder is still there");
    for d in &kept {
        assert!(
            d.join("WKS-FINANCE-07/qmgr.db").is_file(),
            "{}",
            d.display()
        );
    }
    assert!(link
        .symlink_metadata()
        .expect("link")
        .file_type()
        .is_symlink());
    assert!(target.join("WKS-FINANCE-07/qmgr.db").is_file());
    assert_eq!(std::fs::read_dir(&tmp).expect("dir").count(), 7);
    let _ = std::fs::remove_dir_all(&tmp);
}
