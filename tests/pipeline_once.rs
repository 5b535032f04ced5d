//! One path, opened once: every evidence file is opened exactly once and decoded exactly once
//! per run, whichever front end runs it (`parse`'s pipeline, the collection, the explorer's
//! worker).
//!
//! The counters are process-wide, so this file holds a single test: tests in one binary run
//! in parallel and would count each other's opens.

mod common;

use std::path::PathBuf;

use bitscope::input::opens;
use bitscope::pipeline::{self, decode_counts, Options};
use common::{manifest_dir, sample};

/// (evidence opens, databases opened, legacy queues decoded) that `f` caused.
fn counted(f: impl FnOnce()) -> (usize, usize, usize) {
    let (o, d, q) = (opens(), decode_counts().0, decode_counts().1);
    f();
    let (o2, (d2, q2)) = (opens(), decode_counts());
    (o2 - o, d2 - d, q2 - q)
}

#[test]
fn each_input_is_opened_and_decoded_once() {
    let legacy = manifest_dir().join("testdata/legacy/win7-deleted.qmgr0.dat");
    let mut inputs: Vec<(PathBuf, (usize, usize, usize))> = vec![(legacy, (1, 0, 1))];
    if let Some(db) = sample("ese/win10/qmgr.db") {
        inputs.push((db, (1, 1, 0)));
    }
    let carve = Options {
        carve: true,
        ..Options::default()
    };
    for (path, want) in &inputs {
        let mut parsed = bitscope::pipeline::Parsed::default();
        let got = counted(|| {
            pipeline::run_file(path, &carve, &mut parsed).expect("decodes");
        });
        assert_eq!(got, *want, "parse --carve of {}", path.display());
        assert!(!parsed.records.is_empty());
        let mut records = 0;
        let got = counted(|| records = common::explorer_load(path).len() as u64);
        assert_eq!(got, *want, "explorer load of {}", path.display());
        assert_eq!(records, parsed.records.len() as u64);
    }
}
