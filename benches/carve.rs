//! Carver benchmarks: throughput over a 1 GiB generated image with a warm page cache, peak
//! memory while doing it, and the whole pipeline (decode + carve) on each real sample.
//!
//! `cargo bench --bench carve`. The image is written once to `target/bench/image-1g.bin`:
//! pseudo-random 1 MiB blocks with a real job blob planted every 64 MiB.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bitscope::bits::carve::carve_stream;
use bitscope::pipeline::parse_file_with;

fn samples() -> PathBuf {
    std::env::var_os("BITSCOPE_SAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/samples"))
}

fn make_image(path: &Path, job: &[u8]) {
    if path.metadata().is_ok_and(|m| m.len() == 1 << 30) {
        return;
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut rng = bitscope::util::rng::Rng::new(0x9E37_79B9_7F4A_7C15);
    let mut block = vec![0u8; 1 << 20];
    for i in 0..1024 {
        for c in block.chunks_mut(8) {
            c.copy_from_slice(&rng.next_u64().to_le_bytes());
        }
        if i % 64 == 0 {
            block[4099..4099 + job.len()].copy_from_slice(job);
        }
        f.write_all(&block).unwrap();
    }
    f.flush().unwrap();
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let dir = samples();
    let Ok(job) = std::fs::read(dir.join("blobs/win10/job.raw")) else {
        println!("samples missing, skipped");
        return;
    };
    let image = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench/image-1g.bin");
    make_image(&image, &job);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let rss_before = peak_rss_mb();
    let mut times: Vec<Duration> = Vec::new();
    let mut found = 0;
    for _ in 0..4 {
        let f = std::fs::File::open(&image).unwrap();
        let t = Instant::now();
        let carved = carve_stream(f, "image", threads, &mut |_| {}).unwrap();
        times.push(t.elapsed());
        found = carved.len();
    }
    times.remove(0); // the first run warms the page cache
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "carve 1 GiB image ({threads} threads): median {:.2} s = {:.2} GiB/s, {found} records, peak RSS {:.0} MB (before: {:.0} MB)",
        median.as_secs_f64(),
        1.0 / median.as_secs_f64(),
        peak_rss_mb(),
        rss_before
    );
    for rel in ["ese/win10/qmgr.db", "ese/win11/qmgr.db"] {
        let p = dir.join(rel);
        let mut t: Vec<Duration> = (0..21)
            .map(|_| {
                let s = Instant::now();
                std::hint::black_box(parse_file_with(&p, true).unwrap());
                s.elapsed()
            })
            .collect();
        t.sort();
        println!(
            "parse --carve {rel:<20} median {:.2} ms",
            t[10].as_secs_f64() * 1e3
        );
    }
}
