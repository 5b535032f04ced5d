//! Self-relative security descriptors (MS-DTYP §2.4.6) decoded from untrusted bytes: owner,
//! group, DACL and SACL, and the control bits. Every read is bounds-checked: a short or
//! hostile buffer yields an [`SdError`], or a warning on the descriptor (for a damaged ACE),
//! never a panic.

use std::fmt;

use serde::Serialize;

use super::ace::{decode_ace, AccessControl, AceProblem};
use super::sid::parse_sid;
use crate::util::bytes::{slice, u16_le, u32_le, u8_at};

/// Size of the fixed self-relative descriptor header; no component may start inside it.
pub const SD_HEADER_LEN: usize = 20;

// SECURITY_DESCRIPTOR_CONTROL bits (MS-DTYP 2.4.6).
pub const SE_OWNER_DEFAULTED: u16 = 0x0001;
pub const SE_GROUP_DEFAULTED: u16 = 0x0002;
pub const SE_DACL_PRESENT: u16 = 0x0004;
pub const SE_DACL_DEFAULTED: u16 = 0x0008;
pub const SE_SACL_PRESENT: u16 = 0x0010;
pub const SE_SACL_DEFAULTED: u16 = 0x0020;
pub const SE_DACL_AUTO_INHERIT_REQ: u16 = 0x0100;
pub const SE_SACL_AUTO_INHERIT_REQ: u16 = 0x0200;
pub const SE_DACL_AUTO_INHERITED: u16 = 0x0400;
pub const SE_SACL_AUTO_INHERITED: u16 = 0x0800;
pub const SE_DACL_PROTECTED: u16 = 0x1000;
pub const SE_SACL_PROTECTED: u16 = 0x2000;
pub const SE_RM_CONTROL_VALID: u16 = 0x4000;
pub const SE_SELF_RELATIVE: u16 = 0x8000;

const CONTROL_NAMES: [&str; 16] = [
    "OwnerDefaulted",
    "GroupDefaulted",
    "DaclPresent",
    "DaclDefaulted",
    "SaclPresent",
    "SaclDefaulted",
    "DaclUntrusted",
    "ServerSecurity",
    "DaclAutoInheritReq",
    "SaclAutoInheritReq",
    "DaclAutoInherited",
    "SaclAutoInherited",
    "DaclProtected",
    "SaclProtected",
    "RmControlValid",
    "SelfRelative",
];

// ---------------------------------------------------------------------------------------------

/// A decoded self-relative security descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityDescriptor {
    pub revision: u8,
    /// SECURITY_DESCRIPTOR_CONTROL (`SE_*` bits); see [`SecurityDescriptor::control_flags`].
    pub control: u16,
    pub owner: Option<String>,
    pub group: Option<String>,
    /// `None` when absent or a NULL SACL.
    pub sacl: Option<Vec<AccessControl>>,
    /// `None` when absent or a NULL DACL (`SE_DACL_PRESENT` with offset 0: everyone allowed).
    pub dacl: Option<Vec<AccessControl>>,
    /// Damage that was survived: a bad ACE (which ends its list), an ignored offset.
    pub warnings: Vec<String>,
    /// Bytes from the descriptor start to the end of its furthest component (owner, group, or
    /// an ACL by its AclSize), i.e. where the data following the descriptor begins.
    #[serde(skip)]
    pub extent: usize,
}

/// Why a buffer is not a self-relative security descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdError {
    /// Fewer than the 20 header bytes.
    Truncated { have: usize },
    /// Revision other than 1.
    BadRevision(u8),
    /// `SE_SELF_RELATIVE` (0x8000) is not set: the offsets would be pointers.
    NotSelfRelative { control: u16 },
    /// A component offset points into the header or past the end of the buffer.
    BadOffset { part: &'static str, offset: u32 },
    /// The owner or group SID is invalid or runs past the end.
    BadSid { part: &'static str, offset: u32 },
    /// An ACL header is invalid or the ACL runs past the end.
    BadAcl {
        part: &'static str,
        offset: u32,
        reason: &'static str,
    },
}

impl fmt::Display for SdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SdError::Truncated { have } => write!(
                f,
                "security descriptor truncated: {have} bytes, header needs {SD_HEADER_LEN}"
            ),
            SdError::BadRevision(r) => write!(f, "security descriptor revision {r}, expected 1"),
            SdError::NotSelfRelative { control } => write!(
                f,
                "security descriptor control 0x{control:04x} lacks SE_SELF_RELATIVE"
            ),
            SdError::BadOffset { part, offset } => {
                write!(
                    f,
                    "{part} offset {offset} is inside the header or out of range"
                )
            }
            SdError::BadSid { part, offset } => {
                write!(f, "{part} SID at offset {offset} is invalid or truncated")
            }
            SdError::BadAcl {
                part,
                offset,
                reason,
            } => write!(f, "{part} at offset {offset}: {reason}"),
        }
    }
}

impl std::error::Error for SdError {}

/// Decode a self-relative security descriptor at the start of `buf` (trailing bytes allowed).
pub fn parse_security_descriptor(buf: &[u8]) -> Result<SecurityDescriptor, SdError> {
    // Self-relative SECURITY_DESCRIPTOR (MS-DTYP 2.4.6), offsets from the descriptor start:
    //   0  u8      Revision, 1
    //   1  u8      Sbz1 (resource-manager bits when SE_RM_CONTROL_VALID, else 0)
    //   2  u16 LE  Control (SE_* bits; SE_SELF_RELATIVE 0x8000 must be set)
    //   4  u32 LE  OffsetOwner  (0 = no owner)
    //   8  u32 LE  OffsetGroup  (0 = no group)
    //  12  u32 LE  OffsetSacl   (used only with SE_SACL_PRESENT; 0 there = NULL SACL)
    //  16  u32 LE  OffsetDacl   (used only with SE_DACL_PRESENT; 0 there = NULL DACL)
    //  20  the SIDs and ACLs, each at its offset, in any order
    if buf.len() < SD_HEADER_LEN {
        return Err(SdError::Truncated { have: buf.len() });
    }
    let truncated = || SdError::Truncated { have: buf.len() };
    let revision = u8_at(buf, 0).ok_or_else(truncated)?;
    if revision != 1 {
        return Err(SdError::BadRevision(revision));
    }
    let control = u16_le(buf, 2).ok_or_else(truncated)?;
    if control & SE_SELF_RELATIVE == 0 {
        return Err(SdError::NotSelfRelative { control });
    }
    let off_owner = u32_le(buf, 4).ok_or_else(truncated)?;
    let off_group = u32_le(buf, 8).ok_or_else(truncated)?;
    let off_sacl = u32_le(buf, 12).ok_or_else(truncated)?;
    let off_dacl = u32_le(buf, 16).ok_or_else(truncated)?;

    let mut sd = SecurityDescriptor {
        revision,
        control,
        owner: None,
        group: None,
        sacl: None,
        dacl: None,
        warnings: Vec::new(),
        extent: SD_HEADER_LEN,
    };

    for (part, off, slot) in [
        ("owner", off_owner, &mut sd.owner),
        ("group", off_group, &mut sd.group),
    ] {
        let Some(start) = component_start(buf, part, off)? else {
            continue;
        };
        let (sid, len) = buf
            .get(start..)
            .and_then(parse_sid)
            .ok_or(SdError::BadSid { part, offset: off })?;
        *slot = Some(sid.to_string());
        sd.extent = sd.extent.max(start.saturating_add(len));
    }

    for (part, off, present) in [
        ("SACL", off_sacl, control & SE_SACL_PRESENT != 0),
        ("DACL", off_dacl, control & SE_DACL_PRESENT != 0),
    ] {
        if !present {
            if off != 0 {
                sd.warnings.push(format!(
                    "{part} offset {off} ignored: the {part}-present control bit is clear"
                ));
            }
            continue;
        }
        let Some(start) = component_start(buf, part, off)? else {
            continue; // NULL ACL
        };
        let (aces, end) = parse_acl(buf, part, start, off, &mut sd.warnings)?;
        sd.extent = sd.extent.max(end);
        if part == "SACL" {
            sd.sacl = Some(aces);
        } else {
            sd.dacl = Some(aces);
        }
    }
    Ok(sd)
}

/// Resolve a component offset: `Ok(None)` for 0 (absent), an error inside the header or past
/// the end of `buf`.
fn component_start(buf: &[u8], part: &'static str, off: u32) -> Result<Option<usize>, SdError> {
    if off == 0 {
        return Ok(None);
    }
    match usize::try_from(off) {
        Ok(start) if start >= SD_HEADER_LEN && start < buf.len() => Ok(Some(start)),
        _ => Err(SdError::BadOffset { part, offset: off }),
    }
}

/// Decode the ACL at `start`; returns its ACEs and the offset just past it (by AclSize).
fn parse_acl(
    buf: &[u8],
    part: &'static str,
    start: usize,
    offset: u32,
    warnings: &mut Vec<String>,
) -> Result<(Vec<AccessControl>, usize), SdError> {
    // ACL header (MS-DTYP 2.4.5), offsets from the ACL start:
    //   0  u8      AclRevision: 2 (ACL_REVISION), 3, or 4 (ACL_REVISION_DS, object ACEs)
    //   1  u8      Sbz1
    //   2  u16 LE  AclSize: header plus ACEs, may include unused slack
    //   4  u16 LE  AceCount
    //   6  u16 LE  Sbz2
    //   8  ACEs back to back, each AceSize bytes (see `decode_ace`)
    let bad = |reason| SdError::BadAcl {
        part,
        offset,
        reason,
    };
    let revision = u8_at(buf, start).ok_or_else(|| bad("truncated ACL header"))?;
    let acl_size =
        u16_le(buf, start.saturating_add(2)).ok_or_else(|| bad("truncated ACL header"))?;
    let ace_count =
        u16_le(buf, start.saturating_add(4)).ok_or_else(|| bad("truncated ACL header"))?;
    if !(2..=4).contains(&revision) {
        return Err(bad("ACL revision is not 2, 3 or 4"));
    }
    let acl_size = usize::from(acl_size);
    if acl_size < 8 {
        return Err(bad("AclSize is smaller than the ACL header"));
    }
    let acl = slice(buf, start, acl_size).ok_or_else(|| bad("AclSize runs past the end"))?;
    let end = start.saturating_add(acl_size);

    // Each ACE takes at least 8 bytes, so the ACL bounds the allocation, not the count field.
    let mut aces = Vec::with_capacity(usize::from(ace_count).min(acl_size / 8));
    let mut pos = 8usize;
    for index in 0..ace_count {
        let Some(size) = u16_le(acl, pos.saturating_add(2)).map(usize::from) else {
            warnings.push(format!(
                "{part} ACE {index}: header at ACL+{pos} runs past AclSize {acl_size}; \
                 {} of {ace_count} ACEs read",
                aces.len()
            ));
            break;
        };
        if size < 8 {
            warnings.push(format!(
                "{part} ACE {index}: AceSize {size} at ACL+{pos} is too small; \
                 {} of {ace_count} ACEs read",
                aces.len()
            ));
            break;
        }
        let Some(raw) = slice(acl, pos, size) else {
            warnings.push(format!(
                "{part} ACE {index}: AceSize {size} at ACL+{pos} runs past AclSize {acl_size}; \
                 {} of {ace_count} ACEs read",
                aces.len()
            ));
            break;
        };
        match decode_ace(raw) {
            Ok(ace) => aces.push(ace),
            Err(AceProblem::UnknownType(t)) => warnings.push(format!(
                "{part} ACE {index}: unknown AceType 0x{t:02x} ({size} bytes) skipped"
            )),
            Err(AceProblem::Malformed(why)) => {
                warnings.push(format!(
                    "{part} ACE {index} at ACL+{pos}: {why}; {} of {ace_count} ACEs read",
                    aces.len()
                ));
                break;
            }
        }
        pos = pos.saturating_add(size);
    }
    Ok((aces, end))
}

/// Scan `area` for the first offset where a plausible self-relative descriptor parses.
///
/// Plausible: revision 1, `SE_SELF_RELATIVE` set, Sbz1 zero unless `SE_RM_CONTROL_VALID`, an
/// owner SID that is valid and in range, every non-zero offset at or past the 20-byte header
/// and in range, and a present, non-NULL DACL whose header parses.
pub fn find_security_descriptor(area: &[u8]) -> Option<(usize, SecurityDescriptor)> {
    let last = area.len().checked_sub(SD_HEADER_LEN)?;
    (0..=last).find_map(|start| {
        let cand = area.get(start..)?;
        // Cheap header filter before a full parse.
        if u8_at(cand, 0)? != 1 {
            return None;
        }
        let control = u16_le(cand, 2)?;
        if control & SE_SELF_RELATIVE == 0 || control & SE_DACL_PRESENT == 0 {
            return None;
        }
        if u8_at(cand, 1)? != 0 && control & SE_RM_CONTROL_VALID == 0 {
            return None;
        }
        if u32_le(cand, 4)? == 0 || u32_le(cand, 16)? == 0 {
            return None;
        }
        let sd = parse_security_descriptor(cand).ok()?;
        (sd.owner.is_some() && sd.dacl.is_some()).then_some((start, sd))
    })
}

// ---------------------------------------------------------------------------------------------
impl SecurityDescriptor {
    /// Names of the set control bits, low bit first (e.g. `"DaclPresent"`, `"SelfRelative"`).
    pub fn control_flags(&self) -> Vec<&'static str> {
        (0u16..)
            .zip(CONTROL_NAMES)
            .filter(|(bit, _)| (self.control >> bit) & 1 == 1)
            .map(|(_, n)| n)
            .collect()
    }
}
