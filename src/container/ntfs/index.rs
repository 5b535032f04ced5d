//! A directory's file-name index (`$I30`): a B-tree of `$FILE_NAME` keys in the order of the
//! volume's `$UpCase` table, its root in `$INDEX_ROOT` and its other nodes in index records of
//! `$INDEX_ALLOCATION` (the ones in use marked in `$BITMAP`).
//!
//! `$INDEX_ROOT`'s value:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0x00 | 4 | attribute indexed (0x30: `$FILE_NAME`) |
//! | 0x04 | 4 | collation rule |
//! | 0x08 | 4 | bytes per index record |
//! | 0x0C | 1 | clusters per index record |
//! | 0x10 | 16 | the root node's header |
//!
//! An index record (`INDX`): 0x04/0x06 update sequence (fix-ups as a file record's), 0x10 its
//! VCN (8), 0x18 its node header. A node header: 0x00 offset of the first entry (4), 0x04
//! bytes in use (4), both from the header; 0x08 bytes allocated (4), 0x0C flags (1: 0x01 has
//! subnodes). An entry: 0x00 file reference (8), 0x08 entry length (2), 0x0A key length (2),
//! 0x0C flags (4: 0x01 has a subnode, 0x02 last entry, no key), 0x10 the key (a `$FILE_NAME`
//! value), and when it has a subnode, the subnode's VCN in its last 8 bytes.
//!
//! A VCN counts clusters, or 512-byte units when an index record is smaller than a cluster.

use super::record::{fixup, reference};
use super::runs::Run;
use super::volume::Vol;
use crate::util::bytes::{slice, u16_le, u32_le, u64_le, u8_at};

/// `$FILE_NAME`'s file attribute flag for a directory (in the key's flags at 0x38).
const DIRECTORY: u32 = 0x1000_0000;
/// Entries read from one node (a 64 KiB record of the smallest entries holds ~2,700).
const MAX_NODE_ENTRIES: usize = 1 << 13;

/// One entry of an index node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The file's record number and sequence number.
    pub file: (u64, u16),
    /// The key: the name (UTF-16 units), its namespace, whether it names a directory; `None`
    /// for a node's last entry.
    pub key: Option<Key>,
    pub subnode: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub name: Vec<u16>,
    pub namespace: u8,
    pub is_dir: bool,
}

/// The entries of the node whose header starts at `header` in `node`.
pub fn entries(node: &[u8], header: usize) -> Result<Vec<Entry>, String> {
    let field = |o: usize| {
        header
            .checked_add(o)
            .and_then(|at| u32_le(node, at))
            .map(|v| v as usize)
            .ok_or("index node header cut short")
    };
    let first = field(0)?;
    let used = field(4)?;
    let end = header
        .checked_add(used)
        .filter(|e| *e <= node.len())
        .ok_or("index node's entries run past it")?;
    let mut at = header
        .checked_add(first)
        .ok_or("index node's first entry out of bounds")?;
    let mut out = Vec::new();
    while at < end {
        if out.len() >= MAX_NODE_ENTRIES {
            return Err(format!(
                "more than {MAX_NODE_ENTRIES} entries in one index node"
            ));
        }
        let e = slice(node, at, 0x10).ok_or("index entry cut short")?;
        let raw = u64_le(e, 0).unwrap_or(0);
        let len = usize::from(u16_le(e, 8).unwrap_or(0));
        let key_len = usize::from(u16_le(e, 0x0A).unwrap_or(0));
        let flags = u32_le(e, 0x0C).unwrap_or(0);
        if len < 0x10 || len % 8 != 0 || at.saturating_add(len) > end {
            return Err(format!(
                "index entry at node offset {at:#x}: length {len} out of bounds"
            ));
        }
        let body = slice(node, at, len).ok_or("index entry cut short")?;
        let subnode = if flags & 1 != 0 {
            let vcn = len
                .checked_sub(8)
                .filter(|o| *o >= 0x10)
                .and_then(|o| u64_le(body, o))
                .ok_or("index entry's subnode cut short")?;
            Some(vcn)
        } else {
            None
        };
        let last = flags & 2 != 0;
        let key = if last {
            None
        } else {
            let k = slice(body, 0x10, key_len).ok_or("index key out of bounds")?;
            let n = usize::from(u8_at(k, 0x40).ok_or("index key cut short")?);
            let units = slice(k, 0x42, n.saturating_mul(2)).ok_or("index key's name cut short")?;
            Some(Key {
                name: units
                    .chunks_exact(2)
                    .filter_map(|c| c.try_into().ok().map(u16::from_le_bytes))
                    .collect(),
                namespace: u8_at(k, 0x41).unwrap_or(0),
                is_dir: u32_le(k, 0x38).unwrap_or(0) & DIRECTORY != 0,
            })
        };
        out.push(Entry {
            file: reference(raw),
            key,
            subnode,
        });
        if last {
            break;
        }
        at = at.saturating_add(len);
    }
    Ok(out)
}

/// A directory's index as read from its record: the root node and where the rest lie.
pub struct Index {
    pub root: Vec<u8>,
    /// `$INDEX_ALLOCATION`'s runs and size, when the index has more than its root.
    pub alloc: Option<(Vec<Run>, u64)>,
    pub bitmap: Vec<u8>,
    /// Bytes per index record.
    pub block: u64,
}

impl Index {
    /// The index record at `vcn`, fix-ups applied; `read` counts the bytes read against
    /// `budget`.
    pub fn node(
        &self,
        vol: &Vol,
        vcn: u64,
        read: &mut u64,
        budget: u64,
    ) -> Result<Vec<u8>, String> {
        let (runs, size) = self
            .alloc
            .as_ref()
            .ok_or("a subnode, but no $INDEX_ALLOCATION")?;
        let unit = if self.block < vol.boot.cluster {
            512
        } else {
            vol.boot.cluster
        };
        let at = vcn
            .checked_mul(unit)
            .filter(|a| a.saturating_add(self.block) <= *size)
            .ok_or_else(|| format!("index record at VCN {vcn} lies past the index's end"))?;
        let number = at.checked_div(self.block).unwrap_or(0);
        let used = usize::try_from(number / 8)
            .ok()
            .and_then(|i| self.bitmap.get(i))
            .is_some_and(|b| b >> (number % 8) & 1 != 0);
        if !used {
            return Err(format!("index record at VCN {vcn} is not in use"));
        }
        *read = read.saturating_add(self.block);
        if *read > budget {
            return Err(format!(
                "more than {budget} bytes of index records read: a corrupt index?"
            ));
        }
        let mut buf = vec![0u8; usize::try_from(self.block).map_err(|_| "index record too large")?];
        read_value(vol, runs, at, &mut buf)?;
        if buf.get(..4) != Some(b"INDX") {
            return Err(format!("index record at VCN {vcn}: no INDX signature"));
        }
        fixup(&mut buf).map_err(|e| format!("index record at VCN {vcn}: {e}"))?;
        Ok(buf)
    }
}

/// Bytes `[at, at + buf.len())` of a non-resident value, run by run (sparse runs as zeros).
fn read_value(vol: &Vol, runs: &[Run], at: u64, buf: &mut [u8]) -> Result<(), String> {
    let c = vol.boot.cluster;
    let mut done = 0usize;
    while done < buf.len() {
        let pos = at.saturating_add(done as u64);
        let run = runs
            .iter()
            .find(|r| {
                let from = r.vcn.saturating_mul(c);
                pos >= from && pos < from.saturating_add(r.len.saturating_mul(c))
            })
            .ok_or_else(|| format!("index offset {pos} is not mapped"))?;
        let from = run.vcn.saturating_mul(c);
        let room = from
            .saturating_add(run.len.saturating_mul(c))
            .saturating_sub(pos);
        let n = usize::try_from(room)
            .unwrap_or(usize::MAX)
            .min(buf.len().saturating_sub(done));
        let dst = buf
            .get_mut(done..done.saturating_add(n))
            .ok_or("index read out of bounds")?;
        match run.lcn {
            Some(l) => vol.read_exact(
                l.saturating_mul(c).saturating_add(pos.saturating_sub(from)),
                dst,
            )?,
            None => dst.fill(0),
        }
        done = done.saturating_add(n);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(reference: u64, name: &str, flags: u32, subnode: Option<u64>) -> Vec<u8> {
        let units: Vec<u16> = name.encode_utf16().collect();
        let key_len = if flags & 2 != 0 {
            0
        } else {
            0x42 + 2 * units.len()
        };
        let mut len = (0x10 + key_len).div_ceil(8) * 8;
        if subnode.is_some() {
            len += 8;
        }
        let mut e = vec![0u8; len];
        e[..8].copy_from_slice(&reference.to_le_bytes());
        e[8..10].copy_from_slice(&(len as u16).to_le_bytes());
        e[10..12].copy_from_slice(&(key_len as u16).to_le_bytes());
        e[12..16].copy_from_slice(&(flags | u32::from(subnode.is_some())).to_le_bytes());
        if key_len > 0 {
            e[0x10 + 0x40] = units.len() as u8;
            e[0x10 + 0x41] = 1;
            for (i, u) in units.iter().enumerate() {
                e[0x52 + 2 * i..0x54 + 2 * i].copy_from_slice(&u.to_le_bytes());
            }
        }
        if let Some(v) = subnode {
            e[len - 8..].copy_from_slice(&v.to_le_bytes());
        }
        e
    }

    #[test]
    fn a_nodes_entries_end_at_the_last_entry() {
        let mut node = vec![0u8; 16];
        node[0] = 16;
        let mut body = entry(70 | 3 << 48, "qmgr.db", 0, None);
        body.extend(entry(0, "", 2, Some(4)));
        node.extend(&body);
        let used = (16 + body.len()) as u32;
        node[4..8].copy_from_slice(&used.to_le_bytes());
        let e = entries(&node, 0).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].file, (70, 3));
        assert_eq!(
            String::from_utf16_lossy(&e[0].key.as_ref().unwrap().name),
            "qmgr.db"
        );
        assert_eq!((e[1].key.is_none(), e[1].subnode), (true, Some(4)));
        // An entry length past the bytes in use, or a header past the node.
        node[16 + 8] = 0xf8;
        assert!(entries(&node, 0).is_err());
        assert!(entries(&node, node.len() - 4).is_err());
    }
}
