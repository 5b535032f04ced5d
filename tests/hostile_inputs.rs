//! Inputs that are not evidence files: refused at once, never waited on, never read whole.

mod common;

use common::alloc::{LIVE, PEAK};

use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bitscope::pipeline::{self, Options, RunError};
use common::bitscope_bin;

#[global_allocator]
static GLOBAL: common::alloc::Counting = common::alloc::Counting;

/// The heap counters are process-wide: the tests of this file run one at a time, so one
/// test's allocations never count as another's.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

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
    let _one_at_a_time = serial();
    let d = tmpdir("big");
    let big = d.join("big.bin");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(1 << 30).unwrap();
    drop(f);
    // Measured from what is live now (never reset: other blocks are still live).
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut parsed = bitscope::pipeline::Parsed::default();
    let r = pipeline::run_file(&big, &Options::default(), &mut parsed);
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    assert!(
        matches!(&r, Err(RunError::Parse(e)) if e.to_string().contains("not a BITS queue")),
        "{r:?}"
    );
    // Only the 64 KiB header was read.
    assert!(peak < 1 << 20, "peak heap {peak} bytes over {base}");
    let (code, err) = run_within(&["parse", big.to_str().unwrap()], Duration::from_secs(10));
    assert_eq!(code, Some(1));
    assert!(err.contains("not a BITS queue"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn fifos_and_devices_are_refused_at_once_and_the_other_inputs_still_read() {
    let _one_at_a_time = serial();
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
    let _one_at_a_time = serial();
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

/// Warnings about the evidence are typed and carry the offset they are about: a legacy queue
/// cut inside its first job says where that job starts (the job list after a 0x18 preamble,
/// FILE_HEADER, QUEUE_HEADER and the count: 0x3c).
#[test]
fn evidence_warnings_carry_their_offsets() {
    let _one_at_a_time = serial();
    let queue =
        std::fs::read(common::manifest_dir().join("testdata/legacy/win10early-3jobs.qmgr0.dat"))
            .expect("fixture");
    let cut = &queue[..1000];
    let mut parsed = bitscope::pipeline::Parsed::default();
    pipeline::run_bytes(cut, "cut.dat", &Options::default(), &mut parsed).expect("decodes");
    let first = parsed.warnings.first().expect("a warning");
    assert_eq!(first.offset, Some(0x3c), "{first}");
    assert!(
        first.to_string().starts_with("at offset 60 (0x3c): job 0"),
        "{first}"
    );
}

/// A sink that asks to stop at its first progress report.
struct StopAtOnce {
    calls: u32,
}

impl pipeline::Sink for StopAtOnce {
    fn record(&mut self, _: bitscope::bits::model::BitsInfo) -> Result<(), pipeline::Stop> {
        Ok(())
    }
    fn warning(&mut self, _: &pipeline::Diagnostic) -> Result<(), pipeline::Stop> {
        Ok(())
    }
    fn progress(&mut self, _: pipeline::Phase, _: u64, _: u64) -> Result<(), pipeline::Stop> {
        self.calls += 1;
        Err(pipeline::Stop)
    }
}

#[test]
fn a_stopped_sink_ends_the_carving_of_a_large_image_at_once() {
    let _one_at_a_time = serial();
    // The explorer cancels (reopens, quits) in the middle of a large image: the carver stops
    // at its next chunk instead of reading the rest.
    let d = tmpdir("stop");
    let big = d.join("disk.img");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(4 << 30).unwrap();
    drop(f);
    let opts = Options {
        carve: true,
        ..Options::default()
    };
    let mut sink = StopAtOnce { calls: 0 };
    let start = Instant::now();
    let r = pipeline::run_file(&big, &opts, &mut sink);
    assert!(matches!(r, Err(RunError::Stopped)), "{r:?}");
    assert_eq!(sink.calls, 1);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// A hostile qmgr0.dat / qmgr1.dat pair: thousands of copies of one job id in both files'
/// job lists, some differing, and more in the slack for the carver. Read as one queue (the
/// pairing, the merge, the join across the files) it is bounded in time and in memory.
#[test]
fn a_hostile_legacy_pair_is_bounded() {
    use bitscope::gen::legacy::{build_queue, JobSpec, Pieces, Preamble, QueueSpec, Record};
    let _one_at_a_time = serial();
    let (Some(e), Some(w7), Some(w10)) = (
        common::sample("legacy/win10-early/empty-queue.dat"),
        common::sample("legacy/job-records/win7/system-notify-cmd.job"),
        common::sample("legacy/job-records/win10-early/system-notify-cmd.job"),
    ) else {
        return;
    };
    let (e, w7, w10) = (
        std::fs::read(e).unwrap(),
        std::fs::read(w7).unwrap(),
        std::fs::read(w10).unwrap(),
    );
    let pieces = Pieces::new(&e, &w7, &w10).expect("pieces");
    // 3,000 live copies of one job in each file (one id), 2,000 in the slack, and copies
    // 1..=200 of it (other ids, other bytes) interleaved.
    let mut jobs = vec![JobSpec::real(Record::Win7); 3000];
    jobs.extend((1..=200u8).map(|n| JobSpec::copy(Record::Win7, n)));
    let slack = vec![JobSpec::real(Record::Win7); 2000];
    let mut files = Vec::new();
    for (name, live) in [("qmgr0.dat", &jobs[..]), ("qmgr1.dat", &jobs[..2800])] {
        files.push((
            name,
            build_queue(&QueueSpec {
                pieces,
                preamble: Preamble::Win7,
                jobs: live,
                deleted: &slack,
            }),
        ));
    }
    let d = tmpdir("pair");
    let mut total = 0;
    for (name, bytes) in &files {
        total += bytes.len();
        std::fs::write(d.join(name), bytes).unwrap();
    }
    let opts = Options {
        carve: true,
        ..Options::default()
    };
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = Instant::now();
    let mut sink = Counter::default();
    let reports = pipeline::driver::run_inputs(
        pipeline::driver::Inputs::find(std::slice::from_ref(&d)),
        &opts,
        false,
        &mut sink,
    )
    .expect("runs");
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    let took = start.elapsed();
    assert_eq!(reports.len(), 2);
    assert!(took < Duration::from_secs(20), "{took:?}");
    // The decoded queues hold their jobs' bytes: a few times the input, never more.
    assert!(
        peak < 8 * total + (64 << 20),
        "peak heap {peak} for {total} bytes of input"
    );
    assert!(sink.records > 0);
    eprintln!(
        "hostile pair: {total} bytes, {} records in {took:?}, peak heap {peak}",
        sink.records
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// Counts records, keeps nothing.
#[derive(Default)]
struct Counter {
    records: u64,
}

impl pipeline::Sink for Counter {
    fn record(&mut self, _: bitscope::bits::model::BitsInfo) -> Result<(), pipeline::Stop> {
        self.records += 1;
        Ok(())
    }
    fn warning(&mut self, _: &pipeline::Diagnostic) -> Result<(), pipeline::Stop> {
        Ok(())
    }
}
