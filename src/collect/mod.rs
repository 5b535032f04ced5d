//! `bitscope collect --config FILE.toml`: the seed's TOML collection.
//!
//! ```toml
//! [output]
//! name = "bits_collection"      # folder under `directory`
//! directory = "./tmp"
//! format = "json"               # json | jsonl | csv
//! compress = false              # gzip the output file
//! endpoint_id = "..."
//! collection_id = 1
//! output = "local"              # the only destination supported
//! timeline = false              # Timesketch JSONL entries instead of records
//! [[artifacts]]
//! artifact_name = "bits"
//! [artifacts.bits]
//! carve = true
//! alt_path = "D:\\...\\qmgr.db" # optional; artemis's newer `alt_file` is accepted too
//!                               # (without it: the live host, see `pipeline::live`)
//! ```
//! Output goes to `directory/name/`: `bits_<id>.<ext>[.gz]` and `report_<id>.json`, `<id>`
//! unique per run so runs never overwrite each other. Everything is written under a temporary
//! name first and renamed at the end, so a failed run leaves nothing behind.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::json;

use crate::output::bits::{Format, RecordWriter};
use crate::pipeline::driver::Inputs;
use crate::pipeline::live::{self, Target};
use crate::pipeline::parallel::run_inputs;
use crate::pipeline::sink::{Note, WriterSink};
use crate::pipeline::Options;
use crate::util::text::{escape, is_hidden};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub output: OutputConfig,
    #[serde(default)]
    pub artifacts: Vec<Artifact>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    pub name: toml::Spanned<String>,
    pub directory: String,
    pub format: FormatName,
    #[serde(default)]
    pub compress: bool,
    #[serde(default)]
    pub endpoint_id: String,
    #[serde(default)]
    pub collection_id: u64,
    #[serde(default = "local")]
    pub output: Destination,
    #[serde(default)]
    pub timeline: bool,
    /// Accepted for compatibility with artemis's newer configs (ignored: local only).
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub filter_name: Option<String>,
    #[serde(default)]
    pub filter_script: Option<String>,
    #[serde(default)]
    pub logging: Option<String>,
}

fn local() -> Destination {
    Destination::Local
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FormatName {
    Json,
    Jsonl,
    Csv,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Destination {
    Local,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    pub artifact_name: toml::Spanned<String>,
    #[serde(default)]
    pub bits: Option<BitsOptions>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BitsOptions {
    #[serde(default)]
    pub carve: bool,
    #[serde(default, alias = "alt_file")]
    pub alt_path: Option<toml::Spanned<String>>,
    /// artemis's newer spelling of where to write; accepted, the `[output]` directory rules.
    #[serde(default)]
    pub destination: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("{path}:{line}:{col}: {msg}")]
    Config {
        path: String,
        line: usize,
        col: usize,
        msg: String,
    },
    #[error("{0}")]
    Other(String),
}

/// Line and column (1-based) of a byte offset in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Parse and check a config; errors carry the file, line and column.
pub fn load(path: &Path) -> Result<Config, CollectError> {
    let shown = escape(&path.display().to_string()).into_owned();
    let bytes = crate::input::read_small(path, MAX_CONFIG)
        .map_err(|e| CollectError::Other(e.to_string()))?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            // Point at the first byte that is not UTF-8.
            let good = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes());
            let (line, col) = line_col(&text, good);
            return Err(CollectError::Config {
                path: shown,
                line,
                col,
                msg: format!("not UTF-8 (byte {good})"),
            });
        }
    };
    let at = |offset: usize, msg: String| {
        let (line, col) = line_col(&text, offset);
        CollectError::Config {
            path: shown.clone(),
            line,
            col,
            msg,
        }
    };
    let config: Config = toml::from_str(&text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        at(offset, e.message().trim().to_string())
    })?;
    for a in &config.artifacts {
        if a.artifact_name.get_ref() != "bits" {
            return Err(at(
                a.artifact_name.span().start,
                format!(
                    "unknown artifact {:?} (bitscope collects \"bits\")",
                    a.artifact_name.get_ref()
                ),
            ));
        }
        if let Some(p) = a.bits.as_ref().and_then(|b| b.alt_path.as_ref()) {
            if !Path::new(p.get_ref()).exists() {
                return Err(at(
                    p.span().start,
                    format!("alt_path {:?} does not exist", p.get_ref()),
                ));
            }
        }
    }
    if config.artifacts.is_empty() {
        return Err(at(0, "no [[artifacts]] entry".into()));
    }
    if !is_plain_name(config.output.name.get_ref()) {
        return Err(at(
            config.output.name.span().start,
            format!(
                "name {:?} must be one plain folder name (no separators, no \"..\", not absolute): output stays inside `directory`",
                config.output.name.get_ref()
            ),
        ));
    }
    if let Some(c) = config.output.name.get_ref().chars().find(|c| is_hidden(*c)) {
        // A folder named with an escape sequence or a bidi override would reach every
        // terminal that lists it: refused, not made.
        return Err(at(
            config.output.name.span().start,
            format!(
                "name {:?} holds a control or invisible character ({}): refused, no folder is made with it",
                config.output.name.get_ref(),
                escape(&c.to_string())
            ),
        ));
    }
    Ok(config)
}

/// A config larger than this is not a config.
const MAX_CONFIG: u64 = 1 << 20;

/// One normal path component: not empty, not `.` or `..`, no separator, not absolute.
fn is_plain_name(name: &str) -> bool {
    let mut parts = Path::new(name).components();
    matches!(
        (parts.next(), parts.next()),
        (Some(std::path::Component::Normal(_)), None)
    ) && !name.contains(['/', '\\'])
}

/// Create `dir` and its missing parents; returns the folders created, outermost first, so a
/// failed run can remove exactly those.
fn create_dirs(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(p) = at.filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
        missing.push(p.to_path_buf());
        at = p.parent();
    }
    missing.reverse();
    std::fs::create_dir_all(dir)?;
    Ok(missing)
}

/// Without `alt_path`, the live host: this machine's Downloader folder, through its raw
/// volume or by path (`pipeline::live`); off Windows an error.
fn live_target() -> Result<Target, CollectError> {
    live::target().map_err(|e| {
        CollectError::Other(format!(
            "no alt_path given, so the live host would be read: {e}: set alt_path"
        ))
    })
}

/// A run id: time and process mixed through the std hasher (unique per run on one machine).
fn run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(nanos);
    h.write_u32(std::process::id());
    let a = h.finish();
    h.write_u64(a);
    let b = h.finish();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// What a run wrote.
#[derive(Debug)]
pub struct Outcome {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    pub records: usize,
    /// `complete` (every input read), `partial` (some failed) or `failed` (none read).
    pub status: &'static str,
}

/// Run a collection.
pub fn run(config: &Config) -> Result<Outcome, CollectError> {
    let start = chrono::Utc::now();
    let id = run_id();
    let out = &config.output;
    let dir = Path::new(&out.directory).join(out.name.get_ref());
    let created = create_dirs(&dir).map_err(|e| {
        CollectError::Other(format!(
            "{}: cannot create: {e}",
            escape(&dir.display().to_string())
        ))
    })?;
    let result = collect_into(config, &dir, &id, start);
    if result.is_err() {
        // Leave nothing behind: the folders this run made hold nothing finished.
        for d in created.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
    result
}

fn collect_into(
    config: &Config,
    dir: &Path,
    id: &str,
    start: chrono::DateTime<chrono::Utc>,
) -> Result<Outcome, CollectError> {
    let out = &config.output;
    let mut bases = Vec::new();
    let mut carve = false;
    let mut target = None;
    for a in &config.artifacts {
        let opts = a.bits.as_ref();
        carve |= opts.is_some_and(|o| o.carve);
        match opts.and_then(|o| o.alt_path.as_ref()) {
            Some(p) => bases.push(PathBuf::from(p.get_ref())),
            // Read once, however many artifacts leave alt_path out.
            None if target.is_none() => target = Some(live_target()?),
            None => {}
        }
    }
    // Artifacts naming one path (or a file twice) read it once.
    let inputs = Inputs::find(&bases);
    let format = match (out.timeline, &out.format) {
        (true, _) => Format::Timeline,
        (false, FormatName::Json) => Format::Json,
        (false, FormatName::Jsonl) => Format::Jsonl,
        (false, FormatName::Csv) => Format::Csv,
    };
    let ext = format.extension();
    let name = if out.compress {
        format!("bits_{id}.{ext}.gz")
    } else {
        format!("bits_{id}.{ext}")
    };
    let data_path = dir.join(&name);
    let report_path = dir.join(format!("report_{id}.json"));
    let other = |e: std::io::Error| CollectError::Other(e.to_string());
    let live_evidence = target.as_ref().map(Target::evidence).unwrap_or_default();
    let evidence: Vec<&Path> = inputs
        .files
        .iter()
        .map(|i| i.path.as_path())
        .chain(live_evidence.iter().map(PathBuf::as_path))
        .collect();
    let protected = crate::output::Protected::of(&evidence);
    refuse_existing(&data_path)?;
    let file = crate::output::AtomicFile::create(&data_path, &protected).map_err(|e| {
        CollectError::Other(format!("{}: {e}", escape(&data_path.display().to_string())))
    })?;
    let sink_out = if out.compress {
        DataFile::Gzip(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::default(),
        ))
    } else {
        DataFile::Plain(file)
    };
    let opts = Options {
        carve,
        ..Default::default()
    };
    let writer = RecordWriter::new(sink_out, format).map_err(other)?;
    let mut warnings: Vec<String> = inputs.warnings.clone();
    let mut on_note = |n: Note<'_>| match n {
        Note::Diagnostic(w) | Note::Failed(w) => warnings.push(w.to_string()),
        // The report's inputs carry the container's facts (stored hashes, their check).
        Note::Info(_) => {}
    };
    let mut sink = WriterSink::new(writer, &mut on_note);
    let mut reports = if inputs.files.is_empty() {
        Vec::new()
    } else {
        run_inputs(inputs, &opts, true, 0, &mut sink).unwrap_or_default()
    };
    if let Some(target) = &target {
        reports.extend(live::run(target, &opts, true, &mut sink).unwrap_or_default());
    }
    let count = reports.len();
    let writer = sink.into_writer().map_err(other)?;
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    let read: Vec<serde_json::Value> = reports
        .iter()
        .filter(|r| r.error.is_none())
        .map(input_report)
        .collect();
    let records = writer.count();
    let file = writer.finish().and_then(DataFile::finish).map_err(other)?;
    let status = match (count, failed) {
        (0, _) => "failed",
        (n, f) if f == n => "failed",
        (_, 0) => "complete",
        _ => "partial",
    };
    let report = json!({
        "collection_id": out.collection_id,
        "endpoint_id": out.endpoint_id,
        "id": id,
        "start_time": start.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "end_time": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "artifact": "bits",
        "options": {"carve": carve, "format": ext, "compress": out.compress, "timeline": out.timeline},
        "inputs": read,
        "inputs_failed": failed,
        "records": records,
        "warnings": warnings,
        "output_files": [name],
        "status": status,
    });
    let report_bytes =
        serde_json::to_vec_pretty(&report).map_err(|e| CollectError::Other(e.to_string()))?;
    file.commit().map_err(other)?;
    if let Err(e) = write_new(&report_path, &report_bytes) {
        let _ = std::fs::remove_file(&data_path);
        return Err(e);
    }
    Ok(Outcome {
        dir: dir.to_path_buf(),
        files: vec![data_path, report_path],
        records: usize::try_from(records).unwrap_or(usize::MAX),
        status,
    })
}

/// One input read, for the report: its path, sha256 and records, and every file it was read
/// from (a segmented image's segments, each with its size and sha256) and what its container
/// says of itself (stored hashes, their check with `--verify`).
fn input_report(r: &crate::pipeline::driver::Report) -> serde_json::Value {
    let sha256 = r.sha256.as_deref().unwrap_or_default();
    let mut files = vec![json!({
        "path": r.path.display().to_string(),
        "size": r.size,
        "sha256": sha256,
    })];
    files.extend(r.parts.iter().map(|p| {
        json!({
            "path": p.path.display().to_string(),
            "size": p.size,
            "sha256": p.sha256.as_deref().unwrap_or_default(),
        })
    }));
    let mut v = json!({
        "path": r.path.display().to_string(),
        "sha256": sha256,
        "records": r.records,
        "files": files,
    });
    if let Some(c) = &r.container {
        let stored: serde_json::Map<String, serde_json::Value> = c
            .stored_hashes
            .iter()
            .map(|(alg, hex)| (alg.clone(), json!(hex)))
            .collect();
        v["container"] = json!({
            "kind": c.kind,
            "stored_hashes": stored,
            "verified": c.verified.iter().map(|x| json!({
                "algorithm": x.algorithm,
                "stored": x.stored,
                "computed": x.computed,
                "match": x.matches(),
            })).collect::<Vec<_>>(),
        });
    }
    v
}

/// The data file, gzipped or not, over the atomic file it is committed as.
enum DataFile {
    Plain(crate::output::AtomicFile),
    Gzip(flate2::write::GzEncoder<crate::output::AtomicFile>),
}

impl DataFile {
    /// End the gzip stream (if any) and hand back the file to commit.
    fn finish(self) -> std::io::Result<crate::output::AtomicFile> {
        match self {
            DataFile::Plain(f) => Ok(f),
            DataFile::Gzip(g) => g.finish(),
        }
    }
}

impl Write for DataFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            DataFile::Plain(f) => f.write(buf),
            DataFile::Gzip(g) => g.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            DataFile::Plain(f) => f.flush(),
            DataFile::Gzip(g) => g.flush(),
        }
    }
}

fn refuse_existing(path: &Path) -> Result<(), CollectError> {
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(CollectError::Other(format!(
            "{}: already exists",
            escape(&path.display().to_string())
        )));
    }
    Ok(())
}

/// Write a new file whole: a temporary name, then a rename; never replaces an existing file.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), CollectError> {
    let e = |e: std::io::Error| CollectError::Other(format!("{}: {e}", path.display()));
    if path.exists() {
        return Err(CollectError::Other(format!(
            "{}: already exists",
            path.display()
        )));
    }
    crate::output::write_file_atomic(path, bytes, &[]).map_err(e)
}
