//! Hostile input: seeded mutations of the real databases must never panic, hang or balloon.
//!
//! Each case mutates a copy of a sample (bit flips, truncation, zeroed pages, page-number
//! loops, huge length fields, random headers), then runs everything the reader offers over
//! it: open, info, a full dump of every table with long values, every page's tags, free space
//! and checksum, and the unreferenced long values. A watchdog fails the test naming the seed
//! if one case takes more than 10 s; a counting allocator fails it if a case's peak heap
//! exceeds a small multiple of the file size.
//!
//! Structural attacks (many rows sharing one long value, many catalog entries sharing one
//! root, a child pointer looping to an ancestor) are crafted from a generated database and
//! held to the same watchdog.

mod common;

use common::alloc::{LIVE, PEAK};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, RwLock};
use std::time::Duration;

use bitscope::ese::Database;
use bitscope::util::rng::Rng;

/// The case being run, for the hang report.
static CURRENT: AtomicUsize = AtomicUsize::new(0);

/// The heap counters are shared: the mutation runs (small heaps) may overlap each other, but
/// the structural attacks (large heaps) run alone.
static HEAP: RwLock<()> = RwLock::new(());

#[global_allocator]
static GLOBAL: common::alloc::Counting = common::alloc::Counting;

/// Apply one seeded mutation; returns its name for failure messages.
fn mutate(data: &mut Vec<u8>, page_size: usize, rng: &mut Rng) -> &'static str {
    let pages = data.len() / page_size;
    let page_start = |rng: &mut Rng| rng.index(pages) * page_size;
    match rng.index(8) {
        0 => {
            for _ in 0..1 + rng.index(32) {
                let i = rng.index(data.len());
                data[i] ^= 1 << rng.index(8);
            }
            "bit flips"
        }
        1 => {
            data.truncate(rng.index(data.len()));
            "truncation"
        }
        2 => {
            let p = page_start(rng);
            data[p..p + page_size].fill(0);
            "zeroed page"
        }
        3 => {
            // A branch node pointing at itself, at its parent, or at page 1..4.
            let p = page_start(rng);
            let pgno = (p / page_size).saturating_sub(1) as u32;
            let target =
                [pgno, pgno.saturating_sub(1), 4, 1, rng.index(pages) as u32][rng.index(5)];
            let tag_area = p + page_size - 4 * (1 + rng.index(8));
            let off =
                u16::from_le_bytes([data[tag_area + 2], data[tag_area + 3]]) as usize & 0x7FFF;
            let at = p + 80 + off + 4 + rng.index(8);
            if at + 4 <= data.len() {
                data[at..at + 4].copy_from_slice(&target.to_le_bytes());
            }
            // Also make the page claim to be a branch page.
            data[p + 0x24] &= !0x02;
            "page-number loop"
        }
        4 => {
            // Huge length fields: a tag's size/offset, a record's offsets, a long-value size.
            let i = rng.index(data.len().saturating_sub(4));
            let v = [0xFFFFu16, 0x7FFF, 0x1FFF, 0x8000][rng.index(4)];
            data[i..i + 2].copy_from_slice(&v.to_le_bytes());
            "huge length"
        }
        5 => {
            let p = page_start(rng);
            for b in &mut data[p..p + 80] {
                *b = rng.next_u64() as u8;
            }
            "random page header"
        }
        6 => {
            // Tag count field maxed (24H2 nibble included).
            let p = page_start(rng);
            data[p + 0x22..p + 0x24].copy_from_slice(&[0xFF, 0xFF]);
            "tag count"
        }
        _ => {
            let i = rng.index(data.len().saturating_sub(64));
            let n = rng.index(64);
            for b in &mut data[i..i + n] {
                *b = rng.next_u64() as u8;
            }
            "random run"
        }
    }
}

/// Everything the reader can be asked on a database; results are discarded.
fn exercise(data: &[u8]) {
    let Ok(db) = Database::open(data) else { return };
    let _ = bitscope::output::ese::info_json(&db);
    let _ = bitscope::output::ese::dump(&db, None, &mut std::io::sink());
    for page in db.pages() {
        let _ = page.free_ranges();
        let _ = page.checksum();
        let _ = page.nodes().count();
    }
    for t in &db.tables {
        let (lv, _) = db.long_values(t);
        let _ = lv.orphans();
    }
    // The BITS decoding and the carver over the same mutated bytes.
    let _ = bitscope::pipeline::parse_bytes_with(data, "mutated", true);
}

fn run_cases(rel: &str, cases: u64, seed: u64) {
    let Some(path) = common::sample(rel) else {
        return;
    };
    run_cases_on(rel, std::fs::read(path).unwrap(), cases, seed);
}

fn run_cases_on(rel: &str, original: Vec<u8>, cases: u64, seed: u64) {
    let rel = rel.to_string();
    let _shared = HEAP.read().unwrap_or_else(|e| e.into_inner());
    let page_size = Database::open(&original).unwrap().page_size;
    let limit = 8 * original.len() + (8 << 20);
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let mut rng = Rng::new(seed);
        for case in 0..cases {
            let mut data = original.clone();
            let what = mutate(&mut data, page_size, &mut rng);
            CURRENT.store(case as usize, Ordering::Relaxed);
            // To reproduce a failure: BITSCOPE_MUTATION_DUMP=<case> writes the mutated bytes.
            if std::env::var("BITSCOPE_MUTATION_DUMP").is_ok_and(|v| v == case.to_string()) {
                let _ = std::fs::write(
                    std::env::temp_dir().join("bitscope-mutation-case.bin"),
                    &data,
                );
            }
            let base = LIVE.load(Ordering::Relaxed);
            PEAK.store(base, Ordering::Relaxed);
            exercise(&data);
            let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
            tx.send((case, what, peak)).unwrap();
        }
    });
    for _ in 0..cases {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok((case, what, peak)) => assert!(
                peak <= limit,
                "{rel} seed {seed} case {case} ({what}): peak heap {peak} > {limit}"
            ),
            Err(e) => panic!(
                "{rel} seed {seed} case {}: did not finish in 10 s ({e}): hang",
                CURRENT.load(Ordering::Relaxed)
            ),
        }
    }
    worker.join().expect("no panic in the reader");
}

/// Structural attacks (crafted with `common::craft`, see `tests/hostile_ese.rs` for the
/// figures) under the same watchdog; the heap allowance is the reader's long-value budget
/// (8 × the file + 64 MB) plus room for the parse's own structures.
fn run_structural(name: &'static str, data: Vec<u8>) {
    let _alone = HEAP.write().unwrap_or_else(|e| e.into_inner());
    let limit = 8 * data.len() + (80 << 20);
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        exercise(&data);
        let _ = tx.send(PEAK.load(Ordering::Relaxed).saturating_sub(base));
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(peak) => assert!(peak <= limit, "{name}: peak heap {peak} > {limit}"),
        Err(e) => panic!("{name}: did not finish in 10 s ({e}): hang"),
    }
    worker.join().expect("no panic in the reader");
}

#[test]
fn structural_attacks_never_panic_hang_or_balloon() {
    use common::craft::{self, LID};
    // Many rows sharing one long value: a 256 MiB bomb, then a 4 MiB value.
    for chunks in [4096, 64] {
        let mut data = craft::generated(1);
        craft::with_jobs_rows(&mut data, &craft::rows_sharing(300, LID));
        craft::with_jobs_long_values(&mut data, &craft::bomb_value(LID, 300, chunks));
        run_structural("300 rows sharing one long value", data);
    }
    // Many catalog entries sharing one root: the catalog's own, then the Jobs table's.
    for root in [4, 31] {
        let mut data = craft::generated(1);
        craft::with_tables_rooted_at(&mut data, 20_000, root);
        run_structural("20,000 tables sharing one root", data);
    }
    // A B-tree child pointer looping back to an ancestor (the root).
    let mut data = craft::generated(1);
    craft::with_jobs_rows(&mut data, &craft::rows_sharing(2000, LID));
    craft::with_jobs_long_values(&mut data, &craft::bomb_value(LID, 2000, 1));
    craft::with_child_looping_to_root(&mut data);
    run_structural("child pointer looping to the root", data);
}

#[test]
fn mutated_win10_never_panics_hangs_or_balloons() {
    run_cases("ese/win10/qmgr.db", 2500, 0x5EED_0010);
}

#[test]
fn mutated_win11_never_panics_hangs_or_balloons() {
    run_cases("ese/win11/qmgr.db", 2500, 0x5EED_0011);
}

/// The Win11 24H2 sample: its job's client section in the package form.
#[test]
fn mutated_win11_24h2_never_panics_hangs_or_balloons() {
    run_cases("ese/win11-24h2/qmgr.db", 2500, 0x5EED_2402);
}

/// A generated database whose jobs hold every field the decoders read (24H2 package form,
/// proxy lists, custom headers, security flags, error texts, doubled markers).
#[test]
fn mutated_all_fields_database_never_panics_hangs_or_balloons() {
    let g = bitscope::gen::generate(&bitscope::gen::EseOptions {
        jobs: 40,
        deleted: 20,
        seed: 0xA11,
        all_fields: true,
        ..bitscope::gen::EseOptions::default()
    })
    .expect("generates");
    run_cases_on("generated --all-fields", g.bytes, 1500, 0x5EED_0A11);
}
