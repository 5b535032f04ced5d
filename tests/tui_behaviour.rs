//! The TUI's behaviour driven through key events on the app state, on the real samples:
//! filtering, sorting, marking and exporting, and the worker protocol (generations, errors).

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use bitscope::tui::app::{App, Screen};
use bitscope::tui::columns::Col;
use bitscope::tui::store::ViewKind;
use bitscope::tui::worker::{Envelope, Msg};
use bitscope::tui::Options;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::Value;

use common::tui::{press, typ};

fn loaded(path: PathBuf, carve: bool) -> App {
    common::tui::loaded(path, carve, 120, 40)
}

fn ctrl(app: &mut App, c: char) {
    app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
}

/// The records of the rows shown in the current view.
fn shown_urls(app: &App) -> Vec<String> {
    let v = app.store.view(app.view);
    v.shown
        .iter()
        .map(|&i| app.store.rec(v.items[i as usize].rep()).info.url.clone())
        .collect()
}

#[test]
fn filter_url_mozilla_keeps_exactly_the_mozilla_rows() {
    let Some(p) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    for carve in [false, true] {
        let mut app = loaded(p.clone(), carve);
        press(&mut app, KeyCode::Tab);
        press(&mut app, KeyCode::Tab);
        assert_eq!(app.view, ViewKind::Rows);
        let all = shown_urls(&app);
        let expected: Vec<String> = all
            .iter()
            .filter(|u| u.to_lowercase().contains("mozilla"))
            .cloned()
            .collect();
        assert!(!expected.is_empty());
        assert!(
            expected.len() < all.len() || !carve,
            "carving adds non-Mozilla rows"
        );
        typ(&mut app, "/");
        typ(&mut app, "url:mozilla");
        // Live while typing, kept on Enter.
        assert_eq!(shown_urls(&app), expected, "carve={carve}");
        press(&mut app, KeyCode::Enter);
        assert!(app.prompt.is_none());
        assert_eq!(shown_urls(&app), expected, "carve={carve}");
        // Esc in the table clears it again.
        press(&mut app, KeyCode::Esc);
        assert_eq!(shown_urls(&app), all);
    }
}

#[test]
fn filter_prompt_edits_like_a_shell_line() {
    let Some(p) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true);
    let total = app.store.view(app.view).shown.len();
    typ(&mut app, "/");
    typ(&mut app, "qzqzqz");
    assert_eq!(app.store.view(app.view).shown.len(), 0);
    ctrl(&mut app, 'u');
    assert_eq!(app.prompt.as_ref().map(|p| p.input.value()), Some(""));
    assert_eq!(app.store.view(app.view).shown.len(), total);
    typ(&mut app, "name:mozila"); // one l: fuzzy still finds MozillaUpdate
    let n = app.store.view(app.view).shown.len();
    assert!(n > 0 && n < total, "{n} of {total}");
    press(&mut app, KeyCode::Esc); // cancel: back to no filter
    assert!(app.prompt.is_none());
    assert_eq!(app.filter_text, "");
    assert_eq!(app.store.view(app.view).shown.len(), total);
    // `q` inside a prompt is text, not quit.
    typ(&mut app, "/q");
    assert!(!app.should_quit);
    press(&mut app, KeyCode::Esc);
    typ(&mut app, "q");
    assert!(app.should_quit);
}

#[test]
fn toggles_live_carved_and_suspicious() {
    let Some(p) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab); // rows
    let carved = |app: &App| -> Vec<bool> {
        let v = app.store.view(app.view);
        v.shown
            .iter()
            .map(|&i| app.store.rec(v.items[i as usize].rep()).info.carved)
            .collect()
    };
    typ(&mut app, "c");
    assert!(carved(&app).iter().all(|c| !c));
    assert_eq!(carved(&app).len(), app.store.live_count);
    typ(&mut app, "c");
    assert!(carved(&app).iter().all(|c| *c));
    assert_eq!(carved(&app).len(), app.store.carved_count);
    typ(&mut app, "c");
    assert_eq!(carved(&app).len(), app.store.recs.len());
    typ(&mut app, "!");
    let v = app.store.view(app.view);
    assert!(v
        .shown
        .iter()
        .all(|&i| app.store.rec(v.items[i as usize].rep()).susp != 0));
}

#[test]
fn sort_by_created_flips() {
    let Some(p) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true);
    // At 120 columns the creation time gives way to the job name and the URL.
    app.resize(200, 40);
    // The columns shown (the Host column only over several hosts).
    let cols = app.store.columns(app.view);
    let created = cols
        .iter()
        .position(|c| *c == Col::Created)
        .expect("column");
    // `l` steps over the columns on screen (some give way at this width).
    for _ in 0..cols.len() {
        if app.store.view(app.view).col_cursor == created {
            break;
        }
        typ(&mut app, "l");
    }
    assert_eq!(app.store.view(app.view).col_cursor, created);
    let created_of = |app: &App| -> Vec<String> {
        let v = app.store.view(app.view);
        v.shown
            .iter()
            .map(|&i| {
                app.store
                    .rec(v.items[i as usize].rep())
                    .info
                    .created
                    .clone()
            })
            .collect()
    };
    let before = created_of(&app);
    typ(&mut app, "s");
    let asc = created_of(&app);
    let mut sorted = before.clone();
    sorted.sort();
    assert_eq!(asc, sorted);
    typ(&mut app, "s");
    let desc = created_of(&app);
    let mut rev = sorted.clone();
    rev.reverse();
    assert_eq!(desc, rev);
    assert_ne!(asc, desc);
    typ(&mut app, "S");
    assert_eq!(created_of(&app), before);
}

#[test]
fn mark_two_rows_and_export_equals_parse_output() {
    let Some(p) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let dir = common::scratch_dir("export");
    let out = dir.join("two.json");
    let mut app = loaded(p.clone(), true);
    // Jobs view, evidence order: mark the first two rows (space marks and moves down).
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(app.store.mark_count, 2);
    typ(&mut app, "e");
    let default = app.prompt.as_ref().map(|p| p.input.value().to_string());
    assert!(
        default
            .as_deref()
            .is_some_and(|d| d.starts_with("bitscope-qmgr-") && d.ends_with(".json")),
        "{default:?}"
    );
    ctrl(&mut app, 'u');
    typ(&mut app, &out.display().to_string());
    press(&mut app, KeyCode::Enter);
    assert!(app.prompt.is_none(), "{:?}", app.status);
    let exported: Value =
        serde_json::from_slice(&std::fs::read(&out).expect("export written")).expect("json");
    let exported = exported.as_array().expect("array").clone();
    assert_eq!(exported.len(), 2);

    // `bitscope parse` on the same file gives the same two records, field for field.
    let run = common::run_bitscope([std::ffi::OsStr::new("parse"), p.as_os_str()]);
    assert!(run.status.success());
    let parsed: Value = serde_json::from_slice(&run.stdout).expect("parse json");
    let ids: Vec<&Value> = exported.iter().map(|r| &r["job_id"]).collect();
    let from_parse: Vec<Value> = parsed
        .as_array()
        .expect("array")
        .iter()
        .filter(|r| ids.contains(&&r["job_id"]))
        .cloned()
        .collect();
    // With what the explorer adds after the record's own fields (no rule fired, no note).
    for r in &exported {
        assert_eq!(
            (&r["triage"], &r["note"], &r["tags"]),
            (
                &serde_json::json!([]),
                &serde_json::json!(""),
                &serde_json::json!([])
            )
        );
    }
    let exported: Vec<Value> = exported
        .into_iter()
        .map(|mut r| {
            if let Some(o) = r.as_object_mut() {
                for k in ["triage", "note", "tags"] {
                    o.shift_remove(k);
                }
            }
            r
        })
        .collect();
    assert_eq!(exported, from_parse);

    // Enter on an existing file asks first; then replaces it.
    typ(&mut app, "e");
    ctrl(&mut app, 'u');
    typ(&mut app, &out.display().to_string());
    press(&mut app, KeyCode::Enter);
    assert!(app.prompt.is_some(), "asked before replacing");
    press(&mut app, KeyCode::Enter);
    assert!(app.prompt.is_none(), "{:?}", app.status);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn export_without_marks_takes_the_filtered_rows_and_never_overwrites_evidence() {
    let Some(p) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let dir = common::scratch_dir("evidence");
    // A copy, so the test can try to write over "evidence" without risk to the sample.
    let evidence = dir.join("qmgr.db");
    std::fs::copy(&p, &evidence).expect("copy sample");
    let before = std::fs::read(&evidence).expect("read");
    let mut app = loaded(evidence.clone(), false);
    typ(&mut app, "/");
    typ(&mut app, "'308046B0");
    press(&mut app, KeyCode::Enter);
    let shown = app.store.view(app.view).shown.len();
    assert!(shown > 0);
    typ(&mut app, "e");
    ctrl(&mut app, 'u');
    typ(&mut app, &evidence.display().to_string());
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Enter); // even when told to replace it
    assert!(
        app.status.as_ref().is_some_and(|s| s.error),
        "{:?}",
        app.status
    );
    assert_eq!(std::fs::read(&evidence).expect("read"), before);
    press(&mut app, KeyCode::Esc);
    // Filtered rows, no marks.
    typ(&mut app, "e");
    ctrl(&mut app, 'u');
    let out = dir.join("filtered.json");
    typ(&mut app, &out.display().to_string());
    press(&mut app, KeyCode::Enter);
    // Beside the evidence: said first (issue 22, defect 5), written on the second Enter.
    let status = app
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert!(status.contains("inside the evidence folder"), "{status}");
    assert!(!out.exists());
    press(&mut app, KeyCode::Enter);
    let v: Value = serde_json::from_slice(&std::fs::read(&out).expect("written")).expect("json");
    assert_eq!(
        v.as_array().map(Vec::len),
        Some(app.store.export_set(app.view).len())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn detail_and_hex_navigation() {
    let Some(p) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Detail);
    typ(&mut app, "x");
    assert_eq!(app.screen, Screen::Hex);
    let start = app.hex.cursor;
    assert_eq!(Some(start), app.hex.extents.first().map(|e| e.0));
    // The bytes under the cursor are the evidence's own: the job marker.
    assert_eq!(app.hex.byte(start), Some(0xa1));
    typ(&mut app, "n");
    assert!(app.hex.cursor > start);
    typ(&mut app, "G");
    let (s, l) = *app.hex.extents.last().expect("extent");
    assert_eq!(app.hex.cursor, s + l - 1);
    typ(&mut app, "t"); // to the file record
    assert_ne!(app.hex.extents.first().map(|e| e.0), Some(start));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::Detail);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::Table);
}

#[test]
fn stale_generations_are_ignored_and_failures_shown() {
    let mut app = App::new(Options::default());
    let g = app.generation;
    let rec = bitscope::bits::model::BitsInfo {
        job_id: "x".into(),
        ..Default::default()
    };
    app.apply(Envelope {
        generation: g + 5,
        msg: Msg::Records(vec![rec.clone()]),
    });
    assert_eq!(app.store.recs.len(), 0);
    app.apply(Envelope {
        generation: g,
        msg: Msg::Records(vec![rec]),
    });
    assert_eq!(app.store.recs.len(), 1);
    app.load.running = true;
    app.apply(Envelope {
        generation: g,
        msg: Msg::Failed("internal error: the worker panicked: boom".into()),
    });
    assert!(!app.load.running);
    assert!(app
        .status
        .as_ref()
        .is_some_and(|s| s.error && s.text.contains("boom")));
}

#[test]
fn reopening_drops_the_old_load() {
    let Some(p) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let mut app = App::new(Options {
        carve: true,
        ..Options::default()
    });
    app.open(vec![p.clone()]);
    let first = app.generation;
    app.open(vec![p]); // before the first load is read at all
    assert_eq!(app.generation, first + 1);
    assert!(app.wait_loaded(Duration::from_secs(60)));
    // Exactly one load's records: no duplicates from the first.
    let n = app.store.recs.len();
    let again = loaded(app.paths[0].clone(), true);
    assert_eq!(n, again.store.recs.len());
    assert_eq!(app.evidence.len(), 1);
}

#[test]
fn opened_reports_size_and_sha256() {
    let Some(p) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let app = loaded(p, false);
    assert_eq!(app.evidence.len(), 1);
    assert_eq!(app.evidence[0].size, 1_310_720);
    assert_eq!(
        app.evidence[0].sha256,
        "4da9320a91da0a9baabe52075ba8d76a305518cf75ba86c2d86d6f9151859c1d"
    );
}

#[test]
fn a_folder_opens_every_queue_in_it() {
    let Some(p) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let dir = p.parent().expect("parent").to_path_buf();
    let app = loaded(dir, false);
    assert_eq!(app.evidence.len(), 1);
    assert_eq!(app.store.live_count, 4);
}

// ---------------------------------------------------------------------------------------------
// Property: arbitrary text in every string field never panics (issue 12, defect 1)
// ---------------------------------------------------------------------------------------------

/// The crate's seeded generator (util::rng), so a failure names the seed that reproduces it,
/// with the text this property needs.
struct Rng(bitscope::util::rng::Rng);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn below(&mut self, n: usize) -> usize {
        self.0.index(n)
    }

    /// Text as evidence may hold it: UTF-16 decoded lossily (lone surrogates become U+FFFD),
    /// characters from the awkward corners of Unicode, and the punctuation URL, SID and
    /// query parsers cut at, placed so multi-byte characters land on every byte position.
    fn text(&mut self) -> String {
        const POOL: &[char] = &[
            'a',
            'Z',
            '0',
            '9',
            'x',
            'X',
            '.',
            ':',
            '/',
            '\\',
            '@',
            '[',
            ']',
            '-',
            '\'',
            '"',
            ' ',
            '!',
            '?',
            '#',
            '%',
            '\0',
            '\x1b',
            '\r',
            '\n',
            '\t',
            '\u{7f}',
            '\u{85}',
            '\u{a0}',
            '\u{ad}',
            'é',
            'ü',
            'ß',
            'İ',
            'ı',
            'ſ',
            'K',
            'а',
            'е',
            'о',
            '日',
            '本',
            '語',
            '한',
            '😀',
            '👩',
            '\u{200b}',
            '\u{200d}',
            '\u{202e}',
            '\u{2066}',
            '\u{feff}',
            '\u{301}',
            '\u{fe0f}',
            '\u{e000}',
            '\u{fffd}',
            '\u{10ffff}',
            '…',
            '×',
            '▲',
        ];
        const PIECES: &[&str] = &[
            "http://",
            "https://",
            "HTTP://",
            "0x",
            "0X",
            "S-1-5-21-",
            "S-1-5-18",
            ":8080",
            ":",
            "[::1]",
            "user@",
            ".exe",
            ".PS1",
            "T",
            "2024-01-02T03:04:05.678Z",
            "url:",
            "has:hidden",
            "\\x1b",
            "\\u{202e}",
        ];
        let mut s = String::new();
        match self.below(4) {
            0 => {
                let n = self.below(40);
                let units: Vec<u16> = (0..n)
                    .map(|_| match self.below(4) {
                        0 => 0xd800 + self.below(0x800) as u16, // surrogates, often lone
                        1 => self.below(0x80) as u16,
                        _ => self.next() as u16,
                    })
                    .collect();
                s = String::from_utf16_lossy(&units);
            }
            _ => {
                for _ in 0..self.below(24) {
                    if self.below(4) == 0 {
                        s.push_str(PIECES[self.below(PIECES.len())]);
                    } else {
                        s.push(POOL[self.below(POOL.len())]);
                    }
                }
            }
        }
        if self.below(8) == 0 {
            s = s.repeat(1 + self.below(300)); // long values
        }
        s
    }

    fn record(&mut self, i: usize) -> bitscope::bits::model::BitsInfo {
        use bitscope::bits::model::{BitsInfo, Source, SourceKind};
        use bitscope::winsec::AccessControl;
        let acl = AccessControl {
            ace_type: self.text(),
            flags: vec![self.text()],
            access_rights: vec![self.text()],
            sid: self.text(),
            account: self.text(),
            object_flags: self.text(),
            object_type_guid: self.text(),
            inherited_object_type_guid: self.text(),
            mask: self.next() as u32,
            type_code: 0,
            flag_bits: 0,
        };
        let source = |r: &mut Rng| Source {
            evidence: r.text(),
            offset: r.next() % 4096,
            length: r.next() % 512,
            kind: if r.below(2) == 0 {
                SourceKind::Live
            } else {
                SourceKind::Carved
            },
            container: r.text(),
            ..Source::default()
        };
        let t = |r: &mut Rng| r.text();
        // Some records share ids so jobs group several members (versions, files).
        let job_id = if self.below(3) == 0 {
            format!("job-{}", i % 3)
        } else {
            t(self)
        };
        BitsInfo {
            job_id,
            file_id: t(self),
            owner_sid: t(self),
            created: t(self),
            modified: t(self),
            completed: t(self),
            expiration: t(self),
            bytes_downloaded: self.next(),
            bytes_transferred: self.next(),
            job_name: t(self),
            job_description: t(self),
            job_command: t(self),
            job_arguments: t(self),
            error_count: self.next() as u32,
            job_type: t(self),
            job_state: t(self),
            priority: t(self),
            flags: t(self),
            http_method: t(self),
            full_path: t(self),
            filename: t(self),
            target_path: t(self),
            volume: t(self),
            url: t(self),
            carved: self.below(2) == 0,
            acls: vec![acl].into(),
            additional_sids: vec![t(self), t(self)],
            drive: t(self),
            tmp_fullpath: t(self),
            evidence: t(self),
            owner_account: t(self),
            sddl: t(self),
            remote_modified: t(self),
            job_source: (self.below(4) != 0).then(|| source(self)),
            file_source: (self.below(2) != 0).then(|| source(self)),
            missing_fields: vec![t(self)],
            versions: self.below(4) as u32,
            warnings: vec![t(self), t(self)],
            ..BitsInfo::default()
        }
    }
}

#[test]
fn arbitrary_text_in_every_field_never_panics() {
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    let sizes = [(80u16, 24u16), (20, 6), (200, 50), (41, 12), (1, 1)];
    let (mut del_total, mut kept_by_live) = (0, 0);
    for seed in 1..=12u64 {
        let mut rng = Rng(bitscope::util::rng::Rng::new(seed));
        let records: Vec<_> = (0..30).map(|i| rng.record(i)).collect();
        let mut app = App::new(Options::default());
        let (w, h) = sizes[seed as usize % sizes.len()];
        app.resize(w, h);
        let generation = app.generation;
        app.apply(Envelope {
            generation,
            msg: Msg::Records(records),
        });
        // Suspicion is the triage rules of the record, and `del` is set exactly when the
        // record is carved, has a notify command, and no live record of its job id is in
        // its evidence file (its folder, for a legacy qmgr0/qmgr1.dat pair): computed here
        // from the records, not by the store's own lookup.
        let scope = |r: &bitscope::bits::model::BitsInfo| {
            let ev = r.job_source.as_ref().map_or("", |s| s.evidence.as_str());
            let lower = ev.to_lowercase();
            let legacy = lower.ends_with("qmgr0.dat") || lower.ends_with("qmgr1.dat");
            let cut = ev.rfind(['/', '\\']).filter(|_| legacy);
            cut.map_or(ev, |i| &ev[..i]).to_string()
        };
        let live: std::collections::HashSet<(String, String)> = app
            .store
            .recs
            .iter()
            .filter(|r| !r.info.carved && !r.info.job_id.is_empty())
            .map(|r| (scope(&r.info), r.info.job_id.clone()))
            .collect();
        let del = bitscope::bits::triage::Rule::DeletedCommand.bit();
        let mut dels = 0;
        for r in &app.store.recs {
            let i = &r.info;
            let command = !i.job_command.trim().is_empty() || !i.job_arguments.trim().is_empty();
            let live_copy = !i.job_id.is_empty() && live.contains(&(scope(i), i.job_id.clone()));
            assert_eq!(
                r.susp & del != 0,
                i.carved && command && !live_copy,
                "{i:#?}"
            );
            dels += usize::from(r.susp & del != 0);
            kept_by_live += usize::from(i.carved && command && live_copy);
            let found = bitscope::bits::triage::assess_with(i, live_copy);
            assert_eq!(r.susp, bitscope::bits::triage::rule_bits(&found));
        }
        del_total += dels;
        let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        let mut draw = |app: &App| {
            term.draw(|f| {
                bitscope::tui::ui::draw(f, app);
            })
            .expect("draw");
        };
        for _view in 0..3 {
            // Sort by every column, both ways.
            for _col in 0..12 {
                typ(&mut app, "ss");
                draw(&app);
                typ(&mut app, ">");
            }
            // Every row's detail and hex view.
            for _row in 0..30 {
                press(&mut app, KeyCode::Enter);
                draw(&app);
                typ(&mut app, "]");
                press(&mut app, KeyCode::End);
                draw(&app);
                typ(&mut app, "x");
                draw(&app);
                press(&mut app, KeyCode::Esc);
                press(&mut app, KeyCode::Esc);
                press(&mut app, KeyCode::Down);
            }
            // Filters made of the same text, with and without scopes, quotes, negation.
            for _ in 0..20 {
                let prefix = [
                    "", "url:", "name:", "'", "-", "owner:", "\"", "cmd:", "path:",
                ][rng.below(9)];
                let q = format!("{prefix}{}", rng.text());
                typ(&mut app, "/");
                for c in q.chars() {
                    press(&mut app, KeyCode::Char(c));
                }
                draw(&app);
                press(&mut app, KeyCode::Enter);
                draw(&app);
                press(&mut app, KeyCode::Esc);
            }
            typ(&mut app, "!");
            draw(&app);
            typ(&mut app, "!c");
            draw(&app);
            press(&mut app, KeyCode::Esc);
            press(&mut app, KeyCode::Tab);
        }
        typ(&mut app, "W");
        draw(&app);
    }
    // Both sides of `del` were reached: deleted jobs, and carved jobs with a live copy.
    assert!(
        del_total > 0 && kept_by_live > 0,
        "{del_total} {kept_by_live}"
    );
}

#[test]
fn a_path_that_cannot_be_read_is_refused_before_the_terminal_is_taken() {
    let empty = common::scratch_dir("no-queue-files");
    std::fs::write(empty.join("notes.txt"), b"not a queue").expect("write");
    for (path, says) in [
        (
            PathBuf::from("/nonexistent/qmgr.db"),
            "/nonexistent/qmgr.db",
        ),
        (empty.clone(), "no qmgr.db or qmgr*.dat found"),
    ] {
        let out = common::run_bitscope([&path]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {err}", path.display());
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.starts_with("bitscope: ") && err.contains(says), "{err}");
        // Nothing was sent to the terminal: no alternate screen, no raw-mode frame.
        assert!(out.stdout.is_empty(), "{:?}", out.stdout);
    }
}

fn synthetic_app(n: usize) -> App {
    let mut app = App::new(Options::default());
    app.resize(120, 40);
    let records = (0..n)
        .map(|i| bitscope::bits::model::BitsInfo {
            job_id: format!("{{00000000-0000-0000-0000-{i:012}}}"),
            job_name: format!("job {i}"),
            url: format!("https://example.com/{i}"),
            owner_sid: "S-1-5-18".into(),
            ..Default::default()
        })
        .collect();
    let generation = app.generation;
    app.apply(Envelope {
        generation,
        msg: Msg::Records(records),
    });
    app
}

#[test]
fn copy_is_bounded_and_points_to_export() {
    use bitscope::tui::app::Effect;
    let mut app = synthetic_app(1_500);
    typ(&mut app, "A"); // mark every shown row
    assert_eq!(app.store.mark_count, 1_500);
    typ(&mut app, "y");
    assert!(app.take_effects().is_empty(), "nothing copied");
    let status = app.status.clone().expect("a status");
    assert!(status.error, "{}", status.text);
    assert!(
        status.text.contains("1,500 marked records") && status.text.contains("e exports"),
        "{}",
        status.text
    );
    // Within the bound: copied.
    typ(&mut app, "U");
    typ(&mut app, "  ");
    typ(&mut app, "y");
    let effects = app.take_effects();
    assert!(
        matches!(effects.as_slice(), [Effect::Copy { what, .. }] if what == "2 marked records"),
        "{effects:?}"
    );
    // One record over 1 MiB is refused too.
    typ(&mut app, "U");
    let mut big = app.store.rec(0).info.clone();
    big.job_id = "big".into();
    big.job_description = "x".repeat(1 << 20);
    let generation = app.generation;
    app.apply(Envelope {
        generation,
        msg: Msg::Records(vec![big]),
    });
    press(&mut app, KeyCode::End);
    typ(&mut app, "y");
    assert!(app.take_effects().is_empty());
    assert!(app
        .status
        .as_ref()
        .is_some_and(|s| s.error && s.text.contains("1 MiB")));
    // Ctrl-L asks the run loop to repaint the whole screen, from any context.
    for setup in ["", "/", "?"] {
        typ(&mut app, setup);
        ctrl(&mut app, 'l');
        assert_eq!(app.take_effects(), vec![Effect::Repaint], "after {setup:?}");
        press(&mut app, KeyCode::Esc);
    }
}

fn screen(app: &App) -> String {
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    let mut t = Terminal::new(TestBackend::new(app.width, app.height)).expect("terminal");
    t.draw(|f| {
        bitscope::tui::ui::draw(f, app);
    })
    .expect("draw");
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[test]
fn warnings_are_marked_counted_and_listed_once() {
    let mut app = synthetic_app(3);
    let mut warned = app.store.rec(1).info.clone();
    warned.job_id = "warned".into();
    warned.job_name = "warned job".into();
    warned.warnings = vec![
        "job blob: 12 trailing bytes".into(),
        "file 2: no URL".into(),
        "job blob: 12 trailing bytes".into(),
    ];
    let generation = app.generation;
    app.apply(Envelope {
        generation,
        msg: Msg::Records(vec![warned]),
    });
    // The table marks the warned row, and only it.
    let s = screen(&app);
    let marked: Vec<&str> = s.lines().filter(|l| l.contains(" W ")).collect();
    assert_eq!(marked.len(), 1, "{s}");
    assert!(marked[0].contains("warned job"), "{s}");
    // has:warnings keeps it.
    typ(&mut app, "/has:warnings");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.store.view(app.view).shown.len(), 1);
    // The detail counts distinct warnings and lists each once.
    press(&mut app, KeyCode::Enter);
    for _ in 0..200 {
        press(&mut app, KeyCode::Down);
    }
    let s = screen(&app);
    assert!(s.contains("Warnings (2)"), "{s}");
    assert_eq!(s.matches("job blob: 12 trailing bytes").count(), 1, "{s}");
    assert_eq!(s.matches("file 2: no URL").count(), 1, "{s}");
    // W names the record warnings too, not only the load's.
    press(&mut app, KeyCode::Esc);
    typ(&mut app, "W");
    let s = screen(&app);
    assert!(s.contains("Record warnings (2)"), "{s}");
    assert!(s.contains("2 warnings on 1 of 4 records"), "{s}");
}

#[test]
fn detail_end_shows_the_last_page_full_with_its_position() {
    let mut app = synthetic_app(1);
    app.resize(80, 12);
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::End);
    let s = screen(&app);
    // The body's last text row is the detail's last line (the Warnings header), not blank.
    let body: Vec<&str> = s.lines().skip(3).take(7).collect();
    assert!(body.iter().all(|l| !l.trim().is_empty()), "{s}");
    assert!(
        body.last().is_some_and(|l| l.contains("Warnings (0)")),
        "{s}"
    );
    assert!(s.contains(" of ") && s.contains("lines "), "{s}");
}

#[test]
fn narrow_screens_keep_counts_whole_and_the_url_column() {
    use bitscope::bits::model::{BitsInfo, Source, SourceKind};
    let mut app = App::new(Options::default());
    // One carved job in 1,234 copies, and a live one owned by an account SID.
    let mut records: Vec<BitsInfo> = (0..1_234u64)
        .map(|k| BitsInfo {
            job_id: "{AAAAAAAA-0000-0000-0000-000000000001}".into(),
            job_name: "a carved job with a long name".into(),
            url: "https://updates.example.com/pkg/setup.exe".into(),
            carved: true,
            job_source: Some(Source {
                evidence: "qmgr.db".into(),
                offset: 0x1000 + k * 0x100,
                length: 0x100,
                kind: SourceKind::Carved,
                ..Source::default()
            }),
            ..BitsInfo::default()
        })
        .collect();
    records.push(BitsInfo {
        job_id: "{BBBBBBBB-0000-0000-0000-000000000002}".into(),
        job_name: "live job".into(),
        owner_sid: "S-1-5-21-4066115557-1486886006-1773980413-10001".into(),
        url: "http://203.0.113.9:8080/a.exe".into(),
        ..BitsInfo::default()
    });
    let generation = app.generation;
    app.apply(Envelope {
        generation,
        msg: Msg::Records(records),
    });
    for w in (40..=160).step_by(4) {
        app.resize(w, 24);
        let s = screen(&app);
        let rows: Vec<&str> = s.lines().collect();
        assert!(
            rows[0].contains("1 live · 1234 carved"),
            "width {w}: {}",
            rows[0]
        );
        assert!(rows[2].contains("URL"), "width {w}: {}", rows[2]);
        let body = rows[3..rows.len() - 2].join("\n");
        if rows[2].contains("Kind") {
            assert!(body.contains("×1234"), "width {w}:\n{s}");
        }
        if rows[2].contains("Owner") {
            assert!(body.contains("-10001"), "width {w}:\n{s}");
        }
        assert!(body.contains("http"), "width {w}:\n{s}");
    }
}

#[test]
fn filter_identifiers_negation_phrases_scopes_and_errors() {
    let Some(p) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true);
    // The rows view: one record per row, so a row matches when its record does.
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    let shown = |app: &App| -> Vec<u32> {
        let v = app.store.view(app.view);
        v.shown.iter().map(|&i| v.items[i as usize].rep()).collect()
    };
    let filter = |app: &mut App, q: &str| {
        app.set_filter(q);
        shown(app)
    };
    let all = shown(&app);
    let owner = |app: &App, r: u32| app.store.rec(r).info.owner_sid.clone();
    // An identifier matches exactly or by prefix, never fuzzily.
    let system: Vec<u32> = all
        .iter()
        .copied()
        .filter(|&r| owner(&app, r) == "S-1-5-18")
        .collect();
    assert!(!system.is_empty() && system.len() < all.len());
    assert_eq!(filter(&mut app, "owner:S-1-5-18"), system);
    let accounts = filter(&mut app, "owner:S-1-5-21");
    assert!(accounts
        .iter()
        .all(|&r| owner(&app, r).starts_with("S-1-5-21")));
    assert!(!accounts.is_empty());
    // Scopes ignore case; a negated term keeps exactly the rest.
    let gvt1 = filter(&mut app, "url:gvt1");
    assert!(!gvt1.is_empty());
    assert_eq!(filter(&mut app, "URL:gvt1"), gvt1);
    let not: Vec<u32> = all.iter().copied().filter(|r| !gvt1.contains(r)).collect();
    assert_eq!(filter(&mut app, "-url:gvt1"), not);
    assert_eq!(filter(&mut app, "!url:gvt1"), not);
    // A phrase is one substring, spaces included.
    let name0 = app.store.rec(all[0]).info.job_name.clone();
    let words: Vec<&str> = name0.split_whitespace().take(2).collect();
    if words.len() == 2 {
        let phrase = format!("\"{} {}\"", words[0], words[1]);
        let got = filter(&mut app, &format!("name:{phrase}"));
        assert!(got.contains(&all[0]), "{phrase}");
        assert!(got.iter().all(|&r| app
            .store
            .rec(r)
            .info
            .job_name
            .to_lowercase()
            .contains(&format!("{} {}", words[0], words[1]).to_lowercase())));
    }
    // An unknown scope is an error in the prompt, not a silent empty table.
    app.set_filter("");
    typ(&mut app, "/foo:bar");
    assert!(app.store.query.error.is_some());
    let s = screen(&app);
    assert!(s.contains("unknown scope foo:"), "{s}");
    press(&mut app, KeyCode::Enter);
    assert!(app
        .status
        .as_ref()
        .is_some_and(|s| s.error && s.text.contains("unknown scope")));
}

#[test]
fn evidence_column_and_ev_scope_tell_hosts_apart() {
    let src = common::manifest_dir().join("testdata/legacy/win7-deleted.qmgr0.dat");
    // The folder above the hosts holds `hosta` too: ev: must search the path relative to the
    // folder opened, not the folders above it.
    let dir = common::scratch_dir("hosta-above-two-hosts");
    for host in ["hostA", "hostB"] {
        std::fs::create_dir_all(dir.join(host)).expect("mkdir");
        std::fs::copy(&src, dir.join(host).join("qmgr0.dat")).expect("copy");
    }
    let mut app = loaded(dir.clone(), true);
    assert_eq!(app.evidence.len(), 2);
    app.resize(160, 30);
    let total = app.store.view(app.view).shown.len();
    // Each job appears once per host, its Evidence cell naming the file relative to the
    // folder opened.
    let s = screen(&app);
    let a = format!("hostA{}qmgr0.dat", std::path::MAIN_SEPARATOR);
    let b = format!("hostB{}qmgr0.dat", std::path::MAIN_SEPARATOR);
    assert!(
        s.lines().nth(2).is_some_and(|h| h.contains("Evidence")),
        "{s}"
    );
    assert_eq!(s.matches(&a).count(), total / 2, "{s}");
    assert_eq!(s.matches(&b).count(), total / 2, "{s}");
    let body: String = s.lines().skip(3).collect();
    assert!(!body.contains(&dir.display().to_string()), "relative: {s}");
    // ev: keeps one host's rows (scope names ignore case).
    app.set_filter("EV:hosta");
    assert_eq!(app.store.view(app.view).shown.len(), total / 2);
    let s = screen(&app);
    assert!(s.contains(&a) && !s.contains(&b), "{s}");
    app.set_filter("-ev:hosta");
    let s = screen(&app);
    assert!(!s.contains(&a) && s.contains(&b), "{s}");
}

#[test]
fn marks_and_exports_act_on_what_is_shown_and_messages_stay_current() {
    use bitscope::bits::model::{BitsInfo, Source, SourceKind};
    let mut app = App::new(Options::default());
    app.resize(140, 30);
    // One job in four carved copies, and a single live job.
    let mut records: Vec<BitsInfo> = (0..4u64)
        .map(|k| BitsInfo {
            job_id: "{AAAAAAAA-0000-0000-0000-000000000001}".into(),
            job_name: format!("copy {k}"),
            carved: true,
            job_source: Some(Source {
                evidence: "qmgr.db".into(),
                offset: 0x1000 + k * 0x100,
                length: 0x100,
                kind: SourceKind::Carved,
                ..Source::default()
            }),
            ..BitsInfo::default()
        })
        .collect();
    records.push(BitsInfo {
        job_id: "{BBBBBBBB-0000-0000-0000-000000000002}".into(),
        job_name: "single".into(),
        job_command: "cmd.exe".into(),
        ..BitsInfo::default()
    });
    let generation = app.generation;
    app.apply(Envelope {
        generation,
        msg: Msg::Records(records),
    });
    // Space in the detail marks the one record viewed, not its row's four.
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.selected_members().len(), 4);
    typ(&mut app, "] ");
    assert_eq!(app.store.mark_count, 1);
    assert!(app.store.marks[1]);
    typ(&mut app, " ");
    assert_eq!(app.store.mark_count, 0);
    // e in the detail exports the record viewed.
    let dir = common::scratch_dir("export-viewed");
    let out = dir.join("one.json");
    typ(&mut app, "e");
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.text.contains("1 viewed record")),
        "{:?}",
        app.status
    );
    ctrl(&mut app, 'u');
    typ(&mut app, &out.display().to_string());
    press(&mut app, KeyCode::Enter);
    let v: Value = serde_json::from_slice(&std::fs::read(&out).expect("exported")).expect("json");
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    assert_eq!(v[0]["job_name"], "copy 1");
    let status = app.status.clone().expect("status").text;
    assert!(status.contains(&out.display().to_string()), "{status}");
    press(&mut app, KeyCode::Esc);
    // Two rows marked in the table say so, with their record count.
    typ(&mut app, "  ");
    let s = screen(&app);
    assert!(s.contains("2 rows marked (5 records)"), "{s}");
    typ(&mut app, "U");
    // Toggles replace an earlier message with what they did.
    typ(&mut app, "/x");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Esc);
    assert_eq!(
        app.status.as_ref().map(|s| s.text.as_str()),
        Some("filter cleared")
    );
    typ(&mut app, "!");
    let st = app.status.clone().expect("status").text;
    assert!(st.starts_with("suspicious only: 1 of 2"), "{st}");
    typ(&mut app, "!c");
    let st = app.status.clone().expect("status").text;
    assert!(st.starts_with("live only"), "{st}");
    // The versions hint only where a row has versions.
    typ(&mut app, "c");
    typ(&mut app, "c");
    let single = app
        .store
        .view(app.view)
        .shown
        .iter()
        .position(|&i| app.store.view(app.view).items[i as usize].members.len() == 1)
        .expect("the single job");
    app.store.view_mut(app.view).sel = single;
    press(&mut app, KeyCode::Enter);
    assert!(!screen(&app).contains("] versions"));
    press(&mut app, KeyCode::Esc);
    app.store.view_mut(app.view).sel = 1 - single;
    press(&mut app, KeyCode::Enter);
    assert!(screen(&app).contains("] versions"));
}

#[test]
fn suspicious_only_keeps_what_a_triage_rule_fired_on_not_user_owned_updaters() {
    // Issue 12 defect 5: `!` once kept 16 of win10's 23 jobs, every user-owned updater.
    let Some(p) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true);
    assert_eq!(app.view, ViewKind::Jobs);
    assert_eq!(app.store.view(ViewKind::Jobs).items.len(), 23);
    typ(&mut app, "!");
    // No job of the queue runs a command, and none downloads an executable itself: the
    // executables are in files no surviving job claims (the Rows view below).
    assert_eq!(app.store.view(ViewKind::Jobs).shown.len(), 0);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.view, ViewKind::Rows);
    // Nor does any file: the executables are Chrome's and Edge's updaters fetching their
    // installers from their CDNs, which exe leaves alone (issue 22 defect 4).
    assert_eq!(app.store.view(ViewKind::Rows).shown.len(), 0);
    typ(&mut app, "!");
    app.set_filter("site:gvt1.com OR site:delivery.mp.microsoft.com");
    let v = app.store.view(ViewKind::Rows);
    let rows: Vec<&bitscope::tui::store::Rec> = v
        .shown
        .iter()
        .map(|&i| app.store.rec(v.items[i as usize].rep()))
        .collect();
    let exes = rows
        .iter()
        .filter(|r| r.info.filename.to_lowercase().ends_with(".exe"))
        .count();
    eprintln!(
        "{} rows from the updaters' CDNs, {exes} of them .exe files",
        rows.len()
    );
    assert!(exes > 0);
    assert!(rows.iter().all(|r| r.susp == 0));
}

/// An export with the explorer's three added fields taken out (JSON: the keys; CSV: the
/// last three header names, and per line what follows the record's own fields, found by
/// the header's count of columns), in a form to compare with `parse`'s output.
fn without_annotations(bytes: &[u8], format: &str) -> Vec<serde_json::Value> {
    let strip = |mut v: serde_json::Value| {
        if let Some(o) = v.as_object_mut() {
            for k in ["triage", "note", "tags"] {
                o.shift_remove(k);
            }
        }
        v
    };
    match format {
        "json" => serde_json::from_slice::<Vec<serde_json::Value>>(bytes)
            .expect("json")
            .into_iter()
            .map(strip)
            .collect(),
        "jsonl" => bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| strip(serde_json::from_slice(l).expect("jsonl")))
            .collect(),
        _ => {
            let text = String::from_utf8_lossy(bytes);
            let header = text.lines().next().unwrap_or_default();
            let names: Vec<&str> = header.split(',').collect();
            let own = names
                .iter()
                .position(|n| *n == "triage")
                .unwrap_or(names.len());
            vec![
                serde_json::json!(names[..own].join(",")),
                serde_json::json!(text.lines().count()),
            ]
        }
    }
}

#[test]
fn export_formats_follow_the_extension_or_tab_and_equal_parse_output() {
    let Some(p) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let dir = common::scratch_dir("export-formats");
    // Live records only, all of them: the explorer exports what `parse` prints, byte for byte.
    let mut app = loaded(p.clone(), false);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.view, ViewKind::Rows);
    for (ext, format) in [("json", "json"), ("jsonl", "jsonl"), ("csv", "csv")] {
        let out = dir.join(format!("all.{ext}"));
        typ(&mut app, "e");
        ctrl(&mut app, 'u');
        typ(&mut app, &out.display().to_string());
        press(&mut app, KeyCode::Enter);
        assert!(app.prompt.is_none(), "{:?}", app.status);
        let run = common::run_bitscope([
            std::ffi::OsStr::new("parse"),
            std::ffi::OsStr::new("--format"),
            std::ffi::OsStr::new(format),
            p.as_os_str(),
        ]);
        assert!(run.status.success());
        let exported = std::fs::read(&out).expect("export written");
        assert!(exported.len() > 1000, "{ext}");
        // `parse`'s records, each followed by what the explorer adds: the triage codes
        // that fired, the note and the tags (issue 22, feature 8).
        assert_eq!(
            without_annotations(&exported, format),
            without_annotations(&run.stdout, format),
            "{ext} export differs from parse -f {format}"
        );
        assert_ne!(exported, run.stdout, "{ext}: no annotation written");
    }
    // Tab in the prompt cycles the format, and the extension with it.
    typ(&mut app, "e");
    ctrl(&mut app, 'u');
    typ(&mut app, "x.json");
    let value = |app: &App| app.prompt.as_ref().map(|p| p.input.value().to_string());
    press(&mut app, KeyCode::Tab);
    assert_eq!(value(&app).as_deref(), Some("x.jsonl"));
    assert!(app
        .status
        .as_ref()
        .is_some_and(|s| s.text.contains("as JSON Lines")));
    press(&mut app, KeyCode::Tab);
    assert_eq!(value(&app).as_deref(), Some("x.csv"));
    press(&mut app, KeyCode::Tab);
    assert_eq!(value(&app).as_deref(), Some("x.json"));
    ctrl(&mut app, 'u');
    typ(&mut app, "notes.txt");
    press(&mut app, KeyCode::Tab);
    assert_eq!(value(&app).as_deref(), Some("notes.txt.jsonl"));
    press(&mut app, KeyCode::Esc);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn export_refuses_evidence_devices_and_symlinks_at_the_first_enter() {
    let Some(p) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let dir = common::scratch_dir("export-refused");
    let evidence = dir.join("qmgr.db");
    std::fs::copy(&p, &evidence).expect("copy sample");
    let before = std::fs::read(&evidence).expect("read");
    let link = dir.join("link.json");
    let aside = dir.join("aside.json");
    std::fs::write(&aside, b"kept").expect("write");
    std::os::unix::fs::symlink(&aside, &link).expect("symlink");
    let mut app = loaded(evidence.clone(), false);
    for (target, why) in [
        (evidence.clone(), "is one of the evidence files"),
        (PathBuf::from("/dev/null"), "not a regular file"),
        (link.clone(), "is a symlink"),
    ] {
        typ(&mut app, "e");
        ctrl(&mut app, 'u');
        typ(&mut app, &target.display().to_string());
        press(&mut app, KeyCode::Enter);
        let st = app.status.clone().expect("status");
        assert!(st.error && st.text.contains(why), "{target:?}: {}", st.text);
        assert!(!st.text.contains("Enter again"), "{}", st.text);
        // A second Enter is refused the same way; nothing is written.
        press(&mut app, KeyCode::Enter);
        assert!(app.prompt.is_some());
        press(&mut app, KeyCode::Esc);
    }
    assert_eq!(std::fs::read(&evidence).expect("read"), before);
    assert_eq!(std::fs::read(&aside).expect("read"), b"kept");
    assert!(std::fs::symlink_metadata(&link)
        .expect("link")
        .file_type()
        .is_symlink());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Draw a frame as the run loop does (the app keeps what was drawn), and return it as text.
fn frame(app: &mut App) -> String {
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    let mut t = Terminal::new(TestBackend::new(app.width, app.height)).expect("terminal");
    let mut rendered = Default::default();
    t.draw(|f| rendered = bitscope::tui::ui::draw(f, app))
        .expect("draw");
    app.rendered = rendered;
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[test]
fn help_pages_stop_at_the_last_full_page_and_say_where() {
    let mut app = synthetic_app(1);
    app.resize(80, 24);
    typ(&mut app, "?");
    let first = frame(&mut app);
    // 22 rows, 20 of text inside the border: the position shows in the bottom border.
    let total = app.rendered.overlay.expect("overlay drawn").total;
    assert!(total > 40, "{total}");
    assert!(first.contains(&format!("lines 1–20 of {total}")), "{first}");
    for _ in 0..50 {
        press(&mut app, KeyCode::PageDown);
        frame(&mut app);
    }
    let last = frame(&mut app);
    assert!(
        last.contains(&format!("lines {}–{total} of {total}", total - 19)),
        "{last}"
    );
    // The last page is full: the box's last text row holds the help's last line.
    let rows: Vec<&str> = last.lines().collect();
    let inside = |r: &str| r.trim().trim_matches('│').trim().to_string();
    assert!(!inside(rows[21]).is_empty(), "{last}");
    // One PgUp goes back exactly one page from there (no hidden overshoot).
    press(&mut app, KeyCode::PageUp);
    let up = frame(&mut app);
    assert!(
        up.contains(&format!("lines {}–{} of {total}", total - 39, total - 20)),
        "{up}"
    );
    press(&mut app, KeyCode::End);
    assert!(frame(&mut app).contains(&format!("of {total}")));
    assert_eq!(usize::from(app.overlay_scroll), total - 20);
    press(&mut app, KeyCode::Home);
    assert!(frame(&mut app).contains(&format!("lines 1–20 of {total}")));
}

#[test]
fn detail_scrolls_back_from_its_end_at_once() {
    let mut app = synthetic_app(1);
    app.resize(80, 12);
    press(&mut app, KeyCode::Enter);
    frame(&mut app);
    press(&mut app, KeyCode::End);
    let end = frame(&mut app);
    let s = app.rendered.detail.expect("detail drawn");
    assert_eq!(s.top, s.max_top());
    assert!(end.contains(&format!("of {}", s.total)), "{end}");
    // One step up from the end moves the field cursor from the last field to the one before
    // it; the text stays in range and does not snap back to the first page.
    let last = app.detail.field;
    assert!(last > 1, "End puts the cursor on the last field");
    press(&mut app, KeyCode::Up);
    frame(&mut app);
    assert_eq!(app.detail.field, last - 1);
    let top = app.rendered.detail.map_or(0, |d| d.top);
    assert!(top > 0 && top <= s.max_top(), "{top} of {}", s.max_top());
    // PgUp from the end moves one page (G did not overshoot past the last page).
    press(&mut app, KeyCode::End);
    frame(&mut app);
    press(&mut app, KeyCode::PageUp);
    frame(&mut app);
    assert_eq!(
        app.rendered.detail.map(|d| d.top),
        Some(s.max_top().saturating_sub(s.page))
    );
}

#[test]
fn an_orphan_files_detail_shows_no_job_values() {
    use bitscope::bits::model::{BitsInfo, Source, SourceKind};
    let mut app = App::new(Options::default());
    app.resize(120, 60);
    let orphan = BitsInfo {
        file_id: "{CCCCCCCC-0000-0000-0000-000000000003}".into(),
        url: "https://example.com/orphan.bin".into(),
        full_path: r"C:\Temp\orphan.bin".into(),
        file_source: Some(Source {
            evidence: "qmgr.db".into(),
            offset: 0x2000,
            length: 0x80,
            kind: SourceKind::Live,
            ..Source::default()
        }),
        ..BitsInfo::default()
    };
    let generation = app.generation;
    app.apply(Envelope {
        generation,
        msg: Msg::Records(vec![orphan]),
    });
    press(&mut app, KeyCode::Tab); // the files view holds it
    press(&mut app, KeyCode::Enter);
    let s = frame(&mut app);
    assert!(s.contains("orphan file record"), "{s}");
    let line = |label: &str| {
        s.lines()
            .find(|l| l.trim_start().starts_with(label))
            .map(str::to_string)
            .unwrap_or_default()
    };
    assert!(line("errors").trim_end().ends_with('—'), "{s}");
    assert!(line("type/state").trim_end().ends_with('—'), "{s}");
    assert!(!s.contains("timeout 0 s"), "{s}");
    // The file's own values stay.
    assert!(
        line("url").contains("https://example.com/orphan.bin"),
        "{s}"
    );
}

#[test]
fn column_chooser_hides_and_reorders_and_the_table_scrolls_sideways() {
    let mut app = synthetic_app(3);
    app.resize(160, 30);
    let header = |app: &mut App| frame(app).lines().nth(2).unwrap_or_default().to_string();
    let h = header(&mut app);
    assert!(h.contains("URL") && h.contains("Owner"), "{h}");
    let name_shown = app
        .store
        .columns(app.view)
        .iter()
        .position(|&c| c == Col::Name);
    // C opens the chooser on this table's columns; Space hides the one under the cursor.
    typ(&mut app, "C");
    let s = frame(&mut app);
    assert!(s.contains("[x] Flags") && s.contains("[x] URL"), "{s}");
    let choice = app.store.column_choice(app.view);
    let owner = choice
        .iter()
        .position(|&(c, _)| c == Col::Owner)
        .expect("owner column");
    for _ in 0..owner {
        press(&mut app, KeyCode::Down);
    }
    typ(&mut app, " ");
    assert!(frame(&mut app).contains("[ ] Owner"));
    // K moves the column under the cursor up: URL before Job name.
    let url = choice
        .iter()
        .position(|&(c, _)| c == Col::Url)
        .expect("url");
    let name = choice
        .iter()
        .position(|&(c, _)| c == Col::Name)
        .expect("name");
    assert!(name < url);
    press(&mut app, KeyCode::Home);
    for _ in 0..url {
        press(&mut app, KeyCode::Down);
    }
    for _ in 0..(url - name) {
        typ(&mut app, "K");
    }
    press(&mut app, KeyCode::Esc);
    assert!(app.overlay.is_none());
    let h = header(&mut app);
    assert!(!h.contains("Owner"), "{h}");
    let (u, n) = (
        h.find("URL").expect("URL"),
        h.find("Job name").expect("name"),
    );
    assert!(u < n, "{h}");
    assert_eq!(
        app.store
            .columns(app.view)
            .iter()
            .position(|&c| c == Col::Url),
        name_shown,
        "URL where the job name was"
    );
    // Hiding every column is refused.
    typ(&mut app, "C");
    let n = app.store.column_choice(app.view).len();
    for i in 0..n {
        press(&mut app, KeyCode::Home);
        for _ in 0..i {
            press(&mut app, KeyCode::Down);
        }
        if app.store.column_choice(app.view)[i].1 {
            typ(&mut app, " ");
        }
    }
    assert_eq!(
        app.store.columns(app.view).len(),
        2,
        "the mark column and one more"
    );
    assert!(app
        .status
        .as_ref()
        .is_some_and(|s| s.text.contains("one column")));
    press(&mut app, KeyCode::Esc);

    // Sideways: at 60 columns some give way, ▶ says so; > scrolls, ◀ says columns lie left.
    let mut app = synthetic_app(3);
    app.resize(60, 24);
    let h = header(&mut app);
    assert!(h.ends_with('▶'), "{h}");
    assert!(h.contains("Flags"), "{h}");
    let mut steps = 0;
    while app.table_columns().1.iter().filter(|&&w| w == 0).count() > 0 && steps < 20 {
        typ(&mut app, ">");
        steps += 1;
        let (cols, widths) = app.table_columns();
        let first = app.store.view(app.view).first_col;
        if !bitscope::tui::layout::columns_off_screen(&cols, first, &widths).1 {
            break;
        }
    }
    let h = header(&mut app);
    assert!(h.starts_with('◀'), "{h}");
    assert!(!h.contains("Flags"), "{h}");
    let last = app
        .table_columns()
        .0
        .last()
        .map(|c| c.title())
        .unwrap_or("?");
    assert!(h.contains(last), "the last column ({last}) is reached: {h}");
    assert!(!h.ends_with('▶'), "{h}");
    // > stops once nothing lies right; < goes back to the start.
    let first = app.store.view(app.view).first_col;
    typ(&mut app, ">");
    assert_eq!(app.store.view(app.view).first_col, first);
    for _ in 0..first {
        typ(&mut app, "<");
    }
    let h = header(&mut app);
    assert!(h.contains("Flags") && !h.starts_with('◀'), "{h}");
}

#[test]
fn column_keys_skip_what_is_off_screen_and_the_sort_arrow_stays() {
    for width in [40u16, 60, 80, 120] {
        let mut app = synthetic_app(3);
        app.resize(width, 24);
        let on_screen = |app: &App, i: usize| {
            let (cols, widths) = app.table_columns();
            cols[i] != Col::Mark && widths[i] > 0
        };
        for key in ["l", "h"] {
            for _ in 0..30 {
                typ(&mut app, key);
                let c = app.store.view(app.view).col_cursor;
                assert!(
                    on_screen(&app, c),
                    "width {width}: {key} reached column {c}"
                );
            }
        }
        // s sorts by the column under the cursor, and its header shows the arrow whole.
        let c = app.store.view(app.view).col_cursor;
        typ(&mut app, "s");
        let col = app.table_columns().0[c];
        assert_eq!(app.store.view(app.view).sort, Some((col, false)));
        let header = frame(&mut app)
            .lines()
            .nth(2)
            .unwrap_or_default()
            .to_string();
        assert_eq!(header.matches('▲').count(), 1, "width {width}: {header}");
        typ(&mut app, "s");
        let header = frame(&mut app)
            .lines()
            .nth(2)
            .unwrap_or_default()
            .to_string();
        assert_eq!(header.matches('▼').count(), 1, "width {width}: {header}");
    }
    // Straight after opening the cursor is on the untitled mark column: s sorts by the first
    // column on screen instead, and the arrow is on that column.
    let mut app = synthetic_app(3);
    app.resize(80, 24);
    typ(&mut app, "s");
    let (cols, _) = app.table_columns();
    let c = app.store.view(app.view).col_cursor;
    assert_ne!(cols[c], Col::Mark);
    assert_eq!(app.store.view(app.view).sort, Some((cols[c], false)));
}

#[test]
fn one_load_warning_is_one_warning() {
    let mut app = App::new(Options::default());
    let generation = app.generation;
    for msg in [
        Msg::Diagnostic("qmgr.db: page 7: bad checksum".into()),
        Msg::Finished {
            elapsed: Duration::from_millis(5),
            records: 0,
        },
    ] {
        app.apply(Envelope { generation, msg });
    }
    let st = app.status.clone().expect("status").text;
    assert!(st.ends_with(", 1 warning (W shows it)"), "{st}");
}

/// Issue 22, defect 3: navigation keeps its place. Timeline → Enter → Esc is the timeline
/// again with its cursor where it was; detail → T → T is the detail again; after `s` the
/// first row of the new order is selected; `h` stops at the first column (and says so);
/// Ctrl-R says the marks it drops.
#[test]
fn navigation_keeps_its_place() {
    let Some(p) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true);

    // Timeline → Enter → Esc.
    typ(&mut app, "T");
    assert_eq!(app.screen, Screen::Timeline);
    for _ in 0..7 {
        press(&mut app, KeyCode::Down);
    }
    let at = app.timeline.sel;
    let rec = app.timeline.selected().expect("event").rec;
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Detail);
    assert_eq!(app.detail_record(), Some(rec));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::Timeline);
    assert_eq!(app.timeline.sel, at);
    typ(&mut app, "T");
    assert_eq!(app.screen, Screen::Table);

    // Detail → T → T.
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Enter);
    let shown = app.detail_record();
    typ(&mut app, "T");
    assert_eq!(app.screen, Screen::Timeline);
    typ(&mut app, "T");
    assert_eq!(app.screen, Screen::Detail);
    assert_eq!(app.detail_record(), shown);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::Table);

    // `s` shows the start of the new order, both ways.
    for _ in 0..20 {
        press(&mut app, KeyCode::Down);
    }
    typ(&mut app, "s");
    let v = app.store.view(app.view);
    assert_eq!((v.sel, v.offset), (0, 0));
    assert_eq!(v.selected_item(), v.shown.first().copied());
    typ(&mut app, "s");
    assert_eq!(app.store.view(app.view).sel, 0);
    assert!(app
        .status
        .as_ref()
        .is_some_and(|s| s.text.contains("descending")));

    // `h` at the first column stays there.
    for _ in 0..30 {
        typ(&mut app, "h");
    }
    let first = app.store.view(app.view).col_cursor;
    typ(&mut app, "h");
    assert_eq!(app.store.view(app.view).col_cursor, first);
    assert!(app
        .status
        .as_ref()
        .is_some_and(|s| s.text.contains("first column")));

    // Ctrl-R drops the marks, and says how many.
    typ(&mut app, " ");
    typ(&mut app, " ");
    // A row marks every record of it (a carved job's copies too).
    let marks = app.store.mark_count;
    assert!(marks >= 2, "{marks}");
    ctrl(&mut app, 'r');
    let status = app
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert!(
        status.contains(&format!("{marks} marks cleared")),
        "{status}"
    );
    assert!(app.wait_loaded(Duration::from_secs(60)));
}

/// Issue 22, defect 4: `W` stands out again. On win10 (carved) a carved job whose files were
/// not found is the rule, not a warning worth a flag: only records with another warning
/// (or a live one) carry W.
#[test]
fn w_leaves_out_a_carved_jobs_missing_files() {
    let Some(p) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let app = loaded(p, true);
    let recs = &app.store.recs;
    let missing = |w: &String| w.contains("listed by the job w");
    let mut flagged = 0;
    let mut quiet = 0;
    for r in recs {
        let others = r
            .info
            .warnings
            .iter()
            .filter(|w| !(r.info.carved && missing(w)))
            .count();
        assert_eq!(r.warnings > 0, others > 0, "{:?}", r.info.warnings);
        if r.warnings > 0 {
            flagged += 1;
        }
        if r.info.carved && r.info.warnings.iter().any(missing) && others == 0 {
            quiet += 1;
        }
    }
    eprintln!(
        "win10: {flagged} of {} records carry W; {quiet} carved records whose only warning is files not found do not",
        recs.len()
    );
    assert!(quiet > 0, "no carved record had only missing files");
}

/// `bitscope A B`: one load of both paths, as `bitscope parse A B` reads them; every record
/// of each, no more, and the evidence named relative to their deepest common folder.
#[test]
fn several_paths_load_the_records_of_every_one() {
    let (Some(a), Some(b)) = (
        common::sample("ese/win10/qmgr.db"),
        common::sample("ese/win11/qmgr.db"),
    ) else {
        return;
    };
    let one_a = loaded(a.clone(), true);
    let one_b = loaded(b.clone(), true);
    let mut app = App::new(Options {
        carve: true,
        ..Options::default()
    });
    app.resize(120, 40);
    app.open(vec![a.clone(), b.clone()]);
    assert!(app.wait_loaded(Duration::from_secs(60)), "load timed out");
    assert!(app.load.failed.is_none(), "{:?}", app.load.failed);
    let from = |p: &PathBuf| {
        let p = p.display().to_string();
        app.store
            .recs
            .iter()
            .filter(|r| r.info.evidence == p)
            .count()
    };
    assert!(!one_a.store.recs.is_empty() && !one_b.store.recs.is_empty());
    assert_eq!(from(&a), one_a.store.recs.len());
    assert_eq!(from(&b), one_b.store.recs.len());
    assert_eq!(
        app.store.recs.len(),
        one_a.store.recs.len() + one_b.store.recs.len()
    );
    assert_eq!(app.evidence.len(), 2);
    assert_eq!(app.paths, vec![a.clone(), b.clone()]);
    // The Evidence column names win10/… and win11/…, not the folders above them.
    let ese = a.parent().and_then(Path::parent).expect("the ese folder");
    assert_eq!(app.store.root, ese.display().to_string());
    // The header names the first path and how many more.
    let screen = format!("{:?}", common::tui::render(&app).buffer());
    assert!(screen.contains("+1 more"), "{screen}");
    // Reload (Ctrl-R) reads both again.
    ctrl(&mut app, 'r');
    assert!(app.load.running);
    assert!(app.wait_loaded(Duration::from_secs(60)), "reload timed out");
    assert_eq!(
        app.store.recs.len(),
        one_a.store.recs.len() + one_b.store.recs.len()
    );
    assert_eq!(app.evidence.len(), 2);
}

/// Issue 22, feature 8: an export carries, after each record's own fields, the codes of the
/// triage rules that fired on it (as the triage module says for `parse`'s record) and the
/// analyst's note and tags (`a`); the detail pane shows the note.
#[test]
fn exports_carry_triage_codes_notes_and_tags() {
    use bitscope::bits::triage::{assess, rule_bits, Rule};
    let Some(p) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let dir = common::scratch_dir("export-notes");
    let mut app = loaded(p.clone(), false);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.view, ViewKind::Rows);
    typ(&mut app, "a");
    typ(&mut app, "first row #seen #c2");
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.status.as_ref().map(|s| s.text.as_str()),
        Some("note on 1 record")
    );
    press(&mut app, KeyCode::Enter);
    let pane = common::tui::render(&app);
    let text: String = pane.buffer().content().iter().map(|c| c.symbol()).collect();
    assert!(
        text.contains("first row") && text.contains("#seen #c2"),
        "{text}"
    );
    press(&mut app, KeyCode::Esc);
    let out = dir.join("all.jsonl");
    typ(&mut app, "e");
    ctrl(&mut app, 'u');
    typ(&mut app, &out.display().to_string());
    press(&mut app, KeyCode::Enter);
    assert!(app.prompt.is_none(), "{:?}", app.status);
    let run = common::run_bitscope([
        std::ffi::OsStr::new("parse"),
        std::ffi::OsStr::new("--format"),
        std::ffi::OsStr::new("jsonl"),
        p.as_os_str(),
    ]);
    let text = std::fs::read_to_string(&out).expect("export");
    let exported: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("jsonl"))
        .collect();
    let parsed: Vec<bitscope::bits::model::BitsInfo> = common::explorer_load(&p)
        .into_iter()
        .filter(|r| !r.carved)
        .collect();
    assert_eq!(exported.len(), parsed.len());
    assert_eq!(
        exported.len(),
        String::from_utf8_lossy(&run.stdout).lines().count()
    );
    // What the triage module says of each of `parse`'s records, by job, file and path.
    let key = |j: &str, f: &str, p: &str| format!("{j}|{f}|{p}");
    let expected: std::collections::HashMap<String, Vec<&str>> = parsed
        .iter()
        .map(|r| {
            let bits = rule_bits(&assess(r));
            let codes = Rule::ALL
                .iter()
                .filter(|x| bits & x.bit() != 0)
                .map(|x| x.code())
                .collect();
            (key(&r.job_id, &r.file_id, &r.full_path), codes)
        })
        .collect();
    let mut flagged = 0;
    for e in &exported {
        let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
        let want = &expected[&key(&s("job_id"), &s("file_id"), &s("full_path"))];
        assert_eq!(e["triage"], serde_json::json!(want), "{}", s("job_name"));
        flagged += usize::from(!want.is_empty());
    }
    let noted: Vec<&Value> = exported.iter().filter(|e| e["note"] != "").collect();
    assert_eq!(noted.len(), 1);
    assert_eq!(noted[0]["note"], "first row");
    assert_eq!(noted[0]["tags"], serde_json::json!(["seen", "c2"]));
    eprintln!(
        "{} records exported, {flagged} with triage codes, 1 noted",
        exported.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 22, defect 5: a message answers one key; the next key clears it (a stale
/// "no further column" read as the answer to the key after). The header says its counts are
/// records (the tabs count their own rows).
#[test]
fn a_message_lasts_until_the_next_key() {
    let Some(p) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true);
    let first = screen(&app);
    let header = first.lines().next().unwrap_or_default();
    let (live, carved) = (app.store.live_count, app.store.carved_count);
    assert!(
        header.contains(&format!("{live} live · {carved} carved records")),
        "{header}"
    );
    assert!(first.contains(" Jobs "), "{first}");
    typ(&mut app, "h");
    let said = app
        .status
        .clone()
        .expect("h at the first column says so")
        .text;
    assert!(screen(&app).contains(&said), "{said}");
    typ(&mut app, "j");
    assert!(app.status.is_none(), "{:?}", app.status);
    assert!(!screen(&app).contains(&said));
    // A key that answers sets its own message again.
    typ(&mut app, "h");
    assert_eq!(app.status.as_ref().map(|s| s.text.clone()), Some(said));
}
