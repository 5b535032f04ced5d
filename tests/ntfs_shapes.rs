//! NTFS shapes real disks have, each built on this machine (mkntfs, ntfs-3g) and compared with
//! The Sleuth Kit: a store spread over extension records (`$ATTRIBUTE_LIST`: a fragmented
//! store, hundreds of hard links, many named streams), 4Kn volumes bare and behind an MBR
//! counted in 4096-byte sectors, a valid data length short of the file's size, a deleted store
//! whose folders were reused (`$OrphanFiles`), a store in an alternate data stream, and the
//! number of reads the walk makes.
//!
//! Every store's bytes equal `icat`'s, its path `fls -p`'s, and its records those of the same
//! bytes parsed alone.

mod common;
#[path = "common/disk_image.rs"]
mod disk_image;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use bitscope::container::{self, ReadAt};
use bitscope::input::Evidence;
use common::run_bitscope;
use serde_json::Value;

/// `fls -r -p` of a volume (`offset`: `-o` in sectors, or none): (inode spec, path, deleted).
fn fls(image: &Path, extra: &[&str]) -> Vec<(String, String, bool)> {
    let out = Command::new("fls")
        .args(["-r", "-p"])
        .args(extra)
        .arg(image)
        .output()
        .expect("running fls (sleuthkit)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (head, path) = l.split_once(":\t")?;
            let spec = head.split_whitespace().last()?.to_string();
            Some((spec, path.to_string(), head.contains(" * ")))
        })
        .collect()
}

/// The entries `fls` lists whose name (or stream name) is a store's.
fn fls_stores(image: &Path, extra: &[&str]) -> Vec<(String, String, bool)> {
    fls(image, extra)
        .into_iter()
        .filter(|(_, p, _)| {
            let name = p.rsplit('/').next().unwrap_or("");
            let name = name.rsplit(':').next().unwrap_or(name);
            container::is_store_name(name)
        })
        .collect()
}

fn tsk(tool: &str, image: &Path, extra: &[&str], args: &[&str]) -> Vec<u8> {
    let out = Command::new(tool)
        .args(extra)
        .arg(image)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `fls`'s `a/b/qmgr.db` as bitscope writes it: `\a\b\qmgr.db`.
fn ntfs_path(p: &str) -> String {
    format!("\\{}", p.replace('/', "\\"))
}

/// `parse --format jsonl` of `path`: records, stderr, exit code.
fn parse(path: &Path, carve: bool) -> (Vec<Value>, String, i32) {
    let mut args = vec!["parse", "--format", "jsonl"];
    if carve {
        args.push("--carve");
    }
    let out = run_bitscope(args.into_iter().chain([path.to_str().unwrap()]));
    let records = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    (
        records,
        String::from_utf8_lossy(&out.stderr).to_string(),
        out.status.code().unwrap_or(-1),
    )
}

/// A record without what depends on where it was read from.
fn strip(mut r: Value) -> Value {
    r["evidence"] = Value::Null;
    r["host"] = Value::Null;
    // Inside an image a record also carries its payload's MFT facts (the story:
    // tests/story_image.rs); the store's own values are what is compared here.
    if let Some(o) = r.as_object_mut() {
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

/// The records of `bytes` parsed alone (written beside the image).
fn alone(dir: &Path, bytes: &[u8], carve: bool) -> Vec<Value> {
    let path = dir.join("alone.db");
    fs::write(&path, bytes).unwrap();
    let (records, stderr, code) = parse(&path, carve);
    assert_eq!(code, 0, "{stderr}");
    records.into_iter().map(strip).collect()
}

fn last_chain(r: &Value) -> String {
    let src = if r["job_source"].is_object() {
        &r["job_source"]
    } else {
        &r["file_source"]
    };
    src["container_chain"]
        .as_array()
        .and_then(|a| a.last())
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string()
}

/// The stores the container layer finds, with the walks' warnings.
fn stores(image: &Path) -> (Vec<container::Store>, Vec<String>, Vec<Vec<u8>>) {
    let ev = Evidence::open(image).unwrap();
    let found = container::open(&ev).expect("a container");
    let (stores, warnings) = found.all_stores();
    let bytes = stores
        .iter()
        .map(|s| found.read_store(s, container::MAX_STORE).unwrap())
        .collect();
    let mut w: Vec<String> = found.warnings.iter().map(|d| d.to_string()).collect();
    w.extend(warnings.iter().map(|d| d.to_string()));
    (stores, w, bytes)
}

fn win10() -> Option<Vec<u8>> {
    Some(fs::read(common::sample("ese/win10/qmgr.db")?).unwrap())
}

/// Fill the volume mounted at `mnt`, delete every other small file, then write `store` at
/// `dest`: the store lands in the holes, one cluster per run.
fn fragment_then_write(mnt: &Path, dest: &str, store: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    // A pad up to the end of the free space, then cut to leave room for ~1,700 small files.
    let mut pad = fs::File::create(mnt.join("pad.bin"))?;
    let chunk = vec![0x5au8; 1 << 20];
    let mut written = 0u64;
    while pad.write_all(&chunk).is_ok() {
        written += chunk.len() as u64;
    }
    drop(pad);
    let pad = fs::OpenOptions::new()
        .write(true)
        .open(mnt.join("pad.bin"))?;
    pad.set_len(written.saturating_sub(1700 * 4096))?;
    drop(pad);
    fs::create_dir_all(mnt.join("fill"))?;
    let mut n = 0;
    while fs::write(mnt.join(format!("fill/f{n}")), [n as u8; 4096]).is_ok() {
        n += 1;
    }
    for i in (0..=n).step_by(2) {
        let _ = fs::remove_file(mnt.join(format!("fill/f{i}")));
    }
    let dest = mnt.join(dest);
    fs::create_dir_all(dest.parent().unwrap())?;
    fs::write(dest, store)
}

/// Runs of a file as `istat` lists its clusters: one more at each break in the numbering.
fn runs_of(istat: &str) -> usize {
    let clusters: Vec<u64> = istat
        .lines()
        .skip_while(|l| !l.starts_with("Type: $DATA (128-"))
        .skip(1)
        .take_while(|l| !l.starts_with("Type:"))
        .flat_map(|l| l.split_whitespace().filter_map(|t| t.parse().ok()))
        .collect();
    1 + clusters.windows(2).filter(|w| w[1] != w[0] + 1).count()
}

/// The records of the image that come from the store whose chain ends with `path (MFT entry`.
fn records_of(records: &[Value], path: &str) -> Vec<Value> {
    records
        .iter()
        .filter(|r| last_chain(r).starts_with(&format!("{path} (MFT entry ")))
        .cloned()
        .map(strip)
        .collect()
}

#[test]
fn a_fragmented_store_spread_over_extension_records_is_read_whole() {
    let Some(store) = win10() else { return };
    let dir = disk_image::image_dir("frag");
    let img = dir.join("frag.img");
    let dest = "ProgramData/Microsoft/Network/Downloader/qmgr.db";
    let Some(img) = disk_image::ntfs_volume(&img, 64 << 20, &[], &[], &|m| {
        fragment_then_write(m, dest, &store)
    }) else {
        return;
    };
    let listed = fls_stores(&img, &[]);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let (spec, path, _) = &listed[0];
    let inode = spec.split('-').next().unwrap();
    let istat = String::from_utf8_lossy(&tsk("istat", &img, &[], &[inode])).to_string();
    // The shape asked for: an attribute list, and hundreds of runs.
    assert!(istat.contains("$ATTRIBUTE_LIST"), "{istat}");
    let runs = runs_of(&istat);
    assert!(runs >= 300, "{runs} runs");
    let (found, warnings, bytes) = stores(&img);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, ntfs_path(path));
    let icat = tsk("icat", &img, &[], &[inode]);
    assert!(
        bytes[0] == icat && icat == store,
        "bytes differ from icat's"
    );
    let (records, stderr, code) = parse(&img, false);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        records_of(&records, &ntfs_path(path)),
        alone(&dir, &store, false)
    );
    eprintln!("fragmented store: {runs} runs, {} records", records.len());
}

/// Hundreds of hard links: one store (read once) with its names, whatever the count (600
/// `$FILE_NAME`s no longer trip the attribute bound and drop the store); the extension
/// records holding the names are read through the base record, not warned about one by one.
#[test]
fn a_store_with_hundreds_of_hard_links_is_one_store_with_its_names() {
    let Some(store) = win10() else { return };
    let dir = disk_image::image_dir("links");
    for links in [300usize, 600] {
        let img = dir.join(format!("links{links}.img"));
        let Some(img) = disk_image::ntfs_volume(&img, 64 << 20, &[], &[], &|m| {
            fs::create_dir_all(m.join("a"))?;
            fs::write(m.join("a/qmgr.db"), &store)?;
            for i in 1..=links {
                fs::create_dir_all(m.join(format!("d{i}")))?;
                fs::hard_link(m.join("a/qmgr.db"), m.join(format!("d{i}/qmgr.db")))?;
            }
            Ok(())
        }) else {
            return;
        };
        let listed = fls_stores(&img, &[]);
        assert_eq!(listed.len(), links + 1);
        let inodes: BTreeSet<&str> = listed
            .iter()
            .map(|(s, _, _)| s.split('-').next().unwrap())
            .collect();
        assert_eq!(inodes.len(), 1, "one file");
        let inode = *inodes.iter().next().unwrap();
        let istat = String::from_utf8_lossy(&tsk("istat", &img, &[], &[inode])).to_string();
        assert!(istat.contains("$ATTRIBUTE_LIST"));
        let (found, warnings, bytes) = stores(&img);
        assert_eq!(found.len(), 1, "{links} links");
        let names: BTreeSet<String> = listed.iter().map(|(_, p, _)| ntfs_path(p)).collect();
        assert!(names.contains(&found[0].path));
        assert!(bytes[0] == tsk("icat", &img, &[], &[inode]));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains(&format!(
                "one file with {} names (hard links), read once",
                links + 1
            )),
            "{warnings:?}"
        );
        // The real binary under a 60 s watchdog and a 1 GiB address-space cap (it used to
        // drop the store at 600 links and write every record 301 times at 300).
        let start = std::time::Instant::now();
        let out = common::run_bitscope_capped(
            [
                "parse".as_ref(),
                "--format".as_ref(),
                "jsonl".as_ref(),
                img.as_os_str(),
            ],
            60,
            1 << 20,
        );
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let code = out.status.code().unwrap_or(-1);
        assert_eq!(code, 0, "exit {code} (124: the watchdog fired): {stderr}");
        let records: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert!(!stderr.contains("no $DATA attribute"), "{stderr}");
        assert!(!stderr.contains("attributes"), "{stderr}");
        let got: Vec<Value> = records.into_iter().map(strip).collect();
        assert_eq!(
            got,
            alone(&dir, &store, false),
            "{links} links: each record once"
        );
        eprintln!(
            "{links} hard links: one store, {} records, {:?}",
            got.len(),
            start.elapsed()
        );
    }
}

/// A store in an alternate data stream of an ordinary file (`host.txt:qmgr.db`), among 80
/// other streams (so the file's attributes spread over extension records): found, named
/// `file:stream` as `fls` names it, its bytes `icat`'s of that stream.
#[test]
fn a_store_in_an_alternate_data_stream_is_found_among_many_streams() {
    let Some(store) = win10() else { return };
    let dir = disk_image::image_dir("ads");
    let img = dir.join("ads.img");
    let Some(img) =
        disk_image::ntfs_volume(&img, 64 << 20, &[], &["streams_interface=windows"], &|m| {
            fs::write(m.join("host.txt"), b"hello\n")?;
            fs::write(m.join("host.txt:qmgr.db"), &store)?;
            for i in 1..=80 {
                fs::write(m.join(format!("host.txt:stream{i}")), format!("s{i}"))?;
            }
            Ok(())
        })
    else {
        return;
    };
    let listed = fls_stores(&img, &[]);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let (spec, path, _) = &listed[0];
    assert_eq!(path, "host.txt:qmgr.db");
    let (found, warnings, bytes) = stores(&img);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, "\\host.txt:qmgr.db");
    assert_eq!(found[0].name, "qmgr.db");
    assert!(bytes[0] == tsk("icat", &img, &[], &[spec]) && bytes[0] == store);
    let inode = spec.split('-').next().unwrap();
    let istat = String::from_utf8_lossy(&tsk("istat", &img, &[], &[inode])).to_string();
    assert!(istat.contains("$ATTRIBUTE_LIST"), "{istat}");
    let (records, stderr, code) = parse(&img, false);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        records_of(&records, "\\host.txt:qmgr.db"),
        alone(&dir, &store, false)
    );
}

/// A 4Kn volume (4096-byte sectors: 4 KiB records whose fix-ups still stride 512 bytes), bare
/// and behind an MBR whose entries count 4096-byte sectors (`mmls -b 4096` reads it).
#[test]
fn a_4kn_volume_is_read_bare_and_behind_an_mbr_in_4096_byte_sectors() {
    let Some(store) = win10() else { return };
    let dir = disk_image::image_dir("4kn");
    let vol = dir.join("4kn.img");
    let dest = "ProgramData/Microsoft/Network/Downloader/qmgr.db";
    let Some(vol) = disk_image::ntfs_volume(&vol, 64 << 20, &["-s", "4096"], &[], &|m| {
        let d = m.join(dest);
        fs::create_dir_all(d.parent().unwrap())?;
        fs::write(d, &store)
    }) else {
        return;
    };
    let fsstat = String::from_utf8_lossy(&tsk("fsstat", &vol, &[], &[])).to_string();
    assert!(fsstat.contains("Sector Size: 4096"), "{fsstat}");
    let want = alone(&dir, &store, false);
    let (records, stderr, code) = parse(&vol, false);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(records_of(&records, &ntfs_path(dest)), want);

    // The disk: an MBR (LBAs in 4096-byte sectors) with the volume at LBA 256 (1 MiB).
    let disk = dir.join("4kn-disk.raw");
    let vbytes = fs::read(&vol).unwrap();
    let mut d = vec![0u8; 1 << 20];
    d[446 + 4] = 0x07;
    d[446 + 8..446 + 12].copy_from_slice(&256u32.to_le_bytes());
    d[446 + 12..446 + 16].copy_from_slice(&((vbytes.len() / 4096) as u32).to_le_bytes());
    d[510] = 0x55;
    d[511] = 0xaa;
    d.extend_from_slice(&vbytes);
    fs::write(&disk, &d).unwrap();
    let mmls = String::from_utf8_lossy(&tsk("mmls", &disk, &["-b", "4096"], &[])).to_string();
    let row = mmls
        .lines()
        .find(|l| l.contains("NTFS"))
        .unwrap_or_else(|| panic!("{mmls}"));
    let start: u64 = row.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert_eq!(start, 256, "{row}");
    let listed = fls_stores(&disk, &["-b", "4096", "-o", "256"]);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let (found, warnings, bytes) = stores(&disk);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].chain[1],
        "partition 1 (MBR, 4096-byte sectors, offset 1048576)"
    );
    let inode = listed[0].0.split('-').next().unwrap();
    assert!(bytes[0] == tsk("icat", &disk, &["-b", "4096", "-o", "256"], &[inode]));
    let (records, stderr, code) = parse(&disk, false);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(records_of(&records, &ntfs_path(dest)), want);
}

/// The MFT record offset of entry `n` in a fresh volume (its MFT in one run from the boot
/// sector's cluster), and the record size.
fn record_at(vol: &[u8], n: u64) -> (usize, usize) {
    let sector = u64::from(u16::from_le_bytes([vol[11], vol[12]]));
    let cluster = sector * u64::from(vol[13]);
    let mft = u64::from_le_bytes(vol[0x30..0x38].try_into().unwrap()) * cluster;
    let raw = vol[0x40] as i8;
    let size = if raw > 0 {
        raw as u64 * cluster
    } else {
        1u64 << u32::from(raw.unsigned_abs())
    };
    ((mft + n * size) as usize, size as usize)
}

/// The offset of the unnamed `$DATA` attribute in a record (raw bytes: the fix-up positions
/// are not in the attribute headers of a fresh small file).
fn data_attribute(rec: &[u8]) -> usize {
    let mut at = u16::from_le_bytes([rec[0x14], rec[0x15]]) as usize;
    loop {
        let ty = u32::from_le_bytes(rec[at..at + 4].try_into().unwrap());
        let len = u32::from_le_bytes(rec[at + 4..at + 8].try_into().unwrap()) as usize;
        assert!(ty != 0xffff_ffff && len > 0, "no $DATA");
        if ty == 0x80 && rec[at + 9] == 0 {
            return at;
        }
        at += len;
    }
}

/// A store whose valid data length (initialized size) stops short of its size, as a file
/// preallocated with SetValidData or extended without writing leaves it: the clusters past
/// it still hold the old bytes, which `icat` and Windows read as zeros. bitscope reads zeros
/// too, so the store's records are those of `icat`'s bytes, not of the clusters'.
#[test]
fn bytes_past_the_valid_data_length_read_as_zeros() {
    let Some(store) = win10() else { return };
    let dir = disk_image::image_dir("vdl");
    let img = dir.join("vdl.img");
    let dest = "ProgramData/Microsoft/Network/Downloader/qmgr.db";
    let Some(img) = disk_image::ntfs_volume(&img, 64 << 20, &[], &[], &|m| {
        let d = m.join(dest);
        fs::create_dir_all(d.parent().unwrap())?;
        fs::write(d, &store)
    }) else {
        return;
    };
    let listed = fls_stores(&img, &[]);
    let inode: u64 = listed[0].0.split('-').next().unwrap().parse().unwrap();
    // The valid data length cut to 48 pages of 16 KiB: the live job's page (past it) reads
    // as zeros.
    let vdl: u64 = 48 * 16384;
    let mut bytes = fs::read(&img).unwrap();
    let (at, size) = record_at(&bytes, inode);
    let attr = at + data_attribute(&bytes[at..at + size]);
    let field = attr + 0x38;
    assert!(
        (field - at) % 512 < 510 - 8,
        "the initialized size field lies on a fix-up position"
    );
    bytes[field..field + 8].copy_from_slice(&vdl.to_le_bytes());
    fs::write(&img, &bytes).unwrap();
    let istat =
        String::from_utf8_lossy(&tsk("istat", &img, &[], &[&inode.to_string()])).to_string();
    assert!(istat.contains(&format!("init_size: {vdl}")), "{istat}");
    let icat = tsk("icat", &img, &[], &[&inode.to_string()]);
    assert_eq!(icat.len(), store.len());
    assert!(
        icat[vdl as usize..].iter().all(|b| *b == 0),
        "icat reads zeros past it"
    );
    assert!(icat[..vdl as usize] == store[..vdl as usize]);
    let (found, warnings, got) = stores(&img);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(got[0] == icat, "bytes differ from icat's");
    // Provenance: the part past the valid data length is stored nowhere.
    match &found[0].data {
        container::StoreData::Extents(e) => {
            assert_eq!(e.last().unwrap().offset, None);
            assert_eq!(
                e.iter()
                    .filter(|x| x.offset.is_some())
                    .map(|x| x.len)
                    .sum::<u64>(),
                vdl
            );
        }
        other => panic!("{other:?}"),
    }
    let (records, stderr, code) = parse(&img, false);
    assert_eq!(code, 0, "{stderr}");
    let want = alone(&dir, &icat, false);
    assert_eq!(records_of(&records, &ntfs_path(dest)), want);
    assert_ne!(
        want,
        alone(&dir, &store, false),
        "the cut changes the records"
    );
}

/// `remove_dir`, retried while FUSE still counts an unlinked file in the folder (its release
/// of the closed file is asynchronous, even with `hard_remove`: the CI of 7ca021e lost that race
/// once under load), for up to 5 s.
fn remove_dir_settled(dir: &Path) -> std::io::Result<()> {
    let mut tries = 0;
    loop {
        match fs::remove_dir(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            done => return done,
        }
    }
}

/// Deleted stores: one whose folders were deleted and their MFT entries reused by new folders
/// (`fls` names it `$OrphanFiles/qmgr.db`: the parent reference's sequence number no longer
/// matches), one whose folder was deleted but not reused (named through it, as `fls` does).
#[test]
fn a_deleted_store_under_reused_folders_is_an_orphan_as_tsk_names_it() {
    let Some(store) = win10() else { return };
    let dir = disk_image::image_dir("orphan");
    let img = dir.join("orphan.img");
    // `hard_remove`: FUSE releases a closed file asynchronously, and a file unlinked while
    // still open is hidden as `.fuse_hidden…` (its folder then cannot be removed); under load
    // that race was lost.
    let Some(img) = disk_image::ntfs_volume(&img, 64 << 20, &[], &["hard_remove"], &|m| {
        fs::create_dir_all(m.join("Old/Dir"))?;
        fs::create_dir_all(m.join("Kept/Gone"))?;
        fs::write(m.join("Old/Dir/qmgr.db"), &store)?;
        fs::write(m.join("Kept/Gone/qmgr.db"), &store)?;
        for f in ["Old/Dir/qmgr.db", "Kept/Gone/qmgr.db"] {
            fs::File::open(m.join(f))?.sync_all()?;
            fs::remove_file(m.join(f))?;
        }
        remove_dir_settled(&m.join("Old/Dir"))?;
        remove_dir_settled(&m.join("Old"))?;
        remove_dir_settled(&m.join("Kept/Gone"))
    }) else {
        return;
    };
    // A second mount reuses the freed entries of Old and Old\Dir for the new folders.
    disk_image::mounted_do(&img, &[], &|m| fs::create_dir_all(m.join("Games/Saves")))
        .expect("remount");
    let theirs: BTreeSet<(String, bool)> = fls_stores(&img, &[])
        .into_iter()
        .map(|(_, p, d)| (ntfs_path(&p), d))
        .collect();
    assert!(
        theirs.contains(&("\\$OrphanFiles\\qmgr.db".to_string(), true)),
        "{theirs:?}"
    );
    assert!(
        theirs.contains(&("\\Kept\\Gone\\qmgr.db".to_string(), true)),
        "{theirs:?}"
    );
    let (found, _, _) = stores(&img);
    let ours: BTreeSet<(String, bool)> =
        found.iter().map(|s| (s.path.clone(), s.deleted)).collect();
    assert_eq!(ours, theirs);
}

/// Reads of the evidence, counted.
struct Counting<'a> {
    ev: &'a Evidence,
    reads: std::sync::atomic::AtomicU64,
}

impl ReadAt for Counting<'_> {
    fn size(&self) -> u64 {
        self.ev.len()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.ev.read_at(offset, buf)
    }
}

/// The walk reads the image in records and blocks (through a small block cache), never byte
/// by byte: on the test disk (4 stores, 3 logs in 65,536 MFT entries' worth of volume), finding
/// the stores and their paths takes a few dozen reads. (The `ntfs` crate it replaced made
/// 1,219 reads on a disk like it, 924 of them of one byte.)
#[test]
fn the_walk_reads_the_image_in_blocks_not_bytes() {
    let Some(img) = disk_image::disk_image() else {
        return;
    };
    let ev = Evidence::open(&img.path).unwrap();
    let counting = Counting {
        ev: &ev,
        reads: Default::default(),
    };
    let found = container::open(&counting).expect("an MBR");
    let (stores, warnings) = found.all_stores();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        stores.len(),
        img.files.len() + img.logs.iter().filter(|l| l.kept).count()
    );
    let reads = counting.reads.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!("{} stores found in {reads} reads", stores.len());
    assert!(reads <= 64, "{reads} reads");
}

/// The image of a deleted, fragmented store (its clusters free, every other one taken by
/// another file; deleted in a second mount, which wipes the extension record holding its name,
/// so neither `fls` nor bitscope can name it). With `--carve` the free clusters are carved
/// along the deleted file's runs, as the MFT entry still lists them: the records are exactly
/// those carved from `icat`'s copy of the file (same file offsets, lengths and fields), each
/// with its extents in the image split where the runs break; a record carved from free
/// clusters outside any deleted file never reads past the end of its free run (`blkstat`:
/// every cluster it covers unallocated).
#[test]
fn carving_follows_a_deleted_files_runs_and_stops_at_the_end_of_a_free_run() {
    let Some(store) = win10() else { return };
    let dir = disk_image::image_dir("carvefrag");
    let img = dir.join("carvefrag.img");
    let dest = "Temp/qmgr.db";
    let Some(img) = disk_image::ntfs_volume(&img, 64 << 20, &[], &[], &|m| {
        fragment_then_write(m, dest, &store)
    }) else {
        return;
    };
    let listed = fls_stores(&img, &[]);
    assert_eq!(listed.len(), 1);
    let inode = listed[0].0.split('-').next().unwrap().to_string();
    let istat = String::from_utf8_lossy(&tsk("istat", &img, &[], &[&inode])).to_string();
    let runs = runs_of(&istat);
    assert!(runs >= 300, "{runs} runs");
    disk_image::mounted_do(&img, &[], &|m| fs::remove_file(m.join(dest))).expect("remount");
    assert!(fls_stores(&img, &[]).is_empty(), "the name is gone");
    // The runs past the base record's piece lay in the wiped extension record too: `icat`
    // follows the runs the entry still lists, as bitscope does.
    let icat = tsk("icat", &img, &[], &[&inode]);
    assert!(
        icat.len() >= 100 * 4096 && store.starts_with(&icat),
        "{} bytes",
        icat.len()
    );

    // The file's bytes carved alone: its header wiped, so it is carved as raw bytes.
    let mut raw = icat.clone();
    raw[..2 * 16384].fill(0);
    let raw_path = dir.join("raw.bin");
    fs::write(&raw_path, &raw).unwrap();
    let (alone, _, code) = parse(&raw_path, true);
    assert_eq!(code, 0);
    // (`versions` counts copies in the whole carve: the volume's other free clusters hold
    // more copies of some jobs than the file alone.)
    let key = |r: &Value, offset: u64| {
        let mut r = strip(r.clone());
        r["versions"] = Value::Null;
        for s in ["job_source", "file_source"] {
            if let Some(src) = r.get_mut(s).and_then(|v| v.as_object_mut()) {
                src.insert("offset".into(), Value::from(offset));
                src.remove("container");
                src.remove("extents");
                src.remove("also_at");
            }
        }
        r
    };
    let want: BTreeSet<String> = alone
        .iter()
        .map(|r| {
            let src = if r["job_source"].is_object() {
                &r["job_source"]
            } else {
                &r["file_source"]
            };
            key(r, src["offset"].as_u64().unwrap()).to_string()
        })
        .collect();

    let image = fs::read(&img).unwrap();
    let (records, stderr, code) = parse(&img, true);
    assert_eq!(code, 0, "{stderr}");
    let inside = format!(", inside MFT entry {inode} (deleted) at file offset ");
    let mut got = BTreeSet::new();
    let mut split = 0;
    let mut elsewhere = 0;
    for r in &records {
        let last = last_chain(r);
        let src = if r["job_source"].is_object() {
            &r["job_source"]
        } else {
            &r["file_source"]
        };
        let place = &src["in_evidence"];
        let pieces = place["extents"].as_array().unwrap();
        let mut bytes = Vec::new();
        for p in pieces {
            let (o, l) = (
                p["offset"].as_u64().unwrap() as usize,
                p["length"].as_u64().unwrap() as usize,
            );
            bytes.extend_from_slice(&image[o..o + l]);
        }
        assert!(last.starts_with("unallocated cluster "), "{last}");
        if let Some((_, at)) = last.split_once(&inside) {
            let at: usize = at.parse().unwrap();
            let len = src["length"].as_u64().unwrap() as usize;
            assert!(
                bytes == icat[at..at + len],
                "{last}: image bytes differ from icat's"
            );
            got.insert(key(r, at as u64).to_string());
            split += usize::from(pieces.len() > 1);
        } else {
            assert_eq!(pieces.len(), 1, "{place}");
            let o = pieces[0]["offset"].as_u64().unwrap();
            let l = pieces[0]["length"].as_u64().unwrap();
            for c in (o / 4096)..=((o + l - 1) / 4096) {
                let b = String::from_utf8_lossy(&tsk("blkstat", &img, &[], &[&c.to_string()]))
                    .to_string();
                assert!(b.contains("Not Allocated"), "cluster {c}: {b}");
            }
            elsewhere += 1;
        }
    }
    assert_eq!(
        got, want,
        "records along the deleted file's runs vs its bytes carved alone"
    );
    assert!(split > 0, "no record crosses a run break");
    eprintln!(
        "deleted fragmented store ({runs} runs): {} records along its runs ({split} split across runs), {elsewhere} from other free clusters",
        got.len()
    );
}

/// A deleted store whose MFT entry was reused (nothing left to find it by name): with
/// `--carve` the volume's free clusters are carved, each record in the NTFS chain at its
/// cluster; the allocated clusters (here a live copy of the store under another name) are not
/// carved as raw bytes of the whole image.
#[test]
fn a_volume_is_carved_by_allocation_state_when_no_store_is_found_by_name() {
    let Some(store) = win10() else { return };
    let dir = disk_image::image_dir("noname");
    let img = dir.join("noname.img");
    let Some(img) = disk_image::ntfs_volume(&img, 64 << 20, &[], &[], &|m| {
        fs::write(m.join("backup.bin"), &store)?;
        fs::write(m.join("qmgr.db"), &store)?;
        fs::File::open(m.join("qmgr.db"))?.sync_all()?;
        fs::remove_file(m.join("qmgr.db"))
    }) else {
        return;
    };
    // The second mount reuses the deleted store's MFT entry for a file of another name.
    disk_image::mounted_do(&img, &[], &|m| fs::write(m.join("other.txt"), b"x")).expect("remount");
    assert!(fls_stores(&img, &[]).is_empty(), "the store's name is gone");
    let backup = fls(&img, &[])
        .into_iter()
        .find(|(_, p, _)| p == "backup.bin")
        .unwrap();
    let istat = String::from_utf8_lossy(&tsk(
        "istat",
        &img,
        &[],
        &[backup.0.split('-').next().unwrap()],
    ))
    .to_string();
    let taken: BTreeSet<u64> = istat
        .lines()
        .skip_while(|l| !l.starts_with("Type: $DATA (128-"))
        .skip(1)
        .flat_map(|l| l.split_whitespace().filter_map(|t| t.parse::<u64>().ok()))
        .collect();
    let (records, stderr, code) = parse(&img, true);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("carved as raw bytes"), "{stderr}");
    assert!(!records.is_empty());
    for r in &records {
        let src = if r["job_source"].is_object() {
            &r["job_source"]
        } else {
            &r["file_source"]
        };
        let chain: Vec<&str> = src["container_chain"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(chain[..2], ["raw image", "NTFS"]);
        assert!(chain[2].starts_with("unallocated cluster "), "{chain:?}");
        let cluster = src["offset"].as_u64().unwrap() / 4096;
        assert!(
            !taken.contains(&cluster),
            "carved from backup.bin's cluster {cluster}"
        );
    }
    eprintln!(
        "no store by name: {} records from free clusters",
        records.len()
    );
}
