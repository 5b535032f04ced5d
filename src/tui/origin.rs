//! Where a record came from, as the explorer shows it: the evidence file and, for a store found
//! inside a disk image, the containers down to the store (`disk.raw › p1 › …\Downloader\qmgr.db`).
//! The Evidence column gets the short form; the detail pane shows the whole chain.

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
}
