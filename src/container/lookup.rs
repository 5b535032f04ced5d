//! Files of an NTFS volume by path, through its directory indexes (the `$I30` B-trees), rather
//! than by walking the whole MFT: a live system volume's MFT holds a million entries and more
//! (a gigabyte to read), while a path is a few index records per folder. Used for the live
//! host (`pipeline/live.rs`), whose BITS files lie at known paths.
//!
//! The `ntfs` crate (see `ntfs.rs`) reads the boot sector, the `$UpCase` table (names compare
//! case-insensitively by the volume's own table, as Windows compares them), the indexes and
//! the file records. Its calls are bounded here: every read it makes goes through [`Budget`],
//! which fails reads past [`INDEX_READ`] bytes (a file's: [`FILE_READ`]) or [`MAX_CALLS`]
//! calls (an index whose subnodes point back at themselves would otherwise be followed for
//! ever, holding each node it read), a folder
//! lists at most [`MAX_ENTRIES`] names, and a panic inside the crate is caught and returned
//! as an error. Only live files are found: a deleted file has no index entry (the MFT walk of
//! `ntfs.rs` finds those, in images).

use std::collections::HashSet;
use std::io::{self, Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};

use ntfs::indexes::NtfsFileNameIndex;
use ntfs::structured_values::NtfsFileNamespace;
use ntfs::{Ntfs, NtfsAttributeFlags, NtfsFile, NtfsFileFlags};

use super::ntfs::Window;
use super::{Extent, ReadAt, Store, StoreData, MAX_STORE};

/// Bytes the crate may read while it walks the indexes of one lookup (a few records per
/// folder normally; the crate holds what it reads of a node while it walks below it, so this
/// bounds its memory too).
const INDEX_READ: u64 = 64 << 20;
/// Bytes the crate may read for one file spread over several MFT records (read whole through
/// it): the largest store, and room for its records.
const FILE_READ: u64 = MAX_STORE + (16 << 20);
/// Reads the crate may make in one phase (it reads some structures a few bytes at a time; a
/// lookup makes a few hundred).
const MAX_CALLS: u64 = 1 << 20;
/// Names listed in one folder.
const MAX_ENTRIES: usize = 1 << 16;
/// Data runs followed for one file.
const MAX_RUNS: usize = 1 << 16;

/// `Read + Seek` that fails once too much has been read through it.
struct Budget<R> {
    inner: R,
    bytes: u64,
    calls: u64,
    limit: u64,
}

impl<R> Budget<R> {
    /// A new phase, of at most `limit` bytes and [`MAX_CALLS`] reads.
    fn reset(&mut self, limit: u64) {
        self.bytes = 0;
        self.calls = 0;
        self.limit = limit;
    }
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.bytes >= self.limit || self.calls > MAX_CALLS {
            return Err(io::Error::other(format!(
                "the lookup read more than {} bytes or made more than {MAX_CALLS} reads: a corrupt index or file record?",
                self.limit
            )));
        }
        let n = self.inner.read(buf)?;
        self.bytes = self.bytes.saturating_add(n as u64);
        Ok(n)
    }
}

impl<R: Seek> Seek for Budget<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.inner.seek(to)
    }
}

/// An NTFS volume opened for lookups by path.
pub struct Lookup<'a> {
    ntfs: Ntfs,
    fs: Budget<Window<'a>>,
    /// The volume's offset in the image and its length.
    offset: u64,
    len: u64,
    /// The containers down to the file system (`[..., "NTFS"]`).
    chain: Vec<String>,
}

impl<'a> Lookup<'a> {
    /// The NTFS volume of `len` bytes at `offset` in `image`; `chain` is the containers above
    /// it (`live volume \\.\C:`).
    pub fn open(
        image: &'a dyn ReadAt,
        offset: u64,
        len: u64,
        chain: &[String],
    ) -> Result<Lookup<'a>, String> {
        if !super::ntfs::is_ntfs(image, offset) {
            return Err(format!("no NTFS boot sector at offset {offset}"));
        }
        let mut fs = Budget {
            inner: Window::new(image, offset, len),
            bytes: 0,
            calls: 0,
            limit: INDEX_READ,
        };
        let ntfs = guard(|| -> Result<Ntfs, String> {
            let mut ntfs = Ntfs::new(&mut fs).map_err(|e| format!("boot sector: {e}"))?;
            ntfs.read_upcase_table(&mut fs)
                .map_err(|e| format!("$UpCase: {e}"))?;
            Ok(ntfs)
        })??;
        let mut chain = chain.to_vec();
        chain.push("NTFS".into());
        Ok(Lookup {
            ntfs,
            fs,
            offset,
            len,
            chain,
        })
    }

    /// The files of the folder at `path` (its names from the root) whose names `wanted`
    /// takes, as stores in name order; `None` when the folder is not there.
    pub fn folder(
        &mut self,
        path: &[&str],
        wanted: &dyn Fn(&str) -> bool,
    ) -> Result<Option<Vec<Store>>, String> {
        guard(|| folder(self, path, wanted))?
    }

    /// The file at `path` (its names from the root), when there is one.
    pub fn file(&mut self, path: &[&str]) -> Result<Option<Store>, String> {
        let Some((name, dir)) = path.split_last() else {
            return Ok(None);
        };
        let found = self.folder(dir, &|n| n.eq_ignore_ascii_case(name))?;
        Ok(found.and_then(|mut stores| {
            let i = stores
                .iter()
                .position(|s| s.name.eq_ignore_ascii_case(name))?;
            Some(stores.swap_remove(i))
        }))
    }
}

/// Run `f`, turning a panic inside the NTFS crate into an error text.
fn guard<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        let what = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        format!("the NTFS reader failed ({what})")
    })
}

fn text(e: ntfs::NtfsError) -> String {
    e.to_string()
}

/// See [`Lookup::folder`].
fn folder(
    l: &mut Lookup,
    path: &[&str],
    wanted: &dyn Fn(&str) -> bool,
) -> Result<Option<Vec<Store>>, String> {
    let ntfs = &l.ntfs;
    let fs = &mut l.fs;
    fs.reset(INDEX_READ);
    // Down the path, one index lookup per folder; `shown` spells it as the volume does.
    let mut dir = ntfs.root_directory(fs).map_err(text)?;
    let mut shown = String::new();
    for part in path {
        let next = {
            let index = dir.directory_index(fs).map_err(text)?;
            let mut finder = index.finder();
            let Some(entry) = NtfsFileNameIndex::find(&mut finder, ntfs, fs, part) else {
                return Ok(None);
            };
            let entry = entry.map_err(text)?;
            let name = match entry.key() {
                Some(Ok(key)) => key.name().to_string_lossy(),
                _ => part.to_string(),
            };
            (name, entry.file_reference())
        };
        let (name, reference) = next;
        let file = reference.to_file(ntfs, fs).map_err(text)?;
        if !file.is_directory() || file.sequence_number() != reference.sequence_number() {
            return Ok(None);
        }
        shown.push('\\');
        shown.push_str(&name);
        dir = file;
    }
    // The folder's names: a file with a long name is listed twice (its DOS 8.3 name too).
    let mut named = Vec::new();
    {
        let index = dir.directory_index(fs).map_err(text)?;
        let mut entries = index.entries();
        let mut seen = HashSet::new();
        let mut listed = 0usize;
        while let Some(entry) = entries.next(fs) {
            listed += 1;
            if listed > MAX_ENTRIES {
                return Err(format!("{shown}: more than {MAX_ENTRIES} names"));
            }
            let entry = entry.map_err(text)?;
            let Some(Ok(key)) = entry.key() else { continue };
            if key.namespace() == NtfsFileNamespace::Dos || key.is_directory() {
                continue;
            }
            let name = key.name().to_string_lossy();
            let reference = entry.file_reference();
            if wanted(&name) && seen.insert(reference.file_record_number()) {
                named.push((name, reference));
            }
        }
    }
    let mut stores = Vec::new();
    for (name, reference) in named {
        let n = reference.file_record_number();
        let file = reference.to_file(ntfs, fs).map_err(text)?;
        let path = format!("{shown}\\{name}");
        if file.sequence_number() != reference.sequence_number()
            || !file.flags().contains(NtfsFileFlags::IN_USE)
        {
            return Err(format!(
                "{path}: the folder's index names MFT entry {n}, which no longer holds it"
            ));
        }
        fs.reset(FILE_READ);
        let (size, data) = file_data(&file, fs, l.offset, l.len)
            .map_err(|e| format!("{path} (MFT entry {n}): {e}"))?;
        let mut chain = l.chain.clone();
        chain.push(format!("{path} (MFT entry {n})"));
        stores.push(Store {
            chain,
            path,
            name,
            mft_entry: Some(n),
            deleted: false,
            size,
            data,
        });
    }
    Ok(Some(stores))
}

/// A file's unnamed $DATA: its size and where its bytes are (as `ntfs.rs` tells them for the
/// files its walk finds).
fn file_data<T: Read + Seek>(
    file: &NtfsFile,
    fs: &mut T,
    base: u64,
    vol: u64,
) -> Result<(u64, StoreData), String> {
    use ntfs::attribute_value::NtfsAttributeValue as V;
    let item = file
        .data(fs, "")
        .ok_or("no $DATA attribute")?
        .map_err(text)?;
    let attr = item.to_attribute().map_err(text)?;
    let compressed = attr.flags().contains(NtfsAttributeFlags::COMPRESSED);
    let value = attr.value(fs).map_err(text)?;
    let size = value.len();
    if size > MAX_STORE {
        return Err(format!(
            "$DATA of {size} bytes, more than the {MAX_STORE} a store is read to"
        ));
    }
    match value {
        V::Resident(v) => Ok((size, StoreData::Resident(v.data().to_vec()))),
        V::NonResident(v) => {
            let mut extents = Vec::new();
            let mut total = 0u64;
            for (i, run) in v.data_runs().enumerate() {
                if total >= size {
                    break;
                }
                if i >= MAX_RUNS {
                    return Err(format!("more than {MAX_RUNS} data runs"));
                }
                let run = run.map_err(text)?;
                let len = run.allocated_size().min(size - total);
                let at = run.data_position().value().map(|p| p.get());
                if at.is_some_and(|at| at.saturating_add(len) > vol) {
                    return Err(format!(
                        "a data run ({len} bytes) ends past the volume's end"
                    ));
                }
                extents.push(Extent {
                    offset: at.map(|a| a.saturating_add(base)),
                    len,
                });
                total += len;
            }
            if total < size {
                return Err(format!(
                    "data runs cover {total} of the file's {size} bytes"
                ));
            }
            if compressed {
                Ok((size, StoreData::Compressed(extents)))
            } else {
                Ok((size, StoreData::Extents(extents)))
            }
        }
        _ if compressed => Ok((size, StoreData::Compressed(Vec::new()))),
        other => {
            // Spread over several MFT records (an attribute list): read through the crate.
            let mut bytes = Vec::new();
            other
                .attach(fs)
                .take(MAX_STORE)
                .read_to_end(&mut bytes)
                .map_err(|e| e.to_string())?;
            Ok((size, StoreData::Resident(bytes)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Never ends, as an index whose subnodes point back at themselves never would.
    struct Endless;

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            buf.fill(0);
            Ok(buf.len())
        }
    }

    #[test]
    fn the_budget_ends_endless_reading() {
        let mut b = Budget {
            inner: Endless,
            bytes: 0,
            calls: 0,
            limit: 1 << 20,
        };
        let mut buf = [0u8; 4096];
        let ok = std::iter::from_fn(|| b.read(&mut buf).ok()).count();
        assert_eq!(ok, 256);
        // Tiny reads end at the call count.
        b.reset(u64::MAX);
        let ok = std::iter::from_fn(|| b.read(&mut buf[..1]).ok()).count();
        assert_eq!(ok as u64, MAX_CALLS);
    }
}
