//! Where a record came from, as the explorer shows it: the evidence file and, for a store found
//! inside a disk image, the containers down to the store (`disk.raw › p1 › …\Downloader\qmgr.db`).
//! The Evidence column gets the short form; the detail pane shows the whole chain.

use std::path::{Path, PathBuf};

use crate::bits::model::{BitsInfo, Source, UNALLOCATED};

/// Separator between the steps of a container chain on screen.
pub const STEP: &str = " › ";

/// The container chain of a record's store (its job's source first), empty for a bare store.
pub fn chain(r: &BitsInfo) -> &[String] {
    [&r.job_source, &r.file_source]
        .into_iter()
        .flatten()
        .map(|s| s.container_chain.as_slice())
        .find(|c| !c.is_empty())
        .unwrap_or_default()
}

/// The Evidence column: `label` (the evidence file as the column names it) followed by the
/// record's container chain, shortened.
pub fn evidence_text(label: &str, r: &BitsInfo) -> String {
    let steps: Vec<String> = chain(r).iter().filter_map(|s| short_step(s)).collect();
    if steps.is_empty() {
        return label.to_string();
    }
    format!("{label}{STEP}{}", steps.join(STEP))
}

/// What tells one store of an evidence file from another (records of two stores in one image
/// are never grouped together): the evidence, then the chain down to the store. A record
/// carved from unallocated clusters keeps only its volume, so copies of one job carved from
/// several clusters still group.
pub fn store_key(s: &Source) -> String {
    let mut key = s.evidence.clone();
    for step in s
        .container_chain
        .iter()
        .filter(|c| !c.starts_with(UNALLOCATED))
    {
        key.push('\0');
        key.push_str(step);
    }
    key
}

/// One step of a chain, short: the disk format and `NTFS` are left out (the path says it),
/// a partition is `p1`, a path keeps its first and last folders and the file name (which tree,
/// which folder), a deleted file says so,
/// and unallocated space is `unallocated`.
fn short_step(step: &str) -> Option<String> {
    if let Some(rest) = step.strip_prefix("partition ") {
        let number: String = rest.chars().take_while(char::is_ascii_digit).collect();
        return Some(format!("p{number}"));
    }
    if step.starts_with(UNALLOCATED) {
        return Some("unallocated".into());
    }
    if step.contains('\\') || step.contains('/') {
        // `\path\qmgr.db (MFT entry 76, deleted)`, or a zip member's path.
        let (path, deleted) = match step.rsplit_once(" (MFT entry ") {
            Some((p, rest)) => (p, rest.contains("deleted")),
            None => (step, false),
        };
        let parts: Vec<&str> = path.split(['\\', '/']).filter(|p| !p.is_empty()).collect();
        let mut out = match parts.as_slice() {
            // First folder (which tree: `Windows.old`, `Users`), last folder and name.
            [first, .., dir, name] if parts.len() > 3 => format!("\\{first}\\…\\{dir}\\{name}"),
            all => format!("\\{}", all.join("\\")),
        };
        if deleted {
            out.push_str(" (deleted)");
        }
        return Some(out);
    }
    None
}

/// The deepest folder holding every one of `paths` (a folder is its own, a file its parent's),
/// compared by whole components: `/e/host-a` and `/e/host-b` give `/e`, never `/e/host-`.
/// Empty when they share none (one relative, one absolute).
pub fn common_folder(paths: &[PathBuf]) -> PathBuf {
    let folders = paths.iter().map(|p| {
        if p.is_dir() {
            p.as_path()
        } else {
            p.parent().unwrap_or(Path::new(""))
        }
    });
    let mut common: Option<PathBuf> = None;
    for folder in folders {
        common = Some(match common {
            None => folder.to_path_buf(),
            Some(c) => c
                .components()
                .zip(folder.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    common.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_chain(chain: &[&str]) -> BitsInfo {
        BitsInfo {
            job_source: Some(Source {
                evidence: "/x/disk.raw".into(),
                container_chain: chain.iter().map(|s| s.to_string()).collect(),
                ..Source::default()
            }),
            ..BitsInfo::default()
        }
    }

    #[test]
    fn ntfs_store_in_a_partition() {
        let r = with_chain(&[
            "raw image",
            "partition 1 (MBR, offset 1048576)",
            "NTFS",
            "\\Users\\a\\Temp\\QMGR.DB (MFT entry 77, deleted)",
        ]);
        assert_eq!(
            evidence_text("disk.raw", &r),
            "disk.raw › p1 › \\Users\\…\\Temp\\QMGR.DB (deleted)"
        );
    }

    #[test]
    fn bare_store_and_zip_member_and_unallocated() {
        assert_eq!(evidence_text("qmgr.db", &BitsInfo::default()), "qmgr.db");
        let zip = with_chain(&["zip", "C/ProgramData/Microsoft/Network/Downloader/qmgr.db"]);
        assert_eq!(
            evidence_text("c.zip", &zip),
            "c.zip › \\C\\…\\Downloader\\qmgr.db"
        );
        let free = with_chain(&[
            "VHDX",
            "NTFS",
            "unallocated cluster 9 (volume offset 36864)",
        ]);
        assert_eq!(evidence_text("d.vhdx", &free), "d.vhdx › unallocated");
        assert_eq!(
            store_key(free.job_source.as_ref().unwrap()),
            "/x/disk.raw\0VHDX\0NTFS"
        );
    }

    fn common(paths: &[&str]) -> String {
        let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
        common_folder(&paths).display().to_string()
    }

    #[test]
    fn common_folder_is_by_whole_components() {
        // Files that do not exist are files: their parent is their folder.
        assert_eq!(common(&["/e/host-a/qmgr.db"]), "/e/host-a");
        assert_eq!(common(&["/e/host-a/qmgr.db", "/e/host-b/qmgr.db"]), "/e");
        assert_eq!(common(&["/e/ab/qmgr.db", "/e/abc/qmgr.db"]), "/e");
        assert_eq!(common(&["/x/qmgr.db", "/y/qmgr.db"]), "/");
        assert_eq!(common(&["a/qmgr.db", "/a/qmgr.db"]), "");
        assert_eq!(common(&["qmgr.db", "other.db"]), "");
        assert_eq!(common(&[]), "");
    }

    #[test]
    fn common_folder_of_a_folder_is_itself() {
        let dir = std::env::temp_dir();
        let shown = dir.display().to_string();
        assert_eq!(common(&[shown.as_str()]), shown);
    }
}
