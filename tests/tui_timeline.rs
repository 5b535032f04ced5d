//! The timeline of issue 22 (feature 10) and the display zone (feature 11) on the real
//! samples: `e` in the timeline writes what `parse --format timeline` writes, byte for byte
//! (in any display zone: exports stay UTC); `z z` zooms to a range that the filter holds and
//! the tables follow, `Z` zooms out; `u` shows every time in the zone asked for.

mod common;

use std::path::PathBuf;

use bitscope::tui::app::{App, Screen};
use bitscope::tui::store::ViewKind;
use bitscope::tui::timeline::{event_time, EventKind};
use bitscope::tui::zone::Zone;
use chrono::{DateTime, FixedOffset};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use common::tui::{press, screen, typ};

fn loaded(path: PathBuf, carve: bool) -> App {
    common::tui::loaded(path, carve, 200, 40)
}

fn ctrl_u(app: &mut App) {
    app.handle_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
}

/// `T`, `u` to +02:00, then `e` to a `.jsonl`: the file equals `parse --format timeline`.
#[test]
fn timeline_export_is_parse_format_timeline_in_any_zone() {
    for sample in ["ese/win11/qmgr.db", "ese/win10/qmgr.db"] {
        let Some(p) = common::sample(sample) else {
            return;
        };
        let dir = common::scratch_dir("timeline-export");
        let out = dir.join("events.jsonl");
        // Live records only: the explorer holds them in parse's order.
        let mut app = loaded(p.clone(), false);
        app.opts.zone = Zone::Fixed(7200);
        typ(&mut app, "Tu");
        assert_eq!(app.screen, Screen::Timeline);
        assert_eq!(app.store.zone, Zone::Fixed(7200));
        typ(&mut app, "e");
        let default = app.prompt.as_ref().map(|p| p.input.value().to_string());
        assert!(
            default
                .as_deref()
                .is_some_and(|d| d.ends_with("-timeline.jsonl")),
            "{default:?}"
        );
        let said = app.status.clone().expect("status").text;
        assert!(said.contains("as timeline JSONL"), "{said}");
        ctrl_u(&mut app);
        typ(&mut app, &out.display().to_string());
        press(&mut app, KeyCode::Enter);
        assert!(app.prompt.is_none(), "{:?}", app.status);
        let run = common::run_bitscope([
            std::ffi::OsStr::new("parse"),
            std::ffi::OsStr::new("--format"),
            std::ffi::OsStr::new("timeline"),
            p.as_os_str(),
        ]);
        assert!(run.status.success());
        let exported = std::fs::read(&out).expect("export written");
        let lines = exported.iter().filter(|&&b| b == b'\n').count();
        assert!(lines > 0);
        assert!(exported == run.stdout, "{sample}: differs from parse");
        eprintln!(
            "{sample}: timeline export {} bytes, {lines} entries, equal to parse --format timeline",
            exported.len()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The shown events as (time, record, kind).
fn shown(app: &App) -> Vec<(i64, u32, EventKind)> {
    let t = &app.timeline;
    t.shown
        .iter()
        .map(|&i| {
            let e = t.events[i as usize];
            (e.at, e.rec, e.kind)
        })
        .collect()
}

#[test]
fn z_z_zooms_to_a_range_the_tables_follow_and_z_zooms_out() {
    let Some(p) = common::sample("ese/win10/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, true);
    let jobs_all = app.store.view(ViewKind::Jobs).shown.len();
    typ(&mut app, "T");
    let before = shown(&app);
    assert!(before.len() > 20, "{}", before.len());
    // From the 4th event to the 12th.
    typ(&mut app, "gjjjz");
    assert_eq!(app.timeline.sel, 3);
    assert!(app.filter_text.is_empty());
    typ(&mut app, "jjjjjjjjz");
    let (a, b) = (before[3].0, before[11].0);
    assert!(a < b, "the sample's events 3 and 11 share a time");
    assert!(
        app.filter_text.starts_with("after:") && app.filter_text.contains(" before:"),
        "{}",
        app.filter_text
    );
    let after = shown(&app);
    // Every event shown is in [a, b]; every event of the range is shown, but for an
    // expiration whose record holds no other time in it (after:/before: read the times that
    // say something happened, not the expiration: see tui/when.rs).
    assert!(after.iter().all(|e| (a..=b).contains(&e.0)), "{after:?}");
    let inside: Vec<_> = before
        .iter()
        .filter(|e| (a..=b).contains(&e.0))
        .copied()
        .collect();
    assert!(after.iter().all(|e| inside.contains(e)));
    for e in inside.iter().filter(|e| e.2 != EventKind::Expiration) {
        assert!(after.contains(e), "{e:?} in the range, not shown");
    }
    // The two ends chosen (an expiration end aside, as above).
    for end in [before[3], before[11]] {
        assert!(
            end.2 == EventKind::Expiration || after.contains(&end),
            "{end:?}"
        );
    }
    eprintln!(
        "zoom: {} of {} events, [{}] {}",
        after.len(),
        before.len(),
        app.filter_text,
        app.status.as_ref().map_or("", |s| s.text.as_str())
    );
    // The tables keep the jobs holding a time (created, modified, completed) in the range.
    let v = app.store.view(ViewKind::Jobs);
    assert!(v.shown.len() < jobs_all && !v.shown.is_empty());
    for &i in &v.shown {
        let item = &v.items[i as usize];
        let any = item.members.iter().any(|&m| {
            let r = &app.store.rec(m).info;
            [&r.created, &r.modified, &r.completed]
                .iter()
                .filter_map(|t| event_time(t))
                .any(|t| (a..=b).contains(&t))
        });
        assert!(any, "a job shown has no time in the range");
    }
    // The chart spans the range, a cursor on it.
    let s = screen(&app);
    assert!(s.contains("cursor "), "{s}");
    typ(&mut app, "Z");
    assert!(app.filter_text.is_empty(), "{}", app.filter_text);
    assert_eq!(shown(&app), before);
    assert_eq!(app.store.view(ViewKind::Jobs).shown.len(), jobs_all);
    // The rest of a filter stays through a zoom and back.
    typ(&mut app, "/");
    typ(&mut app, "-flag:cmd");
    press(&mut app, KeyCode::Enter);
    typ(&mut app, "gzGz");
    assert!(
        app.filter_text.starts_with("-flag:cmd after:"),
        "{}",
        app.filter_text
    );
    typ(&mut app, "Z");
    assert_eq!(app.filter_text, "-flag:cmd");
}

/// A record's ISO time in a fixed zone, as the tables show it (independently of the explorer).
fn in_zone(iso: &str, secs: i32, fmt: &str) -> String {
    let off = FixedOffset::east_opt(secs).expect("offset");
    DateTime::parse_from_rfc3339(iso)
        .expect("a time")
        .with_timezone(&off)
        .format(fmt)
        .to_string()
}

#[test]
fn u_shows_every_time_in_the_zone_asked_for() {
    let Some(p) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let mut app = loaded(p, false);
    app.opts.zone = Zone::parse("-05:30").expect("zone");
    let utc = screen(&app);
    assert!(utc.lines().next().unwrap_or_default().contains("times UTC"));
    let v = app.store.view(app.view);
    let first = app
        .store
        .rec(v.items[v.shown[0] as usize].rep())
        .info
        .clone();
    assert!(utc.contains(&first.created.replace('T', " ")[..19]));
    typ(&mut app, "u");
    let s = screen(&app);
    let header = s.lines().next().unwrap_or_default();
    assert!(header.contains("times UTC-05:30"), "{header}");
    let cell = in_zone(&first.created, -19800, "%Y-%m-%d %H:%M:%S");
    eprintln!("created {} shown as {cell} at UTC-05:30", first.created);
    assert!(s.contains(&cell), "{cell} not in\n{s}");
    // The detail pane: the zone's reading with its offset, then the UTC text.
    press(&mut app, KeyCode::Enter);
    let d = screen(&app);
    let want = format!(
        "{} -05:30 ({})",
        in_zone(&first.created, -19800, "%Y-%m-%d %H:%M:%S%.3f"),
        first.created
    );
    assert!(d.contains(&want), "{want} not in\n{d}");
    // The timeline: its time column names the zone and its times follow it.
    press(&mut app, KeyCode::Esc);
    typ(&mut app, "T");
    let t = screen(&app);
    assert!(t.contains("Time (UTC-05:30)"), "{t}");
    assert!(t.contains("Events per day (UTC-05:30)"), "{t}");
    let e = app.timeline.selected().expect("an event");
    let iso = DateTime::from_timestamp_millis(e.at)
        .expect("time")
        .to_rfc3339();
    let shown_at = in_zone(&iso, -19800, "%Y-%m-%d %H:%M:%S%.3f");
    assert!(t.contains(&shown_at), "{shown_at} not in\n{t}");
    // u again: UTC.
    typ(&mut app, "u");
    assert_eq!(app.store.zone, Zone::Utc);
    assert!(screen(&app).contains("Time (UTC)"));
}
