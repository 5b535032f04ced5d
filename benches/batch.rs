//! Batch speed: `bitscope parse --carve` over 200 host folders (KAPE-style trees), one
//! thread against all cores. The folders are made once under `target/bench/hosts/`, each
//! holding a real qmgr.db (win10 or win11 alternately) and, for every fourth host, a legacy
//! queue fixture from `testdata/legacy/`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use bitscope::pipeline::{find_inputs, parse_files_with_threads};

fn samples() -> PathBuf {
    std::env::var_os("BITSCOPE_SAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/samples"))
}

fn make_hosts(root: &Path, dbs: &[Vec<u8>], legacy: &[u8]) {
    for i in 0..200 {
        let d = root.join(format!(
            "host{i:03}/C/ProgramData/Microsoft/Network/Downloader"
        ));
        if d.join("qmgr.db").exists() {
            continue;
        }
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("qmgr.db"), &dbs[i % dbs.len()]).unwrap();
        if i % 4 == 0 {
            std::fs::write(d.join("qmgr0.dat"), legacy).unwrap();
        }
    }
}

fn main() {
    let dir = samples();
    let (Ok(a), Ok(b)) = (
        std::fs::read(dir.join("ese/win10/qmgr.db")),
        std::fs::read(dir.join("ese/win11/qmgr.db")),
    ) else {
        println!("samples missing, skipped");
        return;
    };
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let legacy = std::fs::read(manifest.join("testdata/legacy/win10early-3jobs.qmgr0.dat"))
        .unwrap_or_default();
    let root = manifest.join("target/bench/hosts");
    make_hosts(&root, &[a, b], &legacy);
    let inputs = find_inputs(&root);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut figures = Vec::new();
    for threads in [1, cores] {
        let mut best = f64::MAX;
        let mut records = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let results = parse_files_with_threads(&inputs, true, threads);
            best = best.min(t.elapsed().as_secs_f64());
            records = results
                .iter()
                .filter_map(|r| r.as_ref().ok())
                .map(|p| p.records.len())
                .sum();
        }
        println!(
            "{} files, {threads} thread(s): {:.3} s ({records} records)",
            inputs.len(),
            best
        );
        figures.push(best);
    }
    println!(
        "speed-up with {cores} threads: {:.2}x",
        figures[0] / figures[1]
    );
}
