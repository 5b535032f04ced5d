//! The Windows build under wine: `bitscope.exe` (x86_64-pc-windows-gnu, built by `.ci/run`
//! with `cargo build --release --target x86_64-pc-windows-gnu` before the tests) run by
//! Debian's wine64, in a wine prefix of its own under `target/wine-prefix`.
//!
//! Wine 8 lacks `bcryptprimitives.dll`, which Rust's standard library imports; the setup builds
//! a stand-in from `tests/windows/bcryptprimitives.c` (see why there) with mingw-w64 and puts
//! it next to the `.exe`. Test-only: it is never part of a release.
//!
//! [`Wine::get`] is `None` (after a `SKIP:` notice; a failure under `CI=true`) when the `.exe`,
//! wine64 or mingw-w64 is missing, or when the `.exe` is older than the sources (a stale build
//! would test other code).
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use super::{manifest_dir, skip};

/// The Windows target and where `.ci/run` builds the `.exe`.
pub const TARGET: &str = "x86_64-pc-windows-gnu";

pub struct Wine {
    pub wine64: PathBuf,
    pub exe: PathBuf,
    pub prefix: PathBuf,
}

/// Programs run under wine by this test process, and their wall time in milliseconds.
static RUNS: AtomicU64 = AtomicU64::new(0);
static MILLIS: AtomicU64 = AtomicU64::new(0);

/// (programs run under wine, their total wall time) so far in this test process.
pub fn runs() -> (u64, Duration) {
    (
        RUNS.load(Ordering::Relaxed),
        Duration::from_millis(MILLIS.load(Ordering::Relaxed)),
    )
}

impl Wine {
    /// The `.exe` ready to run under wine, set up once per test process.
    pub fn get() -> Option<&'static Wine> {
        static WINE: OnceLock<Result<Wine, String>> = OnceLock::new();
        match WINE.get_or_init(setup) {
            Ok(w) => Some(w),
            Err(why) => {
                skip(why);
                None
            }
        }
    }

    /// A command running `program` (a Windows executable) under wine64 in the test prefix:
    /// no debug chatter, no display (console programs only).
    pub fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(&self.wine64);
        c.arg(program)
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env(
                "WINEDLLOVERRIDES",
                "winemenubuilder.exe=d;mscoree=d;mshtml=d",
            )
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        c
    }

    /// Run `bitscope.exe` with `args` (stdin empty) and wait for it.
    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let start = Instant::now();
        let out = self
            .command(&self.exe)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("running wine64");
        RUNS.fetch_add(1, Ordering::Relaxed);
        MILLIS.fetch_add(start.elapsed().as_millis() as u64, Ordering::Relaxed);
        out
    }

    /// The shell line that runs `bitscope.exe ARGS` under wine (for tmux).
    pub fn shell_line(&self, args: &str) -> String {
        format!(
            "env WINEPREFIX={} WINEDEBUG=-all WINEDLLOVERRIDES='winemenubuilder.exe=d;mscoree=d;mshtml=d' {} {} {args}",
            sh_quote(&self.prefix.display().to_string()),
            sh_quote(&self.wine64.display().to_string()),
            sh_quote(&self.exe.display().to_string()),
        )
    }
}

/// A Unix path as the Windows program sees it: wine maps `Z:` to `/`.
pub fn win_path(p: &Path) -> String {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().expect("cwd").join(p)
    };
    format!("Z:{}", abs.display().to_string().replace('/', "\\"))
}

/// A word for `sh`: single-quoted.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// Debian's wine64 loader: `$BITSCOPE_WINE`, `wine64` on the PATH, or where the `wine64`
/// package puts it (it ships no `/usr/bin/wine64`; that is the `wine` package's wrapper).
fn find_wine() -> Option<PathBuf> {
    if let Some(w) = std::env::var_os("BITSCOPE_WINE").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(w));
    }
    on_path("wine64").or_else(|| {
        let p = PathBuf::from("/usr/lib/wine/wine64");
        p.is_file().then_some(p)
    })
}

/// The newest modification time of the files the `.exe` is built from.
fn newest_source() -> Option<SystemTime> {
    let root = manifest_dir();
    let mut newest = None;
    let mut stack = vec![root.join("src")];
    let mut files = vec![root.join("Cargo.toml"), root.join("Cargo.lock")];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).ok()?.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    for f in files {
        if let Ok(t) = fs::metadata(&f).and_then(|m| m.modified()) {
            newest = newest.max(Some(t));
        }
    }
    newest
}

fn setup() -> Result<Wine, String> {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("target"));
    let release = target_dir.join(TARGET).join("release");
    let exe = release.join("bitscope.exe");
    let build = format!("cargo build --release --target {TARGET} (as .ci/run does)");
    let built = fs::metadata(&exe)
        .and_then(|m| m.modified())
        .map_err(|_| format!("{} not built: {build}", exe.display()))?;
    if newest_source().is_some_and(|s| s > built) {
        return Err(format!(
            "{} is older than the sources: {build}",
            exe.display()
        ));
    }
    let wine64 = find_wine().ok_or("wine64 not installed (Debian: wine64)")?;
    shim(&release)?;
    let prefix = target_dir.join("wine-prefix");
    let wine = Wine {
        wine64,
        exe,
        prefix,
    };
    make_prefix(&wine)?;
    Ok(wine)
}

/// Build the test-only `bcryptprimitives.dll` next to the `.exe` (see the C source for why).
fn shim(release: &Path) -> Result<(), String> {
    let src = manifest_dir().join("tests/windows/bcryptprimitives.c");
    let dll = release.join("bcryptprimitives.dll");
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&dll).is_some() && modified(&dll) >= modified(&src) {
        return Ok(());
    }
    // A private name, then a rename: another test process never sees half a DLL.
    let tmp = release.join(format!("bcryptprimitives.dll.tmp-{}", std::process::id()));
    let out = Command::new("x86_64-w64-mingw32-gcc")
        .args(["-shared", "-O2", "-o"])
        .arg(&tmp)
        .arg(&src)
        .arg("-ladvapi32")
        .output()
        .map_err(|e| {
            format!("x86_64-w64-mingw32-gcc not runnable ({e}): Debian gcc-mingw-w64-x86-64")
        })?;
    if !out.status.success() {
        let _ = fs::remove_file(&tmp);
        return Err(format!(
            "building the bcryptprimitives shim failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    fs::rename(&tmp, &dll).map_err(|e| format!("{}: {e}", dll.display()))
}

/// Make the wine prefix once (wineboot, about 10 s); later runs reuse it.
fn make_prefix(w: &Wine) -> Result<(), String> {
    if w.prefix.join("system.reg").is_file() {
        return Ok(());
    }
    fs::create_dir_all(&w.prefix).map_err(|e| format!("{}: {e}", w.prefix.display()))?;
    let status = Command::new(&w.wine64)
        .args(["wineboot", "--init"])
        .env("WINEPREFIX", &w.prefix)
        .env("WINEDEBUG", "-all")
        .env(
            "WINEDLLOVERRIDES",
            "winemenubuilder.exe=d;mscoree=d;mshtml=d",
        )
        .env_remove("DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("running wineboot: {e}"))?;
    // The registry files are written when the wine server ends (a few seconds after the
    // last program): wait for it.
    let _ = Command::new(w.wine64.with_file_name("wineserver"))
        .arg("-w")
        .env("WINEPREFIX", &w.prefix)
        .status();
    // wineboot complains about the 32-bit half Debian's wine64 lacks, yet makes the prefix.
    if !w.prefix.join("system.reg").is_file() {
        return Err(format!("wineboot made no prefix ({status})"));
    }
    Ok(())
}
