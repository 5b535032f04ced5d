//! Finding the evidence files under a folder: every `qmgr.db` and `qmgr*.dat`, and every
//! collection file of a case (a zip of collected files, an E01 or `.s01`, VHD, VHDX, `.img`
//! or `.dd` image), so `bitscope parse CASE_FOLDER` reads KAPE trees, Velociraptor zips and images
//! side by side. (`.raw` is left out: single ESE pages are kept under that name too.)

use std::path::{Path, PathBuf};

use crate::util::text::escape;

/// The evidence files under `path`: the path itself if a file, else every `qmgr.db`,
/// `qmgr*.dat` and collection file ([`is_collection_name`]) below it (case-insensitive), sorted. See [`find_inputs_reporting`].
pub fn find_inputs(path: &Path) -> Vec<PathBuf> {
    find_inputs_reporting(path, &mut Vec::new())
}

/// [`find_inputs`], saying in `warnings` what was passed over: a subfolder that cannot be
/// read, a symlinked folder (never followed: no loops). Anything else with a queue's name is
/// an input (a FIFO or a dangling link is then refused when opened, and counted as failed); a
/// symlinked queue file is followed, and a file reached by two names is read once.
pub fn find_inputs_reporting(path: &Path, warnings: &mut Vec<String>) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_path_buf()];
    }
    let shown = |p: &Path| escape(&p.display().to_string()).into_owned();
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                warnings.push(format!("{}: folder not read: {e}", shown(&dir)));
                continue;
            }
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_symlink() && std::fs::metadata(&p).is_ok_and(|m| m.is_dir()) {
                warnings.push(format!("{}: symlinked folder not followed", shown(&p)));
            } else if is_queue_name(&p) || is_collection_name(&p) {
                // Symlinks, FIFOs and devices with a queue's name are inputs too: opening
                // one says what it is (and refuses it), rather than passing it over unseen.
                out.push(p);
            }
        }
    }
    out.sort();
    // One file under two names (a symlink beside its target) is read once.
    out.retain(|p| match std::fs::canonicalize(p) {
        Ok(c) => seen.insert(c),
        Err(_) => true,
    });
    out
}

/// A collection file by its extension (case-insensitive): zip, E01 or SMART's s01 (the first
/// segment), VHD, VHDX, img, dd.
pub(crate) fn is_collection_name(p: &Path) -> bool {
    let ext = p
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    matches!(
        ext.as_str(),
        "zip" | "e01" | "s01" | "vhd" | "vhdx" | "img" | "dd"
    )
}

pub(crate) fn is_queue_name(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name == "qmgr.db" || (name.starts_with("qmgr") && name.ends_with(".dat"))
}
