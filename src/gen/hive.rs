//! Writes small registry hives (`regf`) for test data and the demo: a SAM holding a machine
//! SID and local accounts, as `crate::hive` reads them (and regipy, in `tests/gen_hive.rs`).
//!
//! The file: a 4096-byte base block (`regf`, sequence numbers, the root cell's offset at 0x24,
//! the bins' length at 0x28, format 1.5, the XOR checksum of its first 508 bytes at 0x1fc),
//! then one hive bin (`hbin`, its offset and size) holding every cell: `nk` keys with `lf`
//! subkey lists (sorted by name, upper case, as Windows keeps them, each entry with the
//! name's first four characters as its hint), value lists and `vk` values, data cells.

/// A key to write: name, values (name, type, data), subkeys.
#[derive(Debug, Clone, Default)]
pub struct KeySpec {
    pub name: String,
    pub values: Vec<(String, u32, Vec<u8>)>,
    pub subkeys: Vec<KeySpec>,
}

impl KeySpec {
    pub fn new(name: &str) -> KeySpec {
        KeySpec {
            name: name.to_string(),
            ..KeySpec::default()
        }
    }
    pub fn value(mut self, name: &str, kind: u32, data: Vec<u8>) -> KeySpec {
        self.values.push((name.to_string(), kind, data));
        self
    }
    pub fn key(mut self, k: KeySpec) -> KeySpec {
        self.subkeys.push(k);
        self
    }
}

/// Cells of the one hive bin, offsets from the start of the bins.
struct Bins {
    buf: Vec<u8>,
}

impl Bins {
    /// Append a cell holding `data` (allocated: its size negative), 8-byte aligned; its offset.
    fn cell(&mut self, data: &[u8]) -> u32 {
        let at = self.buf.len() as u32;
        let size = (4 + data.len()).next_multiple_of(8);
        self.buf.extend_from_slice(&(-(size as i32)).to_le_bytes());
        self.buf.extend_from_slice(data);
        self.buf.resize(at as usize + size, 0);
        at
    }
}

fn put16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}

/// A key (and all below it); its cell offset. `parent`: the parent key's offset.
fn write_key(bins: &mut Bins, k: &KeySpec, parent: u32, root: bool, time: u64) -> u32 {
    // The nk cell is written first with its lists patched in after: reserve it.
    let (name, latin1) = name_bytes(&k.name);
    let mut nk = Vec::new();
    nk.extend_from_slice(b"nk");
    // 0x20: the name is compressed (Latin-1); 0x0c: the root's flags.
    let flags = if latin1 { 0x20 } else { 0 } | if root { 0x0c } else { 0 };
    put16(&mut nk, flags);
    nk.extend_from_slice(&time.to_le_bytes());
    put32(&mut nk, 0); // access bits
    put32(&mut nk, parent);
    put32(&mut nk, k.subkeys.len() as u32);
    put32(&mut nk, 0); // volatile subkeys
    put32(&mut nk, u32::MAX); // subkey list, patched
    put32(&mut nk, u32::MAX); // volatile list
    put32(&mut nk, k.values.len() as u32);
    put32(&mut nk, u32::MAX); // value list, patched
    put32(&mut nk, u32::MAX); // security
    put32(&mut nk, u32::MAX); // class
    for _ in 0..5 {
        put32(&mut nk, 0); // max name/class/value lengths, work var
    }
    put16(&mut nk, name.len() as u16);
    put16(&mut nk, 0); // class length
    nk.extend_from_slice(&name);
    let at = bins.cell(&nk);
    // Subkeys, sorted by upper-case name.
    let mut subs: Vec<&KeySpec> = k.subkeys.iter().collect();
    subs.sort_by_key(|s| s.name.to_uppercase());
    let offsets: Vec<(u32, &str)> = subs
        .iter()
        .map(|s| (write_key(bins, s, at, false, time), s.name.as_str()))
        .collect();
    if !offsets.is_empty() {
        let mut lf = Vec::new();
        lf.extend_from_slice(b"lf");
        put16(&mut lf, offsets.len() as u16);
        for (o, name) in &offsets {
            put32(&mut lf, *o);
            let mut hint = [0u8; 4];
            for (h, c) in hint.iter_mut().zip(name.chars()) {
                *h = u8::try_from(u32::from(c)).unwrap_or(0);
            }
            lf.extend_from_slice(&hint);
        }
        let list = bins.cell(&lf);
        patch(bins, at, 0x1c, list);
    }
    if !k.values.is_empty() {
        let mut vks = Vec::new();
        for (name, kind, data) in &k.values {
            let (name, latin1) = name_bytes(name);
            let mut vk = Vec::new();
            vk.extend_from_slice(b"vk");
            put16(&mut vk, name.len() as u16);
            if data.len() <= 4 {
                put32(&mut vk, data.len() as u32 | 0x8000_0000);
                let mut inline = [0u8; 4];
                inline[..data.len()].copy_from_slice(data);
                vk.extend_from_slice(&inline);
            } else {
                put32(&mut vk, data.len() as u32);
                let d = bins.cell(data);
                put32(&mut vk, d);
            }
            put32(&mut vk, *kind);
            put16(&mut vk, u16::from(latin1 && !name.is_empty())); // compressed name
            put16(&mut vk, 0);
            vk.extend_from_slice(&name);
            vks.push(bins.cell(&vk));
        }
        let list: Vec<u8> = vks.iter().flat_map(|o| o.to_le_bytes()).collect();
        let list = bins.cell(&list);
        patch(bins, at, 0x28, list);
    }
    at
}

/// A name as stored: compressed (one byte a character) when ASCII, else UTF-16LE. Windows
/// compresses any name whose characters are below U+0100 (Latin-1), but regipy 6.5 decodes a
/// compressed name as UTF-8 and so misreads `Zoë`: ASCII-only compression reads alike in both.
fn name_bytes(name: &str) -> (Vec<u8>, bool) {
    if name.is_ascii() {
        (name.chars().map(|c| c as u8).collect(), true)
    } else {
        (
            name.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            false,
        )
    }
}

/// Set the u32 at `field` of the nk cell at `cell` (after its size).
fn patch(bins: &mut Bins, cell: u32, field: usize, value: u32) {
    let at = cell as usize + 4 + field;
    bins.buf[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// A hive holding `root` and everything below it; `time`: every key's last-written FILETIME.
pub fn write(root: &KeySpec, time: u64) -> Vec<u8> {
    let mut bins = Bins { buf: vec![0u8; 32] };
    let root_at = write_key(&mut bins, root, 0, true, time);
    let len = bins.buf.len().next_multiple_of(4096);
    bins.buf.resize(len, 0);
    bins.buf[..4].copy_from_slice(b"hbin");
    bins.buf[8..12].copy_from_slice(&(len as u32).to_le_bytes());
    bins.buf[20..28].copy_from_slice(&time.to_le_bytes());
    // The free space after the last cell: one free cell per 4 KiB step would be Windows'
    // way; a single free cell to the end does as well.
    let mut base = vec![0u8; 4096];
    base[..4].copy_from_slice(b"regf");
    base[4..8].copy_from_slice(&1u32.to_le_bytes());
    base[8..12].copy_from_slice(&1u32.to_le_bytes());
    base[12..20].copy_from_slice(&time.to_le_bytes());
    base[20..24].copy_from_slice(&1u32.to_le_bytes()); // major
    base[24..28].copy_from_slice(&5u32.to_le_bytes()); // minor
    base[0x24..0x28].copy_from_slice(&root_at.to_le_bytes());
    base[0x28..0x2c].copy_from_slice(&(len as u32).to_le_bytes());
    base[0x2c..0x30].copy_from_slice(&1u32.to_le_bytes()); // clustering factor
    let sum = (0..127).fold(0u32, |x, i| {
        x ^ u32::from_le_bytes([
            base[i * 4],
            base[i * 4 + 1],
            base[i * 4 + 2],
            base[i * 4 + 3],
        ])
    });
    base[0x1fc..0x200].copy_from_slice(&sum.to_le_bytes());
    // Fill the rest of the bin with one free cell.
    let used = {
        let mut at = 32usize;
        while at + 4 <= bins.buf.len() {
            let size = i32::from_le_bytes([
                bins.buf[at],
                bins.buf[at + 1],
                bins.buf[at + 2],
                bins.buf[at + 3],
            ]);
            if size >= 0 {
                break;
            }
            at += size.unsigned_abs() as usize;
        }
        at
    };
    if used + 8 <= len {
        let free = (len - used) as i32;
        bins.buf[used..used + 4].copy_from_slice(&free.to_le_bytes());
    }
    base.extend_from_slice(&bins.buf);
    base
}

/// A SAM hive: the machine SID (`S-1-5-21-a-b-c`) in `SAM\Domains\Account`'s `V`, and each
/// account as `Users\<RID in hex>` (its `V` with the name) and `Users\Names\<name>` (the
/// default value's type is the RID).
pub fn sam(machine_sid: &str, accounts: &[(&str, u32)], time: u64) -> Vec<u8> {
    let mut users = KeySpec::new("Users");
    let mut names = KeySpec::new("Names");
    for (name, rid) in accounts {
        users = users.key(KeySpec::new(&format!("{rid:08X}")).value("V", 3, user_v(name)));
        names = names.key(KeySpec::new(name).value("", *rid, Vec::new()));
    }
    users = users.key(names);
    let account = KeySpec::new("Account")
        .value("V", 3, domain_v(machine_sid))
        .key(users);
    let root = KeySpec::new("CsiTool-CreateHive-{00000000-0000-0000-0000-000000000000}")
        .key(KeySpec::new("SAM").key(KeySpec::new("Domains").key(account)));
    write(&root, time)
}

/// A user's `V`: 0xcc bytes of (offset, length, unknown) triples, then the data; the name is
/// the second triple (offset at 0x0c, length at 0x10), its offset counted from 0xcc.
fn user_v(name: &str) -> Vec<u8> {
    let name: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut v = vec![0u8; 0xcc];
    v[0x0c..0x10].copy_from_slice(&0u32.to_le_bytes());
    v[0x10..0x14].copy_from_slice(&(name.len() as u32).to_le_bytes());
    v.extend_from_slice(&name);
    v.resize(v.len().next_multiple_of(4), 0);
    v
}

/// The domain's `V`: what precedes the SID matters not to readers; the SID is its last 24
/// bytes (revision 1, four sub-authorities, authority 5: 21 and the three numbers).
fn domain_v(machine_sid: &str) -> Vec<u8> {
    let mut v = vec![0u8; 0x40];
    v.extend_from_slice(&super::evtx::sid_bytes(machine_sid));
    v
}
