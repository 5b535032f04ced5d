//! TUI responsiveness on 100,000 generated BitsInfo records (`cargo bench --bench tui`):
//! time to first frame, records flowing in through the worker channel, filter keystroke to
//! redraw (budget: median under 50 ms), sort (budget: under 100 ms), and memory.
//!
//! Frames are drawn on ratatui's TestBackend at 200×50, so the figures are the app's own
//! work (update + building the visible rows + rendering to a buffer), without terminal I/O.

use std::time::{Duration, Instant};

use bitscope::bits::model::{BitsInfo, FieldRange, Source, SourceKind};
use bitscope::tui::app::App;
use bitscope::tui::columns::Col;
use bitscope::tui::worker::{Envelope, Msg, BATCH};
use bitscope::tui::{ui, Options};
use bitscope::util::rng::Rng;
use bitscope::winsec::AccessControl;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const N: usize = 100_000;
const W: u16 = 200;
const H: u16 = 50;

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn pick<'a>(rng: &mut Rng, xs: &[&'a str]) -> &'a str {
    rng.pick(xs).copied().unwrap_or_default()
}

fn synth(n: usize) -> Vec<BitsInfo> {
    let mut rng = Rng::new(0x2545_f491_4f6c_dd1d);
    let hosts = [
        "https://download-installer.cdn.mozilla.net/pub/firefox/releases/110.0/update/win64/en-US/firefox-{}.partial.mar",
        "http://msedge.b.tlu.dl.delivery.mp.microsoft.com/filestreamingservice/files/{}?P1=1679173333&P2=404&P3=2&P4=bLBAsKngx2SMXz592a2evJVbaHGp8eIP4bFl",
        "https://dl.google.com/release2/chrome/{}/131.0.6778.86_chrome_installer.exe",
        "http://10.20.30.40:8080/payload/{}.ps1",
        "https://updates.example.org/agent/{}/setup.msi",
    ];
    let names = [
        "MozillaUpdate 308046B0AF4A39CB",
        "Chrome Component Updater",
        "Microsoft Edge Update",
        "WU Client Download",
        "SpeechModelDownloadJob",
        "updater",
    ];
    let owners = [
        "S-1-5-18",
        "S-1-5-20",
        "S-1-5-21-4066115557-1486886006-1773980413-1001",
        "S-1-5-19",
    ];
    let states = [
        "Queued",
        "Transferred",
        "Suspended",
        "Error",
        "Acknowledged",
    ];
    let acl = |sid: &str, account: &str| AccessControl {
        ace_type: "AccessAllowedAceType".into(),
        flags: vec![],
        access_rights: vec![
            "FileReadData".into(),
            "FileWriteData".into(),
            "Delete".into(),
        ],
        sid: sid.into(),
        account: account.into(),
        object_flags: "None".into(),
        object_type_guid: String::new(),
        inherited_object_type_guid: String::new(),
        mask: 0x1f01ff,
        type_code: 0,
        flag_bits: 0,
    };
    (0..n)
        .map(|i| {
            let id = rng.next_u64();
            let url = pick(&mut rng, &hosts).replace("{}", &format!("{id:016x}"));
            let owner = pick(&mut rng, &owners).to_string();
            let carved = rng.next_u64() % 10 < 3;
            let day = 1 + rng.next_u64() % 28;
            let sec = rng.next_u64() % 86_400;
            let created = format!(
                "2023-{:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
                1 + rng.next_u64() % 12,
                sec / 3600,
                sec / 60 % 60,
                sec % 60,
                rng.next_u64() % 1000
            );
            let source = |kind: &str, off: u64| Source {
                evidence: "/evidence/qmgr.db".into(),
                offset: off,
                length: 2048,
                kind: if kind == "carved" {
                    SourceKind::Carved
                } else {
                    SourceKind::Live
                },
                container: "ese:Jobs long value".into(),
                page: Some((off / 16384) as u32),
                tag: None,
                extents: vec![(off, 2048)],
                also_at: vec![],
                also_in: vec![],
                container_chain: vec![],
                extents_omitted: 0,
                in_evidence: None,
                fields: vec![
                    FieldRange {
                        name: "job marker",
                        offset: 0,
                        length: 16,
                    },
                    FieldRange {
                        name: "name",
                        offset: 48,
                        length: 66,
                    },
                ],
            };
            let kind = if carved { "carved" } else { "live" };
            let command = if rng.next_u64() % 50 == 0 {
                r"C:\Windows\System32\cmd.exe".to_string()
            } else {
                String::new()
            };
            BitsInfo {
                job_id: format!("{:08x}-0647-43cf-bd6b-{:012x}", i, id & 0xffff_ffff_ffff),
                file_id: format!("{:08x}-9979-4b37-a5aa-{:012x}", i, id >> 16),
                owner_account: bitscope::winsec::well_known_name(&owner)
                    .unwrap_or_default()
                    .to_string(),
                owner_sid: owner.clone(),
                created: created.clone(),
                modified: created.clone(),
                completed: created.clone(),
                expiration: created,
                bytes_downloaded: rng.next_u64() % 20_000_000,
                bytes_transferred: 20_000_000,
                job_name: format!("{} {i}", pick(&mut rng, &names)),
                job_description: "Background download".into(),
                job_command: command,
                job_type: "Download".into(),
                job_state: pick(&mut rng, &states).into(),
                priority: "Foreground".into(),
                flags: "Transferred | Error".into(),
                http_method: "GET".into(),
                full_path: format!(r"C:\ProgramData\Vendor\updates\{id:016x}\update.bin"),
                filename: "update.bin".into(),
                tmp_fullpath: format!(r"C:\ProgramData\Vendor\updates\{id:016x}\BIT{i:X}.tmp"),
                volume: r"\\?\Volume{c3693081-ccc2-4d8c-80df-6c0dd8f26709}\".into(),
                drive: r"C:\".into(),
                url,
                carved,
                acls: vec![
                    acl("S-1-5-18", "SYSTEM"),
                    acl("S-1-5-32-544", "Administrators"),
                ]
                .into(),
                additional_sids: vec![owner.clone(), owner],
                sddl: "O:SYG:SYD:(A;;KA;;;SY)(A;;KA;;;BA)".into(),
                job_source: Some(source(kind, 0x10000 + i as u64 * 2048)),
                file_source: Some(source(kind, 0x8000_0000 + i as u64 * 1024)),
                versions: 1,
                ..BitsInfo::default()
            }
        })
        .collect()
}

fn key(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rss0 = rss_kib("VmRSS:");
    let t = Instant::now();
    let records = synth(N);
    let synth_ms = ms(t.elapsed());
    let rss_records = rss_kib("VmRSS:");

    let mut term = Terminal::new(TestBackend::new(W, H)).expect("terminal");
    let mut draw = |app: &App| {
        term.draw(|f| {
            ui::draw(f, app);
        })
        .expect("draw");
    };

    // Time to first frame: the app and its first (empty) frame, before any record.
    let t = Instant::now();
    let mut app = App::new(Options::default());
    app.resize(W, H);
    draw(&app);
    let first_frame = ms(t.elapsed());

    // Records arrive as the worker sends them (batches of BATCH) and are pumped like the
    // event loop does, one frame per pump.
    let tx = app.sender();
    let generation = app.generation;
    let mut sent = Vec::new();
    let mut it = records.into_iter();
    loop {
        let b: Vec<BitsInfo> = it.by_ref().take(BATCH).collect();
        if b.is_empty() {
            break;
        }
        sent.push(b);
    }
    let n_batches = sent.len();
    let t = Instant::now();
    // The first batch alone: time until the first rows are on screen.
    let mut it = sent.into_iter();
    if let Some(b) = it.next() {
        let _ = tx.send(Envelope {
            generation,
            msg: Msg::Records(b),
        });
    }
    app.pump();
    draw(&app);
    let first_rows = ms(t.elapsed());
    for b in it {
        let _ = tx.send(Envelope {
            generation,
            msg: Msg::Records(b),
        });
    }
    let mut pumps = 0;
    while app.pump() {
        draw(&app);
        pumps += 1;
    }
    let ingest = ms(t.elapsed());
    assert_eq!(app.store.recs.len(), N);
    let rss_loaded = rss_kib("VmRSS:");

    // Filter keystroke → redraw.
    let mut per_key = Vec::new();
    let mut log = Vec::new();
    key(&mut app, KeyCode::Char('/'));
    for (label, text) in [("url:mozilla", "url:mozilla"), ("firefox", "firefox")] {
        for c in text.chars() {
            let t = Instant::now();
            key(&mut app, KeyCode::Char(c));
            draw(&app);
            let d = ms(t.elapsed());
            per_key.push(d);
            log.push(format!(
                "{label}: +{c:?} {d:.1} ms ({} rows)",
                app.store.view(app.view).shown.len()
            ));
        }
        // Clear the line (a widening change: every record is tested again).
        let t = Instant::now();
        app.handle_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        draw(&app);
        let d = ms(t.elapsed());
        per_key.push(d);
        log.push(format!("{label}: Ctrl-U {d:.1} ms"));
    }
    // Backspace over a term (widening at each key).
    for c in "update".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    draw(&app);
    for _ in 0..6 {
        let t = Instant::now();
        key(&mut app, KeyCode::Backspace);
        draw(&app);
        per_key.push(ms(t.elapsed()));
    }
    key(&mut app, KeyCode::Enter);
    let filter_median = median(per_key.clone());
    let filter_max = per_key.iter().cloned().fold(0.0, f64::max);

    // Sort by created (both ways), URL, name — each key → redraw.
    let mut sorts = Vec::new();
    for (col, flips) in [
        (Col::Created, 2),
        (Col::Url, 1),
        (Col::Name, 1),
        (Col::Owner, 1),
    ] {
        let pos = app
            .view
            .columns()
            .iter()
            .position(|c| *c == col)
            .expect("column");
        app.store.view_mut(app.view).col_cursor = pos;
        for _ in 0..flips {
            let t = Instant::now();
            key(&mut app, KeyCode::Char('s'));
            draw(&app);
            sorts.push((format!("{col:?}"), ms(t.elapsed())));
        }
    }
    let sort_max = sorts.iter().map(|s| s.1).fold(0.0, f64::max);

    // Scrolling a page.
    let t = Instant::now();
    for _ in 0..100 {
        key(&mut app, KeyCode::PageDown);
        draw(&app);
    }
    let page = ms(t.elapsed()) / 100.0;

    let verdict = |ok: bool| if ok { "ok" } else { "OVER BUDGET" };
    println!("bitscope TUI bench: {N} records, {W}x{H} TestBackend");
    println!("  synthesize records                {synth_ms:>9.1} ms");
    println!("  time to first frame (empty)       {first_frame:>9.2} ms");
    println!("  first {BATCH} records on screen      {first_rows:>9.2} ms");
    println!("  all {N} records in ({n_batches} batches, {pumps} pumps+frames) {ingest:>9.1} ms");
    println!(
        "  filter keystroke→redraw median    {filter_median:>9.2} ms  (max {filter_max:.1} ms; budget 50 ms median: {})",
        verdict(filter_median < 50.0)
    );
    for l in &log {
        println!("      {l}");
    }
    for (c, d) in &sorts {
        println!("  sort by {c:<8} key→redraw       {d:>9.1} ms");
    }
    println!(
        "  sort worst                        {sort_max:>9.1} ms  (budget 100 ms: {})",
        verdict(sort_max < 100.0)
    );
    println!("  page down key→redraw              {page:>9.2} ms");
    println!(
        "  memory: {N} records {:.0} MiB; app overhead (search text, views) {:.0} MiB; peak RSS {:.0} MiB",
        (rss_records.saturating_sub(rss0)) as f64 / 1024.0,
        (rss_loaded.saturating_sub(rss_records)) as f64 / 1024.0,
        rss_kib("VmHWM:") as f64 / 1024.0
    );
}
