//! Writers: ESE reports, BitsInfo as json/jsonl/csv.
pub mod bits;
pub mod collect;
pub mod ese;
pub mod timeline;

use std::io::{self, Write};
use std::path::Path;

/// Write `bytes` to `path` atomically (a temporary file in the same folder, then a rename),
/// refusing to touch any of the evidence files `inputs`.
pub fn write_file_atomic(path: &Path, bytes: &[u8], inputs: &[&Path]) -> io::Result<()> {
    let target = std::fs::canonicalize(path).ok();
    for input in inputs {
        let same = match (&target, std::fs::canonicalize(input)) {
            (Some(t), Ok(i)) => *t == i,
            _ => false,
        };
        if same {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "refusing to overwrite the evidence file {}",
                    input.display()
                ),
            ));
        }
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
