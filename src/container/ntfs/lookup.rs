//! Files of an NTFS volume by path, through the directory indexes (`$I30`, see `index.rs`),
//! rather than by walking the whole MFT: a live system volume's MFT holds a million entries
//! and more (a gigabyte to read), while a path is a few index records per folder. Used for the
//! live host (`pipeline/live/`), whose BITS files lie at known paths.
//!
//! Names compare through the volume's own `$UpCase` table, as Windows compares them. Every
//! walk is bounded: the index records read per lookup ([`INDEX_READ`] bytes, each record once,
//! so subnodes pointing back at their parents end), the depth ([`MAX_DEPTH`]), the names listed
//! in a folder ([`MAX_ENTRIES`]). An entry whose file record no longer matches it (another
//! sequence number, not in use, not a base record) is refused. Only live files are found: a
//! deleted file has no index entry (the MFT walk finds those, in images).

use std::cmp::Ordering;
use std::collections::HashSet;

use super::file::{self, File, StreamData};
use super::index::{self, Entry, Index};
use super::record::Record;
use super::upcase::{self, UpCase};
use super::volume::Vol;
use super::{paths, store_data};
use crate::container::{ReadAt, Store};

/// Bytes of index records read in one lookup (a few records per folder normally).
pub const INDEX_READ: u64 = 64 << 20;
/// Levels of an index descended.
pub const MAX_DEPTH: usize = 64;
/// Names listed in one folder.
pub const MAX_ENTRIES: usize = 1 << 16;
/// The largest index record taken (Windows writes 4 KiB).
const MAX_BLOCK: u64 = 64 << 10;
/// The largest index bitmap read (a folder of 32 Gi index records).
const MAX_BITMAP: u64 = 1 << 20;

/// An NTFS volume opened for lookups by path.
pub struct Lookup<'a> {
    vol: Vol<'a>,
    upcase: UpCase,
    /// The containers down to the file system (`[..., "NTFS"]`).
    chain: Vec<String>,
    /// Index bytes read in the current lookup.
    read: u64,
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
        if !super::is_ntfs(image, offset) {
            return Err(format!("no NTFS boot sector at offset {offset}"));
        }
        let vol = Vol::open(image, offset, len).map_err(|e| format!("boot sector: {e}"))?;
        let table = read_file(&vol, upcase::ENTRY)
            .and_then(|f| small_value(&vol, &f, upcase::SIZE))
            .map_err(|e| format!("$UpCase: {e}"))?;
        let mut chain = chain.to_vec();
        chain.push("NTFS".into());
        Ok(Lookup {
            vol,
            upcase: UpCase::new(&table),
            chain,
            read: 0,
        })
    }

    /// The files of the folder at `path` (its names from the root) whose names `wanted`
    /// takes, as stores in name order; `None` when the folder is not there.
    pub fn folder(
        &mut self,
        path: &[&str],
        wanted: &dyn Fn(&str) -> bool,
    ) -> Result<Option<Vec<Store>>, String> {
        self.read = 0;
        let Some((dir, shown)) = self.down(path)? else {
            return Ok(None);
        };
        let mut named: Vec<(String, (u64, u16))> = Vec::new();
        let mut seen = HashSet::new();
        let mut listed = 0usize;
        self.each_entry(&dir, &mut |e| {
            let Some(key) = &e.key else { return Ok(()) };
            listed = listed.saturating_add(1);
            if listed > MAX_ENTRIES {
                return Err(format!("{shown}: more than {MAX_ENTRIES} names"));
            }
            // A file with a long name is listed twice (its DOS 8.3 name too).
            if key.namespace == super::file_name::DOS || key.is_dir {
                return Ok(());
            }
            let name = String::from_utf16_lossy(&key.name);
            if wanted(&name) && seen.insert(e.file.0) {
                named.push((name, e.file));
            }
            Ok(())
        })?;
        let mut stores = Vec::new();
        for (name, (n, sequence)) in named {
            let path = format!("{shown}\\{name}");
            let f = read_file(&self.vol, n).map_err(|e| format!("{path}: {e}"))?;
            if f.sequence != sequence || !f.in_use {
                return Err(format!(
                    "{path}: the folder's index names MFT entry {n}, which no longer holds it"
                ));
            }
            let stream = f
                .streams
                .iter()
                .find(|s| s.name.is_empty())
                .ok_or_else(|| format!("{path} (MFT entry {n}): no $DATA attribute"))?;
            let (size, data) = store_data(&self.vol, stream)
                .map_err(|e| format!("{path} (MFT entry {n}): {e}"))?;
            let mut chain = self.chain.clone();
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

    /// The file at `path` (its names from the root), when there is one.
    pub fn file(&mut self, path: &[&str]) -> Result<Option<Store>, String> {
        let Some((name, dir)) = path.split_last() else {
            return Ok(None);
        };
        let want: Vec<u16> = name.encode_utf16().collect();
        // `folder` borrows `self`: the names compare by the table taken out for the while.
        let table = std::mem::replace(&mut self.upcase, UpCase::new(&[]));
        let result = self.folder(dir, &|n| {
            table.compare(&n.encode_utf16().collect::<Vec<u16>>(), &want) == Ordering::Equal
        });
        self.upcase = table;
        Ok(result?.and_then(|mut stores| (!stores.is_empty()).then(|| stores.swap_remove(0))))
    }

    /// Down `path` from the root, one index descent per folder: the folder's file and its
    /// path as the volume spells it; `None` when a folder is not there.
    fn down(&mut self, path: &[&str]) -> Result<Option<(File, String)>, String> {
        let mut dir = read_file(&self.vol, paths::ROOT)?;
        let mut shown = String::new();
        for part in path {
            let want: Vec<u16> = part.encode_utf16().collect();
            let Some(e) = self.find(&dir, &want)? else {
                return Ok(None);
            };
            let (n, sequence) = e.file;
            let Ok(f) = read_file(&self.vol, n) else {
                return Ok(None);
            };
            if !f.dir || !f.in_use || f.sequence != sequence {
                return Ok(None);
            }
            shown.push('\\');
            shown.push_str(
                &e.key
                    .map_or_else(|| part.to_string(), |k| String::from_utf16_lossy(&k.name)),
            );
            dir = f;
        }
        Ok(Some((dir, shown)))
    }

    /// The entry of `dir`'s index whose name is `want` (through `$UpCase`), descending the
    /// B-tree: in each node, the first entry not below the name is it, or the subnode to go
    /// down into.
    fn find(&mut self, dir: &File, want: &[u16]) -> Result<Option<Entry>, String> {
        let ix = index_of(&self.vol, dir)?;
        let mut node = index::entries(&ix.root, 0x10)?;
        let mut visited = HashSet::new();
        for _ in 0..MAX_DEPTH {
            let mut next = None;
            for e in node {
                let below = match &e.key {
                    None => Ordering::Greater,
                    Some(k) => self.upcase.compare(&k.name, want),
                };
                match below {
                    Ordering::Equal => return Ok(Some(e)),
                    Ordering::Less => continue,
                    Ordering::Greater => {
                        next = e.subnode;
                        break;
                    }
                }
            }
            let Some(vcn) = next else {
                return Ok(None);
            };
            if !visited.insert(vcn) {
                return Err(format!(
                    "the index's subnode at VCN {vcn} is its own ancestor"
                ));
            }
            let buf = ix.node(&self.vol, vcn, &mut self.read, INDEX_READ)?;
            node = index::entries(&buf, 0x18)?;
        }
        Err(format!("the index is more than {MAX_DEPTH} levels deep"))
    }

    /// Every entry of `dir`'s index, node by node from the root (each index record once).
    fn each_entry(
        &mut self,
        dir: &File,
        each: &mut dyn FnMut(&Entry) -> Result<(), String>,
    ) -> Result<(), String> {
        let ix = index_of(&self.vol, dir)?;
        let mut stack = vec![index::entries(&ix.root, 0x10)?];
        let mut visited = HashSet::new();
        while let Some(node) = stack.pop() {
            for e in &node {
                each(e)?;
                if let Some(vcn) = e.subnode {
                    if visited.insert(vcn) {
                        let buf = ix.node(&self.vol, vcn, &mut self.read, INDEX_READ)?;
                        stack.push(index::entries(&buf, 0x18)?);
                    }
                }
            }
        }
        Ok(())
    }
}

/// MFT entry `n`, gathered (its base record, read through its attribute list).
fn read_file(vol: &Vol, n: u64) -> Result<File, String> {
    let mut buf = vec![0u8; vol.record_len()];
    vol.read_record(n, &mut buf)?;
    let rec = Record::new(&buf).ok_or_else(|| format!("MFT entry {n}: no FILE signature"))?;
    if rec.base() != 0 {
        return Err(format!("MFT entry {n} is an extension record"));
    }
    Ok(file::gather(vol, n, &rec))
}

/// A file's unnamed `$DATA`, at most `max` bytes of it.
fn small_value(vol: &Vol, f: &File, max: u64) -> Result<Vec<u8>, String> {
    let s = f
        .streams
        .iter()
        .find(|s| s.name.is_empty())
        .ok_or("no $DATA attribute")?;
    match &s.data {
        StreamData::Resident(b) => Ok(b
            .iter()
            .take(usize::try_from(max).unwrap_or(0))
            .copied()
            .collect()),
        StreamData::NonResident { size, runs, .. } => vol.read_runs(runs, (*size).min(max)),
    }
}

/// A directory's `$I30` index as its record holds it.
fn index_of(vol: &Vol, dir: &File) -> Result<Index, String> {
    let of = |ty: u32| dir.index.iter().find(|(t, _)| *t == ty).map(|(_, d)| d);
    let root = match of(super::attribute::INDEX_ROOT) {
        Some(StreamData::Resident(b)) => b.clone(),
        _ => return Err(format!("MFT entry {}: no $INDEX_ROOT", dir.number)),
    };
    let block = u64::from(crate::util::bytes::u32_le(&root, 8).unwrap_or(0));
    if !(512..=MAX_BLOCK).contains(&block) || !block.is_power_of_two() {
        return Err(format!(
            "MFT entry {}: index records of {block} bytes",
            dir.number
        ));
    }
    let alloc = match of(super::attribute::INDEX_ALLOCATION) {
        Some(StreamData::NonResident { size, runs, .. }) => Some((runs.clone(), *size)),
        _ => None,
    };
    let bitmap = match of(super::attribute::BITMAP) {
        Some(StreamData::Resident(b)) => b.clone(),
        Some(StreamData::NonResident { size, runs, .. }) => {
            if *size > MAX_BITMAP {
                return Err(format!(
                    "MFT entry {}: an index bitmap of {size} bytes",
                    dir.number
                ));
            }
            vol.read_runs(runs, *size)?
        }
        None => Vec::new(),
    };
    Ok(Index {
        root,
        alloc,
        bitmap,
        block,
    })
}
