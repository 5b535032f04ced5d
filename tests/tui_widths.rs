//! The tables at 80, 120, 200 and 400 columns (issue 22, defect 1): on the demo case (two
//! hosts, a T1197 job, a spoofed host, the legacy queue) and on win11, every key value of a
//! row on screen (job name, URL, flags, host, the Evidence column's host and file name) is drawn
//! whole or with its middle elided (its start and its end kept), never cut at its end.
//! Snapshots show each width.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use bitscope::tui::app::App;
use bitscope::tui::columns::Col;
use bitscope::tui::display;
use bitscope::tui::store::{flag_codes, ViewKind};
use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;

use common::tui::{loaded, press, render};

const WIDTHS: [u16; 4] = [80, 120, 200, 400];

/// The demo evidence, written once under a fixed relative name so the screens are the same
/// on every machine.
fn demo() -> PathBuf {
    static AT: OnceLock<PathBuf> = OnceLock::new();
    AT.get_or_init(|| {
        let rel = PathBuf::from("target/tui-demo");
        let dir = common::manifest_dir().join(&rel);
        let _ = std::fs::remove_dir_all(&dir);
        for f in bitscope::gen::demo::files().expect("demo files") {
            let at = dir.join(&f.path);
            std::fs::create_dir_all(at.parent().expect("parent")).expect("mkdir");
            std::fs::write(&at, &f.bytes).expect("write demo file");
        }
        if std::env::current_dir().ok() == Some(common::manifest_dir()) {
            rel
        } else {
            dir
        }
    })
    .clone()
}

fn rows(b: &TestBackend) -> Vec<String> {
    let buf = b.buffer();
    (0..buf.area.height)
        .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}

/// Is `value` (escaped as drawn) on `line` whole, or as its start and its end with `…`
/// between (at least one character of each)?
fn whole_or_elided(line: &str, value: &str) -> bool {
    let v: Vec<char> = value.chars().collect();
    if v.is_empty() || line.contains(value) {
        return true;
    }
    line.split('…').collect::<Vec<_>>().windows(2).any(|w| {
        // The longest suffix of the text before `…` that starts `value`, and the longest
        // prefix of the text after it that ends `value`, must meet in `value`.
        let head = (1..v.len()).rev().find(|&k| {
            let h: String = v[..k].iter().collect();
            w[0].ends_with(&h)
        });
        let tail = (1..v.len()).rev().find(|&k| {
            let t: String = v[v.len() - k..].iter().collect();
            w[1].starts_with(&t)
        });
        matches!((head, tail), (Some(h), Some(t)) if h + t < v.len())
    })
}

/// Every key value of each row on screen, checked against the row drawn; returns how many
/// values were checked.
fn key_values_whole_or_elided(app: &App, k: ViewKind, screen: &[String]) -> usize {
    let (cols, widths) = app.table_columns();
    let v = app.store.view(k);
    let mut checked = 0;
    // The header, the tabs and the column titles above the rows.
    for (line, &i) in screen.iter().skip(3).zip(v.shown.iter().skip(v.offset)) {
        let item = &v.items[i as usize];
        for (c, &w) in cols.iter().zip(&widths) {
            if w == 0 {
                continue;
            }
            let text = match c {
                Col::Flags => {
                    let (hidden, warned, susp) = app.store.item_flags(item);
                    flag_codes(hidden, warned, susp)
                }
                Col::Name | Col::Url | Col::Evidence | Col::Command | Col::Path | Col::Host => {
                    app.store.cell_text(*c, item)
                }
                _ => continue,
            };
            let text = display::escape(&text);
            if *c == Col::Flags {
                assert!(line.contains(text.trim()), "{c:?} {text:?} cut: {line}");
            } else {
                // A URL too long for its column loses its query first (`…/setup.exe?…`).
                let no_query = match text.split_once('?') {
                    Some((url, _)) if *c == Col::Url => format!("{url}?"),
                    _ => text.to_string(),
                };
                assert!(
                    whole_or_elided(line, &text) || whole_or_elided(line, &no_query),
                    "{c:?} {text:?} cut: {line}"
                );
            }
            if *c == Col::Evidence {
                // The host folder stays whole, and the file name too where it fits the
                // column's 40 cells (an event log's long name keeps its end).
                let host = text.split('/').next().unwrap_or("");
                let file = text.rsplit('/').next().unwrap_or("");
                let tail: String = {
                    let mut t: Vec<char> = file.chars().rev().take(20).collect();
                    t.reverse();
                    t.into_iter().collect()
                };
                assert!(line.contains(host), "{text}: {line}");
                assert!(
                    line.contains(file) || line.contains(&tail),
                    "{text}: {line}"
                );
            }
            checked += 1;
        }
    }
    checked
}

fn check_widths(name: &str, path: PathBuf, tabs: usize) {
    for w in WIDTHS {
        let mut app = loaded(path.clone(), true, w, 30);
        for _ in 0..tabs {
            press(&mut app, KeyCode::Tab);
        }
        let b = render(&app);
        let screen = rows(&b);
        let n = key_values_whole_or_elided(&app, app.view, &screen);
        assert!(n > 10, "{name} at {w}: only {n} values checked");
        insta::assert_snapshot!(format!("{name}_{w}"), b);
    }
}

#[test]
fn demo_jobs_at_every_width() {
    check_widths("demo_jobs", demo(), 0);
}

#[test]
fn demo_files_at_every_width() {
    check_widths("demo_files", demo(), 1);
}

#[test]
fn win11_jobs_at_every_width() {
    let Some(p) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    // The name the snapshots show: the sample's own path differs between machines.
    let link = common::manifest_dir().join("target/tui-samples/widths-win11-qmgr.db");
    std::fs::create_dir_all(link.parent().expect("parent")).expect("mkdir");
    if std::fs::canonicalize(&link).ok() != std::fs::canonicalize(&p).ok() {
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&p, &link).expect("symlink");
    }
    let rel = PathBuf::from("target/tui-samples/widths-win11-qmgr.db");
    let path = if std::env::current_dir().ok() == Some(common::manifest_dir()) {
        rel
    } else {
        link
    };
    check_widths("win11_jobs", path.clone(), 0);
    // The newcomer's path: win11 at 200 columns shows the job name whole.
    let app = loaded(path, false, 200, 30);
    let screen = rows(&render(&app)).join("\n");
    assert!(
        screen.contains("MozillaUpdate 308046B0AF4A39CB"),
        "{screen}"
    );
}

#[test]
fn elision_check_itself() {
    assert!(whole_or_elided("x abc…xyz y", "abcdefxyz"));
    assert!(whole_or_elided("abcdefxyz", "abcdefxyz"));
    assert!(!whole_or_elided("abcdef… y", "abcdefxyz"));
    assert!(!whole_or_elided("abc", "abcdefxyz"));
}
