//! The story join: the real Bits-Client logs (Windows 7's template, whose event 3 has no job
//! id, and Windows 10's) beside a generated qmgr.db holding those logs' job ids and titles.
//! `bitscope parse FOLDER` must join every event to its job (by id, and Windows 7's event 3 by
//! title, saying so), and give the job the store no longer holds a row of its own.

mod common;

use bitscope::bits::events::{decode_log, EventKind};
use bitscope::gen::blobs::{random_job, Machine};
use bitscope::gen::generate_jobs;
use bitscope::gen::rng::Rng;
use bitscope::util::guid::Guid;
use serde_json::Value;

/// (job id, title, event 3's time) of every job a sample log names.
fn jobs_of(rel: &str) -> Option<Vec<(Guid, String, u64)>> {
    let path = common::sample(rel)?;
    let events = decode_log(&bitscope::evtx::read(&std::fs::read(path).unwrap()));
    let mut out: Vec<(Guid, String, u64)> = Vec::new();
    for e in &events.bits {
        let (Some(id), Some(title)) = (e.job_id, e.title.clone()) else {
            continue;
        };
        if !out.iter().any(|(i, _, _)| *i == id) {
            // Event 3's time when it names the job (Windows 10), else the title's event 3.
            let created = events
                .bits
                .iter()
                .find(|c| c.kind == EventKind::Created && c.title.as_deref() == Some(&title))
                .map_or(e.time, |c| c.time);
            out.push((id, title, created));
        }
    }
    Some(out)
}

#[test]
fn win7_and_win10_events_join_their_jobs() {
    let Some(win7) = jobs_of("evtx/bits-client-win7-bitsadmin-persistence.evtx") else {
        return;
    };
    let Some(win10) = jobs_of("evtx/bits-client-win10-desktopimgdownldr.evtx") else {
        return;
    };
    assert_eq!(win7.len(), 2, "backdoor and hola");
    assert_eq!(win10.len(), 1, "Download LockScreen Image");
    // The queue holds "backdoor" and the Windows 10 job; "hola" is gone from it.
    let mut rng = Rng::new(19);
    let machine = Machine::random(&mut rng);
    let live: Vec<_> = [&win7[0], &win10[0]]
        .iter()
        .map(|(id, title, created)| {
            let mut j = random_job(&mut rng, &machine, 1);
            j.job.id = id.0;
            j.job.name = title.clone();
            j.job.created = *created + 5_000_000;
            j.job.modified = *created + 90 * 10_000_000;
            j
        })
        .collect();
    let db = generate_jobs(7, live[0].job.created + 1_000_000_000, &live, &[]).unwrap();
    let dir = common::scratch_dir("story-join");
    std::fs::write(dir.join("qmgr.db"), &db.bytes).unwrap();
    for rel in [
        "evtx/bits-client-win7-bitsadmin-persistence.evtx",
        "evtx/bits-client-win10-desktopimgdownldr.evtx",
    ] {
        let src = common::sample(rel).unwrap();
        std::fs::copy(&src, dir.join(src.file_name().unwrap())).unwrap();
    }
    let out = common::run_bitscope(["parse", dir.to_str().unwrap(), "--format", "jsonl"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let row = |id: &Guid| {
        rows.iter()
            .find(|r| r["job_id"] == id.to_string())
            .unwrap_or_else(|| panic!("a row for {id}"))
    };
    let joins = |r: &Value| -> Vec<(String, String, String)> {
        r["story"]
            .as_array()
            .map(|facts| {
                facts
                    .iter()
                    .map(|f| {
                        (
                            f["what"].as_str().unwrap().to_string(),
                            f["join"].as_str().unwrap().to_string(),
                            f["detail"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    // Windows 10: every event by job id, event 3 with its creating process.
    let w10 = joins(row(&win10[0].0));
    let events: Vec<_> = w10
        .iter()
        .filter(|(w, _, _)| w.contains("(event "))
        .collect();
    assert_eq!(events.len(), 5, "{w10:#?}");
    assert!(events.iter().all(|(_, j, _)| j == "job id"));
    assert!(w10.iter().any(|(w, _, d)| w == "job created (event 3)"
        && d.contains(r"process C:\Windows\System32\desktopimgdownldr.exe (pid 1996)")));
    // Windows 7 "backdoor": 59 and 60 by id, event 3 by title (and saying so).
    let w7 = joins(row(&win7[0].0));
    let created = w7
        .iter()
        .find(|(w, _, _)| w == "job created (event 3)")
        .expect("event 3");
    assert!(created.1.starts_with("title"), "{created:?}");
    assert!(created.2.contains("owner IEWIN7\\IEUser"));
    for what in ["transfer started (event 59)", "transfer stopped (event 60)"] {
        assert!(
            w7.iter().any(|(w, j, _)| w == what && j == "job id"),
            "{what}: {w7:#?}"
        );
    }
    // The facts come in time order, the queue's own times among them.
    for r in [row(&win7[0].0), row(&win10[0].0)] {
        let times: Vec<u64> = r["story"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["filetime"].as_u64().unwrap())
            .filter(|t| *t > 0)
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        assert!(r["story"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["source"] == "queue"));
    }
    // "hola" is only in the log: a row of its own kind, its event 3 joined by title.
    let hola = row(&win7[1].0);
    assert_eq!(hola["job_source"]["kind"], "event_log");
    assert_eq!(hola["job_name"], "hola");
    assert_eq!(hola["url"], r"C:\Windows\system32\cmd.exe");
    let h = joins(hola);
    assert!(h
        .iter()
        .any(|(w, j, _)| w == "job created (event 3)" && j.starts_with("title")));
    println!(
        "joined: win10 {} facts, win7 backdoor {} facts, log-only hola {} facts; {} rows",
        w10.len(),
        w7.len(),
        h.len(),
        rows.len()
    );
}

/// The triage rules that read the story: each of the four fires on its own facts.
#[test]
fn story_triage_rules() {
    use bitscope::bits::model::{BitsInfo, Source, SourceKind};
    use bitscope::bits::story::{Fact, Story};
    use bitscope::bits::triage::{assess, Rule};
    use bitscope::gen::evtx::{bits_event, write, Val};
    let job = [0x5a; 16];
    let t = 133_600_000_000_000_000u64;
    let s = |v: &str| Val::Str(v.into());
    let log = write(
        &[
            bits_event(
                3,
                t,
                "WS1",
                vec![
                    ("jobTitle", s("upd")),
                    ("jobId", Val::Guid(job)),
                    ("jobOwner", s("WS1\\bob")),
                    ("processPath", s(r"C:\Windows\System32\bitsadmin.exe")),
                    ("processId", Val::U32(10)),
                ],
            ),
            bits_event(
                59,
                t + 10,
                "WS1",
                vec![
                    ("name", s("upd")),
                    ("Id", Val::Guid(job)),
                    ("url", s("http://x/a")),
                ],
            ),
            bits_event(
                63,
                t + 20,
                "WS1",
                vec![
                    ("Job", s("upd")),
                    ("Url", s("http://x/a")),
                    ("Pgm", s(r"C:\Users\Public\a.exe")),
                    ("hr", Val::U32(0x8007_0002)),
                ],
            ),
        ],
        1,
    );
    let mut story = Story::default();
    story.add_log("Bits-Client.evtx", bitscope::evtx::read(&log));
    // Gone from the queue: a row of its own, every story rule but the disk's.
    let rows = story.log_only(&Default::default());
    assert_eq!(rows.len(), 1);
    let notes: Vec<String> = assess(&rows[0])
        .into_iter()
        .filter(|f| f.rule == Rule::Story)
        .map(|f| f.note)
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n == "created by bitsadmin.exe (event 3)"),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("events 63/64")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.starts_with("gone from the queue")),
        "{notes:?}"
    );
    // The payload missing from disk.
    let mut r = BitsInfo {
        job_id: "00000000-0000-0000-0000-000000000001".into(),
        full_path: r"C:\Users\bob\a.exe".into(),
        job_source: Some(Source {
            kind: SourceKind::Live,
            ..Source::default()
        }),
        ..BitsInfo::default()
    };
    r.story
        .push(Fact::at(0, "payload file not in the MFT", "MFT").valued(&r.full_path.clone()));
    let found = assess(&r);
    assert!(found
        .iter()
        .any(|f| f.rule == Rule::Story && f.note.contains("not on disk")));
    println!("story rules: {notes:?}");
}

/// `bitscope demo`'s evidence tells whole stories: the persistence job's creating process and
/// account (from the host's own log and SAM), the deleted first stage's carved file linked to
/// its carved job, and the job only the log still knows.
#[test]
fn demo_tells_the_whole_story() {
    let dir = common::scratch_dir("story-demo").join("demo");
    bitscope::gen::demo::write_into(&dir).unwrap();
    let out = common::run_bitscope([
        "parse",
        "--carve",
        dir.to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let story_has = |r: &Value, what: &str, detail: &str| {
        r["story"].as_array().is_some_and(|s| {
            s.iter()
                .any(|f| f["what"] == what && f["detail"].as_str().unwrap().contains(detail))
        })
    };
    let persistence = rows
        .iter()
        .find(|r| r["url"] == "http://203.0.113.7:8080/update.exe")
        .expect("the persistence job");
    assert_eq!(persistence["owner_account"], "m.keller");
    assert!(story_has(
        persistence,
        "job created (event 3)",
        "powershell.exe"
    ));
    assert!(story_has(persistence, "owner account", "is m.keller"));
    // The first stage: its carved file names the carved job, by the job's own transfer events.
    let stage_file = rows
        .iter()
        .find(|r| r["url"] == "http://198.51.100.23:8443/stage1.ps1" && r["job_source"].is_null())
        .expect("the carved stage1 file");
    let stage_job = rows
        .iter()
        .find(|r| {
            r["carved"] == true && r["job_id"] == stage_file["job_id"] && !r["job_source"].is_null()
        })
        .expect("the carved job the file is linked to");
    assert_eq!(stage_job["job_name"], "Windows Update Helper");
    assert!(stage_job["job_arguments"]
        .as_str()
        .unwrap()
        .contains("stage1.ps1"));
    assert!(story_has(
        stage_file,
        &format!("file of job {}", stage_file["job_id"].as_str().unwrap()),
        "stage1.ps1"
    ));
    let probe = rows
        .iter()
        .find(|r| r["job_name"] == "probe")
        .expect("the log-only job");
    assert_eq!(probe["job_source"]["kind"], "event_log");
    println!(
        "demo: {} rows; persistence by powershell, owner m.keller; stage1 file linked to job {}; log-only probe",
        rows.len(),
        stage_file["job_id"]
    );
}
