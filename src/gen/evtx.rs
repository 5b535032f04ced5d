//! Writes Windows XML event logs (`.evtx`) as Windows does, for test data and the demo: the
//! BITS client's events (and any other provider's) with their System fields and named values.
//! Read back by python-evtx and by `crate::evtx` in `tests/gen_evtx.rs`.
//!
//! The file:
//! - header (4096 bytes; 128 used): `ElfFile\0`, oldest chunk (u64) at 8, newest chunk (u64)
//!   at 16, next record number (u64) at 24, header size 128 (u32) at 32, minor 1 / major 3
//!   (u16s) at 36, header block size 4096 (u16) at 40, chunk count (u16) at 42, flags (u32) at
//!   120, CRC32 of bytes 0..120 at 124;
//! - chunks of 65536 bytes: `ElfChnk\0`, first/last record numbers (u64s) at 8/16, first/last
//!   record ids at 24/32, header size 128 at 40, last record's offset (u32) at 44, free space
//!   offset (u32) at 48, CRC32 of the records (512..free) at 52, CRC32 of the header (0..120 and
//!   128..512) at 124, the 64 string buckets at 128 and the 32 template buckets at 384;
//! - records from 512: `2a 2a 00 00`, size (u32), record number (u64), written FILETIME (u64),
//!   BinXML, the size again; each record 8-byte aligned.
//!
//! BinXML as Windows writes it for manifest events: a fragment holding one template instance
//! of the *System* template (its definition inline where the chunk first uses it, by offset
//! after), then the 18 substitution values in Windows' order (Level, Opcode, Task, EventID,
//! Qualifiers, Keywords, TimeCreated, ActivityID, ProcessID, ThreadID, EventRecordID, Version,
//! UserID, RelatedActivityID, Provider Name, Provider Guid, Channel, and the EventData as a
//! BinXml value: a fragment of its own with the event's own template (`<Data Name=..>`), by
//! event shape, and its values). The computer's name is text in the System template, as in the
//! real samples. Names are written inline in the definition that first uses them.

use crate::util::checksum::crc32;

const FILE_HEADER: usize = 4096;
const CHUNK: usize = 65536;
const CHUNK_HEADER: usize = 512;
const EVENT_NS: &str = "http://schemas.microsoft.com/win/2004/08/events/event";

/// A value of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Str(String),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    Guid([u8; 16]),
    FileTime(u64),
    Bool(bool),
    Hex32(u32),
    Hex64(u64),
    /// A SID as text (`S-1-5-21-...`), written in its binary form.
    Sid(String),
    Null,
}

impl Val {
    fn kind(&self) -> u8 {
        match self {
            Val::Null => 0x00,
            Val::Str(_) => 0x01,
            Val::U8(_) => 0x04,
            Val::U16(_) => 0x06,
            Val::U32(_) => 0x08,
            Val::U64(_) => 0x0a,
            Val::Bool(_) => 0x0d,
            Val::Guid(_) => 0x0f,
            Val::FileTime(_) => 0x11,
            Val::Sid(_) => 0x13,
            Val::Hex32(_) => 0x14,
            Val::Hex64(_) => 0x15,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        match self {
            Val::Null => Vec::new(),
            Val::Str(s) => utf16(s),
            Val::U8(v) => vec![*v],
            Val::U16(v) => v.to_le_bytes().to_vec(),
            Val::U32(v) | Val::Hex32(v) => v.to_le_bytes().to_vec(),
            Val::U64(v) | Val::FileTime(v) | Val::Hex64(v) => v.to_le_bytes().to_vec(),
            Val::Bool(b) => u32::from(*b).to_le_bytes().to_vec(),
            Val::Guid(g) => g.to_vec(),
            Val::Sid(s) => sid_bytes(s),
        }
    }
}

/// One event to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub provider: String,
    pub provider_guid: [u8; 16],
    pub event_id: u16,
    pub version: u8,
    pub level: u8,
    pub task: u16,
    pub opcode: u8,
    pub keywords: u64,
    /// TimeCreated and the record's written time (FILETIME).
    pub time: u64,
    pub activity_id: Option<[u8; 16]>,
    pub process_id: u32,
    pub thread_id: u32,
    pub channel: String,
    pub computer: String,
    pub user_sid: Option<String>,
    pub data: Vec<(String, Val)>,
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// A SID's binary form: revision 1, sub-authority count, the 48-bit authority big-endian, the
/// sub-authorities little-endian. Text that is not a SID gives S-1-0-0.
pub fn sid_bytes(text: &str) -> Vec<u8> {
    let parts: Vec<u64> = text
        .strip_prefix("S-1-")
        .map(|r| r.split('-').filter_map(|p| p.parse().ok()).collect())
        .unwrap_or_default();
    let (authority, subs) = match parts.split_first() {
        Some((a, s)) => (*a, s.to_vec()),
        None => (0, vec![0]),
    };
    let mut b = vec![1u8, subs.len() as u8];
    b.extend_from_slice(&authority.to_be_bytes()[2..]);
    for s in subs {
        b.extend_from_slice(&(s as u32).to_le_bytes());
    }
    b
}

/// The hash Windows stores with a name (h = h * 65599 + c, low 16 bits).
fn name_hash(name: &str) -> u16 {
    name.encode_utf16().fold(0u32, |h, c| {
        h.wrapping_mul(65599).wrapping_add(u32::from(c))
    }) as u16
}

/// A BinXML element tree of a template: elements with attributes and content.
enum Node {
    Element {
        name: String,
        attrs: Vec<(String, Node)>,
        children: Vec<Node>,
    },
    Text(String),
    /// A substitution: index, value type, optional (omitted when null).
    Sub(u16, u8, bool),
}

fn el(name: &str, attrs: Vec<(&str, Node)>, children: Vec<Node>) -> Node {
    Node::Element {
        name: name.to_string(),
        attrs: attrs.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
        children,
    }
}

fn sub(i: u16, kind: u8) -> Node {
    Node::Sub(i, kind, false)
}

fn opt(i: u16, kind: u8) -> Node {
    Node::Sub(i, kind, true)
}

/// The System template (the indices of Windows' 18 values).
fn system_template(computer: &str) -> Node {
    el(
        "Event",
        vec![("xmlns", Node::Text(EVENT_NS.into()))],
        vec![
            el(
                "System",
                vec![],
                vec![
                    el(
                        "Provider",
                        vec![("Name", opt(14, 0x01)), ("Guid", opt(15, 0x0f))],
                        vec![],
                    ),
                    el(
                        "EventID",
                        vec![("Qualifiers", opt(4, 0x06))],
                        vec![sub(3, 0x06)],
                    ),
                    el("Version", vec![], vec![opt(11, 0x04)]),
                    el("Level", vec![], vec![opt(0, 0x04)]),
                    el("Task", vec![], vec![opt(2, 0x06)]),
                    el("Opcode", vec![], vec![opt(1, 0x04)]),
                    el("Keywords", vec![], vec![opt(5, 0x15)]),
                    el("TimeCreated", vec![("SystemTime", opt(6, 0x11))], vec![]),
                    el("EventRecordID", vec![], vec![opt(10, 0x0a)]),
                    el(
                        "Correlation",
                        vec![
                            ("ActivityID", opt(7, 0x0f)),
                            ("RelatedActivityID", opt(13, 0x0f)),
                        ],
                        vec![],
                    ),
                    el(
                        "Execution",
                        vec![("ProcessID", opt(8, 0x08)), ("ThreadID", opt(9, 0x08))],
                        vec![],
                    ),
                    el("Channel", vec![], vec![opt(16, 0x01)]),
                    el("Computer", vec![], vec![Node::Text(computer.into())]),
                    el("Security", vec![("UserID", opt(12, 0x13))], vec![]),
                ],
            ),
            opt(17, 0x21),
        ],
    )
}

/// The EventData template of an event's shape.
fn data_template(shape: &[(String, u8)]) -> Node {
    el(
        "EventData",
        vec![],
        shape
            .iter()
            .enumerate()
            .map(|(i, (name, kind))| {
                el(
                    "Data",
                    vec![("Name", Node::Text(name.clone()))],
                    vec![opt(i as u16, *kind)],
                )
            })
            .collect(),
    )
}

/// One chunk being written: its bytes and the templates it defined (key → offset).
struct Chunk {
    buf: Vec<u8>,
    templates: Vec<(String, u32)>,
    first: Option<u64>,
    last: u64,
    last_offset: u32,
}

impl Chunk {
    fn new() -> Chunk {
        let mut buf = vec![0u8; CHUNK_HEADER];
        buf[..8].copy_from_slice(b"ElfChnk\0");
        Chunk {
            buf,
            templates: Vec::new(),
            first: None,
            last: 0,
            last_offset: 0,
        }
    }
}

/// BinXML written at a known chunk offset (names and templates are placed by offset).
struct Bx<'c> {
    out: Vec<u8>,
    /// The chunk offset of `out[0]`.
    base: usize,
    chunk: &'c mut Chunk,
}

impl Bx<'_> {
    fn pos(&self) -> usize {
        self.base + self.out.len()
    }
    fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    /// A name offset and the name inline right after it.
    fn name(&mut self, name: &str) {
        let at = self.pos() + 4;
        self.u32(at as u32);
        self.u32(0); // next name in the bucket
        self.u16(name_hash(name));
        self.u16(name.encode_utf16().count() as u16);
        self.out.extend_from_slice(&utf16(name));
        self.u16(0);
    }
    fn node(&mut self, node: &Node) {
        match node {
            Node::Text(t) => {
                self.out.extend_from_slice(&[0x05, 0x01]);
                self.u16(t.encode_utf16().count() as u16);
                self.out.extend_from_slice(&utf16(t));
            }
            Node::Sub(i, kind, optional) => {
                self.out.push(if *optional { 0x0e } else { 0x0d });
                self.u16(*i);
                self.out.push(*kind);
            }
            Node::Element {
                name,
                attrs,
                children,
            } => {
                let start = self.out.len();
                self.out.push(if attrs.is_empty() { 0x01 } else { 0x41 });
                self.u16(0xffff);
                let size_at = self.out.len();
                self.u32(0);
                self.name(name);
                if !attrs.is_empty() {
                    let list_at = self.out.len();
                    self.u32(0);
                    for (i, (n, v)) in attrs.iter().enumerate() {
                        self.out.push(if i + 1 < attrs.len() { 0x46 } else { 0x06 });
                        self.name(n);
                        self.node(v);
                    }
                    let len = (self.out.len() - list_at - 4) as u32;
                    self.out[list_at..list_at + 4].copy_from_slice(&len.to_le_bytes());
                }
                if children.is_empty() {
                    self.out.push(0x03);
                } else {
                    self.out.push(0x02);
                    for c in children {
                        self.node(c);
                    }
                    self.out.push(0x04);
                }
                let size = (self.out.len() - size_at - 4) as u32;
                self.out[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
                let _ = start;
            }
        }
    }

    /// A fragment holding one template instance (defined here the first time in the chunk)
    /// and its values.
    fn instance(&mut self, key: &str, template: &dyn Fn() -> Node, values: &[Val]) {
        self.out
            .extend_from_slice(&[0x0f, 0x01, 0x01, 0x00, 0x0c, 0x01]);
        let guid = template_guid(key);
        self.out.extend_from_slice(&guid[..4]);
        let known = self
            .chunk
            .templates
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, o)| *o);
        match known {
            Some(offset) => self.u32(offset),
            None => {
                let def = self.pos() + 4;
                self.u32(def as u32);
                self.chunk.templates.push((key.to_string(), def as u32));
                self.u32(0); // next template in the bucket
                self.out.extend_from_slice(&guid);
                let size_at = self.out.len();
                self.u32(0);
                self.out.extend_from_slice(&[0x0f, 0x01, 0x01, 0x00]);
                self.node(&template());
                self.out.push(0x00);
                let size = (self.out.len() - size_at - 4) as u32;
                self.out[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
            }
        }
        self.u32(values.len() as u32);
        let bytes: Vec<Vec<u8>> = values.iter().map(Val::bytes).collect();
        for (v, b) in values.iter().zip(&bytes) {
            self.u16(b.len() as u16);
            self.out.extend_from_slice(&[v.kind(), 0]);
        }
        for b in bytes {
            self.out.extend_from_slice(&b);
        }
    }
}

/// A template's GUID, from its key (deterministic; its first 4 bytes are the template id).
fn template_guid(key: &str) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(key.as_bytes());
    let mut g = [0u8; 16];
    g.copy_from_slice(&h[..16]);
    g
}

/// A record's BinXML at chunk offset `base`.
fn record_binxml(e: &Event, record: u64, base: usize, chunk: &mut Chunk) -> Vec<u8> {
    // The EventData fragment first (it is a value of the System template's instance), at the
    // offset it will have: after the System instance. Its templates are placed by offset, so
    // it is written where it lands: build the System part with a placeholder, then append.
    let shape: Vec<(String, u8)> = e.data.iter().map(|(n, v)| (n.clone(), v.kind())).collect();
    let data_key = format!(
        "data:{}",
        shape
            .iter()
            .map(|(n, k)| format!("{n}/{k}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let system_key = format!("system:{}", e.computer);
    let values_without_data = |data_len: usize| -> Vec<Val> {
        let _ = data_len;
        vec![
            Val::U8(e.level),
            Val::U8(e.opcode),
            Val::U16(e.task),
            Val::U16(e.event_id),
            Val::Null,
            Val::Hex64(e.keywords),
            Val::FileTime(e.time),
            e.activity_id.map_or(Val::Null, Val::Guid),
            Val::U32(e.process_id),
            Val::U32(e.thread_id),
            Val::U64(record),
            Val::U8(e.version),
            e.user_sid.clone().map_or(Val::Null, Val::Sid),
            Val::Null,
            Val::Str(e.provider.clone()),
            Val::Guid(e.provider_guid),
            Val::Str(e.channel.clone()),
        ]
    };
    // The System instance with its definition (when new) and 17 values; the 18th value (the
    // EventData fragment) goes last, so its offset is known once the rest is written.
    let mut sys = Bx {
        out: Vec::new(),
        base,
        chunk,
    };
    let computer = e.computer.clone();
    let mut values = values_without_data(0);
    values.push(Val::Null); // placeholder for the BinXml value
    sys.instance(&system_key, &|| system_template(&computer), &values);
    // Replace the placeholder: its descriptor is the last of 18, its bytes (none) at the end.
    let descriptors_end = sys.out.len() - values.iter().map(|v| v.bytes().len()).sum::<usize>();
    let last_descriptor = descriptors_end - 4;
    let data_base = sys.base + sys.out.len();
    let chunk = sys.chunk;
    let mut data = Bx {
        out: Vec::new(),
        base: data_base,
        chunk,
    };
    let data_values: Vec<Val> = e.data.iter().map(|(_, v)| v.clone()).collect();
    let shape_for = shape.clone();
    data.instance(&data_key, &|| data_template(&shape_for), &data_values);
    let fragment = data.out;
    sys.out[last_descriptor..last_descriptor + 2]
        .copy_from_slice(&(fragment.len() as u16).to_le_bytes());
    sys.out[last_descriptor + 2] = 0x21;
    let mut out = sys.out;
    out.extend_from_slice(&fragment);
    out
}

/// Write `events` as a log; the records are numbered from `first_record`.
pub fn write(events: &[Event], first_record: u64) -> Vec<u8> {
    let mut chunks: Vec<Chunk> = vec![Chunk::new()];
    let mut record = first_record;
    for e in events {
        loop {
            let chunk = chunks.last_mut().expect("one chunk at least");
            let at = chunk.buf.len();
            let binxml = record_binxml(e, record, at + 24, chunk);
            let size = (24 + binxml.len() + 4).next_multiple_of(8);
            if at + size > CHUNK {
                // Does not fit: the templates it defined here are forgotten with it.
                let mark = chunk.templates.iter().position(|(_, o)| *o as usize >= at);
                if let Some(m) = mark {
                    chunk.templates.truncate(m);
                }
                assert!(chunk.first.is_some(), "an event larger than a chunk");
                chunks.push(Chunk::new());
                continue;
            }
            let mut rec = Vec::with_capacity(size);
            rec.extend_from_slice(&[0x2a, 0x2a, 0, 0]);
            rec.extend_from_slice(&(size as u32).to_le_bytes());
            rec.extend_from_slice(&record.to_le_bytes());
            rec.extend_from_slice(&e.time.to_le_bytes());
            rec.extend_from_slice(&binxml);
            rec.resize(size - 4, 0);
            rec.extend_from_slice(&(size as u32).to_le_bytes());
            chunk.buf.extend_from_slice(&rec);
            chunk.first.get_or_insert(record);
            chunk.last = record;
            chunk.last_offset = at as u32;
            record += 1;
            break;
        }
    }
    let count = chunks.len();
    let mut file = vec![0u8; FILE_HEADER];
    file[..8].copy_from_slice(b"ElfFile\0");
    file[16..24].copy_from_slice(&(count as u64 - 1).to_le_bytes());
    file[24..32].copy_from_slice(&record.to_le_bytes());
    file[32..36].copy_from_slice(&128u32.to_le_bytes());
    file[36..38].copy_from_slice(&1u16.to_le_bytes());
    file[38..40].copy_from_slice(&3u16.to_le_bytes());
    file[40..42].copy_from_slice(&(FILE_HEADER as u16).to_le_bytes());
    file[42..44].copy_from_slice(&(count as u16).to_le_bytes());
    let crc = crc32(&[&file[..120]]);
    file[124..128].copy_from_slice(&crc.to_le_bytes());
    for chunk in chunks {
        file.extend_from_slice(&finish(chunk));
    }
    file
}

/// A chunk's header filled in and its checksums computed.
fn finish(mut c: Chunk) -> Vec<u8> {
    let free = c.buf.len() as u32;
    let first = c.first.unwrap_or(1);
    let last = if c.first.is_some() { c.last } else { 0 };
    for (at, v) in [(8, first), (16, last), (24, first), (32, last)] {
        c.buf[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }
    c.buf[40..44].copy_from_slice(&128u32.to_le_bytes());
    c.buf[44..48].copy_from_slice(&c.last_offset.to_le_bytes());
    c.buf[48..52].copy_from_slice(&free.to_le_bytes());
    // The template buckets: each definition in a bucket of its own (32 at most; more chain
    // through the definitions' next-offset field, which Windows also uses).
    let mut buckets = [0u32; 32];
    for (i, (_, offset)) in c.templates.iter().enumerate() {
        let b = i % 32;
        if buckets[b] != 0 {
            let next = *offset as usize;
            c.buf[next..next + 4].copy_from_slice(&buckets[b].to_le_bytes());
        }
        buckets[b] = *offset;
    }
    for (i, o) in buckets.iter().enumerate() {
        let at = 384 + i * 4;
        c.buf[at..at + 4].copy_from_slice(&o.to_le_bytes());
    }
    let records = crc32(&[&c.buf[CHUNK_HEADER..]]);
    c.buf[52..56].copy_from_slice(&records.to_le_bytes());
    c.buf.resize(CHUNK, 0);
    let header = crc32(&[&c.buf[..120], &c.buf[128..CHUNK_HEADER]]);
    c.buf[124..128].copy_from_slice(&header.to_le_bytes());
    c.buf
}

/// The BITS client's provider GUID: {ef1cc15b-46c1-414e-bb95-e76b077bd51e}.
pub const BITS_PROVIDER_GUID: [u8; 16] = [
    0x5b, 0xc1, 0x1c, 0xef, 0xc1, 0x46, 0x4e, 0x41, 0xbb, 0x95, 0xe7, 0x6b, 0x07, 0x7b, 0xd5, 0x1e,
];
pub const BITS_PROVIDER: &str = "Microsoft-Windows-Bits-Client";
pub const BITS_CHANNEL: &str = "Microsoft-Windows-Bits-Client/Operational";

/// A BITS client event with the System fields Windows gives it (keywords, opcode, level and
/// version by event id, as in the real samples).
pub fn bits_event(event_id: u16, time: u64, computer: &str, data: Vec<(&str, Val)>) -> Event {
    let (version, opcode, level) = match event_id {
        3 => (2, 0, 4),
        4 | 59 | 60 | 61 => (
            1,
            if event_id == 59 {
                1
            } else if event_id == 4 {
                0
            } else {
                2
            },
            4,
        ),
        63 | 64 => (0, 0, 3),
        _ => (0, 0, 4),
    };
    Event {
        provider: BITS_PROVIDER.into(),
        provider_guid: BITS_PROVIDER_GUID,
        event_id,
        version,
        level,
        task: 0,
        opcode,
        keywords: 0x4000_0000_0000_0000,
        time,
        activity_id: None,
        process_id: 1556,
        thread_id: 8344,
        channel: BITS_CHANNEL.into(),
        computer: computer.into(),
        user_sid: Some("S-1-5-18".into()),
        data: data.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
    }
}

/// Windows 7's event 3 (no job id: title, owner, and an empty third string).
pub fn bits_created_win7(time: u64, computer: &str, title: &str, owner: &str) -> Event {
    let mut e = bits_event(
        3,
        time,
        computer,
        vec![
            ("string", Val::Str(title.into())),
            ("string2", Val::Str(owner.into())),
            ("string3", Val::Str(String::new())),
        ],
    );
    e.version = 0;
    e
}
