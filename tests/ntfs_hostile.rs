//! Hostile NTFS structures, crafted in the test from volumes made with mkntfs and ntfs-3g:
//! an MFT aliased onto itself (a dynamic VHD of a few MB whose block table maps 16 GiB of
//! disk, `$MFT` included, onto one block), an MFT longer than its volume, a `$ATTRIBUTE_LIST`
//! claiming 16 GiB whose entries name their own record, more stores than a volume is walked
//! for. Each ends in warnings, within seconds and a bounded heap (the counting allocator for
//! the walk in process; the real binary under a memory cap and a watchdog), with the exit code
//! a readable store gives.

mod common;
#[path = "common/disk_image.rs"]
mod disk_image;
#[path = "common/ntfs_craft.rs"]
mod ntfs_craft;

use std::fs;
use std::ops::ControlFlow;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::Ordering;
use std::time::Instant;

use bitscope::container;
use bitscope::input::Evidence;
use common::alloc::{LIVE, PEAK};

#[global_allocator]
static GLOBAL: common::alloc::Counting = common::alloc::Counting;

/// One case at a time (the peak heap is process-wide).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The legacy queue every crafted volume holds as `qmgr0.dat` (one job).
fn legacy() -> Vec<u8> {
    fs::read(common::manifest_dir().join("testdata/legacy/win7-1job.qmgr0.dat")).unwrap()
}

/// Open `path` and walk every volume, counting time and peak heap: (stores' paths, warnings,
/// seconds, peak bytes).
fn walk(path: &Path) -> (Vec<String>, Vec<String>, f64, usize) {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = Instant::now();
    let ev = Evidence::open(path).unwrap();
    let found = container::open(&ev).expect("a container");
    let mut stores = Vec::new();
    let mut warnings: Vec<String> = found.warnings.iter().map(|w| w.to_string()).collect();
    for v in &found.volumes {
        let mut w = Vec::new();
        let _ = found.walk_volume(
            v,
            &mut |s| {
                stores.push(s.path);
                ControlFlow::Continue(())
            },
            &mut w,
        );
        let free = found.unallocated(v, &mut w);
        let deleted = found.deleted_files(v, &free, &mut w);
        drop(deleted);
        warnings.extend(w.iter().map(|d| d.to_string()));
    }
    let secs = start.elapsed().as_secs_f64();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    (stores, warnings, secs, peak)
}

/// The real binary on `path` (`parse --carve`), under a 1 GiB address-space cap and a 60 s
/// watchdog.
fn capped(path: &Path) -> (Output, f64) {
    let start = Instant::now();
    let out = common::run_bitscope_capped(
        [
            "parse".as_ref(),
            "--carve".as_ref(),
            "--format".as_ref(),
            "jsonl".as_ref(),
            path.as_os_str(),
        ],
        60,
        1 << 20,
    );
    (out, start.elapsed().as_secs_f64())
}

fn have_qemu() -> bool {
    if Command::new("qemu-img").arg("--version").output().is_err() {
        common::skip("qemu-img not installed (Debian: qemu-utils)");
        return false;
    }
    true
}

/// 16 GiB of MFT in a dynamic VHD of a few MB whose block table maps every block onto the one
/// that holds the volume: the MFT's records repeat every 2 MiB under other numbers. The walk
/// reads the one store once and stops after `MAX_MISPLACED` records that hold another entry's
/// number, with a warning (it used to collect millions of stores: 13.3 GB after 197 s).
#[test]
fn an_mft_aliased_onto_itself_stops_the_walk_with_a_warning() {
    if !have_qemu() || !disk_image::can_make_volumes() {
        return;
    }
    let dir = disk_image::image_dir("aliased");
    let disk: u64 = (16 << 30) + (4 << 20);
    let Some(raw) = ntfs_craft::long_mft(&dir, &legacy(), "aliased", Some(disk / 512 - 1), disk)
    else {
        return;
    };
    let vhd = dir.join("aliased.vhd");
    ntfs_craft::aliased_vhd(&raw, &vhd).expect("qemu-img");
    let _ = fs::remove_file(&raw);
    let file = fs::metadata(&vhd).unwrap().len();
    assert!(file < 16 << 20, "{file} bytes");
    let (stores, warnings, secs, peak) = walk(&vhd);
    eprintln!(
        "aliased MFT in a {file}-byte VHD: {} stores, {secs:.2} s, peak heap {:.1} MB, {warnings:?}",
        stores.len(),
        peak as f64 / 1e6
    );
    assert_eq!(stores, ["\\qmgr0.dat"]);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("MFT entries hold another entry's record")),
        "{warnings:?}"
    );
    assert!(secs < 20.0, "{secs} s");
    assert!(peak < 64 << 20, "{peak} bytes");
    let (out, secs) = capped(&vhd);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("hold another entry's record"), "{stderr}");
    let rows = String::from_utf8_lossy(&out.stdout).lines().count();
    assert_eq!(rows, 1, "the one job of the one store");
    assert!(secs < 60.0);
    eprintln!("parse --carve: exit 0, {rows} row, {secs:.2} s");
}

/// A volume whose boot sector says 2 MiB and whose MFT claims 16 GiB: read up to the volume's
/// end, with a warning.
#[test]
fn an_mft_longer_than_its_volume_is_read_to_the_volumes_end() {
    if !disk_image::can_make_volumes() {
        return;
    }
    let dir = disk_image::image_dir("longmft");
    let Some(raw) = ntfs_craft::long_mft(&dir, &legacy(), "longmft", None, 4 << 20) else {
        return;
    };
    let (stores, warnings, secs, peak) = walk(&raw);
    assert_eq!(stores, ["\\qmgr0.dat"]);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("the MFT claims 17179869184 bytes, more than the volume's")),
        "{warnings:?}"
    );
    assert!(secs < 10.0 && peak < 64 << 20, "{secs} s, {peak} bytes");
    let (out, _) = capped(&raw);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A store with 300 hard links (so its `$ATTRIBUTE_LIST` is non-resident), whose list is made
/// to claim 16 GiB in one run, its first MiB the real entries followed by entries naming the
/// base record itself. The list is read to 1 MiB, the self-references counted, the store still
/// found through the real entries.
#[test]
fn an_attribute_list_naming_its_own_record_is_bounded_and_counted() {
    if !disk_image::can_make_volumes() {
        return;
    }
    let dir = disk_image::image_dir("selflist");
    let Some(crafted) = ntfs_craft::self_listing(&dir, &legacy()) else {
        return;
    };
    let (img2, bytes, inode, selfs) = (crafted.path, crafted.list, crafted.inode, crafted.selfs);
    let (stores, warnings, secs, peak) = walk(&img2);
    eprintln!(
        "self-referencing list: {} stores, {secs:.2} s, peak heap {:.1} MB, {warnings:?}",
        stores.len(),
        peak as f64 / 1e6
    );
    assert_eq!(stores.len(), 1, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w
                .contains("$ATTRIBUTE_LIST of 17179869184 bytes: only the first 1048576 are read")),
        "{warnings:?}"
    );
    // Counted: every entry naming the base record, the real list's own among them.
    let mut naming_base = 0;
    let mut e = 0;
    while e + 0x18 <= bytes.len() {
        let r = u64::from_le_bytes(bytes[e + 0x10..e + 0x18].try_into().unwrap());
        naming_base += usize::from(r & 0xFFFF_FFFF_FFFF == inode);
        e += u16::from_le_bytes([bytes[e + 4], bytes[e + 5]]) as usize;
    }
    assert!(naming_base > selfs);
    assert!(
        warnings.iter().any(|w| w.contains(&format!(
            "{naming_base} entries name the base record itself"
        ))),
        "{warnings:?}"
    );
    assert!(secs < 10.0 && peak < 64 << 20, "{secs} s, {peak} bytes");
    let (out, _) = capped(&img2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("name the base record itself"), "{stderr}");
}

/// 4,100 files named `qmgr.db`, one per folder: the walk stops at `MAX_STORES` with a warning,
/// having handed each store on as it found it.
#[test]
fn more_stores_than_the_bound_are_a_warning() {
    if !disk_image::can_make_volumes() {
        return;
    }
    let dir = disk_image::image_dir("manystores");
    let Some(img) = disk_image::ntfs_volume(&dir.join("many.img"), 64 << 20, &[], &[], &|m| {
        for i in 0..4100 {
            fs::create_dir_all(m.join(format!("d{i}")))?;
            fs::write(m.join(format!("d{i}/qmgr.db")), b"not a store")?;
        }
        Ok(())
    }) else {
        return;
    };
    let (stores, warnings, secs, peak) = walk(&img);
    assert_eq!(stores.len(), bitscope::container::ntfs::MAX_STORES);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("more than 4096 stores in this volume: the walk stops")),
        "{warnings:?}"
    );
    assert!(secs < 20.0 && peak < 64 << 20, "{secs} s, {peak} bytes");
}

/// How many stores' folders the many-stores volume holds (`d0\qmgr0.dat` ...).
const MANY: usize = 300;

/// A volume of [`MANY`] folders, each with the one-job legacy queue as `qmgr0.dat`, and every
/// tenth also a `qmgr1.dat` and a `qmgr.db` that are not stores (they fail as such, warnings).
/// Made once per process (the two tests that read it run in parallel).
fn many_stores() -> Option<std::path::PathBuf> {
    static MADE: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    MADE.get_or_init(make_many_stores).clone()
}

fn make_many_stores() -> Option<std::path::PathBuf> {
    if !disk_image::can_make_volumes() {
        return None;
    }
    let dir = disk_image::image_dir("heldstores");
    let queue = legacy();
    disk_image::ntfs_volume(&dir.join("held.img"), 64 << 20, &[], &[], &|m| {
        for i in 0..MANY {
            fs::create_dir_all(m.join(format!("d{i}")))?;
            fs::write(m.join(format!("d{i}/qmgr0.dat")), &queue)?;
            if i % 10 == 0 {
                fs::write(m.join(format!("d{i}/qmgr.db")), vec![0x5a; 8192])?;
            }
        }
        Ok(())
    })
}

/// The stores (the MFT entry's folder, `dN`) the records of `parsed` came from.
fn stores_of(parsed: &bitscope::pipeline::Parsed) -> std::collections::BTreeSet<String> {
    parsed
        .records
        .iter()
        .flat_map(|r| r.job_source.iter().chain(r.file_source.iter()))
        .filter_map(|s| s.container_chain.last().cloned())
        .collect()
}

/// Run the pipeline in process on `path` with `opts`, under the counting allocator: (what it
/// gave, seconds, peak heap bytes). A watchdog thread fails the test past `secs`.
fn run_counted(
    path: &Path,
    opts: &bitscope::pipeline::Options,
    secs: u64,
) -> (bitscope::pipeline::Parsed, f64, usize) {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = Instant::now();
    let (done, watch) = std::sync::mpsc::channel::<()>();
    let dog = std::thread::spawn(move || {
        if watch
            .recv_timeout(std::time::Duration::from_secs(secs))
            .is_err()
        {
            eprintln!("still running after {secs} s");
            std::process::exit(101);
        }
    });
    let mut parsed = bitscope::pipeline::Parsed::default();
    let _ = bitscope::pipeline::run_file(path, opts, &mut parsed);
    let _ = done.send(());
    dog.join().unwrap();
    let took = start.elapsed().as_secs_f64();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    (parsed, took, peak)
}

/// The descriptions of the stores a volume names are held while its MFT is walked (so its
/// event logs and hives are read before any store: see `pipeline/images.rs`), within a
/// budget (`Options::max_held`, 32 MiB by default). Reaching 32 MiB takes some 1.4 million
/// crafted runs, so the bound is shown with a small budget over a volume of 300 stores: the
/// walk stops with a warning naming the budget, the stores held before it still run, and the
/// heap stays bounded. With the default budget every store's record comes out, no warning.
#[test]
fn the_store_descriptions_held_in_a_walk_are_bounded() {
    let Some(img) = many_stores() else { return };
    let all = bitscope::pipeline::Options::default();
    assert_eq!(all.max_held, bitscope::pipeline::MAX_HELD);
    assert_eq!(all.max_held, 32 << 20);
    let (parsed, secs, peak) = run_counted(&img, &all, 60);
    let held_warning = |p: &bitscope::pipeline::Parsed| {
        p.warnings
            .iter()
            .map(|w| w.to_string())
            .find(|w| w.contains("to describe (runs, names): the walk stops"))
    };
    eprintln!(
        "{MANY} stores, default budget: {} records from {} stores, {secs:.2} s, peak heap {:.1} MB",
        parsed.records.len(),
        stores_of(&parsed).len(),
        peak as f64 / 1e6
    );
    assert_eq!(stores_of(&parsed).len(), MANY);
    assert_eq!(parsed.records.len(), MANY, "the one job of each store");
    assert_eq!(held_warning(&parsed), None);
    assert!(secs < 60.0 && peak < 64 << 20, "{secs} s, {peak} bytes");

    let small = bitscope::pipeline::Options {
        max_held: 16 << 10,
        ..all
    };
    let (parsed, secs, peak) = run_counted(&img, &small, 60);
    let warning = held_warning(&parsed);
    let ran = stores_of(&parsed).len();
    eprintln!(
        "{MANY} stores, a 16 KiB budget: {} records from {ran} stores, {secs:.2} s, peak heap {:.1} MB, {warning:?}",
        parsed.records.len(),
        peak as f64 / 1e6
    );
    let warning = warning.expect("the budget's warning");
    assert!(
        warning.contains("take more than 16384 bytes to describe (runs, names): the walk stops, the rest are not read"),
        "{warning}"
    );
    // Each held store's description is some hundred bytes: a few dozen fit in 16 KiB.
    assert!(ran > 0 && ran < MANY / 2, "{ran} stores run");
    assert_eq!(parsed.records.len(), ran);
    assert!(secs < 60.0 && peak < 64 << 20, "{secs} s, {peak} bytes");
}

/// The same volume through the real binary (`parse --carve`, 1 GiB address-space cap, 60 s
/// watchdog): exit 0, one row for each of the 300 stores, and the largest resident set of the
/// children bounded.
#[test]
fn a_volume_of_many_stores_gives_every_stores_records() {
    let Some(img) = many_stores() else { return };
    let (out, secs) = capped(&img);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // SAFETY: getrusage writes the struct it is given; RUSAGE_CHILDREN covers every child
    // waited for (the shell, timeout and bitscope; mkntfs and ntfs-3g before them).
    let rss_kb = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u.ru_maxrss
    };
    let rows: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    let folders: std::collections::BTreeSet<String> = rows
        .iter()
        .filter_map(|r| {
            let at = r.find("\\\\d")? + 3;
            let n: String = r[at..].chars().take_while(char::is_ascii_digit).collect();
            Some(n)
        })
        .collect();
    eprintln!(
        "parse --carve, {MANY} stores: exit 0, {} rows from {} folders, {secs:.2} s, max RSS {rss_kb} KB",
        rows.len(),
        folders.len()
    );
    assert_eq!(rows.len(), MANY, "{stderr}");
    assert_eq!(folders.len(), MANY);
    assert!(!stderr.contains("the walk stops"), "{stderr}");
    assert!(secs < 60.0);
    assert!(rss_kb < 512 << 10, "{rss_kb} KB");
}
