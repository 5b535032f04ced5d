//! The generator's issue-20 fields through the layers above it: legacy extras (25-byte error
//! entries, proxies, custom headers) as BitsInfo through the pipeline, and mutations of the
//! new job sections (the 24H2 sample's package form, generated proxies, headers, security
//! flags, error texts, doubled markers). Kept here because `src/bits` and `src/gen` may not
//! import the layers above them (tests/layers.rs).

mod common;

use std::time::{Duration, Instant};

use bitscope::bits::job::decode_job_blob;
use bitscope::gen::blobs::{encode_job, enrich, random_job, Machine};
use bitscope::gen::legacy::{
    build_queue, JobSpec, LegacyExtras, Pieces, Preamble, QueueSpec, Record, EMPTY_QUEUE_SAMPLE,
    WIN10_JOB_SAMPLE, WIN7_JOB_SAMPLE,
};
use bitscope::util::rng::Rng;

/// Errors, proxy settings and custom headers written into copies of both real legacy records
/// come out of the pipeline as BitsInfo fields, with nothing missing.
#[test]
fn legacy_extras_reach_the_record() {
    const X: LegacyExtras = LegacyExtras {
        errors: &[(0x8019_0194, 5), (0x8007_2EE7, 6)],
        proxy_usage: 2,
        proxy_list: Some("proxy1.corp.example:8080"),
        proxy_bypass: Some("<local>"),
        headers: 104,
    };
    let (Some(e), Some(w7), Some(w10)) = (
        common::sample(EMPTY_QUEUE_SAMPLE),
        common::sample(WIN7_JOB_SAMPLE),
        common::sample(WIN10_JOB_SAMPLE),
    ) else {
        return;
    };
    let (e, w7, w10) = (
        std::fs::read(e).unwrap(),
        std::fs::read(w7).unwrap(),
        std::fs::read(w10).unwrap(),
    );
    let p = Pieces::new(&e, &w7, &w10).expect("pieces");
    for (record, preamble) in [
        (Record::Win7, Preamble::Win7),
        (Record::EarlyWin10, Preamble::EarlyWin10),
    ] {
        let q = build_queue(&QueueSpec {
            pieces: p,
            preamble,
            jobs: &[JobSpec::copy(record, 4).with(X)],
            deleted: &[],
        });
        let parsed = bitscope::pipeline::parse_bytes(&q, "queue").expect("parses");
        let [r] = parsed.records.as_slice() else {
            panic!("{} records", parsed.records.len())
        };
        assert_eq!(r.error_count, 2);
        assert_eq!(r.error_code, "0x80190194 (HTTP 404); 0x80072ee7");
        assert_eq!(r.error_context, "remote file (5); general transport (6)");
        assert_eq!(
            (
                r.proxy_usage.as_str(),
                r.proxy_list.as_str(),
                r.proxy_bypass.as_str()
            ),
            ("Override", "proxy1.corp.example:8080", "<local>")
        );
        assert!(
            r.custom_headers.starts_with(
                "104 bytes of headers DPAPI-protected: \"BITS Job Custom headers\", master key 42424242-"
            ),
            "{}",
            r.custom_headers
        );
        assert_eq!(r.missing_fields, bitscope::bits::model::NOT_PLACED);
        assert_eq!(r.job_version, record.label());
    }
}

/// Changed bytes, cuts and splices of job blobs holding the new sections: every decode ends,
/// quickly, with its fields and unknown byte runs inside the bytes given.
#[test]
fn mutations_of_the_new_sections_never_panic_or_hang() {
    let mut rng = Rng::new(0x24_02);
    let machine = Machine::random(&mut rng);
    let mut bases: Vec<Vec<u8>> = Vec::new();
    if let Some(db) = common::sample("ese/win11-24h2/qmgr.db") {
        let db = std::fs::read(db).unwrap();
        let parsed = bitscope::pipeline::parse_bytes(&db, "24h2").expect("parses");
        for r in &parsed.records {
            if let Some(s) = &r.job_source {
                let (o, n) = (s.offset as usize, s.length as usize);
                if s.extents.len() == 1 {
                    bases.extend(db.get(o..o + n).map(<[u8]>::to_vec));
                }
            }
        }
    }
    for _ in 0..40 {
        let mut j = random_job(&mut rng, &machine, 1).job;
        enrich(&mut rng, &machine, &mut j);
        bases.extend(encode_job(&j));
    }
    assert!(bases.len() >= 40);
    let start = Instant::now();
    for i in 0..6000 {
        let base = &bases[i % bases.len()];
        let m = mutate(&mut rng, base);
        let t = Instant::now();
        if let Ok(j) = decode_job_blob(&m) {
            assert!(j.len <= m.len());
            assert!(j
                .fields
                .iter()
                .all(|f| f.1.checked_add(f.2).is_some_and(|e| e <= m.len())));
            assert!(j
                .unknown
                .iter()
                .all(|(o, n)| o.checked_add(*n).is_some_and(|e| e <= m.len())));
            let _ = bitscope::bits::model::missing_job_fields(&j);
        }
        assert!(t.elapsed() < Duration::from_millis(200));
    }
    assert!(start.elapsed() < Duration::from_secs(60));
}

/// One to eight changes: a byte set, a u32 count made huge, a cut, a run doubled.
fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut m = base.to_vec();
    for _ in 0..1 + rng.below(8) {
        if m.is_empty() {
            break;
        }
        let at = rng.below(m.len() as u64) as usize;
        match rng.below(4) {
            0 => m[at] = rng.next_u64() as u8,
            1 => {
                let end = (at + 4).min(m.len());
                for b in &mut m[at..end] {
                    *b = 0xff;
                }
            }
            2 => m.truncate(at),
            _ => {
                let end = (at + 1 + rng.below(64) as usize).min(m.len());
                let run = m[at..end].to_vec();
                m.splice(at..at, run);
            }
        }
    }
    m
}
