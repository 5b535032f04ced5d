//! ESE reader benchmarks: open + dump every table of each real sample, and raw page throughput.
//!
//! `cargo bench --bench ese` prints the median of repeated runs. Samples come from
//! `$BITSCOPE_SAMPLES` or `../shared/samples`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bitscope::ese::Database;

fn samples() -> PathBuf {
    std::env::var_os("BITSCOPE_SAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/samples"))
}

/// Median wall time of `f` over enough runs to fill about a second (at least 5).
fn median(mut f: impl FnMut()) -> Duration {
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 5 || (start.elapsed() < Duration::from_secs(1) && times.len() < 1000) {
        let t = Instant::now();
        f();
        times.push(t.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

fn gunzip(path: &std::path::Path) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn main() {
    let dir = samples();
    let files = [
        "ese/win10/qmgr.db",
        "ese/win11/qmgr.db",
        "ese/other/decompress_test.edb",
        "ese/other/large.edb.gz",
    ];
    println!(
        "{:<32} {:>10} {:>14} {:>12}",
        "sample", "bytes", "open+dump", "MB/s"
    );
    for rel in files {
        let path = dir.join(rel);
        if !path.exists() {
            println!("{rel:<32} (missing, skipped)");
            continue;
        }
        let data = if rel.ends_with(".gz") {
            gunzip(&path)
        } else {
            std::fs::read(&path).unwrap()
        };
        let t = median(|| {
            let db = Database::open(&data).unwrap();
            let mut sink = std::io::sink();
            bitscope::output::ese::dump(&db, None, &mut sink).unwrap();
        });
        println!(
            "{rel:<32} {:>10} {:>11.2} ms {:>12.0}",
            data.len(),
            t.as_secs_f64() * 1e3,
            data.len() as f64 / t.as_secs_f64() / 1e6
        );
    }

    // Raw page access as the carver uses it: every page's header, tags, nodes and free ranges,
    // and its checksum, over the largest sample repeated to 64 MiB.
    let large = dir.join("ese/other/large.edb.gz");
    if large.exists() {
        let one = gunzip(&large);
        let mut data = Vec::new();
        while data.len() < 64 << 20 {
            data.extend_from_slice(&one);
        }
        let db = Database::open(&data).unwrap();
        let t = median(|| {
            let mut n = 0usize;
            for page in db.pages() {
                n += page.free_ranges().len() + page.nodes().count();
            }
            std::hint::black_box(n);
        });
        println!(
            "raw pages (tags, nodes, free space) {:>8.0} MB/s",
            data.len() as f64 / t.as_secs_f64() / 1e6
        );
        let t = median(|| {
            let ok = db
                .pages()
                .filter(|p| matches!(p.checksum(), bitscope::ese::checksum::ChecksumStatus::Ok))
                .count();
            std::hint::black_box(ok);
        });
        println!(
            "raw pages + checksum               {:>8.0} MB/s",
            data.len() as f64 / t.as_secs_f64() / 1e6
        );
    }
}
