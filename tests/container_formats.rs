//! Container shapes made on this machine with the tools analysts use (ewfacquire, qemu-img,
//! losetup), read through the real binary and compared with those tools:
//!
//! - E01 past .E99 (`-S 1MiB`: 403 segments, .E01 … .ELR), every segment hashed and counted,
//!   the stored MD5/SHA-1 shown and checked (`--verify`) as `ewfverify` checks them; SMART
//!   (.s01) read with no checksum warning;
//! - disk images of a bare media (no partition table, no NTFS) carved through their media:
//!   the same records at the same offsets as the raw image;
//! - segments missing, swapped or linked to one another: named, and the input fails;
//! - containers refused for their own reasons, and formats not read (qcow2, VMDK), named;
//! - zips inside zips;
//! - a read-only loop device read as the disk it is.

mod common;
#[path = "common/disk_image.rs"]
mod disk_image;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{bitscope_bin, scratch_dir};
use serde_json::Value;

/// A run of the binary under a watchdog.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_within(args: &[&str], limit: Duration) -> Run {
    let out = std::env::temp_dir().join(format!(
        "bitscope-formats-{}-{:?}.out",
        std::process::id(),
        std::thread::current().id()
    ));
    let mut child = Command::new(bitscope_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bitscope");
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("bitscope {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    Run {
        code: status.code(),
        stdout,
        stderr: reader.join().unwrap(),
    }
}

fn have(tool: &str, arg: &str) -> bool {
    let ok = Command::new(tool)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        common::skip(&format!("{tool} not installed"));
    }
    ok
}

/// `ewfacquire` `src` into `out` (its .E01 name), with `args` (format, compression, segment
/// size...).
fn ewfacquire(src: &Path, out: &Path, args: &[&str]) {
    let status = Command::new("ewfacquire")
        .args(["-u", "-q"])
        .args(args)
        .arg("-t")
        .arg(out.with_extension(""))
        .arg(src)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("ewfacquire");
    assert!(status.success(), "ewfacquire {args:?}");
}

/// The hash `ewfverify` computes over the media (`MD5` or `SHA1`), and whether it verified.
fn ewfverify(first: &Path) -> (String, Option<String>, bool) {
    let out = Command::new("ewfverify")
        .args(["-q", "-d", "sha1"])
        .arg(first)
        .output()
        .expect("ewfverify");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().last())
            .map(str::to_string)
    };
    (
        field("MD5 hash calculated over data:").expect("ewfverify's MD5"),
        field("SHA1 hash calculated over data:"),
        text.contains("ewfverify: SUCCESS"),
    )
}

fn records(jsonl: &str) -> Vec<Value> {
    jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// What a carved record is, wherever it was read from: ids, URL and the offsets of its
/// sources.
fn key(r: &Value) -> (String, String, String, Option<u64>, Option<u64>) {
    let off = |s: &str| r[s]["offset"].as_u64();
    (
        r["job_id"].as_str().unwrap_or("").to_string(),
        r["file_id"].as_str().unwrap_or("").to_string(),
        r["url"].as_str().unwrap_or("").to_string(),
        off("job_source"),
        off("file_source"),
    )
}

fn chain(r: &Value) -> Vec<String> {
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

/// A generated raw image of `size` bytes with `plant` records (no partition table).
fn generated_media(dir: &Path, size: u64, plant: usize) -> Option<PathBuf> {
    let samples = common::samples_dir()?;
    let path = dir.join("media.raw");
    bitscope::gen::raw::write_image(&samples, size, plant, 3, &path, true).expect("generate");
    Some(path)
}

fn sha256_hex(path: &Path) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let mut f = std::fs::File::open(path).unwrap();
    std::io::copy(&mut f, &mut h).unwrap();
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// 403 segments of 1 MiB (.E01 … .E99, .EAA … .ELR): every one read, the records those of
/// the raw media (112 planted, at the same offsets), every segment hashed and counted by the
/// driver (the explorer's header and diagnostics), and the stored MD5 checked by `--verify`
/// as `ewfverify` checks it.
#[test]
fn e01_past_e99_is_read_and_hashed_whole() {
    if !have("ewfacquire", "-V") {
        return;
    }
    let dir = scratch_dir("e01-403");
    let Some(raw) = generated_media(&dir, 390 << 20, 112) else {
        return;
    };
    let first = dir.join("big.E01");
    ewfacquire(&raw, &first, &["-c", "none", "-S", "1MiB", "-f", "encase6"]);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_stem().is_some_and(|s| s == "big"))
        .collect();
    files.sort();
    assert!(files.len() > 382, "{} segments", files.len());
    assert!(files.iter().any(|p| p.extension().unwrap() == "ELR"));

    let t = Instant::now();
    let e01 = run_within(
        &[
            "parse",
            "--carve",
            "--verify",
            "--format",
            "jsonl",
            first.to_str().unwrap(),
        ],
        Duration::from_secs(120),
    );
    eprintln!(
        "403 segments: parse --carve --verify in {:?}\n{}",
        t.elapsed(),
        e01.stderr
    );
    assert_eq!(e01.code, Some(0), "{}", e01.stderr);
    let raw_run = run_within(
        &[
            "parse",
            "--carve",
            "--format",
            "jsonl",
            raw.to_str().unwrap(),
        ],
        Duration::from_secs(60),
    );
    let got: BTreeSet<_> = records(&e01.stdout).iter().map(key).collect();
    let want: BTreeSet<_> = records(&raw_run.stdout).iter().map(key).collect();
    assert_eq!(got.len(), 112, "{} records", got.len());
    assert_eq!(got, want, "the E01's records differ from the raw media's");
    assert!(records(&e01.stdout)
        .iter()
        .all(|r| chain(r) == ["E01", "logical media"]));
    // No checksum or segment warning: only the note that the media is carved.
    let warnings: Vec<&str> = e01
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let (md5, _, ok) = ewfverify(&first);
    assert!(ok, "ewfverify fails on the image");
    assert!(
        e01.stderr.contains(&format!(
            "the media's MD5 is {md5}, as the image stores: verified"
        )),
        "{}",
        e01.stderr
    );

    // The driver opens and hashes every segment, and the gauge counts them all.
    use bitscope::pipeline::driver::{self, Inputs, Opened};
    use bitscope::pipeline::{Diagnostic, Phase, Sink, Stop};
    #[derive(Default)]
    struct Seen {
        opened: Vec<Opened>,
        hashing_total: u64,
    }
    impl Sink for Seen {
        fn record(&mut self, _: bitscope::BitsInfo) -> Result<(), Stop> {
            Ok(())
        }
        fn warning(&mut self, _: &Diagnostic) -> Result<(), Stop> {
            Ok(())
        }
        fn progress(&mut self, phase: Phase, _: u64, total: u64) -> Result<(), Stop> {
            if phase == Phase::Hashing {
                self.hashing_total = total;
            }
            Ok(())
        }
        fn opened(&mut self, input: &Opened) -> Result<(), Stop> {
            self.opened.push(input.clone());
            Ok(())
        }
    }
    let mut seen = Seen::default();
    let reports = driver::run_inputs(
        Inputs::find(std::slice::from_ref(&first)),
        &bitscope::pipeline::Options::default(),
        true,
        &mut seen,
    )
    .unwrap();
    let opened = &seen.opened[0];
    assert_eq!(opened.parts.len() + 1, files.len());
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert_eq!(
        opened.size + opened.parts.iter().map(|p| p.size).sum::<u64>(),
        total
    );
    assert_eq!(seen.hashing_total, total);
    assert_eq!(opened.sha256.as_deref(), Some(sha256_hex(&first).as_str()));
    for p in [&opened.parts[0], opened.parts.last().unwrap()] {
        assert_eq!(p.sha256.as_deref(), Some(sha256_hex(&p.path).as_str()));
    }
    assert_eq!(reports[0].parts.len(), files.len() - 1);
    let c = reports[0].container.as_ref().expect("container facts");
    assert_eq!(c.kind, "E01");
    assert_eq!(c.stored_hashes, [("MD5".to_string(), md5)]);
    drop(seen);
    let _ = std::fs::remove_dir_all(&dir);
}

/// SMART (.s01, `ewfacquire -f smart`): its tables have no entries checksum (the chunks follow
/// the entries); read with no Adler-32 warning, the media's MD5 what `ewfverify` computes.
/// A compressed EnCase image, and one with SHA-1 too, alike; a changed byte in a chunk fails
/// `--verify` as it fails `ewfverify`.
#[test]
fn smart_and_encase_hashes_are_checked_as_ewfverify_checks_them() {
    if !have("ewfacquire", "-V") {
        return;
    }
    let dir = scratch_dir("e01-hashes");
    let Some(raw) = generated_media(&dir, 8 << 20, 4) else {
        return;
    };
    for (name, args) in [
        ("smart.s01", vec!["-c", "none", "-f", "smart"]),
        ("best.E01", vec!["-c", "deflate:best", "-f", "encase6"]),
        (
            "sha1.E01",
            vec!["-c", "none", "-f", "encase6", "-d", "sha1", "-S", "1MiB"],
        ),
    ] {
        let first = dir.join(name);
        ewfacquire(&raw, &first, &args);
        let run = run_within(
            &["parse", "--carve", "--verify", first.to_str().unwrap()],
            Duration::from_secs(30),
        );
        assert_eq!(run.code, Some(0), "{name}: {}", run.stderr);
        assert!(!run.stderr.contains("Adler-32"), "{name}: {}", run.stderr);
        let (md5, sha1, ok) = ewfverify(&first);
        assert!(ok, "{name}: ewfverify fails");
        assert!(
            run.stderr
                .contains(&format!("MD5 is {md5}, as the image stores: verified")),
            "{name}: {}",
            run.stderr
        );
        if name.starts_with("sha1") {
            let sha1 = sha1.expect("ewfverify's SHA-1");
            assert!(
                run.stderr
                    .contains(&format!("SHA-1 is {sha1}, as the image stores: verified")),
                "{name}: {}",
                run.stderr
            );
            // One byte changed inside a chunk of the fifth segment.
            let seg = first.with_extension("E05");
            let mut bytes = std::fs::read(&seg).unwrap();
            bytes[5000] ^= 0x5a;
            std::fs::write(&seg, &bytes).unwrap();
            let (_, _, ok) = ewfverify(&first);
            assert!(!ok, "ewfverify passes a changed image");
            let run = run_within(
                &["parse", "--carve", "--verify", first.to_str().unwrap()],
                Duration::from_secs(30),
            );
            assert_eq!(run.code, Some(1), "{}", run.stderr);
            assert!(
                run.stderr.contains("NOT verified")
                    && run.stderr.contains("the image is not what was acquired"),
                "{}",
                run.stderr
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// An E01 (compressed) and a VHDX of a media with no partition table and no NTFS: the media
/// is carved, not the container file: the 64 records of the raw image, at its offsets.
#[test]
fn a_bare_media_in_a_container_is_carved_through_the_container() {
    if !have("ewfacquire", "-V") || !have("qemu-img", "--version") {
        return;
    }
    let dir = scratch_dir("bare-media");
    let Some(raw) = generated_media(&dir, 64 << 20, 64) else {
        return;
    };
    let run = |p: &Path| {
        run_within(
            &["parse", "--carve", "--format", "jsonl", p.to_str().unwrap()],
            Duration::from_secs(60),
        )
    };
    let want: BTreeSet<_> = records(&run(&raw).stdout).iter().map(key).collect();
    assert_eq!(want.len(), 64);
    let e01 = dir.join("deflate.E01");
    ewfacquire(&raw, &e01, &["-c", "deflate:best", "-f", "encase6"]);
    let vhdx = dir.join("media.vhdx");
    let ok = Command::new("qemu-img")
        .args([
            "convert",
            "-f",
            "raw",
            "-O",
            "vhdx",
            "-o",
            "subformat=dynamic",
        ])
        .arg(&raw)
        .arg(&vhdx)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    for (path, kind) in [(&e01, "E01"), (&vhdx, "VHDX (dynamic)")] {
        let r = run(path);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let recs = records(&r.stdout);
        let got: BTreeSet<_> = recs.iter().map(key).collect();
        assert_eq!(got, want, "{kind}: records differ from the raw media's");
        assert!(recs.iter().all(|r| chain(r) == [kind, "logical media"]));
        assert!(
            r.stderr.contains("its logical media") && r.stderr.contains("is carved"),
            "{}",
            r.stderr
        );
        // Without --carve: the container says what it is and why nothing was read.
        let r = run_within(&["parse", path.to_str().unwrap()], Duration::from_secs(30));
        assert_eq!(r.code, Some(1));
        assert!(
            r.stderr.contains(&format!(
                "{kind}: no partition table and no NTFS volume in its media"
            )),
            "{}",
            r.stderr
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The test disk (MBR, NTFS, four stores) as 20 MiB E01 segments (the MFT in the first, every
/// store's data in later ones): with .E02 onwards gone, with .E02 and .E03 swapped, with .E02
/// a symlink to .E01. Each is named, and since no store can be read, the input fails (exit
/// 1), as a bare store that fails does.
#[test]
fn missing_swapped_and_linked_segments_are_named_and_fail() {
    let Some(img) = disk_image::disk_image() else {
        return;
    };
    if !have("ewfacquire", "-V") {
        return;
    }
    let dir = scratch_dir("e01-segments");
    let first = dir.join("disk.E01");
    ewfacquire(
        &img.path,
        &first,
        &["-c", "none", "-S", "20MiB", "-f", "encase6"],
    );
    let seg = |n: u32| first.with_extension(format!("E{n:02}"));
    assert!(seg(13).exists() && !seg(14).exists());
    let parse = || run_within(&["parse", first.to_str().unwrap()], Duration::from_secs(30));
    let whole = parse();
    assert_eq!(whole.code, Some(0), "{}", whole.stderr);
    let hidden = dir.join("hidden");
    std::fs::create_dir_all(&hidden).unwrap();

    // Swapped: .E02 holds segment 3.
    std::fs::rename(seg(2), hidden.join("2")).unwrap();
    std::fs::rename(seg(3), seg(2)).unwrap();
    std::fs::rename(hidden.join("2"), seg(3)).unwrap();
    let r = parse();
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the file read as segment 2 says it is segment 3"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("none of its 4 BITS stores could be read"));
    assert_eq!(r.stdout.trim(), "[]");
    std::fs::rename(seg(2), hidden.join("3")).unwrap();
    std::fs::rename(seg(3), seg(2)).unwrap();
    std::fs::rename(hidden.join("3"), seg(3)).unwrap();

    // Linked: .E02 is .E01 under another name.
    std::fs::rename(seg(2), hidden.join("2")).unwrap();
    std::os::unix::fs::symlink(&first, seg(2)).unwrap();
    let r = parse();
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains("segment 2") && r.stderr.contains("is the same file as segment 1"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("none of its 4 BITS stores could be read"));
    std::fs::remove_file(seg(2)).unwrap();

    // Missing: .E02 and .E03 gone.
    std::fs::rename(seg(3), hidden.join("3")).unwrap();
    let r = parse();
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains("E01: segment 2 is missing"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("none of its 4 BITS stores could be read"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Containers refused for their own reasons say what they are and why (not "not a BITS
/// queue"): a differencing VHD, a VHD with a bad block size, a VHDX whose metadata names a
/// parent, an E01 whose first chunk does not inflate; a thin 64 TB VHDX opens (its table is
/// read where it lies) and, holding nothing, says so. qcow2 and VMDK are named as formats not
/// read.
#[test]
fn refused_and_unsupported_containers_say_what_they_are() {
    if !have("qemu-img", "--version") || !have("ewfacquire", "-V") {
        return;
    }
    let dir = scratch_dir("refused");
    let Some(raw) = generated_media(&dir, 16 << 20, 4) else {
        return;
    };
    let qemu = |args: &[&str]| {
        let ok = Command::new("qemu-img")
            .args(args)
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "qemu-img {args:?}");
    };
    let p = |name: &str| dir.join(name).to_str().unwrap().to_string();
    // qemu-img makes no differencing VHD: a dynamic one whose footers say type 4 is one.
    qemu(&[
        "convert",
        "-f",
        "raw",
        "-O",
        "vpc",
        "-o",
        "subformat=dynamic",
        raw.to_str().unwrap(),
        &p("diff.vhd"),
    ]);
    let mut diff = std::fs::read(p("diff.vhd")).unwrap();
    let end = diff.len() - 512;
    for at in [60, end + 60] {
        diff[at..at + 4].copy_from_slice(&4u32.to_be_bytes());
    }
    std::fs::write(p("diff.vhd"), &diff).unwrap();
    qemu(&[
        "convert",
        "-f",
        "raw",
        "-O",
        "qcow2",
        raw.to_str().unwrap(),
        &p("d.qcow2"),
    ]);
    qemu(&[
        "convert",
        "-f",
        "raw",
        "-O",
        "vmdk",
        raw.to_str().unwrap(),
        &p("d.vmdk"),
    ]);
    qemu(&[
        "create",
        "-f",
        "vhdx",
        "-o",
        "block_size=1M",
        &p("thin.vhdx"),
        "64T",
    ]);
    qemu(&[
        "convert",
        "-f",
        "raw",
        "-O",
        "vhdx",
        raw.to_str().unwrap(),
        &p("parent.vhdx"),
    ]);
    // The VHDX file parameters' "has parent" bit (metadata item, flags u32 at +4).
    let mut vhdx = std::fs::read(p("parent.vhdx")).unwrap();
    let fp = [0x37u8, 0x67, 0xa1, 0xca, 0x36, 0xfa, 0x43, 0x4d];
    let meta = (0..vhdx.len() - 8)
        .find(|&i| vhdx[i..i + 8] == *b"metadata")
        .unwrap();
    let entry = (meta + 32..meta + 32 * 16)
        .step_by(32)
        .find(|&e| vhdx[e..e + 8] == fp)
        .unwrap();
    let at = meta + u32::from_le_bytes(vhdx[entry + 16..entry + 20].try_into().unwrap()) as usize;
    vhdx[at + 4] |= 2;
    std::fs::write(p("parent.vhdx"), &vhdx).unwrap();
    // A dynamic VHD whose block size is 3.
    qemu(&[
        "convert",
        "-f",
        "raw",
        "-O",
        "vpc",
        "-o",
        "subformat=dynamic",
        raw.to_str().unwrap(),
        &p("block.vhd"),
    ]);
    let mut vhd = std::fs::read(p("block.vhd")).unwrap();
    let hdr = u64::from_be_bytes(vhd[16..24].try_into().unwrap()) as usize;
    vhd[hdr + 32..hdr + 36].copy_from_slice(&3u32.to_be_bytes());
    std::fs::write(p("block.vhd"), &vhd).unwrap();
    // An E01 whose first chunk does not inflate: its (stored, random) chunk marked compressed
    // in the table (the entries' Adler-32 then fails too: a warning).
    ewfacquire(
        &raw,
        &dir.join("bad.E01"),
        &["-c", "deflate:best", "-f", "encase6"],
    );
    let mut e01 = std::fs::read(p("bad.E01")).unwrap();
    let table = (0..e01.len() - 8)
        .find(|&i| &e01[i..i + 8] == b"table\0\0\0")
        .unwrap();
    e01[table + 100 + 3] |= 0x80;
    std::fs::write(p("bad.E01"), &e01).unwrap();
    for (name, code, says) in [
        (
            "diff.vhd",
            1,
            "VHD (differencing): a differencing disk holds only the changes to its parent disk",
        ),
        ("block.vhd", 1, "VHD (dynamic): block size 3 is not valid"),
        (
            "parent.vhdx",
            1,
            "VHDX (differencing): a differencing disk holds only the changes",
        ),
        (
            "bad.E01",
            1,
            "E01: its media's first sector cannot be read: E01: chunk 0",
        ),
        (
            "thin.vhdx",
            1,
            "VHDX (dynamic): no partition table and no NTFS volume in its media",
        ),
        ("d.qcow2", 1, "qcow2 (QEMU) image: not read"),
        ("d.vmdk", 1, "VMDK (VMware) image: not read"),
    ] {
        let r = run_within(&["parse", &p(name)], Duration::from_secs(20));
        assert_eq!(r.code, Some(code), "{name}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{name}: {}", r.stderr);
        assert!(
            !r.stderr.contains("not a BITS queue"),
            "{name}: {}",
            r.stderr
        );
    }
    // The thin 64 TB disk carved: nothing held, nothing read, at once and in little memory.
    let t = Instant::now();
    let out = Command::new("prlimit")
        .arg("--as=1073741824")
        .arg(bitscope_bin())
        .args(["parse", "--carve", &p("thin.vhdx")])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("(70368744177664 bytes, 0 held in the file) is carved"),
        "{err}"
    );
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A zip in memory of `files` (name bytes, data, deflated?); `flags` on every entry.
fn zip_of(files: &[(&[u8], Vec<u8>, bool)], flags: u16) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::new();
    let mut dir = Vec::new();
    for (name, data, deflate) in files {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let packed = if *deflate {
            let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
            z.write_all(data).unwrap();
            z.finish().unwrap()
        } else {
            data.clone()
        };
        let local = out.len() as u32;
        let header = |sig: &[u8], central: bool| {
            let mut h = sig.to_vec();
            if central {
                h.extend_from_slice(&20u16.to_le_bytes());
            }
            h.extend_from_slice(&20u16.to_le_bytes());
            h.extend_from_slice(&flags.to_le_bytes());
            h.extend_from_slice(&(if *deflate { 8u16 } else { 0 }).to_le_bytes());
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
            h.extend_from_slice(name);
            h
        };
        out.extend(header(b"PK\x03\x04", false));
        out.extend_from_slice(&packed);
        dir.extend(header(b"PK\x01\x02", true));
    }
    let at = out.len() as u32;
    out.extend_from_slice(&dir);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(dir.len() as u32).to_le_bytes());
    out.extend_from_slice(&at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A case zip holding a Velociraptor-style collection zip (deflated) and a stored one: the
/// stores inside are read, named by the whole chain, their records those of the store parsed
/// alone; zips nested past four levels are named, not opened.
#[test]
fn a_collection_zip_inside_a_case_zip_is_opened() {
    let Some(win10) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let db = std::fs::read(&win10).unwrap();
    let name = b"C/ProgramData/Microsoft/Network/Downloader/qmgr.db";
    let collection = zip_of(&[(&name[..], db.clone(), true)], 0);
    let mut deep = collection.clone();
    for _ in 0..4 {
        deep = zip_of(&[(&b"inner.zip"[..], deep, true)], 0);
    }
    let case = zip_of(
        &[
            (&b"host1/Collection-HOST1.zip"[..], collection.clone(), true),
            (&b"host2/Collection-HOST2.zip"[..], collection, false),
            (&b"deep.zip"[..], deep, false),
            (&b"notes.txt"[..], b"case notes".to_vec(), true),
        ],
        0,
    );
    let dir = scratch_dir("nested-zip");
    let path = dir.join("case.zip");
    std::fs::write(&path, &case).unwrap();
    let r = run_within(
        &["parse", "--format", "jsonl", path.to_str().unwrap()],
        Duration::from_secs(20),
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let alone = run_within(
        &["parse", "--format", "jsonl", win10.to_str().unwrap()],
        Duration::from_secs(20),
    );
    // The host is named from the evidence (here the case zip's file name, alone the folder).
    let strip = |mut v: Value| {
        v["evidence"] = Value::Null;
        v["host"] = Value::Null;
        v["host_source"] = Value::Null;
        for s in ["job_source", "file_source"] {
            if let Some(o) = v.get_mut(s).and_then(|x| x.as_object_mut()) {
                o.remove("evidence");
                o.remove("container_chain");
                o.remove("in_evidence");
            }
        }
        v
    };
    let alone: Vec<Value> = records(&alone.stdout).into_iter().map(strip).collect();
    let recs = records(&r.stdout);
    let name = String::from_utf8_lossy(name).to_string();
    for host in ["host1/Collection-HOST1.zip", "host2/Collection-HOST2.zip"] {
        let got: Vec<Value> = recs
            .iter()
            .filter(|r| chain(r) == ["zip", host, name.as_str()])
            .cloned()
            .map(strip)
            .collect();
        assert_eq!(got, alone, "{host}");
    }
    // The store four zips down: the fifth zip is not opened.
    assert!(recs
        .iter()
        .all(|r| chain(r).first().map(String::as_str) == Some("zip") && chain(r).len() == 3));
    assert!(
        r.stderr
            .contains("a zip 4 levels inside the evidence: not opened"),
        "{}",
        r.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A block device (`losetup -r`, as a write blocker shows a drive) read as the disk image it
/// holds: the records of the raw image file. Character devices and FIFOs are still refused.
#[test]
fn a_read_only_loop_device_is_read_as_a_disk() {
    let Some(img) = disk_image::disk_image() else {
        return;
    };
    let out = Command::new("losetup")
        .args(["-r", "-f", "--show"])
        .arg(&img.path)
        .output();
    let dev = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => {
            common::skip("losetup -r -f failed (needs root and loop devices)");
            return;
        }
    };
    struct Detach(String);
    impl Drop for Detach {
        fn drop(&mut self) {
            let _ = Command::new("losetup").args(["-d", &self.0]).status();
        }
    }
    let _detach = Detach(dev.clone());
    let from_dev = run_within(
        &["parse", "--carve", "--format", "jsonl", &dev],
        Duration::from_secs(60),
    );
    assert_eq!(from_dev.code, Some(0), "{}", from_dev.stderr);
    let from_file = run_within(
        &[
            "parse",
            "--carve",
            "--format",
            "jsonl",
            img.path.to_str().unwrap(),
        ],
        Duration::from_secs(60),
    );
    // The host is named from the evidence's name: the device's differs from the file's.
    let strip = |v: Value| {
        let mut v = v;
        v["evidence"] = Value::Null;
        v["host"] = Value::Null;
        v["host_source"] = Value::Null;
        for s in ["job_source", "file_source"] {
            if let Some(o) = v.get_mut(s).and_then(|x| x.as_object_mut()) {
                o.remove("evidence");
            }
        }
        v
    };
    let a: Vec<Value> = records(&from_dev.stdout).into_iter().map(strip).collect();
    let b: Vec<Value> = records(&from_file.stdout).into_iter().map(strip).collect();
    assert!(a.len() > 50, "{} records", a.len());
    assert_eq!(a, b, "the device's records differ from the image file's");
    // Still refused: a character device and a FIFO.
    let r = run_within(&["parse", "/dev/zero"], Duration::from_secs(5));
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("is a character device"), "{}", r.stderr);
    let dir = scratch_dir("fifo");
    let fifo = dir.join("qmgr.db");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let r = run_within(&["parse", fifo.to_str().unwrap()], Duration::from_secs(5));
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("is a FIFO"), "{}", r.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}
