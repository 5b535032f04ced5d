//! The two files of a legacy queue read as one (`src/pipeline/pair.rs`): a job both files hold
//! is one job; identical copies are one row naming the other file, copies that differ are two
//! versions, a carved copy of the other file's live job is no deleted job.

mod common;

use std::path::{Path, PathBuf};

use bitscope::bits::model::{BitsInfo, SourceKind};
use bitscope::pipeline::driver::{run_inputs, Inputs, Report};
use bitscope::pipeline::{Options, Parsed};

/// A folder holding `qmgr0` and `qmgr1` (committed fixtures) under the names Windows uses;
/// `patch` changes the second file first.
fn folder(tag: &str, qmgr0: &str, qmgr1: &str, patch: impl Fn(&mut Vec<u8>)) -> PathBuf {
    let dir = common::scratch_dir(&format!("pair-{tag}"));
    let fixture = |f: &str| std::fs::read(common::manifest_dir().join("testdata/legacy").join(f));
    std::fs::write(dir.join("qmgr0.dat"), fixture(qmgr0).expect("fixture")).expect("write");
    let mut second = fixture(qmgr1).expect("fixture");
    patch(&mut second);
    std::fs::write(dir.join("qmgr1.dat"), second).expect("write");
    dir
}

fn run(dir: &Path, carve: bool) -> (Vec<BitsInfo>, Vec<Report>) {
    let opts = Options {
        carve,
        ..Options::default()
    };
    let mut out = Parsed::default();
    let reports =
        run_inputs(Inputs::find(&[dir.to_path_buf()]), &opts, false, &mut out).expect("runs");
    (out.records, reports)
}

/// (name, file it is read from, live or carved, versions, other copies as (file, kind)).
type Row = (String, String, bool, u32, Vec<(String, SourceKind)>);

fn rows(records: &[BitsInfo]) -> Vec<Row> {
    let name = |p: &str| {
        Path::new(p)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
    };
    records
        .iter()
        .map(|r| {
            let s = r.job_source.as_ref().expect("a job");
            let also = s
                .also_in
                .iter()
                .map(|c| (name(&c.evidence).unwrap_or_default(), c.kind))
                .collect();
            (
                r.job_name.clone(),
                name(&s.evidence).unwrap_or_default(),
                r.carved,
                r.versions,
                also,
            )
        })
        .collect()
}

fn row(name: &str, file: &str, carved: bool, versions: u32, also: &[(&str, SourceKind)]) -> Row {
    (
        name.into(),
        file.into(),
        carved,
        versions,
        also.iter().map(|(f, k)| ((*f).into(), *k)).collect(),
    )
}

#[test]
fn identical_copies_are_one_row_naming_the_other_file() {
    // qmgr1 is the older copy: STST and STST #2; qmgr0 added STST #3.
    let dir = folder(
        "same",
        "win10early-3jobs.qmgr0.dat",
        "win10early-3jobs.qmgr1.dat",
        |_| {},
    );
    for carve in [false, true] {
        let (records, reports) = run(&dir, carve);
        let live = SourceKind::Live;
        assert_eq!(
            rows(&records),
            vec![
                row("STST", "qmgr0.dat", false, 1, &[("qmgr1.dat", live)]),
                row("STST #2", "qmgr0.dat", false, 1, &[("qmgr1.dat", live)]),
                row("STST #3", "qmgr0.dat", false, 1, &[]),
            ],
            "carve {carve}"
        );
        // Each file's report counts the rows read from it.
        let counts: Vec<(String, u64)> = reports
            .iter()
            .map(|r| {
                (
                    r.path.file_name().unwrap().to_string_lossy().into(),
                    r.records,
                )
            })
            .collect();
        assert_eq!(counts, [("qmgr0.dat".into(), 3), ("qmgr1.dat".into(), 0)]);
        // The inline file rows name the copy too.
        for r in &records[..2] {
            assert_eq!(r.file_source.as_ref().unwrap().also_in.len(), 1);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_deleted_copy_of_the_other_files_live_job_is_no_deleted_job() {
    // qmgr0 (current): TTT live, TTT #2 deleted into its slack; qmgr1 (older): both live.
    let dir = folder(
        "deleted",
        "win7-deleted.qmgr0.dat",
        "win7-deleted.qmgr1.dat",
        |_| {},
    );
    let (records, _) = run(&dir, true);
    assert_eq!(
        rows(&records),
        vec![
            row(
                "TTT",
                "qmgr0.dat",
                false,
                1,
                &[("qmgr1.dat", SourceKind::Live)]
            ),
            row(
                "TTT #2",
                "qmgr1.dat",
                false,
                1,
                &[("qmgr0.dat", SourceKind::Carved)]
            ),
        ]
    );
    // Without carving the slack is not read: the older file's live copy is the only one.
    let (records, _) = run(&dir, false);
    assert_eq!(
        rows(&records),
        vec![
            row(
                "TTT",
                "qmgr0.dat",
                false,
                1,
                &[("qmgr1.dat", SourceKind::Live)]
            ),
            row("TTT #2", "qmgr1.dat", false, 1, &[]),
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn copies_that_differ_are_two_versions_of_one_job() {
    // In qmgr1 the first job (at 0x3c) is transferred (state word at +0x18: 6) where qmgr0
    // has it queued: the same job, two versions, both rows kept.
    let dir = folder(
        "differ",
        "win10early-3jobs.qmgr0.dat",
        "win10early-3jobs.qmgr1.dat",
        |b| b[0x3c + 0x18..0x3c + 0x1c].copy_from_slice(&6u32.to_le_bytes()),
    );
    let (records, reports) = run(&dir, true);
    let live = SourceKind::Live;
    // A job with copies in both files is held until the second copy is read.
    assert_eq!(
        rows(&records),
        vec![
            row("STST #2", "qmgr0.dat", false, 1, &[("qmgr1.dat", live)]),
            row("STST #3", "qmgr0.dat", false, 1, &[]),
            row("STST", "qmgr0.dat", false, 2, &[]),
            row("STST", "qmgr1.dat", false, 2, &[]),
        ]
    );
    assert_eq!(records[2].job_id, records[3].job_id);
    assert_eq!(
        (records[2].job_state.as_str(), records[3].job_state.as_str()),
        ("Queued", "Transferred")
    );
    assert_eq!(
        reports.iter().map(|r| r.records).collect::<Vec<_>>(),
        [3, 1]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn files_of_two_folders_are_not_a_pair() {
    // qmgr0.dat and qmgr1.dat of two folders are two queues: each copy is a row of its own.
    let dir = common::scratch_dir("pair-apart");
    for (sub, name, f) in [
        ("a", "qmgr0.dat", "win10early-3jobs.qmgr0.dat"),
        ("b", "qmgr1.dat", "win10early-3jobs.qmgr1.dat"),
    ] {
        std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
        std::fs::copy(
            common::manifest_dir().join("testdata/legacy").join(f),
            dir.join(sub).join(name),
        )
        .expect("copy");
    }
    let (records, _) = run(&dir, true);
    assert_eq!(records.len(), 5);
    assert!(records
        .iter()
        .all(|r| r.job_source.as_ref().unwrap().also_in.is_empty()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_demos_triage_view_shows_one_row_per_legacy_job() {
    use common::tui::{loaded, press, typ};
    use crossterm::event::KeyCode;
    let dir = common::scratch_dir("pair-demo");
    let out = common::run_bitscope([Path::new("demo"), Path::new("--write"), &dir]);
    assert!(out.status.success(), "{out:?}");
    let mut app = loaded(dir.clone(), true, 120, 40);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab); // rows: one record each
    typ(&mut app, "!");
    let view = app.store.view(bitscope::tui::store::ViewKind::Rows);
    let legacy: Vec<String> = view
        .shown
        .iter()
        .map(|&i| &app.store.rec(view.items[i as usize].rep()).info)
        .filter(|r| r.evidence.ends_with(".dat"))
        .map(|r| r.job_name.clone())
        .collect();
    // Each notify-command job of the legacy queue once (it was two rows each).
    assert_eq!(legacy, ["STST", "STST #2", "STST #3"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// On all cores (`parse --threads`), a pair runs as one unit at its first file's turn: the
/// records and the reports are those of one thread, whatever the thread count, with pairs
/// and single queues interleaved in the input order.
#[test]
fn pairs_on_all_cores_equal_one_thread() {
    let dir = common::scratch_dir("pair-threads");
    let copy = |sub: &str, name: &str, f: &str| {
        std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
        std::fs::copy(
            common::manifest_dir().join("testdata/legacy").join(f),
            dir.join(sub).join(name),
        )
        .expect("copy");
    };
    for host in ["a", "c", "e"] {
        copy(host, "qmgr0.dat", "win10early-3jobs.qmgr0.dat");
        copy(host, "qmgr1.dat", "win10early-3jobs.qmgr1.dat");
    }
    copy("b", "qmgr0.dat", "win10early-3jobs.qmgr0.dat");
    copy("d", "qmgr1.dat", "win10early-3jobs.qmgr1.dat");
    let opts = Options {
        carve: true,
        ..Options::default()
    };
    let mut outputs = Vec::new();
    for threads in [1, 2, 4] {
        let mut out = Parsed::default();
        let reports = bitscope::pipeline::parallel::run_inputs(
            Inputs::find(std::slice::from_ref(&dir)),
            &opts,
            false,
            threads,
            &mut out,
        )
        .expect("runs");
        let json: Vec<String> = out
            .records
            .iter()
            .map(|r| serde_json::to_string(r).expect("json"))
            .collect();
        let reports: Vec<(usize, String, u64)> = reports
            .iter()
            .map(|r| (r.index, r.path.display().to_string(), r.records))
            .collect();
        outputs.push((json, reports));
    }
    let (json, reports) = &outputs[0];
    assert_eq!(reports.len(), 8);
    assert_eq!(
        reports.iter().map(|r| r.0).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    // Each pair: 3 rows, the 2 jobs both files hold naming the other file's copy (as in
    // identical_copies_are_one_row_naming_the_other_file); each lone file: its own 3 or 2.
    assert_eq!(json.len(), 3 * 3 + 3 + 2);
    let paired = json.iter().filter(|j| j.contains("\"also_in\":[{")).count();
    assert_eq!(paired, 3 * 2);
    for other in &outputs[1..] {
        assert_eq!(other, &outputs[0]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
