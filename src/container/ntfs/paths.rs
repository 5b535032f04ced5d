//! A file's path in its volume, from the parent references of its `$FILE_NAME`s up to the
//! root, with the orphan rule of The Sleuth Kit: a parent reference whose sequence number no
//! longer matches the directory's record (the folder was deleted and its entry reused), or that
//! points at something that is not a directory, ends the path in `\$OrphanFiles`, as `fls -p`
//! names such files. A deleted directory's sequence number was bumped when it was freed, so its
//! children carry the number before (TSK looks for them one lower).

use std::collections::{HashMap, HashSet};

use super::file::{self, File};
use super::file_name::DOS;
use super::record::Record;
use super::volume::Vol;

/// The root directory's MFT entry.
pub const ROOT: u64 = 5;
/// Parent directories followed when building a path.
const MAX_DEPTH: usize = 64;
/// Directories remembered (name, parent) for later paths.
const MAX_DIRS: usize = 1 << 16;
/// The folder TSK lists orphan files in.
pub const ORPHANS: &str = "$OrphanFiles";

#[derive(Debug, Clone)]
struct Dir {
    name: String,
    parent: u64,
    parent_sequence: u16,
    sequence: u16,
    in_use: bool,
    is_dir: bool,
}

/// Directory entries already read (`None`: unreadable).
#[derive(Default)]
pub struct Dirs {
    known: HashMap<u64, Option<Dir>>,
}

/// The name a file is best known by: a long name, else its DOS name.
pub fn best_name(f: &File) -> Option<&super::file_name::FileName> {
    f.names
        .iter()
        .find(|n| n.namespace != DOS)
        .or(f.names.first())
}

impl Dirs {
    fn dir(&mut self, vol: &Vol, n: u64) -> Option<Dir> {
        if let Some(d) = self.known.get(&n) {
            return d.clone();
        }
        let mut buf = vec![0u8; vol.record_len()];
        let d = vol.read_record(n, &mut buf).ok().and_then(|()| {
            let rec = Record::new(&buf)?;
            let f = file::gather(vol, n, &rec);
            let name = best_name(&f)?;
            Some(Dir {
                name: name.name.clone(),
                parent: name.parent,
                parent_sequence: name.parent_sequence,
                sequence: f.sequence,
                in_use: f.in_use,
                is_dir: f.dir,
            })
        });
        if self.known.len() < MAX_DIRS {
            self.known.insert(n, d.clone());
        }
        d
    }

    /// The path of directory `n` as a parent referenced with `sequence`: `""` for the root,
    /// `\A\B` below it, `\$OrphanFiles` (then the folders below the break) when a reference
    /// no longer matches, `?` for a folder whose record cannot be read.
    pub fn path(&mut self, vol: &Vol, mut n: u64, mut sequence: u16) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        while n != ROOT {
            if parts.len() >= MAX_DEPTH || !seen.insert(n) {
                parts.push("?".into());
                break;
            }
            let Some(d) = self.dir(vol, n) else {
                parts.push("?".into());
                break;
            };
            let expected = if d.in_use {
                d.sequence
            } else {
                d.sequence.saturating_sub(1)
            };
            if !d.is_dir || expected != sequence {
                parts.push(ORPHANS.into());
                break;
            }
            parts.push(d.name);
            (n, sequence) = (d.parent, d.parent_sequence);
        }
        parts.reverse();
        if parts.is_empty() {
            String::new()
        } else {
            format!("\\{}", parts.join("\\"))
        }
    }
}
