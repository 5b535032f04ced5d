//! Crafting NTFS structures by hand for the hostile tests: find a record and an attribute in a
//! volume made with mkntfs, patch fields, and lay a disk image out as a dynamic VHD whose
//! block table maps every block onto one.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The boot sector's geometry: (cluster size, MFT offset, record size).
pub fn geometry(vol: &[u8]) -> (u64, u64, u64) {
    let sector = u64::from(u16::from_le_bytes([vol[11], vol[12]]));
    let cluster = sector * u64::from(vol[13]);
    let mft = u64::from_le_bytes(vol[0x30..0x38].try_into().unwrap()) * cluster;
    let raw = vol[0x40] as i8;
    let record = if raw > 0 {
        raw as u64 * cluster
    } else {
        1u64 << u32::from(raw.unsigned_abs())
    };
    (cluster, mft, record)
}

/// The offset of MFT entry `n` in a fresh volume (its MFT in one run from the boot sector's
/// cluster), and the record size.
pub fn record_at(vol: &[u8], n: u64) -> (usize, usize) {
    let (_, mft, size) = geometry(vol);
    ((mft + n * size) as usize, size as usize)
}

/// The offset in `rec` of the first attribute of type `ty` with no name.
pub fn attribute(rec: &[u8], ty: u32) -> Option<usize> {
    let mut at = u16::from_le_bytes([rec[0x14], rec[0x15]]) as usize;
    while at + 8 <= rec.len() {
        let t = u32::from_le_bytes(rec[at..at + 4].try_into().unwrap());
        let len = u32::from_le_bytes(rec[at + 4..at + 8].try_into().unwrap()) as usize;
        if t == 0xffff_ffff || len == 0 {
            return None;
        }
        if t == ty && rec[at + 9] == 0 {
            return Some(at);
        }
        at += len;
    }
    None
}

/// Whether bytes `[at, at + len)` of a record avoid its fix-up positions (the last two bytes
/// of every 512-byte stride), so they can be patched in place.
pub fn clear_of_fixups(at: usize, len: usize) -> bool {
    (at..at + len).all(|o| o % 512 < 510)
}

/// The (first VCN, LCN, clusters) runs of a non-resident attribute at `attr` of `rec`.
pub fn runs(rec: &[u8], attr: usize) -> Vec<(u64, u64, u64)> {
    let mut at = attr + u16::from_le_bytes([rec[attr + 0x20], rec[attr + 0x21]]) as usize;
    let mut out = Vec::new();
    let (mut vcn, mut lcn) = (0u64, 0i64);
    while rec[at] != 0 {
        let (lb, ob) = ((rec[at] & 0x0f) as usize, (rec[at] >> 4) as usize);
        let mut len = 0u64;
        for i in (0..lb).rev() {
            len = len << 8 | rec[at + 1 + i] as u64;
        }
        let mut off = if ob > 0 && rec[at + lb + ob] & 0x80 != 0 {
            -1i64
        } else {
            0
        };
        for i in (0..ob).rev() {
            off = off << 8 | rec[at + 1 + lb + i] as i64;
        }
        lcn += off;
        out.push((vcn, lcn as u64, len));
        vcn += len;
        at += 1 + lb + ob;
    }
    out
}

/// Replace the runs of the non-resident attribute at `attr` of `rec` with one run of `clusters`
/// clusters from `lcn`, and its allocated, data and initialized sizes with `size`. Panics when
/// the run does not fit in the attribute or a field lies on a fix-up position.
pub fn one_run(rec: &mut [u8], attr: usize, lcn: u64, clusters: u64, size: u64) {
    let runs_at = attr + u16::from_le_bytes([rec[attr + 0x20], rec[attr + 0x21]]) as usize;
    let attr_end = attr + u32::from_le_bytes(rec[attr + 4..attr + 8].try_into().unwrap()) as usize;
    let bytes = |v: u64, signed: bool| {
        let mut n = 1;
        while n < 8 && (v >> (8 * n) != 0 || (signed && (v >> (8 * n - 1)) & 1 == 1)) {
            n += 1;
        }
        v.to_le_bytes()[..n].to_vec()
    };
    let (l, o) = (bytes(clusters, false), bytes(lcn, true));
    let mut mp = vec![(o.len() as u8) << 4 | l.len() as u8];
    mp.extend(&l);
    mp.extend(&o);
    mp.push(0);
    assert!(runs_at + mp.len() <= attr_end, "the run does not fit");
    assert!(
        clear_of_fixups(runs_at, mp.len()),
        "the runs lie on a fix-up position"
    );
    rec[runs_at..runs_at + mp.len()].copy_from_slice(&mp);
    // Last VCN, then the three sizes.
    assert!(clear_of_fixups(attr + 0x18, 8) && clear_of_fixups(attr + 0x28, 24));
    rec[attr + 0x18..attr + 0x20].copy_from_slice(&(clusters - 1).to_le_bytes());
    for f in [0x28, 0x30, 0x38] {
        rec[attr + f..attr + f + 8].copy_from_slice(&size.to_le_bytes());
    }
}

/// A dynamic VHD of the raw image `raw` (qemu-img), then its block table made to map every
/// block onto the first allocated one: the VHD's few MB of file stand for `raw`'s whole size,
/// every block the same bytes. `None` without qemu-img.
pub fn aliased_vhd(raw: &Path, out: &Path) -> Option<()> {
    let ok = Command::new("qemu-img")
        .args([
            "convert",
            "-f",
            "raw",
            "-O",
            "vpc",
            "-o",
            "subformat=dynamic,force_size=on",
        ])
        .arg(raw)
        .arg(out)
        .status()
        .ok()?
        .success();
    assert!(ok, "qemu-img convert");
    let mut v = std::fs::read(out).unwrap();
    let be64 = |b: &[u8], at: usize| u64::from_be_bytes(b[at..at + 8].try_into().unwrap());
    let be32 = |b: &[u8], at: usize| u32::from_be_bytes(b[at..at + 4].try_into().unwrap());
    let dynamic = be64(&v, 16) as usize;
    assert_eq!(&v[dynamic..dynamic + 8], b"cxsparse");
    let table = be64(&v, dynamic + 16) as usize;
    let entries = be32(&v, dynamic + 28) as usize;
    let first = (0..entries)
        .map(|i| be32(&v, table + 4 * i))
        .find(|e| *e != u32::MAX)
        .expect("an allocated block");
    for i in 0..entries {
        v[table + 4 * i..table + 4 * i + 4].copy_from_slice(&first.to_be_bytes());
    }
    std::fs::write(out, v).unwrap();
    Some(())
}

/// A 2 MiB volume holding `\qmgr0.dat` (`store`), its boot sector claiming `sectors` sectors and its MFT
/// 16 GiB in one run from where it starts, laid at the start of a sparse raw disk of `disk`
/// bytes.
pub fn long_mft(
    dir: &Path,
    store: &[u8],
    name: &str,
    sectors: Option<u64>,
    disk: u64,
) -> Option<PathBuf> {
    let vol = dir.join(format!("{name}.vol"));
    let vol = super::disk_image::ntfs_volume(&vol, 2 << 20, &[], &[], &|m| {
        fs::write(m.join("qmgr0.dat"), store)
    })?;
    let mut v = fs::read(&vol).unwrap();
    let (cluster, mft, _) = geometry(&v);
    if let Some(s) = sectors {
        v[0x28..0x30].copy_from_slice(&s.to_le_bytes());
    }
    let (at, size) = record_at(&v, 0);
    let data = attribute(&v[at..at + size], 0x80).expect("$MFT's $DATA");
    let mft_bytes: u64 = 16 << 30;
    one_run(
        &mut v[at..at + size],
        data,
        mft / cluster,
        mft_bytes / cluster,
        mft_bytes,
    );
    let raw = dir.join(format!("{name}.raw"));
    fs::write(&raw, &v).unwrap();
    fs::File::options()
        .write(true)
        .open(&raw)
        .unwrap()
        .set_len(disk)
        .unwrap();
    Some(raw)
}

/// A crafted self-referencing attribute list (see [`self_listing`]).
pub struct SelfListing {
    pub path: PathBuf,
    /// The list's first MiB as laid on disk.
    pub list: Vec<u8>,
    /// The base record's number, the entries added that name it, and where it and the list lie.
    pub inode: u64,
    pub selfs: usize,
    pub record: (u64, u64),
    pub list_at: (u64, u64),
}

/// `a/qmgr0.dat` (`store`) with 300 hard links (so its `$ATTRIBUTE_LIST` is non-resident),
/// its list made to claim 16 GiB in one run from the volume's end, its first MiB the real
/// entries followed by entries naming the base record itself.
pub fn self_listing(dir: &Path, store: &[u8]) -> Option<SelfListing> {
    let img =
        super::disk_image::ntfs_volume(&dir.join("selflist.img"), 64 << 20, &[], &[], &|m| {
            fs::create_dir_all(m.join("a"))?;
            fs::write(m.join("a/qmgr0.dat"), store)?;
            for i in 1..=300 {
                fs::create_dir_all(m.join(format!("d{i}")))?;
                fs::hard_link(m.join("a/qmgr0.dat"), m.join(format!("d{i}/qmgr0.dat")))?;
            }
            Ok(())
        })?;
    // The base record: the entry whose list `istat` shows.
    let fls = Command::new("fls")
        .args(["-r", "-p"])
        .arg(&img)
        .output()
        .unwrap();
    let inode: u64 = String::from_utf8_lossy(&fls.stdout)
        .lines()
        .find(|l| l.ends_with("\ta/qmgr0.dat"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.split('-').next())
        .and_then(|s| s.parse().ok())
        .expect("fls lists a/qmgr0.dat");
    let mut v = fs::read(&img).unwrap();
    let (cluster, _, _) = geometry(&v);
    let (at, size) = record_at(&v, inode);
    let rec = &v[at..at + size];
    let list = attribute(rec, 0x20).expect("an $ATTRIBUTE_LIST");
    assert_eq!(rec[list + 8], 1, "non-resident");
    let len = u64::from_le_bytes(rec[list + 0x30..list + 0x38].try_into().unwrap()) as usize;
    let mut bytes = Vec::new();
    for (_, lcn, n) in runs(rec, list) {
        let o = (lcn * cluster) as usize;
        bytes.extend_from_slice(&v[o..o + (n * cluster) as usize]);
    }
    bytes.truncate(len);
    // Entries naming the base record (type $STANDARD_INFORMATION), to 1 MiB.
    let seq = u16::from_le_bytes([rec[0x10], rec[0x11]]) as u64;
    let mut entry = vec![0u8; 0x20];
    entry[..4].copy_from_slice(&0x10u32.to_le_bytes());
    entry[4] = 0x20;
    entry[7] = 0x1a;
    entry[0x10..0x18].copy_from_slice(&(inode | seq << 48).to_le_bytes());
    let selfs = ((1usize << 20) - len) / 0x20;
    for _ in 0..selfs {
        bytes.extend_from_slice(&entry);
    }
    // Laid in the free clusters at the volume's end, the run claiming 16 GiB from there.
    let clusters = (v.len() as u64) / cluster;
    let lcn = clusters - 512;
    let o = (lcn * cluster) as usize;
    v[o..o + bytes.len()].copy_from_slice(&bytes);
    let claimed: u64 = 16 << 30;
    one_run(&mut v[at..at + size], list, lcn, claimed / cluster, claimed);
    let img2 = dir.join("selflist-crafted.img");
    fs::write(&img2, &v).unwrap();
    Some(SelfListing {
        path: img2,
        list: bytes,
        inode,
        selfs,
        record: (at as u64, size as u64),
        list_at: (o as u64, 1 << 20),
    })
}
