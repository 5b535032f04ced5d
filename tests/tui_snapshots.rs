//! Snapshots of the TUI drawn on ratatui's TestBackend: the jobs table on win11, the detail
//! pane with its ACL, the hex view of a live and of a carved record, the filter with
//! matches, the help screen, and records full of control/bidi/invisible characters. The
//! last test proves that no such character reaches the backend's buffer.

mod common;

use std::path::{Path, PathBuf};

use bitscope::bits::model::{BitsInfo, FieldRange, Source, SourceKind};
use bitscope::tui::app::App;
use bitscope::tui::display;
use bitscope::tui::worker::{Envelope, Msg};
use bitscope::tui::Options;
use bitscope::winsec::AccessControl;
use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;

use common::tui::{press, render, typ};

const W: u16 = 140;
const H: u16 = 36;

/// The sample under a fixed relative name (a symlink in target/), so the path the TUI
/// shows is the same on every machine.
fn stable_sample(rel: &str) -> Option<PathBuf> {
    let src = common::sample(rel)?;
    let name = rel.replace('/', "-");
    let dir = common::manifest_dir().join("target/tui-samples");
    std::fs::create_dir_all(&dir).expect("create target/tui-samples");
    let link = dir.join(&name);
    if std::fs::canonicalize(&link).ok() != std::fs::canonicalize(&src).ok() {
        // Tests run in parallel threads: the temporary name is the thread's own.
        let tmp = dir.join(format!(
            ".{name}.{}.{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&src, &tmp).expect("symlink sample");
        std::fs::rename(&tmp, &link).expect("rename symlink");
    }
    let rel_link = Path::new("target/tui-samples").join(&name);
    if std::env::current_dir().ok() == Some(common::manifest_dir()) {
        Some(rel_link)
    } else {
        Some(link)
    }
}

fn loaded(path: PathBuf, carve: bool) -> App {
    common::tui::loaded(path, carve, W, H)
}

#[test]
fn jobs_table_win11() {
    let Some(p) = stable_sample("ese/win11/qmgr.db") else {
        return;
    };
    let app = loaded(p, false);
    insta::assert_snapshot!("jobs_table_win11", render(&app));
}

#[test]
fn detail_pane_with_acl() {
    let Some(p) = stable_sample("ese/win11/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, false);
    press(&mut app, KeyCode::Enter);
    // Scroll to the owner, SIDs and ACL.
    for _ in 0..28 {
        press(&mut app, KeyCode::Down);
    }
    insta::assert_snapshot!("detail_pane_acl", render(&app));
}

#[test]
fn hex_view_live_record() {
    let Some(p) = stable_sample("ese/win11/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, false);
    typ(&mut app, "x");
    // Step onto the job name field.
    typ(&mut app, "nnnnnn");
    insta::assert_snapshot!("hex_view_live", render(&app));
}

#[test]
fn hex_view_carved_record() {
    let Some(p) = stable_sample("ese/win11/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true);
    typ(&mut app, "c"); // live only
    typ(&mut app, "c"); // carved only
    assert!(!app.store.view(app.view).shown.is_empty(), "no carved job");
    typ(&mut app, "x");
    assert!(app.hex.carved);
    insta::assert_snapshot!("hex_view_carved", render(&app));
}

#[test]
fn filter_with_matches() {
    let Some(p) = stable_sample("ese/win11/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true);
    press(&mut app, KeyCode::Tab); // files view
    typ(&mut app, "/");
    typ(&mut app, "url:msedge");
    let backend = render(&app);
    insta::assert_snapshot!("filter_typing", backend);
    // The matched characters are highlighted (bold, underlined) in the URL cells, and only
    // there: every table row's highlighted text reads "msedge".
    let buf = backend.buffer();
    let mut rows = 0;
    for y in 3..buf.area.height {
        let hl: String = (0..buf.area.width)
            .map(|x| &buf[(x, y)])
            .filter(|c| {
                c.modifier
                    .contains(ratatui::style::Modifier::UNDERLINED | ratatui::style::Modifier::BOLD)
            })
            .map(|c| c.symbol().to_string())
            .collect();
        if !hl.is_empty() {
            assert_eq!(hl, "msedge", "row {y}");
            rows += 1;
        }
    }
    assert_eq!(rows, app.store.view(app.view).shown.len());
}

#[test]
fn help_screen() {
    let mut app = App::new(Options::default());
    app.resize(W, 60);
    typ(&mut app, "?");
    insta::assert_snapshot!("help_screen", render(&app));
}

// ---------------------------------------------------------------------------------------------
// Hostile strings
// ---------------------------------------------------------------------------------------------

const EVIL: [&str; 6] = [
    "clear\x1b[2Jscreen",
    "carriage\rreturn",
    "line\nbreak",
    "nul\0byte",
    "rlo\u{202e}exe.txt",
    "zero\u{200b}width",
];

fn evil_records() -> Vec<BitsInfo> {
    let acl = AccessControl {
        ace_type: "AccessAllowedAceType".into(),
        flags: vec![],
        access_rights: vec!["FileReadData".into()],
        sid: "S-1-5-18".into(),
        account: "SYS\u{202e}TEM".into(),
        object_flags: "None".into(),
        object_type_guid: String::new(),
        inherited_object_type_guid: String::new(),
        mask: 1,
        type_code: 0,
        flag_bits: 0,
    };
    let mut out = Vec::new();
    for (i, e) in EVIL.iter().enumerate() {
        out.push(BitsInfo {
            job_id: format!("00000000-0000-0000-0000-00000000000{i}"),
            file_id: format!("11111111-0000-0000-0000-00000000000{i}"),
            owner_sid: "S-1-5-18".into(),
            owner_account: "SYSTEM".into(),
            created: format!("2024-01-0{}T00:00:00.000Z", i + 1),
            job_name: format!("job {e}"),
            job_description: format!("desc {e}"),
            job_command: format!("cmd.exe /c {e}"),
            job_arguments: e.to_string(),
            job_state: "Queued".into(),
            job_type: "Download".into(),
            url: format!("http://evil.example/{e}"),
            full_path: format!("C:\\Users\\Public\\{e}.exe"),
            filename: format!("{e}.exe"),
            target_path: e.to_string(),
            acls: vec![acl.clone()].into(),
            additional_sids: vec![format!("S-1-5-18{e}")],
            carved: i % 2 == 1,
            warnings: vec![format!("warning {e}")],
            job_source: Some(Source {
                evidence: format!("/nonexistent/ev\x1bil{i}.db"),
                offset: 0x100,
                length: 32,
                kind: if i % 2 == 1 {
                    SourceKind::Carved
                } else {
                    SourceKind::Live
                },
                container: format!("ese:Jobs{e}"),
                fields: vec![FieldRange {
                    // Field names come from the decoders (fixed strings), never the evidence.
                    name: "name",
                    offset: 0,
                    length: 8,
                }],
                ..Source::default()
            }),
            ..BitsInfo::default()
        });
    }
    out.push(BitsInfo {
        job_id: "22222222-0000-0000-0000-000000000000".into(),
        job_name: "plain job".into(),
        owner_sid: "S-1-5-18".into(),
        url: "https://example.com/plain".into(),
        ..BitsInfo::default()
    });
    out
}

fn evil_app() -> App {
    let mut app = App::new(Options::default());
    app.resize(W, H);
    let generation = app.generation;
    app.apply(Envelope {
        generation,
        msg: Msg::Records(evil_records()),
    });
    app
}

/// No control, bidi or invisible character anywhere in the drawn buffer.
fn assert_clean(backend: &TestBackend, what: &str) {
    for (i, cell) in backend.buffer().content().iter().enumerate() {
        for c in cell.symbol().chars() {
            assert!(
                !display::is_hidden(c) && !c.is_control(),
                "{what}: cell {i} holds {c:?} (U+{:04X})",
                c as u32
            );
        }
    }
}

#[test]
fn hostile_strings_render_as_visible_escapes() {
    let mut app = evil_app();
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab); // rows view: name, owner, URL, path, command
    insta::assert_snapshot!("hostile_rows", render(&app));
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("hostile_detail", render(&app));
}

#[test]
fn no_hidden_character_reaches_the_buffer() {
    let mut app = evil_app();
    let mut screens = 0;
    for view in 0..3 {
        for row in 0..EVIL.len() + 1 {
            assert_clean(&render(&app), &format!("view {view} row {row} table"));
            press(&mut app, KeyCode::Enter);
            for scroll in 0..4 {
                assert_clean(
                    &render(&app),
                    &format!("view {view} row {row} detail {scroll}"),
                );
                for _ in 0..10 {
                    press(&mut app, KeyCode::Down);
                }
            }
            typ(&mut app, "x");
            assert_clean(&render(&app), &format!("view {view} row {row} hex"));
            press(&mut app, KeyCode::Esc);
            press(&mut app, KeyCode::Esc);
            press(&mut app, KeyCode::Down);
            screens += 3;
        }
        press(&mut app, KeyCode::Tab);
    }
    // The filter line, the help and the diagnostics overlays.
    typ(&mut app, "/");
    typ(&mut app, "zero");
    assert_clean(&render(&app), "filter prompt");
    press(&mut app, KeyCode::Enter);
    typ(&mut app, "?");
    assert_clean(&render(&app), "help");
    press(&mut app, KeyCode::Esc);
    typ(&mut app, "W");
    assert_clean(&render(&app), "diagnostics");
    assert!(screens > 30);
}

#[test]
fn hidden_flag_and_filter() {
    let mut app = evil_app();
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab); // rows
    let flagged: Vec<bool> = app.store.recs.iter().map(|r| r.hidden).collect();
    assert_eq!(flagged, vec![true, true, true, true, true, true, false]);
    typ(&mut app, "/");
    typ(&mut app, "has:hidden");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.store.view(app.view).shown.len(), EVIL.len());
    // The table shows the ⚠ flag on those rows.
    let screen = render(&app).to_string();
    assert_eq!(screen.matches('⚠').count(), EVIL.len(), "{screen}");
    // The escape text itself can be searched for, as it is displayed.
    press(&mut app, KeyCode::Esc);
    typ(&mut app, "/");
    typ(&mut app, "name:'\\u{202e}");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.store.view(app.view).shown.len(), 1);
}

#[test]
fn copy_keeps_raw_values() {
    let mut app = evil_app();
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    typ(&mut app, "y");
    let effects = app.take_effects();
    let [bitscope::tui::app::Effect::Copy { text, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    let v: serde_json::Value = serde_json::from_str(text).expect("json");
    assert_eq!(v["job_name"], format!("job {}", EVIL[0]));
    assert!(text.contains("\\u001b[2J"), "{text}");
}

/// Every cell of the drawn screen, row by row (trailing spaces kept).
fn screen_rows(backend: &TestBackend) -> Vec<String> {
    let buf = backend.buffer();
    (0..buf.area.height)
        .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}

#[test]
fn jobs_table_win10_at_80x24() {
    let Some(p) = stable_sample("ese/win10/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true);
    app.resize(80, 24);
    let backend = render(&app);
    insta::assert_snapshot!("jobs_table_win10_80x24", backend);
    let rows = screen_rows(&backend);
    // The URL column is there, wide enough to read a host.
    assert!(rows[2].contains("URL"), "{rows:#?}");
    assert!(
        rows.iter()
            .any(|r| r.contains("https://") || r.contains("http://")),
        "{rows:#?}"
    );
    // Counts are whole: the header names both totals, the Kind column every ×N.
    let header = &rows[0];
    let (live, carved) = (app.store.live_count, app.store.carved_count);
    assert!(
        header.contains(&format!("{live} live")) && header.contains(&format!("{carved} carved")),
        "{header}"
    );
}
