//! Shared helpers for integration tests: locating the read-only real samples, unpacking
//! gzipped ones, and running the Python oracle (dissect.esedb) beside the real binary.
//!
//! Missing samples or a missing oracle make a test print `SKIP: ...` and return early on a
//! developer's machine, but fail it when `CI=true`, so CI can never pass by skipping.
#![allow(dead_code)]

pub mod alloc;
pub mod craft;
pub mod tui;
pub mod wine;

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

/// The crate root (where Cargo.toml lives).
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty scratch folder for one test, `target/scratch/NAME-PID` (emptied first, so a
/// failed earlier run leaves nothing in the way).
pub fn scratch_dir(name: &str) -> PathBuf {
    let d = manifest_dir()
        .join("target/scratch")
        .join(format!("{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// True when running under CI (`CI=true`), where skipping is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v.eq_ignore_ascii_case("true") || v == "1")
        .unwrap_or(false)
}

/// Report that a test cannot run: prints `SKIP: <what>` normally, panics under `CI=true`.
pub fn skip(what: &str) {
    if in_ci() {
        panic!("CI=true and a test prerequisite is missing: {what}");
    }
    // Written straight to the process's stderr, past the test harness's output capture, so
    // the notice shows even for a passing test.
    let _ = writeln!(io::stderr(), "SKIP: {what}");
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The real-samples folder: `$BITSCOPE_SAMPLES`, else `../shared/samples` next to the crate.
/// `None` when that folder does not exist.
pub fn samples_dir() -> Option<PathBuf> {
    let dir =
        env_path("BITSCOPE_SAMPLES").unwrap_or_else(|| manifest_dir().join("../shared/samples"));
    dir.is_dir().then_some(dir)
}

/// A sample by its path relative to the samples folder (e.g. `ese/win10/qmgr.db`).
/// `None` (after a `SKIP: sample <rel> not found` notice) when absent; panics under `CI=true`.
pub fn sample(rel: &str) -> Option<PathBuf> {
    match samples_dir().map(|d| d.join(rel)) {
        Some(p) if p.is_file() => Some(p),
        _ => {
            skip(&format!("sample {rel} not found"));
            None
        }
    }
}

/// Where unpacked copies of gzipped samples go: `target/test-samples/` under the crate root,
/// never the (read-only) samples folder.
pub fn unpack_dir() -> PathBuf {
    manifest_dir().join("target").join("test-samples")
}

/// A sample ready to open: the sample itself, or for a `.gz` sample a gunzipped copy in
/// [`unpack_dir`], made once and reused while it is newer than the sample.
pub fn unpacked(rel: &str) -> Option<PathBuf> {
    let src = sample(rel)?;
    let Some(stem) = rel.strip_suffix(".gz") else {
        return Some(src);
    };
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());

    let dest = unpack_dir().join(stem);
    if is_fresh(&dest, &src) {
        return Some(dest);
    }
    let parent = dest.parent().expect("unpack destination has a parent");
    fs::create_dir_all(parent).unwrap_or_else(|e| panic!("creating {}: {e}", parent.display()));
    // Write to a private temporary name, then rename, so another test process never sees a
    // half-written file.
    let tmp = dest.with_extension(format!("tmp-{}", std::process::id()));
    let result = (|| -> io::Result<()> {
        let mut input = flate2::read::GzDecoder::new(io::BufReader::new(File::open(&src)?));
        let mut output = BufWriter::new(File::create(&tmp)?);
        io::copy(&mut input, &mut output)?;
        output
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        fs::rename(&tmp, &dest)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        panic!("unpacking {} to {}: {e}", src.display(), dest.display());
    }
    Some(dest)
}

fn is_fresh(dest: &Path, src: &Path) -> bool {
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(dest), modified(src)) {
        (Some(d), Some(s)) => d >= s,
        _ => false,
    }
}

/// The real `bitscope` binary built for this test run.
pub fn bitscope_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_bitscope"))
}

/// Run the `bitscope` binary with `args`; returns its whole output (whatever the exit status).
pub fn run_bitscope<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(bitscope_bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running the bitscope binary")
}

/// The bitscope binary run with `args` under a watchdog (`timeout secs`: exit 124 when it
/// fires) and an address-space cap of `mem_kib` (`ulimit -v`), for the hostile-input tests
/// that bound a real run's time and memory.
pub fn run_bitscope_capped<I, S>(args: I, secs: u32, mem_kib: u64) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new("sh")
        .args([
            "-c",
            r#"ulimit -v "$1"; t="$2"; shift 2; exec timeout "$t" "$@""#,
        ])
        .arg("bitscope-capped")
        .arg(mem_kib.to_string())
        .arg(secs.to_string())
        .arg(bitscope_bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running the bitscope binary under sh")
}

/// The oracle script (dissect.esedb based).
pub fn oracle_script() -> PathBuf {
    manifest_dir().join("tests/oracle/esedb_oracle.py")
}

/// True when `python` runs `check` (a snippet of Python) without error.
fn python_passes(python: &Path, check: &str) -> bool {
    Command::new(python)
        .args(["-c", check])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// `$BITSCOPE_PYTHON`, else `target/venv/bin/python`, if it passes `check`; otherwise why not.
fn find_python(check: &str, needs: &str) -> Result<PathBuf, String> {
    if let Some(py) = env_path("BITSCOPE_PYTHON") {
        return if python_passes(&py, check) {
            Ok(py)
        } else {
            Err(format!(
                "oracle python $BITSCOPE_PYTHON={} lacks {needs}",
                py.display()
            ))
        };
    }
    let venv = manifest_dir().join("target/venv/bin/python");
    if venv.exists() && python_passes(&venv, check) {
        Ok(venv)
    } else {
        Err(format!(
            "oracle python not found: set BITSCOPE_PYTHON or create {} with {needs} (see .ci/run)",
            venv.display()
        ))
    }
}

/// The found python, or `None` after a `SKIP:` notice (a panic under `CI=true`).
fn python_or_skip(found: &Result<PathBuf, String>) -> Option<PathBuf> {
    match found {
        Ok(py) => Some(py.clone()),
        Err(why) => {
            skip(why);
            None
        }
    }
}

/// A Python interpreter that can import `dissect.esedb`: `$BITSCOPE_PYTHON`, else
/// `target/venv/bin/python` under the crate root. `None` (after a `SKIP:` notice) when there
/// is none; panics under `CI=true`.
pub fn oracle_python() -> Option<PathBuf> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    python_or_skip(FOUND.get_or_init(|| find_python("import dissect.esedb", "dissect.esedb")))
}

/// A Python interpreter with dateutil (Timesketch's date parser, for
/// `tests/oracle/timesketch_check.py`); `None` after a `SKIP:` notice, a panic under `CI=true`.
pub fn timesketch_python() -> Option<PathBuf> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    python_or_skip(
        FOUND.get_or_init(|| find_python("import dateutil.parser", "python-dateutil==2.9.0.post0")),
    )
}

/// The YAML file at `path` as JSON, read by PyYAML (the Velociraptor artifact, the KAPE
/// module); `None` after a `SKIP:` notice (a panic under `CI=true`) without PyYAML.
pub fn yaml_as_json(path: &Path) -> Option<serde_json::Value> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let python = python_or_skip(FOUND.get_or_init(|| find_python("import yaml", "PyYAML==6.0.3")))?;
    let out = Command::new(python)
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8'))))",
        ])
        .arg(path)
        .output()
        .expect("running python");
    assert!(
        out.status.success(),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("JSON from PyYAML"))
}

/// Run the oracle script with `args` and return its stdout. Panics when the oracle python is
/// missing (check [`oracle_python`] first to skip instead) or when the script fails.
pub fn run_oracle<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let python = oracle_python().expect("no oracle python (see the SKIP notice above)");
    let args: Vec<_> = args
        .into_iter()
        .map(|a| a.as_ref().to_os_string())
        .collect();
    let out = Command::new(&python)
        .arg(oracle_script())
        .args(&args)
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
    if !out.status.success() {
        panic!(
            "oracle {:?} failed ({}):\n{}",
            args,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout).expect("oracle output is UTF-8")
}

/// The bits_parser oracle script (ANSSI bits_parser, for legacy queues).
pub fn bits_parser_script() -> PathBuf {
    manifest_dir().join("tests/oracle/bits_parser_oracle.py")
}

/// The pinned versions the bits_parser oracle needs (as `.ci/run` installs them): bits_parser
/// 1.0.1 only works with construct 2.8 (it uses `Embedded`, removed in later versions).
const BITS_PARSER_CHECK: &str = "import bits, construct\n\
from importlib.metadata import version\n\
assert version('bits_parser') == '1.0.1', version('bits_parser')\n\
assert version('construct') == '2.8.12', version('construct')\n";

/// A Python interpreter that can `import bits` (ANSSI bits_parser 1.0.1 with construct 2.8.12):
/// `$BITSCOPE_PYTHON`, else `target/venv/bin/python` under the crate root. `None` (after a
/// `SKIP:` notice) when there is none; panics under `CI=true`.
pub fn bits_parser_python() -> Option<PathBuf> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    python_or_skip(FOUND.get_or_init(|| {
        find_python(
            BITS_PARSER_CHECK,
            "bits_parser==1.0.1 and construct==2.8.12",
        )
    }))
}

/// Run the bits_parser oracle on a legacy queue file and return its stdout (one JSON object).
/// Panics when the oracle python is missing (check [`bits_parser_python`] first to skip instead)
/// or when the script fails.
pub fn run_bits_parser_oracle(path: &Path) -> String {
    let python = bits_parser_python().expect("no bits_parser python (see the SKIP notice above)");
    let out = Command::new(&python)
        .arg(bits_parser_script())
        .arg(path)
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
    if !out.status.success() {
        panic!(
            "bits_parser oracle on {} failed ({}):\n{}",
            path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout).expect("bits_parser oracle output is UTF-8")
}

/// Every record the explorer's worker loads from `path` (carving on), in the order it sends
/// them; panics if the load fails or does not finish within 30 s.
pub fn explorer_load(path: &Path) -> Vec<bitscope::bits::model::BitsInfo> {
    use bitscope::tui::worker::{spawn_load, Msg};
    let (tx, rx) = std::sync::mpsc::channel();
    let _w = spawn_load(vec![path.to_path_buf()], true, 1, tx);
    let mut out = Vec::new();
    while let Ok(e) = rx.recv_timeout(std::time::Duration::from_secs(30)) {
        match e.msg {
            Msg::Records(r) => out.extend(r),
            Msg::Finished { .. } => return out,
            Msg::Failed(e) => panic!("{e}"),
            _ => {}
        }
    }
    panic!("the explorer's load of {} did not finish", path.display());
}

/// A Python interpreter that can import `Evtx` (python-evtx, pinned in `.ci/run`):
/// `$BITSCOPE_PYTHON`, else `target/venv/bin/python`. `None` (after a `SKIP:` notice) when there
/// is none; panics under `CI=true`.
pub fn evtx_python() -> Option<PathBuf> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    python_or_skip(FOUND.get_or_init(|| find_python("import Evtx.Evtx", "python-evtx")))
}

/// Run `python` on the oracle script `tests/oracle/SCRIPT` with `args`; its stdout. Panics when
/// the script fails.
pub fn run_python_script<I, S>(python: &Path, script: &str, args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args
        .into_iter()
        .map(|a| a.as_ref().to_os_string())
        .collect();
    let out = Command::new(python)
        .arg(manifest_dir().join("tests/oracle").join(script))
        .args(&args)
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
    if !out.status.success() {
        panic!(
            "{script} {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout).expect("oracle output is UTF-8")
}

/// A Python interpreter with regipy (its own venv: regipy needs construct >= 2.10, bits_parser
/// 2.8): `$BITSCOPE_REGIPY_PYTHON`, else `target/venv-regipy/bin/python`. `None` (after a
/// `SKIP:` notice) when there is none; panics under `CI=true`.
pub fn regipy_python() -> Option<PathBuf> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    python_or_skip(FOUND.get_or_init(|| {
        let py = env_path("BITSCOPE_REGIPY_PYTHON")
            .unwrap_or_else(|| manifest_dir().join("target/venv-regipy/bin/python"));
        if python_passes(&py, "import regipy") {
            Ok(py)
        } else {
            Err(format!(
                "regipy python {} missing (set BITSCOPE_REGIPY_PYTHON; see .ci/run)",
                py.display()
            ))
        }
    }))
}

/// A Python interpreter that can import `dissect.ntfs` (pinned in `.ci/run`):
/// `$BITSCOPE_PYTHON`, else `target/venv/bin/python`. `None` (after a `SKIP:` notice) when there
/// is none; panics under `CI=true`.
pub fn ntfs_python() -> Option<PathBuf> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    python_or_skip(FOUND.get_or_init(|| find_python("import dissect.ntfs.usnjrnl", "dissect.ntfs")))
}
