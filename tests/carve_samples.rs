//! The carver on the real databases, against what artemis and BitsParser find.

mod common;

use std::collections::BTreeSet;

use bitscope::bits::model::BitsInfo;
use bitscope::pipeline::parse_file_with;
use serde_json::Value;

fn carve(rel: &str) -> Option<Vec<BitsInfo>> {
    let path = common::sample(rel)?;
    Some(parse_file_with(&path, true).expect("carves").records)
}

fn reference(rel: &str) -> Option<Vec<Value>> {
    let p = common::sample(rel)?;
    Some(serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
}

/// A GUID that is really UTF-16 text (every second byte 0, the others printable): BitsParser's
/// garbage, e.g. 00700075-002e-0063-7200-780033000000 = "u.p.c.r.x.3" read as a GUID.
fn is_garbage_id(id: &str) -> bool {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    id == "00000000-0000-0000-0000-000000000000"
        || (hex.len() == 32 && {
            // Undo the GUID's little-endian first three fields to get the stored bytes.
            let b: Vec<u8> = (0..16)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            let stored = [
                b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12],
                b[13], b[14], b[15],
            ];
            stored
                .chunks(2)
                .all(|c| c[1] == 0 && (c[0] == 0 || (0x20..0x7f).contains(&c[0])))
        })
}

fn check(win: &str, min_ids: usize, min_urls: usize) {
    let Some(rows) = carve(&format!("ese/{win}/qmgr.db")) else {
        return;
    };
    let (Some(artemis), Some(bitsparser)) = (
        reference(&format!("reference/artemis/{win}-carve.json")),
        reference(&format!("reference/bitsparser/{win}-carve.json")),
    ) else {
        return;
    };
    let ids: BTreeSet<String> = rows
        .iter()
        .filter(|r| !r.job_id.is_empty())
        .map(|r| r.job_id.clone())
        .collect();
    let urls: BTreeSet<String> = rows
        .iter()
        .filter(|r| !r.url.is_empty())
        .map(|r| r.url.clone())
        .collect();
    assert!(ids.len() >= min_ids, "{win}: {} job ids", ids.len());
    assert!(urls.len() >= min_urls, "{win}: {} urls", urls.len());

    // No garbage: every carved job has a real id, enums in range, an id that is not text.
    for r in rows.iter().filter(|r| r.carved && r.job_source.is_some()) {
        assert!(
            !r.job_id.is_empty() && !is_garbage_id(&r.job_id),
            "{win}: {}",
            r.job_id
        );
        assert!(
            !r.job_state.starts_with("Unknown")
                && !r.priority.starts_with("Unknown")
                && !r.job_type.starts_with("Unknown"),
            "{win}: {r:?}"
        );
        assert_eq!(r.job_source.as_ref().unwrap().kind, "carved");
    }

    // Everything the references found that is not garbage, we find too.
    let their_ids: BTreeSet<String> = artemis
        .iter()
        .map(|r| r["job_id"].as_str().unwrap_or("").to_string())
        .chain(
            bitsparser
                .iter()
                .filter_map(|r| r["JobId"].as_str().map(String::from)),
        )
        .filter(|id| !id.is_empty() && !is_garbage_id(id))
        .collect();
    let their_urls: BTreeSet<String> = artemis
        .iter()
        .filter_map(|r| r["url"].as_str().map(String::from))
        .chain(bitsparser.iter().flat_map(|r| {
            r["Files"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f["SourceURL"].as_str().map(String::from))
        }))
        .filter(|u| !u.is_empty())
        .collect();
    let lack_ids: Vec<_> = their_ids.difference(&ids).collect();
    let lack_urls: Vec<_> = their_urls.difference(&urls).collect();
    assert!(
        lack_ids.is_empty(),
        "{win}: ids the references have and we lack: {lack_ids:?}"
    );
    assert!(
        lack_urls.is_empty(),
        "{win}: urls the references have and we lack: {lack_urls:?}"
    );
    eprintln!(
        "{win}: {} ids, {} urls; beyond the references: {} ids, {} urls",
        ids.len(),
        urls.len(),
        ids.difference(&their_ids).count(),
        urls.difference(&their_urls).count()
    );
}

#[test]
fn win10_carving_finds_every_real_job_and_url() {
    check("win10", 23, 28);
}

#[test]
fn win11_carving_finds_every_real_job_and_url() {
    check("win11", 9, 6);
}

#[test]
fn the_live_record_does_not_come_back_as_carved() {
    let Some(rows) = carve("ese/win10/qmgr.db") else {
        return;
    };
    let live: Vec<_> = rows.iter().filter(|r| !r.carved).collect();
    assert_eq!(live.len(), 1);
    let live_src = live[0].job_source.as_ref().unwrap();
    // Older copies of the live job may exist (other versions), but never the same bytes.
    let data = std::fs::read(common::sample("ese/win10/qmgr.db").unwrap()).unwrap();
    let live_bytes = &data[live_src.offset as usize..(live_src.offset + live_src.length) as usize];
    for r in rows
        .iter()
        .filter(|r| r.carved && r.job_id == live[0].job_id)
    {
        let s = r.job_source.as_ref().unwrap();
        let b = &data[s.offset as usize..(s.offset + s.length) as usize];
        assert_ne!(b, live_bytes);
        assert!(r.versions >= 2);
    }
}

#[test]
fn carved_records_carry_their_provenance() {
    let Some(rows) = carve("ese/win10/qmgr.db") else {
        return;
    };
    let data = std::fs::read(common::sample("ese/win10/qmgr.db").unwrap()).unwrap();
    let mut rejoined = 0;
    for r in rows.iter().filter(|r| r.carved) {
        let s = r.job_source.as_ref().or(r.file_source.as_ref()).unwrap();
        if s.container.contains("rejoined") {
            rejoined += 1;
            assert!(s.extents.len() > 1);
            // Each piece lies in the file; together they are the record's bytes.
            let total: u64 = s.extents.iter().map(|(_, l)| l).sum();
            assert!(total >= s.length);
            continue;
        }
        // A contiguous record starts with its marker at the stated offset.
        let at = s.offset as usize;
        let marker = &data[at..at + 16];
        assert!(
            bitscope::bits::job::job_marker_label(marker).is_some()
                || marker == bitscope::bits::file::FILE_MARKER,
            "marker at {at}"
        );
        assert!(s.page.is_some());
    }
    assert!(rejoined > 0, "blobs split across pages are rejoined");
}
