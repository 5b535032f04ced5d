//! BITS decoding benchmarks: blobs decoded per second, and whole-file parse time per sample.
//!
//! `cargo bench --bench bits`. Samples from `$BITSCOPE_SAMPLES` or `../shared/samples`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bitscope::bits::decoded::row;
use bitscope::bits::file::decode_file_blob;
use bitscope::bits::job::decode_job_blob;
use bitscope::bits::model::Source;
use bitscope::bits::model::{FileEntry, JobEntry};
use bitscope::pipeline::parse_bytes;

fn samples() -> PathBuf {
    std::env::var_os("BITSCOPE_SAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/samples"))
}

/// Median time per call of `f`, over batches filling about a second.
fn per_call(mut f: impl FnMut()) -> Duration {
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 11 || (start.elapsed() < Duration::from_secs(1) && times.len() < 201) {
        let t = Instant::now();
        for _ in 0..100 {
            f();
        }
        times.push(t.elapsed() / 100);
    }
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let dir = samples();
    let (Ok(job), Ok(file)) = (
        std::fs::read(dir.join("blobs/win10/job.raw")),
        std::fs::read(dir.join("blobs/win10/file.raw")),
    ) else {
        println!("samples missing, skipped");
        return;
    };
    let t = per_call(|| {
        std::hint::black_box(decode_job_blob(&job).ok());
    });
    println!(
        "job blob decode            {:>10.0} blobs/s",
        1.0 / t.as_secs_f64()
    );
    let t = per_call(|| {
        std::hint::black_box(decode_file_blob(&file).ok());
    });
    println!(
        "file blob decode           {:>10.0} blobs/s",
        1.0 / t.as_secs_f64()
    );
    // A whole BitsInfo record: both blobs decoded, the SD and ACLs decoded, the row built.
    let t = per_call(|| {
        let j = JobEntry {
            job: decode_job_blob(&job).unwrap(),
            blob: job.clone(),
            source: Source::default(),
        };
        let f = FileEntry {
            id: None,
            file: decode_file_blob(&file).unwrap(),
            blob: file.clone(),
            source: Source::default(),
        };
        std::hint::black_box(row(Some(&j), Some(&f), None));
    });
    println!(
        "BitsInfo records (job+file) {:>9.0} records/s",
        1.0 / t.as_secs_f64()
    );
    for rel in ["ese/win10/qmgr.db", "ese/win11/qmgr.db"] {
        let Ok(data) = std::fs::read(dir.join(rel)) else {
            continue;
        };
        let t = per_call(|| {
            std::hint::black_box(parse_bytes(&data, rel).unwrap());
        });
        println!("parse {rel:<22} {:>8.2} ms", t.as_secs_f64() * 1e3);
    }
}
