//! The Windows build, run under wine64: `bitscope.exe` gives what the Linux build gives, byte
//! for byte once the evidence paths are written the Linux way (`Z:\work\x` is `/work/x`).
//!
//! - `parse` in json, jsonl, csv and timeline, with and without `--carve`, on every shared
//!   sample and committed fixture, on a raw image from `bitscope-gen image` and on the NTFS
//!   disk image of `common/disk_image.rs`: stdout, stderr and exit status equal.
//! - `collect` with a TOML: the same data file and the same report (but its times and id).
//! - Exit codes: a missing path 1, a bad command line 2.
//! - The explorer starts in a terminal (tmux) through crossterm's Windows console path under
//!   wine's console, draws the jobs table and quits on `q` with status 0.
//! - The `.exe` links the C runtime statically: it imports Windows' own DLLs only.
//!
//! `.ci/run` builds the `.exe` before `cargo test`; without it (or wine64, or mingw-w64) the
//! tests print `SKIP:` on a developer's machine and fail under `CI=true`.

mod common;
#[path = "common/disk_image.rs"]
mod disk_image;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::wine::{self, win_path, Wine};

/// Every evidence file the project tests with: each file of the shared samples (gzipped ones
/// unpacked) but their README, and the committed legacy fixtures.
fn every_sample() -> Option<Vec<PathBuf>> {
    let root = common::samples_dir();
    let Some(root) = root else {
        common::skip("the shared samples folder is missing");
        return None;
    };
    let mut rels = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("samples folder").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n != "README.md") {
                let rel = p.strip_prefix(&root).expect("under the root");
                rels.push(rel.display().to_string());
            }
        }
    }
    rels.sort();
    let mut out: Vec<PathBuf> = rels.iter().filter_map(|r| common::unpacked(r)).collect();
    let fixtures = common::manifest_dir().join("testdata/legacy");
    let mut fx: Vec<PathBuf> = std::fs::read_dir(fixtures)
        .expect("testdata/legacy")
        .flatten()
        .map(|e| e.path())
        .collect();
    fx.sort();
    out.extend(fx);
    assert!(out.len() > 30, "{} samples only", out.len());
    Some(out)
}

/// The Windows program's output with each input's Windows path written as the Linux one, in
/// JSON-escaped form (`Z:\\work\\x`) and raw (`Z:\work\x`, CSV and messages).
fn to_linux(text: &[u8], paths: &[PathBuf]) -> String {
    let mut s = String::from_utf8_lossy(text).into_owned();
    let mut pairs: Vec<(String, String)> = paths
        .iter()
        .map(|p| (win_path(p), p.display().to_string()))
        .collect();
    // The longest first: a folder's path is a prefix of its files'.
    pairs.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
    for (w, l) in &pairs {
        s = s.replace(&w.replace('\\', "\\\\"), l);
        s = s.replace(w, l);
    }
    // clap names the program as it was started: "Usage: bitscope.exe parse ...".
    s.replace("bitscope.exe", "bitscope")
}

/// Messages with the operating system's own error text cut ("No such file or directory (os
/// error 2)" on Linux is "Path not found. (os error 3)" on Windows).
fn os_errors_aside(text: &str) -> String {
    text.lines()
        .map(|l| match l.find(" (os error ") {
            Some(end) => {
                let start = l.get(..end).and_then(|h| h.rfind(": ")).unwrap_or(end);
                format!(
                    "{}: <os error>{}",
                    &l[..start],
                    &l[end..].split_once(')').map_or("", |x| x.1)
                )
            }
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where two outputs first differ, for the failure message.
fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n linux: {x}\n wine:  {y}", i + 1);
        }
    }
    format!(
        "{} lines on Linux, {} under wine",
        a.lines().count(),
        b.lines().count()
    )
}

/// Run `args` (with `inputs` at the end) on both builds and require the same stdout, stderr
/// and exit status, paths aside. Returns the Linux output.
fn same_on_both(w: &Wine, args: &[&str], inputs: &[PathBuf], also: &[PathBuf]) -> Output {
    let linux = Command::new(common::bitscope_bin())
        .args(args)
        .args(inputs)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("running bitscope");
    let win_args: Vec<String> = args
        .iter()
        .map(|a| a.to_string())
        .chain(inputs.iter().map(|p| win_path(p)))
        .collect();
    let win = w.run(&win_args);
    let known: Vec<PathBuf> = inputs.iter().chain(also).cloned().collect();
    let (lo, wo) = (
        String::from_utf8_lossy(&linux.stdout).into_owned(),
        to_linux(&win.stdout, &known),
    );
    let (le, we) = (
        String::from_utf8_lossy(&linux.stderr).into_owned(),
        to_linux(&win.stderr, &known),
    );
    assert_eq!(
        linux.status.code(),
        win.status.code(),
        "{args:?}: exit status\nlinux stderr: {le}\nwine stderr: {we}"
    );
    assert!(
        lo == wo,
        "{args:?}: stdout differs: {}",
        first_difference(&lo, &wo)
    );
    let (le, we) = (os_errors_aside(&le), os_errors_aside(&we));
    assert!(
        le == we,
        "{args:?}: stderr differs: {}",
        first_difference(&le, &we)
    );
    linux
}

const FORMATS: [&str; 4] = ["json", "jsonl", "csv", "timeline"];

/// `parse` over `inputs` in every format, live only and carving: the same on both builds.
/// Returns the number of records Linux wrote with `--carve --format jsonl`.
fn parse_everywhere(w: &Wine, inputs: &[PathBuf]) -> usize {
    let mut carved = 0;
    for format in FORMATS {
        for carve in [false, true] {
            let mut args = vec!["parse", "--format", format];
            if carve {
                args.push("--carve");
            }
            let out = same_on_both(w, &args, inputs, &[]);
            if carve && format == "jsonl" {
                carved = out
                    .stdout
                    .split(|b| *b == b'\n')
                    .filter(|l| !l.is_empty())
                    .count();
            }
        }
    }
    carved
}

#[test]
fn parse_every_sample_in_every_format_equals_linux() {
    let Some(w) = Wine::get() else { return };
    let Some(samples) = every_sample() else {
        return;
    };
    let records = parse_everywhere(w, &samples);
    // The samples hold hundreds of carved records (win10's free space alone over 100).
    assert!(records > 200, "{records} records");
    let (runs, took) = wine::runs();
    eprintln!(
        "windows: {} samples, {records} records with --carve; {runs} runs under wine in {:.1} s",
        samples.len(),
        took.as_secs_f64()
    );
}

#[test]
fn parse_each_real_store_alone_equals_linux() {
    // One store per run too: the exit status is then each input's own.
    let Some(w) = Wine::get() else { return };
    for rel in [
        "ese/win10/qmgr.db",
        "ese/win11/qmgr.db",
        "ese/win11-24h2/qmgr.db",
    ] {
        let Some(db) = common::sample(rel) else {
            return;
        };
        let out = same_on_both(w, &["parse", "--carve", "--format", "jsonl"], &[db], &[]);
        assert!(out.status.success());
    }
}

#[test]
fn parse_a_generated_raw_image_equals_linux() {
    let Some(w) = Wine::get() else { return };
    let Some(samples) = common::samples_dir() else {
        common::skip("the shared samples folder is missing");
        return;
    };
    let dir = common::scratch_dir("windows-image");
    let img = dir.join("disk.img");
    let out = Command::new(env!("CARGO_BIN_EXE_bitscope-gen"))
        .args([
            "image", "--size", "33554432", "--plant", "24", "--seed", "7",
        ])
        .arg("--out")
        .arg(&img)
        .arg("--samples")
        .arg(&samples)
        .output()
        .expect("bitscope-gen");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = parse_everywhere(w, &[img]);
    assert!(records >= 24, "{records} records carved from 24 planted");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn parse_an_ntfs_disk_image_equals_linux() {
    // Through the container layer: MBR, NTFS, the MFT, live and deleted stores, ESE logs, and
    // with --carve the unallocated clusters.
    let Some(w) = Wine::get() else { return };
    let Some(image) = disk_image::disk_image() else {
        return;
    };
    let records = parse_everywhere(w, std::slice::from_ref(&image.path));
    assert!(records > 100, "{records} records");
}

fn seed_toml(dir: &str, alt_path: &str) -> String {
    // TOML basic strings: a Windows path's backslashes doubled.
    let q = |s: &str| s.replace('\\', "\\\\");
    format!(
        "[output]\nname = \"bits_collection\"\ndirectory = \"{}\"\nformat = \"jsonl\"\n\
         endpoint_id = \"6c51b123-1522-4572-9f2a-0bd5abd81b82\"\ncollection_id = 1\n\
         output = \"local\"\n\n[[artifacts]]\nartifact_name = \"bits\"\n[artifacts.bits]\n\
         carve = true\nalt_path = \"{}\"\n",
        q(dir),
        q(alt_path)
    )
}

/// The data file and the report a collect run wrote (the paths it printed).
fn collected(out: &Output, known: &[PathBuf]) -> (String, serde_json::Value) {
    let stdout = to_linux(&out.stdout, known);
    let mut data = None;
    let mut report = None;
    for line in stdout.lines() {
        // The files the run wrote, inside the output folder (a Windows path under wine).
        let p = PathBuf::from(line.replace('\\', "/"));
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{line}: {e}"));
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("report_") {
            report = Some(serde_json::from_str(&text).expect("report JSON"));
        } else {
            data = Some(text);
        }
    }
    (data.expect("a data file"), report.expect("a report"))
}

#[test]
fn collect_with_a_toml_equals_linux() {
    let Some(w) = Wine::get() else { return };
    let Some(db) = common::sample("ese/win11/qmgr.db") else {
        return;
    };
    let dir = common::scratch_dir("windows-collect");
    let (ldir, wdir) = (dir.join("linux"), dir.join("wine"));
    std::fs::create_dir_all(&ldir).unwrap();
    std::fs::create_dir_all(&wdir).unwrap();
    std::fs::write(
        ldir.join("c.toml"),
        seed_toml(&ldir.display().to_string(), &db.display().to_string()),
    )
    .unwrap();
    std::fs::write(
        wdir.join("c.toml"),
        seed_toml(&win_path(&wdir), &win_path(&db)),
    )
    .unwrap();
    let linux =
        common::run_bitscope(["collect", "--config", ldir.join("c.toml").to_str().unwrap()]);
    let win = w.run(["collect", "--config", &win_path(&wdir.join("c.toml"))]);
    assert!(
        linux.status.success(),
        "{}",
        String::from_utf8_lossy(&linux.stderr)
    );
    assert!(
        win.status.success(),
        "{}",
        String::from_utf8_lossy(&win.stderr)
    );
    let known = [db.clone(), wdir.clone()];
    let (ldata, lrep) = collected(&linux, &known);
    let (wdata, wrep) = collected(&win, &known);
    assert!(ldata.lines().count() >= 4, "{ldata}");
    assert!(
        ldata == to_linux(wdata.as_bytes(), &known),
        "the data files differ"
    );
    let wrep: serde_json::Value =
        serde_json::from_str(&to_linux(wrep.to_string().as_bytes(), &known)).unwrap();
    for key in [
        "inputs",
        "records",
        "status",
        "warnings",
        "options",
        "endpoint_id",
    ] {
        assert_eq!(lrep[key], wrep[key], "report field {key}");
    }
    assert_eq!(wrep["status"], "complete");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn exit_codes_equal_linux() {
    let Some(w) = Wine::get() else { return };
    let dir = common::scratch_dir("windows-exit");
    let missing = dir.join("no such folder").join("qmgr.db");
    let cases: [(&[&str], i32); 5] = [
        (&["parse"], 2),
        (&["parse", "--format", "yaml", "x"], 2),
        (&["--no-such-flag"], 2),
        (&["collect"], 2),
        (&["ese", "info"], 2),
    ];
    for (args, code) in cases {
        let out = same_on_both(w, args, &[], &[]);
        assert_eq!(out.status.code(), Some(code), "{args:?}");
    }
    let out = same_on_both(w, &["parse"], std::slice::from_ref(&missing), &[]);
    assert_eq!(out.status.code(), Some(1));
    let out = same_on_both(w, &["collect", "--config"], &[missing], &[]);
    assert_eq!(out.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_exe_links_the_c_runtime_statically() {
    // Only Windows' own DLLs (and the API sets that name parts of them): no libgcc_s,
    // libwinpthread or libstdc++ from MinGW to carry along.
    let Some(w) = Wine::get() else { return };
    let out = Command::new("x86_64-w64-mingw32-objdump")
        .arg("-p")
        .arg(&w.exe)
        .output()
        .expect("x86_64-w64-mingw32-objdump (Debian binutils-mingw-w64-x86-64)");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let dlls: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("DLL Name: "))
        .map(|d| d.to_ascii_lowercase())
        .collect();
    assert!(dlls.iter().any(|d| d == "kernel32.dll"), "{dlls:?}");
    let system = [
        "kernel32.dll",
        "ntdll.dll",
        "advapi32.dll",
        "msvcrt.dll",
        "bcryptprimitives.dll",
        "user32.dll",
        "gdi32.dll",
        "userenv.dll",
        "ws2_32.dll",
        "shell32.dll",
        "ole32.dll",
    ];
    for d in &dlls {
        assert!(
            system.contains(&d.as_str()) || d.starts_with("api-ms-win-"),
            "bitscope.exe imports {d}, not a Windows system DLL: {dlls:?}"
        );
    }
}

/// A private tmux server (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("running tmux")
    }

    fn capture(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "win"]).stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

fn wait(
    what: &str,
    timeout: Duration,
    mut done: impl FnMut() -> bool,
    screen: impl Fn() -> String,
) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < timeout,
            "timed out waiting for {what}; screen:\n{}",
            screen()
        );
        sleep(Duration::from_millis(200));
    }
}

/// The explorer through crossterm's Windows console path, in wine's console on a tmux pane.
///
/// It starts, draws the demo's jobs table, and quits on `q` with status 0; but the screen is
/// partly garbled, and that is wine 8's console, not bitscope. crossterm turns on
/// ENABLE_VIRTUAL_TERMINAL_PROCESSING (wine's SetConsoleMode accepts it) and writes VT
/// sequences. Wine's conhost does not interpret them: it stores their bytes as characters in
/// its own screen buffer (its cursor advances by the sequence's length and it wraps "lines" at
/// the buffer's width, adding CR LF), and on a Unix terminal forwards each WriteConsole call
/// as it is, bracketed by its own `ESC[?25l` ... `ESC[K` `ESC[?25h`. A sequence cut by a
/// write boundary (Rust's stdout writes the console about 1 KiB at a time) or by that false
/// wrap reaches the terminal with wine's bytes inside it, and its tail shows as text
/// ("8;5;6;49m"); the false wraps scroll the frame up. A C program writing `ESC[3` and
/// `1mRED` in two WriteConsoleA calls shows the same under wine 8 (seen with `script`);
/// Windows' own console parses VT sequences across calls.
#[test]
fn the_explorer_starts_and_quits_under_wine_in_a_terminal() {
    let Some(w) = Wine::get() else { return };
    if Command::new("tmux").arg("-V").output().is_err() {
        common::skip("tmux is not installed");
        return;
    }
    let dir = common::scratch_dir("windows-tui");
    let status = dir.join("status");
    let tmux = Tmux {
        socket: format!("bitscope-wine-{}", std::process::id()),
    };
    // The exit status lands in a file; the shell then waits so the pane stays to be read.
    let line = format!(
        "{}; echo $? > {}; sleep 60",
        w.shell_line("demo"),
        wine::sh_quote(&status.display().to_string())
    );
    let out = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "win",
        "-x",
        "150",
        "-y",
        "45",
        "sh",
        "-c",
        &line,
    ]);
    assert!(out.status.success(), "tmux new-session: {out:?}");
    // What the jobs table of the demo shows: a host's evidence, carved rows, the status
    // line's count and the key help. Wine 8's console garbles part of every frame (see
    // below), so only short pieces are looked for, and the header row (and the rows of a
    // state such as Transferred) may have scrolled away.
    let drawn = |s: &str| {
        s.contains("WKS-FINANCE-07")
            && s.contains("carved")
            && s.contains("live, 6 carve")
            && s.contains("Tab jobs/files/rows")
    };
    wait(
        "the jobs table",
        Duration::from_secs(60),
        || drawn(&tmux.capture()),
        || tmux.capture(),
    );
    tmux.cmd(&["send-keys", "-t", "win", "q"]);
    wait(
        "the explorer to exit",
        Duration::from_secs(30),
        || status.exists() && std::fs::read_to_string(&status).is_ok_and(|s| s.ends_with('\n')),
        || tmux.capture(),
    );
    assert_eq!(std::fs::read_to_string(&status).unwrap().trim(), "0");
    let _ = std::fs::remove_dir_all(&dir);
}
