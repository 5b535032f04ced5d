//! The carver against generated databases with planted deleted records (ground truth from
//! `bitscope::gen`): every planted record recovered with its values, nothing invented.

use bitscope::gen::truth::Values;
use bitscope::gen::{generate, EseOptions};
use bitscope::pipeline::parse_bytes_with;

#[test]
fn every_planted_deleted_record_comes_back_and_nothing_else() {
    check(50, 1, 28, 7);
}

#[test]
fn the_same_at_a_larger_scale() {
    check(400, 2, 140, 11);
}

fn check(jobs: usize, files_per_job: usize, deleted: usize, seed: u64) {
    let g = generate(&EseOptions {
        jobs,
        files_per_job,
        deleted,
        seed,
        ..EseOptions::default()
    })
    .unwrap();
    let parsed = parse_bytes_with(&g.bytes, "gen.db", true).unwrap();
    let carved: Vec<_> = parsed.records.iter().filter(|r| r.carved).collect();
    let mut missing = Vec::new();
    let mut matched = vec![false; carved.len()];
    for d in &g.truth.deleted {
        let hit = carved.iter().enumerate().find(|(_, r)| match &d.values {
            Values::Job(j) => {
                r.job_id == j.job_id
                    && r.job_name == j.job_name
                    && r.owner_sid == j.owner_sid
                    && r.created == j.created
                    && r.target_path == j.target_path
                    && r.http_method == j.http_method
                    && r.job_source
                        .as_ref()
                        .is_some_and(|s| s.offset == d.pieces[0].offset)
            }
            Values::File(f) => {
                r.url == f.url
                    && r.full_path == f.full_path
                    && r.tmp_fullpath == f.tmp_fullpath
                    && r.bytes_downloaded == f.bytes_transferred
                    && r.file_source
                        .as_ref()
                        .is_some_and(|s| s.offset == d.pieces[0].offset)
            }
        });
        match hit {
            Some((i, _)) => matched[i] = true,
            None => missing.push(format!("{} {} {}", d.kind, d.table, d.id)),
        }
    }
    assert!(
        missing.is_empty(),
        "planted but not recovered: {missing:#?}"
    );
    let extra: Vec<_> = carved
        .iter()
        .zip(&matched)
        .filter(|(_, m)| !**m)
        .map(|(r, _)| {
            (
                r.job_id.clone(),
                r.url.clone(),
                r.job_source
                    .as_ref()
                    .or(r.file_source.as_ref())
                    .map(|s| (s.offset, s.container.clone())),
            )
        })
        .collect();
    assert!(extra.is_empty(), "carved but never planted: {extra:#?}");
}

mod common;

/// Offsets of every record `bitscope parse --carve` reports for `path`.
fn carved_offsets(path: &std::path::Path) -> Vec<u64> {
    let parsed = bitscope::pipeline::parse_file_with(path, true).unwrap();
    let mut v: Vec<u64> = parsed
        .records
        .iter()
        .filter_map(|r| {
            r.job_source
                .as_ref()
                .or(r.file_source.as_ref())
                .map(|s| s.offset)
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn generated_images_and_legacy_queues_give_back_exactly_what_was_planted() {
    let Some(samples) = common::samples_dir() else {
        common::skip("samples dir (the generator builds from the real pieces)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("bitscope-gen-carve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let img = dir.join("disk.img");
    let truth = bitscope::gen::raw::write_image(&samples, 40 << 20, 30, 5, &img, true).unwrap();
    let mut want: Vec<u64> = truth["planted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["offset"].as_u64().unwrap())
        .collect();
    want.sort();
    assert_eq!(carved_offsets(&img), want);
    for variant in ["win7", "win10"] {
        let q = dir.join(format!("{variant}.qmgr0.dat"));
        let truth = bitscope::gen::raw::write_legacy(&samples, 4, 3, variant, &q, true).unwrap();
        let mut want: Vec<u64> = ["jobs", "deleted"]
            .iter()
            .flat_map(|k| {
                truth[*k]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|j| j["offset"].as_u64().unwrap())
            })
            .collect();
        want.sort();
        assert_eq!(carved_offsets(&q), want, "{variant}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
