//! The payload on disk (images): each record's `full_path` and `tmp_fullpath` looked up in the
//! MFT of the volume its store lies in (live and deleted entries, through the NTFS reader's
//! own walk: `container::ntfs::files_named`, paths named as the stores' are, orphans under
//! `\$OrphanFiles`), its size and times attached to the record as facts, and a payload the
//! MFT does not know said so.
//!
//! A store's records are held until the store is done (a store is bounded: see
//! `container::MAX_STORE`), so the volume's MFT is read once for all their names.

use std::collections::HashSet;

use super::{Diagnostic, Phase, Sink, Stop};
use crate::bits::model::BitsInfo;
use crate::bits::story::Fact;
use crate::container::ntfs::{files_named, MftFile, Times};
use crate::container::{Found, Store};

/// Holds a store's records (and passes everything else on).
pub(super) struct Held<'s> {
    pub sink: &'s mut dyn Sink,
    pub records: Vec<BitsInfo>,
}

impl Sink for Held<'_> {
    fn record(&mut self, record: BitsInfo) -> Result<(), Stop> {
        self.records.push(record);
        Ok(())
    }
    fn warning(&mut self, warning: &Diagnostic) -> Result<(), Stop> {
        self.sink.warning(warning)
    }
    fn progress(&mut self, phase: Phase, done: u64, total: u64) -> Result<(), Stop> {
        self.sink.progress(phase, done, total)
    }
}

/// A Windows path as the volume knows it: no drive letter or `\\?\` prefix, lower case.
fn in_volume(path: &str) -> Option<String> {
    let p = path.strip_prefix(r"\\?\").unwrap_or(path);
    let rest = match p.as_bytes() {
        [d, b':', ..] if d.is_ascii_alphabetic() => p.get(2..)?,
        _ => return None,
    };
    rest.starts_with('\\').then(|| rest.to_lowercase())
}

fn base_name(path: &str) -> String {
    path.rsplit('\\').next().unwrap_or(path).to_string()
}

/// Attach to each record what the store's volume says of its files.
pub(super) fn attach(found: &Found, store: &Store, records: &mut [BitsInfo]) {
    let Some(vol) = found
        .volumes
        .iter()
        .filter(|v| store.chain.starts_with(&v.chain))
        .max_by_key(|v| v.chain.len())
    else {
        return;
    };
    let mut names = HashSet::new();
    for r in records.iter() {
        for p in [&r.full_path, &r.tmp_fullpath] {
            if let Some(p) = in_volume(p) {
                names.insert(base_name(&p));
            }
        }
    }
    if names.is_empty() {
        return;
    }
    let files = files_named(&*found.disk, vol.offset, vol.len, &names);
    // The chain below the disk (what the image's form, raw, E01 or VHD, does not change).
    let place = vol.chain.get(1..).unwrap_or_default().join(" > ");
    for r in records.iter_mut() {
        for (path, role, required) in [
            (r.full_path.clone(), "payload file", true),
            (r.tmp_fullpath.clone(), "temporary file", false),
        ] {
            let Some(want) = in_volume(&path) else {
                continue;
            };
            let hits: Vec<&MftFile> = files
                .iter()
                .filter(|f| !f.directory && f.path.to_lowercase() == want)
                .collect();
            if hits.is_empty() && required {
                r.story
                    .push(Fact::at(0, &format!("{role} not in the MFT"), "MFT").with(
                        place.clone(),
                        format!("{path}: no MFT entry, live or deleted, has this path"),
                        "path",
                    ));
            }
            for f in hits {
                r.story.extend(file_facts(f, role, &place));
            }
        }
    }
}

/// One MFT entry's times as facts: every `$STANDARD_INFORMATION` time, and the `$FILE_NAME`
/// times that differ from them.
fn file_facts(f: &MftFile, role: &str, place: &str) -> Vec<Fact> {
    let state = if f.deleted { "deleted" } else { "in use" };
    let detail = format!(
        "{}: MFT entry {} (sequence {}), {state}, {} bytes",
        f.path, f.entry, f.sequence, f.size
    );
    let provenance = format!(
        "{place} > MFT entry {} (record at disk offset {})",
        f.entry, f.record_offset
    );
    let named = |t: &Times| {
        [
            (t.created, "created"),
            (t.modified, "modified"),
            (t.changed, "MFT entry changed"),
            (t.accessed, "accessed"),
        ]
    };
    let mut out = Vec::new();
    for (ft, what) in named(&f.si) {
        if ft > 0 {
            out.push(
                Fact::at(ft, &format!("{role} {what} ($SI)"), "MFT")
                    .with(provenance.clone(), detail.clone(), "path")
                    .valued(&f.path),
            );
        }
    }
    for ((ft, what), (si, _)) in named(&f.fname).into_iter().zip(named(&f.si)) {
        if ft > 0 && ft != si {
            out.push(Fact::at(ft, &format!("{role} {what} ($FN)"), "MFT").with(
                provenance.clone(),
                detail.clone(),
                "path",
            ));
        }
    }
    out
}
