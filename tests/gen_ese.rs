//! The qmgr.db generator (`bitscope-gen ese`) against its own ground truth, read back by
//! bitscope's ESE reader and BITS decoders, by dissect.esedb (the oracle script) and by
//! libesedb's `esedbinfo`.
//!
//! The 100,000-job case runs only in release builds (`cargo test --release`); in a debug build
//! it prints a notice and returns.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::Deserialize;

use bitscope::bits::file::decode_file_blob;
use bitscope::bits::job::decode_job_blob;
use bitscope::ese::checksum::{verify_page, ChecksumStatus};
use bitscope::ese::page::Page;
use bitscope::ese::record::RecordLayout;
use bitscope::ese::value::Value;
use bitscope::ese::{cell_value, Database};
use bitscope::gen::sha256::sha256_hex;
use bitscope::gen::{self, EseOptions};

// ---- The truth file, as this test reads it (its own types: the JSON is the interface). ----

#[derive(Debug, Deserialize)]
struct Truth {
    generator: String,
    database: DbTruth,
    jobs: Vec<Live>,
    files: Vec<Live>,
    deleted: Vec<Deleted>,
}

#[derive(Debug, Deserialize)]
struct DbTruth {
    file_size: u64,
    page_size: u32,
    pages: u32,
    blank_pages: Vec<u32>,
    format_revision: u32,
    state: u32,
    trees: Vec<Tree>,
}

#[derive(Debug, Deserialize)]
struct Tree {
    name: String,
    root: u32,
    depth: usize,
    leaf_pages: usize,
    branch_pages: usize,
    available_pages: Vec<u32>,
}

#[derive(Debug, Deserialize, Clone, PartialEq)]
struct Piece {
    offset: u64,
    length: u64,
    page: u32,
}

#[derive(Debug, Deserialize)]
struct Live {
    id: String,
    table: String,
    row_page: u32,
    row_offset: u64,
    lid: String,
    blob_len: usize,
    blob_sha256: String,
    pieces: Vec<Piece>,
    versioned: bool,
    values: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct Deleted {
    kind: String,
    split: bool,
    table: String,
    id: String,
    lid: String,
    blob_len: usize,
    blob_sha256: String,
    blob_hex: String,
    pieces: Vec<Piece>,
    values: serde_json::Value,
}

// ---- Helpers. ----

fn gen_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_bitscope-gen"))
}

fn work_dir(tag: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("gen-ese-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("creating the work folder");
    d
}

/// Run `bitscope-gen ese` and return (database bytes, truth, seconds taken).
fn run_gen(
    out: &Path,
    jobs: usize,
    files: usize,
    deleted: usize,
    seed: u64,
) -> (Vec<u8>, Truth, f64) {
    gen::remove_ese(out);
    let start = Instant::now();
    let o = Command::new(gen_bin())
        .args([
            "ese",
            "--jobs",
            &jobs.to_string(),
            "--files-per-job",
            &files.to_string(),
        ])
        .args([
            "--deleted",
            &deleted.to_string(),
            "--seed",
            &seed.to_string(),
            "--out",
        ])
        .arg(out)
        .stdin(Stdio::null())
        .output()
        .expect("running bitscope-gen");
    let secs = start.elapsed().as_secs_f64();
    assert!(
        o.status.success(),
        "bitscope-gen failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let bytes = std::fs::read(out).expect("reading the database");
    let truth_bytes = std::fs::read(gen::truth_path(out)).expect("reading the truth");
    let truth: Truth = serde_json::from_slice(&truth_bytes).expect("truth JSON");
    (bytes, truth, secs)
}

fn piece_bytes(data: &[u8], p: &Piece) -> Vec<u8> {
    data[p.offset as usize..(p.offset + p.length) as usize].to_vec()
}

fn value_str<'a>(v: &'a serde_json::Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_default()
}

/// Decode a blob and compare what BitsInfo shows with the truth's values.
fn check_decoded(table: &str, blob: &[u8], values: &serde_json::Value, what: &str) {
    if table == "Jobs" {
        let j = decode_job_blob(blob).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(j.closed && j.stopped.is_none(), "{what}: {:?}", j.warnings);
        assert_eq!(j.job_id.to_string(), value_str(values, "job_id"), "{what}");
        assert_eq!(
            j.name.as_deref(),
            Some(value_str(values, "job_name")),
            "{what}"
        );
        assert_eq!(
            j.owner_sid.as_deref(),
            Some(value_str(values, "owner_sid")),
            "{what}"
        );
        assert_eq!(
            bitscope::bits::job::state_name(j.state),
            value_str(values, "job_state"),
            "{what}"
        );
        assert_eq!(
            j.notify_command.as_deref(),
            Some(value_str(values, "job_command")),
            "{what}"
        );
        assert_eq!(
            bitscope::util::time::filetime_iso(j.created.unwrap_or(0)),
            value_str(values, "created"),
            "{what}"
        );
        assert_eq!(
            bitscope::util::time::filetime_iso(j.modified.unwrap_or(0)),
            value_str(values, "modified"),
            "{what}"
        );
        assert_eq!(
            bitscope::util::time::filetime_iso(j.expiration.unwrap_or(0)),
            value_str(values, "expiration"),
            "{what}"
        );
        let ids: Vec<String> = j.file_ids.iter().map(|g| g.to_string()).collect();
        let want: Vec<String> = values["file_ids"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(ids, want, "{what}");
    } else {
        let f = decode_file_blob(blob).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(f.closed && f.stopped.is_none(), "{what}: {:?}", f.warnings);
        assert_eq!(
            f.destination.as_deref(),
            Some(value_str(values, "full_path")),
            "{what}"
        );
        assert_eq!(f.url.as_deref(), Some(value_str(values, "url")), "{what}");
        assert_eq!(
            f.temp_path.as_deref(),
            Some(value_str(values, "tmp_fullpath")),
            "{what}"
        );
        assert_eq!(
            f.bytes_transferred,
            values["bytes_transferred"].as_u64(),
            "{what}"
        );
        assert_eq!(f.total_bytes, values["bytes_total"].as_u64(), "{what}");
        assert_eq!(
            f.volume.as_deref(),
            Some(value_str(values, "volume")),
            "{what}"
        );
    }
}

/// Everything bitscope's reader can check against the truth. `decode_every` decodes one blob in
/// that many with the BITS decoders (1 = all).
fn check_with_reader(data: &[u8], truth: &Truth, decode_every: usize) {
    assert_eq!(truth.generator, "bitscope-gen ese");
    let db = Database::open(data).expect("opens");
    let t = &truth.database;
    assert_eq!(data.len() as u64, t.file_size);
    assert_eq!(db.page_size as u32, t.page_size);
    assert_eq!(db.page_count(), t.pages);
    assert_eq!(db.header.format_version, 0x620);
    assert_eq!(db.header.format_revision, t.format_revision);
    assert_eq!(db.header.state, t.state);
    assert_eq!(db.header.state_name(), "dirty shutdown");
    assert!(db.header.checksum_ok(), "header checksum");
    assert_eq!(db.shadow.as_ref(), Some(&db.header), "shadow header");
    assert!(db.warnings.is_empty(), "{:?}", db.warnings);

    // Every page's checksum verifies; the blank ones are the truth's.
    let blank: HashSet<u32> = t.blank_pages.iter().copied().collect();
    let mut ok = 0;
    for pgno in 1..=db.page_count() {
        let at = db.page_offset(pgno) as usize;
        let page = &data[at..at + db.page_size];
        match verify_page(page, pgno) {
            ChecksumStatus::Ok => {
                ok += 1;
                assert!(!blank.contains(&pgno), "page {pgno} should be blank");
            }
            ChecksumStatus::Blank => assert!(blank.contains(&pgno), "page {pgno} is blank"),
            other => panic!("page {pgno}: {other:?}"),
        }
    }
    assert_eq!(ok + blank.len(), t.pages as usize);

    // The catalog.
    let names: Vec<&str> = db.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "MSysObjects",
            "MSysObjectsShadow",
            "MSysObjids",
            "MSysLocales",
            "Jobs",
            "Files"
        ]
    );
    for tree in &t.trees {
        let root = db.page(tree.root).expect("root page");
        assert!(root.header.is_root(), "{} root", tree.name);
        assert_eq!(
            tree.depth == 1,
            root.header.is_leaf(),
            "{} depth",
            tree.name
        );
        assert!(tree.leaf_pages >= 1 && (tree.depth == 1) == (tree.branch_pages == 0));
    }

    let mut all_rows = 0;
    for (name, live) in [("Jobs", &truth.jobs), ("Files", &truth.files)] {
        let table = db.table(name).expect("table");
        let cols: Vec<(u32, &str, &str)> = table
            .columns
            .iter()
            .map(|c| (c.id, c.name.as_str(), c.coltype.name()))
            .collect();
        assert_eq!(cols, [(1, "Id", "GUID"), (256, "Blob", "LongBinary")]);
        let (lv, w) = db.long_values(table);
        assert!(w.is_empty(), "{w:?}");
        let (rows, w) = db.rows(table.root);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(rows.len(), live.len(), "{name} rows");
        // Version flags on the rows' nodes, as the truth says.
        let mut versioned = Vec::new();
        let _ = db.walk_leaves(table.root, &mut |_, node| {
            versioned.push(node.tag.flags & bitscope::ese::page::NODE_VERSION != 0);
        });
        let want: Vec<bool> = live.iter().map(|l| l.versioned).collect();
        assert_eq!(versioned, want, "{name} version flags");
        let id_col = table.column("Id").expect("Id");
        let blob_col = table.column("Blob").expect("Blob");
        for (i, (row, want)) in rows.iter().zip(live.iter()).enumerate() {
            assert_eq!(want.table, name);
            let rec = RecordLayout::parse(row.data, db.large).expect("record");
            let id = match cell_value(id_col, &rec, &lv) {
                Value::Guid(g) => g.to_string(),
                other => panic!("{name} row {i}: Id {other:?}"),
            };
            assert_eq!(id, want.id, "{name} row {i}");
            assert_eq!(
                (row.page, row.offset),
                (want.row_page, want.row_offset),
                "{name} row {i}"
            );
            let blob = match cell_value(blob_col, &rec, &lv) {
                Value::Binary(b) => b,
                other => panic!("{name} row {i}: Blob {:?}", other.to_json()),
            };
            assert_eq!(blob.len(), want.blob_len, "{name} {id}");
            assert_eq!(sha256_hex(&blob), want.blob_sha256, "{name} {id}");
            // The reference in the record is the LID little-endian; its chunks are the pieces.
            let lid = u64::from_str_radix(want.lid.trim_start_matches("0x"), 16).expect("lid");
            let reference = lid.to_le_bytes();
            let extents: Vec<Piece> = lv
                .extents(&reference)
                .into_iter()
                .map(|(page, offset, length)| Piece {
                    offset,
                    length: length as u64,
                    page,
                })
                .collect();
            assert_eq!(extents, want.pieces, "{name} {id} pieces");
            let joined: Vec<u8> = want
                .pieces
                .iter()
                .flat_map(|p| piece_bytes(data, p))
                .collect();
            assert_eq!(joined, blob);
            if i % decode_every == 0 {
                check_decoded(name, &blob, &want.values, &format!("{name} {id}"));
            }
        }
        all_rows += rows.len();

        // Unreferenced long values: exactly the planted ones, reassembled to their blobs.
        let planted: HashMap<String, &Deleted> = truth
            .deleted
            .iter()
            .filter(|d| d.table == name && (d.kind == "orphan_lv" || d.kind == "deleted_lv"))
            .map(|d| (d.lid.clone(), d))
            .collect();
        let orphans = lv.orphans();
        assert_eq!(orphans.len(), planted.len(), "{name} orphans");
        for (root, bytes) in orphans {
            let lid = format!(
                "{:#018x}",
                u64::from_be_bytes(root.id.clone().try_into().expect("8-byte id"))
            );
            let d = planted
                .get(&lid)
                .unwrap_or_else(|| panic!("unplanted orphan {lid}"));
            let bytes = bytes.expect("orphan reassembles");
            assert_eq!(sha256_hex(&bytes), d.blob_sha256);
            let node_deleted = lv.nodes.get(&root.id).map(|n| n.deleted);
            assert_eq!(node_deleted, Some(d.kind == "deleted_lv"), "{lid}");
        }
    }
    assert_eq!(all_rows, truth.jobs.len() + truth.files.len());

    check_deleted(&db, data, truth);
}

/// Every planted blob is where the truth says, in the kind of place it says.
fn check_deleted(db: &Database<'_>, data: &[u8], truth: &Truth) {
    // Pages reachable from any tree.
    let mut reachable: HashSet<u32> = HashSet::new();
    for tree in &truth.database.trees {
        let _ = db.walk_leaves(tree.root, &mut |page, _| {
            reachable.insert(page.number);
        });
        reachable.insert(tree.root);
    }
    let available: HashSet<u32> = truth
        .database
        .trees
        .iter()
        .flat_map(|t| t.available_pages.iter().copied())
        .collect();
    for d in &truth.deleted {
        let what = format!("{} {} {}", d.kind, d.table, d.id);
        assert!(!d.pieces.is_empty(), "{what}");
        let blob: Vec<u8> = d.pieces.iter().flat_map(|p| piece_bytes(data, p)).collect();
        assert_eq!(blob.len(), d.blob_len, "{what}");
        assert_eq!(sha256_hex(&blob), d.blob_sha256, "{what}");
        assert_eq!(bitscope::util::bytes::hex(&blob), d.blob_hex, "{what}");
        assert_eq!(d.split, d.pieces.len() > 1, "{what}");
        check_decoded(&d.table, &blob, &d.values, &what);
        let first = &d.pieces[0];
        for p in &d.pieces {
            assert_eq!(
                p.offset / u64::from(truth.database.page_size),
                u64::from(p.page) + 1
            );
        }
        let page = db.page(first.page).expect("page");
        let in_page = (first.offset - db.page_offset(first.page)) as usize;
        match d.kind.as_str() {
            "orphan_lv" | "deleted_lv" => assert!(reachable.contains(&first.page), "{what}"),
            "page_slack" | "page_hole" => {
                assert!(reachable.contains(&first.page), "{what}");
                assert!(
                    page.header.is_leaf() && page.header.is_long_value(),
                    "{what}"
                );
                let free = page.free_ranges();
                let end = in_page + first.length as usize;
                assert!(
                    free.iter().any(|(s, e)| *s <= in_page && end <= *e),
                    "{what}: not in free space {free:?}"
                );
                let data_end = 80 + page.header.first_free_offset as usize;
                if d.kind == "page_slack" {
                    assert!(in_page >= data_end, "{what}: slack below ibMicFree");
                } else {
                    assert!(end <= data_end, "{what}: hole past ibMicFree");
                }
            }
            "freed_page" | "stale_page" | "split_pages" => {
                for p in &d.pieces {
                    assert!(
                        !reachable.contains(&p.page),
                        "{what}: page {} is in a tree",
                        p.page
                    );
                    assert!(
                        available.contains(&p.page),
                        "{what}: page {} not available",
                        p.page
                    );
                }
                if d.kind == "freed_page" {
                    assert!(page.header.is_empty() && page.node_count() == 0, "{what}");
                }
                if d.kind == "split_pages" {
                    assert_eq!(d.pieces[1].page, d.pieces[0].page + 1, "{what}");
                }
            }
            other => panic!("unknown kind {other}"),
        }
        // The blob starts with its marker where the first piece starts.
        let marker: &[u8] = if d.table == "Jobs" {
            &blob[..16]
        } else {
            &bitscope::bits::file::FILE_MARKER
        };
        assert_eq!(
            &data[first.offset as usize..first.offset as usize + 16],
            marker,
            "{what}"
        );
        let _ = Page::header_len(true);
    }
}

// ---- The tests. ----

#[test]
fn one_job_reads_back() {
    let dir = work_dir("one");
    let out = dir.join("qmgr.db");
    let (data, truth, _) = run_gen(&out, 1, 1, 14, 11);
    assert_eq!(
        (truth.jobs.len(), truth.files.len(), truth.deleted.len()),
        (1, 1, 14)
    );
    check_with_reader(&data, &truth, 1);
    // A one-job database is all root pages.
    for tree in &truth.database.trees {
        assert_eq!(tree.depth, 1, "{}", tree.name);
    }
    let kinds: HashSet<&str> = truth.deleted.iter().map(|d| d.kind.as_str()).collect();
    assert_eq!(kinds.len(), 7, "{kinds:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn thousand_jobs_read_back() {
    let dir = work_dir("k1");
    let out = dir.join("qmgr.db");
    let (data, truth, _) = run_gen(&out, 1000, 2, 40, 12);
    assert_eq!((truth.jobs.len(), truth.files.len()), (1000, 2000));
    check_with_reader(&data, &truth, 1);
    let depth = |n: &str| {
        truth
            .database
            .trees
            .iter()
            .find(|t| t.name == n)
            .map(|t| t.depth)
    };
    assert_eq!(depth("Jobs"), Some(2));
    assert_eq!(depth("Jobs long values"), Some(2));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn long_values_of_many_chunks_and_empty_tables_read_back() {
    // Jobs with 1,000 files have ~18 KB blobs: five long-value chunks over several pages.
    let dir = work_dir("chunks");
    let out = dir.join("qmgr.db");
    let (data, truth, _) = run_gen(&out, 6, 1000, 7, 14);
    assert!(
        truth.jobs.iter().all(|j| j.pieces.len() == 5),
        "five chunks each"
    );
    let pages: HashSet<u32> = truth
        .jobs
        .iter()
        .flat_map(|j| j.pieces.iter().map(|p| p.page))
        .collect();
    assert!(pages.len() > 3, "chunks spread over pages");
    check_with_reader(&data, &truth, 1);
    // No live rows at all: only deleted blobs.
    let (data, truth, _) = run_gen(&out, 0, 0, 9, 15);
    assert!(truth.jobs.is_empty() && truth.files.is_empty());
    check_with_reader(&data, &truth, 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn many_deleted_read_back() {
    // More deleted blobs than the live pages have room for: the rest go to freed pages.
    let dir = work_dir("many-deleted");
    let out = dir.join("qmgr.db");
    let (data, truth, _) = run_gen(&out, 300, 1, 3000, 16);
    assert_eq!(truth.deleted.len(), 3000);
    let in_live_pages = truth
        .deleted
        .iter()
        .filter(|d| d.kind == "page_slack" || d.kind == "page_hole")
        .count();
    assert!(
        in_live_pages > 50 && in_live_pages < 3000 * 2 / 7,
        "{in_live_pages}"
    );
    check_with_reader(&data, &truth, 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn hundred_thousand_jobs_read_back_and_generation_speed() {
    if cfg!(debug_assertions) {
        eprintln!("NOTE: the 100,000-job database is checked only in release builds (cargo test --release)");
        return;
    }
    let dir = work_dir("k100");
    let out = dir.join("qmgr.db");
    let (data, truth, secs) = run_gen(&out, 100_000, 1, 100, 13);
    eprintln!(
        "generated 100,000 jobs + 100,000 files + 100 deleted: {} MB, {} pages, in {secs:.1} s (bitscope-gen, file and truth written)",
        data.len() / 1_000_000,
        truth.database.pages
    );
    assert!(
        secs < 60.0,
        "generation took {secs:.1} s (goal: under 30 s)"
    );
    assert_eq!((truth.jobs.len(), truth.files.len()), (100_000, 100_000));
    let depth = |n: &str| {
        truth
            .database
            .trees
            .iter()
            .find(|t| t.name == n)
            .map(|t| t.depth)
    };
    assert_eq!(
        depth("Jobs long values"),
        Some(3),
        "multi-level long-value tree"
    );
    assert_eq!(depth("Jobs"), Some(2));
    let start = Instant::now();
    check_with_reader(&data, &truth, 997);
    eprintln!(
        "read back and checked in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn same_seed_same_bytes_and_no_overwrite() {
    let opts = EseOptions {
        jobs: 40,
        files_per_job: 2,
        deleted: 15,
        seed: 99,
        ..EseOptions::default()
    };
    let a = gen::generate(&opts).expect("generates");
    let b = gen::generate(&opts).expect("generates");
    assert!(a.bytes == b.bytes, "same seed, different bytes");
    assert_eq!(
        serde_json::to_string(&a.truth).ok(),
        serde_json::to_string(&b.truth).ok()
    );
    let c = gen::generate(&EseOptions {
        seed: 100,
        ..opts.clone()
    })
    .expect("generates");
    assert!(a.bytes != c.bytes);

    // The CLI refuses to overwrite without --force, and leaves the file alone.
    let dir = work_dir("force");
    let out = dir.join("q.db");
    let (first, _, _) = run_gen(&out, 2, 1, 0, 1);
    let again = |force: bool| {
        let mut cmd = Command::new(gen_bin());
        cmd.args(["ese", "--jobs", "3", "--seed", "2", "--out"])
            .arg(&out);
        if force {
            cmd.arg("--force");
        }
        cmd.stdin(Stdio::null()).output().expect("runs")
    };
    let o = again(false);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
    assert_eq!(std::fs::read(&out).expect("reads"), first);
    let o = again(true);
    assert!(o.status.success());
    assert_ne!(std::fs::read(&out).expect("reads"), first);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn win11_header_checksum_covers_the_whole_block() {
    let g = gen::generate(&EseOptions {
        jobs: 3,
        win11_header: true,
        ..EseOptions::default()
    })
    .expect("generates");
    assert!(
        g.bytes[668..4096].iter().any(|&b| b != 0),
        "data past byte 668"
    );
    let db = Database::open(&g.bytes).expect("opens");
    assert!(db.header.checksum_ok());
    // The old 668-byte checksum would not match.
    let short = bitscope::ese::header::xor_checksum(&g.bytes[4..668]);
    assert_ne!(short, db.header.checksum);
}

/// Tables as (name, [(column id, name, JET_coltyp)], rows).
type Catalog = Vec<(String, Vec<(u64, String, u64)>, u64)>;

#[derive(Deserialize)]
struct OracleRow {
    table: String,
    values: HashMap<String, serde_json::Value>,
}

#[test]
fn dissect_reads_the_truth() {
    if common::oracle_python().is_none() {
        return;
    }
    let dir = work_dir("dissect");
    let out = dir.join("qmgr.db");
    let (_, truth, _) = run_gen(&out, 1000, 2, 20, 21);
    for (name, live) in [("Jobs", &truth.jobs), ("Files", &truth.files)] {
        let text = common::run_oracle([
            std::ffi::OsStr::new("dump"),
            out.as_os_str(),
            std::ffi::OsStr::new("--table"),
            std::ffi::OsStr::new(name),
        ]);
        let rows: Vec<OracleRow> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("oracle JSON line"))
            .collect();
        assert_eq!(rows.len(), live.len(), "{name}: dissect row count");
        for (row, want) in rows.iter().zip(live.iter()) {
            assert_eq!(row.table, name);
            assert_eq!(row.values["Id"].as_str(), Some(want.id.as_str()), "{name}");
            let hexs = row.values["Blob"]
                .as_str()
                .unwrap_or_else(|| panic!("{name} {}: Blob {:?}", want.id, row.values["Blob"]));
            let blob: Vec<u8> = (0..hexs.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hexs[i..i + 2], 16).expect("hex"))
                .collect();
            assert_eq!(sha256_hex(&blob), want.blob_sha256, "{name} {}", want.id);
        }
    }
    // Its catalog: the same six tables and their columns as bitscope's.
    let info: serde_json::Value = serde_json::from_str(&common::run_oracle([
        std::ffi::OsStr::new("info"),
        out.as_os_str(),
    ]))
    .expect("oracle info JSON");
    let data = std::fs::read(&out).expect("reads");
    let db = Database::open(&data).expect("opens");
    let theirs: Catalog = info["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().to_string(),
                t["columns"]
                    .as_array()
                    .expect("columns")
                    .iter()
                    .map(|c| {
                        (
                            c["id"].as_u64().unwrap_or(0),
                            c["name"].as_str().unwrap_or_default().to_string(),
                            c["type"].as_u64().unwrap_or(0),
                        )
                    })
                    .collect(),
                t["rows"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let ours: Catalog = db
        .tables
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                t.columns
                    .iter()
                    .map(|c| {
                        (
                            u64::from(c.id),
                            c.name.clone(),
                            u64::from(c.coltype.as_u32()),
                        )
                    })
                    .collect(),
                db.rows(t.root).0.len() as u64,
            )
        })
        .collect();
    assert_eq!(theirs, ours);
    let rows_of = |name: &str| ours.iter().find(|t| t.0 == name).map(|t| t.2);
    assert_eq!(
        (rows_of("Jobs"), rows_of("Files")),
        (Some(1000), Some(2000))
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A table as listed: name, (column id, column name), index names.
type Listed = (String, Vec<(u32, String)>, Vec<String>);

/// `esedbinfo` output: every table with its columns and indexes.
fn parse_esedbinfo(text: &str) -> Vec<Listed> {
    let mut tables: Vec<Listed> = Vec::new();
    let mut in_columns = false;
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = line.strip_prefix("\tIndex:") {
            // "\tIndex: 1\t\tJobsById (8)" inside a table's section.
            let name = rest
                .trim()
                .split_once(char::is_whitespace)
                .and_then(|(_, n)| n.trim().rsplit_once(" ("))
                .map(|(n, _)| n.to_string())
                .unwrap_or_default();
            if let Some(table) = tables.last_mut() {
                table.2.push(name);
            }
            continue;
        }
        if let Some(rest) = t.strip_prefix("Table:") {
            // "Table: 5			Jobs (8)"
            let name = rest
                .trim()
                .split_once(char::is_whitespace)
                .map(|(_, n)| n.trim())
                .and_then(|n| n.rsplit_once(" ("))
                .map(|(n, _)| n.to_string())
                .unwrap_or_default();
            tables.push((name, Vec::new(), Vec::new()));
            in_columns = false;
        } else if t.starts_with("Column\tIdentifier") {
            in_columns = true;
        } else if in_columns {
            let f: Vec<&str> = t.split('\t').collect();
            match (
                f.get(1).and_then(|v| v.parse().ok()),
                f.get(2),
                tables.last_mut(),
            ) {
                (Some(id), Some(name), Some(table)) if f.len() >= 4 => {
                    table.1.push((id, (*name).to_string()));
                }
                _ => in_columns = false,
            }
        }
    }
    tables
}

#[test]
fn esedbinfo_lists_the_same_tables_and_columns() {
    let Ok(o) = Command::new("esedbinfo")
        .arg("-V")
        .stdin(Stdio::null())
        .output()
    else {
        common::skip("esedbinfo (Debian libesedb-utils) is not installed");
        return;
    };
    let _ = o;
    let dir = work_dir("esedbinfo");
    let out = dir.join("qmgr.db");
    let (data, _, _) = run_gen(&out, 1000, 2, 20, 31);
    let o = Command::new("esedbinfo")
        .arg(&out)
        .stdin(Stdio::null())
        .output()
        .expect("runs esedbinfo");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "esedbinfo failed: {}{}",
        text,
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text.contains("Current format:\t\t0x620,200"), "{text}");
    let theirs = parse_esedbinfo(&text);
    let db = Database::open(&data).expect("opens");
    let ours: Vec<Listed> = db
        .tables
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                t.columns.iter().map(|c| (c.id, c.name.clone())).collect(),
                t.indexes.iter().map(|i| i.name.clone()).collect(),
            )
        })
        .collect();
    assert_eq!(theirs, ours, "esedbinfo output:\n{text}");
    let _ = std::fs::remove_dir_all(dir);
}

/// `--all-fields`: every setting the generator writes comes back from the whole database, live
/// and carved, as BitsInfo fields equal to the truth's; without it the database is the one the
/// seed always gave.
#[test]
fn all_fields_round_trip_through_the_database() {
    use bitscope::gen::truth::Values;
    let opts = EseOptions {
        jobs: 200,
        files_per_job: 1,
        deleted: 60,
        seed: 2020,
        all_fields: true,
        ..EseOptions::default()
    };
    let g = gen::generate(&opts).expect("generates");
    let plain = gen::generate(&EseOptions {
        all_fields: false,
        ..opts.clone()
    })
    .expect("generates");
    assert!(g.bytes != plain.bytes);
    let parsed = bitscope::pipeline::parse_bytes_with(&g.bytes, "gen", true).expect("parses");
    let by_id: HashMap<&str, &bitscope::bits::model::BitsInfo> = parsed
        .records
        .iter()
        .filter(|r| !r.job_id.is_empty())
        .map(|r| (r.job_id.as_str(), r))
        .collect();
    let truths = g
        .truth
        .jobs
        .iter()
        .map(|j| &j.values)
        .chain(g.truth.deleted.iter().map(|d| &d.values));
    let mut checked = [0usize; 5];
    for v in truths {
        let Values::Job(v) = v else { continue };
        let r = by_id
            .get(v.job_id.as_str())
            .unwrap_or_else(|| panic!("job {} not read back", v.job_id));
        assert!(
            !r.warnings.iter().any(|w| w.contains("decoding stopped")),
            "{:?}",
            r.warnings
        );
        assert_eq!(r.target_path, v.target_path);
        assert_eq!(r.http_method, v.http_method);
        let Some(x) = &v.extras else {
            assert_eq!(
                (
                    r.package_family_name.as_str(),
                    r.proxy_usage.as_str(),
                    r.custom_headers.as_str()
                ),
                ("", "Preconfig", "")
            );
            continue;
        };
        checked[0] += 1;
        assert_eq!(r.package_family_name, x.package_family_name);
        assert_eq!(r.application_id, x.application_id);
        assert_eq!(r.package_guid, x.package_guid);
        checked[1] += usize::from(!x.package_family_name.is_empty());
        assert_eq!(r.proxy_usage, x.proxy_usage);
        assert_eq!(r.proxy_list, x.proxy_list);
        assert_eq!(r.proxy_bypass, x.proxy_bypass);
        checked[2] += usize::from(!x.proxy_list.is_empty());
        if x.custom_headers_size > 0 {
            checked[3] += 1;
            assert!(
                r.custom_headers.starts_with(&format!(
                    "{} bytes of headers DPAPI-protected: \"BITS Job Custom headers\"",
                    x.custom_headers_size
                )),
                "{}",
                r.custom_headers
            );
        } else {
            assert_eq!(r.custom_headers, "");
        }
        assert_eq!(r.security_flags, x.security_flags);
        let contexts: Vec<u32> = r
            .error_context
            .split("; ")
            .filter(|c| !c.is_empty())
            .filter_map(|c| c.rsplit_once('(')?.1.trim_end_matches(')').parse().ok())
            .collect();
        assert_eq!(contexts, x.error_context);
        checked[4] += x.error_text.len();
        // Every job field came back (a deleted job's file is carved as a record of its own).
        let file_fields = bitscope::bits::model::FILE_FIELDS;
        assert!(
            r.missing_fields.iter().all(|m| m == "file_id"
                || file_fields.contains(&m.as_str())
                || bitscope::bits::model::NOT_PLACED.contains(&m.as_str())
                || m.starts_with("reply_")),
            "{:?}",
            r.missing_fields
        );
    }
    assert!(checked.iter().all(|&n| n > 3), "{checked:?}");
}
