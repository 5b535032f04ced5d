//! The host named from the SYSTEM hive's `ComputerName` (issue 21, item 4): hives written here
//! with hivex (Debian's python3-hivex) into a copy of the real SAM sample, each name checked
//! against regipy's reading of the same hive (`Select\Current`, then that control set's
//! `Control\ComputerName\ComputerName`); a case folder of four hosts, a KAPE tree and a
//! Velociraptor zip holding a hive, a KAPE tree and a zip without one, through the real
//! binary and the explorer; hostile hives bounded and answered with a warning.

mod common;
#[path = "common/disk_image.rs"]
mod disk_image;

#[global_allocator]
static GLOBAL: common::alloc::Counting = common::alloc::Counting;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bitscope::gen::fleet::zip_stored;
use bitscope::hive::system::{computer_name, computer_name_of, NameError, MAX_NAME};
use bitscope::hive::Hive;
use serde_json::Value;

const DOWNLOADER: &str = "ProgramData/Microsoft/Network/Downloader";

/// Control sets and their names, as a hive is made with them.
type Sets<'a> = &'a [(u32, &'a str)];
/// The error a hostile hive must give.
type Expect = fn(&NameError) -> bool;

/// The tests of this file one at a time: the allocator's peak is global.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn hivex_available() -> bool {
    let ok = Command::new("/usr/bin/python3")
        .args(["-c", "import hivex"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        common::skip("Debian's python3-hivex (see .ci/run)");
    }
    ok
}

/// What a test needs: regipy's Python, the SAM sample (the base of every hive), hivex.
fn tools() -> Option<(PathBuf, PathBuf)> {
    let python = common::regipy_python()?;
    let base = common::sample("registry/SAM")?;
    hivex_available().then_some((python, base))
}

/// A SYSTEM hive at `out`: `Select\Current` = `current`, and each control set's name.
fn make_hive(base: &Path, out: &Path, current: u32, sets: &[(u32, &str)]) -> Vec<u8> {
    let spec = serde_json::json!({
        "current": current,
        "sets": sets.iter().map(|(n, s)| (n.to_string(), Value::from(*s))).collect::<serde_json::Map<_, _>>(),
    });
    let json = out.with_extension("json");
    std::fs::write(&json, spec.to_string()).unwrap();
    let status = Command::new("/usr/bin/python3")
        .arg(common::manifest_dir().join("tests/oracle/make_system_hive.py"))
        .args([base, out, &json])
        .status()
        .unwrap();
    assert!(status.success(), "hivex wrote {}", out.display());
    std::fs::remove_file(&json).unwrap();
    std::fs::read(out).unwrap()
}

/// regipy's reading: (Select\Current, that set's ComputerName, every set's name).
fn regipy(python: &Path, hive: &Path) -> (u64, Option<String>, Vec<String>) {
    let v: Value = serde_json::from_str(&common::run_python_script(
        python,
        "hive_oracle.py",
        [Path::new("computer"), hive],
    ))
    .unwrap();
    let names = v["plugin"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    (
        v["current"].as_u64().unwrap(),
        v["name"].as_str().map(str::to_string),
        names,
    )
}

/// `parse CASE --format jsonl`: the records, and what it said on stderr (both into files, so
/// no pipe fills while the watchdog waits). The watchdog kills it after a minute.
fn parse(case: &Path) -> (Vec<Value>, String) {
    let out_dir = common::scratch_dir("system-hive-parse");
    let (out, err) = (out_dir.join("stdout"), out_dir.join("stderr"));
    let mut child = Command::new(common::bitscope_bin())
        .args([
            "parse".as_ref(),
            case.as_os_str(),
            "--format".as_ref(),
            "jsonl".as_ref(),
        ])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("parse {} did not finish within a minute", case.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let records = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let stderr = String::from_utf8_lossy(&std::fs::read(&err).unwrap()).into_owned();
    (records, stderr)
}

/// (host, host_source) → records.
fn by_host(records: &[Value]) -> std::collections::BTreeMap<(String, String), usize> {
    let mut m = std::collections::BTreeMap::new();
    for r in records {
        let key = (
            r["host"].as_str().unwrap().to_string(),
            r["host_source"].as_str().unwrap().to_string(),
        );
        *m.entry(key).or_default() += 1;
    }
    m
}

fn put(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn computer_names_equal_regipy_and_follow_select_current() {
    let _s = serial();
    let Some((python, base)) = tools() else {
        return;
    };
    let dir = common::scratch_dir("system-hive-names");
    let cases: [(&str, u32, Sets); 3] = [
        ("one-set", 1, &[(1, "WKS-0142")]),
        // The machine last booted with ControlSet002: its name, not ControlSet001's.
        ("second-set", 2, &[(1, "OLD-NAME"), (2, "NEW-NAME")]),
        ("unicode", 3, &[(1, "A"), (2, "B"), (3, "Poste-Zoë-Ω")]),
    ];
    for (tag, current, sets) in cases {
        let path = dir.join(tag);
        let bytes = make_hive(&base, &path, current, sets);
        let ours = computer_name(&Hive::open(&bytes).unwrap()).unwrap();
        let (their_current, theirs, every) = regipy(&python, &path);
        assert_eq!(u64::from(current), their_current, "{tag}");
        assert_eq!(Some(ours.name.as_str()), theirs.as_deref(), "{tag}");
        // The plugin reads only the sets regipy knows by name (its CONTROL_SETS:
        // ControlSet001 and ControlSet002), whatever Select says: each of them is one of ours.
        assert!(!every.is_empty(), "{tag}");
        assert!(
            every.iter().all(|n| sets.iter().any(|(_, s)| s == n)),
            "{tag}: {every:?}"
        );
        assert_eq!(
            ours.key,
            format!(r"ControlSet{current:03}\Control\ComputerName\ComputerName")
        );
        if sets.len() > 1 {
            // regipy's plugin lists every set's name; the first differs from ours.
            assert_ne!(every[0], ours.name, "{tag}");
        }
        println!(
            "{tag}: Select\\Current {current} -> {:?} (regipy: {theirs:?}, every set {every:?})",
            ours.name
        );
    }
}

/// Four hosts in one case folder: a KAPE tree (names in odd case) and a Velociraptor zip
/// (the hive from the `ntfs` accessor, the queue from `auto`) hold a SYSTEM hive; a KAPE tree
/// and a zip do not. Each record names its host from the hive where its collection holds one.
#[test]
fn a_four_host_case_names_hosts_from_their_system_hives() {
    let _s = serial();
    let Some((python, base)) = tools() else {
        return;
    };
    let (Some(win10), Some(win11), Some(h24)) = (
        common::sample("ese/win10/qmgr.db"),
        common::sample("ese/win11/qmgr.db"),
        common::sample("ese/win11-24h2/qmgr.db"),
    ) else {
        return;
    };
    let work = common::scratch_dir("system-hive-work");
    let case = common::scratch_dir("system-hive-case");
    let kape_hive = make_hive(
        &base,
        &work.join("kape-SYSTEM"),
        2,
        &[(1, "KAPE-OLD"), (2, "KAPE-WKS-07")],
    );
    let velo_hive = make_hive(&base, &work.join("velo-SYSTEM"), 1, &[(1, "VELO-SRV-3")]);
    let kape_name = regipy(&python, &work.join("kape-SYSTEM")).1.unwrap();
    let velo_name = regipy(&python, &work.join("velo-SYSTEM")).1.unwrap();
    // A KAPE tree with a hive (its folders named in another case than Windows spells them).
    let kape = case.join("kape-collection-1");
    put(
        &kape.join("C").join(DOWNLOADER).join("qmgr.db"),
        &std::fs::read(&win10).unwrap(),
    );
    put(&kape.join("c/WINDOWS/system32/CONFIG/system"), &kape_hive);
    // A KAPE tree without one.
    let plain = case.join("HOST-PLAIN");
    put(
        &plain.join("C").join(DOWNLOADER).join("qmgr.db"),
        &std::fs::read(&h24).unwrap(),
    );
    // A Velociraptor collection zip with one, and a zip without.
    let velo = zip_stored(&[
        (
            format!("uploads/auto/C%3A/{DOWNLOADER}/qmgr.db"),
            std::fs::read(&win11).unwrap(),
        ),
        (
            "uploads/ntfs/%5C%5C.%5CC%3A/Windows/System32/config/SYSTEM".into(),
            velo_hive,
        ),
    ])
    .unwrap();
    put(&case.join("Collection-velo-20260301.zip"), &velo);
    let bare = zip_stored(&[(
        format!("uploads/auto/C%3A/{DOWNLOADER}/qmgr.db"),
        common::craft::generated(3),
    )])
    .unwrap();
    put(&case.join("Collection-WKS-02.zip"), &bare);

    let (records, stderr) = parse(&case);
    let hosts = by_host(&records);
    let alone = |p: &Path| parse(p).0.len();
    let want: std::collections::BTreeMap<(String, String), usize> = [
        ((kape_name.clone(), "system hive"), alone(&win10)),
        ((velo_name.clone(), "system hive"), alone(&win11)),
        (("HOST-PLAIN".to_string(), "folder name"), alone(&h24)),
        (
            ("Collection-WKS-02".to_string(), "file name"),
            alone(&case.join("Collection-WKS-02.zip")),
        ),
    ]
    .into_iter()
    .map(|((h, s), n)| ((h, s.to_string()), n))
    .collect();
    assert_eq!(hosts, want, "{stderr}");
    assert_eq!(kape_name, "KAPE-WKS-07");
    assert!(!stderr.contains("names no computer"), "{stderr}");
    println!("parse of the case: {hosts:?}");

    // The explorer: the Host column and the `H` summary show the hives' names.
    let mut app = common::tui::loaded(case.clone(), false, 200, 40);
    let rows = bitscope::tui::hosts::summary(&app.store);
    let summary: Vec<(String, String, usize)> = rows
        .iter()
        .map(|r| (r.name.clone(), r.source.clone(), r.records))
        .collect();
    let expected: Vec<(String, String, usize)> = want
        .iter()
        .map(|((h, s), n)| (h.clone(), s.clone(), *n))
        .collect();
    assert_eq!(summary, expected);
    common::tui::press(&mut app, crossterm::event::KeyCode::Char('H'));
    let screen = common::tui::screen(&app);
    for name in [
        kape_name.as_str(),
        &velo_name,
        "HOST-PLAIN",
        "Collection-WKS-02",
    ] {
        assert!(screen.contains(name), "{name} in\n{screen}");
    }
    assert!(screen.contains("system hive"), "{screen}");
    println!("explorer's H: {summary:?}");
}

/// Hostile hives named SYSTEM in their place: none panics, each is read in bounded memory,
/// each host is then named from its folder or file with a warning saying why (escaped), and
/// the records are the same as without the hive.
#[test]
fn hostile_system_hives_fall_back_to_folder_names_with_a_warning() {
    let _s = serial();
    let Some((_python, base)) = tools() else {
        return;
    };
    let work = common::scratch_dir("system-hive-hostile-work");
    let good = make_hive(&base, &work.join("good"), 1, &[(1, "GOOD-NAME")]);
    let long = "N".repeat(51_200); // 100 KiB of UTF-16
    let hostile: Vec<(&str, Vec<u8>, Expect)> = vec![
        (
            "CURRENT-NOWHERE",
            make_hive(&base, &work.join("c7"), 7, &[(1, "SET-ONE")]),
            |e| matches!(e, NameError::BadCurrent(7)),
        ),
        (
            "CURRENT-ZERO",
            make_hive(&base, &work.join("c0"), 0, &[(1, "SET-ONE")]),
            |e| matches!(e, NameError::BadCurrent(0)),
        ),
        (
            "CURRENT-HUGE",
            make_hive(&base, &work.join("cmax"), u32::MAX, &[(1, "SET-ONE")]),
            |e| matches!(e, NameError::BadCurrent(u32::MAX)),
        ),
        (
            "LONG-NAME",
            make_hive(&base, &work.join("long"), 1, &[(1, long.as_str())]),
            |e| matches!(e, NameError::TooLong { .. } | NameError::Control(_)),
        ),
        (
            "CONTROL-NAME",
            make_hive(&base, &work.join("esc"), 1, &[(1, "EVIL\u{1b}[31mHOST")]),
            |e| matches!(e, NameError::Control(_)),
        ),
        ("NO-SELECT", std::fs::read(&base).unwrap(), |e| {
            matches!(e, NameError::NoCurrent)
        }),
    ];
    for (tag, bytes, why) in &hostile {
        let live = common::alloc::LIVE.load(Ordering::Relaxed);
        common::alloc::PEAK.store(live, Ordering::Relaxed);
        let err = computer_name(&Hive::open(bytes).unwrap()).unwrap_err();
        let peak = common::alloc::PEAK.load(Ordering::Relaxed) - live;
        assert!(why(&err), "{tag}: {err}");
        assert!(peak < 4 << 20, "{tag}: {peak} bytes at the peak");
        println!("{tag}: {err} (peak {peak} bytes)");
    }
    // Truncated anywhere, or not a hive: an error or a name, never a panic.
    let started = Instant::now();
    for cut in (0..good.len()).step_by(509) {
        let _ = computer_name_of(&good[..cut]);
    }
    assert!(computer_name_of(b"regf").is_err());
    assert!(computer_name_of(&[0u8; 8192]).is_err());
    // Every byte of the cells on the way to the name flipped in turn.
    let mut mutated = good.clone();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut named = 0;
    for _ in 0..3000 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let at = 4096 + (rng as usize) % (good.len() - 4096);
        mutated.copy_from_slice(&good);
        mutated[at] ^= (rng >> 32) as u8 | 1;
        if let Ok(n) = computer_name_of(&mutated) {
            assert!(n.name.chars().count() <= MAX_NAME && !n.name.chars().any(char::is_control));
            named += 1;
        }
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(60), "{took:?}");
    println!("truncations and 3000 mutations of a good hive: {named} still named, {took:?}");

    // Through the binary: each hostile hive in a KAPE tree of its own, and one in a zip.
    let case = common::scratch_dir("system-hive-hostile-case");
    let db = common::craft::generated(2);
    let mut trees = Vec::new();
    for (tag, bytes, _) in &hostile {
        let tree = case.join(tag);
        put(&tree.join("C").join(DOWNLOADER).join("qmgr.db"), &db);
        put(&tree.join("C/Windows/System32/config/SYSTEM"), bytes);
        trees.push(tag.to_string());
    }
    let truncated = case.join("TRUNCATED");
    put(&truncated.join("C").join(DOWNLOADER).join("qmgr.db"), &db);
    put(
        &truncated.join("C/Windows/System32/config/SYSTEM"),
        &good[..3000],
    );
    trees.push("TRUNCATED".into());
    let zip = zip_stored(&[
        (
            format!("uploads/auto/C%3A/{DOWNLOADER}/qmgr.db"),
            db.clone(),
        ),
        (
            "uploads/auto/C%3A/Windows/System32/config/SYSTEM".into(),
            hostile[4].1.clone(),
        ),
    ])
    .unwrap();
    put(&case.join("Collection-EVIL.zip"), &zip);
    let (records, stderr) = parse(&case);
    let hosts = by_host(&records);
    let per = records.len() / (trees.len() + 1);
    assert!(per > 0);
    let mut want: std::collections::BTreeMap<(String, String), usize> = trees
        .iter()
        .map(|t| ((t.clone(), "folder name".to_string()), per))
        .collect();
    want.insert(("Collection-EVIL".into(), "file name".into()), per);
    assert_eq!(hosts, want, "{stderr}");
    let warned = stderr.matches("names no computer").count();
    assert_eq!(warned, trees.len() + 1, "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "raw escape on stderr: {stderr:?}"
    );
    println!(
        "{} hostile collections: every host named from its folder or file, {warned} warnings",
        trees.len() + 1
    );
}

/// An NTFS image made here: its SYSTEM hive (found by the walk that finds the queue, read
/// before the queue runs) names the host, not the `RegBack` copy beside it; an image whose
/// hive names no computer keeps its file name, with a warning.
#[test]
fn an_images_system_hive_names_its_host() {
    let _s = serial();
    let Some((python, base)) = tools() else {
        return;
    };
    let dir = common::scratch_dir("system-hive-image");
    let current = make_hive(
        &base,
        &dir.join("current-SYSTEM"),
        2,
        &[(1, "IMG-OLD"), (2, "IMG-WKS-11")],
    );
    let regback = make_hive(
        &base,
        &dir.join("regback-SYSTEM"),
        1,
        &[(1, "REGBACK-NAME")],
    );
    let evil = make_hive(
        &base,
        &dir.join("evil-SYSTEM"),
        1,
        &[(1, "EVIL\u{1b}]0;x\u{7}")],
    );
    let name = regipy(&python, &dir.join("current-SYSTEM")).1.unwrap();
    let db = common::craft::generated(2);
    let mut results = Vec::new();
    for (tag, hive) in [("named", &current), ("hostile", &evil)] {
        let fill = |mnt: &Path| -> std::io::Result<()> {
            let put = |rel: &str, bytes: &[u8]| -> std::io::Result<()> {
                let p = mnt.join(rel);
                std::fs::create_dir_all(p.parent().unwrap())?;
                std::fs::write(p, bytes)
            };
            put(&format!("{DOWNLOADER}/qmgr.db"), &db)?;
            put("Windows/System32/config/RegBack/SYSTEM", &regback)?;
            put("Windows/System32/config/SYSTEM", hive)
        };
        let Some(image) =
            disk_image::ntfs_volume(&dir.join(format!("{tag}.img")), 16 << 20, &[], &[], &fill)
        else {
            return;
        };
        let (records, stderr) = parse(&image);
        assert!(!records.is_empty(), "{stderr}");
        results.push((by_host(&records), stderr, records.len()));
    }
    let (named, stderr, n) = &results[0];
    let want: std::collections::BTreeMap<_, _> =
        [((name.clone(), "system hive".to_string()), *n)].into();
    assert_eq!(named, &want, "{stderr}");
    assert_eq!(name, "IMG-WKS-11");
    let (hostile, stderr, n) = &results[1];
    let want: std::collections::BTreeMap<_, _> =
        [(("hostile".to_string(), "file name".to_string()), *n)].into();
    assert_eq!(hostile, &want, "{stderr}");
    assert!(stderr.contains("names no computer"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
    println!("image: {named:?}; hostile image: {hostile:?}");
}
