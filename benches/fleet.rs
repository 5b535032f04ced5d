//! A fleet in one case: `bitscope parse --carve CASE` over 1,000 host collections, each a zip
//! of a KAPE tree holding a small generated qmgr.db (`gen::fleet`: 3 live jobs, 2 deleted
//! records), one thread against all cores. Prints hosts per second, records, and the peak
//! memory (`/usr/bin/time`'s maximum resident set) of the real binary. The collections are
//! made once under `target/bench/fleet/`.
//!
//! `cargo bench --bench fleet` (FLEET_HOSTS=N for another size).

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let hosts: usize = std::env::var("FLEET_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let case = manifest.join(format!("target/bench/fleet/{hosts}"));
    if !case
        .join(format!(
            "{}.zip",
            bitscope::gen::fleet::host_name(hosts - 1)
        ))
        .exists()
    {
        std::fs::create_dir_all(&case).expect("case folder");
        let t = std::time::Instant::now();
        bitscope::gen::fleet::write_fleet(&case, hosts, 3).expect("generating the fleet");
        println!(
            "made {hosts} collections in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let time = PathBuf::from("/usr/bin/time");
    if !time.exists() {
        println!("/usr/bin/time missing (Debian: time): skipped");
        return;
    }
    let out = manifest.join("target/bench/fleet/out.jsonl");
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    for threads in [1, cores] {
        let mut best: Option<(f64, u64)> = None;
        for _ in 0..3 {
            let _ = std::fs::remove_file(&out);
            let stats = manifest.join("target/bench/fleet/time.txt");
            let status = Command::new(&time)
                .args(["-f", "%e %M", "-o"])
                .arg(&stats)
                .arg(env!("CARGO_BIN_EXE_bitscope"))
                .args(["parse", "--carve", "--format", "jsonl", "--threads"])
                .arg(threads.to_string())
                .arg("-o")
                .arg(&out)
                .arg(&case)
                .status()
                .expect("running bitscope");
            assert!(status.success(), "bitscope parse failed");
            let text = std::fs::read_to_string(&stats).unwrap_or_default();
            let mut f = text.split_whitespace();
            let wall: f64 = f.next().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
            let kb: u64 = f.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            if best.is_none_or(|(w, _)| wall < w) {
                best = Some((wall, kb));
            }
        }
        let (wall, kb) = best.unwrap_or((f64::NAN, 0));
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        let records = text.lines().count();
        let named: std::collections::BTreeSet<&str> = text
            .lines()
            .filter_map(|l| l.split("\"host\":\"").nth(1)?.split('"').next())
            .collect();
        println!(
            "fleet: {hosts} hosts, {threads} thread(s): {wall:.2} s (best of 3), {:.0} hosts/s, {records} records from {} hosts, peak RSS {:.1} MB",
            hosts as f64 / wall,
            named.len(),
            kb as f64 / 1024.0
        );
    }
}
