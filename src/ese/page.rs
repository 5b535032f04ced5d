//! One database page: its header, its tag array, the nodes the tags point to, and its free space.
//!
//! Page header (little-endian), all page sizes:
//! ```text
//! 0x00 u32 XOR checksum (or first half of the 64-bit checksum)
//! 0x04 u32 ECC checksum (new checksum format) or page number (old)
//! 0x08 u64 database time of last modification
//! 0x10 u32 previous page      0x14 u32 next page
//! 0x18 u32 father data page (FDP) object id
//! 0x1c u16 available data size              0x1e u16 available uncommitted size
//! 0x20 u16 first available data offset (ibMicFree, relative to the end of the header)
//! 0x22 u16 first available page tag (itagMicFree); since Windows 11 24H2 the upper 4 bits
//!          count reserved tags ("itagState"), so the tag count is the low 12 bits
//! 0x24 u32 page flags
//! ```
//! Pages of 16 KiB and up add 40 bytes: three more 64-bit checksums (0x28, 0x30, 0x38),
//! the u32 page number (0x40) and 12 reserved bytes, for an 80-byte header.
//!
//! The tag array grows down from the end of the page, 4 bytes per tag, tag 0 last:
//! u16 size then u16 offset (relative to the end of the header). On small pages (≤ 8 KiB) the
//! low 13 bits are the value and the top 3 bits of the offset are the node flags; on large
//! pages both are 15-bit values and the node flags sit in the top 3 bits of the node's first u16.

use crate::util::bytes::{u16_le, u32_le, u64_le};

pub const FLAG_ROOT: u32 = 0x1;
pub const FLAG_LEAF: u32 = 0x2;
pub const FLAG_PARENT: u32 = 0x4;
pub const FLAG_EMPTY: u32 = 0x8;
pub const FLAG_SPACE_TREE: u32 = 0x20;
pub const FLAG_INDEX: u32 = 0x40;
pub const FLAG_LONG_VALUE: u32 = 0x80;
pub const FLAG_NEW_RECORD_FORMAT: u32 = 0x800;
pub const FLAG_NEW_CHECKSUM: u32 = 0x2000;

/// Node (tag) flags.
pub const NODE_VERSION: u8 = 0x1;
pub const NODE_DELETED: u8 = 0x2;
pub const NODE_COMPRESSED: u8 = 0x4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageHeader {
    pub checksum: u64,
    pub db_time: u64,
    pub prev: u32,
    pub next: u32,
    pub fdp: u32,
    pub avail: u16,
    pub first_free_offset: u16,
    /// Raw itagState field; see [`PageHeader::tag_count`].
    pub tag_state: u16,
    pub flags: u32,
    /// Stored page number (large pages only; a u32 followed by 12 reserved bytes).
    pub page_number: Option<u32>,
}

impl PageHeader {
    /// Number of tags in the array (low 12 bits, the 24H2 reserved-tag nibble masked off).
    pub fn tag_count(&self) -> usize {
        (self.tag_state & 0x0FFF) as usize
    }

    /// Tags at the start of the array that are not nodes: tag 0 (the page's external header)
    /// and, on 24H2 pages, the reserved tags counted by bits 12–14.
    pub fn reserved_tags(&self) -> usize {
        (((self.tag_state >> 12) & 0x7) as usize).max(1)
    }

    pub fn is_leaf(&self) -> bool {
        self.flags & FLAG_LEAF != 0
    }
    pub fn is_root(&self) -> bool {
        self.flags & FLAG_ROOT != 0
    }
    pub fn is_long_value(&self) -> bool {
        self.flags & FLAG_LONG_VALUE != 0
    }
    pub fn is_empty(&self) -> bool {
        self.flags & FLAG_EMPTY != 0
    }

    pub fn flag_names(&self) -> Vec<&'static str> {
        const NAMES: [(u32, &str); 11] = [
            (FLAG_ROOT, "root"),
            (FLAG_LEAF, "leaf"),
            (FLAG_PARENT, "parent"),
            (FLAG_EMPTY, "empty"),
            (0x10, "repair"),
            (FLAG_SPACE_TREE, "space-tree"),
            (FLAG_INDEX, "index"),
            (FLAG_LONG_VALUE, "long-value"),
            (0x400, "non-unique-keys"),
            (FLAG_NEW_RECORD_FORMAT, "new-record-format"),
            (FLAG_NEW_CHECKSUM, "new-checksum"),
        ];
        NAMES
            .iter()
            .filter(|(bit, _)| self.flags & bit != 0)
            .map(|(_, n)| *n)
            .collect()
    }
}

/// One entry of the tag array, resolved against the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    pub index: usize,
    /// Offset of the value inside the page buffer (header included).
    pub offset: usize,
    pub size: usize,
    pub flags: u8,
}

/// A node: a tag's bytes split into key and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node<'a> {
    pub tag: Tag,
    /// Bytes of the key shared with the page's common key (tag 0), when compressed.
    pub prefix_len: usize,
    pub suffix: &'a [u8],
    pub data: &'a [u8],
    /// Offset of `data` inside the page buffer.
    pub data_offset: usize,
}

impl Node<'_> {
    pub fn is_deleted(&self) -> bool {
        self.tag.flags & NODE_DELETED != 0
    }

    /// The full key: the common prefix from tag 0, then this node's suffix.
    pub fn key(&self, page_prefix: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix_len.saturating_add(self.suffix.len()));
        let p = page_prefix.get(..self.prefix_len).unwrap_or(page_prefix);
        k.extend_from_slice(p);
        // A prefix longer than tag 0 is corrupt; pad so keys keep their shape.
        k.resize(self.prefix_len, 0);
        k.extend_from_slice(self.suffix);
        k
    }
}

/// A page over its bytes. Construction never fails; every accessor is bounds-checked and a
/// malformed tag is reported rather than trusted.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    pub number: u32,
    pub buf: &'a [u8],
    pub header: PageHeader,
    pub large: bool,
}

impl<'a> Page<'a> {
    pub fn header_len(large: bool) -> usize {
        if large {
            80
        } else {
            40
        }
    }

    /// Parse a page; `None` only if the buffer is shorter than a page header.
    pub fn parse(number: u32, buf: &'a [u8], large: bool) -> Option<Page<'a>> {
        let header = PageHeader {
            checksum: u64_le(buf, 0)?,
            db_time: u64_le(buf, 8)?,
            prev: u32_le(buf, 0x10)?,
            next: u32_le(buf, 0x14)?,
            fdp: u32_le(buf, 0x18)?,
            avail: u16_le(buf, 0x1c)?,
            first_free_offset: u16_le(buf, 0x20)?,
            tag_state: u16_le(buf, 0x22)?,
            flags: u32_le(buf, 0x24)?,
            page_number: if large { u32_le(buf, 0x40) } else { None },
        };
        if buf.len() < Self::header_len(large) {
            return None;
        }
        Some(Page {
            number,
            buf,
            header,
            large,
        })
    }

    /// The page checksum, verified (reported, never enforced).
    pub fn checksum(&self) -> super::checksum::ChecksumStatus {
        super::checksum::verify_page(self.buf, self.number)
    }

    /// Where the tag array (at the page's end, 4 bytes a tag) begins.
    fn tag_array_start(&self) -> usize {
        // `tag_count()` is cut to what fits the page, so this never goes below the header.
        self.buf
            .len()
            .saturating_sub(self.tag_count().saturating_mul(4))
    }

    /// How many tags the array can really hold: a corrupt count is cut to what fits the page.
    pub fn tag_count(&self) -> usize {
        let room = self.buf.len().saturating_sub(Self::header_len(self.large)) / 4;
        self.header.tag_count().min(room)
    }

    /// Tag `i`, or `None` if it lies outside the page.
    pub fn tag(&self, i: usize) -> Option<Tag> {
        if i >= self.tag_count() {
            return None;
        }
        // `i < tag_count()`, which fits the page: the tag's 4 bytes lie inside it.
        let at = self
            .buf
            .len()
            .checked_sub(i.checked_add(1)?.checked_mul(4)?)?;
        let size_field = u16_le(self.buf, at)?;
        let off_field = u16_le(self.buf, at.checked_add(2)?)?;
        let hdr = Self::header_len(self.large);
        let (size, rel, mut flags) = if self.large {
            (
                (size_field & 0x7FFF) as usize,
                (off_field & 0x7FFF) as usize,
                0u8,
            )
        } else {
            (
                (size_field & 0x1FFF) as usize,
                (off_field & 0x1FFF) as usize,
                (off_field >> 13) as u8,
            )
        };
        let offset = hdr.checked_add(rel)?;
        let end = offset.checked_add(size)?;
        if end > self.tag_array_start() {
            return None;
        }
        if self.large && size >= 2 {
            flags = self.buf.get(offset.saturating_add(1)).map_or(0, |b| b >> 5);
        }
        Some(Tag {
            index: i,
            offset,
            size,
            flags,
        })
    }

    pub fn tag_bytes(&self, tag: &Tag) -> &'a [u8] {
        self.buf
            .get(tag.offset..tag.offset.saturating_add(tag.size))
            .unwrap_or(&[])
    }

    /// The common key prefix shared by compressed nodes: tag 0's value on non-root pages.
    pub fn key_prefix(&self) -> &'a [u8] {
        if self.header.is_root() {
            return &[];
        }
        self.tag(0).map(|t| self.tag_bytes(&t)).unwrap_or(&[])
    }

    /// Index of the first node tag.
    pub fn first_node_tag(&self) -> usize {
        self.header.reserved_tags()
    }

    /// Number of nodes on the page.
    pub fn node_count(&self) -> usize {
        self.tag_count().saturating_sub(self.first_node_tag())
    }

    /// Node `n` (0-based, after the reserved tags). `None` when its tag or key is malformed.
    pub fn node(&self, n: usize) -> Option<Node<'a>> {
        let tag = self.tag(n.checked_add(self.first_node_tag())?)?;
        parse_node(self.buf, tag)
    }

    pub fn nodes(&self) -> impl Iterator<Item = Node<'a>> + '_ {
        (0..self.node_count()).filter_map(move |n| self.node(n))
    }

    /// Byte ranges of the page not covered by the header, any tag value or the tag array:
    /// the slack a carver reads. Sorted, non-overlapping, offsets into the page buffer.
    pub fn free_ranges(&self) -> Vec<(usize, usize)> {
        let start = Self::header_len(self.large);
        let end = self.tag_array_start();
        let mut used: Vec<(usize, usize)> = (0..self.tag_count())
            .filter_map(|i| self.tag(i))
            .filter(|t| t.size > 0)
            .map(|t| (t.offset, t.offset.saturating_add(t.size)))
            .collect();
        used.sort_unstable();
        let mut free = Vec::new();
        let mut pos = start;
        for (s, e) in used {
            if s > pos {
                free.push((pos, s.min(end)));
            }
            pos = pos.max(e);
        }
        if end > pos {
            free.push((pos, end));
        }
        free.retain(|(s, e)| e > s);
        free
    }
}

/// Split a tag's bytes into key prefix length, key suffix and data.
///
/// Node layout: [u16 prefix length, if the node is compressed] u16 suffix length, suffix, data.
/// Both lengths are the low 13 bits (large pages keep the node flags in the top 3 bits).
fn parse_node(page: &[u8], tag: Tag) -> Option<Node<'_>> {
    let bytes = page.get(tag.offset..tag.offset.checked_add(tag.size)?)?;
    let mut pos = 0;
    let mut prefix_len = 0;
    if tag.flags & NODE_COMPRESSED != 0 {
        prefix_len = (u16_le(bytes, 0)? & 0x1FFF) as usize;
        pos = 2;
    }
    let suffix_len = (u16_le(bytes, pos)? & 0x1FFF) as usize;
    pos = pos.checked_add(2)?;
    let suffix = bytes.get(pos..pos.checked_add(suffix_len)?)?;
    pos = pos.checked_add(suffix_len)?;
    Some(Node {
        tag,
        prefix_len,
        suffix,
        data: bytes.get(pos..)?,
        data_offset: tag.offset.checked_add(pos)?,
    })
}
