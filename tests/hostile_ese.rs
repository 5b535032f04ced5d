//! Crafted hostile databases: decompression bombs in long values, one long value shared by many
//! rows, catalogs naming one root tens of thousands of times, broken primary headers, a catalog
//! cut off by truncation, a child pointer looping to an ancestor.
//!
//! Each case is built in-process from a generated qmgr.db (`tests/common/craft.rs`) and read
//! under a watchdog (10 s) and a counting allocator: the peak heap of a case must stay under
//! 8 × the file size + 80 MB (the reader's budget is 8 × the file + 64 MB). Cases run one at a
//! time so that the peaks they measure are their own.

mod common;

use common::alloc::{LIVE, PEAK};

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use bitscope::ese::budget::BudgetStats;
use bitscope::ese::value::Value;
use bitscope::ese::{cell_value, Database, EseError};
use common::craft::{self, LID};
/// One measured case at a time.
static SERIAL: Mutex<()> = Mutex::new(());

#[global_allocator]
static GLOBAL: common::alloc::Counting = common::alloc::Counting;

/// What reading a case cost.
#[derive(Debug)]
struct Cost {
    peak: usize,
    secs: f64,
}

/// Run `case` over `data` on a worker thread: fail past 10 s or past the heap allowance.
fn bounded<T: Send + 'static>(
    name: &str,
    data: Vec<u8>,
    case: impl FnOnce(&[u8]) -> T + Send + 'static,
) -> (T, Cost) {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let allowance = 8 * data.len() + (80 << 20);
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let start = Instant::now();
        let out = case(&data);
        let secs = start.elapsed().as_secs_f64();
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
        let _ = tx.send((out, Cost { peak, secs }));
    });
    let (out, cost) = match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(r) => r,
        Err(e) => panic!("{name}: did not finish in 10 s ({e})"),
    };
    worker.join().expect("no panic in the reader");
    eprintln!(
        "{name}: {:.2} s, peak heap {:.1} MB (allowance {:.1} MB)",
        cost.secs,
        cost.peak as f64 / 1e6,
        allowance as f64 / 1e6
    );
    assert!(
        cost.peak < allowance,
        "{name}: peak heap {} > {allowance}",
        cost.peak
    );
    (out, cost)
}

/// What a Jobs row's Blob came back as.
#[derive(Debug, Clone, PartialEq)]
enum Blob {
    Bytes(usize),
    Undecoded(String),
    Other,
}

/// Every Jobs row's Blob (the bytes dropped as soon as measured), the budget afterwards and
/// the value warnings.
fn jobs_blobs(db: &Database<'_>) -> (Vec<Blob>, BudgetStats, Vec<String>) {
    let jobs = db.table("Jobs").expect("a Jobs table");
    let blob = jobs.column("Blob").expect("a Blob column");
    let (lv, _) = db.long_values(jobs);
    let (rows, _) = db.rows(jobs.root);
    let blobs = rows
        .iter()
        .map(|row| {
            let rec = bitscope::ese::record::RecordLayout::parse(row.data, db.large)
                .expect("a readable record");
            match cell_value(blob, &rec, &lv) {
                Value::Binary(b) => Blob::Bytes(b.len()),
                Value::Undecoded { reason, .. } => Blob::Undecoded(reason),
                _ => Blob::Other,
            }
        })
        .collect();
    (
        blobs,
        db.budget(),
        db.value_warnings()
            .iter()
            .map(ToString::to_string)
            .collect(),
    )
}

/// Everything else the tool does with a database, results discarded: info, a dump of every
/// table, the unreferenced long values, and the BITS parse with carving.
fn everything(data: &[u8]) -> u64 {
    let mut sink = CountingSink(0);
    // The database is dropped (with its cache) before the parse opens its own.
    if let Ok(db) = Database::open(data) {
        let _ = bitscope::output::ese::info_json(&db);
        let _ = bitscope::output::ese::dump(&db, None, &mut sink);
        for t in &db.tables {
            let (lv, _) = db.long_values(t);
            let _ = lv.orphans();
        }
    }
    let _ = bitscope::pipeline::parse_bytes_with(data, "hostile", true);
    sink.0
}

/// A writer that only counts.
struct CountingSink(u64);

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A generated database whose Jobs rows (`rows` of them) all point at one long value of
/// `chunks` Xpress bomb chunks.
fn shared_bomb(rows: usize, chunks: u32) -> Vec<u8> {
    let mut db = craft::generated(1);
    craft::with_jobs_rows(&mut db, &craft::rows_sharing(rows, LID));
    craft::with_jobs_long_values(&mut db, &craft::bomb_value(LID, rows as u32, chunks));
    db
}

fn over_budget(b: &Blob) -> bool {
    matches!(b, Blob::Undecoded(r) if r.starts_with("over budget"))
}

#[test]
fn the_bomb_chunk_is_14_bytes_for_65535() {
    let c = craft::bomb_chunk();
    assert_eq!(c.len(), 14);
    let out = bitscope::ese::compression::decompress(&c, 65_535).expect("decodes");
    assert_eq!(out.len(), 65_535);
}

#[test]
fn database_is_shareable_between_threads() {
    fn sync_and_send<T: Sync + Send>() {}
    sync_and_send::<Database<'static>>();
    sync_and_send::<bitscope::ese::LongValues<'static>>();
}

#[test]
fn a_256_mb_bomb_value_is_undecoded_over_budget() {
    let data = shared_bomb(1, 4096);
    let len = data.len();
    let ((blobs, stats, warnings), _) = bounded("bomb, 1 row", data, |d| {
        jobs_blobs(&Database::open(d).expect("opens"))
    });
    assert_eq!(blobs.len(), 1);
    assert!(over_budget(&blobs[0]), "{blobs:?}");
    assert!(
        warnings.iter().any(|w| w.contains("over budget")),
        "{warnings:?}"
    );
    assert_eq!(stats.assembled_values, 0);
    assert_eq!(stats.limit, 8 * len as u64 + (64 << 20));
}

#[test]
fn a_bomb_shared_by_200_rows_costs_one_refusal() {
    let data = shared_bomb(200, 4096);
    let ((blobs, stats, warnings), _) = bounded("bomb, 200 rows", data, |d| {
        jobs_blobs(&Database::open(d).expect("opens"))
    });
    assert_eq!(blobs.len(), 200);
    assert!(blobs.iter().all(over_budget), "{:?}", blobs.first());
    // The refusal is cached with the value: one warning, not 200.
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(stats.refused, 1);
}

#[test]
fn a_value_shared_by_200_rows_is_assembled_once() {
    let size = 2 * craft::BOMB_CHUNK_OUT as usize;
    let data = shared_bomb(200, 2);
    let ((blobs, stats, warnings), _) = bounded("small value, 200 rows", data, |d| {
        jobs_blobs(&Database::open(d).expect("opens"))
    });
    assert_eq!(blobs, vec![Blob::Bytes(size); 200]);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(stats.assembled_values, 1);
    assert_eq!(stats.assembled_bytes, size as u64);
    assert_eq!(stats.served_bytes, 200 * size as u64);
    // The cached copy plus the 200 copies handed out.
    assert_eq!(stats.used, 201 * size as u64);
}

#[test]
fn copies_of_a_shared_value_stop_at_the_budget() {
    // 4 MiB per copy: the budget covers a dozen or so, not 200.
    let data = shared_bomb(200, 64);
    let ((blobs, stats, warnings), _) = bounded("4 MiB value, 200 rows", data, |d| {
        jobs_blobs(&Database::open(d).expect("opens"))
    });
    let served = blobs.iter().filter(|b| matches!(b, Blob::Bytes(_))).count();
    assert!(served > 0 && served < 200, "{served} served");
    assert!(blobs[served..].iter().all(over_budget));
    assert_eq!(stats.assembled_values, 1);
    assert!(stats.used <= stats.limit);
    assert!(warnings.iter().any(|w| w.contains("copied again")));
    // Warnings are capped: the count of the rest comes last.
    assert!(warnings.len() <= 33, "{}", warnings.len());
}

#[test]
fn unreferenced_bombs_stay_within_the_budget() {
    // Eight 256 MiB values that no row references (refcount 0), as the carver reads them.
    let mut entries = Vec::new();
    for i in 0..8 {
        entries.extend(craft::bomb_value(LID + 100 + i, 0, 4096));
    }
    let mut data = craft::generated(1);
    craft::with_jobs_long_values(&mut data, &entries);
    let ((orphans, refused), _) = bounded("8 unreferenced 256 MiB values", data, |d| {
        let db = Database::open(d).expect("opens");
        let (lv, _) = db.long_values(db.table("Jobs").expect("Jobs"));
        let results: Vec<bool> = lv.orphans().into_iter().map(|(_, r)| r.is_ok()).collect();
        everything(d);
        (results, db.budget().refused)
    });
    assert_eq!(orphans, vec![false; 8]);
    assert!(refused >= 8);
}

#[test]
fn unreferenced_values_are_decoded_until_the_budget_is_spent() {
    // Eight 21 MB values: each fits the budget alone, not all together.
    let mut entries = Vec::new();
    for i in 0..8 {
        entries.extend(craft::bomb_value(LID + 100 + i, 0, 320));
    }
    let mut data = craft::generated(1);
    craft::with_jobs_long_values(&mut data, &entries);
    let ((ok, stats), _) = bounded("8 unreferenced 21 MB values", data, |d| {
        let db = Database::open(d).expect("opens");
        let (lv, _) = db.long_values(db.table("Jobs").expect("Jobs"));
        let ok = lv.orphans().iter().filter(|(_, r)| r.is_ok()).count();
        (ok, db.budget())
    });
    assert!((1..8).contains(&ok), "{ok} of 8 decoded");
    assert!(stats.used <= stats.limit);
}

#[test]
fn everything_over_a_shared_bomb_is_bounded() {
    let data = shared_bomb(200, 4096);
    bounded("everything, bomb shared by 200 rows", data, everything);
    let data = shared_bomb(200, 64);
    bounded(
        "everything, 4 MiB value shared by 200 rows",
        data,
        everything,
    );
}

/// A refused long value of 4,096 chunks shared by 200 rows: each row lists the first
/// `MAX_EXTENTS` chunks and counts the rest, so the provenance stays bounded (it listed all
/// 4,096 in every row: 43.5 MB of JSON from a 2.4 MB file).
#[test]
fn a_refused_long_value_lists_a_bounded_provenance() {
    use bitscope::bits::model::MAX_EXTENTS;
    let data = shared_bomb(200, 4096);
    let len = data.len();
    let (parsed, _) = bounded("provenance of a refused bomb", data, |d| {
        bitscope::pipeline::parse_bytes_with(d, "bomb", false).expect("parses")
    });
    // The generated database's own job, and the 200 rows of the bomb.
    assert_eq!(parsed.records.len(), 201);
    let mut json = 0usize;
    let mut bombs = 0;
    for r in &parsed.records {
        json += serde_json::to_string(r).unwrap().len();
        let Some(src) = r.job_source.as_ref() else {
            continue;
        };
        if src.extents_omitted > 0 {
            assert_eq!(src.extents.len(), MAX_EXTENTS);
            assert_eq!(src.extents.len() as u64 + src.extents_omitted, 4096);
            bombs += 1;
        }
    }
    assert_eq!(bombs, 200);
    eprintln!("refused bomb: {json} bytes of JSON for 200 rows from a {len}-byte file");
    assert!(json < 2 << 20, "{json} bytes");
}

#[test]
fn tables_sharing_the_catalog_root_are_read_once() {
    let mut data = craft::generated(1);
    let tables = Database::open(&data).expect("opens").tables.len();
    craft::with_tables_rooted_at(&mut data, 56_200, 4);
    let ((names, warnings), cost) = bounded("56,200 tables rooted at page 4", data, |d| {
        let db = Database::open(d).expect("opens");
        let info = bitscope::output::ese::info_json(&db);
        let names: Vec<String> = db.tables.iter().map(|t| t.name.clone()).collect();
        let w: Vec<String> = info["warnings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        (names, w)
    });
    assert_eq!(names.len(), tables, "{names:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("which already belongs to")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("more objects rooted at pages already taken")),
        "{warnings:?}"
    );
    assert!(cost.secs < 10.0);
}

#[test]
fn dumping_tables_that_share_roots_writes_each_tree_once() {
    let mut data = craft::generated(1);
    craft::with_tables_rooted_at(&mut data, 56_200, 4);
    let len = data.len();
    let (written, _) = bounded("dump, 56,200 tables rooted at page 4", data, everything);
    // The catalog's 56,000-odd rows once (as MSysObjects), not once per table.
    assert!(
        written < 40 * len as u64,
        "{written} bytes for a {len}-byte file"
    );
}

#[test]
fn a_table_rooted_inside_another_tree_yields_no_rows() {
    let mut data = craft::generated(1);
    // Jobs (objid 8) claims page 31 first; 1000 more tables name it too.
    craft::with_tables_rooted_at(&mut data, 1000, 31);
    let (names, _) = bounded("1000 tables rooted at the Jobs root", data, |d| {
        let db = Database::open(d).expect("opens");
        everything(d);
        db.tables.iter().map(|t| t.name.clone()).collect::<Vec<_>>()
    });
    assert_eq!(names.iter().filter(|n| n.starts_with('T')).count(), 0);
    assert!(names.contains(&"Jobs".to_string()));
}

#[test]
fn a_child_pointer_back_to_the_root_is_a_loop_not_a_hang() {
    let mut data = craft::generated(1);
    craft::with_jobs_rows(&mut data, &craft::rows_sharing(2000, LID));
    craft::with_jobs_long_values(&mut data, &craft::bomb_value(LID, 2000, 1));
    craft::with_child_looping_to_root(&mut data);
    let (warnings, _) = bounded("child pointer looping to the root", data, |d| {
        let db = Database::open(d).expect("opens");
        let jobs = db.table("Jobs").expect("Jobs");
        let (_, w) = db.rows(jobs.root);
        everything(d);
        w
    });
    assert!(
        warnings.iter().any(|w| w.what.contains("loop")),
        "{warnings:?}"
    );
}

// ---- Headers and truncation. ----

/// Patch the primary header's page size and, when asked, fix its checksum.
fn with_page_size(data: &mut [u8], page_size: u32, fix_checksum: bool) {
    data[0xec..0xf0].copy_from_slice(&page_size.to_le_bytes());
    if fix_checksum {
        let c = bitscope::ese::header::xor_checksum(&data[4..4096]);
        data[..4].copy_from_slice(&c.to_le_bytes());
    }
}

fn open_warnings(data: &[u8]) -> (bool, Vec<String>, usize) {
    let db = Database::open(data).expect("opens through the shadow header");
    (
        db.header_from_shadow,
        db.warnings.iter().map(ToString::to_string).collect(),
        db.tables.len(),
    )
}

#[test]
fn an_unsupported_primary_page_size_falls_back_to_the_shadow() {
    let good = craft::generated(1);
    let tables = Database::open(&good).expect("opens").tables.len();
    let mut data = good.clone();
    with_page_size(&mut data, 12_345, true);
    let (shadow, warnings, n) = open_warnings(&data);
    assert!(shadow);
    assert_eq!(n, tables);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("using the shadow header (page 1, offset 0x4000)")),
        "{warnings:?}"
    );
}

#[test]
fn a_primary_page_size_the_shadow_contradicts_falls_back_to_the_shadow() {
    let mut data = craft::generated(1);
    with_page_size(&mut data, 4096, true);
    let (shadow, warnings, n) = open_warnings(&data);
    assert!(shadow);
    assert!(n > 0);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("disagrees with the shadow")),
        "{warnings:?}"
    );
}

#[test]
fn a_primary_header_failing_its_checksum_falls_back_to_a_passing_shadow() {
    let mut data = craft::generated(1);
    data[0x200] ^= 0x55;
    let (shadow, warnings, _) = open_warnings(&data);
    assert!(shadow);
    assert!(
        warnings.iter().any(|w| w.contains("checksum mismatch")),
        "{warnings:?}"
    );
}

#[test]
fn a_sound_primary_header_is_used() {
    let data = craft::generated(1);
    let (shadow, warnings, _) = open_warnings(&data);
    assert!(!shadow);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn a_database_cut_before_its_catalog_is_an_error() {
    let data = craft::generated(1);
    // File pages 0-4: the headers and database pages 1-3; the catalog (page 4) is gone.
    let cut = &data[..5 * 16384];
    match Database::open(cut) {
        Err(EseError::CatalogUnreadable { root: 4, .. }) => {}
        Err(e) => panic!("wrong error: {e}"),
        Ok(db) => panic!("opened with {} tables", db.tables.len()),
    }
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("hostile-ese-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a work folder");
    let path = dir.join("qmgr.db");
    std::fs::write(&path, cut).expect("writes");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bitscope"))
        .args(["ese", "info", "--json"])
        .arg(&path)
        .output()
        .expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("catalog unreadable"), "{err}");
}

/// `ese dump` says what the database's own reading found, as `parse` does: the 56,200-table
/// catalog dumped 0 rows with exit 0 and no word, and a dump through the shadow catalog did
/// not say so (issue 18, item 12).
#[test]
fn ese_dump_prints_the_databases_own_warnings() {
    let dir = common::scratch_dir("ese-dump-warnings");
    let mut shared = craft::generated(1);
    craft::with_tables_rooted_at(&mut shared, 56_200, 4);
    let mut wiped = craft::generated(1);
    // The catalog's root page (4) zeroed: the reader falls back to the shadow catalog.
    let page = Database::open(&wiped).expect("opens").page_size;
    let at = (4 + 1) * page;
    wiped[at..at + page].fill(0);
    for (name, data, says) in [
        ("shared.db", shared, "which already belongs to"),
        ("wiped.db", wiped, "trying the shadow catalog"),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, &data).expect("write");
        let out = common::run_bitscope(["ese", "dump", path.to_str().expect("utf-8")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {err}");
        assert!(err.contains(says), "{name}: {err}");
        assert!(err.lines().all(|l| l.starts_with("warning: ")), "{err}");
    }
}
