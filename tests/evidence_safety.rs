//! Evidence is never written, and files that change while read end as errors naming them,
//! through the real binary:
//!
//! - every file opened as evidence is protected, not only the paths typed: an E01's further
//!   segments (`parse disk.E01 -o disk.E02`), a store found in a folder; the explorer's export
//!   checks the same registry;
//! - stdout that is an input (`>> in.db`, `1<> in.db`) is refused, a closed stdout is an error;
//! - a store truncated while mapped fails with a message (no SIGBUS), and no temporary output
//!   is left; a signal ending a run leaves none either;
//! - a file that grows while read is read to the length it had;
//! - `collect` refuses a name with control characters and lists and hashes every segment.

mod common;

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{bitscope_bin, scratch_dir};

/// Run `sh -c script` (the binary as `$B`), under a watchdog; (exit code, stderr).
fn sh(script: &str, limit: Duration) -> (Option<i32>, String) {
    let mut child = Command::new("sh")
        .args(["-c", script])
        .env("B", bitscope_bin())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < limit, "{script}: still running");
        std::thread::sleep(Duration::from_millis(10));
    };
    (status.code(), reader.join().unwrap())
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display())
}

fn digest(path: &Path) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

/// Files in `dir` whose name marks an unfinished output.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect()
}

/// A three-segment E01 of a small generated media.
fn segmented(dir: &Path) -> Option<PathBuf> {
    if Command::new("ewfacquire").arg("-V").output().is_err() {
        common::skip("ewfacquire not installed");
        return None;
    }
    let raw = dir.join("media.raw");
    let samples = common::samples_dir()?;
    bitscope::gen::raw::write_image(&samples, 3 << 20, 4, 5, &raw, true).unwrap();
    let first = dir.join("disk.E01");
    let ok = Command::new("ewfacquire")
        .args([
            "-u", "-q", "-c", "none", "-S", "1MiB", "-f", "encase6", "-t",
        ])
        .arg(first.with_extension(""))
        .arg(&raw)
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok);
    assert!(first.with_extension("E03").exists());
    Some(first)
}

#[test]
fn every_file_read_as_evidence_is_protected_and_stdout_is_checked() {
    let dir = scratch_dir("protect");
    let Some(first) = segmented(&dir) else {
        return;
    };
    let e02 = first.with_extension("E02");
    let before = digest(&e02);
    // A segment not typed, as -o.
    let (code, err) = sh(
        &format!("\"$B\" parse --carve {} -o {}", quote(&first), quote(&e02)),
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("is one of the evidence files: refused"),
        "{err}"
    );
    assert_eq!(digest(&e02), before);
    assert!(temporaries(&dir).is_empty());
    // stdout appending to, or opened read-write on, an input or a segment.
    let db = dir.join("in.db");
    std::fs::copy(common::sample("ese/win10/qmgr.db").unwrap(), &db).unwrap();
    let db_before = digest(&db);
    for script in [
        format!("\"$B\" parse {0} >> {0}", quote(&db)),
        format!("\"$B\" parse {0} 1<> {0}", quote(&db)),
        format!("\"$B\" parse --carve {} >> {}", quote(&first), quote(&e02)),
        format!("\"$B\" ese dump {0} >> {0}", quote(&db)),
    ] {
        let (code, err) = sh(&script, Duration::from_secs(30));
        assert_eq!(code, Some(1), "{script}: {err}");
        assert!(
            err.contains("stdout is one of the evidence files"),
            "{script}: {err}"
        );
    }
    assert_eq!(digest(&db), db_before);
    assert_eq!(digest(&e02), before);
    // A closed stdout: an error, not records written nowhere.
    let (code, err) = sh(
        &format!("\"$B\" parse {} >&-", quote(&db)),
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("stdout is closed"), "{err}");
    // To /dev/null on purpose: fine.
    let (code, err) = sh(
        &format!("\"$B\" parse {} > /dev/null", quote(&db)),
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(0), "{err}");
    // A store found in a folder, as -o.
    let folder = dir.join("host");
    let store = folder.join("Downloader/qmgr.db");
    std::fs::create_dir_all(store.parent().unwrap()).unwrap();
    std::fs::copy(&db, &store).unwrap();
    let (code, err) = sh(
        &format!("\"$B\" parse {} -o {}", quote(&folder), quote(&store)),
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("is one of the evidence files"), "{err}");
    assert_eq!(digest(&store), db_before);

    // In one process (the explorer's export): a segment opened by the driver is evidence,
    // though no one named it.
    let mut parsed = bitscope::pipeline::Parsed::default();
    let carve = bitscope::pipeline::Options {
        carve: true,
        ..Default::default()
    };
    if let Err(e) = bitscope::pipeline::run_file(&first, &carve, &mut parsed) {
        panic!("{e}");
    }
    let refused = bitscope::output::atomic::check_target(
        &first.with_extension("E03"),
        &bitscope::output::Protected::default(),
    );
    assert!(refused.is_err(), "a segment read is not protected");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A qmgr.db truncated while `parse --carve -o` reads it: the input fails naming the file
/// (exit 1, not SIGBUS), and no temporary output is left. `ese info` alike. Truncation comes
/// at several moments of the run; every run that saw it says so.
#[test]
fn a_store_truncated_while_read_fails_with_its_name() {
    let dir = scratch_dir("truncated");
    let big = dir.join("big.db");
    let g = bitscope::gen::generate(&bitscope::gen::EseOptions {
        jobs: 20_000,
        deleted: 2_000,
        seed: 1,
        ..Default::default()
    })
    .unwrap();
    std::fs::write(&big, &g.bytes).unwrap();
    drop(g);
    let mut hit = 0;
    for (round, delay) in [150u64, 400, 700, 150].into_iter().enumerate() {
        let input = dir.join(format!("t{round}.db"));
        std::fs::copy(&big, &input).unwrap();
        let out = dir.join(format!("out{round}.json"));
        let args: Vec<String> = if round == 3 {
            vec!["ese".into(), "dump".into(), input.display().to_string()]
        } else {
            vec![
                "parse".into(),
                "--carve".into(),
                input.display().to_string(),
                "-o".into(),
                out.display().to_string(),
            ]
        };
        let child = Command::new(bitscope_bin())
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        std::fs::OpenOptions::new()
            .write(true)
            .open(&input)
            .unwrap()
            .set_len(1 << 20)
            .unwrap();
        let done = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&done.stderr);
        assert_ne!(
            done.status.signal(),
            Some(7),
            "round {round}: killed by SIGBUS"
        );
        match done.status.code() {
            Some(1) => {
                assert!(
                    err.contains(&format!("t{round}.db: changed while it was read")),
                    "round {round}: {err}"
                );
                hit += 1;
            }
            Some(0) => eprintln!("round {round}: finished before the truncation"),
            other => panic!("round {round}: exit {other:?}: {err}"),
        }
        assert!(
            temporaries(&dir).is_empty(),
            "round {round}: a temporary left"
        );
    }
    assert!(hit >= 2, "only {hit} runs saw the truncation");
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGINT, SIGTERM and SIGHUP during `parse --carve -o` of a large image: the process ends by
/// the signal, as before, and leaves no temporary output.
#[test]
fn a_signal_leaves_no_temporary_output() {
    let dir = scratch_dir("signal");
    let img = dir.join("sparse.raw");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(16 << 30)
        .unwrap();
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        let out = dir.join("out.json");
        let mut cmd = Command::new(bitscope_bin());
        cmd.args(["parse", "--carve", img.to_str().unwrap(), "-o"])
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // The signal's default action for the child: a test run under `nohup` (or a CI runner
        // that ignores SIGHUP) would hand the ignored disposition down, and bitscope rightly
        // leaves an ignored signal ignored (util::cleanup), so the child would run to its end.
        // SAFETY: signal(2) is async-signal-safe, as pre_exec requires.
        unsafe {
            cmd.pre_exec(move || {
                libc::signal(sig, libc::SIG_DFL);
                Ok(())
            });
        }
        let mut child = cmd.spawn().unwrap();
        let start = Instant::now();
        while temporaries(&dir).is_empty() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no temporary made"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(100));
        assert!(child.try_wait().unwrap().is_none(), "finished too soon");
        // SAFETY: kill(2) on our own child's pid.
        let sent = unsafe { libc::kill(child.id() as i32, sig) };
        assert_eq!(sent, 0);
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(sig), "{status:?}");
        assert!(
            temporaries(&dir).is_empty(),
            "signal {sig}: a temporary left"
        );
        assert!(!out.exists());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// An image that grows by 4 GiB every 20 ms while carved (`truncate -s +4G` in a loop): read
/// to the length it had when opened, and done.
#[test]
fn a_file_growing_while_read_is_read_to_its_first_length() {
    let dir = scratch_dir("growing");
    let img = dir.join("growing.raw");
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(2 << 30).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let grower = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut len = 2u64 << 30;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && len < 1 << 40 {
                len += 4 << 30;
                let _ = f.set_len(len);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let (code, err) = sh(
        &format!("\"$B\" parse --carve {}", quote(&img)),
        Duration::from_secs(60),
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    grower.join().unwrap();
    assert_eq!(code, Some(0), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn collect_refuses_control_characters_and_hashes_every_segment() {
    let dir = scratch_dir("collect-safety");
    let Some(first) = segmented(&dir) else {
        return;
    };
    let out = dir.join("out");
    let config = |name: &str| {
        format!(
            "[output]\nname = \"{name}\"\ndirectory = \"{}\"\nformat = \"jsonl\"\n\n[[artifacts]]\nartifact_name = \"bits\"\n[artifacts.bits]\ncarve = true\nalt_path = \"{}\"\n",
            out.display(),
            first.display()
        )
    };
    let toml = dir.join("c.toml");
    std::fs::write(&toml, config("case\\u001b[31mred")).unwrap();
    let (code, err) = sh(
        &format!("\"$B\" collect --config {}", quote(&toml)),
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("c.toml:2:8") && err.contains("holds a control or invisible character"),
        "{err}"
    );
    assert!(!err.contains('\u{1b}'), "raw ESC on stderr");
    assert!(!out.exists(), "a folder was made");

    std::fs::write(&toml, config("case")).unwrap();
    let (code, err) = sh(
        &format!("\"$B\" collect --config {}", quote(&toml)),
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(0), "{err}");
    let report = std::fs::read_dir(out.join("case"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("report_")
        })
        .unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    let files = report["inputs"][0]["files"].as_array().unwrap();
    let mut segments: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_stem().is_some_and(|s| s == "disk"))
        .collect();
    segments.sort();
    assert!(segments.len() >= 3);
    assert_eq!(files.len(), segments.len(), "{files:?}");
    for (f, path) in files.iter().zip(&segments) {
        assert_eq!(f["path"], path.display().to_string());
        assert_eq!(f["size"], std::fs::metadata(path).unwrap().len());
        let hex: String = digest(path).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(f["sha256"], hex);
    }
    assert_eq!(report["inputs"][0]["container"]["kind"], "E01");
    assert!(report["inputs"][0]["container"]["stored_hashes"]["MD5"].is_string());
    let _ = std::fs::remove_dir_all(&dir);
}
