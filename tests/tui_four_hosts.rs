//! The explorer on a four-host case folder built here from the real samples and the
//! generator: scoped filter terms match exactly or by whole components (issue 22, defect 2),
//! each checked against the count computed from the records themselves.
//!
//! HOST-A holds the win10 sample, HOST-AB the win11 one (so `ev:HOST-A` also reaches it by
//! component prefix, and `ev:HOST-A/` does not), HOST-B the win11 24H2 one, and HOST-D a
//! qmgr.db generated with owners, times and URLs chosen to sit next to each other
//! (`S-1-5-1x`, `2026-03-01` and `-10`, `10.0.0.5` and `.50`).

mod common;

use std::path::{Path, PathBuf};

use bitscope::bits::model::BitsInfo;
use bitscope::gen::blobs::{random_job, Machine, FT_DAY, FT_SECOND};
use bitscope::gen::rng::Rng;
use bitscope::tui::app::App;
use bitscope::tui::store::ViewKind;
use chrono::{DateTime, Utc};

const DOWNLOADER: &str = "C/ProgramData/Microsoft/Network/Downloader";

/// FILETIME of an ISO time.
fn filetime(iso: &str) -> u64 {
    let t: DateTime<Utc> = iso.parse().expect("time");
    (t.timestamp() as u64 + 11_644_473_600) * 10_000_000
}

/// HOST-D's jobs: (owner, created, url).
const PLANTED: [(&str, &str, &str); 5] = [
    (
        "S-1-5-18",
        "2026-03-01T08:00:00Z",
        "http://10.0.0.5/a/setup.exe",
    ),
    (
        "S-1-5-19",
        "2026-03-10T08:00:00Z",
        "http://10.0.0.50/b/readme.txt",
    ),
    (
        "S-1-5-18",
        "2026-02-01T08:00:00Z",
        "http://110.0.0.5/c/data.bin",
    ),
    (
        "S-1-5-21-1111111111-2222222222-3333333333-1001",
        "2026-03-05T23:59:59Z",
        "https://updates.example.org/2026-03-01/patch.cab",
    ),
    (
        "S-1-5-20",
        "2026-01-15T12:00:00Z",
        "https://cdn.example.net/x.zip",
    ),
];

fn generated_db() -> Vec<u8> {
    let mut rng = Rng::new(22);
    let machine = Machine::random(&mut rng.fork(1));
    let jobs: Vec<_> = PLANTED
        .iter()
        .map(|(owner, created, url)| {
            let mut j = random_job(&mut rng, &machine, 1);
            j.job.owner_sid = owner.to_string();
            j.job.created = filetime(created);
            j.job.modified = j.job.created + 60 * FT_SECOND;
            j.job.expiration = j.job.created + 90 * FT_DAY;
            j.job.completed = 0;
            j.job.notify_command.clear();
            j.job.notify_arguments.clear();
            if let Some(f) = j.files.first_mut() {
                f.url = url.to_string();
            }
            j
        })
        .collect();
    let now = filetime("2026-03-12T00:00:00Z");
    bitscope::gen::generate_jobs(22, now, &jobs, &[])
        .expect("generate")
        .bytes
}

/// The case folder (built once per test process): four hosts, one qmgr.db each.
fn case_folder() -> Option<PathBuf> {
    let samples = [
        ("HOST-A", "ese/win10/qmgr.db"),
        ("HOST-AB", "ese/win11/qmgr.db"),
        ("HOST-B", "ese/win11-24h2/qmgr.db"),
    ];
    let mut found = Vec::new();
    for (host, rel) in samples {
        found.push((host, common::sample(rel)?));
    }
    let dir = common::scratch_dir("four-host-case");
    for (host, src) in found {
        let at = dir.join(host).join(DOWNLOADER);
        std::fs::create_dir_all(&at).expect("mkdir");
        std::fs::copy(src, at.join("qmgr.db")).expect("copy");
    }
    let at = dir.join("HOST-D").join(DOWNLOADER);
    std::fs::create_dir_all(&at).expect("mkdir");
    std::fs::write(at.join("qmgr.db"), generated_db()).expect("write");
    Some(dir)
}

/// The host folder a record's evidence lies in.
fn host(dir: &Path, r: &BitsInfo) -> String {
    Path::new(&r.evidence)
        .strip_prefix(dir)
        .ok()
        .and_then(|p| p.components().next())
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Every set time of a record (ISO text), the way the record holds them.
fn times(r: &BitsInfo) -> Vec<&str> {
    [&r.created, &r.modified, &r.completed, &r.expiration]
        .into_iter()
        .map(String::as_str)
        .filter(|t| !t.is_empty() && !t.starts_with("1601"))
        .collect()
}

/// Does `value` hold `pat` (any case) with no digit right before or after it?
fn whole_number_text(value: &str, pat: &str) -> bool {
    let v = value.to_lowercase();
    let p = pat.to_lowercase();
    v.match_indices(&p).any(|(at, _)| {
        let before = v[..at].chars().next_back();
        let after = v[at + p.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit() || c == '.')
            && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

#[test]
fn scoped_terms_match_exactly_or_by_components_across_four_hosts() {
    let Some(dir) = case_folder() else { return };
    let mut app = common::tui::loaded(dir.clone(), true, 160, 40);
    app.view = ViewKind::Rows; // one record per row
    let recs: Vec<BitsInfo> = app.store.recs.iter().map(|r| r.info.clone()).collect();
    let hosts: Vec<String> = recs.iter().map(|r| host(&dir, r)).collect();
    for h in ["HOST-A", "HOST-AB", "HOST-B", "HOST-D"] {
        assert!(hosts.iter().any(|x| x == h), "{h} has records");
    }
    // A job id of HOST-AB, typed as the BITS event log writes it: braced, upper case.
    let guid = recs
        .iter()
        .zip(&hosts)
        .find(|(r, h)| *h == "HOST-AB" && !r.job_id.is_empty())
        .map(|(r, _)| r.job_id.trim_matches(['{', '}']).to_uppercase())
        .expect("a HOST-AB job id");
    let braced = format!("{{{guid}}}");
    let guid_hits = {
        let g = guid.clone();
        move |r: &BitsInfo| {
            [&r.job_id, &r.file_id]
                .iter()
                .any(|id| id.trim_matches(['{', '}']).eq_ignore_ascii_case(&g))
        }
    };
    type Want = Box<dyn Fn(&BitsInfo, &str) -> bool>;
    let table: Vec<(String, Want)> = vec![
        ("ev:HOST-A/".into(), Box::new(|_, h| h == "HOST-A")),
        (
            "ev:HOST-A".into(),
            Box::new(|_, h| h == "HOST-A" || h == "HOST-AB"),
        ),
        ("-ev:HOST-A/".into(), Box::new(|_, h| h != "HOST-A")),
        ("EV:host-b".into(), Box::new(|_, h| h == "HOST-B")),
        ("ev:OST-B".into(), Box::new(|_, _| false)),
        (
            "owner:S-1-5-18".into(),
            Box::new(|r, _| r.owner_sid == "S-1-5-18"),
        ),
        (
            "owner:S-1-5-1".into(),
            Box::new(|r, _| r.owner_sid == "S-1-5-1"),
        ),
        (
            "owner:S-1-5-21".into(),
            Box::new(|r, _| r.owner_sid.starts_with("S-1-5-21-")),
        ),
        (
            "2026-03-01".into(),
            Box::new(|r, _| {
                times(r).iter().any(|t| t.starts_with("2026-03-01"))
                    || whole_number_text(&r.url, "2026-03-01")
            }),
        ),
        (
            "2026-03".into(),
            Box::new(|r, _| {
                times(r).iter().any(|t| t.starts_with("2026-03"))
                    || whole_number_text(&r.url, "2026-03")
            }),
        ),
        (
            "after:2026-03-01 before:2026-03-06".into(),
            Box::new(|r, _| {
                times(r)
                    .iter()
                    .any(|t| *t >= "2026-03-01" && *t < "2026-03-06")
            }),
        ),
        (
            "url:10.0.0.5".into(),
            Box::new(|r, _| whole_number_text(&r.url, "10.0.0.5")),
        ),
        (
            braced.clone(),
            Box::new({
                let h = guid_hits.clone();
                move |r, _| h(r)
            }),
        ),
        (
            format!("id:{}", &guid[..8]),
            Box::new({
                let g = guid.clone();
                move |r, _| {
                    [&r.job_id, &r.file_id].iter().any(|id| {
                        id.trim_start_matches('{')
                            .to_uppercase()
                            .starts_with(&g[..8])
                    })
                }
            }),
        ),
        (
            "flag:exe".into(),
            Box::new(|r, _| {
                bitscope::bits::triage::assess(r)
                    .iter()
                    .any(|f| f.rule == bitscope::bits::triage::Rule::Executable)
            }),
        ),
        (
            "ev:HOST-D | ev:HOST-B".into(),
            Box::new(|_, h| h == "HOST-D" || h == "HOST-B"),
        ),
    ];
    let mut report = Vec::new();
    for (query, want) in &table {
        app.set_filter(query);
        assert_eq!(app.store.query.error, None, "{query}");
        let v = app.store.view(ViewKind::Rows);
        let got: Vec<u32> = v
            .shown
            .iter()
            .map(|&i| v.items[i as usize].members[0])
            .collect();
        let expected: Vec<u32> = (0..recs.len() as u32)
            .filter(|&i| want(&recs[i as usize], &hosts[i as usize]))
            .collect();
        let mut got_sorted = got.clone();
        got_sorted.sort_unstable();
        assert_eq!(got_sorted, expected, "{query}");
        report.push(format!("{query}: {}", got.len()));
    }
    println!("{} records; {}", recs.len(), report.join("; "));
    // The planted neighbours really are there, so the exact counts above say something.
    let count = |f: &dyn Fn(&BitsInfo) -> bool| recs.iter().filter(|r| f(r)).count();
    assert!(count(&|r| r.owner_sid == "S-1-5-18") >= 2);
    assert!(count(&|r| r.created.starts_with("2026-03-10")) >= 1);
    assert!(count(&|r| r.url.contains("10.0.0.50")) >= 1);
    assert!(count(&guid_hits) >= 1);
    // Records of HOST-A outnumber nothing by accident: the scoped count is HOST-A's own.
    let a = hosts.iter().filter(|h| *h == "HOST-A").count();
    app.set_filter("ev:HOST-A/");
    assert_eq!(app.store.view(ViewKind::Rows).shown.len(), a);
}

#[test]
fn filter_mistakes_are_said_not_silently_empty() {
    let Some(dir) = case_folder() else { return };
    let mut app: App = common::tui::loaded(dir, false, 160, 40);
    app.view = ViewKind::Rows;
    let all = app.store.view(ViewKind::Rows).shown.len();
    for (query, says) in [
        ("has:cmd", "has: takes hidden or warnings"),
        ("flag:nope", "flag: takes a triage code"),
        ("\"two words", "not closed"),
        ("after:yesterday", "date or time"),
    ] {
        app.set_filter(query);
        let err = app.store.query.error.clone().unwrap_or_default();
        assert!(err.contains(says), "{query}: {err}");
    }
    // Nothing to match yet hides nothing.
    for query in ["-'", "-", "'", "ev:", "-ev:"] {
        app.set_filter(query);
        assert_eq!(app.store.view(ViewKind::Rows).shown.len(), all, "{query}");
    }
}
