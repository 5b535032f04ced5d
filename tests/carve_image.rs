//! Carving a raw image streamed in chunks: every planted record back, at its offset, with its
//! values, and nothing else -- including records straddling the 8 MiB chunk and 1 MiB boundaries.

mod common;

use bitscope::pipeline::parse_file_with;
use bitscope::util::rng::Rng;

/// A copy of `blob` made distinct: the 16 bytes at `id_at` (the job id) get `n` mixed in.
fn variant(blob: &[u8], id_at: usize, n: u8) -> Vec<u8> {
    let mut b = blob.to_vec();
    b[id_at] ^= n.wrapping_mul(37).wrapping_add(1);
    b[id_at + 15] ^= n;
    b
}

#[test]
fn planted_records_come_back_exactly() {
    let (Some(job), Some(file), Some(win7)) = (
        common::sample("blobs/win10/job.raw"),
        common::sample("blobs/win10/file.raw"),
        common::sample("legacy/job-records/win7/system-notify-cmd.job"),
    ) else {
        return;
    };
    let (job, file, win7) = (
        std::fs::read(job).unwrap(),
        std::fs::read(file).unwrap(),
        std::fs::read(win7).unwrap(),
    );
    let size = 20 << 20;
    let mut img = vec![0u8; size];
    let mut rng = Rng::new(0x1234_5678);
    // Random background in the first half, zeros after.
    for chunk in img[..size / 2].chunks_mut(8) {
        let v = rng.next_u64().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    // (offset, bytes, kind): odd offsets, some across the 8 MiB chunk boundary and 1 MiB lines.
    let chunk = 8 << 20;
    let mib = 1 << 20;
    let mut planted: Vec<(usize, Vec<u8>, &str)> = vec![
        (0, variant(&job, 0x20, 1), "job"),
        (4097, variant(&job, 0x20, 2), "job"),
        (mib - 1001, variant(&job, 0x20, 3), "job"),
        (3 * mib + 13, file.clone(), "file"),
        (5 * mib - 999, variant(&win7, 0x20, 8), "legacy"),
        (chunk - 2100, variant(&job, 0x20, 4), "job"),
        (chunk - 7, variant(&job, 0x20, 5), "job"),
        (chunk + 4001, variant(&file, 0x308, 6), "file"),
        (15 * mib + 1, variant(&job, 0x20, 10), "job"),
        (2 * chunk - 500, variant(&file, 0x308, 7), "file"),
        (2 * chunk + 3001, variant(&win7, 0x20, 9), "legacy"),
    ];
    planted.sort_by_key(|p| p.0);
    for (at, bytes, _) in &planted {
        img[*at..*at + bytes.len()].copy_from_slice(bytes);
    }
    let dir = std::env::temp_dir().join(format!("bitscope-img-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("disk.img");
    std::fs::write(&path, &img).unwrap();

    let parsed = parse_file_with(&path, true).unwrap();
    let mut got: Vec<(u64, u64, bool, bool)> = parsed
        .records
        .iter()
        .map(|r| {
            let s = r.job_source.as_ref().or(r.file_source.as_ref()).unwrap();
            (
                s.offset,
                s.length,
                r.job_source.is_some(),
                r.file_source.is_some(),
            )
        })
        .collect();
    got.sort();
    got.dedup();
    let want: Vec<(u64, u64, bool, bool)> = planted
        .iter()
        .map(|(at, b, kind)| (*at as u64, b.len() as u64, *kind != "file", *kind != "job"))
        .collect();
    assert_eq!(
        got, want,
        "every planted record at its offset and length, nothing else"
    );
    for r in &parsed.records {
        assert!(r.carved);
        // Every field each record holds was recovered; a job whose file was not planted
        // lists the file's fields as unknown (not "0 bytes of 0").
        if r.job_source.is_some() && r.file_source.is_none() {
            let mut want = bitscope::bits::model::NOT_PLACED.to_vec();
            want.extend(bitscope::bits::model::FILE_FIELDS);
            assert_eq!(r.missing_fields, want, "{}", r.job_name);
        } else if r.job_source.is_some() {
            // Only the fields no job's bytes are known to place.
            assert_eq!(
                r.missing_fields,
                bitscope::bits::model::NOT_PLACED,
                "{:?}",
                r.missing_fields
            );
        } else {
            assert!(r.missing_fields.is_empty(), "{:?}", r.missing_fields);
        }
        if r.job_source
            .as_ref()
            .is_some_and(|s| s.container == "raw bytes")
            && r.job_name == "Chrome Component Updater"
        {
            assert_eq!(r.owner_sid, "S-1-5-21-1079689790-2336414676-942872339-1001");
            assert_eq!(
                r.target_path,
                r"C:\Program Files\Chromium\Application\chrome.exe"
            );
        }
        if r.file_source.is_some() && r.job_source.is_none() {
            assert!(r.url.starts_with("http://edgedl.me.gvt1.com/"));
        }
    }
    let legacy: Vec<_> = parsed
        .records
        .iter()
        .filter(|r| r.owner_sid == "S-1-5-18")
        .collect();
    assert_eq!(legacy.len(), 2);
    assert!(legacy
        .iter()
        .all(|r| !r.job_command.is_empty() && !r.url.is_empty()));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A legacy queue whose slack holds a deleted job (fixture from the legacy generator):
/// the live job once, the deleted one carved from the slack at its offset, with its file.
#[test]
fn a_deleted_job_in_legacy_slack_is_carved() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/legacy/win7-deleted.qmgr0.dat");
    let parsed = parse_file_with(&path, true).unwrap();
    let live: Vec<_> = parsed.records.iter().filter(|r| !r.carved).collect();
    let carved: Vec<_> = parsed.records.iter().filter(|r| r.carved).collect();
    assert_eq!((live.len(), carved.len()), (1, 1));
    assert_eq!(live[0].job_name, "TTT");
    let c = carved[0];
    assert_eq!(c.job_name, "TTT #2");
    assert_eq!(c.owner_sid, "S-1-5-18");
    assert!(c.url.starts_with("http://mirror.isoc.org.il/pub/videolan/"));
    assert_eq!(c.missing_fields, bitscope::bits::model::NOT_PLACED);
    let s = c.job_source.as_ref().unwrap();
    assert_eq!(s.offset, 0x844);
    assert_eq!(s.container, "legacy queue (outside the live job list)");
}
