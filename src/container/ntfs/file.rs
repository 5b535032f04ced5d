//! A file as the MFT holds it: its base record, and the extension records its
//! `$ATTRIBUTE_LIST` names, gathered into names and data streams.
//!
//! Everything is bounded: the list's bytes ([`MAX_LIST`]), the extension records read
//! ([`MAX_EXTENSIONS`], each once however often the list names it), the names kept
//! ([`MAX_NAMES`]; more are counted), the runs of all streams together ([`MAX_RUNS`]). List
//! entries that cannot be followed (naming the base record past its own attributes, or a
//! record that belongs to another file) are counted and said in [`File::notes`].

use std::collections::BTreeMap;

use super::attribute::{
    Attribute, Value, ATTRIBUTE_LIST, BITMAP, DATA, FILE_NAME, INDEX_ALLOCATION, INDEX_ROOT,
    STANDARD_INFORMATION,
};
use super::file_name::FileName;
use super::list;
use super::record::Record;
use super::runs::{self, Run};
use super::standard_information::Times;
use super::volume::Vol;

/// The most bytes of an `$ATTRIBUTE_LIST` read (about 30,000 entries; a file with 64 Ki runs
/// and thousands of hard links needs less than a tenth of it).
pub const MAX_LIST: u64 = 1 << 20;
/// Distinct extension records read for one file.
pub const MAX_EXTENSIONS: usize = 4096;
/// Names kept for one file (hard links beyond are counted).
pub const MAX_NAMES: usize = 1024;
/// Data runs of one file, all streams together.
pub const MAX_RUNS: usize = 1 << 16;
/// Named streams kept for one file.
const MAX_STREAMS: usize = 256;

/// A data stream (`$DATA` attribute; named: an alternate data stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    pub name: String,
    pub flags: u16,
    pub data: StreamData,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamData {
    Resident(Vec<u8>),
    /// The runs of all pieces in VCN order; the sizes from the piece at VCN 0.
    NonResident {
        size: u64,
        initialized: u64,
        runs: Vec<Run>,
    },
}

/// A file gathered from its records.
#[derive(Debug, Clone, Default)]
pub struct File {
    pub number: u64,
    pub sequence: u16,
    /// `$STANDARD_INFORMATION`'s times (all 0 when it is absent).
    pub si: Times,
    pub in_use: bool,
    pub dir: bool,
    pub names: Vec<FileName>,
    /// `$FILE_NAME`s past [`MAX_NAMES`].
    pub more_names: usize,
    pub streams: Vec<Stream>,
    /// A directory's file-name index (`$I30`): its root, allocation and bitmap (see
    /// `index.rs`); empty for a file.
    pub index: Vec<(u32, StreamData)>,
    /// What could not be followed, in words (counted, never one line per entry).
    pub notes: Vec<String>,
}

/// Pieces of one non-resident stream as found: (first VCN, last VCN, runs, sizes when first).
type Pieces = Vec<(u64, u64, Vec<Run>, Option<(u64, u64)>)>;

/// What the attributes of the records gathered so far give.
#[derive(Default)]
struct Gathered {
    si: Times,
    names: Vec<FileName>,
    more_names: usize,
    resident: BTreeMap<String, (u16, Vec<u8>)>,
    pieces: BTreeMap<String, (u16, Pieces)>,
    /// A directory's `$I30` attributes, by type (resident bytes, or pieces).
    index_resident: BTreeMap<u32, Vec<u8>>,
    index_pieces: BTreeMap<u32, Pieces>,
    dir: bool,
    runs: usize,
    errors: Vec<String>,
}

impl Gathered {
    fn take(&mut self, a: Attribute<'_>) {
        if self.dir && matches!(a.ty, INDEX_ROOT | INDEX_ALLOCATION | BITMAP) && a.name == "$I30" {
            self.take_index(a);
            return;
        }
        match (a.ty, a.value) {
            (STANDARD_INFORMATION, Value::Resident(v)) => {
                self.si = Times::parse(v, 0);
            }
            (FILE_NAME, Value::Resident(v)) => match FileName::parse(v) {
                Some(n) if self.names.len() < MAX_NAMES => self.names.push(n),
                Some(_) => self.more_names = self.more_names.saturating_add(1),
                None => self.errors.push("a $FILE_NAME cut short".into()),
            },
            (DATA, Value::Resident(v)) if self.known(&a.name) => {
                self.resident
                    .entry(a.name)
                    .or_insert_with(|| (a.flags, v.to_vec()));
            }
            (
                DATA,
                Value::NonResident {
                    first_vcn,
                    last_vcn,
                    runs,
                    size,
                    initialized,
                },
            ) => {
                if !self.known(&a.name) {
                    return;
                }
                let left = MAX_RUNS.saturating_sub(self.runs);
                match runs::decode(runs, first_vcn, left) {
                    Ok(r) => {
                        self.runs = self.runs.saturating_add(r.len());
                        let sizes = (first_vcn == 0).then_some((size, initialized));
                        let entry = self.pieces.entry(a.name).or_insert((a.flags, Vec::new()));
                        entry.1.push((first_vcn, last_vcn, r, sizes));
                    }
                    Err(e) => self.errors.push(format!("$DATA {:?}: {e}", a.name)),
                }
            }
            _ => {}
        }
    }

    /// A directory's `$I30` root, allocation or bitmap.
    fn take_index(&mut self, a: Attribute<'_>) {
        match a.value {
            Value::Resident(v) => {
                self.index_resident
                    .entry(a.ty)
                    .or_insert_with(|| v.to_vec());
            }
            Value::NonResident {
                first_vcn,
                last_vcn,
                runs,
                size,
                initialized,
            } => {
                let left = MAX_RUNS.saturating_sub(self.runs);
                match runs::decode(runs, first_vcn, left) {
                    Ok(r) => {
                        self.runs = self.runs.saturating_add(r.len());
                        let sizes = (first_vcn == 0).then_some((size, initialized));
                        let entry = self.index_pieces.entry(a.ty).or_default();
                        entry.push((first_vcn, last_vcn, r, sizes));
                    }
                    Err(e) => self.errors.push(format!("$I30 ({:#x}): {e}", a.ty)),
                }
            }
        }
    }

    /// Whether a stream of this name may be kept (the unnamed one always; named ones up to
    /// [`MAX_STREAMS`]).
    fn known(&self, name: &str) -> bool {
        name.is_empty()
            || self.resident.contains_key(name)
            || self.pieces.contains_key(name)
            || self.resident.len().saturating_add(self.pieces.len()) < MAX_STREAMS
    }
}

/// Join a stream's pieces in VCN order; each must start where the previous ended.
fn join(name: &str, mut pieces: Pieces) -> Result<StreamData, String> {
    pieces.sort_by_key(|p| p.0);
    pieces.dedup_by_key(|p| p.0);
    let mut runs = Vec::new();
    let mut next = 0u64;
    let mut sizes = None;
    for (first, _, r, s) in pieces {
        if first != next {
            return Err(format!(
                "$DATA {name:?}: pieces leave a gap or overlap at cluster {next} (next piece starts at {first})"
            ));
        }
        // The runs say where a piece ends (its header's last VCN is not trusted over them).
        let end = r.last().map_or(first, |x| x.vcn.saturating_add(x.len));
        sizes = sizes.or(s);
        runs.extend(r);
        next = end;
    }
    let (size, initialized) = sizes.ok_or_else(|| format!("$DATA {name:?}: no first piece"))?;
    Ok(StreamData::NonResident {
        size,
        initialized,
        runs,
    })
}

/// Gather file `n` from its base record `rec` (fix-ups applied).
pub fn gather(vol: &Vol, n: u64, rec: &Record) -> File {
    let mut g = Gathered {
        dir: rec.is_dir(),
        ..Gathered::default()
    };
    let mut notes = Vec::new();
    let mut list_bytes = None;
    let mut own = 0usize;
    for a in rec.attributes() {
        match a {
            Ok(a) if a.ty == ATTRIBUTE_LIST => list_bytes = Some(list_value(vol, &a, &mut notes)),
            Ok(a) => {
                own = own.saturating_add(1);
                g.take(a);
            }
            Err(e) => {
                g.errors.push(e);
                break;
            }
        }
    }
    if let Some(bytes) = list_bytes {
        follow_list(vol, n, &bytes, own, &mut g, &mut notes);
    }
    let mut streams = Vec::new();
    for (name, (flags, bytes)) in std::mem::take(&mut g.resident) {
        streams.push(Stream {
            name,
            flags,
            data: StreamData::Resident(bytes),
        });
    }
    for (name, (flags, pieces)) in std::mem::take(&mut g.pieces) {
        if streams.iter().any(|s| s.name == name) {
            continue;
        }
        match join(&name, pieces) {
            Ok(data) => streams.push(Stream { name, flags, data }),
            Err(e) => g.errors.push(e),
        }
    }
    let mut index = Vec::new();
    for (ty, bytes) in std::mem::take(&mut g.index_resident) {
        index.push((ty, StreamData::Resident(bytes)));
    }
    for (ty, pieces) in std::mem::take(&mut g.index_pieces) {
        if index.iter().any(|(t, _)| *t == ty) {
            continue;
        }
        match join("$I30", pieces) {
            Ok(data) => index.push((ty, data)),
            Err(e) => g.errors.push(e),
        }
    }
    notes.extend(g.errors);
    if g.runs >= MAX_RUNS {
        notes.push(format!(
            "more than {MAX_RUNS} data runs: the rest are not read"
        ));
    }
    File {
        number: n,
        sequence: rec.sequence(),
        si: g.si,
        in_use: rec.in_use(),
        dir: rec.is_dir(),
        names: g.names,
        more_names: g.more_names,
        streams,
        index,
        notes,
    }
}

/// An `$ATTRIBUTE_LIST`'s bytes (at most [`MAX_LIST`]).
fn list_value(vol: &Vol, a: &Attribute, notes: &mut Vec<String>) -> Vec<u8> {
    match &a.value {
        Value::Resident(v) => v.to_vec(),
        Value::NonResident {
            runs,
            size,
            first_vcn,
            ..
        } => {
            if *size > MAX_LIST {
                notes.push(format!(
                    "$ATTRIBUTE_LIST of {size} bytes: only the first {MAX_LIST} are read"
                ));
            }
            let runs = match runs::decode(runs, *first_vcn, 4096) {
                Ok(r) => r,
                Err(e) => {
                    notes.push(format!("$ATTRIBUTE_LIST: {e}"));
                    return Vec::new();
                }
            };
            match vol.read_runs(&runs, (*size).min(MAX_LIST)) {
                Ok(b) => b,
                Err(e) => {
                    notes.push(format!("$ATTRIBUTE_LIST: {e}"));
                    Vec::new()
                }
            }
        }
    }
}

/// Read the extension records a list names (each once) and take their attributes.
fn follow_list(
    vol: &Vol,
    n: u64,
    bytes: &[u8],
    own: usize,
    g: &mut Gathered,
    notes: &mut Vec<String>,
) {
    let (entries, more, bad) = list::entries(bytes, usize::MAX);
    debug_assert_eq!(more, 0);
    if let Some(bad) = bad {
        notes.push(format!(
            "$ATTRIBUTE_LIST: {bad}; the rest of the list is not read"
        ));
    }
    let mut selfs = 0usize;
    let mut records = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for e in &entries {
        if e.record == n {
            selfs = selfs.saturating_add(1);
        } else if seen.insert(e.record) {
            records.push(e.record);
        }
    }
    // The base record's own attributes are listed too (the list itself included): more
    // entries naming it than it holds attributes is a list that loops on itself.
    if selfs > own.saturating_add(1) {
        notes.push(format!(
            "$ATTRIBUTE_LIST: {selfs} entries name the base record itself, which holds {own} attributes: skipped"
        ));
    }
    if records.len() > MAX_EXTENSIONS {
        notes.push(format!(
            "$ATTRIBUTE_LIST names {} extension records: only the first {MAX_EXTENSIONS} are read",
            records.len()
        ));
        records.truncate(MAX_EXTENSIONS);
    }
    let mut foreign = 0usize;
    let mut unreadable = 0usize;
    let mut buf = vec![0u8; usize::try_from(vol.boot.record).unwrap_or(1024)];
    for x in records {
        if vol.read_record(x, &mut buf).is_err() {
            unreadable = unreadable.saturating_add(1);
            continue;
        }
        let Some(ext) = Record::new(&buf) else {
            unreadable = unreadable.saturating_add(1);
            continue;
        };
        if ext.base() != n {
            foreign = foreign.saturating_add(1);
            continue;
        }
        for a in ext.attributes() {
            match a {
                Ok(a) if a.ty != ATTRIBUTE_LIST => g.take(a),
                Ok(_) => {}
                Err(e) => {
                    g.errors.push(format!("extension record {x}: {e}"));
                    break;
                }
            }
        }
    }
    if foreign > 0 {
        notes.push(format!(
            "$ATTRIBUTE_LIST: {foreign} extension records belong to another file (reused since?): skipped"
        ));
    }
    if unreadable > 0 {
        notes.push(format!(
            "$ATTRIBUTE_LIST: {unreadable} extension records could not be read"
        ));
    }
}
