//! The event log reader against python-evtx: every record of the real sample logs, field by
//! field (System fields, the record header, every named value of EventData/UserData).
//!
//! Where the two render a value differently, the test compares the values, and says why:
//! - times: python-evtx makes a datetime from `float(filetime) * 1e-7 - 11644473600`
//!   (`Evtx/BinaryParser.py`, `parse_filetime`), so it keeps microseconds and a double's
//!   rounding (`12:17:00.400999` for the FILETIME ending `...4010000`); the crate keeps the
//!   100 ns digits. The test does python-evtx's arithmetic on our FILETIME (as CPython's
//!   `datetime.fromtimestamp` does: whole seconds, then the fraction rounded half to even) and
//!   asks for the very microsecond python-evtx printed: ours is the integer it started from.
//! - HexInt64 (`LogonId`): python-evtx pads to 16 digits (`0x000000000001341d`), the crate
//!   and Windows do not (`0x1341d`): compared as numbers.
//! - Booleans: python-evtx writes `False`, the crate `false` (as Windows' XML does).

mod common;

use bitscope::evtx::{filetime_of, read, Event};
use serde_json::Value;

const LOGS: &[&str] = &[
    "evtx/bits-client-win7-bitsadmin-persistence.evtx",
    "evtx/bits-client-win10-desktopimgdownldr.evtx",
    "evtx/sysmon-bits-notify-execution.evtx",
];

/// A time as python-evtx renders it (`2019-05-12 18:02:05.215199+00:00`), in µs since 1601.
fn python_us(s: &str) -> Option<i64> {
    let t = chrono::DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z").ok()?;
    Some(t.timestamp_micros() + 11_644_473_600_000_000)
}

/// Our FILETIME as python-evtx turns it into a datetime, in µs since 1601:
/// `fromtimestamp(float(ft) * 1e-7 - 11644473600)`, which CPython splits with `modf` into whole
/// seconds and a fraction it rounds half to even in µs.
fn ours_us(ft: u64) -> i64 {
    let t = ft as f64 * 1e-7 - 11_644_473_600.0;
    let whole = t.trunc();
    let us = ((t - whole) * 1e6).round_ties_even();
    (whole as i64) * 1_000_000 + us as i64 + 11_644_473_600_000_000
}

fn same_value(name: &str, ours: &str, theirs: &str) -> bool {
    if ours == theirs {
        return true;
    }
    if let (Some(a), Some(b)) = (filetime_of(ours), python_us(theirs)) {
        return ours_us(a) == b;
    }
    let hex = |s: &str| u64::from_str_radix(s.strip_prefix("0x")?, 16).ok();
    if let (Some(a), Some(b)) = (hex(ours), hex(theirs)) {
        return a == b;
    }
    if ["true", "false"].contains(&ours) {
        return ours.eq_ignore_ascii_case(theirs);
    }
    eprintln!("{name}: ours {ours:?} python-evtx {theirs:?}");
    false
}

fn check(ours: &Event, theirs: &Value) {
    let at = format!("record {}", ours.record_id);
    let u = |k: &str| theirs[k].as_u64();
    assert_eq!(Some(ours.record_id), u("num"), "{at}: number");
    assert_eq!(Some(ours.offset), u("offset"), "{at}: offset");
    assert_eq!(Some(ours.length), u("size"), "{at}: size");
    assert_eq!(Some(ours.written), u("written"), "{at}: written");
    assert_eq!(Some(ours.event_record_id), u("event_record_id"), "{at}");
    assert_eq!(Some(u64::from(ours.event_id)), u("event_id"), "{at}");
    assert_eq!(ours.version.map(u64::from), u("version"), "{at}: version");
    assert_eq!(ours.provider, theirs["provider"].as_str().unwrap(), "{at}");
    assert_eq!(ours.channel, theirs["channel"].as_str().unwrap(), "{at}");
    assert_eq!(ours.computer, theirs["computer"].as_str().unwrap(), "{at}");
    assert_eq!(
        ours.user_sid.as_deref(),
        theirs["user_sid"].as_str(),
        "{at}"
    );
    assert_eq!(ours.process_id.map(u64::from), u("process_id"), "{at}");
    assert_eq!(ours.thread_id.map(u64::from), u("thread_id"), "{at}");
    let created = filetime_of(&ours.time_created).expect("TimeCreated parses");
    let python = python_us(theirs["time_created"].as_str().unwrap()).expect("python time");
    assert_eq!(ours_us(created), python, "{at}: TimeCreated");
    let data = theirs["data"].as_array().unwrap();
    assert_eq!(ours.data.len(), data.len(), "{at}: values {:?}", ours.data);
    for ((name, value), pair) in ours.data.iter().zip(data) {
        assert_eq!(name, pair[0].as_str().unwrap(), "{at}: value name");
        assert!(
            same_value(name, value, pair[1].as_str().unwrap()),
            "{at}: {name}"
        );
    }
}

#[test]
fn every_event_of_the_sample_logs_equals_python_evtx() {
    let Some(python) = common::evtx_python() else {
        return;
    };
    for rel in LOGS {
        let Some(path) = common::sample(rel) else {
            return;
        };
        let log = read(&std::fs::read(&path).unwrap());
        assert!(log.warnings.is_empty(), "{rel}: {:?}", log.warnings);
        let theirs: Vec<Value> = common::run_python_script(&python, "evtx_oracle.py", [&path])
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(log.events.len(), theirs.len(), "{rel}: record count");
        assert!(!theirs.is_empty());
        for (ours, theirs) in log.events.iter().zip(&theirs) {
            check(ours, theirs);
        }
        let values: usize = log.events.iter().map(|e| e.data.len()).sum();
        println!(
            "{rel}: {} events, {values} values equal python-evtx's",
            log.events.len()
        );
    }
}

/// python-evtx's value named `name` in a record, if any.
fn theirs_value<'a>(theirs: &'a Value, names: &[&str]) -> Option<&'a str> {
    let data = theirs["data"].as_array()?;
    names.iter().find_map(|n| {
        data.iter()
            .find(|p| p[0].as_str() == Some(n))
            .and_then(|p| p[1].as_str())
            .filter(|v| !v.is_empty())
    })
}

#[test]
fn bits_events_decode_to_python_evtx_values() {
    use bitscope::bits::events::{decode_log, EventKind};
    use bitscope::util::guid::Guid;
    let Some(python) = common::evtx_python() else {
        return;
    };
    for rel in &LOGS[..2] {
        let Some(path) = common::sample(rel) else {
            return;
        };
        let events = decode_log(&read(&std::fs::read(&path).unwrap()));
        let theirs: Vec<Value> = common::run_python_script(&python, "evtx_oracle.py", [&path])
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            events.bits.len(),
            theirs.len(),
            "{rel}: every event is a BITS event"
        );
        for (ours, theirs) in events.bits.iter().zip(&theirs) {
            let at = format!("{rel} record {}", ours.place.record);
            let id = theirs_value(theirs, &["jobId", "Id"]).map(|g| Guid::parse(g).unwrap());
            assert_eq!(ours.job_id, id, "{at}: job id");
            let win7 = ours.event_id == 3 && id.is_none();
            assert_eq!(ours.legacy_template, win7, "{at}");
            let title = if win7 {
                &["string"][..]
            } else {
                &["jobTitle", "name", "jobName"][..]
            };
            assert_eq!(
                ours.title.as_deref(),
                theirs_value(theirs, title),
                "{at}: title"
            );
            let owner = if win7 { "string2" } else { "jobOwner" };
            assert_eq!(
                ours.owner.as_deref(),
                theirs_value(theirs, &[owner]),
                "{at}"
            );
            assert_eq!(
                ours.process_path.as_deref(),
                theirs_value(theirs, &["processPath"])
            );
            assert_eq!(
                ours.url.as_deref(),
                theirs_value(theirs, &["url"]),
                "{at}: url"
            );
            let num = |n: &str| theirs_value(theirs, &[n]).map(|v| v.parse::<u64>().unwrap());
            assert_eq!(ours.bytes_total, num("bytesTotal"), "{at}");
            assert_eq!(ours.bytes_transferred, num("bytesTransferred"), "{at}");
            assert_eq!(ours.hr.map(u64::from), num("hr"), "{at}: hr");
            assert_eq!(ours.process_id.map(u64::from), num("processId"), "{at}");
            let ft = theirs_value(theirs, &["fileTime"]).map(|t| python_us(t).unwrap());
            assert_eq!(ours.file_time.map(ours_us), ft, "{at}: fileTime");
            assert_eq!(
                ours.kind == EventKind::Other,
                ![3, 4, 5, 59, 60, 61].contains(&ours.event_id)
            );
        }
        let created: Vec<_> = events.bits.iter().filter(|e| e.event_id == 3).collect();
        println!(
            "{rel}: {} BITS events; created: {:?}",
            events.bits.len(),
            created
                .iter()
                .map(|e| (e.title.clone(), e.job_id, e.process_path.clone()))
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn sysmon_runs_under_the_bits_host_are_found() {
    use bitscope::bits::events::{decode_log, runs_notify, BitsHost};
    let Some(path) = common::sample(LOGS[2]) else {
        return;
    };
    let log = read(&std::fs::read(path).unwrap());
    let events = decode_log(&log);
    // Every Sysmon 1 whose parent is svchost -k netsvcs, and only those (the log's own
    // ParentCommandLine values decide, read from the events themselves).
    let expected: Vec<u64> = log
        .events
        .iter()
        .filter(|e| e.event_id == 1)
        .filter(|e| {
            e.get("ParentCommandLine")
                .is_some_and(|c| c.ends_with("-k netsvcs"))
        })
        .map(|e| e.record_id)
        .collect();
    let found: Vec<u64> = events.runs.iter().map(|r| r.place.record).collect();
    assert_eq!(found, expected);
    assert!(events
        .runs
        .iter()
        .all(|r| r.host == BitsHost::SharedNetsvcs));
    // The notify command of the persistence job: `cmd.exe /c notepad.exe`.
    let notify: Vec<_> = events
        .runs
        .iter()
        .filter(|r| runs_notify(r, "C:\\Windows\\system32\\cmd.exe", "/c notepad.exe"))
        .collect();
    assert_eq!(notify.len(), 1);
    assert_eq!(notify[0].command_line, "/c notepad.exe");
    println!(
        "{} runs under the netsvcs host; notify run: {:?}",
        found.len(),
        notify[0]
    );
}

/// The log the generator writes for the tests: every BITS event kind the decoder knows (both
/// templates of event 3), a generic one, and a Sysmon process creation under the BITS host.
fn generated_events(repeat: usize) -> Vec<bitscope::gen::evtx::Event> {
    use bitscope::gen::evtx::{bits_created_win7, bits_event, Event, Val};
    let job = Val::Guid([0x11; 16]);
    let t0 = 133_500_000_000_000_000u64;
    let mut out = Vec::new();
    for i in 0..repeat {
        let t = t0 + i as u64 * 10_000_000;
        let s = |v: &str| Val::Str(v.to_string());
        out.push(bits_event(
            3,
            t,
            "DESKTOP-1",
            vec![
                ("jobTitle", s(&format!("job {i}"))),
                ("jobId", job.clone()),
                ("jobOwner", s("DESKTOP-1\\alice")),
                ("processPath", s("C:\\Windows\\System32\\bitsadmin.exe")),
                ("processId", Val::U32(4242)),
            ],
        ));
        out.push(bits_created_win7(
            t + 1,
            "DESKTOP-1",
            "légacy ✓",
            "DESKTOP-1\\bob",
        ));
        let transfer = |hr: Option<u32>| {
            let mut v = vec![
                ("transferId", Val::Guid([0x22; 16])),
                ("name", s("job")),
                ("Id", job.clone()),
                ("url", s("http://198.51.100.23:8443/stage1.ps1")),
                ("peer", s("")),
            ];
            if let Some(hr) = hr {
                v.push(("hr", Val::U32(hr)));
            }
            v.extend([
                ("fileTime", Val::FileTime(t - 123_456_789)),
                ("fileLength", Val::U64(4096)),
                ("bytesTotal", Val::U64(4096)),
                (
                    "bytesTransferred",
                    Val::U64(if hr.is_some() { 4096 } else { 0 }),
                ),
                ("bytesTransferredFromPeer", Val::U64(0)),
            ]);
            if hr.is_some() {
                v.extend([
                    ("bandwidthLimit", Val::U64(u64::MAX)),
                    ("ignoreBandwidthLimitsOnLan", Val::Bool(false)),
                ]);
            }
            v
        };
        out.push(bits_event(59, t + 2, "DESKTOP-1", transfer(None)));
        out.push(bits_event(60, t + 3, "DESKTOP-1", transfer(Some(0))));
        out.push(bits_event(
            61,
            t + 4,
            "DESKTOP-1",
            transfer(Some(0x8019_0194)),
        ));
        out.push(bits_event(
            4,
            t + 5,
            "DESKTOP-1",
            vec![
                ("User", s("DESKTOP-1\\alice")),
                ("jobTitle", s("job")),
                ("jobId", job.clone()),
                ("jobOwner", s("DESKTOP-1\\alice")),
                ("fileCount", Val::U32(1)),
            ],
        ));
        out.push(bits_event(
            5,
            t + 6,
            "DESKTOP-1",
            vec![
                ("User", s("DESKTOP-1\\alice")),
                ("jobTitle", s("job")),
                ("jobId", job.clone()),
                ("jobOwner", s("DESKTOP-1\\alice")),
                ("fileCount", Val::U32(1)),
            ],
        ));
        for id in [63u16, 64] {
            out.push(bits_event(
                id,
                t + 7,
                "DESKTOP-1",
                vec![
                    ("Job", s("job")),
                    ("Url", s("http://198.51.100.23:8443/stage1.ps1")),
                    ("Pgm", s("C:\\Windows\\System32\\cmd.exe")),
                    ("hr", Val::Hex32(0x8007_0002)),
                ],
            ));
        }
        out.push(bits_event(
            16403,
            t + 8,
            "DESKTOP-1",
            vec![
                ("jobTitle", s("job")),
                ("jobId", job.clone()),
                ("RemoteName", s("http://198.51.100.23:8443/stage1.ps1")),
                (
                    "LocalName",
                    s("C:\\Users\\alice\\AppData\\Local\\Temp\\stage1.ps1"),
                ),
            ],
        ));
        out.push(bits_event(
            209,
            t + 9,
            "DESKTOP-1",
            vec![("jobName", s("job")), ("isRoaming", Val::Hex64(1))],
        ));
        out.push(Event {
            provider: "Microsoft-Windows-Sysmon".into(),
            provider_guid: [0x33; 16],
            channel: "Microsoft-Windows-Sysmon/Operational".into(),
            event_id: 1,
            version: 5,
            activity_id: Some([0x44; 16]),
            data: vec![
                ("Image".into(), s("C:\\Windows\\System32\\cmd.exe")),
                ("CommandLine".into(), s("/c notepad.exe")),
                (
                    "ParentImage".into(),
                    s("C:\\Windows\\System32\\svchost.exe"),
                ),
                (
                    "ParentCommandLine".into(),
                    s("C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s BITS"),
                ),
            ],
            user_sid: Some("S-1-5-21-4070822719-3404542230-2541167049-1001".into()),
            ..bits_event(1, t + 10, "DESKTOP-1", vec![])
        });
    }
    out
}

/// What our reader should show for a generated value (as the crate renders it).
fn rendered(v: &bitscope::gen::evtx::Val) -> String {
    use bitscope::gen::evtx::Val;
    match v {
        Val::Str(s) => s.clone(),
        Val::U8(n) => n.to_string(),
        Val::U16(n) => n.to_string(),
        Val::U32(n) => n.to_string(),
        Val::U64(n) => n.to_string(),
        Val::Guid(g) => format!("{{{}}}", bitscope::util::guid::Guid(*g)),
        Val::FileTime(_) => unreachable!("compared as times"),
        Val::Bool(b) => b.to_string(),
        Val::Hex32(n) => format!("{n:#x}"),
        Val::Hex64(n) => format!("{n:#x}"),
        Val::Sid(s) => s.clone(),
        Val::Null => String::new(),
    }
}

#[test]
fn generated_logs_read_back_alike_with_python_evtx_and_ours() {
    use bitscope::gen::evtx::{write, Val};
    let Some(python) = common::evtx_python() else {
        return;
    };
    let dir = common::scratch_dir("gen-evtx");
    for (repeat, first) in [(1usize, 1u64), (100, 77)] {
        let events = generated_events(repeat);
        let bytes = write(&events, first);
        let path = dir.join(format!("gen-{repeat}.evtx"));
        std::fs::write(&path, &bytes).unwrap();
        let verify: Value = serde_json::from_str(&common::run_python_script(
            &python,
            "evtx_oracle.py",
            [std::ffi::OsStr::new("--verify"), path.as_os_str()],
        ))
        .unwrap();
        assert_eq!(verify["header"], true, "file header CRC32");
        let chunks = verify["chunks"].as_array().unwrap();
        assert!(chunks.iter().all(|c| c == true), "chunk CRC32s: {chunks:?}");
        assert_eq!(chunks.len(), (bytes.len() - 4096) / 65536, "chunks");
        let log = read(&bytes);
        assert!(log.warnings.is_empty(), "{:?}", log.warnings);
        let theirs: Vec<Value> = common::run_python_script(&python, "evtx_oracle.py", [&path])
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(log.events.len(), events.len());
        assert_eq!(theirs.len(), events.len());
        for ((ours, theirs), made) in log.events.iter().zip(&theirs).zip(&events) {
            check(ours, theirs);
            assert_eq!(ours.event_id, u32::from(made.event_id));
            assert_eq!(ours.provider, made.provider);
            assert_eq!(ours.computer, made.computer);
            assert_eq!(ours.user_sid, made.user_sid);
            assert_eq!(filetime_of(&ours.time_created), Some(made.time));
            assert_eq!(ours.written, made.time);
            assert_eq!(ours.data.len(), made.data.len());
            for ((name, value), (mname, mvalue)) in ours.data.iter().zip(&made.data) {
                assert_eq!(name, mname);
                match mvalue {
                    Val::FileTime(ft) => assert_eq!(filetime_of(value), Some(*ft)),
                    v => assert_eq!(value, &rendered(v), "{name}"),
                }
            }
        }
        assert_eq!(log.events.first().map(|e| e.record_id), Some(first));
        println!(
            "generated {} events in {} chunks ({} bytes): python-evtx and ours read them alike, CRC32s verified",
            events.len(),
            chunks.len(),
            bytes.len()
        );
    }
}
