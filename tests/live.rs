//! The live host: `bitscope parse --live` over an NTFS volume image standing in for `\\.\C:`
//! (`BITSCOPE_LIVE_VOLUME`, test-only), read under a volume handle's rule: the stand-in refuses
//! any read that is not whole 512-byte sectors at an aligned offset, as Windows does.
//!
//! The volume is made here with mkntfs and written through ntfs-3g: the win11 qmgr.db and an
//! ESE log of its pages in `ProgramData\Microsoft\Network\Downloader`, the BITS client's event
//! log at its Windows path, and a decoy store under `Windows.old` that a lookup by path must
//! not find (the image path's MFT walk does). Sleuthkit's `ifind` is the oracle for the MFT
//! entries named in the chain.
//!
//! - On Linux: records equal the store parsed alone (provenance aside), their chain names the
//!   live volume, every read the stand-in saw was whole sectors; the same bitscope with the
//!   aligned layer taken away (`BITSCOPE_LIVE_UNALIGNED`) is refused and gives nothing; the
//!   fallback opens the files by path; `collect` without `alt_path` reads the live host; off
//!   Windows without a stand-in `--live` is a usage error.
//! - Under wine, `bitscope.exe`: the same records over the same stand-in, the same refusal
//!   without the aligned layer, and, with no stand-in at all, the Windows code itself: wine
//!   cannot open `\\.\C:`, so the files in the wine prefix's `C:\ProgramData\...\Downloader`
//!   are opened by path.

mod common;
#[path = "common/disk_image.rs"]
mod disk_image;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use common::wine::{win_path, Wine};
use serde_json::Value;

const DOWNLOADER: &str = "ProgramData/Microsoft/Network/Downloader";
const EVENT_LOG: &str =
    "Windows/System32/winevt/Logs/Microsoft-Windows-Bits-Client%4Operational.evtx";
const ENV: [&str; 3] = [
    "BITSCOPE_LIVE_VOLUME",
    "BITSCOPE_LIVE_ROOT",
    "BITSCOPE_LIVE_UNALIGNED",
];

/// The stand-in volume and what was put in it.
struct Volume {
    dir: PathBuf,
    /// The NTFS volume image (no partition table: a volume handle starts at the boot sector).
    image: PathBuf,
    /// The same files as a plain folder tree standing in for `C:\` (the fallback).
    root: PathBuf,
    store: PathBuf,
    event_log_len: u64,
}

fn volume() -> Option<&'static Volume> {
    static V: OnceLock<Option<Volume>> = OnceLock::new();
    V.get_or_init(make_volume).as_ref()
}

fn make_volume() -> Option<Volume> {
    for tool in ["mkntfs", "ntfs-3g", "ifind"] {
        if !disk_image::have(tool) {
            common::skip(&format!(
                "{tool} not installed (Debian: ntfs-3g, sleuthkit)"
            ));
            return None;
        }
    }
    if !Path::new("/dev/fuse").exists() {
        common::skip("/dev/fuse missing: cannot mount an NTFS image with ntfs-3g");
        return None;
    }
    let store = common::sample("ese/win11/qmgr.db")?;
    let decoy = common::sample("ese/win10/qmgr.db")?;
    let evtx = common::sample("evtx/bits-client-win10-desktopimgdownldr.evtx")?;
    // An ESE log holding the database's page images (its bytes past the two header pages).
    let db = fs::read(&store).ok()?;
    let page = u32::from_le_bytes(db.get(0xEC..0xF0)?.try_into().ok()?) as usize;
    let log = db.get(2 * page..)?.to_vec();

    let dir = common::scratch_dir("live-volume");
    let image = dir.join("c-volume.ntfs");
    fs::File::create(&image)
        .and_then(|f| f.set_len(64 << 20))
        .expect("the volume file");
    let out = Command::new("mkntfs")
        .args(["-F", "-Q", "-q", "-s", "512"])
        .arg(&image)
        .output()
        .expect("running mkntfs");
    assert!(out.status.success(), "mkntfs: {out:?}");
    let root = dir.join("root");
    let put = |base: &Path| -> std::io::Result<()> {
        let down = base.join(DOWNLOADER);
        fs::create_dir_all(&down)?;
        fs::copy(&store, down.join("qmgr.db"))?;
        fs::write(down.join("edb.log"), &log)?;
        let old = base.join("Windows.old").join(DOWNLOADER);
        fs::create_dir_all(&old)?;
        fs::copy(&decoy, old.join("qmgr.db"))?;
        let ev = base.join(EVENT_LOG);
        fs::create_dir_all(ev.parent().expect("parent"))?;
        fs::copy(&evtx, ev)?;
        Ok(())
    };
    put(&root).expect("the stand-in root");
    let mnt = dir.join("mnt");
    fs::create_dir_all(&mnt).expect("mount point");
    let mut daemon = disk_image::mount(&image, &mnt, &[])?;
    let copied = put(&mnt);
    disk_image::unmount(&mnt, &mut daemon);
    copied.expect("copying into the mounted volume");
    Some(Volume {
        dir,
        image,
        root,
        store,
        event_log_len: fs::metadata(&evtx).ok()?.len(),
    })
}

/// `bitscope ARGS` with the live stand-ins of `env` (and none of the test process's own).
fn bitscope(args: &[&str], env: &[(&str, OsString)]) -> Output {
    let mut c = Command::new(common::bitscope_bin());
    for k in ENV {
        c.env_remove(k);
    }
    c.args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .expect("running bitscope")
}

fn lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// A record with its provenance (evidence, host, container chain) taken out.
fn without_provenance(r: &Value) -> Value {
    let mut r = r.clone();
    let o = r.as_object_mut().expect("a record object");
    // `story`: an image's volume tells the payload files' MFT facts; the live host's volume
    // is read for the BITS folder only (its MFT is being rewritten under us), so no story.
    for k in ["evidence", "host", "host_source", "story"] {
        o.remove(k);
    }
    for s in ["job_source", "file_source"] {
        if let Some(src) = o.get_mut(s).and_then(Value::as_object_mut) {
            src.remove("evidence");
            src.remove("container_chain");
            // Where the bytes lie in the evidence (the volume, or the store file alone).
            src.remove("in_evidence");
        }
    }
    r
}

/// A record's places in the evidence (`in_evidence`'s offsets and extents, its coordinate
/// aside), job and file.
fn placed(r: &Value) -> Vec<Value> {
    ["job_source", "file_source"]
        .iter()
        .map(|s| {
            let p = &r[s]["in_evidence"];
            serde_json::json!([p["offset"], p["extents"]])
        })
        .collect()
}

/// The container chain of a record (its job's, else its file's).
fn chain(r: &Value) -> Vec<String> {
    let src = r
        .get("job_source")
        .filter(|s| !s.is_null())
        .or_else(|| r.get("file_source"))
        .expect("a source");
    src.get("container_chain")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The stand-in's count of reads served and refused, from its warning.
fn counts(stderr: &[u8]) -> (u64, u64) {
    let text = String::from_utf8_lossy(stderr);
    let line = text
        .lines()
        .find(|l| l.contains("(stand-in): "))
        .unwrap_or_else(|| panic!("no stand-in count in: {text}"));
    let num = |before: &str| -> u64 {
        let head = &line[..line.find(before).expect("the count's words")];
        head.rsplit(' ').next().unwrap().parse().expect("a count")
    };
    (num(" reads of whole"), num(" other reads refused"))
}

/// The MFT entry sleuthkit's ifind gives for `path` in the volume.
fn ifind(image: &Path, path: &str) -> u64 {
    let out = Command::new("ifind")
        .args(["-n", path])
        .arg(image)
        .output()
        .expect("running ifind");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("ifind {path}: {out:?}"))
}

/// The store parsed alone (the file as copied in), in jsonl.
fn alone(store: &Path, carve: bool) -> Vec<Value> {
    let mut args = vec!["parse", "--format", "jsonl"];
    if carve {
        args.push("--carve");
    }
    let path = store.to_str().unwrap();
    args.push(path);
    let out = bitscope(&args, &[]);
    assert!(out.status.success(), "{out:?}");
    lines(&out.stdout)
}

fn stand_in(v: &Volume) -> Vec<(&'static str, OsString)> {
    vec![("BITSCOPE_LIVE_VOLUME", v.image.clone().into_os_string())]
}

fn downloader_chain(image: &Path, name: &str) -> Vec<String> {
    let n = ifind(image, &format!("/{DOWNLOADER}/{name}"));
    vec![
        r"live volume \\.\C:".to_string(),
        "NTFS".to_string(),
        format!(r"\ProgramData\Microsoft\Network\Downloader\{name} (MFT entry {n})"),
    ]
}

#[test]
fn live_records_equal_the_store_alone_and_name_the_volume() {
    let Some(v) = volume() else { return };
    let out = bitscope(&["parse", "--live", "--format", "jsonl"], &stand_in(v));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let live = lines(&out.stdout);
    let want = alone(&v.store, false);
    assert!(live.len() >= 4, "{} records", live.len());
    assert_eq!(live.len(), want.len());
    let qmgr = downloader_chain(&v.image, "qmgr.db");
    for (l, w) in live.iter().zip(&want) {
        assert_eq!(without_provenance(l), without_provenance(w));
        assert_eq!(chain(l), qmgr);
        assert_eq!(l["evidence"], r"\\.\C:");
        assert_eq!(l["host_source"], "this machine");
    }
    // Every read the stand-in saw was whole aligned sectors.
    let (served, refused) = counts(&out.stderr);
    assert_eq!(refused, 0, "{stderr}");
    assert!(served > 0);
    // Found by path: the decoy under Windows.old is not read.
    assert!(
        !stderr.contains("Windows.old")
            && !String::from_utf8_lossy(&out.stdout).contains("Windows.old")
    );
    // The event log: found at its path, named with its MFT entry and size.
    let evtx = ifind(&v.image, &format!("/{EVENT_LOG}"));
    let named = format!(
        r"live volume \\.\C: > NTFS > \Windows\System32\winevt\Logs\Microsoft-Windows-Bits-Client%4Operational.evtx (MFT entry {evtx}): the BITS client's event log, {} bytes: found",
        v.event_log_len
    );
    assert!(stderr.contains(&named), "{stderr}");
    // The ESE log beside the store: named, carved only with --carve.
    assert!(stderr.contains(r"edb.log (MFT entry"), "{stderr}");
    eprintln!(
        "live: {} records equal to the store alone; stand-in: {served} whole-sector reads, {refused} refused",
        live.len()
    );
}

#[test]
fn live_carving_carves_the_files_not_the_volume() {
    let Some(v) = volume() else { return };
    let out = bitscope(
        &["parse", "--live", "--carve", "--format", "jsonl"],
        &stand_in(v),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live = lines(&out.stdout);
    let want = alone(&v.store, true);
    let qmgr = downloader_chain(&v.image, "qmgr.db");
    let log = downloader_chain(&v.image, "edb.log");
    let (from_store, from_log): (Vec<&Value>, Vec<&Value>) =
        live.iter().partition(|r| chain(r) == qmgr);
    assert_eq!(from_store.len(), want.len());
    for (l, w) in from_store.iter().zip(&want) {
        assert_eq!(without_provenance(l), without_provenance(w));
    }
    // The log holds the database's pages: its records are carved, named by the log's chain.
    assert!(!from_log.is_empty());
    assert!(from_log.iter().all(|r| chain(r) == log));
    // Nothing from the volume's unallocated clusters.
    assert!(live
        .iter()
        .all(|r| !chain(r).iter().any(|c| c.contains("unallocated"))));
    let (_, refused) = counts(&out.stderr);
    assert_eq!(refused, 0);
    eprintln!(
        "live --carve: {} records from the store (= alone), {} carved from its ESE log",
        from_store.len(),
        from_log.len()
    );
}

#[test]
fn the_lookup_by_path_finds_what_the_mft_walk_finds_there() {
    let Some(v) = volume() else { return };
    let live = bitscope(&["parse", "--live", "--format", "jsonl"], &stand_in(v));
    let walked = bitscope(
        &["parse", "--format", "jsonl", v.image.to_str().unwrap()],
        &[],
    );
    assert!(walked.status.success());
    let walked: Vec<Value> = lines(&walked.stdout)
        .into_iter()
        .filter(|r| chain(r)[2].starts_with(r"\ProgramData\"))
        .collect();
    let live = lines(&live.stdout);
    assert_eq!(live.len(), walked.len());
    for (l, w) in live.iter().zip(&walked) {
        assert_eq!(without_provenance(l), without_provenance(w));
        // The same bytes of the volume (a raw image of it: offsets alike).
        assert_eq!(placed(l), placed(w));
        // The same file and MFT entry; only the container above NTFS differs.
        assert_eq!(chain(w)[0], "raw image");
        assert_eq!(chain(l)[1..], chain(w)[1..]);
    }
}

#[test]
fn without_the_aligned_layer_the_reader_still_reads_whole_sectors() {
    // bitscope's NTFS reader reads the volume through a block cache (64 KiB blocks) and a
    // store by its clusters, so even without `Aligned` (which stays, for whatever reads are
    // not whole sectors) the stand-in refuses none of its reads here. (The `ntfs` crate it
    // replaced read attributes a few bytes at a time: every such read was refused.)
    let Some(v) = volume() else { return };
    let mut env = stand_in(v);
    env.push(("BITSCOPE_LIVE_UNALIGNED", "1".into()));
    let out = bitscope(&["parse", "--live", "--format", "jsonl"], &env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let (served, refused) = counts(&out.stderr);
    assert_eq!(refused, 0, "{stderr}");
    assert_eq!(lines(&out.stdout).len(), alone(&v.store, false).len());
    eprintln!("without the aligned layer: {served} reads served, none refused");
}

#[test]
fn without_the_volume_the_files_are_opened_by_path() {
    let Some(v) = volume() else { return };
    // Not an NTFS volume: a file of zeros.
    let zeros = v.dir.join("zeros.img");
    fs::write(&zeros, vec![0u8; 1 << 16]).unwrap();
    let env = [
        ("BITSCOPE_LIVE_VOLUME", zeros.into_os_string()),
        ("BITSCOPE_LIVE_ROOT", v.root.clone().into_os_string()),
    ];
    let out = bitscope(&["parse", "--live", "--format", "jsonl"], &env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            r"\\.\C:: not opened: no NTFS boot sector at its start; opening the files in"
        ),
        "{stderr}"
    );
    let file = v.root.join(DOWNLOADER).join("qmgr.db");
    // Opened by path, the Bits-Client log beside is read as the story, and the jobs only it
    // knows are rows of their own (from the log): the store's rows are the others.
    let live: Vec<Value> = lines(&out.stdout)
        .into_iter()
        .filter(|r| !r["evidence"].as_str().is_some_and(|e| e.ends_with(".evtx")))
        .collect();
    let want = alone(&v.store, false);
    assert_eq!(live.len(), want.len());
    for (l, w) in live.iter().zip(&want) {
        assert_eq!(without_provenance(l), without_provenance(w));
        assert_eq!(l["evidence"], file.display().to_string());
        assert!(chain(l).is_empty());
        assert_eq!(l["host_source"], "this machine");
    }
    assert!(
        stderr.contains(
            "Microsoft-Windows-Bits-Client%4Operational.evtx: the BITS client's event log: found"
        ),
        "{stderr}"
    );
}

#[test]
fn collect_without_alt_path_reads_the_live_host() {
    let Some(v) = volume() else { return };
    let dir = common::scratch_dir("live-collect");
    let toml = format!(
        "[output]\nname = \"live\"\ndirectory = \"{}\"\nformat = \"jsonl\"\n\n[[artifacts]]\nartifact_name = \"bits\"\n[artifacts.bits]\ncarve = false\n",
        dir.display()
    );
    fs::write(dir.join("c.toml"), toml).unwrap();
    let config = dir.join("c.toml");
    let args = ["collect", "--config", config.to_str().unwrap()];
    let out = bitscope(&args, &stand_in(v));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written: Vec<PathBuf> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(PathBuf::from)
        .collect();
    let report = written
        .iter()
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("report_")
        })
        .expect("a report");
    let report: Value = serde_json::from_str(&fs::read_to_string(report).unwrap()).unwrap();
    let data = written
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .expect("a data file");
    let records = lines(&fs::read(data).unwrap());
    let want = alone(&v.store, false);
    assert_eq!(records.len(), want.len());
    assert_eq!(report["status"], "complete");
    assert_eq!(report["inputs"][0]["path"], r"\\.\C:");
    assert_eq!(report["inputs"][0]["records"], want.len());
    assert!(records
        .iter()
        .all(|r| chain(r) == downloader_chain(&v.image, "qmgr.db")));
    // Off Windows and without a stand-in: say so, and that alt_path is the way.
    let out = bitscope(&args, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("this is not Windows: set alt_path"),
        "{stderr}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[cfg(not(windows))]
#[test]
fn off_windows_live_is_a_usage_error() {
    let out = bitscope(&["parse", "--live"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("needs a running Windows system"),
        "{stderr}"
    );
    assert!(stderr.contains("use `bitscope parse PATH`"), "{stderr}");
    assert!(out.stdout.is_empty());
    // And --live with paths is a bad command line.
    let out = bitscope(&["parse", "--live", "x.db"], &[]);
    assert_eq!(out.status.code(), Some(2));
}

/// `bitscope.exe ARGS` under wine with the live stand-ins of `env`.
fn under_wine(w: &Wine, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut c = w.command(&w.exe);
    for k in ENV {
        c.env_remove(k);
    }
    c.args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .expect("running wine64")
}

/// Records as both builds give them but the host (wine names its own machine).
fn hostless(records: &[Value]) -> Vec<Value> {
    records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.as_object_mut().unwrap().remove("host");
            r
        })
        .collect()
}

#[test]
fn under_wine_the_exe_reads_the_stand_in_as_linux_does() {
    let Some(w) = Wine::get() else { return };
    let Some(v) = volume() else { return };
    for carve in [false, true] {
        let mut args = vec!["parse", "--live", "--format", "jsonl"];
        if carve {
            args.push("--carve");
        }
        let linux = bitscope(&args, &stand_in(v));
        let win = under_wine(w, &args, &[("BITSCOPE_LIVE_VOLUME", win_path(&v.image))]);
        let stderr = String::from_utf8_lossy(&win.stderr);
        assert_eq!(win.status.code(), Some(0), "{stderr}");
        let (lrec, wrec) = (lines(&linux.stdout), lines(&win.stdout));
        assert!(!wrec.is_empty());
        assert_eq!(hostless(&lrec), hostless(&wrec));
        // The same reads, all whole sectors.
        assert_eq!(counts(&win.stderr), counts(&linux.stderr));
        assert_eq!(counts(&win.stderr).1, 0);
        eprintln!(
            "wine{}: {} records equal to Linux's; {} whole-sector reads, 0 refused",
            if carve { " --carve" } else { "" },
            wrec.len(),
            counts(&win.stderr).0
        );
    }
    let win = under_wine(
        w,
        &["parse", "--live", "--format", "jsonl"],
        &[
            ("BITSCOPE_LIVE_VOLUME", win_path(&v.image)),
            ("BITSCOPE_LIVE_UNALIGNED", "1".into()),
        ],
    );
    // Without Aligned too, this reader's reads are whole sectors (64 KiB cache blocks, whole
    // clusters): none refused, the same records (see the Linux test).
    assert_eq!(win.status.code(), Some(0));
    let (_, refused) = counts(&win.stderr);
    assert_eq!(refused, 0);
    let linux = bitscope(&["parse", "--live", "--format", "jsonl"], &stand_in(v));
    assert_eq!(
        hostless(&lines(&linux.stdout)),
        hostless(&lines(&win.stdout))
    );
}

#[test]
fn under_wine_without_a_stand_in_the_files_are_opened_by_path() {
    // The Windows code as it runs on Windows: `\\.\C:` from %SystemDrive%, which wine does not
    // open as a volume, then C:\ProgramData\...\Downloader by path, in the wine prefix.
    let Some(w) = Wine::get() else { return };
    let Some(v) = volume() else { return };
    let down = w.prefix.join("drive_c").join(DOWNLOADER);
    fs::create_dir_all(&down).unwrap();
    fs::copy(&v.store, down.join("qmgr.db")).unwrap();
    let win = under_wine(w, &["parse", "--live", "--format", "jsonl"], &[]);
    let _ = fs::remove_file(down.join("qmgr.db"));
    let stderr = String::from_utf8_lossy(&win.stderr);
    assert_eq!(win.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(r"\\.\C:: not"), "{stderr}");
    assert!(
        stderr
            .contains(r"opening the files in C:\ProgramData\Microsoft\Network\Downloader instead"),
        "{stderr}"
    );
    let got = lines(&win.stdout);
    let want = alone(&v.store, false);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(without_provenance(g), without_provenance(w));
        assert_eq!(
            g["evidence"],
            r"C:\ProgramData\Microsoft\Network\Downloader\qmgr.db"
        );
    }
}
