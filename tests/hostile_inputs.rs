//! Inputs that are not evidence files: refused at once, never waited on, never read whole.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bitscope::bits::pipeline::{self, Options, RunError};
use common::bitscope_bin;

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE
                .fetch_add(layout.size(), Ordering::Relaxed)
                .wrapping_add(layout.size());
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn tmpdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("bitscope-hostile-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run the binary with a watchdog: it must finish within `limit`.
fn run_within(args: &[&str], limit: Duration) -> (Option<i32>, String) {
    let mut child = Command::new(bitscope_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bitscope");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            return (status.code(), err);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("bitscope {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_gigabyte_that_is_not_bits_is_refused_from_its_header() {
    let d = tmpdir("big");
    let big = d.join("big.bin");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(1 << 30).unwrap();
    drop(f);
    let before = PEAK.load(Ordering::Relaxed);
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    let mut parsed = bitscope::bits::parse::Parsed::default();
    let r = pipeline::run_file(&big, &Options::default(), &mut parsed);
    let peak = PEAK.load(Ordering::Relaxed);
    assert!(
        matches!(&r, Err(RunError::Parse(e)) if e.to_string().contains("not a BITS queue")),
        "{r:?}"
    );
    // Only the 64 KiB header was read.
    assert!(peak < 1 << 20, "peak heap {peak} bytes (before: {before})");
    let (code, err) = run_within(&["parse", big.to_str().unwrap()], Duration::from_secs(10));
    assert_eq!(code, Some(1));
    assert!(err.contains("not a BITS queue"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn fifos_and_devices_are_refused_at_once_and_the_other_inputs_still_read() {
    let d = tmpdir("fifo");
    let fifo = d.join("qmgr.db");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        common::skip("mkfifo");
        return;
    }
    let legacy = common::manifest_dir().join("testdata/legacy/win7-1job.qmgr0.dat");
    let out = d.join("out.jsonl");
    for (input, kind) in [
        (fifo.to_str().unwrap(), "FIFO"),
        ("/dev/zero", "character device"),
    ] {
        for carve in [false, true] {
            let mut args = vec!["parse", "--format", "jsonl", "-o", out.to_str().unwrap()];
            if carve {
                args.push("--carve");
            }
            args.extend([input, legacy.to_str().unwrap()]);
            let (code, err) = run_within(&args, Duration::from_secs(10));
            assert_eq!(code, Some(1), "{input}: {err}");
            assert!(
                err.contains(&format!("is a {kind}, not a regular file")),
                "{err}"
            );
            // The other input was still decoded and written.
            let text = std::fs::read_to_string(&out).unwrap();
            assert_eq!(text.lines().count(), 1, "{text}");
        }
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn error_messages_escape_file_names() {
    let d = tmpdir("names");
    let evil = d.join("evil\n\x1b[31mname.db");
    std::fs::write(&evil, b"not a queue at all").unwrap();
    let (code, err) = run_within(&["parse", evil.to_str().unwrap()], Duration::from_secs(10));
    assert_eq!(code, Some(1));
    assert!(
        !err.contains('\x1b'),
        "raw escape reached the terminal: {err:?}"
    );
    assert!(err.contains("evil\\x0a\\x1b[31mname.db"), "{err:?}");
    assert_eq!(err.lines().count(), 2, "a forged line: {err:?}");
    std::fs::remove_dir_all(&d).unwrap();
}
