//! What analysts reach for, through the app state: the timeline (its events on the real win10
//! queue, the filter, Enter to the record, an 80×24 snapshot), the later job times as table
//! columns, and copying one field of the detail pane.

mod common;

use bitscope::bits::model::BitsInfo;
use bitscope::tui::app::{App, Effect, Screen};
use bitscope::tui::columns::Col;
use bitscope::tui::fields::copy_fields;
use bitscope::tui::store::ViewKind;
use bitscope::tui::worker::{Envelope, Msg};
use bitscope::tui::Options;
use chrono::{DateTime, Datelike};
use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;

use common::tui::{loaded, press, render, typ};

/// The screen's text, from row `from` down.
fn text(b: &TestBackend, from: u16) -> String {
    let buf = b.buffer();
    let mut out = String::new();
    for y in from..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// The expected events, from the records' own fields: every set time (not empty, not the
/// FILETIME epoch year) of each job once (a job's file rows and carved copies repeat its
/// times; the first record stands for them), in time order, ties in record order.
fn expected_events(app: &App, keep: impl Fn(&BitsInfo) -> bool) -> Vec<(i64, u32, &'static str)> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (i, r) in app.store.recs.iter().enumerate() {
        let r = &r.info;
        if !keep(r) {
            continue;
        }
        let job = if r.job_id.is_empty() {
            format!(
                "{}@{:?}#{i}",
                r.evidence,
                r.job_source.as_ref().map(|s| s.offset)
            )
        } else {
            format!("{}/{}", r.evidence, r.job_id)
        };
        for (label, t) in [
            ("created", &r.created),
            ("modified", &r.modified),
            ("completed", &r.completed),
            ("expires", &r.expiration),
        ] {
            let Ok(at) = DateTime::parse_from_rfc3339(t) else {
                continue;
            };
            if at.year() <= 1601 || !seen.insert((job.clone(), label, at)) {
                continue;
            }
            out.push((at.timestamp_millis(), i as u32, label));
        }
    }
    out.sort_by_key(|&(at, rec, label)| {
        let kind = ["created", "modified", "completed", "expires"]
            .iter()
            .position(|l| *l == label);
        (at, rec, kind)
    });
    out
}

fn shown_events(app: &App) -> Vec<(i64, u32, &'static str)> {
    let t = &app.timeline;
    t.shown
        .iter()
        .map(|&i| {
            let e = t.events[i as usize];
            (e.at, e.rec, e.kind.label())
        })
        .collect()
}

#[test]
fn timeline_of_win10_lists_every_job_time_once_in_order() {
    let Some(p) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true, 120, 40);
    typ(&mut app, "T");
    assert_eq!(app.screen, Screen::Timeline);
    let expected = expected_events(&app, |_| true);
    let shown = shown_events(&app);
    // Carving finds far more jobs than the one live job: their times are events too.
    assert!(expected.len() > 100, "{}", expected.len());
    assert_eq!(shown, expected);
    assert!(shown.windows(2).all(|w| w[0].0 <= w[1].0));
    // The live Chrome job's four times are there.
    let live: Vec<&str> = shown
        .iter()
        .filter(|e| !app.store.rec(e.1).info.carved)
        .map(|e| e.2)
        .collect();
    assert_eq!(live, ["created", "modified", "completed", "expires"]);
    // The chart counts exactly the events shown.
    let per_day: u32 = app.timeline.per_day.values().sum();
    assert_eq!(per_day as usize, shown.len());
    // At most four events a record.
    assert!(app.timeline.events.len() <= 4 * app.store.recs.len());

    // The filter narrows the timeline to the events of the records it lets through.
    typ(&mut app, "/name:'mozilla");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Timeline);
    let moz = shown_events(&app);
    assert!(!moz.is_empty() && moz.len() < shown.len());
    for e in &moz {
        let name = &app.store.rec(e.1).info.job_name;
        assert!(name.to_lowercase().contains("mozilla"), "{name}");
    }
    let is_moz = |r: &BitsInfo| r.job_name.to_lowercase().contains("mozilla");
    assert_eq!(moz, expected_events(&app, is_moz));
    // `c` (live only) leaves the live job's events only: none of them is Mozilla's.
    press(&mut app, KeyCode::Esc);
    typ(&mut app, "c");
    assert_eq!(app.timeline.shown.len(), 4);
}

#[test]
fn enter_on_an_event_opens_its_record_in_its_table() {
    let Some(p) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true, 120, 40);
    // Tab after the rows view is the timeline, and after it the jobs again.
    for _ in 0..3 {
        press(&mut app, KeyCode::Tab);
    }
    assert_eq!(app.screen, Screen::Timeline);
    // A carved event halfway down, then the last (the latest time).
    for target in [app.timeline.shown.len() / 2, usize::MAX] {
        press(&mut app, KeyCode::Home);
        if target == usize::MAX {
            press(&mut app, KeyCode::End);
        } else {
            for _ in 0..target {
                press(&mut app, KeyCode::Down);
            }
        }
        let e = app.timeline.selected().expect("an event");
        press(&mut app, KeyCode::Enter);
        assert_eq!(app.screen, Screen::Detail);
        assert_eq!(app.detail_record(), Some(e.rec));
        // The table behind the detail has the record's row selected.
        assert!(app.selected_members().contains(&e.rec));
        let r = &app.store.rec(e.rec).info;
        if r.job_source.is_some() {
            assert_eq!(app.view, ViewKind::Jobs);
        }
        typ(&mut app, "T");
        assert_eq!(app.screen, Screen::Timeline);
        // Back at the record's first event.
        assert_eq!(app.timeline.selected().map(|s| s.rec), Some(e.rec));
    }
    press(&mut app, KeyCode::Tab);
    assert_eq!((app.screen, app.view), (Screen::Table, ViewKind::Jobs));
}

#[test]
fn timeline_at_80x24_snapshot() {
    let Some(p) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true, 80, 24);
    // From the jobs table, the timeline opens at the selected (live Chrome) job's first time.
    typ(&mut app, "T");
    // The header line names the sample's path, which differs between machines.
    let screen = text(&render(&app), 1);
    assert!(
        screen.contains("Events per day (UTC) 2019-10-21"),
        "{screen}"
    );
    assert!(screen.contains("Chrome Comp…"), "{screen}");
    // The times keep their milliseconds.
    assert!(
        screen.contains("2022-12-21 02:18:03.120 created"),
        "{screen}"
    );
    insta::assert_snapshot!("timeline_win10_80x24", screen);
}

#[test]
fn later_job_times_are_sortable_columns_of_the_jobs_table() {
    let Some(p) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true, 300, 40);
    // The columns shown (the Host column only over several hosts).
    let cols = app.store.columns(ViewKind::Jobs);
    for (col, get) in [
        (
            Col::Modified,
            (|r: &BitsInfo| r.modified.clone()) as fn(&BitsInfo) -> String,
        ),
        (Col::Completed, |r| r.completed.clone()),
        (Col::Expiration, |r| r.expiration.clone()),
    ] {
        let at = cols.iter().position(|&c| c == col).expect("a jobs column");
        app.store.view_mut(ViewKind::Jobs).col_cursor = at;
        typ(&mut app, "s");
        let v = app.store.view(ViewKind::Jobs);
        let times: Vec<String> = v
            .shown
            .iter()
            .map(|&i| get(&app.store.rec(v.items[i as usize].rep()).info))
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{col:?}");
        assert!(
            times.iter().filter(|t| !t.is_empty()).count() >= 2,
            "{times:?}"
        );
        // The header names it, and a cell shows its time as the Created column does.
        let screen = text(&render(&app), 0);
        assert!(screen.contains(col.title()), "{col:?}");
        let last = times.last().expect("a time");
        assert!(screen.contains(&bitscope::tui::columns::time_cell(last)));
    }
}

fn one_record_app(r: BitsInfo) -> App {
    let mut app = App::new(Options::default());
    app.resize(100, 40);
    let generation = app.generation;
    app.apply(Envelope {
        generation,
        msg: Msg::Records(vec![r]),
    });
    app
}

#[test]
fn y_copies_the_raw_field_under_the_cursor_and_shift_y_the_record() {
    let hostile_url = "http://bücher.de/\u{202e}gpj.exe?\u{1b}[31m";
    let r = BitsInfo {
        job_id: "{4F2C1A0B-0000-0000-0000-000000000001}".into(),
        job_name: "plain name".into(),
        job_command: r"C:\Windows\System32\cmd.exe".into(),
        job_arguments: "/c start \"\" x".into(),
        url: hostile_url.into(),
        full_path: r"C:\Users\Public\a b.exe".into(),
        owner_sid: "S-1-5-18".into(),
        created: "2024-01-02T03:04:05.006Z".into(),
        ..BitsInfo::default()
    };
    let mut app = one_record_app(r.clone());
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Detail);
    let fields = copy_fields(&r);
    let labels: Vec<&str> = fields.iter().map(|f| f.0).collect();
    // The cursor starts on the first field; y copies its raw value, not JSON.
    typ(&mut app, "y");
    assert_eq!(
        app.take_effects(),
        vec![Effect::Copy {
            text: r.job_id.clone(),
            what: format!("job id {}", r.job_id),
            json: false,
        }]
    );
    for (label, want) in [
        ("notify command", &r.job_command),
        ("notify args", &r.job_arguments),
        ("url", &r.url),
        ("local path", &r.full_path),
    ] {
        let at = labels.iter().position(|l| *l == label).expect(label);
        press(&mut app, KeyCode::Home);
        for _ in 0..at {
            typ(&mut app, "j");
        }
        typ(&mut app, "y");
        let effects = app.take_effects();
        let [Effect::Copy { text, what, json }] = effects.as_slice() else {
            panic!("{effects:?}");
        };
        assert_eq!((text, *json), (want, false), "{label}");
        // The message carries the value raw (cut): the status line escapes what it draws,
        // once, so nothing raw reaches the screen and `\x1b` is not shown as `\x5cx1b`.
        assert!(what.starts_with(label), "{what}");
        let head: String = want.chars().take(8).collect();
        assert!(what.contains(&head), "{what:?} holds {head:?}");
        app.set_status(format!("copied {what}"), false);
        let b = render(&app);
        let status: String = (0..b.buffer().area.width)
            .map(|x| {
                b.buffer()[(x, b.buffer().area.height - 2)]
                    .symbol()
                    .to_string()
            })
            .collect();
        assert!(
            !status.chars().any(bitscope::tui::display::is_hidden),
            "{status:?}"
        );
        assert!(
            status.contains(&*bitscope::tui::display::escape(&head)),
            "{status:?}"
        );
        // The cursor's line is the one lit.
        let b = render(&app);
        let buf = b.buffer();
        let lit: Vec<String> = (0..buf.area.height)
            .filter(|&y| buf[(0, y)].modifier.contains(Modifier::REVERSED))
            .map(|y| (0..16).map(|x| buf[(x, y)].symbol()).collect::<String>())
            .collect();
        assert_eq!(lit, vec![format!("{label:<16}")], "{label}");
    }
    assert!(app.take_effects().is_empty());
    let url_at = labels.iter().position(|l| *l == "url").expect("url");
    press(&mut app, KeyCode::Home);
    for _ in 0..url_at {
        press(&mut app, KeyCode::Down);
    }
    assert_eq!(
        app.detail_field().map(|f| f.1),
        Some(hostile_url.to_string())
    );
    typ(&mut app, "y");
    let effects = app.take_effects();
    let [Effect::Copy { what, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    // Raw in the message; drawn escaped, once.
    assert!(
        what.contains('\u{202e}') && what.contains('\x1b'),
        "{what:?}"
    );
    let drawn = bitscope::tui::display::escape(what);
    assert!(
        drawn.contains("\\u{202e}") && drawn.contains("\\x1b") && !drawn.contains("\\x5c"),
        "{drawn}"
    );
    // Past the last field the cursor stays on it.
    for _ in 0..100 {
        typ(&mut app, "j");
    }
    assert_eq!(app.detail.field, fields.len() - 1);

    // Y: the whole record, the same JSON `e` writes for it.
    typ(&mut app, "Y");
    let mut export = Vec::new();
    bitscope::output::bits::write(
        std::slice::from_ref(&r),
        bitscope::output::bits::Format::Json,
        &mut export,
    )
    .expect("json");
    let effects = app.take_effects();
    let [Effect::Copy { text, json, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert!(*json);
    assert_eq!(text.as_bytes(), export.as_slice());
    let v: serde_json::Value = serde_json::from_str(text).expect("json");
    assert_eq!(v[0]["url"], hostile_url);
}

#[test]
fn every_copy_field_has_its_line_in_the_detail_pane() {
    let Some(p) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true, 120, 40);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab); // rows: one record each
    let n = app.store.view(ViewKind::Rows).shown.len();
    for row in 0..n.min(40) {
        press(&mut app, KeyCode::Enter);
        let rec = app.detail_record().expect("a record");
        let fields = copy_fields(&app.store.rec(rec).info);
        let lines = bitscope::tui::ui::detail_lines(&app);
        for i in 0..fields.len() {
            assert!(
                bitscope::tui::fields::field_line(&lines, &fields, i).is_some(),
                "row {row}: field {:?} has no line",
                fields[i].0
            );
        }
        press(&mut app, KeyCode::Esc);
        press(&mut app, KeyCode::Down);
    }
}

#[test]
fn fields_a_record_did_not_yield_show_as_unknown() {
    let Some(p) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true, 120, 60);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab); // rows: one record each
    let n = app.store.view(ViewKind::Rows).shown.len();
    let mut seen = 0;
    for _ in 0..n {
        press(&mut app, KeyCode::Enter);
        let rec = app.detail_record().expect("a record");
        let r = app.store.rec(rec).info.clone();
        let text: Vec<String> = bitscope::tui::ui::detail_lines(&app)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        let line = |label: &str| {
            text.iter()
                .find(|l| l.starts_with(label))
                .cloned()
                .unwrap_or_default()
        };
        if r.missing_fields.iter().any(|m| m == "bytes_downloaded") {
            // A carved job whose file was not found: its file is unknown, not "0 of 0".
            seen += 1;
            assert!(line("bytes").ends_with("— downloaded of —"), "{text:?}");
            assert!(line("url").ends_with('—'), "{text:?}");
        } else if r.file_source.is_some() {
            assert!(!line("bytes").contains('—'), "{text:?}");
        }
        press(&mut app, KeyCode::Esc);
        press(&mut app, KeyCode::Down);
    }
    assert!(seen > 0, "no record without its file in the win10 sample");
}
