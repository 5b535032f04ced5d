//! Win10+ BITS job and file blobs (`Jobs.Blob`, `Files.Blob`) in the real layout, with values
//! varied deterministically from a seed.
//!
//! The layout is the one `bits/job.rs` and `bits/file.rs` document field by field (measured on
//! `blobs/win10/job.raw` and `file.raw`): job marker, the four header words, the job id, five
//! counted strings, the notify flags, the security area (a self-relative security descriptor with
//! a mandatory-label SACL and the five-ACE DACL of the sample), the XFER list of file GUIDs, the
//! metadata (errors, retry settings, FILETIMEs, expiration), proxy settings, the settings block,
//! the per-machine GUID pair, the notify program, the four constant words, the HTTP verb, the
//! 10-byte trailer and the closing marker. Constant runs of unknown meaning are copied from the
//! sample as they are.

use super::rng::Rng;
use crate::bits::file::FILE_MARKER;
use crate::bits::job::XFER_MARKER;

/// The Win10+ download job marker (BITS 10.3.2), as in every sample.
pub const DOWNLOAD_MARKER: [u8; 16] = [
    0xA1, 0x56, 0x09, 0xE1, 0x43, 0xAF, 0xC9, 0x42, 0x92, 0xE6, 0x6F, 0x98, 0x56, 0xEB, 0xA7, 0xF6,
];
/// The Win10+ upload job marker (BITS 10.3.2).
pub const UPLOAD_MARKER: [u8; 16] = [
    0xD0, 0x57, 0x56, 0x8F, 0x2C, 0x01, 0x3E, 0x4E, 0xAD, 0x2C, 0xF4, 0xA5, 0xD7, 0x65, 0x6F, 0xAF,
];
/// The GUID that appears twice near the end of every Win10/Win11 file blob sampled.
pub const FILE_TAIL_GUID: [u8; 16] = [
    0x2E, 0xB0, 0xAD, 0x7A, 0xCF, 0x8B, 0x2E, 0x4D, 0xB8, 0x2F, 0x43, 0x19, 0xD2, 0xFB, 0x5F, 0x75,
];

/// The 48-byte settings block after the custom-headers flag, as in the sample; the maximum
/// download time (+0x20) and the cost flags (+0x2c) are patched in.
const SETTINGS_TEMPLATE: [u8; 48] = [
    0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0x00, 0xA7, 0x76, 0x00, 0x21, 0, 0, 0, 0, 0, 0, 0, 0x65, 0x00, 0x00, 0x80,
];
/// The bytes between the HTTP verb and the closing marker in every sample.
const JOB_TRAILER: [u8; 10] = [0, 0, 0, 1, 0, 0, 0, 0, 0, 0];

/// FILETIME of 2022-01-01T00:00:00Z and the length of one day, in 100 ns units.
pub const FT_2022: u64 = 132_854_688_000_000_000;
pub const FT_DAY: u64 = 864_000_000_000;
pub const FT_SECOND: u64 = 10_000_000;

/// One entry of a job's error list, written in the Win10+ 21-byte layout every real entry
/// sampled fits: five u32 (0, the HRESULT, 1, the BG_ERROR_CONTEXT, 3), then a flag byte and,
/// when it is 1, a counted string (dissect.target's reading; no sampled entry has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobErrorSpec {
    pub hresult: u32,
    pub context: u32,
    pub text: Option<String>,
}

impl JobErrorSpec {
    /// An error about the remote file (context 5), as every sampled entry is.
    pub fn remote(hresult: u32) -> JobErrorSpec {
        JobErrorSpec {
            hresult,
            context: 5,
            text: None,
        }
    }
}

/// A packaged client's identity (Win11 24H2, see `bits/tail.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSpec {
    pub family_name: String,
    /// With its leading `!`, as stored.
    pub app_id: String,
    /// The u32 before the GUID (0x25 in every sample).
    pub word: u32,
    pub guid: [u8; 16],
}

/// Custom HTTP headers as BITS keeps them: their plain size and a DPAPI blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadersSpec {
    pub plain_size: u64,
    pub dpapi: Vec<u8>,
}

/// The settings a job blob holds beyond those the generated queues vary by default. The
/// default writes the bytes every generated job had before they existed: a single marker, no
/// proxy, no custom headers, security flags 0, client flag 1 and the GUID form of the client
/// section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobExtras {
    /// A first marker before the job's own (the doubled header dissect.target and artemis
    /// describe for upload jobs).
    pub leading_marker: Option<[u8; 16]>,
    pub proxy_usage: u32,
    pub proxy_list: Option<String>,
    pub proxy_bypass: Option<String>,
    pub custom_headers: Option<HeadersSpec>,
    pub security_flags: u32,
    pub client_flag: u8,
    /// `Some`: the 24H2 package form of the client section.
    pub package: Option<PackageSpec>,
    /// The 42 bytes after the settings block, of unknown meaning (zero in every sample but
    /// one job kind's): written as given, so that a test can see bytes no decoder reads kept
    /// with their offset (`JobRecord::undecoded`), as a field no source places would be.
    pub after_settings: [u8; 42],
}

impl Default for JobExtras {
    fn default() -> Self {
        JobExtras {
            leading_marker: None,
            proxy_usage: 0,
            proxy_list: None,
            proxy_bypass: None,
            custom_headers: None,
            security_flags: 0,
            client_flag: 1,
            package: None,
            after_settings: [0; 42],
        }
    }
}

/// Every value of a Win10+ job blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    pub marker: [u8; 16],
    pub job_type: u32,
    pub priority: u32,
    pub state: u32,
    pub id: [u8; 16],
    pub name: String,
    pub description: String,
    pub notify_command: String,
    pub notify_arguments: String,
    pub owner_sid: String,
    pub notify_flags: u32,
    /// The fifth word of the security area header (unknown meaning; varies between jobs).
    pub security_word: u32,
    pub file_ids: Vec<[u8; 16]>,
    pub errors: Vec<JobErrorSpec>,
    pub transient_errors: u32,
    pub retry_delay: u32,
    pub no_progress_timeout: u32,
    pub created: u64,
    pub modified: u64,
    pub completed: u64,
    pub notified: u32,
    pub expiration: u64,
    pub max_download_time: u32,
    pub cost_flags: u32,
    pub machine_guid: [u8; 16],
    pub client_path: String,
    pub http_method: String,
    pub extras: JobExtras,
}

/// Every value of a Win10+ file blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    pub id: [u8; 16],
    pub destination: String,
    pub url: String,
    pub temp_path: String,
    pub bytes_transferred: u64,
    /// `u64::MAX` when BITS did not know the size yet.
    pub total_bytes: u64,
    pub drive: String,
    pub volume: String,
    pub volume_serial: u32,
    pub remote_mtime: u64,
}

impl FileSpec {
    pub fn complete(&self) -> bool {
        self.total_bytes != u64::MAX && self.bytes_transferred == self.total_bytes
    }

    pub fn file_name(&self) -> &str {
        self.destination
            .rsplit(['\\', '/'])
            .next()
            .unwrap_or(&self.destination)
    }
}

/// Append a counted string: u32 count of UTF-16 units including the NUL, then the units.
pub fn put_counted(out: &mut Vec<u8>, s: &str) {
    let units: Vec<u16> = s.encode_utf16().chain(std::iter::once(0)).collect();
    out.extend_from_slice(&(units.len() as u32).to_le_bytes());
    for u in units {
        out.extend_from_slice(&u.to_le_bytes());
    }
}

/// A SID string (`S-1-5-21-…`) in its binary form; `None` when it is not one.
pub fn sid_bytes(sid: &str) -> Option<Vec<u8>> {
    let mut parts = sid.strip_prefix("S-")?.split('-');
    let revision: u8 = parts.next()?.parse().ok()?;
    let authority: u64 = parts.next()?.parse().ok()?;
    let subs: Vec<u32> = parts.map(|p| p.parse().ok()).collect::<Option<_>>()?;
    if subs.len() > 15 || authority >= 1 << 48 {
        return None;
    }
    let mut out = vec![revision, subs.len() as u8];
    out.extend_from_slice(&authority.to_be_bytes()[2..]);
    for s in subs {
        out.extend_from_slice(&s.to_le_bytes());
    }
    Some(out)
}

fn put_ace(out: &mut Vec<u8>, ace_type: u8, mask: u32, sid: &[u8]) {
    out.push(ace_type);
    out.push(0);
    out.extend_from_slice(&((8 + sid.len()) as u16).to_le_bytes());
    out.extend_from_slice(&mask.to_le_bytes());
    out.extend_from_slice(sid);
}

/// SACL size in the sample: one 20-byte mandatory-label ACE, the rest zero.
const SACL_SIZE: usize = 0x3F0;
/// The DACL mask of every ACE sampled: standard rights required plus specific rights 0-5.
pub const JOB_ACCESS_MASK: u32 = 0x000F_003F;

/// The job's self-relative security descriptor, shaped like the sample's: control 0x801F, a
/// SACL of 0x3F0 bytes holding a medium mandatory label (S-1-16-8192, no-write-up), a DACL of 5
/// ACEs with mask 0x000F003F (deny Anonymous; allow the owner, Administrators, Remote
/// Management Users and All Application Packages), then owner and group (both the owner).
pub fn security_descriptor(owner_sid: &str) -> Option<Vec<u8>> {
    let owner = sid_bytes(owner_sid)?;
    let mut sacl = vec![4u8, 0];
    sacl.extend_from_slice(&(SACL_SIZE as u16).to_le_bytes());
    sacl.extend_from_slice(&[1, 0, 0, 0]);
    put_ace(&mut sacl, 0x11, 1, &sid_bytes("S-1-16-8192")?);
    sacl.resize(SACL_SIZE, 0);

    let mut aces = Vec::new();
    put_ace(&mut aces, 1, JOB_ACCESS_MASK, &sid_bytes("S-1-5-7")?);
    put_ace(&mut aces, 0, JOB_ACCESS_MASK, &owner);
    put_ace(&mut aces, 0, JOB_ACCESS_MASK, &sid_bytes("S-1-5-32-544")?);
    put_ace(&mut aces, 0, JOB_ACCESS_MASK, &sid_bytes("S-1-5-32-580")?);
    put_ace(&mut aces, 0, JOB_ACCESS_MASK, &sid_bytes("S-1-15-2-1")?);
    let mut dacl = vec![2u8, 0];
    dacl.extend_from_slice(&((8 + aces.len()) as u16).to_le_bytes());
    dacl.extend_from_slice(&[5, 0, 0, 0]);
    dacl.extend_from_slice(&aces);

    let sacl_off = 20usize;
    let dacl_off = sacl_off + sacl.len();
    let owner_off = dacl_off + dacl.len();
    let group_off = owner_off + owner.len();
    let mut sd = vec![1u8, 0, 0x1F, 0x80];
    for off in [owner_off, group_off, sacl_off, dacl_off] {
        sd.extend_from_slice(&(off as u32).to_le_bytes());
    }
    sd.extend_from_slice(&sacl);
    sd.extend_from_slice(&dacl);
    sd.extend_from_slice(&owner);
    sd.extend_from_slice(&owner);
    Some(sd)
}

/// Encode a job blob. `None` only when the owner SID is not a SID string.
pub fn encode_job(j: &JobSpec) -> Option<Vec<u8>> {
    let sd = security_descriptor(&j.owner_sid)?;
    let x = &j.extras;
    let mut b = Vec::with_capacity(2200 + 16 * j.file_ids.len());
    if let Some(m) = &x.leading_marker {
        b.extend_from_slice(m);
    }
    b.extend_from_slice(&j.marker);
    for w in [j.job_type, j.priority, j.state, j.job_type] {
        b.extend_from_slice(&w.to_le_bytes());
    }
    b.extend_from_slice(&j.id);
    for s in [
        &j.name,
        &j.description,
        &j.notify_command,
        &j.notify_arguments,
        &j.owner_sid,
    ] {
        put_counted(&mut b, s);
    }
    b.extend_from_slice(&j.notify_flags.to_le_bytes());
    // The bytes are 00 20 00 00 in the sample: the word is 0x2000 little-endian.
    for w in [0u32, 0x2000, 1, 1, j.security_word] {
        b.extend_from_slice(&w.to_le_bytes());
    }
    b.extend_from_slice(&(sd.len() as u32).to_le_bytes());
    b.extend_from_slice(&sd);
    b.extend_from_slice(&XFER_MARKER);
    b.extend_from_slice(&(j.file_ids.len() as u32).to_le_bytes());
    for id in &j.file_ids {
        b.extend_from_slice(id);
    }
    b.extend_from_slice(&XFER_MARKER);
    b.extend_from_slice(&(j.errors.len() as u32).to_le_bytes());
    for e in &j.errors {
        for w in [0u32, e.hresult, 1, e.context, 3] {
            b.extend_from_slice(&w.to_le_bytes());
        }
        match &e.text {
            Some(t) => {
                b.push(1);
                put_counted(&mut b, t);
            }
            None => b.push(0),
        }
    }
    for w in [j.transient_errors, j.retry_delay, j.no_progress_timeout] {
        b.extend_from_slice(&w.to_le_bytes());
    }
    for t in [j.created, j.modified, j.modified, j.completed] {
        b.extend_from_slice(&t.to_le_bytes());
    }
    b.push(0);
    b.extend_from_slice(&j.notified.to_le_bytes());
    b.push(1);
    b.extend_from_slice(&j.modified.to_le_bytes());
    b.extend_from_slice(&j.expiration.to_le_bytes());
    // Three unset optional time pairs, then the proxy settings and custom headers.
    b.extend_from_slice(&[0, 0, 0]);
    put_proxy_and_headers(&mut b, x);
    let mut settings = SETTINGS_TEMPLATE;
    settings[0x18..0x1c].copy_from_slice(&x.security_flags.to_le_bytes());
    settings[0x20..0x24].copy_from_slice(&j.max_download_time.to_le_bytes());
    settings[0x2c..0x30].copy_from_slice(&j.cost_flags.to_le_bytes());
    b.extend_from_slice(&settings);
    b.extend_from_slice(&x.after_settings);
    // The client section: flag, client GUID, then the GUID form or the package form.
    b.push(x.client_flag);
    b.extend_from_slice(&j.machine_guid);
    match &x.package {
        None => {
            b.push(1);
            b.extend_from_slice(&j.machine_guid);
        }
        Some(p) => {
            b.push(0);
            b.push(1);
            put_counted(&mut b, &p.family_name);
            b.push(1);
            put_counted(&mut b, &p.app_id);
            b.push(1);
            b.extend_from_slice(&p.word.to_le_bytes());
            b.extend_from_slice(&p.guid);
        }
    }
    b.extend_from_slice(&[0u8; 21]);
    put_counted(&mut b, &j.client_path);
    for w in [3u32, 0x12, 3, 0x13] {
        b.extend_from_slice(&w.to_le_bytes());
    }
    put_counted(&mut b, &j.http_method);
    b.extend_from_slice(&JOB_TRAILER);
    b.extend_from_slice(&j.marker);
    Some(b)
}

/// Proxy usage, the proxy and bypass lists (counted strings, count 0 for none), two zero
/// bytes, the custom headers flag and, when set, the plain size, the DPAPI blob's length and
/// the blob: the layout the decoders read (`bits/tail.rs`), shared by the legacy generator.
pub fn put_proxy_and_headers(b: &mut Vec<u8>, x: &JobExtras) {
    b.extend_from_slice(&x.proxy_usage.to_le_bytes());
    for list in [&x.proxy_list, &x.proxy_bypass] {
        match list {
            Some(s) => put_counted(b, s),
            None => b.extend_from_slice(&0u32.to_le_bytes()),
        }
    }
    b.extend_from_slice(&[0, 0]);
    match &x.custom_headers {
        Some(h) => {
            b.push(1);
            b.extend_from_slice(&h.plain_size.to_le_bytes());
            b.extend_from_slice(&(h.dpapi.len() as u32).to_le_bytes());
            b.extend_from_slice(&h.dpapi);
        }
        None => b.push(0),
    }
}

/// A DPAPI blob laid out as the sampled ones (`bits/dpapi.rs`): the clear header
/// (`description`, `master_key`, AES-256 and SHA-512), then random bytes where the salt, keys,
/// ciphertext (`plain_size` padded to the AES block) and signature are. Nothing is encrypted.
pub fn dpapi_blob(
    rng: &mut Rng,
    description: &str,
    master_key: [u8; 16],
    plain_size: u64,
) -> Vec<u8> {
    let mut b = 1u32.to_le_bytes().to_vec();
    b.extend_from_slice(&crate::bits::dpapi::PROVIDER);
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&master_key);
    b.extend_from_slice(&0u32.to_le_bytes());
    let desc: Vec<u8> = description
        .encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect();
    b.extend_from_slice(&(desc.len() as u32).to_le_bytes());
    b.extend_from_slice(&desc);
    let mut random = |b: &mut Vec<u8>, n: usize| {
        b.extend_from_slice(&(n as u32).to_le_bytes());
        b.extend((0..n).map(|_| rng.next_u64() as u8));
    };
    b.extend_from_slice(&0x6610u32.to_le_bytes());
    b.extend_from_slice(&256u32.to_le_bytes());
    random(&mut b, 32);
    random(&mut b, 0);
    b.extend_from_slice(&0x800eu32.to_le_bytes());
    b.extend_from_slice(&512u32.to_le_bytes());
    random(&mut b, 32);
    random(&mut b, ((plain_size / 16 + 1) * 16).min(1 << 16) as usize);
    random(&mut b, 64);
    b
}

/// Encode a file blob.
pub fn encode_file(f: &FileSpec) -> Vec<u8> {
    let mut b = Vec::with_capacity(1100 + 2 * f.url.len());
    b.extend_from_slice(&FILE_MARKER);
    put_counted(&mut b, &f.destination);
    put_counted(&mut b, &f.url);
    put_counted(&mut b, &f.temp_path);
    b.extend_from_slice(&f.bytes_transferred.to_le_bytes());
    b.extend_from_slice(&f.total_bytes.to_le_bytes());
    b.push(0);
    put_counted(&mut b, &f.drive);
    put_counted(&mut b, &f.volume);
    let size: i64 = if f.total_bytes == u64::MAX {
        -1
    } else {
        i64::try_from(f.total_bytes).unwrap_or(i64::MAX)
    };
    b.extend_from_slice(&3u32.to_le_bytes());
    b.extend_from_slice(&f.volume_serial.to_le_bytes());
    b.extend_from_slice(&size.to_le_bytes());
    b.extend_from_slice(&0x80u32.to_le_bytes());
    b.extend_from_slice(&0i32.to_le_bytes());
    b.push(0);
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&f.remote_mtime.to_le_bytes());
    b.extend_from_slice(&[0u8; 16]);
    b.extend_from_slice(&u32::from(f.complete()).to_le_bytes());
    b.extend_from_slice(&f.bytes_transferred.to_le_bytes());
    b.extend_from_slice(&0u64.to_le_bytes());
    b.extend_from_slice(&FILE_TAIL_GUID);
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&[0u8; 6]);
    let ranges: &[(u64, u64)] = if f.bytes_transferred > 0 {
        &[(0, f.bytes_transferred)]
    } else {
        &[]
    };
    b.extend_from_slice(&(ranges.len() as u64).to_le_bytes());
    for (off, len) in ranges {
        b.extend_from_slice(&off.to_le_bytes());
        b.extend_from_slice(&len.to_le_bytes());
    }
    b.extend_from_slice(&0u64.to_le_bytes());
    b.extend_from_slice(&FILE_TAIL_GUID);
    b.extend_from_slice(&FILE_MARKER);
    b
}

/// The machine a generated queue comes from: its account SIDs, volume and per-machine GUID.
#[derive(Debug, Clone)]
pub struct Machine {
    /// `S-1-5-21-a-b-c` (the domain part of local account SIDs).
    pub domain_sid: String,
    /// (user name, RID) of the interactive users.
    pub users: Vec<(String, u32)>,
    pub volume: String,
    pub volume_serial: u32,
    pub guid: [u8; 16],
    /// FILETIME when the database was copied: every time in it is earlier.
    pub now: u64,
}

const USER_NAMES: [&str; 12] = [
    "bob", "alice", "jsmith", "admin", "maria", "user", "dev", "kim", "j.doe", "Élodie", "sam",
    "helpdesk",
];

impl Machine {
    pub fn random(rng: &mut Rng) -> Machine {
        let domain_sid = format!(
            "S-1-5-21-{}-{}-{}",
            rng.range(1_000_000_000, 4_294_967_295),
            rng.range(1_000_000_000, 4_294_967_295),
            rng.range(100_000_000, 4_294_967_295)
        );
        let n_users = 1 + rng.index(3);
        let mut users = Vec::new();
        let mut names: Vec<&str> = USER_NAMES.to_vec();
        rng.shuffle(&mut names);
        for (i, name) in names.iter().take(n_users).enumerate() {
            users.push(((*name).to_string(), 1001 + i as u32));
        }
        let v = rng.guid();
        let volume = format!(r"\\?\Volume{{{}}}\", crate::util::guid::Guid(v));
        Machine {
            domain_sid,
            users,
            volume,
            volume_serial: rng.next_u32(),
            guid: rng.guid(),
            now: FT_2022 + rng.below(3 * 365) * FT_DAY + rng.below(FT_DAY),
        }
    }

    fn user(&self, rng: &mut Rng) -> (String, String) {
        let (name, rid) = self
            .users
            .get(rng.index(self.users.len()))
            .cloned()
            .unwrap_or_else(|| ("user".to_string(), 1001));
        (name, format!("{}-{rid}", self.domain_sid))
    }
}

/// A job and its files, before encoding.
#[derive(Debug, Clone)]
pub struct JobWithFiles {
    pub job: JobSpec,
    pub files: Vec<FileSpec>,
}

/// The kinds of jobs the generator draws from, modelled on what real queues hold.
const KINDS: [(&str, u64); 8] = [
    ("chrome", 24),
    ("mozilla", 16),
    ("edge", 16),
    ("outlook", 10),
    ("office", 8),
    ("persistence", 8),
    ("unicode", 8),
    ("upload", 3),
];

fn pick_kind(rng: &mut Rng) -> &'static str {
    let total: u64 = KINDS.iter().map(|(_, w)| w).sum();
    let mut x = rng.below(total);
    for (k, w) in KINDS {
        if x < w {
            return k;
        }
        x -= w;
    }
    "chrome"
}

fn hex_upper(rng: &mut Rng, n: usize) -> String {
    rng.string_from(b"0123456789ABCDEF", n)
}

fn hex_lower(rng: &mut Rng, n: usize) -> String {
    rng.string_from(b"0123456789abcdef", n)
}

/// State, with the weights of a queue seen on a live machine.
fn pick_state(rng: &mut Rng) -> u32 {
    const W: [(u32, u64); 9] = [
        (0, 10),
        (1, 3),
        (2, 8),
        (3, 14),
        (4, 8),
        (5, 5),
        (6, 45),
        (7, 4),
        (8, 3),
    ];
    let total: u64 = W.iter().map(|(_, w)| w).sum();
    let mut x = rng.below(total);
    for (s, w) in W {
        if x < w {
            return s;
        }
        x -= w;
    }
    6
}

/// One file's name, URL and destination for a job kind.
struct Target {
    url: String,
    destination: String,
    size: u64,
}

fn target(rng: &mut Rng, kind: &str, ctx: &KindCtx, index: usize) -> Target {
    let size = match rng.index(4) {
        0 => rng.range(512, 64 * 1024),
        1 => rng.range(64 * 1024, 4 << 20),
        2 => rng.range(4 << 20, 64 << 20),
        _ => rng.range(64 << 20, 900 << 20),
    };
    match kind {
        "chrome" => {
            let file = if index == 0 {
                ctx.description.clone()
            } else {
                format!(
                    "{}_{}_all_{}.crx3",
                    rng.string_from(b"abcdefghijklmnop", 32),
                    rng.range(1, 999),
                    rng.string_from(b"abcdefghijklmnopqrstuvwxyz234567", 26)
                )
            };
            Target {
                url: format!(
                    "http://edgedl.me.gvt1.com/edgedl/release2/chrome_component/{}_{}/{file}",
                    rng.string_from(b"abcdefghijklmnopqrstuvwxyz234567", 26),
                    rng.range(1, 999)
                ),
                destination: format!("{}\\{file}", ctx.folder),
                size: size.min(8 << 20),
            }
        }
        "mozilla" => {
            let major = rng.range(100, 130);
            Target {
                url: format!(
                    "https://download-installer.cdn.mozilla.net/pub/firefox/releases/{major}.0/update/win64/en-US/firefox-{}.0.{}-{major}.0.partial.mar",
                    major - 1,
                    rng.range(1, 3)
                ),
                destination: format!("{}\\update{}.mar", ctx.folder, if index == 0 { String::new() } else { index.to_string() }),
                size,
            }
        }
        "edge" => {
            let g = crate::util::guid::Guid(rng.guid());
            Target {
                url: format!(
                    "http://msedge.b.tlu.dl.delivery.mp.microsoft.com/filestreamingservice/files/{g}?P1={}&P2=404&P3=2&P4={}%3d%3d",
                    rng.range(1_600_000_000, 1_800_000_000),
                    rng.string_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 86)
                ),
                destination: format!("{}\\{g}", ctx.folder),
                size,
            }
        }
        "outlook" => Target {
            url: format!(
                "https://outlook.office365.com/OAB/{}/{}-data-{}.lzx",
                crate::util::guid::Guid(ctx.token),
                crate::util::guid::Guid(rng.guid()),
                rng.range(1, 9999)
            ),
            destination: format!(
                "{}\\{}-data-{}.lzx",
                ctx.folder,
                hex_lower(rng, 8),
                rng.range(1, 9999)
            ),
            size: size.min(32 << 20),
        },
        "office" => Target {
            url: format!(
                "http://officecdn.microsoft.com/pr/{}/Office/Data/16.0.{}.{}/stream.x64.x-none.dat",
                crate::util::guid::Guid(ctx.token),
                rng.range(14000, 17999),
                rng.range(10000, 20999)
            ),
            destination: format!("{}\\stream{index}.x64.x-none.dat", ctx.folder),
            size,
        },
        "persistence" => {
            let names = [
                "svchost32.exe",
                "update.exe",
                "winlogin.exe",
                "msupd.dll",
                "payload.ps1",
                "cfg.dat",
            ];
            let name = rng.pick(&names).copied().unwrap_or("update.exe");
            let host = if rng.chance(1, 2) {
                format!(
                    "{}.{}.{}.{}",
                    rng.range(11, 223),
                    rng.below(256),
                    rng.below(256),
                    rng.range(1, 254)
                )
            } else {
                format!(
                    "cdn-{}.{}",
                    hex_lower(rng, 6),
                    rng.pick(&["top", "xyz", "info", "net"])
                        .copied()
                        .unwrap_or("net")
                )
            };
            Target {
                url: format!("http://{host}/{}/{name}", hex_lower(rng, 8)),
                destination: format!("{}\\{name}", ctx.folder),
                size: size.min(3 << 20),
            }
        }
        "unicode" => {
            let names = [
                "données.zip",
                "отчёт.pdf",
                "更新プログラム.cab",
                "Präsentation.pptx",
                "café menu.docx",
                "résumé (final).pdf",
            ];
            let name = rng.pick(&names).copied().unwrap_or("données.zip");
            Target {
                url: format!(
                    "https://dl.dropboxusercontent.com/s/{}/{}?dl=1",
                    hex_lower(rng, 15),
                    percent_encode(name)
                ),
                destination: format!("{}\\{name}", ctx.folder),
                size,
            }
        }
        _ => Target {
            url: format!(
                "https://watson.telemetry.microsoft.com/Telemetry.Request/{}/upload{index}.cab",
                crate::util::guid::Guid(ctx.token)
            ),
            destination: format!("{}\\Report{}.cab", ctx.folder, hex_upper(rng, 8)),
            size: size.min(16 << 20),
        },
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What a job kind decides once for all its files.
struct KindCtx {
    folder: String,
    description: String,
    token: [u8; 16],
}

/// The kinds a stock updater makes: a vendor's host, no notify command (the others are the
/// planted persistence, the odd-text and the upload jobs).
const UPDATER_KINDS: [&str; 5] = ["chrome", "mozilla", "edge", "outlook", "office"];

/// A random job of a random kind with `n_files` files, owned by a user of `machine` or a service.
pub fn random_job(rng: &mut Rng, machine: &Machine, n_files: usize) -> JobWithFiles {
    random_job_of_kind(rng, machine, n_files).1
}

/// As [`random_job`], with whether the kind drawn is a stock updater's (the same draws, so
/// the same jobs in the same order).
pub fn random_job_is_updater(
    rng: &mut Rng,
    machine: &Machine,
    n_files: usize,
) -> (bool, JobWithFiles) {
    let (kind, job) = random_job_of_kind(rng, machine, n_files);
    (UPDATER_KINDS.contains(&kind), job)
}

fn random_job_of_kind(
    rng: &mut Rng,
    machine: &Machine,
    n_files: usize,
) -> (&'static str, JobWithFiles) {
    let kind = pick_kind(rng);
    let (user, user_sid) = machine.user(rng);
    let token = rng.guid();
    let state = pick_state(rng);
    let mut job = JobSpec {
        marker: DOWNLOAD_MARKER,
        job_type: 0,
        priority: 2,
        state,
        id: rng.guid(),
        name: String::new(),
        description: String::new(),
        notify_command: String::new(),
        notify_arguments: String::new(),
        owner_sid: user_sid.clone(),
        notify_flags: 3,
        security_word: rng.next_u32(),
        file_ids: Vec::new(),
        errors: Vec::new(),
        transient_errors: 0,
        retry_delay: 60,
        no_progress_timeout: 86_400,
        created: 0,
        modified: 0,
        completed: 0,
        notified: 0,
        expiration: 0,
        max_download_time: 7_776_000,
        cost_flags: 0x8000_0065,
        machine_guid: machine.guid,
        client_path: String::new(),
        http_method: "GET".to_string(),
        extras: JobExtras::default(),
    };
    let local = format!(r"C:\Users\{user}\AppData\Local");
    let folder;
    match kind {
        "chrome" => {
            job.name = "Chrome Component Updater".into();
            job.description = format!(
                "{}_{}_all_{}.crx3",
                rng.string_from(b"abcdefghijklmnop", 32),
                rng.range(1, 999),
                rng.string_from(b"abcdefghijklmnopqrstuvwxyz234567", 26)
            );
            folder = format!(
                r"{local}\Temp\chrome_BITS_{}_{}",
                rng.range(1000, 30000),
                rng.range(1_000_000_000, 2_000_000_000)
            );
            job.client_path = r"C:\Program Files\Google\Chrome\Application\chrome.exe".into();
        }
        "mozilla" => {
            let h = hex_upper(rng, 16);
            job.name = format!("MozillaUpdate {h}");
            job.priority = 0;
            job.retry_delay = 60;
            job.no_progress_timeout = 3600;
            folder = format!(
                r"C:\ProgramData\Mozilla-{}\updates\{h}\updates\downloading",
                crate::util::guid::Guid(token)
            );
            job.client_path = r"C:\Program Files\Mozilla Firefox\firefox.exe".into();
        }
        "edge" => {
            job.name = "MicrosoftEdgeUpdate".into();
            job.owner_sid = "S-1-5-18".into();
            folder = format!(
                r"C:\Program Files (x86)\Microsoft\EdgeUpdate\Download\{{{}}}\1{}.0.{}.{}",
                crate::util::guid::Guid(token).to_string().to_uppercase(),
                rng.range(10, 30),
                rng.range(1000, 3000),
                rng.range(10, 99)
            );
            job.client_path =
                r"C:\Program Files (x86)\Microsoft\EdgeUpdate\MicrosoftEdgeUpdate.exe".into();
            job.priority = 3;
        }
        "outlook" => {
            job.name = format!(
                "Microsoft Outlook Offline Address Book {}",
                crate::util::guid::Guid(token)
            );
            job.description = "Offline Address Book download".into();
            folder = format!(
                r"{local}\Microsoft\Outlook\Offline Address Books\{}",
                crate::util::guid::Guid(rng.guid())
            );
            job.client_path = r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE".into();
        }
        "office" => {
            job.name = "Microsoft Office Click-to-Run".into();
            job.owner_sid = "S-1-5-18".into();
            folder = r"C:\Program Files\Common Files\microsoft shared\ClickToRun\Updates\Download\PackageFiles".to_string()
                + &format!(r"\{}\root\office16", crate::util::guid::Guid(token).to_string().to_uppercase());
            job.client_path =
                r"C:\Program Files\Common Files\microsoft shared\ClickToRun\OfficeClickToRun.exe"
                    .into();
        }
        "persistence" => {
            let names = [
                "Update",
                "SystemHealthCheck",
                "OneDrive Sync",
                "WindowsDefenderUpdate",
                "msupd",
            ];
            job.name = rng.pick(&names).copied().unwrap_or("Update").into();
            if rng.chance(1, 2) {
                job.owner_sid = "S-1-5-18".into();
                folder = r"C:\Windows\Temp".into();
            } else {
                folder = format!(r"C:\Users\{user}\AppData\Roaming\Microsoft\Network");
            }
            job.notify_flags = 0x0b;
            job.notify_command = r"C:\Windows\System32\cmd.exe".into();
            job.notify_arguments = if rng.chance(1, 2) {
                format!(r"/c start /b {folder}\svchost32.exe -k netsvcs")
            } else {
                format!(
                    "/c powershell.exe -nop -w hidden -enc {}",
                    rng.string_from(
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                        96
                    )
                )
            };
            job.retry_delay = 600;
            job.no_progress_timeout = 1_209_600;
            job.client_path = String::new();
        }
        "unicode" => {
            let names = [
                "Mise à jour de Dropbox",
                "Загрузка отчётов",
                "ファイル同期",
                "Aktualisierung für Büro",
                "Sincronização",
            ];
            job.name = rng.pick(&names).copied().unwrap_or("Mise à jour").into();
            job.description = "Téléchargement en arrière-plan — “café” ✓".into();
            folder = format!(r"C:\Users\{user}\Documents\Rapports 2023 – données");
            job.client_path = r"C:\Program Files (x86)\Dropbox\Client\Dropbox.exe".into();
        }
        _ => {
            job.marker = UPLOAD_MARKER;
            job.job_type = 1;
            job.name = "Windows Error Reporting upload".into();
            job.owner_sid = "S-1-5-18".into();
            folder = r"C:\ProgramData\Microsoft\Windows\WER\ReportQueue".to_string()
                + &format!(r"\AppCrash_{}", hex_lower(rng, 40));
            job.client_path = r"C:\Windows\System32\wermgr.exe".into();
            job.http_method = "BITS_POST".into();
        }
    }
    let ctx = KindCtx {
        folder,
        description: job.description.clone(),
        token,
    };

    // Times: created within the 60 days before the copy, modified shortly after.
    let span = 60 * FT_DAY;
    job.created = machine.now.saturating_sub(rng.range(FT_SECOND, span));
    let modified = job.created + rng.range(FT_SECOND / 2, 2 * 3600 * FT_SECOND);
    job.modified = modified.min(machine.now.saturating_sub(1));
    job.expiration = job.modified + 90 * FT_DAY;
    let done = matches!(state, 6 | 7);
    if done {
        job.completed = job.modified;
        job.notified = 1;
    }
    if matches!(state, 4 | 5) {
        job.errors.push(JobErrorSpec::remote(
            *rng.pick(&[
                0x8007_2EE7,
                0x8019_0194,
                0x8020_0010,
                0x8007_2EFD,
                0x8019_0193,
            ])
            .unwrap_or(&0x8007_2EE7),
        ));
        job.transient_errors = rng.range(1, 9) as u32;
        if state == 4 {
            job.notified = 2;
        }
    }

    let mut files = Vec::with_capacity(n_files);
    for i in 0..n_files {
        let t = target(rng, kind, &ctx, i);
        let (transferred, total, mtime) = match state {
            6 | 7 => (
                t.size,
                t.size,
                job.created.saturating_sub(rng.range(FT_DAY, 400 * FT_DAY)),
            ),
            0 | 1 if rng.chance(2, 3) => (0, u64::MAX, 0),
            8 => (
                rng.below(t.size),
                t.size,
                job.created.saturating_sub(rng.range(FT_DAY, 400 * FT_DAY)),
            ),
            _ => {
                let part = rng.below(t.size);
                (
                    part,
                    t.size,
                    job.created.saturating_sub(rng.range(FT_DAY, 400 * FT_DAY)),
                )
            }
        };
        let dir = t
            .destination
            .rsplit_once('\\')
            .map_or_else(|| ctx.folder.clone(), |(d, _)| d.to_string());
        let id = rng.guid();
        job.file_ids.push(id);
        files.push(FileSpec {
            id,
            temp_path: format!(r"{dir}\BIT{}.tmp", hex_upper(rng, 4)),
            destination: t.destination,
            url: t.url,
            bytes_transferred: transferred,
            total_bytes: total,
            drive: r"C:\".into(),
            volume: machine.volume.clone(),
            volume_serial: machine.volume_serial,
            remote_mtime: mtime,
        });
    }
    (kind, JobWithFiles { job, files })
}

/// Give a generated job the settings the default queues leave as they are (for
/// `bitscope-gen ese --all-fields` and the decoders' round-trip tests), each now and then: the
/// 24H2 package form of the client section, proxy settings, custom headers, security flags,
/// the client flag 0, an error with its text and another context, an upload-reply job whose
/// blob opens with two markers. Draws only from `rng`, so the jobs drawn before stay the same.
pub fn enrich(rng: &mut Rng, machine: &Machine, job: &mut JobSpec) {
    const PACKAGES: [(&str, &str); 3] = [
        (
            "Microsoft.OutlookForWindows_8wekyb3d8bbwe",
            "!Microsoft.OutlookforWindows",
        ),
        (
            "MicrosoftWindows.Client.WebExperience_cw5n1h2txyewy",
            "!App",
        ),
        ("Microsoft.WindowsStore_8wekyb3d8bbwe", "!App"),
    ];
    const SECURITY: [u32; 6] = [0x100, 0x800, 0x200, 0x1, 0x101, 0x1E];
    let x = &mut job.extras;
    if rng.chance(1, 3) {
        let (family, app) = *rng.pick(&PACKAGES).unwrap_or(&PACKAGES[0]);
        x.package = Some(PackageSpec {
            family_name: family.into(),
            app_id: app.into(),
            word: 0x25,
            guid: machine.guid,
        });
    }
    if rng.chance(1, 2) {
        x.proxy_usage = rng.below(4) as u32;
        if x.proxy_usage == 2 {
            x.proxy_list = Some(format!("proxy{}.corp.example:8080", rng.range(1, 9)));
            x.proxy_bypass = rng
                .chance(1, 2)
                .then(|| "<local>;*.corp.example".to_string());
        }
    }
    if rng.chance(1, 3) {
        let plain = rng.range(40, 400);
        let key = rng.guid();
        x.custom_headers = Some(HeadersSpec {
            plain_size: plain,
            dpapi: dpapi_blob(rng, "BITS Job Custom headers", key, plain),
        });
    }
    if rng.chance(1, 2) {
        x.security_flags = *rng.pick(&SECURITY).unwrap_or(&0x100);
    }
    if rng.chance(1, 4) {
        x.client_flag = 0;
    }
    for e in &mut job.errors {
        e.context = *rng.pick(&[5, 5, 6, 4]).unwrap_or(&5);
        if rng.chance(1, 2) {
            e.text = Some("The requested URL does not exist on the server.".into());
        }
    }
    if rng.chance(1, 8) {
        job.job_type = 2;
        job.marker = UPLOAD_MARKER;
        job.extras.leading_marker = Some(UPLOAD_MARKER);
        job.http_method = "BITS_POST".into();
    }
}

/// Make a job's blob exceed `min_len` bytes (so that it needs more than one long-value chunk):
/// a long description and extra file GUIDs, as a job with many files would have.
pub fn enlarge_job(rng: &mut Rng, job: &mut JobSpec, min_len: usize) {
    job.description = format!(
        "Batch download of {} packages: {}",
        40 + rng.below(60),
        (0..40)
            .map(|_| format!("pkg-{}.cab", hex_lower(rng, 8)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    while encode_job(job).map_or(0, |b| b.len()) <= min_len {
        job.file_ids.push(rng.guid());
    }
}

/// Make a file's blob exceed `min_len` bytes with a long signed URL (query string), as CDN
/// downloads have.
pub fn enlarge_file(rng: &mut Rng, file: &mut FileSpec, min_len: usize) {
    let mut url = format!("{}?sig=", file.url.split('?').next().unwrap_or(&file.url));
    while encode_file(&FileSpec {
        url: url.clone(),
        ..file.clone()
    })
    .len()
        <= min_len
    {
        url.push_str(&rng.string_from(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789%-_",
            64,
        ));
    }
    file.url = url;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bits::file::decode_file_blob;
    use crate::bits::job::decode_job_blob;
    use crate::util::guid::Guid;
    use crate::winsec::parse_security_descriptor;

    #[test]
    fn sid_round_trip_and_sample_descriptor_shape() {
        let sid = "S-1-5-21-1079689790-2336414676-942872339-1001";
        let b = sid_bytes(sid).expect("sid");
        assert_eq!(b.len(), 28);
        assert_eq!(&b[..8], &[1, 5, 0, 0, 0, 0, 0, 5]);
        assert!(sid_bytes("S-1-x").is_none());
        let sd = security_descriptor(sid).expect("sd");
        // Same size and control word as the sample's descriptor for a user SID.
        assert_eq!(sd.len(), 1220);
        assert_eq!(&sd[..4], &[1, 0, 0x1F, 0x80]);
        let parsed = parse_security_descriptor(&sd).expect("parses");
        assert_eq!(
            parsed.to_sddl().matches("(A;").count(),
            4,
            "{}",
            parsed.to_sddl()
        );
    }

    #[test]
    fn generated_blobs_decode_to_their_specs() {
        let mut rng = Rng::new(42);
        let machine = Machine::random(&mut rng);
        for i in 0..300 {
            let JobWithFiles { mut job, mut files } = random_job(&mut rng, &machine, 1 + i % 3);
            if i % 50 == 7 {
                enlarge_job(&mut rng, &mut job, 4100);
                enlarge_file(&mut rng, &mut files[0], 4100);
            }
            let blob = encode_job(&job).expect("encodes");
            let d = decode_job_blob(&blob).expect("decodes");
            assert!(d.closed && d.stopped.is_none(), "{:?}", d.warnings);
            assert_eq!(d.len, blob.len());
            assert_eq!(d.job_id, Guid(job.id));
            assert_eq!(d.name.as_deref(), Some(job.name.as_str()));
            assert_eq!(d.description.as_deref(), Some(job.description.as_str()));
            assert_eq!(
                d.notify_command.as_deref(),
                Some(job.notify_command.as_str())
            );
            assert_eq!(
                d.notify_arguments.as_deref(),
                Some(job.notify_arguments.as_str())
            );
            assert_eq!(d.owner_sid.as_deref(), Some(job.owner_sid.as_str()));
            assert_eq!((d.type_at_16, d.type_at_28), (job.job_type, job.job_type));
            assert_eq!((d.priority, d.state), (job.priority, job.state));
            assert_eq!(d.notify_flags, Some(job.notify_flags));
            assert_eq!(
                d.file_ids,
                job.file_ids.iter().map(|g| Guid(*g)).collect::<Vec<_>>()
            );
            assert_eq!(d.error_count, Some(job.errors.len() as u32));
            assert_eq!(d.created, Some(job.created));
            assert_eq!(d.modified, Some(job.modified));
            assert_eq!(d.completed, Some(job.completed));
            assert_eq!(d.expiration, Some(job.expiration));
            assert_eq!(d.retry_delay, Some(job.retry_delay));
            assert_eq!(d.no_progress_timeout, Some(job.no_progress_timeout));
            assert_eq!(d.client_path.as_deref(), Some(job.client_path.as_str()));
            assert_eq!(d.http_method.as_deref(), Some(job.http_method.as_str()));
            assert_eq!(d.max_download_time, Some(job.max_download_time));
            let (at, len) = d.security_descriptor.expect("sd");
            parse_security_descriptor(&blob[at..at + len]).expect("sd parses");
            for f in &files {
                let blob = encode_file(f);
                let d = decode_file_blob(&blob).expect("decodes");
                assert!(d.closed && d.stopped.is_none(), "{:?}", d.warnings);
                assert!(d.warnings.is_empty(), "{:?}", d.warnings);
                assert_eq!(d.len, blob.len());
                assert_eq!(d.destination.as_deref(), Some(f.destination.as_str()));
                assert_eq!(d.url.as_deref(), Some(f.url.as_str()));
                assert_eq!(d.temp_path.as_deref(), Some(f.temp_path.as_str()));
                assert_eq!(d.bytes_transferred, Some(f.bytes_transferred));
                assert_eq!(d.total_bytes, Some(f.total_bytes));
                assert_eq!(d.volume.as_deref(), Some(f.volume.as_str()));
                assert_eq!(d.remote_mtime, Some(f.remote_mtime));
            }
        }
    }

    /// Every setting [`enrich`] writes decodes to what was written: the package form, proxies,
    /// custom headers, security flags, the client flag, error context and text, the doubled
    /// marker of upload-reply jobs.
    #[test]
    fn every_extra_setting_round_trips() {
        use crate::bits::job::ClientIdentity;
        let mut rng = Rng::new(20);
        let mut extra = Rng::new(21);
        let machine = Machine::random(&mut rng);
        let mut seen = [0usize; 7];
        for _ in 0..400 {
            let JobWithFiles { mut job, .. } = random_job(&mut rng, &machine, 1);
            enrich(&mut extra, &machine, &mut job);
            let x = job.extras.clone();
            let blob = encode_job(&job).expect("encodes");
            let d = decode_job_blob(&blob).expect("decodes");
            assert!(d.closed && d.stopped.is_none(), "{:?}", d.warnings);
            assert_eq!(d.len, blob.len());
            assert_eq!(d.client_path.as_deref(), Some(job.client_path.as_str()));
            assert_eq!(d.http_method.as_deref(), Some(job.http_method.as_str()));
            match (&x.package, &d.identity) {
                (None, Some(ClientIdentity::Guid(g))) => assert_eq!(g.0, machine.guid),
                (Some(p), Some(ClientIdentity::Package(q))) => {
                    seen[0] += 1;
                    assert_eq!(q.family_name.as_deref(), Some(p.family_name.as_str()));
                    assert_eq!(q.app_id.as_deref(), Some(p.app_id.as_str()));
                    assert_eq!((q.word, q.guid.map(|g| g.0)), (Some(p.word), Some(p.guid)));
                }
                (want, got) => panic!("{want:?} written, {got:?} read"),
            }
            assert_eq!(d.client_flag, Some(x.client_flag));
            assert_eq!(d.client_guid.map(|g| g.0), Some(machine.guid));
            assert_eq!(d.proxy_usage, Some(x.proxy_usage));
            assert_eq!(d.proxy_list, x.proxy_list);
            assert_eq!(d.proxy_bypass, x.proxy_bypass);
            seen[1] += usize::from(x.proxy_list.is_some());
            match &x.custom_headers {
                Some(h) => {
                    seen[2] += 1;
                    assert_eq!(d.custom_headers_size, Some(h.plain_size));
                    let (at, len) = d.custom_headers.expect("headers");
                    assert_eq!(&blob[at..at + len], h.dpapi.as_slice());
                    let hdr = crate::bits::dpapi::parse_header(&h.dpapi).expect("dpapi");
                    assert_eq!(hdr.description, "BITS Job Custom headers");
                }
                None => assert_eq!((d.custom_headers, d.custom_headers_size), (None, None)),
            }
            assert_eq!(d.security_flags, Some(x.security_flags));
            seen[3] += usize::from(x.security_flags != 0);
            assert_eq!(d.errors.len(), job.errors.len());
            for (e, want) in d.errors.iter().zip(&job.errors) {
                seen[4] += 1;
                assert_eq!(e.hresult(), Some(want.hresult));
                assert_eq!(e.context(), Some(want.context));
                assert_eq!(e.text, want.text);
            }
            let missing = crate::bits::model::missing_job_fields(&d);
            let reply = missing.iter().filter(|m| m.starts_with("reply_")).count();
            let not_decoded: Vec<_> = d
                .warnings
                .iter()
                .filter(|w| w.contains("not decoded"))
                .collect();
            match x.leading_marker {
                Some(_) => {
                    seen[5] += 1;
                    assert_eq!(d.leading_marker, Some("upload job (BITS 10.3.2)"));
                    assert_eq!((d.type_at_16, d.type_at_28), (2, 2));
                    // The reply file and GUID are unknown, said once.
                    assert_eq!(reply, 2, "{missing:?}");
                    assert_eq!(not_decoded.len(), 1, "{:?}", d.warnings);
                    assert!(not_decoded[0].starts_with(
                        "upload-reply job: its reply file and reply GUID are not decoded"
                    ));
                }
                None => {
                    assert_eq!(d.leading_marker, None);
                    // A plain upload job has no reply fields, but upload settings no source
                    // places: one warning; a download job neither.
                    let upload = usize::from(job.job_type == 1);
                    assert_eq!((reply, not_decoded.len()), (0, upload), "{:?}", d.warnings);
                    if upload == 1 {
                        assert!(not_decoded[0]
                            .starts_with("upload job: its upload settings are not decoded"));
                    }
                }
            }
            crate::bits::job::test_support::every_byte_read(&d).expect("every byte read");
            seen[6] += usize::from(x.client_flag == 0);
            // Nothing written is left unknown.
            assert!(d.unknown.is_empty() || d.unknown == [(d.unknown[0].0, 8)]);
        }
        assert!(seen.iter().all(|&n| n > 5), "every setting drawn: {seen:?}");
    }

    /// Bytes written where no decoder reads a value (the 42 bytes after the settings block)
    /// come back as they were, at their offset, in `undecoded` and, differing from every
    /// sample, in `unknown`; the row shows them as hex, and the fields no source places are
    /// in `missing_fields`.
    #[test]
    fn bytes_no_decoder_reads_are_kept_with_their_offsets() {
        let mut rng = Rng::new(2020);
        let machine = Machine::random(&mut rng);
        for i in 0..40u8 {
            let JobWithFiles { mut job, .. } = random_job(&mut rng, &machine, 1);
            let mut run = [0u8; 42];
            for (k, b) in run.iter_mut().enumerate() {
                *b = (k as u8).wrapping_mul(7).wrapping_add(i) | 1;
            }
            job.extras.after_settings = run;
            let blob = encode_job(&job).expect("encodes");
            let d = decode_job_blob(&blob).expect("decodes");
            assert!(d.closed && d.stopped.is_none(), "{:?}", d.warnings);
            // The run sits 42 bytes before the client flag, which is the field after it.
            let flag_at = d
                .fields
                .iter()
                .find(|f| f.0 == "client flag")
                .map(|f| f.1)
                .expect("client flag");
            let at = flag_at - 42;
            assert!(d.undecoded.contains(&(at, 42)), "{:?}", d.undecoded);
            assert!(d.unknown.contains(&(at, 42)), "{:?}", d.unknown);
            assert_eq!(&blob[at..at + 42], &run[..]);
            crate::bits::job::test_support::every_byte_read(&d).expect("every byte read");
            let entry = crate::bits::model::JobEntry {
                job: d,
                blob: blob.clone(),
                source: Default::default(),
            };
            let row = crate::bits::decoded::row(Some(&entry), None, None);
            let hex: String = run.iter().map(|b| format!("{b:02x}")).collect();
            let want = format!("{at:#x}+42: {hex}");
            assert!(row.undecoded.contains(&want), "{:?}", row.undecoded);
            for f in crate::bits::model::NOT_PLACED {
                assert!(row.missing_fields.iter().any(|m| m == f), "{f}");
            }
            assert_eq!(
                (row.max_download_size.as_str(), row.reply_file.as_str()),
                ("", "")
            );
        }
    }

    #[test]
    fn layout_matches_the_sample_job() {
        // Rebuild the sample job (blobs/win10/job.raw) from its values: the bytes must be equal
        // except the security area word, which is copied too.
        let Some(raw) = crate::bits::job::test_support::sample("blobs/win10/job.raw") else {
            return;
        };
        let d = decode_job_blob(&raw).expect("decodes");
        let u32_at = |o: usize| u32::from_le_bytes(raw[o..o + 4].try_into().unwrap_or([0; 4]));
        let mut machine_guid = [0u8; 16];
        machine_guid.copy_from_slice(&raw[0x735..0x745]);
        let job = JobSpec {
            marker: DOWNLOAD_MARKER,
            job_type: d.type_at_16,
            priority: d.priority,
            state: d.state,
            id: d.job_id.0,
            name: d.name.clone().unwrap_or_default(),
            description: d.description.clone().unwrap_or_default(),
            notify_command: String::new(),
            notify_arguments: String::new(),
            owner_sid: d.owner_sid.clone().unwrap_or_default(),
            notify_flags: d.notify_flags.unwrap_or(0),
            security_word: u32_at(0x182),
            file_ids: d.file_ids.iter().map(|g| g.0).collect(),
            errors: Vec::new(),
            transient_errors: 0,
            retry_delay: d.retry_delay.unwrap_or(0),
            no_progress_timeout: d.no_progress_timeout.unwrap_or(0),
            created: d.created.unwrap_or(0),
            modified: d.modified.unwrap_or(0),
            completed: d.completed.unwrap_or(0),
            notified: d.notified.unwrap_or(0),
            expiration: d.expiration.unwrap_or(0),
            max_download_time: d.max_download_time.unwrap_or(0),
            cost_flags: d.cost_flags.unwrap_or(0),
            machine_guid,
            client_path: d.client_path.clone().unwrap_or_default(),
            http_method: d.http_method.clone().unwrap_or_default(),
            extras: JobExtras::default(),
        };
        let mine = encode_job(&job).expect("encodes");
        assert_eq!(mine.len(), raw.len());
        let diff: Vec<usize> = (0..raw.len()).filter(|&i| mine[i] != raw[i]).collect();
        assert!(diff.is_empty(), "differs at {diff:x?}");
    }

    #[test]
    fn layout_matches_the_sample_file() {
        let Some(raw) = crate::bits::job::test_support::sample("blobs/win10/file.raw") else {
            return;
        };
        let d = decode_file_blob(&raw).expect("decodes");
        let f = FileSpec {
            id: [0; 16],
            destination: d.destination.clone().unwrap_or_default(),
            url: d.url.clone().unwrap_or_default(),
            temp_path: d.temp_path.clone().unwrap_or_default(),
            bytes_transferred: d.bytes_transferred.unwrap_or(0),
            total_bytes: d.total_bytes.unwrap_or(0),
            drive: d.drive.clone().unwrap_or_default(),
            volume: d.volume.clone().unwrap_or_default(),
            volume_serial: d.volume_serial.unwrap_or(0),
            remote_mtime: d.remote_mtime.unwrap_or(0),
        };
        let mine = encode_file(&f);
        assert_eq!(mine, raw);
    }
}
