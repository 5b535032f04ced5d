//! Files by name, in one walk of the MFT, in use or deleted: for each entry one of whose
//! `$FILE_NAME`s is a name asked for, what the MFT says of it (path, entry and sequence,
//! whether it is deleted or a directory, size, the `$STANDARD_INFORMATION` and `$FILE_NAME`
//! times, where its record lies on the disk). A job's payload files are looked up here for its
//! story (`pipeline/payload.rs`).
//!
//! It is the stores' walk (`walk_mft`: at most [`super::MAX_MFT_ENTRIES`] entries, torn
//! records and records holding another entry's number left out), directories included; a
//! file is gathered from its base and extension records (`file.rs`: at most
//! `file::MAX_NAMES` names), and its path is named as a store's is (`paths.rs`: TSK's orphan
//! rule, 64 folders deep), so a deleted or orphaned payload file has the path its store
//! would have. At most [`MAX_FOUND`] files are returned.

use std::collections::HashSet;
use std::ops::ControlFlow;

use super::attribute::{Value, FILE_NAME};
use super::file::{self, StreamData};
use super::file_name::{FileName, DOS};
use super::record::Record;
use super::standard_information::Times;
use super::volume::Vol;
use super::{has_list, walk_mft, Walk};
use crate::container::ReadAt;

/// Files returned at most (the walk stops there).
pub const MAX_FOUND: usize = 1 << 16;

/// A file the MFT knows by one of the names asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MftFile {
    /// From the volume's root, `\`-separated, as `paths.rs` names it (`\$OrphanFiles\...`
    /// for an orphan, `?` for a folder whose record cannot be read).
    pub path: String,
    pub entry: u64,
    pub sequence: u16,
    pub deleted: bool,
    pub directory: bool,
    /// The unnamed `$DATA`'s size (the `$FILE_NAME`'s when there is none).
    pub size: u64,
    pub si: Times,
    /// The times of the `$FILE_NAME` that matched.
    pub fname: Times,
    /// The file record's offset in the disk.
    pub record_offset: u64,
}

/// Every file of the NTFS volume of `len` bytes at `offset` in `disk` one of whose names (any
/// case) is in `names` (lower case), under that name (a long one rather than a DOS one).
/// Empty when the volume cannot be read (the stores' walk says why).
pub fn files_named(
    disk: &dyn ReadAt,
    offset: u64,
    len: u64,
    names: &HashSet<String>,
) -> Vec<MftFile> {
    let Ok(vol) = Vol::open(disk, offset, len) else {
        return Vec::new();
    };
    let mut walk = Walk::new(&vol, Vec::new());
    walk.directories = true;
    let mut out = Vec::new();
    let _ = walk_mft(&mut walk, &mut |w, n, at, bytes| {
        let Some(rec) = Record::new(bytes) else {
            return ControlFlow::Continue(());
        };
        if !names_one(&rec, names) && !has_list(&rec) {
            return ControlFlow::Continue(());
        }
        let f = file::gather(w.vol, n, &rec);
        let wanted = |x: &&FileName| names.contains(&x.name.to_lowercase());
        let Some(name) = f
            .names
            .iter()
            .filter(wanted)
            .find(|x| x.namespace != DOS)
            .or_else(|| f.names.iter().find(wanted))
        else {
            return ControlFlow::Continue(());
        };
        let size = match f
            .streams
            .iter()
            .find(|s| s.name.is_empty())
            .map(|s| &s.data)
        {
            Some(StreamData::Resident(b)) => b.len() as u64,
            Some(StreamData::NonResident { size, .. }) => *size,
            None => name.size,
        };
        let folder = w.dirs.path(w.vol, name.parent, name.parent_sequence);
        out.push(MftFile {
            path: format!("{folder}\\{}", name.name),
            entry: n,
            sequence: f.sequence,
            deleted: !f.in_use,
            directory: f.dir,
            size,
            si: f.si,
            fname: name.times,
            record_offset: at,
        });
        if out.len() >= MAX_FOUND {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    // What the walk met in the MFT the stores' walk of the same MFT says: said once, there.
    drop(walk);
    out
}

/// Whether one of the record's own `$FILE_NAME`s is in `names` (most records never get
/// further).
fn names_one(rec: &Record, names: &HashSet<String>) -> bool {
    rec.attributes()
        .filter_map(Result::ok)
        .any(|a| match a.value {
            Value::Resident(v) if a.ty == FILE_NAME => {
                FileName::parse(v).is_some_and(|n| names.contains(&n.name.to_lowercase()))
            }
            _ => false,
        })
}
