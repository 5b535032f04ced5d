//! Windows registry hives (`regf`), read in place: keys by path, their subkeys and values.
//! Only what the evidence's own accounts need (SAM, SOFTWARE's `ProfileList`: see
//! [`accounts`]) and the computer's name (SYSTEM: see [`system`]); no transaction logs, no deleted cells. This reader knows nothing of BITS.
//!
//! Why not the `notatin` crate: its version requirements are open-ended (`nom >= 6`), so it
//! resolves to nom 8 and does not build; pinned to nom 7 it still drags a terminal crate
//! (`crossterm`, not optional) into the library, which must build without UI crates.
//!
//! The layout (offsets in bytes):
//! - base block (4096): `regf` at 0, the root key's cell offset (u32) at 0x24, the length of
//!   the hive bins (u32) at 0x28. Cell offsets count from the end of the base block.
//! - a cell: its size (i32; negative while allocated), then its data:
//!   - `nk` key: flags (u16) at 2 (0x20: ASCII name), last written FILETIME at 4, subkey count
//!     (u32) at 0x14, subkey list (u32) at 0x1c, value count (u32) at 0x24, value list (u32) at
//!     0x28, name length (u16) at 0x48, name at 0x4c.
//!   - `lf`/`lh` subkey lists: count (u16) at 2, 8-byte entries (key offset, hash) from 4;
//!     `li`: 4-byte entries; `ri`: 4-byte entries that are offsets of other lists.
//!   - `vk` value: name length (u16) at 2, data size (u32) at 4 (high bit: the data is the
//!     offset field itself), data offset (u32) at 8, type (u32) at 0xc, flags (u16) at 0x10
//!     (1: ASCII name), name at 0x14. Data larger than a cell (`db` big data) is not read.
//!
//! Hostile hives: every read is bounds-checked against the bytes present; a list holds at most
//! the entries its cell holds, an `ri` list is followed one level only, and lookups walk a path
//! (no recursion over the tree), so no hive can loop or balloon a read.
pub mod accounts;
pub mod system;

use crate::util::bytes::{slice, u16_le, u32_le, u64_le};
use crate::util::utf16::decode_utf16le;

/// Where the hive bins start: cell offsets count from here.
const BINS: usize = 4096;
/// The most subkeys or values listed from one key.
const MAX_ENTRIES: usize = 65_536;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HiveError {
    #[error("not a registry hive (no `regf` at offset 0)")]
    NotAHive,
    #[error("the root key's cell (offset {0:#x}) is not a key")]
    NoRoot(u32),
}

/// An open hive over its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Hive<'a> {
    data: &'a [u8],
    root: u32,
}

/// A key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// Offset of the key's cell in the hive file.
    pub offset: u64,
    pub name: String,
    /// Last written, FILETIME.
    pub written: u64,
    subkey_count: u32,
    subkey_list: u32,
    value_count: u32,
    value_list: u32,
}

/// A value of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// `""` for the key's default value.
    pub name: String,
    /// REG_SZ = 1, REG_EXPAND_SZ = 2, REG_BINARY = 3, REG_DWORD = 4, ...; SAM's `Names` keys
    /// store the account's RID here.
    pub kind: u32,
    pub data: Vec<u8>,
    /// Offset of the value's cell in the hive file.
    pub offset: u64,
}

impl Value {
    /// The data as a string (REG_SZ / REG_EXPAND_SZ: UTF-16LE up to the first NUL).
    pub fn text(&self) -> String {
        let s = decode_utf16le(&self.data);
        s.split('\0').next().unwrap_or("").to_string()
    }

    pub fn dword(&self) -> Option<u32> {
        u32_le(&self.data, 0)
    }
}

/// Whether `head` starts like a hive (`regf`).
pub fn is_hive(head: &[u8]) -> bool {
    head.starts_with(b"regf")
}

impl<'a> Hive<'a> {
    pub fn open(data: &'a [u8]) -> Result<Hive<'a>, HiveError> {
        if !is_hive(data) {
            return Err(HiveError::NotAHive);
        }
        let root = u32_le(data, 0x24).ok_or(HiveError::NotAHive)?;
        let hive = Hive { data, root };
        hive.key_at(root).ok_or(HiveError::NoRoot(root))?;
        Ok(hive)
    }

    /// A cell's data (after its size), or `None` when out of bounds.
    fn cell(&self, offset: u32) -> Option<&'a [u8]> {
        let at = BINS.checked_add(usize::try_from(offset).ok()?)?;
        let size = u32_le(self.data, at)? as i32;
        let len = usize::try_from(size.unsigned_abs()).ok()?.checked_sub(4)?;
        let end = at.checked_add(4)?.checked_add(len)?.min(self.data.len());
        self.data.get(at.checked_add(4)?..end)
    }

    fn key_at(&self, offset: u32) -> Option<Key> {
        let c = self.cell(offset)?;
        if c.get(..2)? != b"nk" {
            return None;
        }
        let flags = u16_le(c, 2)?;
        let name_len = usize::from(u16_le(c, 0x48)?);
        let raw = slice(c, 0x4c, name_len)?;
        Some(Key {
            offset: u64::from(offset).saturating_add(BINS as u64), // a u32 plus 4096: no overflow
            name: name(raw, flags & 0x20 != 0),
            written: u64_le(c, 4)?,
            subkey_count: u32_le(c, 0x14)?,
            subkey_list: u32_le(c, 0x1c)?,
            value_count: u32_le(c, 0x24)?,
            value_list: u32_le(c, 0x28)?,
        })
    }

    pub fn root(&self) -> Key {
        // Checked in `open`.
        self.key_at(self.root).unwrap_or(Key {
            offset: 0,
            name: String::new(),
            written: 0,
            subkey_count: 0,
            subkey_list: u32::MAX,
            value_count: 0,
            value_list: u32::MAX,
        })
    }

    /// The key at `path` below the root (`\`-separated, case-insensitive; a leading `\` or the
    /// root's own name are ignored).
    pub fn key(&self, path: &str) -> Option<Key> {
        let mut key = self.root();
        for part in path.split('\\').filter(|p| !p.is_empty()) {
            key = self.subkey(&key, part)?;
        }
        Some(key)
    }

    /// The subkey of `key` named `name` (case-insensitive).
    pub fn subkey(&self, key: &Key, name: &str) -> Option<Key> {
        self.subkeys(key).into_iter().find(|k| {
            k.name.eq_ignore_ascii_case(name) || k.name.to_lowercase() == name.to_lowercase()
        })
    }

    /// Every subkey of `key`, in list order (at most the entries the list cells hold).
    pub fn subkeys(&self, key: &Key) -> Vec<Key> {
        let mut offsets = Vec::new();
        self.list(key.subkey_list, true, &mut offsets);
        offsets.truncate((key.subkey_count as usize).min(MAX_ENTRIES));
        offsets.into_iter().filter_map(|o| self.key_at(o)).collect()
    }

    /// The key offsets of a subkey list; `ri` lists are followed one level (`top`).
    fn list(&self, offset: u32, top: bool, out: &mut Vec<u32>) {
        let Some(c) = self.cell(offset) else {
            return;
        };
        let count = usize::from(u16_le(c, 2).unwrap_or(0));
        let (step, nested) = match c.get(..2) {
            Some(b"lf") | Some(b"lh") => (8, false),
            Some(b"li") => (4, false),
            Some(b"ri") if top => (4, true),
            _ => return,
        };
        for i in 0..count {
            if out.len() >= MAX_ENTRIES {
                return;
            }
            let at = i.checked_mul(step).and_then(|n| n.checked_add(4));
            let Some(o) = at.and_then(|at| u32_le(c, at)) else {
                return;
            };
            if nested {
                self.list(o, false, out);
            } else {
                out.push(o);
            }
        }
    }

    /// Every value of `key`.
    pub fn values(&self, key: &Key) -> Vec<Value> {
        let Some(list) = self.cell(key.value_list) else {
            return Vec::new();
        };
        let count = (key.value_count as usize).min(MAX_ENTRIES);
        (0..count)
            .map_while(|i| u32_le(list, i.checked_mul(4)?))
            .filter_map(|o| self.value_at(o))
            .collect()
    }

    /// The value of `key` named `name` (case-insensitive; `""` for the default value).
    pub fn value(&self, key: &Key, name: &str) -> Option<Value> {
        self.values(key)
            .into_iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
    }

    fn value_at(&self, offset: u32) -> Option<Value> {
        let c = self.cell(offset)?;
        if c.get(..2)? != b"vk" {
            return None;
        }
        let name_len = usize::from(u16_le(c, 2)?);
        let size = u32_le(c, 4)?;
        let flags = u16_le(c, 0x10)?;
        let data = if size & 0x8000_0000 != 0 {
            // Up to four bytes kept in the offset field itself.
            let n = (size & 0x7fff_ffff).min(4) as usize;
            slice(c, 8, n)?.to_vec()
        } else {
            let cell = self.cell(u32_le(c, 8)?).unwrap_or(&[]);
            cell.get(..(size as usize).min(cell.len()))
                .unwrap_or(&[])
                .to_vec()
        };
        Some(Value {
            name: name(slice(c, 0x14, name_len)?, flags & 1 != 0),
            kind: u32_le(c, 0xc)?,
            data,
            offset: u64::from(offset).saturating_add(BINS as u64), // a u32 plus 4096: no overflow
        })
    }
}

/// A key or value name: Latin-1 when stored compressed, else UTF-16LE.
fn name(raw: &[u8], ascii: bool) -> String {
    if ascii {
        raw.iter().map(|&b| char::from(b)).collect()
    } else {
        decode_utf16le(raw)
    }
}
