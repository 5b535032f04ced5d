//! Opening evidence: read-only, and with errors that name the file.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: is a directory, not a file")]
    Directory(PathBuf),
    #[error("{0}: empty file (0 bytes)")]
    Empty(PathBuf),
}

/// Read a whole evidence file. The file is opened read-only; nothing is ever written to it.
pub fn read_evidence(path: &Path) -> Result<Vec<u8>, InputError> {
    let io = |source| InputError::Io {
        path: path.to_path_buf(),
        source,
    };
    if path.is_dir() {
        return Err(InputError::Directory(path.to_path_buf()));
    }
    let mut f = File::open(path).map_err(io)?;
    let mut data = Vec::new();
    f.read_to_end(&mut data).map_err(io)?;
    if data.is_empty() {
        return Err(InputError::Empty(path.to_path_buf()));
    }
    Ok(data)
}
