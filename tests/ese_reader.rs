//! The ESE reader on the real samples: blobs, headers, single pages, bad input.

mod common;

use bitscope::ese::catalog::Table;
use bitscope::ese::page::Page;
use bitscope::ese::record::RecordLayout;
use bitscope::ese::value::Value;
use bitscope::ese::{cell_value, Database, LongValues};
use common::{run_bitscope, sample};

fn read(rel: &str) -> Option<Vec<u8>> {
    sample(rel).map(|p| std::fs::read(p).expect("read sample"))
}

/// The Blob of the only row of `table`.
fn only_blob(db: &Database<'_>, table: &str) -> (String, Vec<u8>) {
    let t = db.table(table).expect("table exists");
    let (lv, warnings) = db.long_values(t);
    assert!(warnings.is_empty(), "{warnings:?}");
    let (rows, warnings) = db.rows(t.root);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(rows.len(), 1);
    let values = db.row_values(t, &rows[0], &lv);
    let Value::Guid(id) = &values[0] else {
        panic!("Id is not a GUID: {values:?}")
    };
    let Value::Binary(blob) = &values[1] else {
        panic!("Blob is not binary: {values:?}")
    };
    (id.to_string(), blob.clone())
}

#[test]
fn win10_blobs_are_byte_identical_to_the_extracted_samples() {
    let (Some(data), Some(job), Some(file)) = (
        read("ese/win10/qmgr.db"),
        read("blobs/win10/job.raw"),
        read("blobs/win10/file.raw"),
    ) else {
        return;
    };
    let db = Database::open(&data).unwrap();
    let (job_id, job_blob) = only_blob(&db, "Jobs");
    assert_eq!(job_id, "266504ac-d974-446c-96ad-2be13a5665b0");
    assert_eq!(job_blob.len(), 2055);
    assert_eq!(job_blob, job);
    let (file_id, file_blob) = only_blob(&db, "Files");
    assert_eq!(file_id, "95d6889c-b2d3-4748-8eb1-9da0650cb892");
    assert_eq!(file_blob, file);
    // The live blob is a separated long value with an 8-byte id: 0c00008000000080 in the
    // record, 800000008000000c (big-endian) in the long-value tree, referenced once.
    let t = db.table("Jobs").unwrap();
    let (lv, _) = db.long_values(t);
    let live: Vec<_> = lv.roots().into_iter().filter(|r| r.refcount > 0).collect();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].id, [0x80, 0, 0, 0, 0x80, 0, 0, 0x0c]);
    assert_eq!(live[0].size, 2055);
}

#[test]
fn win10_catalog_and_state() {
    let Some(data) = read("ese/win10/qmgr.db") else {
        return;
    };
    let db = Database::open(&data).unwrap();
    assert_eq!(db.header.format_version, 0x620);
    assert_eq!(db.header.format_revision, 0x6e);
    assert_eq!(db.header.state_name(), "dirty shutdown");
    assert_eq!(db.page_size, 16384);
    assert_eq!(db.page_count(), 78);
    let names: Vec<_> = db.tables.iter().map(|t| t.name.as_str()).collect();
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
    for t in ["Jobs", "Files"] {
        let t = db.table(t).unwrap();
        let cols: Vec<_> = t
            .columns
            .iter()
            .map(|c| (c.id, c.name.as_str(), c.coltype.name()))
            .collect();
        assert_eq!(cols, [(1, "Id", "GUID"), (256, "Blob", "LongBinary")]);
        assert!(t.lv_root.is_some());
    }
    assert!(db.warnings.is_empty(), "{:?}", db.warnings);
}

#[test]
fn win11_opens_despite_the_old_668_byte_checksum_and_reports_dirty() {
    let Some(data) = read("ese/win11/qmgr.db") else {
        return;
    };
    // Old readers checksum only the first 668 bytes; Windows 11 writes past them.
    let short = bitscope::ese::header::xor_checksum(&data[4..668]);
    let stored = u32::from_le_bytes(data[0..4].try_into().unwrap());
    assert_ne!(short, stored, "the 668-byte checksum really mismatches");
    let db = Database::open(&data).unwrap();
    assert!(db.header.checksum_ok(), "the whole-4 KiB checksum matches");
    assert_eq!(db.header.format_revision, 0xc8);
    assert_eq!(db.header.state_name(), "dirty shutdown");
    let jobs = db.table("Jobs").unwrap();
    assert_eq!(db.rows(jobs.root).0.len(), 4);
    let files = db.table("Files").unwrap();
    assert_eq!(db.rows(files.root).0.len(), 4);

    let out = run_bitscope([
        "ese",
        "info",
        sample("ese/win11/qmgr.db").unwrap().to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("state       dirty shutdown"), "{text}");
}

/// Decode the catalog rows stored on one page.
fn catalog_names(page: &Page<'_>) -> Vec<String> {
    let cat = Table::catalog(4);
    let name = cat.column("Name").unwrap();
    page.nodes()
        .filter_map(|n| RecordLayout::parse(n.data, page.large))
        .map(|rec| match cell_value(name, &rec, &LongValues::default()) {
            Value::Text(s) => s,
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn single_pages_parse_including_24h2_catalog_pages() {
    for (rel, pgno, flags, tags, reserved) in [
        ("ese/pages/win10/page.raw", 1, 0xa803, 1, 1),
        (
            "ese/pages/win10/branch_child_table.raw",
            578,
            0xa802,
            0xb,
            1,
        ),
        ("ese/pages/win10/long_value_child.raw", 56, 0xa882, 0xd, 1),
        ("ese/pages/win10/longvalue_page.raw", 37, 0x12885, 0xa, 1),
        (
            "ese/pages/win10/branch_child_search.raw",
            13,
            0xa802,
            0xf2,
            1,
        ),
        ("ese/pages/win11/catalog_24h2.raw", 4, 0xa803, 0x57, 1),
        ("ese/pages/win11/edge_catalog_24h2.raw", 4, 0x1a805, 0x3, 1),
    ] {
        let Some(buf) = read(rel) else { return };
        let page = Page::parse(pgno, &buf, true).expect(rel);
        assert_eq!(page.header.page_number, Some(pgno), "{rel}");
        assert_eq!(page.header.flags, flags, "{rel}");
        assert_eq!(page.header.tag_count(), tags, "{rel}");
        assert_eq!(page.header.reserved_tags(), reserved, "{rel}");
        assert_eq!(
            page.nodes().count(),
            tags - reserved,
            "{rel}: every node parses"
        );
        // Free space and tag values never overlap and stay inside the page.
        for (s, e) in page.free_ranges() {
            assert!(s < e && e <= buf.len(), "{rel}");
        }
    }
    // The 24H2 catalog page: tag field 0x1057 = 1 reserved tag, 0x57 tags; its rows are the
    // catalog of a qmgr.db-like database, names readable.
    let Some(buf) = read("ese/pages/win11/catalog_24h2.raw") else {
        return;
    };
    let page = Page::parse(4, &buf, true).unwrap();
    assert_eq!(page.header.tag_state, 0x1057);
    let names = catalog_names(&page);
    assert!(matches!(
        page.checksum(),
        bitscope::ese::checksum::ChecksumStatus::Ok
    ));
    assert_eq!(names.len(), 0x56);
    for expected in [
        "MSysObjects",
        "MSysObjectsShadow",
        "Jobs",
        "Files",
        "Id",
        "Blob",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
}

#[test]
fn bad_input_gets_a_one_line_error_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("bitscope-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("notes.txt");
    std::fs::write(
        &text,
        "this is not a database, just some text that is long enough ".repeat(40),
    )
    .unwrap();
    let empty = dir.join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    for (path, needle) in [
        (&text, "not an ESE database: bad signature"),
        (&empty, "empty file"),
        (&dir, "is a directory"),
    ] {
        let out = run_bitscope(["ese", "info", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(path.to_str().unwrap()) && err.contains(needle),
            "{err}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn win10_keeps_16_deleted_job_blobs_as_unreferenced_long_values() {
    let Some(data) = read("ese/win10/qmgr.db") else {
        return;
    };
    let db = Database::open(&data).unwrap();
    let jobs = db.table("Jobs").unwrap();
    let (lv, _) = db.long_values(jobs);
    let orphans = lv.orphans();
    let complete: Vec<_> = orphans
        .iter()
        .filter_map(|(_, b)| b.as_ref().ok())
        .filter(|b| b.len() > 32 && b[..16] == b[b.len() - 16..])
        .collect();
    // 42 unreferenced job blobs, all complete (each starts and ends with the job marker
    // A15609E1…): 16 under 64-bit long-value ids (8000000080000010…) and 26 more under
    // older 32-bit ids (00000001…), which the tree still holds with reference count 0.
    let wide = orphans.iter().filter(|(r, _)| r.id.len() == 8).count();
    assert_eq!(wide, 16);
    assert_eq!(
        complete.len(),
        42,
        "{:?}",
        orphans
            .iter()
            .map(|(r, b)| (r.id.clone(), b.as_ref().map(|b| b.len())))
            .collect::<Vec<_>>()
    );
    for b in &complete {
        assert_eq!(&b[..4], &[0xA1, 0x56, 0x09, 0xE1]);
    }
}
