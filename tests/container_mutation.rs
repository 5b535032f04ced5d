//! The disk formats' readers on damaged images: the test disk (see `common/disk_image.rs`) in
//! its E01, VHD and VHDX forms, with random bytes changed in each format's own structures
//! (headers, footers, section descriptors, region tables, BATs) or the file cut short. Every
//! round ends in warnings or fewer stores, never a panic, within seconds and a bounded heap.
//! (The raw disk's MBR and MFT entries are mutated in `images.rs`.)
//!
//! The structures that alias or overlap are mutated too: a GPT of 1,024 entries naming one
//! partition, a dynamic VHD whose block table names one block for every block, a zip whose
//! entries share one member and overlap another: every round stays bounded, and what is
//! carved of a disk (`ReadAt::backed`) never exceeds the file it is in.

mod common;

use bitscope::util::rng::Rng;
#[path = "common/disk_image.rs"]
mod disk_image;
#[path = "common/ntfs_craft.rs"]
mod ntfs_craft;

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bitscope::container::{self, ReadAt};
use bitscope::input::Evidence;
use common::alloc::{LIVE, PEAK};
use disk_image::disk_image;

#[global_allocator]
static GLOBAL: common::alloc::Counting = common::alloc::Counting;

/// The heap counters are process-wide: one test at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A file with some bytes changed and maybe cut short, read by position.
struct Mutated<'a> {
    file: &'a dyn ReadAt,
    patch: BTreeMap<u64, u8>,
    size: u64,
}

impl ReadAt for Mutated<'_> {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let room = usize::try_from(self.size.saturating_sub(offset)).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let n = self.file.read_at(offset, &mut buf[..want])?;
        for (at, b) in self.patch.range(offset..offset + n as u64) {
            buf[(at - offset) as usize] = *b;
        }
        Ok(n)
    }
}

fn make(src: &Path, out: &Path, tool: &str, args: &[&str]) -> bool {
    let _ = std::fs::remove_file(out);
    let mut cmd = Command::new(tool);
    if tool == "qemu-img" {
        cmd.args(["convert", "-f", "raw"])
            .args(args)
            .arg(src)
            .arg(out);
    } else {
        cmd.args(args).arg(out.with_extension("")).arg(src);
    }
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Open the mutated file, read its stores (at most 16 MiB each) and the first MiB of its disk;
/// what would be carved of a VHD or VHDX (blocks stored as they are) is never more than the
/// file holds. (An E01's chunks are compressed: its media may be far larger than its file, as
/// an acquisition of a blank disk is.)
fn exercise(m: &Mutated) -> (usize, usize) {
    let Some(found) = container::open(m) else {
        return (0, 0);
    };
    let (stores, mut warnings) = found.all_stores();
    for s in &stores {
        let _ = found.read_store(s, 16 << 20);
    }
    for v in &found.volumes {
        let free = found.unallocated(v, &mut warnings);
        let _ = found.deleted_files(v, &free, &mut warnings);
    }
    let mut buf = vec![0u8; 64 * 1024];
    for k in 0..16u64 {
        let _ = found.disk.read_at(k * buf.len() as u64, &mut buf);
    }
    if let Some(runs) = found
        .disk
        .backed()
        .filter(|_| found.kind.starts_with("VHD"))
    {
        let carved: u64 = runs.iter().map(|r| r.1).sum();
        assert!(
            carved <= m.size(),
            "{carved} bytes to carve of a {} byte file",
            m.size()
        );
    }
    (stores.len(), found.warnings.len() + warnings.len())
}

/// The structures that alias or overlap, mutated.
#[test]
fn mutated_aliasing_and_overlapping_structures_stay_bounded() {
    let _one = serial();
    let Some(img) = disk_image() else { return };
    let ev = Evidence::open(&img.path).unwrap();
    let mut rng = Rng::new(0x0bad_5eed_1234_5678);

    // A GPT of 1,024 entries, every one the NTFS partition (as a patch over the raw disk).
    let mut mbr = [0u8; 512];
    ev.read_at(0, &mut mbr).unwrap();
    let count = u64::from(u32::from_le_bytes(
        mbr[446 + 12..446 + 16].try_into().unwrap(),
    ));
    let first = disk_image::PART_SECTOR;
    let mut gpt = BTreeMap::new();
    let mut put = |at: u64, bytes: &[u8]| {
        for (i, b) in bytes.iter().enumerate() {
            gpt.insert(at + i as u64, *b);
        }
    };
    put(446, &[0, 0, 0, 0, 0xee, 0, 0, 0]);
    put(446 + 8, &1u32.to_le_bytes());
    put(512, b"EFI PART");
    put(512 + 72, &2u64.to_le_bytes());
    put(512 + 80, &1024u32.to_le_bytes());
    put(512 + 84, &128u32.to_le_bytes());
    for i in 0..1024u64 {
        let e = 1024 + i * 128;
        put(e, &[0xa2, 0xa0, 0xd0, 0xeb]);
        put(e + 32, &first.to_le_bytes());
        put(e + 40, &(first + count - 1).to_le_bytes());
    }
    let clean = Mutated {
        file: &ev,
        patch: gpt.clone(),
        size: ev.len(),
    };
    let found = container::open(&clean).expect("a GPT disk");
    assert_eq!(found.volumes.len(), 1);
    assert!(found.all_stores().0.len() >= 4);
    drop(found);
    mutate(
        "GPT of 1,024 entries naming one partition",
        &ev,
        &gpt,
        &[(0, 1024), (1024, 1024 * 128)],
        200,
        &mut rng,
    );

    // A dynamic VHD whose block table names its first block for every block.
    if Command::new("qemu-img").arg("--version").output().is_ok() {
        let out = img.path.with_file_name("alias.vhd");
        assert!(make(
            &img.path,
            &out,
            "qemu-img",
            &["-O", "vpc", "-o", "subformat=dynamic,force_size=on"]
        ));
        let vhd = Evidence::open(&out).unwrap();
        let mut footer = [0u8; 512];
        vhd.read_at(0, &mut footer).unwrap();
        let hdr = u64::from_be_bytes(footer[16..24].try_into().unwrap());
        let mut dynamic = [0u8; 1024];
        vhd.read_at(hdr, &mut dynamic).unwrap();
        let bat = u64::from_be_bytes(dynamic[16..24].try_into().unwrap());
        let entries = u64::from(u32::from_be_bytes(dynamic[28..32].try_into().unwrap()));
        let mut e = [0u8; 4];
        let mut one = None;
        for i in 0..entries {
            vhd.read_at(bat + i * 4, &mut e).unwrap();
            if e != [0xff; 4] {
                one = Some(e);
                break;
            }
        }
        let one = one.expect("an allocated block");
        let mut alias = BTreeMap::new();
        for i in 0..entries {
            for (k, b) in one.iter().enumerate() {
                alias.insert(bat + i * 4 + k as u64, *b);
            }
        }
        let m = Mutated {
            file: &vhd,
            patch: alias.clone(),
            size: vhd.len(),
        };
        let (_, _) = exercise(&m);
        let found = container::open(&m).expect("a VHD");
        let runs = found.disk.backed().expect("a dynamic disk's blocks");
        assert_eq!(runs.len(), 1, "{runs:?}");
        drop(found);
        mutate(
            "dynamic VHD, every block the first",
            &vhd,
            &alias,
            &[(hdr, 1024), (bat, entries * 4)],
            150,
            &mut rng,
        );
        drop(vhd);
        let _ = std::fs::remove_file(&out);
    }

    // A zip: 2,000 entries sharing one member, and a member whose local header and data lie
    // inside the first one's data.
    let name = b"C/qmgr.db";
    let mut member = vec![7u8; 1_000];
    member.extend_from_slice(b"PK\x03\x04");
    member.extend_from_slice(&[0; 22]);
    member.extend_from_slice(&(name.len() as u16).to_le_bytes());
    member.extend_from_slice(&0u16.to_le_bytes());
    member.extend_from_slice(name);
    member.resize(70_000, 7);
    let inner_local = (30 + name.len() + 1_000) as u32;
    let mut zip = Vec::new();
    zip.extend_from_slice(b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0");
    let mut crc = flate2::Crc::new();
    crc.update(&member);
    zip.extend_from_slice(&crc.sum().to_le_bytes());
    zip.extend_from_slice(&(member.len() as u32).to_le_bytes());
    zip.extend_from_slice(&(member.len() as u32).to_le_bytes());
    zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip.extend_from_slice(name);
    zip.extend_from_slice(&member);
    let dir_at = zip.len() as u32;
    let mut dir = Vec::new();
    for i in 0..2_001u32 {
        // The last entry's local header lies 1,000 bytes inside the member's data.
        let local: u32 = if i == 2_000 { inner_local } else { 0 };
        dir.extend_from_slice(b"PK\x01\x02\x14\0\x14\0\0\0\0\0\0\0\0\0");
        dir.extend_from_slice(&crc.sum().to_le_bytes());
        dir.extend_from_slice(&(member.len() as u32).to_le_bytes());
        dir.extend_from_slice(&(member.len() as u32).to_le_bytes());
        dir.extend_from_slice(&(name.len() as u16).to_le_bytes());
        dir.extend_from_slice(&[0; 12]);
        dir.extend_from_slice(&local.to_le_bytes());
        dir.extend_from_slice(name);
    }
    zip.extend_from_slice(&dir);
    zip.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    zip.extend_from_slice(&2_001u16.to_le_bytes());
    zip.extend_from_slice(&2_001u16.to_le_bytes());
    zip.extend_from_slice(&(dir.len() as u32).to_le_bytes());
    zip.extend_from_slice(&dir_at.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    let found = container::open(&zip).expect("a zip");
    assert_eq!(found.stores.len(), 1);
    assert!(found
        .warnings
        .iter()
        .any(|w| w.what.contains("2000 entries share the local header here")));
    assert!(
        found
            .warnings
            .iter()
            .any(|w| w.what.contains("its data overlaps `C/qmgr.db`'s: not read")),
        "{:?}",
        found.warnings
    );
    drop(found);
    let len = zip.len() as u64;
    mutate(
        "zip of shared and overlapping entries",
        &zip,
        &BTreeMap::new(),
        &[(0, 64), (u64::from(dir_at), len - u64::from(dir_at))],
        300,
        &mut rng,
    );
}

#[test]
fn mutated_e01_vhd_and_vhdx_are_warnings_never_panics() {
    let _one = serial();
    let Some(img) = disk_image() else { return };
    let mut forms: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    if Command::new("qemu-img").arg("--version").output().is_ok() {
        forms.push((
            "m-dynamic.vhd",
            "qemu-img",
            vec!["-O", "vpc", "-o", "subformat=dynamic,force_size=on"],
        ));
        forms.push((
            "m-fixed.vhd",
            "qemu-img",
            vec!["-O", "vpc", "-o", "subformat=fixed,force_size=on"],
        ));
        forms.push((
            "m-dynamic.vhdx",
            "qemu-img",
            vec!["-O", "vhdx", "-o", "subformat=dynamic"],
        ));
    } else {
        common::skip("qemu-img not installed (Debian: qemu-utils)");
    }
    if Command::new("ewfacquire").arg("-V").output().is_ok() {
        let ewf = ["-u", "-q", "-c", "deflate:fast", "-f", "encase6", "-t"];
        forms.push(("m-deflate.E01", "ewfacquire", ewf.to_vec()));
    } else {
        common::skip("ewfacquire not installed (Debian: ewf-tools)");
    }
    let mut rng = Rng::new(0x2545_f491_4f6c_dd1d);
    for (name, tool, args) in forms {
        let out = img.path.with_file_name(name);
        assert!(make(&img.path, &out, tool, &args), "making {name}");
        let ev = Evidence::open(&out).unwrap();
        let size = ev.len();
        let clean = container::open(&ev).expect("a disk format");
        let stores = clean.all_stores().0.len();
        assert!(stores >= 4, "{name}: {} stores", stores);
        drop(clean);
        checksums_are_checked(name, &ev, stores);
        // The structures: the first 4 MiB (VHD's footer copy, dynamic header and BAT; VHDX's
        // headers, region tables, metadata and BAT; E01's header and volume sections) and the
        // last 64 KiB (VHD's footer; E01's table, hash and done sections).
        let regions = [
            (0, (4 << 20).min(size)),
            (size.saturating_sub(64 << 10), 64 << 10),
        ];
        let (mut warned, mut fewer, mut slowest) = (0, 0, Duration::ZERO);
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let rounds = 150;
        for round in 0..rounds {
            let mut patch = BTreeMap::new();
            let (at, len) = regions[rng.below(2) as usize];
            for _ in 0..1 + rng.below(8) {
                let value = match rng.below(4) {
                    0 => 0,
                    1 => 0xff,
                    _ => rng.next_u32() as u8,
                };
                patch.insert(at + rng.below(len), value);
            }
            // One round in five also cuts the file short.
            let cut = if rng.below(5) == 0 {
                rng.below(size)
            } else {
                size
            };
            let m = Mutated {
                file: &ev,
                patch,
                size: cut,
            };
            let t = Instant::now();
            let (n, w) = exercise(&m);
            slowest = slowest.max(t.elapsed());
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "{name}, round {round}: {:?}",
                t.elapsed()
            );
            warned += usize::from(w > 0);
            fewer += usize::from(n < stores);
        }
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
        eprintln!(
            "{name}: {rounds} rounds, {warned} with warnings, {fewer} with fewer stores, \
             slowest {slowest:?}, peak heap {} MiB",
            peak >> 20
        );
        assert!(warned > 0, "{name}: no mutation was noticed");
        // Four stores of ≤ 1.3 MB read back, buffers, and the readers' tables: well under
        // 64 MiB, however the sizes and counts in the headers were changed.
        assert!(peak < 64 << 20, "{name}: peak heap {peak} bytes");
        drop(ev);
        let _ = std::fs::remove_file(&out);
    }
}

/// A byte changed in a checksummed structure's unused part (VHDX: the first header's reserved
/// bytes; E01: the first section descriptor's padding) is a checksum warning, and the disk is
/// read as before.
fn checksums_are_checked(name: &str, ev: &Evidence, stores: usize) {
    let (at, what, offset) = if name.ends_with(".vhdx") {
        ((64 << 10) + 1000, "header at offset 65536: CRC-32C", None)
    } else if name.ends_with(".E01") {
        (13 + 40, "section descriptor: Adler-32", Some(13))
    } else {
        return;
    };
    let m = Mutated {
        file: ev,
        patch: BTreeMap::from([(at, 0x5a)]),
        size: ev.len(),
    };
    let found = container::open(&m).expect("still a disk format");
    assert!(
        found.warnings.iter().any(|w| w.what.contains(what)
            && w.what.contains("(read anyway)")
            && w.offset == offset),
        "{name}: {:?}",
        found.warnings
    );
    assert_eq!(found.warnings.len(), 1, "{name}: {:?}", found.warnings);
    assert_eq!(found.all_stores().0.len(), stores, "{name}");
}

/// Mutate `regions` of `file` over the `base` patch (a few bytes per round, `rounds` rounds):
/// every round within 10 s, the heap within 64 MiB. Returns (rounds with more warnings than
/// the base, rounds with fewer stores).
fn mutate(
    name: &str,
    file: &dyn ReadAt,
    base: &BTreeMap<u64, u8>,
    regions: &[(u64, u64)],
    rounds: usize,
    rng: &mut Rng,
) -> (usize, usize) {
    let clean = exercise(&Mutated {
        file,
        patch: base.clone(),
        size: file.size(),
    });
    let (mut warned, mut fewer, mut slowest) = (0, 0, Duration::ZERO);
    let start = LIVE.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    for round in 0..rounds {
        let mut patch = base.clone();
        let (at, len) = regions[rng.below(regions.len() as u64) as usize];
        for _ in 0..1 + rng.below(8) {
            let value = match rng.below(4) {
                0 => 0,
                1 => 0xff,
                _ => rng.next_u32() as u8,
            };
            patch.insert(at + rng.below(len), value);
        }
        let m = Mutated {
            file,
            patch,
            size: file.size(),
        };
        let t = Instant::now();
        let (n, w) = exercise(&m);
        slowest = slowest.max(t.elapsed());
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{name}, round {round}: {:?}",
            t.elapsed()
        );
        warned += usize::from(w > clean.1);
        fewer += usize::from(n < clean.0);
    }
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(start);
    eprintln!(
        "{name}: {rounds} rounds, {warned} with more warnings, {fewer} with fewer stores, \
         slowest {slowest:?}, peak heap {} MiB",
        peak >> 20
    );
    assert!(peak < 64 << 20, "{name}: peak heap {peak} bytes");
    (warned, fewer)
}

/// The hostile NTFS structures of `ntfs_hostile.rs` mutated further: an MFT aliased onto
/// itself through a dynamic VHD's block table (the table, the MFT's own record and the records
/// that repeat), and a store whose `$ATTRIBUTE_LIST` claims 16 GiB of entries naming its own
/// record (the base record and the list's first MiB). Every round ends in warnings or fewer
/// stores, within seconds and a bounded heap.
#[test]
fn mutated_aliased_mfts_and_self_referencing_lists_are_warnings_never_panics() {
    // The heap is counted process-wide: no other test of this file runs meanwhile.
    let _one = serial();
    if !disk_image::can_make_volumes() {
        return;
    }
    let legacy =
        std::fs::read(common::manifest_dir().join("testdata/legacy/win7-1job.qmgr0.dat")).unwrap();
    let dir = disk_image::image_dir("mutate-hostile");
    let mut rng = Rng::new(0x5851_f42d_4c95_7f2d);

    if Command::new("qemu-img").arg("--version").output().is_ok() {
        let disk: u64 = (16 << 30) + (4 << 20);
        let raw = ntfs_craft::long_mft(&dir, &legacy, "aliased", Some(disk / 512 - 1), disk)
            .expect("a volume");
        let vhd = dir.join("aliased.vhd");
        ntfs_craft::aliased_vhd(&raw, &vhd).expect("qemu-img");
        let _ = std::fs::remove_file(&raw);
        let bytes = std::fs::read(&vhd).unwrap();
        let be64 = |at: usize| u64::from_be_bytes(bytes[at..at + 8].try_into().unwrap());
        let be32 = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
        let dynamic = be64(16) as usize;
        let table = be64(dynamic + 16);
        let entries = u64::from(be32(dynamic + 28));
        // The one block's data: after its 512-byte sector bitmap.
        let block = u64::from(be32(table as usize)) * 512 + 512;
        let (_, mft, _) = ntfs_craft::geometry(&bytes[block as usize..]);
        let ev = Evidence::open(&vhd).unwrap();
        let regions = [
            (table, entries * 4),
            (block + mft, 1024),
            (block + mft, 64 << 10),
            (block, 512),
        ];
        let (warned, _) = mutate(
            "aliased MFT in a VHD",
            &ev,
            &BTreeMap::new(),
            &regions,
            150,
            &mut rng,
        );
        assert!(warned > 0, "no mutation was noticed");
    } else {
        common::skip("qemu-img not installed (Debian: qemu-utils)");
    }

    let crafted = ntfs_craft::self_listing(&dir, &legacy).expect("a volume");
    let ev = Evidence::open(&crafted.path).unwrap();
    let regions = [crafted.record, crafted.list_at, (crafted.list_at.0, 4096)];
    let (warned, _) = mutate(
        "self-referencing attribute list",
        &ev,
        &BTreeMap::new(),
        &regions,
        150,
        &mut rng,
    );
    assert!(warned > 0, "no mutation was noticed");
}

/// The offsets of the NTFS structures a lookup by path walks in the test disk's volume: its
/// first 128 MFT records and every index record (`INDX` at a cluster's start).
fn lookup_regions(ev: &Evidence) -> Vec<(u64, u64)> {
    let part = disk_image::PART_OFFSET;
    let mut boot = [0u8; 512];
    ev.read_at(part, &mut boot).unwrap();
    let cluster = u64::from(u16::from_le_bytes([boot[0x0B], boot[0x0C]])) * u64::from(boot[0x0D]);
    let mft = part + u64::from_le_bytes(boot[0x30..0x38].try_into().unwrap()) * cluster;
    let mut regions = vec![(mft, 128 * 1024)];
    let mut buf = vec![0u8; 1 << 20];
    let mut at = part;
    while at < ev.len() {
        let n = ev.read_at(at, &mut buf).unwrap();
        for c in (0..n).step_by(cluster as usize) {
            if buf[c..].starts_with(b"INDX") {
                regions.push((at + c as u64, 4096));
            }
        }
        at += n as u64;
    }
    regions
}

#[test]
fn the_lookup_by_path_on_damaged_volumes_is_errors_never_panics() {
    // The heap is counted process-wide: no other test of this file runs meanwhile.
    let _one = serial();
    // `container::lookup` (the live host's way to the Downloader folder) over the test disk's
    // volume with bytes changed in its MFT records and index records: an error or fewer files,
    // never a panic, a hang or a balloon.
    use bitscope::container::lookup::Lookup;
    let Some(img) = disk_image() else { return };
    let ev = Evidence::open(&img.path).unwrap();
    let (part, len) = (
        disk_image::PART_OFFSET,
        disk_image::DISK - disk_image::PART_OFFSET,
    );
    let folder = ["ProgramData", "Microsoft", "Network", "Downloader"];
    let look = |disk: &dyn ReadAt| -> Result<usize, String> {
        let mut l = Lookup::open(disk, part, len, &["raw image".into()])?;
        let stores = l
            .folder(&folder, &container::is_wanted_name)?
            .unwrap_or_default();
        for s in &stores {
            let _ = container::read_store(disk, s, 16 << 20);
        }
        let _ = l.file(&[
            "Windows.old",
            "ProgramData",
            "Microsoft",
            "Network",
            "Downloader",
            "qmgr0.dat",
        ]);
        Ok(stores.len())
    };
    let clean = look(&ev).expect("the clean volume");
    assert_eq!(clean, 2, "qmgr.db and edb.log in the Downloader folder");
    let regions = lookup_regions(&ev);
    // The MFT (small folders keep their index in their record) and the large folders' INDX.
    assert!(regions.len() >= 2, "{regions:?}");
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.location().is_some_and(|l| l.file().contains("/ntfs-")) {
            quiet(info);
        }
    }));
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    let (mut failed, mut fewer, mut slowest) = (0, 0, Duration::ZERO);
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let rounds = 2000;
    for round in 0..rounds {
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
        let m = Mutated {
            file: &ev,
            patch,
            size: ev.len(),
        };
        let t = Instant::now();
        match look(&m) {
            Ok(n) => fewer += usize::from(n < clean),
            Err(_) => failed += 1,
        }
        slowest = slowest.max(t.elapsed());
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "round {round}: {:?}",
            t.elapsed()
        );
    }
    let _ = std::panic::take_hook();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    eprintln!(
        "lookup: {rounds} rounds over {} regions, {failed} errors, {fewer} with fewer files, \
         slowest {slowest:?}, peak heap {} MiB",
        regions.len(),
        peak >> 20
    );
    assert!(failed + fewer > 0, "no mutation was noticed");
    assert!(peak < 128 << 20, "peak heap {peak} bytes");
}

/// A patch writing `bytes` at `at`.
fn put(patch: &mut BTreeMap<u64, u8>, at: u64, bytes: &[u8]) {
    for (i, b) in bytes.iter().enumerate() {
        patch.insert(at + i as u64, *b);
    }
}

/// The self-referencing and aliasing structures the first test leaves out, each checked once
/// as made and then mutated: an MBR whose extended partition's EBR names the NTFS partition
/// again (an overlap with the primary entry) and itself as the next EBR (a loop); a dynamic
/// VHDX whose BAT names its first payload block for every entry; an E01 whose first section
/// descriptor names itself as the next section, and one whose chunk table names the first
/// chunk for every chunk. Every round stays within 10 s and 64 MiB of heap.
#[test]
fn mutated_self_references_and_aliased_tables_stay_bounded() {
    let _one = serial();
    let Some(img) = disk_image() else { return };
    let ev = Evidence::open(&img.path).unwrap();
    let mut rng = Rng::new(0x5e1f_4ef0_a11a_5ed0);

    // MBR: entry 2 an extended partition at sector 1, whose EBR there names the NTFS partition
    // (relative start 2047: the primary's sectors again) and, as the next EBR, itself.
    let mut mbr = [0u8; 512];
    ev.read_at(0, &mut mbr).unwrap();
    let count = u32::from_le_bytes(mbr[446 + 12..446 + 16].try_into().unwrap());
    let first = disk_image::PART_SECTOR as u32;
    let entry = |ty: u8, start: u32, len: u32| {
        let mut e = [0u8; 16];
        e[4] = ty;
        e[8..12].copy_from_slice(&start.to_le_bytes());
        e[12..16].copy_from_slice(&len.to_le_bytes());
        e
    };
    let mut ebr = BTreeMap::new();
    put(&mut ebr, 462, &entry(0x05, 1, first + count - 1));
    put(&mut ebr, 512 + 446, &entry(0x07, first - 1, count));
    put(&mut ebr, 512 + 462, &entry(0x05, 0, 1));
    put(&mut ebr, 512 + 510, &[0x55, 0xaa]);
    let m = Mutated {
        file: &ev,
        patch: ebr.clone(),
        size: ev.len(),
    };
    let found = container::open(&m).expect("an MBR disk");
    let (stores, warnings) = found.all_stores();
    let said: Vec<String> = found
        .warnings
        .iter()
        .chain(&warnings)
        .map(|w| w.what.clone())
        .collect();
    eprintln!(
        "EBR naming itself and the primary again: {} volume(s), {} stores, {said:?}",
        found.volumes.len(),
        stores.len()
    );
    assert_eq!(found.volumes.len(), 1, "{said:?}");
    assert!(stores.len() >= 4);
    assert!(said.iter().any(|w| w.contains("loops")), "{said:?}");
    drop(found);
    mutate(
        "EBR looping onto itself over the primary",
        &ev,
        &ebr,
        &[(446, 64), (512 + 446, 66)],
        200,
        &mut rng,
    );

    // VHDX: every BAT entry the first payload block's.
    if Command::new("qemu-img").arg("--version").output().is_ok() {
        let out = img.path.with_file_name("alias.vhdx");
        assert!(make(
            &img.path,
            &out,
            "qemu-img",
            &["-O", "vhdx", "-o", "subformat=dynamic"]
        ));
        let vhdx = Evidence::open(&out).unwrap();
        // The region table at 192 KiB: 16-byte header, then 32-byte entries (GUID, offset,
        // length, required); the BAT's GUID is 2DC27766-F623-4200-9D64-115E9BFD4A08.
        let bat_guid = [
            0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00, 0x42, 0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd,
            0x4a, 0x08,
        ];
        let mut table = [0u8; 16 + 32 * 8];
        vhdx.read_at(192 << 10, &mut table).unwrap();
        let (bat, len) = table[16..]
            .chunks(32)
            .find(|e| e[..16] == bat_guid)
            .map(|e| {
                (
                    u64::from_le_bytes(e[16..24].try_into().unwrap()),
                    u64::from(u32::from_le_bytes(e[24..28].try_into().unwrap())),
                )
            })
            .expect("the BAT region");
        let mut entries = vec![0u8; len as usize];
        vhdx.read_at(bat, &mut entries).unwrap();
        let one = entries
            .chunks(8)
            .find(|e| e[0] & 7 == 6)
            .expect("a fully present block")
            .to_vec();
        let mut alias = BTreeMap::new();
        let mut present = 0;
        for (i, e) in entries.chunks(8).enumerate() {
            if e[0] & 7 == 6 {
                put(&mut alias, bat + i as u64 * 8, &one);
                present += 1;
            }
        }
        assert!(present > 1, "{present} blocks present");
        let m = Mutated {
            file: &vhdx,
            patch: alias.clone(),
            size: vhdx.len(),
        };
        let (n, w) = exercise(&m);
        // The blocks carved are the file's, each once: the one block all entries name.
        let found = container::open(&m).expect("a VHDX");
        let runs = found.disk.backed().expect("a dynamic disk's blocks");
        eprintln!(
            "VHDX, {present} blocks all the first: {n} stores, {w} warnings, {} run(s) to carve",
            runs.len()
        );
        assert_eq!(runs.len(), 1, "{runs:?}");
        drop(found);
        mutate(
            "VHDX, every block the first",
            &vhdx,
            &alias,
            &[(bat, len.min(64 << 10)), (192 << 10, 64 << 10)],
            150,
            &mut rng,
        );
        drop(vhdx);
        let _ = std::fs::remove_file(&out);
    } else {
        common::skip("qemu-img not installed (Debian: qemu-utils)");
    }

    // E01: the first section names itself as the next; the chunk table names chunk 0 for all.
    if Command::new("ewfacquire").arg("-V").output().is_ok() {
        let out = img.path.with_file_name("self.E01");
        let args = ["-u", "-q", "-c", "deflate:fast", "-f", "encase6", "-t"];
        assert!(make(&img.path, &out, "ewfacquire", &args));
        let e01 = Evidence::open(&out).unwrap();
        // Section descriptors from offset 13: type (16 bytes), next (u64), size (u64).
        let mut sections = Vec::new();
        let mut at = 13u64;
        while sections.len() < 64 {
            let mut d = [0u8; 76];
            if e01.read_at(at, &mut d).unwrap() < 76 {
                break;
            }
            let kind = String::from_utf8_lossy(&d[..16])
                .trim_end_matches('\0')
                .to_string();
            let next = u64::from_le_bytes(d[16..24].try_into().unwrap());
            sections.push((kind.clone(), at));
            if kind == "done" || next <= at {
                break;
            }
            at = next;
        }
        let mut looped = BTreeMap::new();
        put(&mut looped, 13 + 16, &13u64.to_le_bytes());
        let m = Mutated {
            file: &e01,
            patch: looped.clone(),
            size: e01.len(),
        };
        // Refused for its own reason, said (the chain never reaches the volume section).
        match container::recognize(&m, &|_| None) {
            container::Opened::Refused(r, w) => {
                eprintln!(
                    "E01, first section its own next: refused: {}: {}, {w:?}",
                    r.kind, r.why
                );
                assert!(r.kind.contains("E01"), "{}", r.kind);
                assert_eq!(r.why, "no volume section");
                assert!(
                    w.iter()
                        .any(|d| d.what.contains("the chain of sections ends")),
                    "{w:?}"
                );
            }
            container::Opened::Found(f) => {
                eprintln!("E01, first section its own next: {:?}", f.warnings);
                assert!(!f.warnings.is_empty());
            }
            _ => panic!("an E01 whose section names itself is still an E01"),
        }
        mutate(
            "E01, first section its own next",
            &e01,
            &looped,
            &[(13, 76)],
            100,
            &mut rng,
        );
        // The table section: a 24-byte header (entry count first), then u32 entries.
        let table = sections
            .iter()
            .find(|(k, _)| k == "table")
            .map(|(_, at)| at + 76)
            .expect("a table section");
        let mut head = [0u8; 24];
        e01.read_at(table, &mut head).unwrap();
        let chunks = u64::from(u32::from_le_bytes(head[..4].try_into().unwrap()));
        let mut zero = [0u8; 4];
        e01.read_at(table + 24, &mut zero).unwrap();
        let mut alias = BTreeMap::new();
        for i in 0..chunks {
            put(&mut alias, table + 24 + i * 4, &zero);
        }
        let m = Mutated {
            file: &e01,
            patch: alias.clone(),
            size: e01.len(),
        };
        let (n, w) = exercise(&m);
        eprintln!(
            "E01, {chunks} table entries naming chunk 0: {n} stores, {w} warnings ({} sections)",
            sections.len()
        );
        mutate(
            "E01, every chunk the first",
            &e01,
            &alias,
            &[(table, 24 + chunks.min(4096) * 4)],
            150,
            &mut rng,
        );
        drop(e01);
        let _ = std::fs::remove_file(&out);
    } else {
        common::skip("ewfacquire not installed (Debian: ewf-tools)");
    }
}
