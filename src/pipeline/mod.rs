//! The pipeline: the one path from evidence to records, above the readers (`ese`,
//! `container`) and the decoders (`bits`), below the front ends (`parse` in `main.rs`,
//! `collect`, the explorer's worker, the demo), which all run their inputs through
//! [`driver::run_inputs`] into a [`Sink`], so the same evidence gives the same records
//! everywhere.
//!
//! Each store is opened once and decoded once ([`run`](run_evidence)):
//! - **qmgr.db**: the database is opened once. The carver runs first, on that open database,
//!   and its finds are held as *candidates* (deleted records are few next to live ones). Then
//!   the Files table is decoded (the join needs it) and the Jobs table is walked one row at a
//!   time: each live job drops the candidates that merely copy it, and its rows go to the sink
//!   at once, with their final `versions` (live copies plus surviving carved copies).
//!   Surviving candidates, files no job claims, and carved files follow (the join: `join.rs`).
//! - **legacy queue**: parsed once; the carver scans the same bytes, and the live jobs'
//!   blobs drop the candidates that copy them, as above.
//! - **a disk image, volume or archive** (`images.rs`, feature `images`): every store the
//!   container layer finds runs the store path with its container chain.
//! - **the live host** (`live.rs`): a running Windows system's own Downloader folder, through
//!   its raw volume, the stores run as an image's are.
//! - **anything else**, when carving: streamed in chunks by positioned reads (a disk image of
//!   any size in bounded memory), never mapped whole.
use crate::bits::legacy::is_legacy_queue;
use crate::bits::model::BitsInfo;
use crate::input::InputError;
use crate::util::text::escape;

pub use crate::util::diag::Diagnostic;

pub mod driver;
mod find;
/// Carving a volume's free clusters along deleted files' runs and free runs.
#[cfg(feature = "images")]
mod free;
pub mod host;
/// Disk images, volumes and archives: the stores the container layer finds, run through
/// the store path.
#[cfg(feature = "images")]
mod images;
/// The logical media inside a disk format, read for the hex view.
#[cfg(feature = "images")]
pub(crate) use images::read_media;
mod join;
pub mod live;
mod pair;
pub mod parallel;
mod parsed;
#[cfg(feature = "images")]
mod payload;
mod run;
pub mod sink;
mod store;
pub mod story;

pub use find::{find_inputs, find_inputs_reporting};
pub use parsed::{
    parse_bytes, parse_bytes_with, parse_file, parse_file_opts, parse_file_with,
    parse_files_with_threads, Parsed,
};
pub use run::{run_bytes, run_evidence, run_evidence_parts, run_file};
pub use store::decode_counts;

/// How much of an evidence file to read to tell its format.
pub const HEAD: usize = 64 * 1024;

/// What an evidence file looks like from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An ESE database (signature 0x89abcdef at offset 4).
    Ese,
    /// A legacy queue (FILE_HEADER + QUEUE_HEADER after a short preamble).
    Legacy,
    Unknown,
}

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{}: not a BITS queue: neither an ESE database (no signature 0x89abcdef at offset 4) nor a legacy queue (no FILE_HEADER+QUEUE_HEADER in the first 4096 bytes)", escape(.0))]
    NotBits(String),
    #[error("{}: not a BITS queue: an ESE database with neither a Jobs nor a Files table", escape(.0))]
    NotBitsEse(String),
    #[error("{}: {error}", escape(.path))]
    Ese {
        path: String,
        error: crate::ese::EseError,
    },
    /// A container of a format bitscope reads, which cannot be read or holds nothing to read:
    /// what it is and why.
    #[error("{}: {}: {}", escape(.path), escape(.kind), escape(.why))]
    Container {
        path: String,
        kind: String,
        why: String,
    },
    /// A container format bitscope recognizes but does not read.
    #[error("{}: {what}: not read (bitscope does not read this container format; convert it to a raw image, e.g. `qemu-img convert -O raw`, and read that)", escape(.path))]
    Unsupported { path: String, what: &'static str },
    /// The evidence changed while it was read (truncated, or its bytes gone): what was read
    /// from it cannot be trusted.
    #[error("{}: changed while it was read ({why}): its records are not to be trusted", escape(.path))]
    Changed { path: String, why: String },
}

/// What to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Also carve deleted records.
    pub carve: bool,
    /// Attach each record's per-field byte ranges to its provenance (`--provenance fields`).
    /// Off by default: the explorer decodes one record again when its hex view opens.
    pub field_ranges: bool,
    /// Check the media hashes an image stores (E01's MD5/SHA-1) against its media, read
    /// whole (`--verify`); a mismatch fails the input.
    pub verify: bool,
    /// The most bytes of store descriptions (names, extents) held while an image's volumes
    /// are walked, before any store is read (default [`MAX_HELD`]); past it the walk stops
    /// with a warning. A knob of the library only, so that a test reaches the bound with a
    /// small volume; the CLI always uses the default.
    pub max_held: usize,
}

/// The default of [`Options::max_held`]: 32 MiB. A real queue's store has a few hundred runs
/// at most; crafted files naming thousands of stores of 65,536 runs each would otherwise be
/// held whole (4,096 stores a volume, `container::ntfs::MAX_STORES`, times 65,536 runs of
/// 24 bytes: 6 GiB).
pub const MAX_HELD: usize = 32 << 20;

impl Default for Options {
    fn default() -> Options {
        Options {
            carve: false,
            field_ranges: false,
            verify: false,
            max_held: MAX_HELD,
        }
    }
}

/// The sink wants no more records (cancelled, or its writer failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop;

/// What the pipeline is doing, for a progress gauge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading the whole file for its SHA-256 (the driver, when asked).
    Hashing,
    /// Reading an image's whole media to check the hashes it stores (`--verify`).
    Verifying,
    Decoding,
    Carving,
}

/// Where records go as they are made.
///
/// A sink that wraps another (naming hosts, watching facts, holding records) returns it from
/// [`Sink::forward`]: every optional event it does not handle itself then passes on by
/// default, so an event added later is never dropped by a wrapper that forgot it.
pub trait Sink {
    fn record(&mut self, record: BitsInfo) -> Result<(), Stop>;
    /// A problem with the evidence (the record-level ones travel in `BitsInfo.warnings`).
    fn warning(&mut self, warning: &Diagnostic) -> Result<(), Stop>;
    /// The sink this one wraps, which the optional events below go on to by default.
    fn forward(&mut self) -> Option<&mut dyn Sink> {
        None
    }
    /// `done` of `total` bytes (0/0 when it cannot say) in `phase`.
    fn progress(&mut self, phase: Phase, done: u64, total: u64) -> Result<(), Stop> {
        self.forward()
            .map_or(Ok(()), |s| s.progress(phase, done, total))
    }
    /// The driver opened an input (and hashed it, when asked); its records follow.
    fn opened(&mut self, input: &driver::Opened) -> Result<(), Stop> {
        self.forward().map_or(Ok(()), |s| s.opened(input))
    }
    /// The driver is done with an input: what it gave, or why it could not be read.
    fn finished(&mut self, report: &driver::Report) -> Result<(), Stop> {
        self.forward().map_or(Ok(()), |s| s.finished(report))
    }
    /// An event log or hive found with the stores (in an image, before its stores run): the
    /// story sink reads it, so the records that follow carry what it says. `label` names it.
    fn companion(&mut self, label: &str, kind: story::Companion, bytes: &[u8]) -> Result<(), Stop> {
        self.forward()
            .map_or(Ok(()), |s| s.companion(label, kind, bytes))
    }
    /// The input is a container: what it is, what hashes it stores and, with `--verify`,
    /// their check (told once, before its records; the final facts are in the summary).
    fn container(&mut self, facts: &ContainerFacts) -> Result<(), Stop> {
        self.forward().map_or(Ok(()), |s| s.container(facts))
    }
}

/// What a run did, for the caller's summary and exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub format: Format,
    pub records: u64,
    /// What the container was, when the file is one.
    pub container: Option<ContainerFacts>,
}

/// What an image or archive was, and what it says of itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContainerFacts {
    /// `E01`, `VHDX (dynamic)`, `zip`, `raw image`...
    pub kind: String,
    /// The media hashes the image stores (E01): (`MD5` or `SHA-1`, lower-case hex).
    pub stored_hashes: Vec<(String, String)>,
    /// With `--verify`: each stored hash against the one computed over the media.
    pub verified: Vec<Verified>,
    /// BITS stores found in it, and how many of them could not be read.
    pub stores: usize,
    pub failed: usize,
}

/// A stored media hash checked against the media (`--verify`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub algorithm: String,
    pub stored: String,
    pub computed: String,
}

impl Verified {
    pub fn matches(&self) -> bool {
        self.stored == self.computed
    }
}

impl ContainerFacts {
    /// The first stored hash that does not match the media, as a sentence.
    pub fn mismatch(&self) -> Option<String> {
        let v = self.verified.iter().find(|v| !v.matches())?;
        Some(format!(
            "{}: the media's {} is {}, but the image stores {}: the image is not what was acquired",
            self.kind, v.algorithm, v.computed, v.stored
        ))
    }
}

/// A pipeline failure: the evidence could not be read, or the sink stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("stopped")]
    Stopped,
}

impl From<Stop> for RunError {
    fn from(_: Stop) -> Self {
        RunError::Stopped
    }
}

/// What the first bytes of a file say it is. Reads only the header: never the whole file.
///
/// An ESE database is known by its signature in the header at 0 or, when that header is
/// wiped, in the shadow header one page further (at 2, 4, 8, 16 or 32 KiB: all within
/// [`HEAD`]); the reader then falls back to the shadow.
pub fn detect(head: &[u8]) -> Format {
    let ese_at = |at: usize| {
        crate::util::bytes::u32_le(head, at.saturating_add(4))
            == Some(crate::ese::header::SIGNATURE)
    };
    if [0, 2048, 4096, 8192, 16384, 32768].into_iter().any(ese_at) {
        Format::Ese
    } else if is_legacy_queue(head) {
        Format::Legacy
    } else {
        Format::Unknown
    }
}
