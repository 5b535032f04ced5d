//! Disk images: a raw disk (MBR, NTFS at 1 MiB) made on this machine with mkntfs and ntfs-3g,
//! holding real stores live and deleted (see `common/disk_image.rs`).
//!
//! - `bitscope parse IMAGE` gives exactly the records of each store parsed on its own, with
//!   the store's NTFS path in the provenance, the deleted one marked.
//! - The bytes the container layer reads for each store equal The Sleuth Kit's `icat` for the
//!   same MFT entry (live and deleted), and `fls` lists the same stores.
//! - Mutated images (boot sector, MFT entries, partition table) end in warnings, never a
//!   panic or a hang.

mod common;

use bitscope::util::rng::Rng;
#[path = "common/disk_image.rs"]
mod disk_image;

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;
use std::process::Command;

use bitscope::container::{self, ReadAt};
use bitscope::input::Evidence;
use common::run_bitscope;
use disk_image::{disk_image, PART_OFFSET, PART_SECTOR};
use serde_json::Value;

fn parse_jsonl(path: &Path) -> (Vec<Value>, String) {
    let out = run_bitscope(["parse", "--format", "jsonl", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "parse {}: {stderr}", path.display());
    let records = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    (records, stderr)
}

/// A record without what depends on where it was read from: the evidence name, the
/// container chain and the host named from the path.
fn without_evidence(mut r: Value) -> Value {
    r["evidence"] = Value::Null;
    if let Some(o) = r.as_object_mut() {
        o.remove("host");
        o.remove("host_source");
        // In an image a record also carries what the volume's MFT says of its files (the
        // story: tests/story_image.rs); the store's own values are what is compared here.
        o.remove("story");
    }
    for s in ["job_source", "file_source"] {
        if let Some(src) = r.get_mut(s).and_then(|v| v.as_object_mut()) {
            src.remove("evidence");
            src.remove("container_chain");
            src.remove("in_evidence");
        }
    }
    r
}

fn chain_of(r: &Value) -> Vec<String> {
    let src = if r["job_source"].is_object() {
        &r["job_source"]
    } else {
        &r["file_source"]
    };
    src["container_chain"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// `\Windows.old\...\qmgr0.dat` from `Windows.old/.../qmgr0.dat`.
fn ntfs_path(p: &str) -> String {
    format!("\\{}", p.replace('/', "\\"))
}

#[test]
fn parse_image_gives_each_stores_records_with_its_path() {
    let Some(img) = disk_image() else { return };
    let (records, stderr) = parse_jsonl(&img.path);
    let image_name = img.path.display().to_string();
    let mut by_store: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for r in records {
        assert_eq!(r["evidence"], image_name.as_str());
        let chain = chain_of(&r);
        assert_eq!(chain.len(), 4, "{chain:?}");
        assert_eq!(chain[0], "raw image");
        assert_eq!(chain[1], format!("partition 1 (MBR, offset {PART_OFFSET})"));
        assert_eq!(chain[2], "NTFS");
        by_store.entry(chain[3].clone()).or_default().push(r);
    }
    assert_eq!(
        by_store.len(),
        img.files.len(),
        "stores: {:?}\n{stderr}",
        by_store.keys()
    );
    for placed in &img.files {
        let path = ntfs_path(placed.path);
        let (label, got) = by_store
            .iter()
            .find(|(k, _)| k.starts_with(&format!("{path} (MFT entry ")))
            .unwrap_or_else(|| panic!("no records from {path}: {:?}", by_store.keys()));
        assert_eq!(
            label.ends_with(", deleted)"),
            placed.deleted,
            "{label}: deleted mark"
        );
        let (alone, _) = parse_jsonl(&placed.source);
        assert!(!alone.is_empty(), "{}: no records", placed.source.display());
        let got: Vec<Value> = got.iter().cloned().map(without_evidence).collect();
        let alone: Vec<Value> = alone.into_iter().map(without_evidence).collect();
        assert_eq!(
            got, alone,
            "{label}: records differ from the store parsed alone"
        );
    }
}

/// MFT entry, path and deleted flag of each store `fls` lists in the partition.
fn fls_stores(image: &Path) -> Option<BTreeSet<(u64, String, bool)>> {
    let out = Command::new("fls")
        .args(["-r", "-p", "-o", &PART_SECTOR.to_string()])
        .arg(image)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut set = BTreeSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // `r/r 76-128-2:\tpath` or `-/r * 77-128-2:\tpath`
        let Some((head, path)) = line.split_once(":\t") else {
            continue;
        };
        let name = path.rsplit('/').next().unwrap_or("");
        if !container::is_store_name(name) {
            continue;
        }
        let deleted = head.contains(" * ");
        let inode = head
            .split_whitespace()
            .last()
            .and_then(|t| t.split('-').next())
            .and_then(|t| t.parse().ok())
            .expect("inode");
        set.insert((inode, ntfs_path(path), deleted));
    }
    Some(set)
}

fn icat(image: &Path, inode: u64) -> Vec<u8> {
    let out = Command::new("icat")
        .args(["-o", &PART_SECTOR.to_string()])
        .arg(image)
        .arg(inode.to_string())
        .output()
        .expect("running icat");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn store_bytes_equal_icat_and_fls_lists_the_same_stores() {
    let Some(img) = disk_image() else { return };
    if Command::new("icat").arg("-V").output().is_err() {
        common::skip("icat (sleuthkit) not installed");
        return;
    }
    let ev = Evidence::open(&img.path).unwrap();
    let found = container::open(&ev).expect("an MBR");
    assert!(found.warnings.is_empty(), "{:?}", found.warnings);
    assert_eq!(found.partitions.len(), 1);
    let (stores, warnings) = found.all_stores();
    assert!(warnings.is_empty(), "{warnings:?}");
    let ours: BTreeSet<(u64, String, bool)> = stores
        .iter()
        .filter(|s| container::is_store_name(&s.name))
        .map(|s| (s.mft_entry.unwrap(), s.path.clone(), s.deleted))
        .collect();
    let theirs = fls_stores(&img.path).expect("fls");
    assert_eq!(ours, theirs, "the stores we find vs fls");
    assert_eq!(ours.len(), img.files.len());
    // The logs kept are those beside a store (catroot2's is passed over).
    let logs: BTreeSet<String> = stores
        .iter()
        .filter(|s| container::is_log_name(&s.name))
        .map(|s| s.path.clone())
        .collect();
    let kept: BTreeSet<String> = img
        .logs
        .iter()
        .filter(|l| l.kept)
        .map(|l| ntfs_path(l.path))
        .collect();
    assert_eq!(logs, kept);
    for s in &stores {
        let bytes = container::read_store(&ev, s, container::MAX_STORE).unwrap();
        let oracle = icat(&img.path, s.mft_entry.unwrap());
        assert!(bytes == oracle, "{}: bytes differ from icat's", s.path);
        let made = match img.files.iter().find(|p| ntfs_path(p.path) == s.path) {
            Some(placed) => std::fs::read(&placed.source).unwrap(),
            None => {
                let log = img.logs.iter().find(|l| ntfs_path(l.path) == s.path);
                log.unwrap().bytes.clone()
            }
        };
        assert!(
            bytes == made,
            "{}: bytes differ from the file put there",
            s.path
        );
    }
}

/// The records of `parse IMAGE`, without the evidence name and the chain's first element
/// (what the file is), with the rest of the chain.
fn records_below_the_disk(path: &Path) -> Vec<Value> {
    let (records, _) = parse_jsonl(path);
    records
        .into_iter()
        .map(|r| {
            let chain = chain_of(&r);
            let mut r = without_evidence(r);
            r["chain_below_disk"] = Value::from(chain.get(1..).unwrap_or_default().to_vec());
            r
        })
        .collect()
}

#[test]
fn e01_vhd_and_vhdx_forms_give_the_same_stores_and_records() {
    let Some(img) = disk_image() else { return };
    if Command::new("qemu-img").arg("--version").output().is_err() {
        common::skip("qemu-img not installed (Debian: qemu-utils)");
        return;
    }
    let raw_records = records_below_the_disk(&img.path);
    let raw_ev = Evidence::open(&img.path).unwrap();
    let raw = container::open(&raw_ev).unwrap();
    let (raw_stores, _) = raw.all_stores();
    let raw_bytes: Vec<Vec<u8>> = raw_stores
        .iter()
        .map(|s| raw.read_store(s, container::MAX_STORE).unwrap())
        .collect();
    let qemu = |format: &'static str, options: &'static str| {
        move |src: &Path, out: &Path| {
            Command::new("qemu-img")
                .args(["convert", "-f", "raw", "-O", format, "-o", options])
                .arg(src)
                .arg(out)
                .status()
                .is_ok_and(|s| s.success())
        }
    };
    let ewf = |compression: &'static str, segment: &'static str| {
        move |src: &Path, out: &Path| {
            let _ = std::fs::remove_file(out);
            Command::new("ewfacquire")
                .args([
                    "-u",
                    "-q",
                    "-c",
                    compression,
                    "-S",
                    segment,
                    "-f",
                    "encase6",
                    "-t",
                ])
                .arg(out.with_extension(""))
                .arg(src)
                .stdout(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        }
    };
    type Make = Box<dyn Fn(&Path, &Path) -> bool>;
    let mut forms: Vec<(&str, &str, Make)> = vec![
        (
            "dynamic.vhd",
            "VHD (dynamic)",
            Box::new(qemu("vpc", "subformat=dynamic,force_size=on")),
        ),
        (
            "fixed.vhd",
            "VHD (fixed)",
            Box::new(qemu("vpc", "subformat=fixed,force_size=on")),
        ),
        (
            "dynamic.vhdx",
            "VHDX (dynamic)",
            Box::new(qemu("vhdx", "subformat=dynamic")),
        ),
        (
            "fixed.vhdx",
            "VHDX (fixed)",
            Box::new(qemu("vhdx", "subformat=fixed")),
        ),
    ];
    if Command::new("ewfacquire").arg("-V").output().is_ok() {
        forms.push(("plain.E01", "E01", Box::new(ewf("none", "1GiB"))));
        forms.push(("deflate.E01", "E01", Box::new(ewf("deflate:best", "1GiB"))));
        // Three segment files: .E01, .E02, .E03.
        forms.push(("segmented.E01", "E01", Box::new(ewf("none", "100MiB"))));
    } else {
        common::skip("ewfacquire not installed (Debian: ewf-tools): no E01 forms");
    }
    for (name, kind, make) in forms {
        let out = img.path.with_file_name(name);
        assert!(make(&img.path, &out), "making {name}");
        let ev = Evidence::open(&out).unwrap();
        let more = |n: u32| -> Option<Box<dyn ReadAt>> {
            let seg = Evidence::open(&out.with_extension(format!("E{n:02}"))).ok()?;
            Some(Box::new(seg))
        };
        let found = container::open_with(&ev, &more).expect("a disk format");
        assert_eq!(found.kind, kind);
        assert!(found.warnings.is_empty(), "{name}: {:?}", found.warnings);
        let (stores, warnings) = found.all_stores();
        assert!(warnings.is_empty(), "{name}: {warnings:?}");
        assert_eq!(stores.len(), raw_stores.len(), "{name}");
        for ((s, want), r) in stores.iter().zip(&raw_bytes).zip(&raw_stores) {
            assert_eq!(s.chain[0], kind);
            assert_eq!(s.chain[1..], r.chain[1..], "{name}");
            let got = found.read_store(s, container::MAX_STORE).unwrap();
            assert!(
                &got == want,
                "{name}: {} bytes differ from the raw image's",
                s.path
            );
        }
        let records = records_below_the_disk(&out);
        let (first, _) = parse_jsonl(&out);
        assert!(first.iter().all(|r| chain_of(r)[0] == kind));
        assert_eq!(
            records, raw_records,
            "{name}: records differ from the raw image's"
        );
        drop(found);
        drop(ev);
        let _ = std::fs::remove_file(&out);
        for n in 2..10 {
            let _ = std::fs::remove_file(out.with_extension(format!("E{n:02}")));
        }
    }
}

/// The image with some bytes changed, read by position.
struct Mutated<'a> {
    ev: &'a Evidence,
    patch: BTreeMap<u64, u8>,
}

impl ReadAt for Mutated<'_> {
    fn size(&self) -> u64 {
        self.ev.len()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.ev.read_at(offset, buf)?;
        let end = offset + n as u64;
        for (at, b) in self.patch.range(offset..end) {
            buf[(at - offset) as usize] = *b;
        }
        Ok(n)
    }
}

#[test]
fn mutated_images_are_warnings_never_panics() {
    let Some(img) = disk_image() else { return };
    let ev = Evidence::open(&img.path).unwrap();
    let clean = container::open(&ev).expect("an MBR");
    // Where the interesting structures are: the MBR, the boot sector, and the MFT entries
    // of the stores, of the MFT itself and of the root.
    let mut boot = [0u8; 512];
    ev.read_at(PART_OFFSET, &mut boot).unwrap();
    let cluster = u64::from(u16::from_le_bytes([boot[11], boot[12]])) * u64::from(boot[13]);
    let mft = PART_OFFSET + u64::from_le_bytes(boot[0x30..0x38].try_into().unwrap()) * cluster;
    let mut regions: Vec<(u64, u64)> = vec![(0, 512), (PART_OFFSET, 512)];
    for n in [0u64, 5] {
        regions.push((mft + n * 1024, 1024));
    }
    let (clean_stores, _) = clean.all_stores();
    for s in &clean_stores {
        regions.push((mft + s.mft_entry.unwrap() * 1024, 1024));
    }
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    let mut caught = 0usize;
    let mut warned = 0usize;
    let mut changed = 0usize;
    let start = std::time::Instant::now();
    for round in 0..400 {
        let mut patch = BTreeMap::new();
        let (at, len) = regions[rng.below(regions.len() as u64) as usize];
        for _ in 0..1 + rng.below(8) {
            let value = match rng.below(4) {
                0 => 0,
                1 => 0xff,
                _ => rng.next_u32() as u8,
            };
            patch.insert(at + rng.below(len), value);
        }
        let m = Mutated { ev: &ev, patch };
        let t = std::time::Instant::now();
        let found = container::open(&m);
        assert!(
            t.elapsed().as_secs() < 10,
            "round {round}: {:?} to open a mutated image",
            t.elapsed()
        );
        if let Some(found) = found {
            let (stores, warnings) = found.all_stores();
            assert!(
                t.elapsed().as_secs() < 10,
                "round {round}: {:?} to walk a mutated image",
                t.elapsed()
            );
            warned += usize::from(!found.warnings.is_empty() || !warnings.is_empty());
            changed += usize::from(stores != clean_stores);
            caught += warnings
                .iter()
                .filter(|w| w.what.contains("update sequence"))
                .count();
            for s in &stores {
                let _ = container::read_store(&m, s, container::MAX_STORE);
            }
        }
    }
    eprintln!(
        "mutations: 400 rounds in {:?}: {warned} with warnings, {changed} with other stores; \
         {caught} torn-record warnings",
        start.elapsed()
    );
}

/// A zip archive of `files` (name, bytes, deflate?), written by hand: local headers, data,
/// central directory, end record.
fn zip_of(files: &[(&str, Vec<u8>, bool)]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::new();
    let mut dir = Vec::new();
    for (name, data, deflate) in files {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let packed = if *deflate {
            let mut z =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(data).unwrap();
            z.finish().unwrap()
        } else {
            data.clone()
        };
        let method: u16 = if *deflate { 8 } else { 0 };
        let local = out.len() as u32;
        let fields = |sig: &[u8], central: bool| {
            let mut h = sig.to_vec();
            if central {
                h.extend_from_slice(&20u16.to_le_bytes());
            }
            h.extend_from_slice(&20u16.to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            h.extend_from_slice(&method.to_le_bytes());
            h.extend_from_slice(&[0; 4]);
            h.extend_from_slice(&crc.sum().to_le_bytes());
            h.extend_from_slice(&(packed.len() as u32).to_le_bytes());
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            if central {
                h.extend_from_slice(&[0; 10]);
                h.extend_from_slice(&local.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend(fields(b"PK\x03\x04", false));
        out.extend_from_slice(&packed);
        dir.extend(fields(b"PK\x01\x02", true));
    }
    let dir_at = out.len() as u32;
    out.extend_from_slice(&dir);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(dir.len() as u32).to_le_bytes());
    out.extend_from_slice(&dir_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[test]
fn a_zip_of_collected_files_gives_each_stores_records() {
    let (Some(win11), Some(win10)) = (
        common::sample("ese/win11/qmgr.db"),
        common::sample("ese/win10/qmgr.db"),
    ) else {
        return;
    };
    let legacy = common::manifest_dir().join("testdata/legacy/win7-1job.qmgr0.dat");
    let placed = [
        (
            "C/ProgramData/Microsoft/Network/Downloader/qmgr.db",
            &win11,
            true,
        ),
        (
            "C/Windows.old/ProgramData/Microsoft/Network/Downloader/qmgr.db",
            &win10,
            false,
        ),
        (
            "C/Windows.old/ProgramData/Microsoft/Network/Downloader/QMGR0.DAT",
            &legacy,
            true,
        ),
    ];
    let files: Vec<(&str, Vec<u8>, bool)> = placed
        .iter()
        .map(|(n, p, d)| (*n, std::fs::read(p).unwrap(), *d))
        .collect();
    let dir = common::manifest_dir().join("target/test-images");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("collected-{}.zip", std::process::id()));
    let zip = zip_of(&files);
    std::fs::write(&path, &zip).unwrap();
    let (records, stderr) = parse_jsonl(&path);
    let _ = std::fs::remove_file(&path);
    let mut by_store: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for r in records {
        let chain = chain_of(&r);
        assert_eq!(chain.len(), 2, "{chain:?}");
        assert_eq!(chain[0], "zip");
        by_store.entry(chain[1].clone()).or_default().push(r);
    }
    assert_eq!(
        by_store.len(),
        placed.len(),
        "{:?}\n{stderr}",
        by_store.keys()
    );
    for (name, source, _) in placed {
        let got: Vec<Value> = by_store[name]
            .iter()
            .cloned()
            .map(without_evidence)
            .collect();
        let (alone, _) = parse_jsonl(source);
        let alone: Vec<Value> = alone.into_iter().map(without_evidence).collect();
        assert_eq!(got, alone, "{name}");
    }
    // Mutations of the central directory and end record: warnings, never a panic.
    let dir_at = zip.len() - 22 - 3 * 46 - placed.iter().map(|p| p.0.len()).sum::<usize>();
    let mut rng = Rng::new(0x1234_5678_9abc_def1);
    for _ in 0..500 {
        let mut m = zip.clone();
        for _ in 0..1 + rng.below(6) {
            let at = dir_at + rng.below((zip.len() - dir_at) as u64) as usize;
            m[at] = rng.next_u32() as u8;
        }
        let found = container::open(&m);
        for s in found.iter().flat_map(|f| &f.stores) {
            let _ = container::read_store(&m, s, container::MAX_STORE);
        }
        drop(found);
    }
}

/// The bytes of `in_evidence.extents` (`[{offset, length}]`) in `image`.
fn pieces(extents: &Value, image: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in extents.as_array().expect("extents") {
        let len = e["length"].as_u64().unwrap() as usize;
        match e["offset"].as_u64() {
            Some(at) => out.extend_from_slice(&image[at as usize..at as usize + len]),
            None => out.extend(std::iter::repeat_n(0u8, len)),
        }
    }
    out
}

/// A source's bytes in the file it was read from: its `extents` (`[[offset, length]]`), or
/// its one range.
fn file_bytes(src: &Value, file: &[u8]) -> Vec<u8> {
    let ranges: Vec<(usize, usize)> = match src["extents"].as_array() {
        Some(e) => e
            .iter()
            .map(|p| {
                (
                    p[0].as_u64().unwrap() as usize,
                    p[1].as_u64().unwrap() as usize,
                )
            })
            .collect(),
        None => vec![(
            src["offset"].as_u64().unwrap() as usize,
            src["length"].as_u64().unwrap() as usize,
        )],
    };
    ranges
        .into_iter()
        .flat_map(|(o, l)| file[o..o + l].to_vec())
        .collect()
}

/// `--carve` on the disk: the deleted store's records come out once, read through the store
/// (its freed clusters are carved first, and the finds its records cover are dropped), each
/// with its place in the image: the bytes at `in_evidence` are the record's bytes in the file.
/// (Before, each of them came out a second time as carved from unallocated clusters.)
#[test]
fn carve_reports_the_deleted_stores_records_once_with_their_disk_offsets() {
    let Some(img) = disk_image() else { return };
    let out = run_bitscope([
        "parse",
        "--carve",
        "--format",
        "jsonl",
        img.path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deleted = img.files.iter().find(|p| p.deleted).unwrap();
    let deleted_bytes = std::fs::read(&deleted.source).unwrap();
    let image = std::fs::read(&img.path).unwrap();
    let needle = format!("{} (MFT entry ", ntfs_path(deleted.path));
    let mut places = BTreeSet::new();
    let mut from_store = 0;
    let mut unallocated = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        let chain = chain_of(&r);
        let last = chain.last().unwrap();
        if last.starts_with("unallocated cluster ") {
            unallocated.push(last.clone());
            continue;
        }
        if !last.starts_with(&needle) {
            continue;
        }
        from_store += 1;
        for key in ["job_source", "file_source"] {
            let src = &r[key];
            if !src.is_object() {
                continue;
            }
            let place = &src["in_evidence"];
            assert_eq!(place["coordinate"], "image file");
            let in_image = pieces(&place["extents"], &image);
            let in_file = file_bytes(src, &deleted_bytes);
            assert!(
                in_image == in_file,
                "{last}: the bytes at {place} differ from the file's"
            );
            places.insert(place["offset"].as_u64().unwrap());
        }
    }
    // The store alone gives as many records.
    let alone = run_bitscope([
        "parse",
        "--carve",
        "--format",
        "jsonl",
        deleted.source.to_str().unwrap(),
    ]);
    let alone = String::from_utf8_lossy(&alone.stdout).lines().count();
    assert_eq!(from_store, alone);
    assert!(from_store >= 23, "{from_store}");
    assert!(places.len() >= 23);
    // The free clusters of this disk hold nothing but the deleted copy: no record twice.
    assert!(unallocated.is_empty(), "{unallocated:?}");
}

/// The explorer on the image: every progress message of the load counts the image's bytes
/// (total = image size, done growing while carving, ending at the total), the Evidence column
/// names the image, partition and store path, shortened, and the detail pane the whole chain.
#[test]
fn explorer_shows_the_container_path_and_counts_the_images_bytes() {
    use bitscope::tui::app::App;
    use bitscope::tui::columns::Col;
    use bitscope::tui::store::ViewKind;
    use bitscope::tui::worker::{spawn_load, Msg, Phase};
    use std::time::Duration;

    let Some(img) = disk_image() else { return };
    let (tx, rx) = std::sync::mpsc::channel();
    let _w = spawn_load(vec![img.path.clone()], true, 1, tx);
    let mut gauge = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(60)).expect("load").msg {
            Msg::Progress(p) => gauge.push((p.phase, p.done, p.total)),
            Msg::Finished { .. } => break,
            Msg::Failed(e) => panic!("{e}"),
            _ => {}
        }
    }
    let size = disk_image::DISK;
    assert!(gauge.iter().all(|g| g.2 == size), "{gauge:?}");
    assert_eq!(gauge.last(), Some(&(Phase::Carving, size, size)));
    for phase in [Phase::Reading, Phase::Decoding, Phase::Carving] {
        let done: Vec<u64> = gauge.iter().filter(|g| g.0 == phase).map(|g| g.1).collect();
        assert!(done.windows(2).all(|w| w[0] <= w[1]), "{phase:?}: {done:?}");
    }
    // Carving reads the free clusters (most of the volume) before the stores: the gauge is
    // seen part-way.
    assert!(
        gauge
            .iter()
            .any(|g| g.0 == Phase::Carving && g.1 > 0 && g.1 < size),
        "{gauge:?}"
    );

    let mut app = App::new(bitscope::tui::Options {
        carve: true,
        ..bitscope::tui::Options::default()
    });
    app.resize(200, 40);
    app.open(vec![img.path.clone()]);
    assert!(app.wait_loaded(Duration::from_secs(60)), "load timed out");
    let name = img.path.file_name().unwrap().to_str().unwrap();
    let view = app.store.view(ViewKind::Jobs);
    let cells: BTreeSet<String> = view
        .items
        .iter()
        .map(|i| app.store.cell_text(Col::Evidence, i))
        .collect();
    let want: BTreeSet<String> = [
        "p1 › \\ProgramData\\…\\Downloader\\edb.log",
        "p1 › \\ProgramData\\…\\Downloader\\qmgr.db",
        "p1 › \\Windows.old\\…\\Downloader\\qmgr.db",
        "p1 › \\Windows.old\\…\\Downloader\\qmgr0.dat",
        "p1 › \\Users\\…\\Temp\\QMGR.DB (deleted)",
    ]
    .iter()
    .map(|s| format!("{name} › {s}"))
    .collect();
    assert_eq!(cells, want);
    // The live win10 copy and its deleted copy hold the same jobs: as many rows each, one
    // per store, never one row for both.
    let rows = |end: &str| {
        view.items
            .iter()
            .filter(|i| app.store.cell_text(Col::Evidence, i).ends_with(end))
            .count()
    };
    let deleted = rows("\\Temp\\QMGR.DB (deleted)");
    assert!(deleted >= 23, "{deleted} rows");
    assert_eq!(deleted, rows("Windows.old\\…\\Downloader\\qmgr.db"));
    // `ev:` searches the store's path inside the image too, not only the image's name.
    app.set_filter("ev:temp\\qmgr.db");
    let v = app.store.view(ViewKind::Jobs);
    let kept: BTreeSet<String> = v
        .shown
        .iter()
        .map(|&i| app.store.cell_text(Col::Evidence, &v.items[i as usize]))
        .collect();
    // The deleted store's rows (those carved from its freed clusters are the same records,
    // reported once, through the store).
    let want: BTreeSet<String> = [format!("{name} › p1 › \\Users\\…\\Temp\\QMGR.DB (deleted)")]
        .into_iter()
        .collect();
    assert_eq!(kept, want);
    assert_eq!(v.shown.len(), deleted);
    app.set_filter("");
    let view = app.store.view(ViewKind::Jobs);

    // The detail pane of the deleted store's first row: the whole chain.
    let at = view
        .shown
        .iter()
        .position(|&i| {
            app.store
                .cell_text(Col::Evidence, &view.items[i as usize])
                .ends_with("(deleted)")
        })
        .expect("a row of the deleted store");
    app.store.view_mut(ViewKind::Jobs).sel = at;
    app.view = ViewKind::Jobs;
    let text: Vec<String> = bitscope::tui::ui::detail_lines(&app)
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect();
    let inside = text
        .iter()
        .find(|l| l.trim_start().starts_with("inside"))
        .unwrap_or_else(|| panic!("{text:#?}"));
    let chain = format!(
        "raw image › partition 1 (MBR, offset {PART_OFFSET}) › NTFS › \\Users\\analyst\\AppData\\Local\\Temp\\QMGR.DB (MFT entry "
    );
    assert!(inside.contains(&chain), "{inside}");
    assert!(inside.ends_with(", deleted)"), "{inside}");
}

/// The ESE logs of the BITS database (`edb*.log`, `edb*.jrs`, `qmgr.jfm`) are found beside a
/// store or in a `Network\Downloader` folder, never elsewhere (catroot2 keeps its own
/// `edb.log`); `parse` names them in its warnings, and `--carve` carves them: the records
/// carved from the log in the image are those carved from the log's bytes alone, with the
/// log's NTFS path in their chain.
#[test]
fn ese_logs_beside_a_store_are_listed_and_carved_and_others_passed_over() {
    let Some(img) = disk_image() else { return };
    let (records, stderr) = parse_jsonl(&img.path);
    for l in &img.logs {
        let named = stderr.contains(&format!("{} (MFT entry ", ntfs_path(l.path)));
        assert_eq!(named, l.kept, "{}: {stderr}", l.path);
    }
    assert!(
        stderr.contains("edb.log (MFT entry ")
            && stderr.contains("an ESE log of the BITS database, not read (--carve carves it)"),
        "{stderr}"
    );
    assert!(!stderr.contains("catroot2"), "{stderr}");
    let is_log = |r: &Value| {
        chain_of(r)
            .last()
            .is_some_and(|l| l.starts_with(&format!("{} (MFT entry ", ntfs_path(img.logs[0].path))))
    };
    assert!(
        !records.iter().any(is_log),
        "a log is not read without --carve"
    );

    let out = run_bitscope([
        "parse",
        "--carve",
        "--format",
        "jsonl",
        img.path.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("an ESE log of the BITS database, carved as raw bytes"));
    let key = |r: &Value| {
        let src = if r["job_source"].is_object() {
            &r["job_source"]
        } else {
            &r["file_source"]
        };
        (
            r["job_id"].as_str().unwrap_or("").to_string(),
            r["file_id"].as_str().unwrap_or("").to_string(),
            r["url"].as_str().unwrap_or("").to_string(),
            src["offset"].as_u64().unwrap(),
        )
    };
    let from_log: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &Value| is_log(r))
        .collect();
    assert!(from_log.iter().all(|r| r["carved"] == true));
    let got: BTreeSet<_> = from_log.iter().map(key).collect();

    let alone_path = common::manifest_dir()
        .join("target/test-images")
        .join(format!("edb-{}.log", std::process::id()));
    std::fs::write(&alone_path, &img.logs[0].bytes).unwrap();
    let out = run_bitscope([
        "parse",
        "--carve",
        "--format",
        "jsonl",
        alone_path.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_file(&alone_path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alone: BTreeSet<_> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| key(&serde_json::from_str(l).unwrap()))
        .collect();
    assert_eq!(got, alone);
    let jobs: BTreeSet<&str> = got
        .iter()
        .map(|k| k.0.as_str())
        .filter(|j| !j.is_empty())
        .collect();
    // 28 records of 9 jobs, the 4 live jobs of win11 among them.
    assert_eq!((got.len(), jobs.len()), (28, 9));
    let (live, _) = parse_jsonl(&img.files[0].source);
    for r in &live {
        let id = r["job_id"].as_str().unwrap();
        assert!(
            jobs.contains(id),
            "{id}: a live job not carved from the log"
        );
    }
}

/// A copy of the disk whose deleted store's $DATA attribute is marked NTFS-compressed: the
/// store cannot be read back (a warning says why), and records carved from its clusters name
/// the file and say its offset in the file cannot be told.
#[test]
fn a_compressed_deleted_store_is_named_but_no_file_offset_is_claimed() {
    let Some(img) = disk_image() else { return };
    let ev = Evidence::open(&img.path).unwrap();
    let clean = container::open(&ev).expect("an MBR");
    let (clean_stores, _) = clean.all_stores();
    let deleted = clean_stores.iter().find(|s| s.deleted).expect("deleted");
    let mut boot = [0u8; 512];
    ev.read_at(PART_OFFSET, &mut boot).unwrap();
    let cluster = u64::from(u16::from_le_bytes([boot[11], boot[12]])) * u64::from(boot[13]);
    let mft = PART_OFFSET + u64::from_le_bytes(boot[0x30..0x38].try_into().unwrap()) * cluster;
    let entry = mft + deleted.mft_entry.unwrap() * 1024;
    let mut rec = [0u8; 1024];
    ev.read_at(entry, &mut rec).unwrap();
    // The attributes from the record's first-attribute offset: type 0x80 is $DATA; its flags
    // (u16 at +0x0C) get COMPRESSED (0x0001). The byte lies in the record's first sector,
    // away from the fix-up positions.
    let mut at = usize::from(u16::from_le_bytes([rec[0x14], rec[0x15]]));
    let data = loop {
        let kind = u32::from_le_bytes(rec[at..at + 4].try_into().unwrap());
        let len = u32::from_le_bytes(rec[at + 4..at + 8].try_into().unwrap()) as usize;
        assert!(kind != 0xffff_ffff && len > 0, "no $DATA attribute");
        if kind == 0x80 {
            break at;
        }
        at += len;
    };
    let flags_at = data + 0x0C;
    assert!(flags_at < 510);
    let path = img
        .path
        .with_file_name(format!("compressed-{}.raw", std::process::id()));
    std::fs::copy(&img.path, &path).unwrap();
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.seek(SeekFrom::Start(entry + flags_at as u64)).unwrap();
        f.write_all(&[rec[flags_at] | 1]).unwrap();
    }
    let out = run_bitscope([
        "parse",
        "--carve",
        "--format",
        "jsonl",
        path.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_file(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let name = ntfs_path(img.files.iter().find(|p| p.deleted).unwrap().path);
    assert!(
        stderr.contains(&name) && stderr.contains("NTFS-compressed (LZNT1): not read back"),
        "{stderr}"
    );
    let mut inside = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        let chain = chain_of(&r);
        let last = chain.last().unwrap();
        assert!(
            !last.starts_with(&format!("{name} (MFT entry")),
            "read back: {last}"
        );
        if last.contains(&format!("inside {name} (MFT entry ")) {
            assert!(
                last.ends_with(", NTFS-compressed: its offset in the file cannot be told"),
                "{last}"
            );
            inside += 1;
        }
    }
    assert!(
        inside >= 23,
        "{inside} records carved from the compressed file's clusters"
    );
}

/// The hex view reads through the container chain (issue 17, item 2), and the detail pane
/// names both places (item 1): for a live record of the test disk as a raw image, a
/// three-segment E01 and a dynamic VHDX, `x` opens at the record's place in the evidence as
/// read (`in_evidence`, in its coordinate), the bytes under it are the raw disk's at that
/// offset (what `xxd -s` on the raw image shows: E01 and VHDX logical media are that disk),
/// the record's fields are annotated from them, and the detail pane states the offset.
#[test]
fn the_hex_view_reads_each_record_through_the_containers() {
    use common::tui::{loaded, press, render, typ};
    use crossterm::event::KeyCode;

    let Some(img) = disk_image() else { return };
    let disk = std::fs::read(&img.path).unwrap();
    let dir = disk_image::image_dir("hexview");
    // (file, coordinate, the bytes its offsets count in: the raw disk, or the zip itself)
    let mut forms = vec![(img.path.clone(), "image file", disk.clone())];
    let vhdx = dir.join("hex.vhdx");
    if Command::new("qemu-img")
        .args([
            "convert",
            "-f",
            "raw",
            "-O",
            "vhdx",
            "-o",
            "subformat=dynamic",
        ])
        .arg(&img.path)
        .arg(&vhdx)
        .status()
        .is_ok_and(|s| s.success())
    {
        forms.push((vhdx, "VHDX (dynamic) logical media", disk.clone()));
    } else {
        common::skip("qemu-img not installed (Debian: qemu-utils)");
    }
    let e01 = dir.join("hex.E01");
    if Command::new("ewfacquire")
        .args([
            "-u", "-q", "-c", "none", "-S", "100MiB", "-f", "encase6", "-t",
        ])
        .arg(dir.join("hex"))
        .arg(&img.path)
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        assert!(dir.join("hex.E02").exists(), "more than one segment");
        forms.push((e01, "E01 logical media", disk.clone()));
    } else {
        common::skip("ewfacquire not installed (Debian: ewf-tools)");
    }
    // A zip of collected files, the store stored (not deflated): offsets in the zip file.
    let member = "C/ProgramData/Microsoft/Network/Downloader/qmgr.db";
    let store = std::fs::read(&img.files.iter().find(|f| !f.deleted).unwrap().source).unwrap();
    let stored = zip_of(&[(member, store.clone(), false)]);
    let zip = dir.join("hex.zip");
    std::fs::write(&zip, &stored).unwrap();
    forms.push((zip, "zip file", stored));
    for (path, coordinate, bytes) in forms {
        let mut app = loaded(path.clone(), false, 160, 100);
        press(&mut app, KeyCode::Enter);
        let detail = render(&app);
        let detail: String = detail
            .buffer()
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect();
        typ(&mut app, "x");
        let rec = app.hex_record().expect("a record in the hex view");
        let info = &app.store.rec(rec).info;
        let src = info
            .job_source
            .as_ref()
            .or(info.file_source.as_ref())
            .unwrap();
        let place = src.in_evidence.as_ref().expect("a place in the evidence");
        let at = place.offset.expect("stored in the evidence");
        assert_eq!(place.coordinate, coordinate, "{}", path.display());
        assert_eq!(app.hex.coordinate, coordinate);
        assert!(app.hex.error.is_none(), "{:?}", app.hex.error);
        assert_eq!(app.hex.cursor, at);
        let first = place.extents.first().map_or(src.length, |p| p.length);
        let n = first.min(64) as usize;
        let shown = app.hex.bytes_at(at, n).to_vec();
        assert_eq!(shown.len(), n, "{}", path.display());
        assert_eq!(
            shown,
            bytes[at as usize..at as usize + n],
            "{}",
            path.display()
        );
        assert!(
            !app.hex.fields.is_empty(),
            "{}: no field annotated",
            path.display()
        );
        assert!(
            detail.contains(&format!("{at:#x}")),
            "{}: the detail pane does not state {at:#x}:\n{}",
            path.display(),
            detail
                .as_bytes()
                .chunks(160)
                .map(String::from_utf8_lossy)
                .collect::<Vec<_>>()
                .join("\n")
        );
        eprintln!(
            "{}: hex view at {coordinate} {at:#x}, {} fields annotated, {n} bytes equal those at that offset (raw disk, or the zip file)",
            path.display(),
            app.hex.fields.len()
        );
    }
    // Deflated, the bytes have no place in the zip: the view says so rather than show zeros.
    let deflated = dir.join("deflated.zip");
    std::fs::write(&deflated, zip_of(&[(member, store, true)])).unwrap();
    let mut app = loaded(deflated, false, 160, 100);
    press(&mut app, KeyCode::Enter);
    typ(&mut app, "x");
    let error = app.hex.error.clone().unwrap_or_default();
    assert!(error.starts_with("no bytes to show"), "{error:?}");
    eprintln!("deflated member: {error}");
}
