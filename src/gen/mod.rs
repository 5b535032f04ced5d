//! Fixture generator: realistic BITS evidence with known ground truth (issue 4).
//!
//! [`qmgr_db::generate`] builds a Windows 10/11 `qmgr.db` (an ESE database, see
//! [`ese_writer`]) whose `Jobs` and `Files` tables hold job and file blobs in the real Win10+
//! layout ([`blobs`]), plus deleted blobs left where Windows leaves them, and returns the
//! [`truth::Truth`] that says what is where. Everything is a function of the seed.
//!
//! ```text
//! bitscope-gen ese --jobs N --files-per-job K --deleted D --seed S --out qmgr.db [--force]
//!                  [--win11-header] [--truth-hex]
//! ```
//! writes `qmgr.db` and `qmgr.db.truth.json` (refusing to overwrite either without `--force`).
//!
//! What the file holds:
//! * the header and its shadow (format 0x620, revision 0xC8, dirty shutdown, 16 KiB pages,
//!   the XOR checksum over the whole 4 KiB block; `--win11-header` also writes past byte 668);
//! * the catalog of the real samples, node for node (MSysObjects at page 4 with its `Name` and
//!   `RootObjects` indexes, MSysObjectsShadow at 24, MSysObjids, MSysLocales, `Jobs` at 31,
//!   `Files` at 32, their long-value trees at 36 and 40), with space trees;
//! * `Jobs`/`Files` rows (GUID `Id`, `Blob` as a separated long value with an 8-byte LID)
//!   in B-trees of any depth, long values in 4,050-byte chunks, every page with its ECC
//!   checksums;
//! * D deleted blobs (a job, then its file, in turn) of seven kinds: long values with reference
//!   count 0 (`orphan_lv`) or with their nodes flagged deleted (`deleted_lv`), old nodes in a
//!   live page's free space past its data (`page_slack`) or between its nodes (`page_hole`),
//!   pages the tree released (`freed_page`: no nodes in the header, the old ones in the body),
//!   unreferenced leaf pages (`stale_page`), and blobs of two chunks on two consecutive
//!   unreferenced pages (`split_pages`).
//!
//! The truth lists every live row (Id, record offset, LID, blob length and SHA-256, the file
//! offsets of its chunks, decoded values under BitsInfo names) and every deleted blob (kind,
//! bytes, the offsets of its pieces, decoded values), the trees (root, depth, pages) and the
//! blank pages.
//!
//! This is a development tool, held to the same standard as the reader: what it writes is read
//! back by bitscope, dissect.esedb and libesedb in `tests/gen_ese.rs`.

pub mod blobs;
pub mod checksum;
pub mod demo;
pub mod ese_writer;
pub mod evtx;
pub mod fleet;
pub mod hive;
pub mod legacy;
pub mod qmgr_db;
pub mod raw;
pub use crate::util::rng;
pub mod sha256;
pub mod truth;

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub use qmgr_db::{generate, generate_jobs, EseOptions, Generated};

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("{0}")]
    Invalid(String),
    #[error("{} already exists (nothing is overwritten without --force)", .0.display())]
    Exists(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

/// Where the truth of `out` goes: `out` with `.truth.json` appended.
pub fn truth_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_os_string();
    s.push(".truth.json");
    PathBuf::from(s)
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> GenError + '_ {
    move |source| GenError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Create `path` for writing: refuses an existing file unless `force`.
pub(crate) fn create(path: &Path, force: bool) -> Result<File, GenError> {
    let mut opts = OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            GenError::Exists(path.to_path_buf())
        } else {
            GenError::Io {
                path: path.to_path_buf(),
                source: e,
            }
        }
    })
}

/// Generate a qmgr.db into `out` and its truth into `out.truth.json`. Neither may exist
/// unless `force`. Returns the truth.
pub fn write_ese(opts: &EseOptions, out: &Path, force: bool) -> Result<truth::Truth, GenError> {
    let tpath = truth_path(out);
    if !force {
        for p in [out, tpath.as_path()] {
            if p.exists() {
                return Err(GenError::Exists(p.to_path_buf()));
            }
        }
    }
    let generated = generate(opts)?;
    let mut f = create(out, force)?;
    f.write_all(&generated.bytes).map_err(io_err(out))?;
    let tf = create(&tpath, force)?;
    let mut w = BufWriter::new(tf);
    serde_json::to_writer(&mut w, &generated.truth).map_err(|e| GenError::Io {
        path: tpath.clone(),
        source: e.into(),
    })?;
    w.write_all(b"\n").map_err(io_err(&tpath))?;
    w.flush().map_err(io_err(&tpath))?;
    Ok(generated.truth)
}

/// Remove a generated file and its truth (tests and benches clean up with it).
pub fn remove_ese(out: &Path) {
    let _ = fs::remove_file(out);
    let _ = fs::remove_file(truth_path(out));
}
