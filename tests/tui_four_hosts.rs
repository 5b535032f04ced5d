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
use crossterm::event::KeyCode;

const DOWNLOADER: &str = "C/ProgramData/Microsoft/Network/Downloader";

/// FILETIME of an ISO time.
fn filetime(iso: &str) -> u64 {
    let t: DateTime<Utc> = iso.parse().expect("time");
    (t.timestamp() as u64 + 11_644_473_600) * 10_000_000
}

/// HOST-D's jobs: (owner, created, url). The last host is spelled with a Cyrillic `а`.
const PLANTED: [(&str, &str, &str); 6] = [
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
    (
        "S-1-5-20",
        "2026-01-20T06:00:00Z",
        "https://upd\u{430}te.example.org/app/chrome_updater.exe",
    ),
];

fn generated_db() -> Vec<u8> {
    let mut rng = Rng::new(22);
    let machine = Machine::random(&mut rng.fork(1));
    let jobs: Vec<_> = PLANTED
        .iter()
        .enumerate()
        .map(|(i, (owner, created, url))| {
            let mut j = random_job(&mut rng, &machine, 1);
            j.job.owner_sid = owner.to_string();
            j.job.created = filetime(created);
            j.job.modified = j.job.created + 60 * FT_SECOND;
            j.job.expiration = j.job.created + 90 * FT_DAY;
            j.job.completed = 0;
            j.job.notify_command.clear();
            j.job.notify_arguments.clear();
            // The look-alike job also runs a command when done (flag:cmd).
            if i + 1 == PLANTED.len() {
                j.job.notify_command = r"C:\Windows\System32\cmd.exe".to_string();
                j.job.notify_arguments = "/c start chrome_updater.exe".to_string();
            }
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
    // Built once per test process: `scratch_dir` empties its folder, and the tests of this
    // file run in parallel (one emptying it under another was a flaky failure).
    static CASE: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    CASE.get_or_init(build_case_folder).clone()
}

fn build_case_folder() -> Option<PathBuf> {
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

/// A URL's host, lowercase, with Cyrillic `а` read as `a` (the look-alike planted on HOST-D).
fn folded_host(url: &str) -> String {
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
    let hostport = authority.rsplit('@').next().unwrap_or("");
    let host = hostport.rsplit_once(':').map_or(hostport, |(h, _)| h);
    host.to_lowercase().replace('\u{430}', "a")
}

/// The times `after:`/`before:` compare: created, modified, completed and the story's.
fn event_times(r: &BitsInfo) -> Vec<DateTime<Utc>> {
    let mut out: Vec<DateTime<Utc>> = [&r.created, &r.modified, &r.completed]
        .into_iter()
        .filter_map(|t| t.parse::<DateTime<Utc>>().ok())
        .filter(|t| t.timestamp() > -11_644_473_600)
        .collect();
    for f in &r.story {
        if f.filetime > 0 {
            let secs = (f.filetime / 10_000_000) as i64 - 11_644_473_600;
            let nanos = (f.filetime % 10_000_000) as u32 * 100;
            out.extend(DateTime::<Utc>::from_timestamp(secs, nanos));
        }
    }
    out
}

fn utc(iso: &str) -> DateTime<Utc> {
    iso.parse().expect("time")
}

fn has_rule(r: &BitsInfo, rule: bitscope::bits::triage::Rule) -> bool {
    bitscope::bits::triage::assess(r)
        .iter()
        .any(|f| f.rule == rule)
}

/// The record numbers of the Rows view's shown rows, sorted.
fn shown_records(app: &App) -> Vec<u32> {
    let v = app.store.view(ViewKind::Rows);
    let mut got: Vec<u32> = v
        .shown
        .iter()
        .map(|&i| v.items[i as usize].members[0])
        .collect();
    got.sort_unstable();
    got
}

#[test]
fn time_ranges_flags_alternatives_and_look_alikes_across_four_hosts() {
    use bitscope::bits::triage::Rule;
    let Some(dir) = case_folder() else { return };
    let mut app = common::tui::loaded(dir.clone(), true, 160, 40);
    app.view = ViewKind::Rows;
    let recs: Vec<BitsInfo> = app.store.recs.iter().map(|r| r.info.clone()).collect();
    let hosts: Vec<String> = recs.iter().map(|r| host(&dir, r)).collect();
    // A local file name of the win10 host, for file:.
    let name = recs
        .iter()
        .zip(&hosts)
        .find(|(r, h)| *h == "HOST-A" && !r.filename.is_empty())
        .map(|(r, _)| r.filename.clone())
        .expect("a file name on HOST-A");
    let last = |p: &str| p.rsplit(['/', '\\']).next().unwrap_or(p).to_lowercase();
    type Want = Box<dyn Fn(&BitsInfo, &str) -> bool>;
    let in_range = |from: &str, to: Option<&str>| {
        let (from, to) = (utc(from), to.map(utc));
        move |r: &BitsInfo| {
            event_times(r)
                .iter()
                .any(|t| *t >= from && to.is_none_or(|e| *t < e))
        }
    };
    let table: Vec<(String, Want)> = vec![
        (
            "after:2026-03-01T08:00".into(),
            Box::new({
                let f = in_range("2026-03-01T08:00:00Z", None);
                move |r, _| f(r)
            }),
        ),
        (
            "after:2026-03-01T08:00:00.001".into(),
            Box::new({
                let f = in_range("2026-03-01T08:00:00.001Z", None);
                move |r, _| f(r)
            }),
        ),
        // after: is inclusive, before: exclusive: the instant 08:00:00.000 alone, and not.
        (
            "after:2026-03-01T08:00 before:2026-03-01T08:00:00.001".into(),
            Box::new({
                let f = in_range("2026-03-01T08:00:00Z", Some("2026-03-01T08:00:00.001Z"));
                move |r, _| f(r)
            }),
        ),
        (
            "after:2026-03-01T07:59 before:2026-03-01T08:00".into(),
            Box::new({
                let f = in_range("2026-03-01T07:59:00Z", Some("2026-03-01T08:00:00Z"));
                move |r, _| f(r)
            }),
        ),
        (
            "before:2024-07-30".into(),
            Box::new(|r, _| {
                event_times(r)
                    .iter()
                    .any(|t| *t < utc("2024-07-30T00:00:00Z"))
            }),
        ),
        (
            "after:2026-03-01 08:00:00 before:2026-03-06".into(),
            Box::new({
                let f = in_range("2026-03-01T08:00:00Z", Some("2026-03-06T00:00:00Z"));
                move |r, _| f(r)
            }),
        ),
        (
            "-after:2025".into(),
            Box::new({
                let f = in_range("2025-01-01T00:00:00Z", None);
                move |r, _| !f(r)
            }),
        ),
        (
            "flag:cmd".into(),
            Box::new(|r, _| has_rule(r, Rule::Command)),
        ),
        (
            "flag:mix".into(),
            Box::new(|r, _| has_rule(r, Rule::LookAlike)),
        ),
        ("flag:ip".into(), Box::new(|r, _| has_rule(r, Rule::RawIp))),
        (
            "ev:HOST-D owner:S-1-5-18 OR ev:HOST-B".into(),
            Box::new(|r, h| (h == "HOST-D" && r.owner_sid == "S-1-5-18") || h == "HOST-B"),
        ),
        (
            "ev:HOST-B OR ev:HOST-D flag:exe | owner:S-1-5-19".into(),
            Box::new(|r, h| {
                h == "HOST-B"
                    || (h == "HOST-D" && has_rule(r, Rule::Executable))
                    || r.owner_sid == "S-1-5-19"
            }),
        ),
        (
            "site:update.example.org".into(),
            Box::new(|r, _| folded_host(&r.url) == "update.example.org"),
        ),
        (
            "site:example.org".into(),
            Box::new(|r, _| {
                let h = folded_host(&r.url);
                h == "example.org" || h.ends_with(".example.org")
            }),
        ),
        (
            "site:gvt1.com".into(),
            Box::new(|r, _| {
                let h = folded_host(&r.url);
                h == "gvt1.com" || h.ends_with(".gvt1.com")
            }),
        ),
        (
            "'update.example".into(),
            Box::new(|r, _| {
                r.url
                    .to_lowercase()
                    .replace('\u{430}', "a")
                    .contains("update.example")
            }),
        ),
        (
            format!("file:{}", name.to_uppercase()),
            Box::new({
                let n = name.to_lowercase();
                move |r, _| last(&r.filename) == n || last(&r.full_path) == n
            }),
        ),
    ];
    let mut report = Vec::new();
    for (query, want) in &table {
        app.set_filter(query);
        assert_eq!(app.store.query.error, None, "{query}");
        let expected: Vec<u32> = (0..recs.len() as u32)
            .filter(|&i| want(&recs[i as usize], &hosts[i as usize]))
            .collect();
        assert_eq!(shown_records(&app), expected, "{query}");
        report.push(format!("{query}: {}", expected.len()));
    }
    println!("{} records; {}", recs.len(), report.join("; "));
    // The spoofed host is there, and free text and url: find it from the Latin spelling.
    let spoofed: Vec<u32> = (0..recs.len() as u32)
        .filter(|&i| recs[i as usize].url.contains('\u{430}'))
        .collect();
    assert_eq!(spoofed.len(), 1);
    for query in ["update.example", "url:update.example", "url:updte.exmpl"] {
        app.set_filter(query);
        assert!(
            spoofed.iter().all(|s| shown_records(&app).contains(s)),
            "{query}"
        );
    }
    // Times are really there on both sides of the instants used above.
    let count = |f: &dyn Fn(&BitsInfo) -> bool| recs.iter().filter(|r| f(r)).count();
    assert!(count(&|r| event_times(r).contains(&utc("2026-03-01T08:00:00Z"))) >= 1);
    app.set_filter("after:2026-03-01T08:00 before:2026-03-01T08:00:00.001");
    assert!(
        !shown_records(&app).is_empty(),
        "the instant itself is after: it"
    );
    assert!(count(&|r| has_rule(r, Rule::Command)) >= 1);
    assert!(count(&|r| has_rule(r, Rule::LookAlike)) >= 1);
    assert!(count(&|r| folded_host(&r.url).ends_with("gvt1.com")) >= 1);
}

#[test]
fn or_and_time_mistakes_are_said_in_the_filter_bar() {
    let Some(dir) = case_folder() else { return };
    let mut app: App = common::tui::loaded(dir, false, 160, 40);
    app.view = ViewKind::Rows;
    let all = app.store.view(ViewKind::Rows).shown.len();
    let codes: Vec<&str> = bitscope::bits::triage::Rule::ALL
        .iter()
        .map(|r| r.code())
        .collect();
    for (query, says) in [
        ("ev:HOST-A OR", "OR at the end"),
        ("ev:HOST-A |", "OR at the end"),
        ("OR ev:HOST-A", "OR at the start"),
        ("ev:HOST-A OR OR ev:HOST-B", "OR twice"),
        ("after:2026-02-30", "no such day"),
        ("before:2026-13", "date or time"),
        ("after:2026-03-01T25:00", "date or time"),
        ("flag:cm", "flag: takes a triage code"),
    ] {
        common::tui::press(&mut app, KeyCode::Char('/'));
        common::tui::typ(&mut app, query);
        let err = app.store.query.error.clone().unwrap_or_default();
        assert!(err.contains(says), "{query}: {err}");
        let screen = common::tui::screen(&app);
        assert!(screen.contains(says), "{query}: the bar shows {says:?}");
        // The faulty part is left out, never 0 rows silently: the rest still filters.
        assert!(!app.store.view(ViewKind::Rows).shown.is_empty(), "{query}");
        common::tui::press(&mut app, KeyCode::Esc);
    }
    app.set_filter("flag:nope");
    let err = app.store.query.error.clone().unwrap_or_default();
    for c in &codes {
        assert!(err.contains(c), "{err} lists {c}");
    }
    assert_eq!(app.store.view(ViewKind::Rows).shown.len(), all);
}

/// Press `j` in the detail pane until the field cursor is on `label`.
fn cursor_to(app: &mut App, label: &str) {
    for _ in 0..200 {
        if app.detail_field().is_some_and(|(l, _)| l == label) {
            return;
        }
        common::tui::press(app, KeyCode::Char('j'));
    }
    panic!("no {label} field");
}

#[test]
fn pivot_on_a_url_host_and_a_jobs_files_and_back() {
    use bitscope::tui::app::Screen;
    let Some(dir) = case_folder() else { return };
    let mut app: App = common::tui::loaded(dir, true, 160, 40);
    app.view = ViewKind::Jobs;
    // A job row whose record has a URL and a job id: open its detail.
    let pos = {
        let v = app.store.view(ViewKind::Jobs);
        v.shown
            .iter()
            .position(|&i| {
                let r = &app.store.rec(v.items[i as usize].rep()).info;
                !r.url.is_empty() && !r.job_id.is_empty() && r.url.contains("://")
            })
            .expect("a job with a URL")
    };
    app.store.view_mut(ViewKind::Jobs).sel = pos;
    common::tui::press(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Detail);
    cursor_to(&mut app, "url");
    let rec = app.detail_record().expect("record");
    let field = app.detail.field;
    let info = app.store.rec(rec).info.clone();
    let host = folded_host(&info.url);

    common::tui::press(&mut app, KeyCode::Char('p'));
    assert_eq!(app.screen, Screen::Table);
    assert_eq!(app.view, ViewKind::Jobs);
    assert_eq!(app.filter_text, format!("site:{host}"));
    // Every job row with a record on that host (or a name under it), and no other.
    let v = app.store.view(ViewKind::Jobs);
    let want = v
        .items
        .iter()
        .filter(|it| {
            it.members.iter().any(|&m| {
                let h = folded_host(&app.store.rec(m).info.url);
                h == host || h.ends_with(&format!(".{host}"))
            })
        })
        .count();
    assert_eq!(v.shown.len(), want);
    assert!(v.shown.len() < v.items.len(), "the pivot narrows");
    // The row the pivot started from is selected, and the filter line shows the term.
    assert!(app.selected_members().contains(&rec));
    let screen = common::tui::screen(&app);
    assert!(screen.contains(&format!("site:{host}")), "{screen}");
    println!("site:{host}: {want} of {} jobs", v.items.len());

    // Esc: back to the detail pane, on the same record and field, the filter as it was.
    common::tui::press(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::Detail);
    assert_eq!(app.filter_text, "");
    assert_eq!(app.detail_record(), Some(rec));
    assert_eq!(app.detail.field, field);
    let all_jobs = app.store.view(ViewKind::Jobs).shown.len();
    assert_eq!(all_jobs, app.store.view(ViewKind::Jobs).items.len());

    // f: the job's files, and back.
    common::tui::press(&mut app, KeyCode::Char('f'));
    assert_eq!(app.screen, Screen::Table);
    assert_eq!(app.view, ViewKind::Files);
    let id = info.job_id.trim_matches(['{', '}']);
    assert_eq!(app.filter_text, format!("id:{{{id}}}"));
    let v = app.store.view(ViewKind::Files);
    let want = v
        .items
        .iter()
        .filter(|it| {
            it.members.iter().any(|&m| {
                let r = &app.store.rec(m).info;
                [&r.job_id, &r.file_id]
                    .iter()
                    .any(|x| x.trim_matches(['{', '}']).eq_ignore_ascii_case(id))
            })
        })
        .count();
    assert_eq!(v.shown.len(), want);
    assert!(want >= 1);
    println!("id:{{{id}}}: {want} file rows");
    common::tui::press(&mut app, KeyCode::Esc);
    assert_eq!((app.screen, app.view), (Screen::Detail, ViewKind::Jobs));
    assert_eq!(app.detail_record(), Some(rec));
    // Esc again: the detail's own back, to the table; then Esc clears nothing more.
    common::tui::press(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::Table);
    assert_eq!(app.store.view(ViewKind::Jobs).shown.len(), all_jobs);

    // A field with no pivot says so and changes nothing.
    common::tui::press(&mut app, KeyCode::Enter);
    cursor_to(&mut app, "SDDL");
    common::tui::press(&mut app, KeyCode::Char('p'));
    assert_eq!(app.screen, Screen::Detail);
    assert_eq!(app.filter_text, "");
}

/// The screen's lines below the header (which names the case folder's path, different on
/// every machine and run).
fn lines_below_header(b: &ratatui::backend::TestBackend) -> String {
    let buf = b.buffer();
    (1..buf.area.height)
        .map(|y| {
            let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            line.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The Host column names each row's host as `parse` named the record (here the folder above
/// the collected volume, no SYSTEM hive being in the case); the jobs table sorted by it,
/// descending, shows three of the four hosts on one screen.
#[test]
fn the_jobs_table_shows_each_rows_host() {
    use bitscope::tui::columns::Col;
    let Some(dir) = case_folder() else { return };
    let mut app = common::tui::loaded(dir.clone(), true, 160, 40);
    for r in &app.store.recs {
        assert_eq!(r.info.host, host(&dir, &r.info), "{}", r.info.evidence);
        assert_eq!(r.info.host_source, "folder name");
    }
    let (cols, widths) = app.table_columns();
    let at = cols
        .iter()
        .position(|&c| c == Col::Host)
        .expect("a Host column");
    assert!(widths[at] >= 7, "HOST-AB whole: {widths:?}");
    // Every row's Host cell is its record's own `host`, nothing computed again.
    let v = app.store.view(ViewKind::Jobs);
    for it in &v.items {
        let rep = &app.store.rec(it.rep()).info;
        assert_eq!(app.store.cell_text(Col::Host, it), rep.host);
    }
    let jobs = app.store.view_mut(ViewKind::Jobs);
    jobs.sort = Some((Col::Host, true));
    app.store.resort(ViewKind::Jobs);
    let b = common::tui::render(&app);
    let screen = lines_below_header(&b);
    for h in ["HOST-D", "HOST-B", "HOST-AB"] {
        assert!(screen.contains(h), "{h}: {screen}");
    }
    insta::assert_snapshot!("four_hosts_jobs_by_host_160", screen);
}

/// `H`: one line per host, its counts equal to those computed here from the records the
/// explorer holds (jobs and files as distinct ids of one evidence file, live or carved);
/// Enter on a host leaves exactly its records in the tables (`host:` is the whole name:
/// HOST-A's rows, not HOST-AB's).
#[test]
fn the_host_summary_counts_each_host_and_enter_filters_to_it() {
    use bitscope::bits::model::SourceKind;
    use bitscope::tui::hosts::summary;
    use crossterm::event::KeyCode;
    use std::collections::{BTreeMap, BTreeSet};
    let Some(dir) = case_folder() else { return };
    let mut app = common::tui::loaded(dir.clone(), true, 160, 40);
    let recs: Vec<BitsInfo> = app.store.recs.iter().map(|r| r.info.clone()).collect();
    // (host) → (jobs, carved, log only, flagged, files, records), from the records.
    type Key = (String, bool, String);
    let mut jobs: BTreeMap<String, BTreeMap<Key, (bool, bool)>> = BTreeMap::new();
    let mut files: BTreeMap<String, BTreeSet<Key>> = BTreeMap::new();
    let mut records: BTreeMap<String, usize> = BTreeMap::new();
    for r in &recs {
        *records.entry(r.host.clone()).or_default() += 1;
        let flagged = !bitscope::bits::triage::assess(r).is_empty();
        // A row of each table is one id (or, without one, one place) in one evidence
        // file, live or carved; a file a job lists but whose record was not found is a row
        // of its own too (its id known, its place not).
        let evidence = |s: &Option<bitscope::bits::model::Source>| {
            s.as_ref().map(|s| s.evidence.clone()).unwrap_or_default()
        };
        let offset =
            |s: &Option<bitscope::bits::model::Source>| s.as_ref().map_or(u64::MAX, |s| s.offset);
        if r.job_source.is_some() || !r.job_id.is_empty() {
            let id = if r.job_id.is_empty() {
                format!("@{}", offset(&r.job_source))
            } else {
                r.job_id.clone()
            };
            let logged = r
                .job_source
                .as_ref()
                .is_some_and(|s| s.kind == SourceKind::EventLog);
            let e = jobs
                .entry(r.host.clone())
                .or_default()
                .entry((evidence(&r.job_source), r.carved, id))
                .or_insert((false, logged));
            e.0 |= flagged;
        }
        if r.file_source.is_some() || !r.file_id.is_empty() {
            let id = if r.file_id.is_empty() {
                format!("@{}\0{}\0{}", offset(&r.file_source), r.url, r.full_path)
            } else {
                r.file_id.clone()
            };
            files.entry(r.host.clone()).or_default().insert((
                evidence(&r.file_source),
                r.carved,
                id,
            ));
        }
    }
    let rows = summary(&app.store);
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["HOST-A", "HOST-AB", "HOST-B", "HOST-D"]);
    let mut report = Vec::new();
    for row in &rows {
        let j = jobs.get(&row.name).cloned().unwrap_or_default();
        let want = (
            j.len(),
            j.keys().filter(|k| k.1).count(),
            j.values().filter(|v| v.1).count(),
            j.values().filter(|v| v.0).count(),
            files.get(&row.name).map_or(0, BTreeSet::len),
            records.get(&row.name).copied().unwrap_or(0),
        );
        let got = (
            row.jobs,
            row.carved,
            row.log_only,
            row.flagged,
            row.files,
            row.records,
        );
        assert_eq!(got, want, "{}", row.name);
        assert!(row.jobs > 0 && row.records > 0, "{}", row.name);
        report.push(format!(
            "{}: {} jobs ({} carved, {} log only, {} flagged), {} files, {} records",
            row.name, got.0, got.1, got.2, got.3, got.4, got.5
        ));
    }
    println!("{}", report.join("; "));
    assert!(rows.iter().any(|r| r.carved > 0) && rows.iter().any(|r| r.flagged > 0));
    // The overlay draws each host with its counts.
    common::tui::press(&mut app, KeyCode::Char('H'));
    let screen = lines_below_header(&common::tui::render(&app));
    for row in &rows {
        assert!(
            screen
                .lines()
                .any(|l| l.contains(&row.name) && l.contains(&format!(" {} ", row.records))),
            "{}: {screen}",
            row.name
        );
    }
    // Down to HOST-A (the first), Enter: only HOST-A's records, in every table.
    common::tui::press(&mut app, KeyCode::Enter);
    assert_eq!(app.overlay, None);
    assert_eq!(app.filter_text, "host:HOST-A");
    app.view = ViewKind::Rows;
    let v = app.store.view(ViewKind::Rows);
    let shown: BTreeSet<u32> = v
        .shown
        .iter()
        .map(|&i| v.items[i as usize].members[0])
        .collect();
    let want: BTreeSet<u32> = (0..recs.len() as u32)
        .filter(|&i| recs[i as usize].host == "HOST-A")
        .collect();
    assert_eq!(shown, want);
    assert_eq!(
        app.store.view(ViewKind::Jobs).shown.len(),
        rows[0].jobs,
        "every HOST-A job row"
    );
    // The next host down, chosen with the cursor, replaces the host term.
    common::tui::press(&mut app, KeyCode::Char('H'));
    common::tui::press(&mut app, KeyCode::Down);
    common::tui::press(&mut app, KeyCode::Enter);
    assert_eq!(app.filter_text, "host:HOST-AB");
    assert_eq!(app.store.view(ViewKind::Jobs).shown.len(), rows[1].jobs);
}

/// The timeline names each event's host too, over several hosts: an event of HOST-D (its
/// created time planted here) shows HOST-D on its line.
#[test]
fn the_timeline_shows_the_host_over_several_hosts() {
    use crossterm::event::KeyCode;
    let Some(dir) = case_folder() else { return };
    let mut app = common::tui::loaded(dir, true, 160, 30);
    common::tui::typ(&mut app, "T");
    common::tui::typ(&mut app, "/");
    common::tui::typ(&mut app, "host:HOST-D");
    common::tui::press(&mut app, KeyCode::Enter);
    let screen = lines_below_header(&common::tui::render(&app));
    assert!(screen.contains("Host"), "{screen}");
    let events: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("2026-03-10 08:00:00"))
        .collect();
    assert!(!events.is_empty(), "{screen}");
    assert!(events.iter().all(|l| l.contains("HOST-D")), "{screen}");
}
