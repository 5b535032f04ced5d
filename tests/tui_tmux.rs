//! End to end: the real `bitscope PATH` in a real terminal (tmux), driven by keys — filter,
//! select, export, quit — with the screen read back by `capture-pane`. Checks the exported
//! file and that the terminal is restored on exit (main screen, cooked mode, cursor shown).
//!
//! Skips (with a notice) when tmux is missing; fails under CI=true (.ci/run installs it).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A private tmux server (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> Output {
        // The explorer remembers columns in the user's config folder: a private one here,
        // so the tests neither read nor write the developer's.
        let config = common::manifest_dir()
            .join("target/scratch")
            .join(format!("xdg-{}", self.socket));
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .env("XDG_CONFIG_HOME", &config)
            .output()
            .expect("running tmux")
    }

    fn capture(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }

    fn send(&self, keys: &[&str]) {
        for k in keys {
            let out = self.cmd(&["send-keys", "-t", "e2e", k]);
            assert!(out.status.success(), "send-keys {k}: {out:?}");
            // One key at a time, as typed: a lone Esc must not merge with what follows.
            sleep(Duration::from_millis(80));
        }
    }

    fn send_text(&self, text: &str) {
        let out = self.cmd(&["send-keys", "-t", "e2e", "-l", text]);
        assert!(out.status.success(), "send-keys -l {text}: {out:?}");
        sleep(Duration::from_millis(80));
    }

    fn display(&self, fmt: &str) -> String {
        String::from_utf8_lossy(
            &self
                .cmd(&["display-message", "-p", "-t", "e2e", fmt])
                .stdout,
        )
        .trim()
        .to_string()
    }

    /// Wait until the screen holds `needle`; returns the screen.
    fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if screen.contains(needle) {
                return screen;
            }
            if start.elapsed() > timeout {
                panic!("timed out waiting for {needle:?}; screen:\n{screen}");
            }
            sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Does a line of the screen show `value` whole, or its start and end (four characters at
/// least of each) with `…` between?
fn whole_or_elided(screen: &str, value: &str) -> bool {
    let chars: Vec<char> = value.chars().collect();
    screen.lines().any(|l| {
        l.contains(value)
            || (4..chars.len()).any(|k| {
                (4..chars.len() - k).any(|j| {
                    let head: String = chars[..k].iter().collect();
                    let tail: String = chars[chars.len() - j..].iter().collect();
                    l.contains(&format!("{head}…{tail}"))
                })
            })
    })
}

fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

#[test]
fn real_binary_in_tmux_filter_select_export_quit() {
    if !tmux_available() {
        common::skip("tmux is not installed (the end-to-end TUI test needs it)");
        return;
    }
    let Some(sample) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let dir: PathBuf = common::scratch_dir("tmux");
    let export = dir.join("export.json");

    let tmux = Tmux {
        socket: format!("bitscope-e2e-{}", std::process::id()),
    };
    let script = open_then_report(&sample);
    let out = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        "150",
        "-y",
        "40",
        "-c",
        &dir.display().to_string(),
        "sh",
        "-c",
        &script,
    ]);
    assert!(out.status.success(), "tmux new-session: {out:?}");

    // The first frame, then the finished load.
    let screen = tmux.wait_for("bitscope", Duration::from_secs(20));
    assert!(screen.contains("Jobs"), "{screen}");
    let screen = tmux.wait_for("done:", Duration::from_secs(60));
    // The job name column is cut (with …) once the evidence column takes its share of 150.
    assert!(screen.contains("MozillaUpda"), "{screen}");
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "1",
        "TUI runs on the alternate screen"
    );

    // Filter: rows view, URLs with "msedge" (carved file records only).
    tmux.send(&["Tab", "Tab", "/"]);
    tmux.send_text("url:msedge");
    let screen = tmux.wait_for("/url:msedge", Duration::from_secs(5));
    assert!(screen.contains("http://msedge"), "{screen}");
    tmux.send(&["Enter"]);
    let screen = tmux.wait_for("filter url:msedge", Duration::from_secs(5));
    assert!(!screen.contains("https://download-installer"), "{screen}");

    // Select: mark the first two rows.
    tmux.send(&["Space", "Space"]);
    tmux.wait_for("2 marked", Duration::from_secs(5));

    // Export to a typed path (relative to the pane's folder).
    tmux.send(&["e"]);
    tmux.wait_for("export to:", Duration::from_secs(5));
    tmux.send(&["C-u"]);
    tmux.send_text("export.json");
    tmux.send(&["Enter"]);
    // The message names the full path, not the one typed.
    tmux.wait_for(
        &format!("exported 2 records as JSON to {}", export.display()),
        Duration::from_secs(10),
    );

    // Detail and hex of the selection, then back and quit.
    // An orphan file's detail is longer than the window: End reaches its provenance.
    tmux.send(&["Enter"]);
    tmux.wait_for("── File", Duration::from_secs(5));
    tmux.send(&["End"]);
    tmux.wait_for("Provenance", Duration::from_secs(5));
    tmux.send(&["x"]);
    tmux.wait_for("Inspector", Duration::from_secs(5));
    tmux.send(&["Escape"]);
    tmux.send(&["Escape"]);
    tmux.send(&["q"]);
    let screen = tmux.wait_for("BITSCOPE-EXIT=", Duration::from_secs(10));
    assert!(screen.contains("BITSCOPE-EXIT=0"), "{screen}");

    // The terminal is restored: main screen, no TUI left on it, cooked mode with echo.
    assert_terminal_restored(&tmux, "e2e", &screen);
    assert_cooked_mode(&tmux, "e2e");

    // The exported file: a JSON array of exactly the two marked msedge records.
    let v: Value =
        serde_json::from_slice(&std::fs::read(&export).expect("exported file")).expect("json");
    let arr = v.as_array().expect("array");
    assert_eq!(arr.len(), 2);
    for r in arr {
        assert!(
            r["url"].as_str().is_some_and(|u| u.contains("msedge")),
            "{r}"
        );
        assert_eq!(r["carved"], true);
    }
    drop(tmux);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Start `script` (sh) in a 100x30 tmux pane of a private server; the caller checks the
/// pane. Returns None (after a notice) without tmux.
fn session(name: &str, script: &str) -> Option<Tmux> {
    session_sized(name, script, 100, 30)
}

/// [`session`] in a pane of `w`×`h`.
fn session_sized(name: &str, script: &str, w: u16, h: u16) -> Option<Tmux> {
    if !tmux_available() {
        common::skip("tmux is not installed (the end-to-end TUI test needs it)");
        return None;
    }
    let tmux = Tmux {
        socket: format!("bitscope-{name}-{}", std::process::id()),
    };
    let out = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        &w.to_string(),
        "-y",
        &h.to_string(),
        "sh",
        "-c",
        script,
    ]);
    assert!(out.status.success(), "tmux new-session: {out:?}");
    Some(tmux)
}

#[test]
fn ctrl_c_exits_130_and_restores_the_terminal() {
    let sample = common::manifest_dir().join("testdata/legacy/win7-deleted.qmgr0.dat");
    let script = format!(
        "{} {}; echo BITSCOPE-EXIT=$?; sleep 60",
        shell_quote(&common::bitscope_bin()),
        shell_quote(&sample),
    );
    let Some(tmux) = session("ctrlc", &script) else {
        return;
    };
    tmux.wait_for("done:", Duration::from_secs(30));
    tmux.send(&["C-c"]);
    let screen = tmux.wait_for("BITSCOPE-EXIT=", Duration::from_secs(10));
    assert!(screen.contains("BITSCOPE-EXIT=130"), "{screen}");
    assert_terminal_restored(&tmux, "ctrl-c", &screen);
}

#[test]
fn a_path_that_cannot_be_read_is_one_line_before_the_terminal_is_taken() {
    let empty = common::scratch_dir("empty");
    let name = PathBuf::from(empty.file_name().expect("a name"));
    for (k, (what, path)) in [
        ("missing", PathBuf::from("/nonexistent/qmgr.db")),
        ("no queue files", name),
    ]
    .into_iter()
    .enumerate()
    {
        // Relative to the scratch folder, so the message fits on one line of the pane.
        let script = format!(
            "cd {} && {} {}; echo BITSCOPE-EXIT=$?; sleep 60",
            shell_quote(empty.parent().expect("a parent")),
            shell_quote(&common::bitscope_bin()),
            shell_quote(&path),
        );
        // A server of its own each time: the last one may still be shutting down.
        let Some(tmux) = session(&format!("badpath{k}"), &script) else {
            return;
        };
        let screen = tmux.wait_for("BITSCOPE-EXIT=", Duration::from_secs(10));
        assert!(screen.contains("BITSCOPE-EXIT=1"), "{what}: {screen}");
        let lines: Vec<&str> = screen.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(
            lines.len(),
            2,
            "{what}: one error line, then the exit: {screen}"
        );
        assert!(lines[0].starts_with("bitscope: "), "{what}: {screen}");
        assert!(!screen.contains("Jobs"), "{what}: no frame drawn: {screen}");
    }
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn demo_opens_shows_the_persistence_job_and_cleans_up() {
    if !tmux_available() {
        common::skip("tmux is not installed (the end-to-end TUI test needs it)");
        return;
    }
    // The demo's private folder goes under TMPDIR: a scratch folder, to see it come and go.
    let tmp = common::scratch_dir("demo");
    let tmux = Tmux {
        socket: format!("bitscope-demo-{}", std::process::id()),
    };
    // An interactive shell with a known prompt: after `q` the prompt must come back.
    let shell = format!("env PS1='demo-prompt$ ' TMPDIR={} sh -i", shell_quote(&tmp));
    let out = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        "150",
        "-y",
        "40",
        &shell,
    ]);
    assert!(out.status.success(), "tmux new-session: {out:?}");
    tmux.wait_for("demo-prompt$", Duration::from_secs(10));
    tmux.send_text(&format!(
        "{} demo; echo BITSCOPE-EXIT=$?",
        shell_quote(&common::bitscope_bin())
    ));
    tmux.send(&["Enter"]);

    // Both hosts' records, told apart by the evidence column.
    let screen = tmux.wait_for("done:", Duration::from_secs(20));
    assert!(
        screen.contains("done: 20 records (14 live, 6 carved)"),
        "{screen}"
    );
    for host in ["WKS-FINANCE-07/", "SRV-FILE-01/"] {
        assert!(screen.contains(host), "{host}: {screen}");
    }
    // Columns too narrow for a value show its start and its end (issue 22: elided in the
    // middle, never cut at the end).
    assert!(whole_or_elided(&screen, "MicrosoftEdgeUpdate"), "{screen}");
    // The evidence sits in one private folder while the explorer runs.
    let inside: Vec<PathBuf> = std::fs::read_dir(&tmp)
        .expect("tmp")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(inside.len(), 1, "{inside:?}");
    let name = inside[0].file_name().expect("name").to_string_lossy();
    assert!(name.starts_with("bitscope-demo-"), "{name}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&inside[0])
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    // `!`: the persistence job (raw IP, odd port, notify command) stays, the stock Edge
    // updater goes.
    tmux.send(&["!"]);
    let screen = tmux.wait_for("[suspicious only]", Duration::from_secs(5));
    assert!(
        whole_or_elided(&screen, "http://203.0.113.7:8080/update.exe"),
        "{screen}"
    );
    assert!(
        whole_or_elided(&screen, "Windows Update Helper"),
        "{screen}"
    );
    assert!(!whole_or_elided(&screen, "MicrosoftEdgeUpdate"), "{screen}");

    // The timeline of the persistence job (filtered by its URL): its set times in order,
    // as `parse` gives them (tests/demo.rs asserts created 2026-03-03T13:16:38Z).
    tmux.send(&["/"]);
    tmux.send_text("url:203.0.113.7:8080");
    tmux.send(&["Enter", "T"]);
    let screen = tmux.wait_for("URL or file", Duration::from_secs(5));
    let created = screen
        .lines()
        .position(|l| l.contains("2026-03-03 13:16:38") && l.contains("created"));
    let modified = screen.lines().position(|l| l.contains("modified"));
    assert!(
        created.is_some() && modified.is_some() && created < modified,
        "{screen}"
    );
    assert!(screen.contains("203.0.113.7:8080"), "{screen}");
    tmux.send(&["T"]);

    tmux.send(&["q"]);
    let screen = tmux.wait_for("BITSCOPE-EXIT=", Duration::from_secs(10));
    assert!(screen.contains("BITSCOPE-EXIT=0"), "{screen}");
    // The terminal is back: main screen, cursor shown, no frame left, the prompt again.
    assert_terminal_restored(&tmux, "demo", &screen);
    let start = Instant::now();
    loop {
        let screen = tmux.capture();
        let last = screen.lines().rev().find(|l| !l.trim().is_empty());
        if last.is_some_and(|l| l.starts_with("demo-prompt$")) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no prompt: {screen}"
        );
        sleep(Duration::from_millis(100));
    }
    // And the temporary evidence is gone.
    let left: Vec<_> = std::fs::read_dir(&tmp).expect("tmp").collect();
    assert!(left.is_empty(), "{left:?}");
    drop(tmux);
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn demo_interrupted_exits_130_and_still_cleans_up() {
    let tmp = common::scratch_dir("demo-ctrlc");
    let script = format!(
        "TMPDIR={} {} demo; echo BITSCOPE-EXIT=$?; sleep 60",
        shell_quote(&tmp),
        shell_quote(&common::bitscope_bin()),
    );
    let Some(tmux) = session("democtrlc", &script) else {
        return;
    };
    tmux.wait_for("done:", Duration::from_secs(30));
    assert_eq!(std::fs::read_dir(&tmp).expect("tmp").count(), 1);
    tmux.send(&["C-c"]);
    let screen = tmux.wait_for("BITSCOPE-EXIT=", Duration::from_secs(10));
    assert!(screen.contains("BITSCOPE-EXIT=130"), "{screen}");
    let left: Vec<_> = std::fs::read_dir(&tmp).expect("tmp").collect();
    assert!(left.is_empty(), "{left:?}");
    drop(tmux);
    let _ = std::fs::remove_dir_all(&tmp);
}

// ---------------------------------------------------------------------------------------------
// Hostile text and the timeline, in generated databases
// ---------------------------------------------------------------------------------------------

/// FILETIME of a Unix time in seconds.
fn filetime(unix: u64) -> u64 {
    (unix + 11_644_473_600) * 10_000_000
}

/// A qmgr.db (written to `dir/name.db`) holding one job per (name, URL) given, each with one
/// file, the rest of each job as the generator draws it.
fn generated_db(dir: &Path, name: &str, jobs: &[(&str, &str)]) -> PathBuf {
    use bitscope::gen::blobs::{random_job, Machine};
    use bitscope::gen::rng::Rng;
    let mut rng = Rng::new(7);
    let machine = Machine::random(&mut rng);
    let jobs: Vec<_> = jobs
        .iter()
        .map(|&(job_name, url)| {
            let mut j = random_job(&mut rng, &machine, 1);
            j.job.name = job_name.to_string();
            j.job.description = job_name.to_string();
            if let Some(f) = j.files.first_mut() {
                f.url = url.to_string();
                f.destination = format!(r"C:\Users\Public\{job_name}");
            }
            j
        })
        .collect();
    let db = bitscope::gen::qmgr_db::generate_jobs(7, machine.now, &jobs, &[]).expect("generate");
    let path = dir.join(format!("{name}.db"));
    std::fs::write(&path, db.bytes).expect("write the database");
    path
}

/// Run bitscope on `path` in tmux, wait for the load to finish, run `keys` (each a list of
/// tmux keys, then a text the screen must then hold), quit, and check the terminal is back.
/// Returns every screen seen.
fn open_check_quit(name: &str, path: &Path, steps: &[(&[&str], &str)]) -> Vec<String> {
    let Some(tmux) = session(name, &open_then_report(path)) else {
        return Vec::new();
    };
    let mut screens = vec![tmux.wait_for("done:", Duration::from_secs(30))];
    for (keys, expect) in steps {
        tmux.send(keys);
        screens.push(tmux.wait_for(expect, Duration::from_secs(10)));
    }
    // A hostile string cannot retitle the window or leave the screen other than drawn.
    assert!(!tmux.display("#{pane_title}").contains("pwned"), "{name}");
    tmux.send(&["q"]);
    let end = tmux.wait_for("BITSCOPE-EXIT=", Duration::from_secs(10));
    assert!(end.contains("BITSCOPE-EXIT=0"), "{name}: {end}");
    assert_terminal_restored(&tmux, name, &end);
    assert_cooked_mode(&tmux, name);
    screens
}

/// bitscope on `path`; after it exits, the same shell prints its exit code and the terminal's
/// mode: `stty -a` shows `icanon` and `echo` (not `-icanon`, `-echo`) once raw mode is undone.
fn open_then_report(path: &Path) -> String {
    format!(
        "{} {}; echo BITSCOPE-EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo; sleep 60",
        shell_quote(&common::bitscope_bin()),
        shell_quote(path),
    )
}

/// After bitscope quit (`end`: the screen then): the main screen, the cursor shown, no frame
/// of the explorer left on it.
fn assert_terminal_restored(tmux: &Tmux, name: &str, end: &str) {
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "0",
        "{name}: alternate screen left on"
    );
    assert_eq!(tmux.display("#{cursor_flag}"), "1", "{name}: cursor hidden");
    assert!(
        !end.contains("Inspector") && !end.contains("Jobs"),
        "{name}: the TUI left on the screen: {end}"
    );
}

/// Cooked mode and echo are back, as [`open_then_report`]'s `stty` line shows.
fn assert_cooked_mode(tmux: &Tmux, name: &str) {
    let modes = tmux.wait_for("icanon", Duration::from_secs(5));
    assert!(
        modes.contains("icanon") && !modes.contains("-icanon"),
        "{name}: raw mode left on:\n{modes}"
    );
    assert!(!modes.contains("-echo "), "{name}: echo left off:\n{modes}");
}

/// No raw control, bidi or invisible character in what the pane shows.
fn assert_no_raw(name: &str, screens: &[String]) {
    for s in screens {
        let raw: Vec<char> = s
            .chars()
            .filter(|&c| c != '\n' && bitscope::tui::display::is_hidden(c))
            .collect();
        assert!(raw.is_empty(), "{name}: raw {raw:?} on screen:\n{s}");
    }
}

/// A hostile queue: its name, its jobs (name, URL), and what the table or the detail must
/// show for it (escaped).
type HostileCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

#[test]
fn hostile_text_queues_open_finish_and_quit_cleanly() {
    if !tmux_available() {
        common::skip("tmux is not installed (the end-to-end TUI test needs it)");
        return;
    }
    let dir = common::scratch_dir("hostile-text");
    let long = "L".repeat(10_000);
    let long_url = format!("http://long.example/{}", "u".repeat(10_000));
    let cases: [HostileCase; 5] = [
        (
            "escapes",
            vec![(
                "esc\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[31mred",
                "http://e.example/\u{1b}[1mbold",
            )],
            "esc\\x1b]0;pwned",
        ),
        (
            "bidi",
            vec![(
                "invoice\u{202e}fdp.exe",
                "http://b.example/\u{2067}x\u{2069}",
            )],
            "invoice\\u{202e}fdp.exe",
        ),
        (
            "zero-width",
            vec![(
                "zero\u{200b}width\u{feff}job\u{200d}",
                "http://z\u{200b}.example/",
            )],
            "zero\\u{200b}width",
        ),
        ("long", vec![(long.as_str(), long_url.as_str())], "LLLLLLLL"),
        (
            "idn",
            vec![
                ("idn books", "http://bücher.de/katalog.zip"),
                ("idn accent", "http://aé.example/x"),
            ],
            "http://bücher.de/katalog.zip",
        ),
    ];
    for (name, jobs, shows) in &cases {
        let db = generated_db(&dir, name, jobs);
        // The table, the detail of the first job, its hex view, the timeline.
        let screens = open_check_quit(
            &format!("hostile-{name}"),
            &db,
            &[
                (&["Tab", "Tab"], "Rows"),
                (&["Enter"], "── Job"),
                (&["x"], "Inspector"),
                (&["Escape", "Escape", "T"], "Events per day"),
            ],
        );
        if screens.is_empty() {
            return;
        }
        assert!(
            screens.iter().any(|s| s.contains(shows)),
            "{name}: {shows:?} not shown:\n{}",
            screens.join("\n")
        );
        assert_no_raw(name, &screens);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn timeline_in_the_real_binary_shows_a_known_jobs_events() {
    if !tmux_available() {
        common::skip("tmux is not installed (the end-to-end TUI test needs it)");
        return;
    }
    use bitscope::gen::blobs::{random_job, Machine};
    use bitscope::gen::rng::Rng;
    let dir = common::scratch_dir("timeline");
    let mut rng = Rng::new(11);
    let machine = Machine::random(&mut rng);
    let mut known = random_job(&mut rng, &machine, 1);
    known.job.name = "Known timeline job".into();
    known.job.created = filetime(1_704_164_645); // 2024-01-02 03:04:05
    known.job.modified = filetime(1_704_164_705); // 2024-01-02 03:05:05
    known.job.completed = 0; // never completed: no event
    known.job.expiration = filetime(1_711_940_645); // 2024-04-01 03:04:05
    let other = random_job(&mut rng, &machine, 1);
    let db = bitscope::gen::qmgr_db::generate_jobs(11, machine.now, &[known, other], &[])
        .expect("generate");
    let path = dir.join("known.db");
    std::fs::write(&path, db.bytes).expect("write");
    let screens = open_check_quit(
        "timeline",
        &path,
        &[
            (&["T"], "Events per day"),
            (&["g"], "Known timeline job"),
            // Enter on an event opens its record's detail.
            (&["Enter"], "── Job"),
        ],
    );
    let Some(timeline) = screens.get(2) else {
        return;
    };
    let lines: Vec<&str> = timeline
        .lines()
        .filter(|l| l.contains("Known timeline job"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("2024-01-02 03:04:05.000 created")),
        "{timeline}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("2024-01-02 03:05:05.000 modified")),
        "{timeline}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("2024-04-01 03:04:05.000 expires")),
        "{timeline}"
    );
    assert!(!lines.iter().any(|l| l.contains("completed")), "{timeline}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `bitscope parse [--carve] PATH --format jsonl`: (live, carved) record counts.
fn parse_counts(path: &Path, carve: bool) -> (usize, usize) {
    let mut args = vec![
        "parse".to_string(),
        path.display().to_string(),
        "--format".into(),
        "jsonl".into(),
    ];
    if carve {
        args.push("--carve".into());
    }
    let out = common::run_bitscope(&args);
    assert!(out.status.success(), "{out:?}");
    let (mut live, mut carved) = (0, 0);
    for line in String::from_utf8(out.stdout).expect("utf-8").lines() {
        let r: Value = serde_json::from_str(line).expect("a JSON line");
        match r["carved"].as_bool() {
            Some(true) => carved += 1,
            _ => live += 1,
        }
    }
    (live, carved)
}

/// The names in the Host column of a table on screen: the cells under the `Host` title.
fn host_column(screen: &str) -> std::collections::BTreeSet<String> {
    let lines: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let title = lines
        .iter()
        .position(|l| String::from_iter(l).contains(" Host "))
        .expect("a Host column title");
    let at = String::from_iter(&lines[title])
        .split(" Host ")
        .next()
        .map_or(0, |before| before.chars().count() + 1);
    lines[title + 1..]
        .iter()
        .map_while(|l| {
            let cell: String = l.iter().skip(at).take_while(|c| **c != ' ').collect();
            (!cell.is_empty()).then_some(cell)
        })
        .collect()
}

/// `bitscope A B` (and `--no-carve A B`): one explorer on both host folders of the demo,
/// holding exactly the records `bitscope parse` finds in each, the header naming the first
/// path and "+1 more", the Evidence column both hosts, the Host column both names, the host
/// summary (`H`) each host's records.
#[test]
fn several_paths_open_in_one_explorer() {
    if !tmux_available() {
        common::skip("tmux is not installed (the end-to-end TUI test needs it)");
        return;
    }
    let dir = common::scratch_dir("multi");
    let demo = dir.join("demo");
    let out = common::run_bitscope([Path::new("demo"), Path::new("--write"), &demo]);
    assert!(out.status.success(), "{out:?}");
    let hosts = [demo.join("WKS-FINANCE-07"), demo.join("SRV-FILE-01")];
    for (k, carve) in [true, false].into_iter().enumerate() {
        let (mut live, mut carved) = (0, 0);
        for h in &hosts {
            let (l, c) = parse_counts(h, carve);
            assert!(l > 0, "{}: no live records", h.display());
            live += l;
            carved += c;
        }
        let flag = if carve { "" } else { "--no-carve " };
        let script = format!(
            "cd {} && {} {flag}{} {}; echo BITSCOPE-EXIT=$?; sleep 60",
            shell_quote(&demo),
            shell_quote(&common::bitscope_bin()),
            "WKS-FINANCE-07",
            "SRV-FILE-01",
        );
        // Wide enough for the Evidence column.
        let Some(tmux) = session_sized(&format!("multi{k}"), &script, 150, 40) else {
            return;
        };
        let screen = tmux.wait_for("done:", Duration::from_secs(30));
        // Without --carve, parse finds no carved record and the explorer says 0 carved.
        let want = format!(
            "done: {} records ({live} live, {carved} carved)",
            live + carved
        );
        eprintln!("carve={carve}: parse of each host sums to {live} live, {carved} carved");
        assert!(screen.contains(&want), "{want}: {screen}");
        assert!(screen.contains("WKS-FINANCE-07 +1 more"), "{screen}");
        for host in ["WKS-FINANCE-07/", "SRV-FILE-01/"] {
            assert!(screen.contains(host), "{host}: {screen}");
        }
        // The Host column names both hosts (read under its title, not in the Evidence
        // column's paths).
        let seen = host_column(&screen);
        assert_eq!(
            seen,
            ["SRV-FILE-01", "WKS-FINANCE-07"].map(String::from).into(),
            "{screen}"
        );
        // `H`: the host summary lists both, with the records parse found in each.
        tmux.send(&["H"]);
        let summary = tmux.wait_for("2 hosts", Duration::from_secs(10));
        for h in &hosts {
            let name = h.file_name().expect("a name").to_string_lossy();
            let (l, c) = parse_counts(h, carve);
            assert!(
                summary
                    .lines()
                    .any(|line| line.contains(&*name) && line.contains(&format!(" {} ", l + c))),
                "{name}: {} records: {summary}",
                l + c
            );
        }
        tmux.send(&["Escape"]);
        tmux.send(&["q"]);
        let end = tmux.wait_for("BITSCOPE-EXIT=", Duration::from_secs(10));
        assert!(end.contains("BITSCOPE-EXIT=0"), "{end}");
        assert_terminal_restored(&tmux, "multi", &end);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The demo's records as `bitscope parse --carve` gives them (the demo writes the same
/// evidence every run: tests/demo.rs `two_runs_write_the_same_bytes`).
fn demo_records() -> Vec<Value> {
    let dir = common::scratch_dir("demo-story");
    let demo = dir.join("demo");
    let out = common::run_bitscope([Path::new("demo"), Path::new("--write"), &demo]);
    assert!(out.status.success(), "{out:?}");
    let out = common::run_bitscope([
        Path::new("parse"),
        Path::new("--carve"),
        &demo,
        Path::new("--format"),
        Path::new("jsonl"),
    ]);
    assert!(out.status.success(), "{out:?}");
    let records = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    records
}

/// `bitscope demo` in tmux, `filter` applied to the jobs table and the first row's detail
/// opened: the detail pane's text, page after page until its last section (warnings).
fn demo_detail(name: &str, filter: &str) -> Option<String> {
    let tmp = common::scratch_dir(name);
    let script = format!(
        "TMPDIR={} {} demo; echo BITSCOPE-EXIT=$?; sleep 60",
        shell_quote(&tmp),
        shell_quote(&common::bitscope_bin())
    );
    let tmux = session_sized(name, &script, 220, 50)?;
    tmux.wait_for("done:", Duration::from_secs(20));
    tmux.send(&["/"]);
    tmux.send_text(filter);
    tmux.send(&["Enter"]);
    tmux.wait_for("jobs shown", Duration::from_secs(5));
    tmux.send(&["Enter"]);
    let mut pages = tmux.wait_for("── Job", Duration::from_secs(5));
    for _ in 0..8 {
        if pages.contains("── Warnings") {
            break;
        }
        tmux.send(&["PageDown"]);
        pages.push_str(&tmux.capture());
    }
    tmux.send(&["q"]);
    let end = tmux.wait_for("BITSCOPE-EXIT=", Duration::from_secs(10));
    assert!(end.contains("BITSCOPE-EXIT=0"), "{end}");
    drop(tmux);
    let _ = std::fs::remove_dir_all(&tmp);
    Some(pages)
}

fn text_of<'a>(r: &'a Value, field: &str) -> &'a str {
    r[field].as_str().unwrap_or("")
}

/// Issue 19 (must show 4): in `bitscope demo`, the persistence job's detail shows its creating
/// process (event 3's), its account name (from the host's SAM) and its payload (URL and local
/// path); the deleted first-stage job's detail shows the carved file record the story linked
/// to it. Every expected value is `bitscope parse --carve`'s reading of the same evidence.
#[test]
fn demo_detail_tells_the_persistence_jobs_story_and_the_deleted_jobs_file() {
    if !tmux_available() {
        common::skip("tmux is not installed (the end-to-end TUI test needs it)");
        return;
    }
    let records = demo_records();
    let story = |r: &Value, what: &str| -> Value {
        r["story"]
            .as_array()
            .and_then(|s| {
                s.iter()
                    .find(|f| text_of(f, "what").starts_with(what))
                    .cloned()
            })
            .unwrap_or(Value::Null)
    };

    // The persistence job: live, its raw-IP URL (the `!` rows of the test above).
    let job = records
        .iter()
        .find(|r| r["carved"] != true && text_of(r, "url") == "http://203.0.113.7:8080/update.exe")
        .expect("the persistence job");
    let process = story(job, "job created (event 3)");
    let process = text_of(&process, "value");
    let account = text_of(job, "owner_account");
    let from = story(job, "owner account");
    let (url, path) = (text_of(job, "url"), text_of(job, "full_path"));
    assert!(process.ends_with("powershell.exe"), "{job}");
    assert_eq!(text_of(&from, "source"), "SAM", "{job}");
    assert!(!account.is_empty() && !path.is_empty(), "{job}");

    let Some(screen) = demo_detail("demo-persist", &format!("id:{}", text_of(job, "job_id")))
    else {
        return;
    };
    let line_with = |needles: &[&str]| {
        screen
            .lines()
            .any(|l| needles.iter().all(|n| l.contains(n)))
    };
    assert!(line_with(&["url", url]), "payload url {url}:\n{screen}");
    assert!(
        line_with(&["local path", path]),
        "payload {path}:\n{screen}"
    );
    assert!(
        line_with(&["account", account, "(from SAM)"]),
        "account {account}:\n{screen}"
    );
    assert!(
        line_with(&["job created (event 3)", "event log"]),
        "{screen}"
    );
    assert!(
        line_with(&[&format!("process {process}")]),
        "creating process {process}:\n{screen}"
    );

    // The deleted first-stage job: a carved job record whose file record (carved, no job
    // lists it any more) the story tied to it by its transfer events' URL.
    let file = records
        .iter()
        .find(|r| {
            r["carved"] == true && r["job_source"].is_null() && !story(r, "file of job").is_null()
        })
        .expect("the carved file linked to its job");
    let id = text_of(file, "job_id");
    assert_eq!(
        text_of(file, "url"),
        "http://198.51.100.23:8443/stage1.ps1",
        "{file}"
    );
    let deleted = records
        .iter()
        .find(|r| text_of(r, "job_id") == id && r["job_source"]["kind"] == "carved")
        .expect("the deleted job's carved record");
    assert_eq!(deleted["carved"], true, "{deleted}");
    let Some(screen) = demo_detail("demo-deleted", &format!("id:{id}")) else {
        return;
    };
    let line_with = |needles: &[&str]| {
        screen
            .lines()
            .any(|l| needles.iter().all(|n| l.contains(n)))
    };
    assert!(line_with(&["CARVED"]), "{screen}");
    assert!(line_with(&["job id", id]), "{screen}");
    assert!(
        line_with(&["Files of this job in other records (1)"]),
        "{screen}"
    );
    assert!(line_with(&["carved file record"]), "{screen}");
    assert!(
        line_with(&["url", text_of(file, "url")]),
        "linked file's url:\n{screen}"
    );
    assert!(
        line_with(&["local path", text_of(file, "full_path")]),
        "linked file's path:\n{screen}"
    );
    assert!(line_with(&["linked by", "url"]), "{screen}");
}

/// The line of `screen` holding the table's column titles (`URL` among them).
fn header_line(screen: &str) -> String {
    screen
        .lines()
        .find(|l| l.contains("URL") && !l.contains("http"))
        .unwrap_or_default()
        .to_string()
}

/// Issue 22, Must show 3: a case saved with `w` and reopened with `--case` gives the same
/// filter, marks, note and columns (in a pane whose settings folder is new: the columns
/// come from the case, not from what the explorer remembers).
#[test]
fn a_saved_case_reopens_with_its_filter_marks_note_and_columns() {
    let Some(sample) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let dir = common::scratch_dir("case-e2e");
    let case = dir.join("my case.json");
    let script = format!(
        "cd {} && {} {}; echo BITSCOPE-EXIT=$?; sleep 60",
        shell_quote(&dir),
        shell_quote(&common::bitscope_bin()),
        shell_quote(&sample),
    );
    let Some(tmux) = session_sized("case-save", &script, 150, 40) else {
        return;
    };
    tmux.wait_for("done:", Duration::from_secs(60));
    // The rows view, filtered to the msedge URLs.
    tmux.send(&["Tab", "Tab", "/"]);
    tmux.send_text("url:msedge");
    tmux.send(&["Enter"]);
    let screen = tmux.wait_for("filter url:msedge", Duration::from_secs(5));
    assert!(header_line(&screen).contains("Kind"), "{screen}");
    // A note with a tag on the first row, then the first two rows marked.
    tmux.send(&["a"]);
    tmux.wait_for("note:", Duration::from_secs(5));
    tmux.send_text("beacon seen on the proxy #c2");
    tmux.send(&["Enter"]);
    tmux.wait_for("note on 1 record", Duration::from_secs(5));
    tmux.send(&["Space", "Space"]);
    tmux.wait_for("2 marked", Duration::from_secs(5));
    // The Kind column hidden (the chooser's second line).
    tmux.send(&["C", "j", "Space", "Escape"]);
    sleep(Duration::from_millis(300));
    let before = tmux.capture();
    assert!(!header_line(&before).contains("Kind"), "{before}");
    // Saved (the name typed over the one offered), then quit.
    tmux.send(&["w"]);
    tmux.wait_for("case to:", Duration::from_secs(5));
    tmux.send(&["C-u"]);
    tmux.send_text("my case.json");
    tmux.send(&["Enter"]);
    tmux.wait_for("case saved: 2 records", Duration::from_secs(5));
    tmux.send(&["q"]);
    let end = tmux.wait_for("BITSCOPE-EXIT=", Duration::from_secs(10));
    assert!(end.contains("BITSCOPE-EXIT=0"), "{end}");
    drop(tmux);

    let saved: Value =
        serde_json::from_slice(&std::fs::read(&case).expect("case file")).expect("json");
    assert_eq!(saved["bitscope_case"], 1);
    assert_eq!(saved["filter"], "url:msedge");
    assert_eq!(saved["view"], "rows");

    // Reopened from the case alone: the paths are in it.
    let script = format!(
        "cd {} && {} --case {}; echo BITSCOPE-EXIT=$?; sleep 60",
        shell_quote(&dir),
        shell_quote(&common::bitscope_bin()),
        shell_quote(Path::new("my case.json")),
    );
    let Some(tmux) = session_sized("case-open", &script, 150, 40) else {
        return;
    };
    let after = tmux.wait_for("done:", Duration::from_secs(60));
    eprintln!("reopened:\n{after}");
    assert!(after.contains("filter url:msedge"), "{after}");
    assert!(after.contains("2 marked"), "{after}");
    assert_eq!(header_line(&after), header_line(&before), "{after}");
    // The same rows in the same order, the same two marked.
    let rows = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.contains("http://msedge"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(rows(&after), rows(&before), "{after}");
    // The note and its tag in the first row's detail pane.
    tmux.send(&["Enter"]);
    let detail = tmux.wait_for("beacon seen on the proxy", Duration::from_secs(5));
    assert!(detail.contains("#c2"), "{detail}");
    tmux.send(&["Escape", "q"]);
    let end = tmux.wait_for("BITSCOPE-EXIT=", Duration::from_secs(10));
    assert!(end.contains("BITSCOPE-EXIT=0"), "{end}");
    drop(tmux);
    let _ = std::fs::remove_dir_all(&dir);
}
