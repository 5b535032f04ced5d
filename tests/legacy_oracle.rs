//! The legacy queue decoder against an independent oracle: ANSSI bits_parser 1.0.1 (PyPI, with
//! construct 2.8.12), run by `tests/oracle/bits_parser_oracle.py`.
//!
//! For every committed fixture in `testdata/legacy/` (built from the real pieces by
//! `bitscope::gen::legacy`, see `testdata/README.md`), bitscope's `decode_legacy_queue` and
//! bits_parser read the same file; the test asserts the same job count, and for each job the
//! same id, name, description, notify command and arguments, owner SID, type, priority, state,
//! notify flags, error and retry counts, the five times, and each file's destination, URL,
//! temporary name, byte counts, drive and volume.
//!
//! Where the two tools differ, the test asserts the difference and says, from the bytes, who is
//! right:
//! - `win10early-mixed-2jobs.dat`: bits_parser finds 1 of the 2 jobs, bitscope both (see
//!   [`mixed_versions`]);
//! - `win7-deleted.qmgr0.dat`: bits_parser's carver recovers the deleted job from the slack;
//!   bitscope's queue decoder reports the slack but does not carve (the carver is a later
//!   issue), so the job is decoded here with `decode_legacy_job` where the slack holds its
//!   delimiter, and compared field by field (see [`deleted_job_in_the_slack`]).
//!
//! The fixtures are committed files, so this test needs only the oracle python, not the samples.

mod common;

use std::path::PathBuf;

use bitscope::bits::file::FileRecord;
use bitscope::bits::job::JOB_DELIMITERS;
use bitscope::bits::legacy::{decode_legacy_job, decode_legacy_queue, LegacyJob, LegacyQueue};
use bitscope::gen::legacy::{Fixture, FIXTURES, FIXTURE_DIR};
use serde_json::Value;

fn fixture_bytes(file: &str) -> (PathBuf, Vec<u8>) {
    let path = common::manifest_dir().join(FIXTURE_DIR).join(file);
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("committed fixture {}: {e}", path.display()));
    (path, bytes)
}

/// bitscope's and bits_parser's reading of one fixture; `None` when the oracle is missing.
fn both(f: &Fixture) -> Option<(Vec<u8>, LegacyQueue, Value)> {
    common::bits_parser_python()?;
    let (path, bytes) = fixture_bytes(f.file);
    let q = decode_legacy_queue(&bytes).unwrap_or_else(|e| panic!("{}: {e}", f.file));
    let oracle: Value = serde_json::from_str(&common::run_bits_parser_oracle(&path))
        .unwrap_or_else(|e| panic!("{}: oracle output is not JSON: {e}", f.file));
    Some((bytes, q, oracle))
}

fn fixture(file: &str) -> &'static Fixture {
    FIXTURES
        .iter()
        .find(|f| f.file == file)
        .unwrap_or_else(|| panic!("no fixture {file}"))
}

fn jobs(oracle: &Value, key: &str) -> Vec<Value> {
    oracle[key]
        .as_array()
        .unwrap_or_else(|| panic!("oracle {key} is not a list: {oracle}"))
        .clone()
}

/// bits_parser's enum names (bits/structs.py), indexed by value.
const TYPES: [&str; 3] = ["download", "upload", "upload_reply"];
const PRIORITIES: [&str; 4] = ["foreground", "high", "normal", "low"];
const STATES: [&str; 9] = [
    "queued",
    "connecting",
    "transferring",
    "suspended",
    "error",
    "transient_error",
    "transferred",
    "acknowleged", // sic
    "cancelled",
];

fn enum_value(names: &[&str], v: u32) -> Value {
    match names.get(v as usize) {
        Some(n) => Value::from(*n),
        None => Value::from(v),
    }
}

fn flags_value(v: u32) -> Value {
    let name = match v {
        1 => "BG_NOTIFY_JOB_TRANSFERRED",
        2 => "BG_NOTIFY_JOB_ERROR",
        3 => "BG_NOTIFY_JOB_TRANSFERRED_BG_NOTIFY_JOB_ERROR",
        4 => "BG_NOTIFY_DISABLE",
        5 => "BG_NOTIFY_JOB_TRANSFERRED_BG_NOTIFY_DISABLE",
        6 => "BG_NOTIFY_JOB_ERROR_BG_NOTIFY_DISABLE",
        7 => "BG_NOTIFY_JOB_TRANSFERRED_BG_NOTIFY_JOB_ERROR_BG_NOTIFY_DISABLE",
        8 => "BG_NOTIFY_JOB_MODIFICATION",
        16 => "BG_NOTIFY_FILE_TRANSFERRED",
        _ => return Value::from(v),
    };
    Value::from(name)
}

fn text(ctx: &str, field: &str, ours: &Option<String>, theirs: &Value) {
    let ours = ours
        .as_deref()
        .unwrap_or_else(|| panic!("{ctx}: bitscope has no {field}"));
    assert_eq!(Value::from(ours), *theirs, "{ctx}: {field}");
}

/// A FILETIME against bits_parser's datetime.
///
/// bits_parser computes `datetime(1601, 1, 1) + timedelta(microseconds=value / 10)`
/// (bits/helpers/fields.py): Python turns the u64 into a float (FILETIMEs since 1629 are past
/// 2**53, so it is rounded to a multiple of 16 hundred-nanoseconds), divides it in floating point
/// (the quotient, about 1.3e16 µs, is past 2**53 too and so rounded to an even number of
/// microseconds), and `timedelta` rounds that float half to even. So bits_parser's microsecond
/// is the float-rounded value, within 2 µs of the exact `value / 10`; on the real records it is
/// 1 µs above for four of the six times (e.g. Win7 created 131332723788642977 → exact
/// 13133272378864297.7 µs, bits_parser ...298). Neither is wrong about the time; bitscope keeps
/// the exact 100-ns FILETIME. The check here is exact: bitscope's FILETIME put through the same
/// float arithmetic gives bits_parser's microsecond.
fn time(ctx: &str, field: &str, ours: Option<u64>, theirs: &Value) {
    let ft = ours.unwrap_or_else(|| panic!("{ctx}: bitscope has no {field}"));
    let us = theirs["us"]
        .as_i64()
        .unwrap_or_else(|| panic!("{ctx}: oracle {field} is not a time: {theirs}"));
    let as_python = (ft as f64 / 10.0).round_ties_even() as i64;
    assert_eq!(
        us, as_python,
        "{ctx}: {field}: bitscope FILETIME {ft} vs bits_parser {theirs}"
    );
    let exact = (ft / 10) as i64;
    assert!((us - exact).abs() <= 2, "{ctx}: {field}: {us} vs {exact}");
}

fn compare_file(ctx: &str, ours: &FileRecord, theirs: &Value, carved: bool) {
    text(ctx, "dest_fn", &ours.destination, &theirs["dest_fn"]);
    text(ctx, "src_fn", &ours.url, &theirs["src_fn"]);
    text(ctx, "tmp_fn", &ours.temp_path, &theirs["tmp_fn"]);
    text(ctx, "drive", &ours.drive, &theirs["drive"]);
    text(ctx, "vol_guid", &ours.volume, &theirs["vol_guid"]);
    assert_eq!(
        ours.bytes_transferred.map(Value::from),
        Some(theirs["download_size"].clone()),
        "{ctx}: download_size"
    );
    // Total bytes 0xFFFFFFFFFFFFFFFF means unknown. bits_parser's parser keeps the raw u64; its
    // carver replaces it with "" (bits/carver.py, carve_sections).
    let total = ours.total_bytes.expect("total bytes");
    let want = if carved && total == u64::MAX {
        Value::from("")
    } else {
        Value::from(total)
    };
    assert_eq!(theirs["transfer_size"], want, "{ctx}: transfer_size");
}

/// Every field both tools read, for one job.
fn compare_job(ctx: &str, ours: &LegacyJob, theirs: &Value, carved: bool) {
    let j = &ours.job;
    assert!(
        j.closed && j.stopped.is_none(),
        "{ctx}: bitscope stopped: {:?}",
        j.stopped
    );
    assert_eq!(
        theirs["job_id"],
        Value::from(j.job_id.to_string()),
        "{ctx}: job_id"
    );
    text(ctx, "name", &j.name, &theirs["name"]);
    text(ctx, "desc", &j.description, &theirs["desc"]);
    text(ctx, "cmd", &j.notify_command, &theirs["cmd"]);
    text(ctx, "args", &j.notify_arguments, &theirs["args"]);
    text(ctx, "sid", &j.owner_sid, &theirs["sid"]);
    // bits_parser reads the type at +16, as bitscope's `type_at_16` (FORMATS §3 item 2).
    assert_eq!(
        theirs["type"],
        enum_value(&TYPES, j.type_at_16),
        "{ctx}: type"
    );
    assert_eq!(
        theirs["priority"],
        enum_value(&PRIORITIES, j.priority),
        "{ctx}: priority"
    );
    assert_eq!(
        theirs["state"],
        enum_value(&STATES, j.state),
        "{ctx}: state"
    );
    assert_eq!(
        theirs["flags"],
        flags_value(j.notify_flags.expect("notify flags")),
        "{ctx}: flags"
    );
    let counts = [
        ("error_count", j.error_count),
        ("transient_error_count", j.transient_error_count),
        ("retry_delay", j.retry_delay),
        ("timeout", j.no_progress_timeout),
        ("file_count", j.file_count),
    ];
    for (field, v) in counts {
        assert_eq!(
            Some(theirs[field].clone()),
            v.map(Value::from),
            "{ctx}: {field}"
        );
    }
    assert_eq!(theirs["errors"], Value::Array(vec![]), "{ctx}: errors");
    assert!(j.errors.is_empty(), "{ctx}: errors");
    // bits_parser's METADATA: ctime, mtime, other_time0, 14 bytes skipped (bitscope: the
    // transfer-completed FILETIME, a byte, `notified`, a flag byte), other_time1, other_time2.
    time(ctx, "ctime", j.created, &theirs["ctime"]);
    time(ctx, "mtime", j.modified, &theirs["mtime"]);
    time(ctx, "other_time0", j.modified2, &theirs["other_time0"]);
    time(
        ctx,
        "other_time1",
        j.expiration_base,
        &theirs["other_time1"],
    );
    time(ctx, "other_time2", j.expiration, &theirs["other_time2"]);
    let files = theirs["files"].as_array().expect("oracle files");
    assert_eq!(files.len(), ours.files.len(), "{ctx}: files");
    for (i, (f, g)) in ours.files.iter().zip(files).enumerate() {
        compare_file(&format!("{ctx} file {i}"), f, g, carved);
    }
    assert_eq!(theirs.get("carved").is_some(), carved, "{ctx}: carved");
}

/// Both tools read the queue framing the same way: the preamble length, the job count.
fn compare_queue(f: &Fixture, q: &LegacyQueue, oracle: &Value) {
    let o = &oracle["queue"];
    assert_eq!(o["parsed"], Value::Bool(true), "{}: {o}", f.file);
    assert!(q.warnings.is_empty(), "{}: {:?}", f.file, q.warnings);
    // FORMATS §5 says the preamble check is 0x10 only; that is FireEye BitsParser. ANSSI
    // bits_parser's QUEUE struct reads its `header` field as "everything up to the first
    // FILE_HEADER" (bits/structs.py), so it takes the 0x18 early-Win10 preamble too, and the
    // job records after it, exactly as bitscope does.
    assert_eq!(
        o["header_len"],
        Value::from(f.preamble.size()),
        "{}",
        f.file
    );
    assert_eq!(q.header_offset, f.preamble.size(), "{}", f.file);
    assert_eq!(o["job_count"], Value::from(q.job_count), "{}", f.file);
    assert_eq!(q.job_count as usize, f.jobs.len(), "{}", f.file);
    assert_eq!(q.jobs.len(), f.jobs.len(), "{}", f.file);
}

/// The fixtures where both tools find the same jobs, in the same order, with the same values,
/// and bits_parser's carver finds nothing in the slack.
#[test]
fn same_jobs_same_values() {
    for file in [
        "win7-0jobs.dat",
        "win7-1job.qmgr0.dat",
        "win7-deleted.qmgr1.dat",
        "win10early-3jobs.qmgr0.dat",
        "win10early-3jobs.qmgr1.dat",
    ] {
        let f = fixture(file);
        let Some((_, q, oracle)) = both(f) else {
            return;
        };
        compare_queue(f, &q, &oracle);
        let theirs = jobs(&oracle, "jobs");
        assert_eq!(theirs.len(), q.jobs.len(), "{file}: job count");
        for (i, (ours, theirs)) in q.jobs.iter().zip(&theirs).enumerate() {
            compare_job(&format!("{file} job {i}"), ours, theirs, false);
        }
        assert_eq!(jobs(&oracle, "carved"), Vec::<Value>::new(), "{file}");
        // bits_parser picks one delimiter per file; with no jobs there is none.
        let delimiter = q
            .jobs
            .first()
            .map(|j| {
                Value::from(
                    j.job
                        .marker
                        .0
                        .iter()
                        .map(|b| format!("{b:02X}"))
                        .collect::<String>(),
                )
            })
            .unwrap_or(Value::Null);
        assert_eq!(oracle["delimiter"], delimiter, "{file}");
    }
}

/// Every fixture is covered by one of the tests here.
#[test]
fn every_fixture_is_compared() {
    let covered = [
        "win7-0jobs.dat",
        "win7-1job.qmgr0.dat",
        "win7-deleted.qmgr0.dat",
        "win7-deleted.qmgr1.dat",
        "win10early-3jobs.qmgr0.dat",
        "win10early-3jobs.qmgr1.dat",
        "win10early-mixed-2jobs.dat",
    ];
    let mut all: Vec<_> = FIXTURES.iter().map(|f| f.file).collect();
    all.sort_unstable();
    let mut covered = covered.to_vec();
    covered.sort_unstable();
    assert_eq!(all, covered);
}

/// A queue holding an early-Win10 job and a Win7 job, each opened and closed by its own
/// delimiter. bits_parser finds only the first; bitscope finds both.
///
/// Who is right: bitscope. bits_parser picks one job delimiter per file, the known delimiter
/// occurring most often (`Bits.guess_info`; here 2 and 2, and the tie goes to the larger byte
/// string, `B346ED3D…`), then splits the job bytes on it. The Win7 job, bracketed by
/// `93362035…`, is left as one chunk starting with its own delimiter, which its JOB struct
/// cannot parse ("1980 bytes of unknown data" in its debug log), so the job is silently
/// dropped even though the queue's job count says 2. The bytes at 0x7f1 are a complete Win7
/// job: bitscope decodes it closed and without warnings, and its values are the very values
/// bits_parser itself reports for the same record in `win7-1job.qmgr0.dat` (checked below).
/// FORMATS §6 lists "one job delimiter for a whole disk image, when the image mixes versions" as
/// a known fault.
#[test]
fn mixed_versions() {
    let f = fixture("win10early-mixed-2jobs.dat");
    let Some((_, q, oracle)) = both(f) else {
        return;
    };
    compare_queue(f, &q, &oracle);
    assert_eq!(oracle["queue"]["job_count"], Value::from(2));
    assert_eq!(
        oracle["delimiter"],
        Value::from("B346ED3D3B10F944BC2FE8378BD31986")
    );
    let theirs = jobs(&oracle, "jobs");
    assert_eq!(
        (q.jobs.len(), theirs.len()),
        (2, 1),
        "bitscope 2, bits_parser 1"
    );
    compare_job("mixed job 0", &q.jobs[0], &theirs[0], false);
    assert_eq!(jobs(&oracle, "carved"), Vec::<Value>::new());

    let win7 = &q.jobs[1];
    assert_eq!(win7.offset, 0x7f1);
    assert_eq!(win7.job.marker.0, JOB_DELIMITERS[0].0);
    assert!(win7.job.warnings.is_empty(), "{:?}", win7.job.warnings);
    // The same record, in a Win7-only queue, as bits_parser reads it there.
    let alone = fixture("win7-1job.qmgr0.dat");
    let Some((_, _, oracle_alone)) = both(alone) else {
        return;
    };
    compare_job(
        "mixed job 1 (Win7) vs bits_parser on win7-1job",
        win7,
        &jobs(&oracle_alone, "jobs")[0],
        false,
    );
}

/// The current copy of a queue after job "TTT #2" was deleted: one live job, the deleted one
/// whole in the slack after the footer.
///
/// bits_parser parses the live job, then its carver (run on everything after the closing
/// FILE_HEADER) recovers the deleted job with every field. bitscope's queue decoder reports
/// the same live job and the slack's range; it does not carve (that is the carver issue), so
/// the deleted job is decoded here with `decode_legacy_job` at the first job delimiter in the
/// slack. Both agree on every value, and on the values bits_parser parses for the same job
/// while it was live, in the older copy `win7-deleted.qmgr1.dat`.
#[test]
fn deleted_job_in_the_slack() {
    let f = fixture("win7-deleted.qmgr0.dat");
    let Some((bytes, q, oracle)) = both(f) else {
        return;
    };
    compare_queue(f, &q, &oracle);
    let theirs = jobs(&oracle, "jobs");
    assert_eq!(theirs.len(), 1);
    compare_job("live job", &q.jobs[0], &theirs[0], false);

    let (slack_at, slack_len) = q.slack.expect("slack");
    let slack = &bytes[slack_at..slack_at + slack_len];
    let at = slack
        .windows(16)
        .position(|w| w == JOB_DELIMITERS[0].0)
        .expect("a job delimiter in the slack");
    let (deleted, len) = decode_legacy_job(&slack[at..]).expect("the deleted job decodes");
    assert_eq!((slack_at + at, len), (0x844, 1986));
    let carved = jobs(&oracle, "carved");
    assert_eq!(carved.len(), 1, "bits_parser carves one job");
    compare_job(
        "deleted job vs bits_parser's carve",
        &deleted,
        &carved[0],
        true,
    );
    assert_eq!(deleted.job.name.as_deref(), Some("TTT #2"));

    let older = fixture("win7-deleted.qmgr1.dat");
    let Some((_, _, oracle_older)) = both(older) else {
        return;
    };
    compare_job(
        "deleted job vs bits_parser on the older copy",
        &deleted,
        &jobs(&oracle_older, "jobs")[1],
        false,
    );
}

/// The values themselves, as both tools read them (so a change in both at once still fails).
#[test]
fn real_values() {
    let f = fixture("win10early-3jobs.qmgr0.dat");
    let Some((_, q, oracle)) = both(f) else {
        return;
    };
    let theirs = jobs(&oracle, "jobs");
    let names: Vec<_> = theirs.iter().map(|j| j["name"].clone()).collect();
    assert_eq!(names, ["STST", "STST #2", "STST #3"].map(Value::from));
    assert_eq!(
        theirs[2]["job_id"],
        Value::from("2f265c44-d606-40f4-ba5e-3c2697390003")
    );
    for j in &theirs {
        assert_eq!(j["sid"], Value::from("S-1-5-18"));
        assert_eq!(j["cmd"], Value::from(r"c:\windows\System32\cmd.exe"));
        assert_eq!(j["args"], Value::from(""));
        assert_eq!(j["ctime"]["iso"], Value::from("2017-07-09T10:44:34.320622"));
        assert_eq!(
            j["other_time2"]["iso"],
            Value::from("2017-10-07T10:48:24.237964")
        );
        let file = &j["files"][0];
        assert_eq!(
            file["src_fn"],
            Value::from("http://get.videolan.org/vlc/2.2.4/win64/vlc-2.2.4-win64.exe")
        );
        assert_eq!(file["dest_fn"], Value::from(r"c:\temp\vlc.exe"));
        assert_eq!(file["tmp_fn"], Value::from(r"c:\temp\BITFFC1.tmp"));
        assert_eq!(
            (file["download_size"].clone(), file["transfer_size"].clone()),
            (Value::from(9985), Value::from(31_717_016))
        );
    }
    let offsets: Vec<_> = q.jobs.iter().map(|j| j.offset).collect();
    assert_eq!(offsets, [0x3c, 0x7f1, 0xfac]);
}
