//! Triage you can tune (issue 22, item 9): `--triage FILE.toml` in the explorer (its flags,
//! `flag:` filter and exports' `triage` codes follow the file), a wrong or hostile file as one
//! line and exit 2 from the real binary, and `parse`'s records the same with a file or without.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bitscope::bits::triage::Rule;
use bitscope::bits::tuning::Tuning;
use bitscope::gen::demo;
use bitscope::tui::app::App;
use bitscope::tui::export::triage_codes;
use bitscope::tui::store::{flag_codes, ViewKind};
use bitscope::tui::Options;

const BIN: &str = env!("CARGO_BIN_EXE_bitscope");

/// The demo evidence (real qmgr.db bytes the pipeline decodes), opened with `triage`.
fn demo_app(dir: &Path, triage: Option<&'static Tuning>) -> App {
    demo::write_into(dir).expect("demo written");
    let mut app = App::new(Options {
        triage,
        ..Options::default()
    });
    app.resize(160, 40);
    app.open(vec![dir.to_path_buf()]);
    assert!(app.wait_loaded(Duration::from_secs(60)), "load timed out");
    assert!(app.load.failed.is_none(), "{:?}", app.load.failed);
    app
}

fn tuned(text: &str) -> &'static Tuning {
    Box::leak(Box::new(Tuning::parse(text).expect("a good file")))
}

/// Per URL host: does any record of it carry `rule`?
fn fires_by_host(app: &App, rule: Rule) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for rec in &app.store.recs {
        let host = bitscope::bits::triage::url_host(&rec.info.url)
            .unwrap_or("")
            .to_string();
        let fired = rec.susp & rule.bit() != 0;
        match out.iter_mut().find(|(h, _)| *h == host) {
            Some((_, f)) => *f |= fired,
            None => out.push((host, fired)),
        }
    }
    out
}

#[test]
fn an_allowed_host_silences_its_rule_for_that_host_only() {
    let plain_dir = demo::TempDir::new().unwrap();
    let plain = demo_app(plain_dir.path(), None);
    let before = fires_by_host(&plain, Rule::RawIp);
    let ip_hosts: Vec<&str> = before
        .iter()
        .filter(|(_, f)| *f)
        .map(|(h, _)| h.as_str())
        .collect();
    println!("ip fires on {ip_hosts:?}");
    assert!(ip_hosts.len() >= 2, "{before:?}");
    let quiet = ip_hosts[0].to_string();

    let dir = demo::TempDir::new().unwrap();
    let file = format!("[[allow]]\nhost = \"{quiet}\"\nrules = [\"ip\"]\n");
    let app = demo_app(dir.path(), Some(tuned(&file)));
    let after = fires_by_host(&app, Rule::RawIp);
    println!("with the allowlist: {after:?}");
    for (host, fired) in &before {
        let now = after.iter().find(|(h, _)| h == host).map(|(_, f)| *f);
        assert_eq!(now, Some(*fired && *host != quiet), "{host}");
    }
    // Only `ip` is silenced for that host: its other rules (the port, the command) still fire.
    for (a, b) in plain.store.recs.iter().zip(&app.store.recs) {
        assert_eq!(a.info.url, b.info.url);
        assert_eq!(a.susp & !Rule::RawIp.bit(), b.susp & !Rule::RawIp.bit());
    }
}

#[test]
fn severity_off_removes_a_code_from_flags_filter_and_exports() {
    let plain_dir = demo::TempDir::new().unwrap();
    let plain = demo_app(plain_dir.path(), None);
    let cmd = Rule::Command.bit();
    let with_cmd = plain
        .store
        .recs
        .iter()
        .filter(|r| r.susp & cmd != 0)
        .count();
    println!("cmd fires on {with_cmd} records by default");
    assert!(with_cmd > 0);

    let dir = demo::TempDir::new().unwrap();
    let mut app = demo_app(dir.path(), Some(tuned("[severity]\ncmd = \"off\"\n")));
    assert_eq!(app.store.recs.len(), plain.store.recs.len());
    for rec in &app.store.recs {
        assert_eq!(rec.susp & cmd, 0);
        let flags = flag_codes(rec.hidden, false, rec.susp);
        assert!(!flags.split(' ').any(|c| c == "cmd"), "{flags}");
        // What an export writes as the record's `triage`.
        assert!(!triage_codes(rec.susp).contains(&"cmd"));
    }
    // The detail pane lists no cmd finding either.
    for i in 0..app.store.recs.len() as u32 {
        let f = bitscope::tui::store::findings(app.store.rec(i), app.store.tuning());
        assert!(f.iter().all(|f| f.rule != Rule::Command));
    }
    // `flag:cmd` finds nothing now; `flag:ip` still finds what it did by default.
    let rows = |app: &App| app.store.view(ViewKind::Rows).shown.len();
    let mut plain = plain;
    for (query, same) in [("flag:cmd", false), ("flag:ip", true)] {
        plain.set_filter(query);
        app.set_filter(query);
        println!(
            "{query}: {} rows by default, {} tuned",
            rows(&plain),
            rows(&app)
        );
        assert!(rows(&plain) > 0, "{query}");
        assert_eq!(rows(&app) == rows(&plain), same, "{query}");
    }
    assert_eq!(rows(&app), rows(&plain));
    app.set_filter("flag:cmd");
    assert_eq!(rows(&app), 0);
}

/// Run the binary with a triage file; (exit code, stderr).
fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("bitscope runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn hostile_triage_files_are_one_line_and_exit_2() {
    let Some(db) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let dir = demo::TempDir::new().unwrap();
    let big = format!(
        "[[allow]]\nhost = \"{}\"\n",
        "a".repeat(2 << 20) // 2 MiB
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("wrong-type", b"[severity]\ncmd = 7\n".to_vec()),
        (
            "wrong-rule",
            b"[[allow]]\nhost = \"x\"\nrules = [\"nope\"]\n".to_vec(),
        ),
        ("unknown-key", b"colour = \"red\"\n".to_vec()),
        ("big", big.into_bytes()),
        (
            "deep",
            format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
        ),
        (
            "deep-tables",
            format!("x = {}{}\n", "{a = ".repeat(50_000), "}".repeat(50_000)).into_bytes(),
        ),
        ("not-utf8", b"[severity]\ncmd = \"\xff\"\n".to_vec()),
    ];
    let db = db.to_string_lossy().into_owned();
    for (name, bytes) in cases {
        let path: PathBuf = dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, bytes).unwrap();
        let p = path.to_string_lossy().into_owned();
        for args in [
            vec!["parse", "--triage", &p, &db],
            vec!["--triage", &p, &db],
        ] {
            let (code, err) = run(&args);
            println!("{name}: {code:?} {}", err.trim_end());
            assert_eq!(code, Some(2), "{name} {args:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{name}: {err}");
            assert!(err.starts_with("bitscope: --triage "), "{err}");
            assert!(!err.contains("panicked"), "{err}");
        }
    }
    let (code, err) = run(&["parse", "--triage", "/nonexistent/t.toml", &db]);
    assert_eq!((code, err.lines().count()), (Some(2), 1), "{err}");
}

#[test]
fn parse_records_are_the_same_with_a_triage_file() {
    let Some(db) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let db = db.to_string_lossy().into_owned();
    let assets = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/triage.toml");
    let base = ["parse", "--carve", "--format", "jsonl", db.as_str()];
    let plain = Command::new(BIN).args(base).output().unwrap();
    let tuned = Command::new(BIN)
        .args(base)
        .args(["--triage", assets])
        .output()
        .unwrap();
    assert!(plain.status.success() && tuned.status.success());
    assert!(!plain.stdout.is_empty());
    assert_eq!(plain.stdout, tuned.stdout);
}
