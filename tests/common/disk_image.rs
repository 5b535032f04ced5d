//! A raw disk image made on this machine: a 256 MiB disk with an MBR and one NTFS partition at
//! 1 MiB, holding real BITS stores at known paths, one of them deleted.
//!
//! Made with `mkntfs -F -Q` on a file and `ntfs-3g` (FUSE) to write into it; the MBR is a few
//! lines of Rust. `None` (after a SKIP notice, a failure under CI) when mkntfs, ntfs-3g or
//! /dev/fuse are missing, or the mount does not work.
#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::common;

/// The disk's size and the partition's offset (sector 2048).
pub const DISK: u64 = 256 * 1024 * 1024;
pub const PART_SECTOR: u64 = 2048;
pub const PART_OFFSET: u64 = PART_SECTOR * 512;

/// A file put in the volume: its path (from the volume's root, `/`-separated), the file it is
/// a copy of, and whether it is deleted after the copy.
pub struct Placed {
    pub path: &'static str,
    pub source: PathBuf,
    pub deleted: bool,
}

/// A file made for the volume (an ESE log), not a copy of a sample: its path, its bytes, and
/// whether bitscope should list it (beside a BITS store) or pass it over (another database's).
pub struct Log {
    pub path: &'static str,
    pub bytes: Vec<u8>,
    pub kept: bool,
}

pub struct DiskImage {
    pub path: PathBuf,
    pub files: Vec<Placed>,
    pub logs: Vec<Log>,
}

/// The ESE logs: a transaction log beside the live win11 store holding its page images (the
/// database's bytes past its two header pages, so it is no database itself), a reserve log
/// beside the deleted store, and the same transaction log under catroot2 (another ESE
/// database's folder) that must be passed over.
fn logs() -> Option<Vec<Log>> {
    let win11 = fs::read(common::sample("ese/win11/qmgr.db")?).ok()?;
    // The page size is the header's field at 0xEC (16 KiB here).
    let page = u32::from_le_bytes(win11.get(0xEC..0xF0)?.try_into().ok()?) as usize;
    let pages = win11.get(2 * page..)?.to_vec();
    Some(vec![
        Log {
            path: "ProgramData/Microsoft/Network/Downloader/edb.log",
            bytes: pages.clone(),
            kept: true,
        },
        Log {
            path: "Users/analyst/AppData/Local/Temp/edbres00001.jrs",
            bytes: vec![0u8; 64 * 1024],
            kept: true,
        },
        Log {
            path: "Windows/System32/catroot2/edb.log",
            bytes: pages,
            kept: false,
        },
    ])
}

/// The layout: win11 live at the usual place, win10 live under Windows.old with a legacy queue
/// beside it, and a copy of win10 (upper-case name) deleted from a user's temp folder.
fn layout() -> Option<Vec<Placed>> {
    let win11 = common::sample("ese/win11/qmgr.db")?;
    let win10 = common::sample("ese/win10/qmgr.db")?;
    let legacy = common::manifest_dir().join("testdata/legacy/win7-1job.qmgr0.dat");
    Some(vec![
        Placed {
            path: "ProgramData/Microsoft/Network/Downloader/qmgr.db",
            source: win11,
            deleted: false,
        },
        Placed {
            path: "Windows.old/ProgramData/Microsoft/Network/Downloader/qmgr.db",
            source: win10.clone(),
            deleted: false,
        },
        Placed {
            path: "Windows.old/ProgramData/Microsoft/Network/Downloader/qmgr0.dat",
            source: legacy,
            deleted: false,
        },
        Placed {
            path: "Users/analyst/AppData/Local/Temp/QMGR.DB",
            source: win10,
            deleted: true,
        },
    ])
}

pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// The image, made once per test process (under `target/test-images/`).
pub fn disk_image() -> Option<&'static DiskImage> {
    static IMAGE: OnceLock<Option<DiskImage>> = OnceLock::new();
    IMAGE.get_or_init(make).as_ref()
}

fn make() -> Option<DiskImage> {
    for tool in ["mkntfs", "ntfs-3g"] {
        if !have(tool) {
            common::skip(&format!("{tool} not installed (Debian: ntfs-3g)"));
            return None;
        }
    }
    if !Path::new("/dev/fuse").exists() {
        common::skip("/dev/fuse missing: cannot mount an NTFS image with ntfs-3g");
        return None;
    }
    let files = layout()?;
    let logs = logs()?;
    let root = common::manifest_dir().join("target/test-images");
    remove_stale(&root);
    let dir = root.join(format!("disk-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("creating target/test-images");
    let vol = dir.join("volume.ntfs");
    let mnt = dir.join("mnt");
    fs::create_dir_all(&mnt).expect("mount point");
    let f = fs::File::create(&vol).expect("volume file");
    f.set_len(DISK - PART_OFFSET).expect("sizing the volume");
    drop(f);
    let out = Command::new("mkntfs")
        .args([
            "-F",
            "-Q",
            "-q",
            "-s",
            "512",
            "-p",
            &PART_SECTOR.to_string(),
        ])
        .arg(&vol)
        .output()
        .expect("running mkntfs");
    if !out.status.success() {
        common::skip(&format!(
            "mkntfs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
        return None;
    }
    let mut daemon = mount(&vol, &mnt, &[])?;
    let copied = (|| -> std::io::Result<()> {
        for p in &files {
            let dest = mnt.join(p.path);
            fs::create_dir_all(dest.parent().expect("parent"))?;
            fs::copy(&p.source, &dest)?;
        }
        for l in &logs {
            let dest = mnt.join(l.path);
            fs::create_dir_all(dest.parent().expect("parent"))?;
            fs::write(&dest, &l.bytes)?;
        }
        // Delete last, so nothing written afterwards reuses the freed clusters or MFT entry.
        for p in files.iter().filter(|p| p.deleted) {
            fs::File::open(mnt.join(p.path))?.sync_all()?;
            fs::remove_file(mnt.join(p.path))?;
        }
        Ok(())
    })();
    unmount(&mnt, &mut daemon);
    copied.expect("copying the samples into the mounted volume");

    // The disk: an MBR with one NTFS partition (type 0x07) at sector 2048, then the volume.
    let image = dir.join("disk.raw");
    let mut mbr = [0u8; 512];
    let sectors = u32::try_from((DISK - PART_OFFSET) / 512).expect("sector count");
    mbr[446 + 4] = 0x07;
    mbr[446 + 8..446 + 12].copy_from_slice(&(PART_SECTOR as u32).to_le_bytes());
    mbr[446 + 12..446 + 16].copy_from_slice(&sectors.to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    let mut out = fs::File::create(&image).expect("disk image");
    out.write_all(&mbr).expect("writing the MBR");
    out.set_len(PART_OFFSET).expect("padding");
    drop(out);
    let mut out = fs::OpenOptions::new()
        .append(true)
        .open(&image)
        .expect("disk image");
    std::io::copy(&mut fs::File::open(&vol).expect("volume"), &mut out).expect("volume copy");
    drop(out);
    let _ = fs::remove_file(&vol);
    assert_eq!(fs::metadata(&image).expect("image").len(), DISK);
    Some(DiskImage {
        path: image,
        files,
        logs,
    })
}

/// A folder for one test process's images, `target/test-images/NAME-PID` (emptied first;
/// folders of processes gone are removed).
pub fn image_dir(name: &str) -> PathBuf {
    let root = common::manifest_dir().join("target/test-images");
    remove_stale(&root);
    let dir = root.join(format!("{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("creating target/test-images");
    dir
}

/// Tools and /dev/fuse present to make NTFS volumes (a SKIP notice, or a failure under CI,
/// when not).
pub fn can_make_volumes() -> bool {
    for tool in ["mkntfs", "ntfs-3g"] {
        if !have(tool) {
            common::skip(&format!("{tool} not installed (Debian: ntfs-3g)"));
            return false;
        }
    }
    if !Path::new("/dev/fuse").exists() {
        common::skip("/dev/fuse missing: cannot mount an NTFS image with ntfs-3g");
        return false;
    }
    true
}

/// A bare NTFS volume of `size` bytes at `path`, made with `mkntfs` (`args` added, e.g.
/// `-s 4096`), then mounted with ntfs-3g (`opts`) for `fill` to write into, and unmounted.
/// `None` after a SKIP notice when it cannot be made (a failure under CI).
pub fn ntfs_volume(
    path: &Path,
    size: u64,
    args: &[&str],
    opts: &[&str],
    fill: &dyn Fn(&Path) -> std::io::Result<()>,
) -> Option<PathBuf> {
    if !can_make_volumes() {
        return None;
    }
    let _ = fs::remove_file(path);
    fs::File::create(path)
        .and_then(|f| f.set_len(size))
        .expect("volume file");
    let out = Command::new("mkntfs")
        .args(["-F", "-Q", "-q"])
        .args(args)
        .arg(path)
        .output()
        .expect("running mkntfs");
    if !out.status.success() {
        common::skip(&format!(
            "mkntfs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
        return None;
    }
    mounted_do(path, opts, fill)?;
    Some(path.to_path_buf())
}

/// Mount the volume at `path` (ntfs-3g, `opts`), run `fill` in it, unmount. A second mount
/// starts the MFT's free-record search over, so entries freed before it are reused.
pub fn mounted_do(
    path: &Path,
    opts: &[&str],
    fill: &dyn Fn(&Path) -> std::io::Result<()>,
) -> Option<()> {
    let mnt = path.with_extension("mnt");
    fs::create_dir_all(&mnt).expect("mount point");
    let mut daemon = mount(path, &mnt, opts)?;
    let done = fill(&mnt);
    unmount(&mnt, &mut daemon);
    let _ = fs::remove_dir(&mnt);
    done.expect("writing into the mounted volume");
    Some(())
}

/// Images left by earlier test processes (`NAME-PID` folders) whose process is gone.
fn remove_stale(root: &Path) {
    let Ok(dirs) = fs::read_dir(root) else { return };
    for d in dirs.flatten() {
        let name = d.file_name().to_string_lossy().to_string();
        let Some((_, pid)) = name.rsplit_once('-') else {
            continue;
        };
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_dir_all(d.path());
        }
    }
}

pub fn mounted(mnt: &Path) -> bool {
    let Ok(m) = fs::read_to_string("/proc/mounts") else {
        return false;
    };
    let want = mnt.display().to_string();
    m.lines()
        .any(|l| l.split(' ').nth(1) == Some(want.as_str()))
}

/// Mount with ntfs-3g kept in the foreground (`no_detach`), so unmounting can wait for it to
/// finish writing; `opts` are more mount options (`streams_interface=windows`).
pub fn mount(vol: &Path, mnt: &Path, opts: &[&str]) -> Option<Child> {
    let mut o = vec!["no_detach"];
    o.extend_from_slice(opts);
    let mut child = Command::new("ntfs-3g")
        .args(["-o", &o.join(",")])
        .arg(vol)
        .arg(mnt)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let start = Instant::now();
    while !mounted(mnt) {
        if let Ok(Some(status)) = child.try_wait() {
            common::skip(&format!("ntfs-3g could not mount a file image ({status})"));
            return None;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            common::skip("ntfs-3g did not mount the image within 20 s");
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(child)
}

pub fn unmount(mnt: &Path, daemon: &mut Child) {
    let ok = Command::new("umount")
        .arg(mnt)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        let _ = Command::new("fusermount").arg("-u").arg(mnt).status();
    }
    let _ = daemon.wait();
}
