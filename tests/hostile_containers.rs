//! Hostile containers built in the test, each run in one process under a counting allocator
//! (peak heap) and a clock, and through the real binary (exit code, warnings):
//!
//! - zips whose central directory names one member thousands of times, zero bombs, a member
//!   inflating past its declared size, members overlapping, CRC-32 and local header names,
//!   names that are not UTF-8;
//! - a GPT of 1,024 entries naming one partition;
//! - an E01 claiming 2^31 sectors in a file of a few MB;
//! - the long-value bomb padded with `truncate -s 8G`.

mod common;
#[path = "common/disk_image.rs"]
mod disk_image;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bitscope::pipeline::{self, Options, Parsed};
use common::alloc::{LIVE, PEAK};
use common::{bitscope_bin, craft, scratch_dir};

#[global_allocator]
static GLOBAL: common::alloc::Counting = common::alloc::Counting;

/// The heap counters are process-wide: one test at a time (each takes this first).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Run `case` on a worker thread: it must end within `secs`; returns what it gave, its peak
/// heap over what was live before, and its time.
fn bounded<T: Send + 'static>(
    name: &str,
    secs: u64,
    case: impl FnOnce() -> T + Send + 'static,
) -> (T, usize, Duration) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let start = Instant::now();
        let out = case();
        let took = start.elapsed();
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
        let _ = tx.send((out, peak, took));
    });
    let (out, peak, took) = rx
        .recv_timeout(Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("{name}: not done in {secs} s"));
    eprintln!("{name}: {took:.2?}, peak heap {:.1} MB", peak as f64 / 1e6);
    (out, peak, took)
}

/// `bitscope ARGS` under a watchdog: (exit code, stdout, stderr).
fn run(args: &[&str], secs: u64) -> (Option<i32>, String, String) {
    let mut child = Command::new(bitscope_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut o, mut e) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut o, &mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut e, &mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            panic!("bitscope {args:?}: still running after {secs} s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (status.code(), out.join().unwrap(), err.join().unwrap())
}

fn parse_in_process(path: &Path, carve: bool) -> Result<Parsed, String> {
    let mut parsed = Parsed::default();
    let opts = Options {
        carve,
        ..Options::default()
    };
    pipeline::run_file(path, &opts, &mut parsed)
        .map(|_| parsed)
        .map_err(|e| e.to_string())
}

/// A zip written by hand: `members` (local headers and data), then a central directory of
/// `entries`, each (name bytes, member index); a member is (name bytes, data, deflate?,
/// declared size).
struct Zip {
    members: Vec<(Vec<u8>, Vec<u8>, bool, u32)>,
    entries: Vec<(Vec<u8>, usize)>,
    /// CRC-32 recorded for member `i`, when not its data's.
    crc: Vec<Option<u32>>,
    /// Bytes put between members (an overlap is made by pointing an entry inside them).
    local_at: Vec<u32>,
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}

impl Zip {
    fn new() -> Zip {
        Zip {
            members: Vec::new(),
            entries: Vec::new(),
            crc: Vec::new(),
            local_at: Vec::new(),
        }
    }

    /// Add a member; returns its index.
    fn member(&mut self, name: &[u8], data: Vec<u8>, deflated: bool) -> usize {
        let size = data.len() as u32;
        self.members.push((name.to_vec(), data, deflated, size));
        self.crc.push(None);
        self.members.len() - 1
    }

    fn entry(&mut self, name: &[u8], member: usize) {
        self.entries.push((name.to_vec(), member));
    }

    fn bytes(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut meta = Vec::new();
        for (i, (name, data, deflated, size)) in self.members.iter().enumerate() {
            let packed = if *deflated {
                deflate(data)
            } else {
                data.clone()
            };
            let crc = self.crc[i].unwrap_or_else(|| crc32(data));
            let at = out.len() as u32;
            out.extend_from_slice(b"PK\x03\x04\x14\0\0\0");
            out.extend_from_slice(&(if *deflated { 8u16 } else { 0 }).to_le_bytes());
            out.extend_from_slice(&[0; 4]);
            out.extend_from_slice(&crc.to_le_bytes());
            out.extend_from_slice(&(packed.len() as u32).to_le_bytes());
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name);
            out.extend_from_slice(&packed);
            meta.push((at, crc, packed.len() as u32, *deflated, *size));
        }
        self.local_at = meta.iter().map(|m| m.0).collect();
        let dir_at = out.len() as u32;
        let mut dir = Vec::new();
        for (name, m) in &self.entries {
            let (at, crc, packed, deflated, size) = meta[*m];
            dir.extend_from_slice(b"PK\x01\x02\x14\0\x14\0\0\0");
            dir.extend_from_slice(&(if deflated { 8u16 } else { 0 }).to_le_bytes());
            dir.extend_from_slice(&[0; 4]);
            dir.extend_from_slice(&crc.to_le_bytes());
            dir.extend_from_slice(&packed.to_le_bytes());
            dir.extend_from_slice(&size.to_le_bytes());
            dir.extend_from_slice(&(name.len() as u16).to_le_bytes());
            dir.extend_from_slice(&[0; 12]);
            dir.extend_from_slice(&at.to_le_bytes());
            dir.extend_from_slice(name);
        }
        out.extend_from_slice(&dir);
        let n = self.entries.len().min(0xffff) as u16;
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&(dir.len() as u32).to_le_bytes());
        out.extend_from_slice(&dir_at.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }
}

const STORE: &[u8] = b"C/ProgramData/Microsoft/Network/Downloader/qmgr.db";

/// 5,000 and 65,535 central directory entries naming one deflated qmgr.db: one store, read
/// once (its records once), with a warning; in bounded time and memory.
#[test]
fn entries_sharing_one_member_are_one_store() {
    let _one = serial();
    let Some(win10) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let db = std::fs::read(&win10).unwrap();
    let alone = parse_in_process(&win10, false).unwrap().records.len();
    let dir = scratch_dir("zip-shared");
    for n in [5_000usize, 65_535] {
        let mut z = Zip::new();
        let m = z.member(STORE, db.clone(), true);
        for i in 0..n {
            let name = format!("C{i}/ProgramData/Microsoft/Network/Downloader/qmgr.db");
            z.entry(name.as_bytes(), m);
        }
        let path = dir.join(format!("shared-{n}.zip"));
        std::fs::write(&path, z.bytes()).unwrap();
        eprintln!(
            "{n} entries: a {} byte zip",
            std::fs::metadata(&path).unwrap().len()
        );
        let p = path.clone();
        let (parsed, peak, _) = bounded(&format!("{n} entries, one member"), 20, move || {
            parse_in_process(&p, false)
        });
        let parsed = parsed.unwrap();
        assert_eq!(parsed.records.len(), alone);
        assert!(
            parsed.warnings.iter().any(|w| w
                .what
                .contains(&format!("{n} entries share the local header here"))),
            "{:?}",
            parsed.warnings
        );
        assert!(peak < 64 << 20, "peak heap {peak}");
        let (code, out, err) = run(&["parse", "--format", "jsonl", path.to_str().unwrap()], 30);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(out.lines().count(), alone);
        assert!(err.lines().count() < 10, "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A 512 MiB zero bomb named by 16 entries (a 0.5 MB zip), 16 distinct 32 MiB bombs, and a
/// member declaring 4 KiB that inflates to 32 MiB: one budget for the archive (64 MiB + 32 ×
/// its size), one member inflated at a time, a lying size cut where it was declared.
#[test]
fn zero_bombs_stay_within_the_archives_budget() {
    let _one = serial();
    let dir = scratch_dir("zip-bombs");
    let zeros = |n: usize| vec![0u8; n];
    // One member, 16 names.
    let mut z = Zip::new();
    let m = z.member(STORE, zeros(512 << 20), true);
    for i in 0..16 {
        z.entry(format!("{i}/qmgr.db").as_bytes(), m);
    }
    let one = dir.join("one.zip");
    std::fs::write(&one, z.bytes()).unwrap();
    drop(z);
    // 16 members of 32 MiB, distinct.
    let mut z = Zip::new();
    for i in 0..16 {
        let m = z.member(format!("{i}/qmgr.db").as_bytes(), zeros(32 << 20), true);
        z.entry(format!("{i}/qmgr.db").as_bytes(), m);
    }
    let many = dir.join("many.zip");
    std::fs::write(&many, z.bytes()).unwrap();
    drop(z);
    // A member declaring 4 KiB.
    let mut z = Zip::new();
    let m = z.member(STORE, zeros(32 << 20), true);
    z.members[m].3 = 4096;
    z.entry(STORE, m);
    let liar = dir.join("liar.zip");
    std::fs::write(&liar, z.bytes()).unwrap();
    drop(z);

    for (path, want) in [
        (&one, "would pass the archive's budget"),
        (&many, "would pass the archive's budget"),
        (
            &liar,
            "inflates past its declared size of 4096 bytes: cut there",
        ),
    ] {
        let size = std::fs::metadata(path).unwrap().len();
        let p = path.clone();
        let name = format!(
            "{} ({size} bytes)",
            path.file_name().unwrap().to_string_lossy()
        );
        let (parsed, peak, took) = bounded(&name, 20, move || {
            let mut parsed = Parsed::default();
            let r = pipeline::run_file(&p, &Options::default(), &mut parsed);
            (r.map_err(|e| e.to_string()), parsed)
        });
        let (result, parsed) = parsed;
        assert!(
            parsed.warnings.iter().any(|w| w.what.contains(want)),
            "{name}: {:?}",
            parsed.warnings
        );
        // Zeros are no store: nothing readable, the input fails as a bare file would.
        let err = result.unwrap_err();
        assert!(err.contains("zip: none of its"), "{name}: {err}");
        // At most one 32 MiB member in memory at once (plus its growth), never the budget.
        assert!(peak < 100 << 20, "{name}: peak heap {peak}");
        assert!(took < Duration::from_secs(10), "{name}: {took:?}");
        let (code, _, err) = run(&["parse", path.to_str().unwrap()], 30);
        assert_eq!(code, Some(1), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A member whose data lies inside another's (its local header in the first member's bytes):
/// read once, the overlap named.
#[test]
fn overlapping_members_are_read_once() {
    let _one = serial();
    let Some(win10) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let db = std::fs::read(&win10).unwrap();
    // Member 0 (stored) holds, 100 bytes in, a whole local header and data of member 1.
    let mut inner = Zip::new();
    inner.member(b"x/qmgr.db", db.clone(), false);
    let inner_bytes = inner.bytes();
    let inner_len = 30 + 9 + db.len();
    let mut outer_data = vec![0u8; 100];
    outer_data.extend_from_slice(&inner_bytes[..inner_len]);
    let mut z = Zip::new();
    let a = z.member(STORE, outer_data, false);
    z.entry(STORE, a);
    let mut bytes = z.bytes();
    // A second central entry, pointing 30 + name + 100 bytes into member 0: at member 1's
    // local header. The directory is rebuilt with it.
    let local_b = (30 + STORE.len() + 100) as u32;
    let dir_at = u32::from_le_bytes(bytes[bytes.len() - 6..bytes.len() - 2].try_into().unwrap());
    let mut dir = bytes[dir_at as usize..bytes.len() - 22].to_vec();
    let mut e = dir.clone();
    let name_b = b"x/qmgr.db";
    e.truncate(46);
    e[20..24].copy_from_slice(&(db.len() as u32).to_le_bytes());
    e[24..28].copy_from_slice(&(db.len() as u32).to_le_bytes());
    e[16..20].copy_from_slice(&crc32(&db).to_le_bytes());
    e[28..30].copy_from_slice(&(name_b.len() as u16).to_le_bytes());
    e[42..46].copy_from_slice(&local_b.to_le_bytes());
    e.extend_from_slice(name_b);
    dir.extend_from_slice(&e);
    bytes.truncate(dir_at as usize);
    bytes.extend_from_slice(&dir);
    bytes.extend_from_slice(b"PK\x05\x06\0\0\0\0\x02\0\x02\0");
    bytes.extend_from_slice(&(dir.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&dir_at.to_le_bytes());
    bytes.extend_from_slice(&0u16.to_le_bytes());
    let dir_ = scratch_dir("zip-overlap");
    let path = dir_.join("overlap.zip");
    std::fs::write(&path, &bytes).unwrap();
    let (code, out, err) = run(&["parse", "--format", "jsonl", path.to_str().unwrap()], 30);
    // Member 0 holds no BITS store at its start (100 zero bytes, then a zip header): it is
    // read and found not one; member 1 is not read at all.
    assert!(
        err.contains("zip: x/qmgr.db: its data overlaps `C/ProgramData/Microsoft/Network/Downloader/qmgr.db`'s: not read"),
        "{err}"
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(out.trim().is_empty(), "{out}");
    let _ = std::fs::remove_dir_all(&dir_);
}

/// Names that are not UTF-8 (no UTF-8 flag: CP437, as the zip spec says) stay distinct and
/// read as Python's zipfile reads them; a wrong CRC-32 and a local header naming another file
/// are reported; the stores are still read.
#[test]
fn names_crc_and_local_headers_are_checked() {
    let _one = serial();
    let Some(win10) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let db = std::fs::read(&win10).unwrap();
    let mut z = Zip::new();
    let a = z.member(b"\xff\xfe/qmgr.db", db.clone(), true);
    let b = z.member(b"\xfe\xff/qmgr.db", db.clone(), false);
    let c = z.member(b"local/qmgr.db", db.clone(), true);
    z.crc[b] = Some(0x1234_5678);
    z.entry(b"\xff\xfe/qmgr.db", a);
    z.entry(b"\xfe\xff/qmgr.db", b);
    z.entry(b"central/qmgr.db", c);
    let dir = scratch_dir("zip-names");
    let path = dir.join("names.zip");
    std::fs::write(&path, z.bytes()).unwrap();
    let (code, out, err) = run(&["parse", "--format", "jsonl", path.to_str().unwrap()], 30);
    assert_eq!(code, Some(0), "{err}");
    let mut chains = std::collections::BTreeSet::new();
    for l in out.lines() {
        let r: serde_json::Value = serde_json::from_str(l).unwrap();
        let src = if r["job_source"].is_object() {
            &r["job_source"]
        } else {
            &r["file_source"]
        };
        chains.insert(src["container_chain"][1].as_str().unwrap().to_string());
    }
    // Python's zipfile: names without the UTF-8 flag are CP437.
    let python = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))",
        ])
        .arg(&path)
        .output();
    let names: std::collections::BTreeSet<String> = match python {
        Ok(o) if o.status.success() => String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect(),
        _ => {
            common::skip("python3 not found");
            return;
        }
    };
    assert_eq!(chains, names);
    assert_eq!(chains.len(), 3);
    assert!(chains.contains("\u{a0}\u{25a0}/qmgr.db") && chains.contains("\u{25a0}\u{a0}/qmgr.db"));
    // Shown escaped, never alike (the CRC warning names the second).
    assert!(err.contains("\u{25a0}\\u{a0}/qmgr.db"), "{err}");
    assert!(
        err.contains("CRC-32") && err.contains("0x12345678 recorded"),
        "{err}"
    );
    assert!(
        err.contains("zip: central/qmgr.db: the local header here names `local/qmgr.db`"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The test disk with its MBR replaced by a protective MBR and a GPT of 1,024 entries, every
/// one naming the NTFS partition: one volume read, its records once, the overlap named.
#[test]
fn a_gpt_naming_one_partition_1024_times_is_one_volume() {
    let _one = serial();
    let Some(img) = disk_image::disk_image() else {
        return;
    };
    let dir = scratch_dir("gpt-1024");
    let path = dir.join("gpt.raw");
    std::fs::copy(&img.path, &path).unwrap();
    let sectors = disk_image::DISK / 512;
    let first = disk_image::PART_SECTOR;
    let mut mbr = vec![0u8; 512];
    mbr[446 + 4] = 0xee;
    mbr[446 + 8..446 + 12].copy_from_slice(&1u32.to_le_bytes());
    mbr[446 + 12..446 + 16].copy_from_slice(&((sectors - 1) as u32).to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    let mut hdr = vec![0u8; 512];
    hdr[..8].copy_from_slice(b"EFI PART");
    hdr[72..80].copy_from_slice(&2u64.to_le_bytes());
    hdr[80..84].copy_from_slice(&1024u32.to_le_bytes());
    hdr[84..88].copy_from_slice(&128u32.to_le_bytes());
    let mut entries = vec![0u8; 1024 * 128];
    // The MBR partition's size: its entry's sector count.
    let orig = std::fs::read(&img.path).unwrap();
    let count = u64::from(u32::from_le_bytes(
        orig[446 + 12..446 + 16].try_into().unwrap(),
    ));
    drop(orig);
    for e in entries.chunks_exact_mut(128) {
        e[..16].copy_from_slice(&[
            0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44, 0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26,
            0x99, 0xc7,
        ]);
        e[32..40].copy_from_slice(&first.to_le_bytes());
        e[40..48].copy_from_slice(&(first + count - 1).to_le_bytes());
    }
    {
        use std::io::{Seek, SeekFrom};
        let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all(&mbr).unwrap();
        f.write_all(&hdr).unwrap();
        f.seek(SeekFrom::Start(1024)).unwrap();
        f.write_all(&entries).unwrap();
    }
    let t = Instant::now();
    let (code, out, err) = run(
        &[
            "parse",
            "--carve",
            "--format",
            "jsonl",
            path.to_str().unwrap(),
        ],
        60,
    );
    let took = t.elapsed();
    assert_eq!(code, Some(0), "{err}");
    let (_, want, _) = run(
        &[
            "parse",
            "--carve",
            "--format",
            "jsonl",
            img.path.to_str().unwrap(),
        ],
        60,
    );
    eprintln!(
        "GPT of 1,024 entries: {took:?}, {} records ({} bytes) against {} ({} bytes) from the MBR disk",
        out.lines().count(),
        out.len(),
        want.lines().count(),
        want.len()
    );
    assert_eq!(out.lines().count(), want.lines().count());
    assert!(
        err.contains("partition 2 (GPT, offset 1048576) overlaps partition 1 (GPT, offset 1048576): its NTFS volume is read once")
            && err.contains("1019 more partitions overlap one read already"),
        "{err}"
    );
    assert!(took < Duration::from_secs(30));
    let _ = std::fs::remove_dir_all(&dir);
}

/// An E01 of a small media whose volume section says 2^31 sectors (1 TiB): no table is sized
/// by it (its chunks are listed where they lie), carving reads the chunks the file holds.
#[test]
fn an_e01_claiming_two_billion_sectors_sizes_nothing() {
    let _one = serial();
    if Command::new("ewfacquire").arg("-V").output().is_err() {
        common::skip("ewfacquire not installed");
        return;
    }
    let Some(samples) = common::samples_dir() else {
        return;
    };
    let dir = scratch_dir("e01-sectors");
    let raw = dir.join("media.raw");
    bitscope::gen::raw::write_image(&samples, 8 << 20, 4, 9, &raw, true).unwrap();
    let e01 = dir.join("m.E01");
    let ok = Command::new("ewfacquire")
        .args(["-u", "-q", "-c", "deflate:best", "-f", "encase6", "-t"])
        .arg(e01.with_extension(""))
        .arg(&raw)
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let mut bytes = std::fs::read(&e01).unwrap();
    let vol = (0..bytes.len() - 8)
        .find(|&i| &bytes[i..i + 8] == b"volume\0\0")
        .unwrap();
    bytes[vol + 76 + 16..vol + 76 + 24].copy_from_slice(&(1u64 << 31).to_le_bytes());
    std::fs::write(&e01, &bytes).unwrap();
    eprintln!("an E01 of {} bytes claiming 1 TiB", bytes.len());
    let p = e01.clone();
    let (parsed, peak, took) = bounded("2^31 sectors", 20, move || parse_in_process(&p, true));
    let parsed = parsed.unwrap();
    assert_eq!(parsed.records.len(), 4);
    assert!(
        parsed.warnings.iter().any(|w| w
            .what
            .contains("the tables list 256 of the media's 33554432 chunks")),
        "{:?}",
        parsed.warnings
    );
    assert!(peak < 64 << 20, "peak heap {peak}");
    assert!(took < Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The long-value bomb (one value of 4,096 Xpress chunks, 256 MiB from 57 KiB) padded with
/// `truncate -s 8G`: its long-value budget follows the bytes the file holds (its allocated
/// blocks), not its 8 GiB, and it is done at once.
#[test]
fn a_padded_bomb_gets_the_budget_of_its_bytes() {
    let _one = serial();
    let mut db = craft::generated(1);
    craft::with_jobs_rows(&mut db, &craft::rows_sharing(1, craft::LID));
    craft::with_jobs_long_values(&mut db, &craft::bomb_value(craft::LID, 1, 4096));
    let dir = scratch_dir("padded-bomb");
    let path = dir.join("qmgr.db");
    std::fs::write(&path, &db).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(8 << 30).unwrap();
    f.sync_all().unwrap();
    drop(f);
    use std::os::unix::fs::MetadataExt;
    let held = std::fs::metadata(&path).unwrap().blocks() * 512;
    eprintln!("{} bytes written, padded to 8 GiB, {held} held", db.len());
    let limit = (held * 8 + (64 << 20)).min(2 << 30);
    let p = path.clone();
    // Carving walks every page of the 8 GiB (holes read as zeros: seconds on a cold cache);
    // what must not grow with it is the decompression, bounded by the budget.
    let (parsed, peak, took) = bounded("padded bomb", 120, move || parse_in_process(&p, true));
    let parsed = parsed.unwrap();
    let budget = format!("of the database's {limit}-byte long-value budget");
    assert!(
        parsed.warnings.iter().any(|w| w.what.contains(&budget)),
        "{budget}: {:?}",
        parsed.warnings
    );
    assert!(peak < 64 << 20, "peak heap {peak}");
    eprintln!("padded bomb: {took:?}");
    let (code, _, err) = run(&["parse", "--carve", path.to_str().unwrap()], 120);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains(&budget), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
