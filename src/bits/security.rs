//! Windows security identifiers (SIDs) and self-relative `SECURITY_DESCRIPTOR`s decoded from
//! untrusted bytes, with an offline table of well-known accounts and an SDDL rendering.
//!
//! Every read is bounds-checked: a short or hostile buffer yields `None`, an [`SdError`], or a
//! warning on the descriptor (for a damaged ACE), never a panic. Layouts follow MS-DTYP §2.4;
//! each is documented once, with offsets, where it is parsed.

use std::fmt;

use serde::Serialize;

use crate::util::bytes::{slice, u16_le, u32_le, u8_at};
use crate::util::guid::Guid;

/// The most sub-authorities a SID may carry (`SID_MAX_SUB_AUTHORITIES`).
pub const SID_MAX_SUB_AUTHORITIES: usize = 15;

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
// SID
// ---------------------------------------------------------------------------------------------

/// A security identifier, e.g. `S-1-5-18`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sid {
    pub revision: u8,
    /// The 48-bit identifier authority.
    pub authority: u64,
    /// Sub-authorities in order; the last is the RID for account SIDs.
    pub subs: Vec<u32>,
}

impl Sid {
    /// The last sub-authority (the relative identifier of an account SID), if any.
    pub fn rid(&self) -> Option<u32> {
        self.subs.last().copied()
    }

    /// The encoded size in bytes: 8 + 4 per sub-authority.
    pub fn byte_len(&self) -> usize {
        self.subs.len().saturating_mul(4).saturating_add(8)
    }
}

impl fmt::Display for Sid {
    /// `S-1-5-21-…`; the authority is decimal below 2^32 and otherwise `0x` with 12 hex digits,
    /// as `ConvertSidToStringSid` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S-{}-", self.revision)?;
        if self.authority >= 1 << 32 {
            write!(f, "0x{:012X}", self.authority)?;
        } else {
            write!(f, "{}", self.authority)?;
        }
        for s in &self.subs {
            write!(f, "-{s}")?;
        }
        Ok(())
    }
}

/// Decode a binary SID at the start of `buf`; returns it and the bytes it occupies.
///
/// `None` when the revision is not 1, the sub-authority count exceeds 15, or the bytes end early.
pub fn parse_sid(buf: &[u8]) -> Option<(Sid, usize)> {
    // SID (MS-DTYP 2.4.2.2), offsets from the SID start:
    //   0  u8       Revision, always 1
    //   1  u8       SubAuthorityCount, 0..=15
    //   2  [u8; 6]  IdentifierAuthority, a 48-bit BIG-endian number
    //   8  u32 LE   SubAuthority[SubAuthorityCount]
    // Total size: 8 + 4 * SubAuthorityCount (at most 68 bytes).
    let revision = u8_at(buf, 0)?;
    if revision != 1 {
        return None;
    }
    let count = usize::from(u8_at(buf, 1)?);
    if count > SID_MAX_SUB_AUTHORITIES {
        return None;
    }
    let authority = slice(buf, 2, 6)?
        .iter()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    let mut subs = Vec::with_capacity(count);
    let mut off = 8usize;
    for _ in 0..count {
        subs.push(u32_le(buf, off)?);
        off = off.checked_add(4)?;
    }
    Some((
        Sid {
            revision,
            authority,
            subs,
        },
        off,
    ))
}

// ---------------------------------------------------------------------------------------------
// Well-known SIDs and SDDL aliases
// ---------------------------------------------------------------------------------------------

/// (SID string, Windows English account name, SDDL alias or "").
const WELL_KNOWN: &[(&str, &str, &str)] = &[
    ("S-1-0-0", "Nobody", ""),
    ("S-1-1-0", "Everyone", "WD"),
    ("S-1-2-0", "LOCAL", ""),
    ("S-1-2-1", "CONSOLE LOGON", ""),
    ("S-1-3-0", "CREATOR OWNER", "CO"),
    ("S-1-3-1", "CREATOR GROUP", "CG"),
    ("S-1-3-2", "CREATOR OWNER SERVER", ""),
    ("S-1-3-3", "CREATOR GROUP SERVER", ""),
    ("S-1-3-4", "OWNER RIGHTS", "OW"),
    ("S-1-5", "NT AUTHORITY", ""),
    ("S-1-5-1", "DIALUP", ""),
    ("S-1-5-2", "NETWORK", "NU"),
    ("S-1-5-3", "BATCH", ""),
    ("S-1-5-4", "INTERACTIVE", "IU"),
    ("S-1-5-6", "SERVICE", "SU"),
    ("S-1-5-7", "ANONYMOUS LOGON", "AN"),
    ("S-1-5-8", "PROXY", ""),
    ("S-1-5-9", "ENTERPRISE DOMAIN CONTROLLERS", "ED"),
    ("S-1-5-10", "SELF", "PS"),
    ("S-1-5-11", "Authenticated Users", "AU"),
    ("S-1-5-12", "RESTRICTED", "RC"),
    ("S-1-5-13", "TERMINAL SERVER USER", ""),
    ("S-1-5-14", "REMOTE INTERACTIVE LOGON", ""),
    ("S-1-5-15", "This Organization", ""),
    ("S-1-5-17", "IUSR", ""),
    ("S-1-5-18", "SYSTEM", "SY"),
    ("S-1-5-19", "LOCAL SERVICE", "LS"),
    ("S-1-5-20", "NETWORK SERVICE", "NS"),
    ("S-1-5-32", "BUILTIN", ""),
    ("S-1-5-32-544", "Administrators", "BA"),
    ("S-1-5-32-545", "Users", "BU"),
    ("S-1-5-32-546", "Guests", "BG"),
    ("S-1-5-32-547", "Power Users", "PU"),
    ("S-1-5-32-548", "Account Operators", "AO"),
    ("S-1-5-32-549", "Server Operators", "SO"),
    ("S-1-5-32-550", "Print Operators", "PO"),
    ("S-1-5-32-551", "Backup Operators", "BO"),
    ("S-1-5-32-552", "Replicator", "RE"),
    ("S-1-5-32-554", "Pre-Windows 2000 Compatible Access", "RU"),
    ("S-1-5-32-555", "Remote Desktop Users", "RD"),
    ("S-1-5-32-556", "Network Configuration Operators", "NO"),
    ("S-1-5-32-557", "Incoming Forest Trust Builders", ""),
    ("S-1-5-32-558", "Performance Monitor Users", "MU"),
    ("S-1-5-32-559", "Performance Log Users", "LU"),
    ("S-1-5-32-560", "Windows Authorization Access Group", ""),
    ("S-1-5-32-561", "Terminal Server License Servers", ""),
    ("S-1-5-32-562", "Distributed COM Users", ""),
    ("S-1-5-32-568", "IIS_IUSRS", "IS"),
    ("S-1-5-32-569", "Cryptographic Operators", "CY"),
    ("S-1-5-32-573", "Event Log Readers", "ER"),
    ("S-1-5-32-574", "Certificate Service DCOM Access", "CD"),
    ("S-1-5-32-575", "RDS Remote Access Servers", "RA"),
    ("S-1-5-32-576", "RDS Endpoint Servers", "ES"),
    ("S-1-5-32-577", "RDS Management Servers", "MS"),
    ("S-1-5-32-578", "Hyper-V Administrators", "HA"),
    ("S-1-5-32-579", "Access Control Assistance Operators", "AA"),
    ("S-1-5-32-580", "Remote Management Users", "RM"),
    ("S-1-5-32-581", "System Managed Accounts Group", ""),
    ("S-1-5-32-582", "Storage Replica Administrators", ""),
    ("S-1-5-32-583", "Device Owners", ""),
    ("S-1-5-32-584", "User Mode Hardware Operators", ""),
    ("S-1-5-32-585", "OpenSSH Users", ""),
    ("S-1-5-33", "WRITE RESTRICTED", "WR"),
    ("S-1-5-64-10", "NTLM Authentication", ""),
    ("S-1-5-64-14", "SChannel Authentication", ""),
    ("S-1-5-64-21", "Digest Authentication", ""),
    ("S-1-5-65-1", "This Organization Certificate", ""),
    ("S-1-5-80", "NT SERVICE", ""),
    ("S-1-5-80-0", "ALL SERVICES", ""),
    ("S-1-5-83-0", "Virtual Machines", ""),
    ("S-1-5-84-0-0-0-0-0", "USER MODE DRIVERS", "UD"),
    ("S-1-5-90-0", "Window Manager Group", ""),
    ("S-1-5-113", "Local account", ""),
    (
        "S-1-5-114",
        "Local account and member of Administrators group",
        "",
    ),
    ("S-1-5-1000", "Other Organization", ""),
    ("S-1-15-2-1", "ALL APPLICATION PACKAGES", "AC"),
    ("S-1-15-2-2", "ALL RESTRICTED APPLICATION PACKAGES", ""),
    ("S-1-16-0", "Untrusted Mandatory Level", ""),
    ("S-1-16-4096", "Low Mandatory Level", "LW"),
    ("S-1-16-8192", "Medium Mandatory Level", "ME"),
    ("S-1-16-8448", "Medium Plus Mandatory Level", "MP"),
    ("S-1-16-12288", "High Mandatory Level", "HI"),
    ("S-1-16-16384", "System Mandatory Level", "SI"),
    ("S-1-16-20480", "Protected Process Mandatory Level", ""),
    ("S-1-16-28672", "Secure Process Mandatory Level", ""),
    (
        "S-1-18-1",
        "Authentication authority asserted identity",
        "AS",
    ),
    ("S-1-18-2", "Service asserted identity", "SS"),
    ("S-1-18-3", "Fresh public key identity", ""),
    ("S-1-18-4", "Key trust identity", ""),
    ("S-1-18-5", "Key property multi-factor authentication", ""),
    ("S-1-18-6", "Key property attestation", ""),
];

/// Relative identifiers under a domain or machine SID `S-1-5-21-x-y-z-RID`.
const DOMAIN_RIDS: &[(u32, &str)] = &[
    (498, "Enterprise Read-only Domain Controllers"),
    (500, "Administrator"),
    (501, "Guest"),
    (502, "krbtgt"),
    (503, "DefaultAccount"),
    (504, "WDAGUtilityAccount"),
    (512, "Domain Admins"),
    (513, "Domain Users"),
    (514, "Domain Guests"),
    (515, "Domain Computers"),
    (516, "Domain Controllers"),
    (517, "Cert Publishers"),
    (518, "Schema Admins"),
    (519, "Enterprise Admins"),
    (520, "Group Policy Creator Owners"),
    (521, "Read-only Domain Controllers"),
    (522, "Cloneable Domain Controllers"),
    (525, "Protected Users"),
    (526, "Key Admins"),
    (527, "Enterprise Key Admins"),
    (553, "RAS and IAS Servers"),
    (571, "Allowed RODC Password Replication Group"),
    (572, "Denied RODC Password Replication Group"),
];

/// The Windows English name of a well-known SID string, e.g. `"S-1-5-18"` → `"SYSTEM"`.
///
/// Domain-relative accounts (`S-1-5-21-x-y-z-500` → `"Administrator"`, `-512` → `"Domain
/// Admins"`, …) are matched by pattern. Ordinary user RIDs (1000 and up) have no offline name.
pub fn well_known_name(sid: &str) -> Option<&'static str> {
    if let Some(&(_, name, _)) = WELL_KNOWN.iter().find(|(s, _, _)| *s == sid) {
        return Some(name);
    }
    let rid = domain_relative_rid(sid)?;
    DOMAIN_RIDS
        .iter()
        .find(|(r, _)| *r == rid)
        .map(|&(_, name)| name)
}

/// The SDDL two-letter alias that `ConvertSecurityDescriptorToStringSecurityDescriptor` prints
/// for a well-known SID, e.g. `"S-1-5-32-544"` → `"BA"`.
///
/// Domain-relative aliases (`LA`, `DA`, `DU`, …) are only printed by Windows for the machine's
/// own domain, which an offline reader cannot know, so such SIDs keep their full form.
pub fn sddl_alias(sid: &str) -> Option<&'static str> {
    WELL_KNOWN
        .iter()
        .find(|(s, _, a)| *s == sid && !a.is_empty())
        .map(|&(_, _, a)| a)
}

/// The RID of `S-1-5-21-<a>-<b>-<c>-<rid>` with all parts decimal u32s.
fn domain_relative_rid(sid: &str) -> Option<u32> {
    let parts: Vec<&str> = sid.split('-').collect();
    match parts.as_slice() {
        ["S", "1", "5", "21", a, b, c, rid] => {
            for p in [a, b, c] {
                p.parse::<u32>().ok()?;
            }
            rid.parse::<u32>().ok()
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// ACEs
// ---------------------------------------------------------------------------------------------

/// One decoded access control entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessControl {
    /// e.g. `"AccessAllowedAceType"`.
    pub ace_type: String,
    /// ACE header flags, low bit first, e.g. `["ObjectInherit", "ContainerInherit"]`.
    pub flags: Vec<String>,
    /// Every set bit of `mask` named, low bit first.
    pub access_rights: Vec<String>,
    /// The trustee, e.g. `"S-1-5-18"`.
    pub sid: String,
    /// The well-known name of `sid`, or `""`.
    pub account: String,
    /// `"None"`, or `"ObjectTypePresent"` / `"InheritedObjectTypePresent"` joined by `" | "`.
    pub object_flags: String,
    /// Canonical lowercase GUID of an object ACE's ObjectType, or `""`.
    pub object_type_guid: String,
    /// Canonical lowercase GUID of an object ACE's InheritedObjectType, or `""`.
    pub inherited_object_type_guid: String,
    pub mask: u32,
    /// The raw `AceType` byte (not serialized; used for SDDL).
    #[serde(skip)]
    pub type_code: u8,
    /// The raw `AceFlags` byte (not serialized; used for SDDL).
    #[serde(skip)]
    pub flag_bits: u8,
}

pub const SYSTEM_MANDATORY_LABEL_ACE_TYPE: u8 = 0x11;

/// How an ACE type lays out its body after the mask.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AceShape {
    /// Mask, SID, then (for callback/attribute/filter types) application data, ignored.
    Basic,
    /// Mask, object flags, optional GUIDs, SID, then (callback types) application data.
    Object,
    /// Mask, compound type, reserved, server SID, client SID.
    Compound,
}

/// (name, SDDL type string or "", shape) for AceType 0x00..=0x15.
const ACE_TYPES: [(&str, &str, AceShape); 22] = [
    ("AccessAllowedAceType", "A", AceShape::Basic),
    ("AccessDeniedAceType", "D", AceShape::Basic),
    ("SystemAuditAceType", "AU", AceShape::Basic),
    ("SystemAlarmAceType", "AL", AceShape::Basic),
    ("AccessAllowedCompoundAceType", "", AceShape::Compound),
    ("AccessAllowedObjectAceType", "OA", AceShape::Object),
    ("AccessDeniedObjectAceType", "OD", AceShape::Object),
    ("SystemAuditObjectAceType", "OU", AceShape::Object),
    ("SystemAlarmObjectAceType", "OL", AceShape::Object),
    ("AccessAllowedCallbackAceType", "XA", AceShape::Basic),
    ("AccessDeniedCallbackAceType", "XD", AceShape::Basic),
    ("AccessAllowedCallbackObjectAceType", "ZA", AceShape::Object),
    ("AccessDeniedCallbackObjectAceType", "", AceShape::Object),
    ("SystemAuditCallbackAceType", "XU", AceShape::Basic),
    ("SystemAlarmCallbackAceType", "", AceShape::Basic),
    ("SystemAuditCallbackObjectAceType", "", AceShape::Object),
    ("SystemAlarmCallbackObjectAceType", "", AceShape::Object),
    ("SystemMandatoryLabelAceType", "ML", AceShape::Basic),
    ("SystemResourceAttributeAceType", "RA", AceShape::Basic),
    ("SystemScopedPolicyIdAceType", "SP", AceShape::Basic),
    ("SystemProcessTrustLabelAceType", "TL", AceShape::Basic),
    ("SystemAccessFilterAceType", "FL", AceShape::Basic),
];

/// AceFlags bits 0..=7; bit 5 is `CRITICAL_ACE_FLAG`.
const ACE_FLAG_NAMES: [&str; 8] = [
    "ObjectInherit",
    "ContainerInherit",
    "NoPropagateInherit",
    "InheritOnly",
    "Inherited",
    "Critical",
    "SuccessfulAccess",
    "FailedAccess",
];

/// SDDL strings for AceFlags bits 0..=7 ("" where SDDL has none).
const ACE_FLAG_SDDL: [&str; 8] = ["OI", "CI", "NP", "IO", "ID", "", "SA", "FA"];

/// Names of access-mask bits 0..=31; the specific bits use the file-rights vocabulary.
const RIGHT_NAMES: [&str; 32] = [
    "FileReadData",
    "FileWriteData",
    "FileAppendData",
    "FileReadEa",
    "FileWriteEa",
    "FileExecute",
    "FileDeleteChild",
    "FileReadAttributes",
    "FileWriteAttributes",
    "SpecificRight9",
    "SpecificRight10",
    "SpecificRight11",
    "SpecificRight12",
    "SpecificRight13",
    "SpecificRight14",
    "SpecificRight15",
    "Delete",
    "ReadControl",
    "WriteDac",
    "WriteOwner",
    "Synchronize",
    "Reserved21",
    "Reserved22",
    "Reserved23",
    "AccessSystemSecurity",
    "MaximumAllowed",
    "Reserved26",
    "Reserved27",
    "GenericAll",
    "GenericExecute",
    "GenericWrite",
    "GenericRead",
];

/// Mandatory-label policy bits 0..=2, which replace the file names in a label ACE's mask.
const LABEL_POLICY_NAMES: [&str; 3] = ["NoWriteUp", "NoReadUp", "NoExecuteUp"];

/// Name every set bit of an access mask, low bit first.
///
/// For a mandatory-label ACE (`ace_type == 0x11`) bits 0..=2 are the label policy
/// (`NoWriteUp`, `NoReadUp`, `NoExecuteUp`) rather than file rights.
pub fn access_right_names(mask: u32, ace_type: u8) -> Vec<String> {
    (0u32..)
        .zip(RIGHT_NAMES)
        .filter(|(bit, _)| (mask >> bit) & 1 == 1)
        .map(|(bit, name)| {
            let label = LABEL_POLICY_NAMES
                .get(bit as usize)
                .filter(|_| ace_type == SYSTEM_MANDATORY_LABEL_ACE_TYPE);
            label.copied().unwrap_or(name).to_string()
        })
        .collect()
}

fn ace_flag_names(flags: u8) -> Vec<String> {
    (0u8..)
        .zip(ACE_FLAG_NAMES)
        .filter(|(bit, _)| (flags >> bit) & 1 == 1)
        .map(|(_, n)| n.to_string())
        .collect()
}

fn object_flag_text(flags: u32) -> String {
    if flags == 0 {
        return "None".to_string();
    }
    let mut parts: Vec<String> = Vec::new();
    if flags & ACE_OBJECT_TYPE_PRESENT != 0 {
        parts.push("ObjectTypePresent".to_string());
    }
    if flags & ACE_INHERITED_OBJECT_TYPE_PRESENT != 0 {
        parts.push("InheritedObjectTypePresent".to_string());
    }
    let rest = flags & !(ACE_OBJECT_TYPE_PRESENT | ACE_INHERITED_OBJECT_TYPE_PRESENT);
    if rest != 0 {
        parts.push(format!("0x{rest:x}"));
    }
    parts.join(" | ")
}

const ACE_OBJECT_TYPE_PRESENT: u32 = 0x1;
const ACE_INHERITED_OBJECT_TYPE_PRESENT: u32 = 0x2;

/// Why one ACE could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AceProblem {
    /// The type byte is outside the known range; the ACE's size is trusted and it is skipped.
    UnknownType(u8),
    /// The body is malformed; the rest of the list cannot be trusted.
    Malformed(String),
}

/// Decode one ACE; `ace` is exactly `AceSize` bytes.
fn decode_ace(ace: &[u8]) -> Result<AccessControl, AceProblem> {
    // ACE_HEADER (MS-DTYP 2.4.4.1), offsets from the ACE start:
    //   0  u8      AceType
    //   1  u8      AceFlags
    //   2  u16 LE  AceSize, header included
    // Bodies, offsets from the ACE start:
    //   basic  (allowed/denied/audit/alarm, callback 0x09/0x0A/0x0D/0x0E, label 0x11,
    //           resource attribute 0x12, scoped policy 0x13, trust label 0x14, filter 0x15):
    //     4  u32 LE  Mask
    //     8  SID
    //     …  callback application data / attribute data / filter condition to AceSize (ignored)
    //   object (0x05..=0x08, callback object 0x0B/0x0C/0x0F/0x10):
    //     4  u32 LE  Mask
    //     8  u32 LE  Flags: 0x1 ObjectType present, 0x2 InheritedObjectType present
    //    12  GUID    ObjectType, only if flag 0x1
    //     …  GUID    InheritedObjectType, only if flag 0x2 (at 12 or 28)
    //     …  SID     (at 12, 28 or 44), then callback application data (ignored)
    //   compound (0x04, reserved):
    //     4  u32 LE  Mask
    //     8  u16 LE  CompoundAceType, 10 u16 Reserved
    //    12  SID     server, then SID client (reported: the server SID)
    let malformed = |what: &str| AceProblem::Malformed(what.to_string());
    let type_code = u8_at(ace, 0).ok_or_else(|| malformed("no ACE header"))?;
    let flag_bits = u8_at(ace, 1).ok_or_else(|| malformed("no ACE header"))?;
    let &(type_name, _, shape) = ACE_TYPES
        .get(usize::from(type_code))
        .ok_or(AceProblem::UnknownType(type_code))?;
    let mask = u32_le(ace, 4).ok_or_else(|| malformed("ACE too short for its access mask"))?;

    let mut object_flags = 0u32;
    let mut object_type = None;
    let mut inherited_type = None;
    let sid_off = match shape {
        AceShape::Basic => 8usize,
        AceShape::Compound => 12,
        AceShape::Object => {
            object_flags =
                u32_le(ace, 8).ok_or_else(|| malformed("object ACE too short for its flags"))?;
            let mut p = 12usize;
            if object_flags & ACE_OBJECT_TYPE_PRESENT != 0 {
                let g = slice(ace, p, 16)
                    .and_then(Guid::from_slice)
                    .ok_or_else(|| malformed("object ACE too short for its ObjectType GUID"))?;
                object_type = Some(g);
                p = p.saturating_add(16);
            }
            if object_flags & ACE_INHERITED_OBJECT_TYPE_PRESENT != 0 {
                let g = slice(ace, p, 16)
                    .and_then(Guid::from_slice)
                    .ok_or_else(|| {
                        malformed("object ACE too short for its InheritedObjectType GUID")
                    })?;
                inherited_type = Some(g);
                p = p.saturating_add(16);
            }
            p
        }
    };
    let (sid, _) = ace
        .get(sid_off..)
        .and_then(parse_sid)
        .ok_or_else(|| malformed(&format!("invalid or truncated SID at ACE+{sid_off}")))?;
    let sid = sid.to_string();
    Ok(AccessControl {
        ace_type: type_name.to_string(),
        flags: ace_flag_names(flag_bits),
        access_rights: access_right_names(mask, type_code),
        account: well_known_name(&sid).unwrap_or("").to_string(),
        sid,
        object_flags: object_flag_text(object_flags),
        object_type_guid: object_type.map(|g| g.to_string()).unwrap_or_default(),
        inherited_object_type_guid: inherited_type.map(|g| g.to_string()).unwrap_or_default(),
        mask,
        type_code,
        flag_bits,
    })
}

// ---------------------------------------------------------------------------------------------
// Security descriptor
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
// SDDL
// ---------------------------------------------------------------------------------------------

/// Composite rights that SDDL names exactly, tried before decomposing into bit names
/// (the order of sddl.h, so 0x20019 prints as `KR`, as Windows does).
const SDDL_EXACT_RIGHTS: [(&str, u32); 7] = [
    ("FA", 0x001F_01FF),
    ("FR", 0x0012_0089),
    ("FW", 0x0012_0116),
    ("FX", 0x0012_00A0),
    ("KA", 0x000F_003F),
    ("KR", 0x0002_0019),
    ("KW", 0x0002_0006),
];

/// SDDL names of single access-mask bits ("" where SDDL has none).
const SDDL_RIGHT_BITS: [&str; 32] = [
    "CC", "DC", "LC", "SW", "RP", "WP", "DT", "LO", "CR", "", "", "", "", "", "", "", "SD", "RC",
    "WD", "WO", "", "", "", "", "", "", "", "", "GA", "GX", "GW", "GR",
];

/// SDDL names of the mandatory-label policy bits.
const SDDL_LABEL_BITS: [&str; 3] = ["NW", "NR", "NX"];

/// The SDDL `rights` field the way Windows prints it: an exact composite name, else the
/// concatenated bit names, else lowercase hex `0x…` when some bit has no name.
fn sddl_rights(mask: u32, ace_type: u8) -> String {
    if mask == 0 {
        return String::new();
    }
    let bit_names: &[&str] = if ace_type == SYSTEM_MANDATORY_LABEL_ACE_TYPE {
        &SDDL_LABEL_BITS
    } else {
        if let Some((name, _)) = SDDL_EXACT_RIGHTS.iter().find(|(_, v)| *v == mask) {
            return (*name).to_string();
        }
        &SDDL_RIGHT_BITS
    };
    let mut out = String::new();
    for bit in 0u32..32 {
        if (mask >> bit) & 1 == 0 {
            continue;
        }
        match bit_names.get(bit as usize).filter(|n| !n.is_empty()) {
            Some(n) => out.push_str(n),
            None => return format!("0x{mask:x}"),
        }
    }
    out
}

fn sddl_sid(sid: &str) -> &str {
    sddl_alias(sid).unwrap_or(sid)
}

/// One ACE as `(type;flags;rights;object_guid;inherit_object_guid;sid)`.
///
/// Callback conditions and resource-attribute data are not decoded, so they are not printed.
/// An ACE type without an SDDL string prints as its hex type number.
fn sddl_ace(ace: &AccessControl) -> String {
    let ty = ACE_TYPES
        .get(usize::from(ace.type_code))
        .map(|&(_, s, _)| s)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("0x{:x}", ace.type_code));
    let flags: String = (0u8..)
        .zip(ACE_FLAG_SDDL)
        .filter(|(bit, _)| (ace.flag_bits >> bit) & 1 == 1)
        .map(|(_, s)| s)
        .collect();
    format!(
        "({ty};{flags};{};{};{};{})",
        sddl_rights(ace.mask, ace.type_code),
        ace.object_type_guid,
        ace.inherited_object_type_guid,
        sddl_sid(&ace.sid)
    )
}

impl SecurityDescriptor {
    /// Names of the set control bits, low bit first (e.g. `"DaclPresent"`, `"SelfRelative"`).
    pub fn control_flags(&self) -> Vec<&'static str> {
        (0u16..)
            .zip(CONTROL_NAMES)
            .filter(|(bit, _)| (self.control >> bit) & 1 == 1)
            .map(|(_, n)| n)
            .collect()
    }

    /// The descriptor in SDDL, as `ConvertSecurityDescriptorToStringSecurityDescriptor` orders
    /// it: `O:owner G:group D:flags(aces) S:flags(aces)` (without the spaces).
    pub fn to_sddl(&self) -> String {
        let mut s = String::new();
        if let Some(o) = &self.owner {
            s.push_str("O:");
            s.push_str(sddl_sid(o));
        }
        if let Some(g) = &self.group {
            s.push_str("G:");
            s.push_str(sddl_sid(g));
        }
        let acls = [
            (
                "D:",
                SE_DACL_PRESENT,
                [
                    (SE_DACL_PROTECTED, "P"),
                    (SE_DACL_AUTO_INHERIT_REQ, "AR"),
                    (SE_DACL_AUTO_INHERITED, "AI"),
                ],
                &self.dacl,
            ),
            (
                "S:",
                SE_SACL_PRESENT,
                [
                    (SE_SACL_PROTECTED, "P"),
                    (SE_SACL_AUTO_INHERIT_REQ, "AR"),
                    (SE_SACL_AUTO_INHERITED, "AI"),
                ],
                &self.sacl,
            ),
        ];
        for (prefix, present, flags, acl) in acls {
            if self.control & present == 0 {
                continue;
            }
            s.push_str(prefix);
            for (bit, text) in flags {
                if self.control & bit != 0 {
                    s.push_str(text);
                }
            }
            match acl {
                None => s.push_str("NO_ACCESS_CONTROL"),
                Some(aces) => aces.iter().for_each(|a| s.push_str(&sddl_ace(a))),
            }
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const USER: &str = "S-1-5-21-1079689790-2336414676-942872339-1001";
    const ALL_ACCESS_F003F: [&str; 10] = [
        "FileReadData",
        "FileWriteData",
        "FileAppendData",
        "FileReadEa",
        "FileWriteEa",
        "FileExecute",
        "Delete",
        "ReadControl",
        "WriteDac",
        "WriteOwner",
    ];
    const WIN10_SDDL: &str = "O:S-1-5-21-1079689790-2336414676-942872339-1001\
        G:S-1-5-21-1079689790-2336414676-942872339-1001\
        D:(D;;KA;;;AN)(A;;KA;;;S-1-5-21-1079689790-2336414676-942872339-1001)\
        (A;;KA;;;BA)(A;;KA;;;RM)(A;;KA;;;AC)\
        S:(ML;;NW;;;ME)";

    fn load_sample(rel: &str) -> Option<Vec<u8>> {
        let dir = std::env::var_os("BITSCOPE_SAMPLES")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/samples"));
        let path = dir.join(rel);
        match std::fs::read(&path) {
            Ok(b) => Some(b),
            Err(e) => {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("sample {} missing under CI: {e}", path.display());
                }
                eprintln!("SKIP: sample {} not readable: {e}", path.display());
                None
            }
        }
    }

    // ---- builders for hand-made descriptors ----

    fn sid_bytes(authority: u64, subs: &[u32]) -> Vec<u8> {
        let mut v = vec![1u8, subs.len() as u8];
        v.extend_from_slice(&authority.to_be_bytes()[2..]);
        for s in subs {
            v.extend_from_slice(&s.to_le_bytes());
        }
        v
    }

    fn ace(ty: u8, flags: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![ty, flags];
        v.extend_from_slice(&((body.len() + 4) as u16).to_le_bytes());
        v.extend_from_slice(body);
        v
    }

    fn basic_ace(ty: u8, flags: u8, mask: u32, sid: &[u8]) -> Vec<u8> {
        let mut body = mask.to_le_bytes().to_vec();
        body.extend_from_slice(sid);
        ace(ty, flags, &body)
    }

    fn acl(revision: u8, aces: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = aces.concat();
        let mut v = vec![revision, 0];
        v.extend_from_slice(&((body.len() + 8) as u16).to_le_bytes());
        v.extend_from_slice(&(aces.len() as u16).to_le_bytes());
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(&body);
        v
    }

    /// Lay out header, owner, group, SACL, DACL in that order.
    fn sd(
        control: u16,
        owner: Option<&[u8]>,
        group: Option<&[u8]>,
        sacl: Option<&[u8]>,
        dacl: Option<&[u8]>,
    ) -> Vec<u8> {
        let mut body = Vec::new();
        let mut offs = [0u32; 4];
        for (i, part) in [owner, group, sacl, dacl].into_iter().enumerate() {
            if let Some(p) = part {
                offs[i] = (20 + body.len()) as u32;
                body.extend_from_slice(p);
            }
        }
        let mut v = vec![1u8, 0];
        v.extend_from_slice(&control.to_le_bytes());
        for o in offs {
            v.extend_from_slice(&o.to_le_bytes());
        }
        v.extend_from_slice(&body);
        v
    }

    fn guid_a() -> [u8; 16] {
        // bf967aba-0de6-11d0-a285-00aa003049e2 (the AD "user" class) as stored.
        [
            0xba, 0x7a, 0x96, 0xbf, 0xe6, 0x0d, 0xd0, 0x11, 0xa2, 0x85, 0x00, 0xaa, 0x00, 0x30,
            0x49, 0xe2,
        ]
    }

    fn guid_b() -> [u8; 16] {
        // 00299570-246d-11d0-a768-00aa006e0529 (User-Force-Change-Password) as stored.
        [
            0x70, 0x95, 0x29, 0x00, 0x6d, 0x24, 0xd0, 0x11, 0xa7, 0x68, 0x00, 0xaa, 0x00, 0x6e,
            0x05, 0x29,
        ]
    }

    /// Parse every prefix and a batch of byte mutations; nothing may panic.
    fn hammer(bytes: &[u8]) {
        for len in 0..=bytes.len() {
            let cut = &bytes[..len];
            if let Ok(sd) = parse_security_descriptor(cut) {
                let _ = sd.to_sddl();
                let _ = serde_json::to_string(&sd).unwrap();
            }
            let _ = parse_sid(cut);
            let _ = find_security_descriptor(cut);
        }
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..4000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut m = bytes.to_vec();
            for k in 0..(1 + (state % 4) as usize) {
                let r = state.rotate_left(11 * k as u32 + 5);
                let i = (r as usize) % m.len().max(1);
                if let Some(b) = m.get_mut(i) {
                    *b = (r >> 32) as u8;
                }
            }
            if let Ok(sd) = parse_security_descriptor(&m) {
                let _ = sd.to_sddl();
                let _ = serde_json::to_string(&sd).unwrap();
            }
            let _ = find_security_descriptor(&m);
        }
    }

    // ---- real sample ----

    #[test]
    fn win10_job_descriptor() {
        let Some(blob) = load_sample("blobs/win10/job.raw") else {
            return;
        };
        // The owner SID is also stored as UTF-16LE text earlier in the blob: cross-check the
        // binary decode against it.
        let text: Vec<u8> = USER.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert!(blob.windows(text.len()).any(|w| w == text.as_slice()));

        let (off, sd) = find_security_descriptor(&blob).expect("descriptor in win10 job blob");
        assert_eq!(off, 394);
        assert_eq!(sd.revision, 1);
        assert_eq!(sd.control, 0x801F);
        assert_eq!(
            sd.control_flags(),
            [
                "OwnerDefaulted",
                "GroupDefaulted",
                "DaclPresent",
                "DaclDefaulted",
                "SaclPresent",
                "SelfRelative"
            ]
        );
        assert_eq!(sd.owner.as_deref(), Some(USER));
        assert_eq!(sd.group.as_deref(), Some(USER));
        assert!(sd.warnings.is_empty(), "{:?}", sd.warnings);
        assert_eq!(sd.extent, 1220);

        let sacl = sd.sacl.as_ref().expect("SACL");
        assert_eq!(sacl.len(), 1);
        assert_eq!(sacl[0].ace_type, "SystemMandatoryLabelAceType");
        assert_eq!(sacl[0].sid, "S-1-16-8192");
        assert_eq!(sacl[0].account, "Medium Mandatory Level");
        assert_eq!(sacl[0].mask, 1);
        assert_eq!(sacl[0].access_rights, ["NoWriteUp"]);

        let dacl = sd.dacl.as_ref().expect("DACL");
        let expect = [
            ("AccessDeniedAceType", "S-1-5-7", "ANONYMOUS LOGON"),
            ("AccessAllowedAceType", USER, ""),
            ("AccessAllowedAceType", "S-1-5-32-544", "Administrators"),
            (
                "AccessAllowedAceType",
                "S-1-5-32-580",
                "Remote Management Users",
            ),
            (
                "AccessAllowedAceType",
                "S-1-15-2-1",
                "ALL APPLICATION PACKAGES",
            ),
        ];
        assert_eq!(dacl.len(), expect.len());
        for (a, (ty, sid, account)) in dacl.iter().zip(expect) {
            assert_eq!(a.ace_type, ty);
            assert_eq!(a.sid, sid);
            assert_eq!(a.account, account);
            assert_eq!(a.mask, 0x000F_003F);
            assert_eq!(a.access_rights, ALL_ACCESS_F003F);
            assert!(a.flags.is_empty());
            assert_eq!(a.object_flags, "None");
            assert_eq!(a.object_type_guid, "");
            assert_eq!(a.inherited_object_type_guid, "");
        }
        assert_eq!(sd.to_sddl(), WIN10_SDDL);

        // JSON carries exactly the documented ACE fields.
        let json = serde_json::to_value(&dacl[0]).unwrap();
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "access_rights",
                "account",
                "ace_type",
                "flags",
                "inherited_object_type_guid",
                "mask",
                "object_flags",
                "object_type_guid",
                "sid"
            ]
        );

        // Every truncation of the descriptor fails cleanly (the group SID is last).
        let bytes = &blob[off..off + sd.extent];
        assert_eq!(parse_security_descriptor(bytes).unwrap(), sd);
        for len in 0..bytes.len() {
            assert!(
                parse_security_descriptor(&bytes[..len]).is_err(),
                "len {len}"
            );
        }
        hammer(bytes);
        for len in 0..=blob.len() {
            let _ = find_security_descriptor(&blob[..len]);
        }
    }

    // ---- SIDs and names ----

    #[test]
    fn sid_parse_and_display() {
        let b = sid_bytes(5, &[21, 1079689790, 2336414676, 942872339, 1001]);
        let (sid, used) = parse_sid(&b).unwrap();
        assert_eq!(used, 28);
        assert_eq!(sid.to_string(), USER);
        assert_eq!(sid.rid(), Some(1001));
        assert_eq!(sid.byte_len(), 28);
        for len in 0..b.len() {
            assert!(parse_sid(&b[..len]).is_none(), "len {len}");
        }
        // Trailing bytes are not consumed.
        let mut long = sid_bytes(5, &[18]);
        long.extend_from_slice(&[0xAA; 9]);
        assert_eq!(
            parse_sid(&long).map(|(s, n)| (s.to_string(), n)),
            Some(("S-1-5-18".into(), 12))
        );
        // No sub-authorities is valid.
        assert_eq!(
            parse_sid(&sid_bytes(5, &[])).unwrap().0.to_string(),
            "S-1-5"
        );
        // Authority of 2^32 and above prints as 12 hex digits.
        let big = sid_bytes(0x0000_1234_5678_9ABC, &[7]);
        assert_eq!(
            parse_sid(&big).unwrap().0.to_string(),
            "S-1-0x123456789ABC-7"
        );
        let edge = sid_bytes(0xFFFF_FFFF, &[]);
        assert_eq!(parse_sid(&edge).unwrap().0.to_string(), "S-1-4294967295");
        // Revision and count limits.
        let mut bad_rev = sid_bytes(5, &[18]);
        bad_rev[0] = 2;
        assert!(parse_sid(&bad_rev).is_none());
        let fifteen = sid_bytes(5, &[1; 15]);
        assert_eq!(parse_sid(&fifteen).unwrap().1, 68);
        let mut sixteen = sid_bytes(5, &[1; 16]);
        sixteen[1] = 16;
        assert!(parse_sid(&sixteen).is_none());
    }

    #[test]
    fn well_known_names_and_aliases() {
        let cases = [
            ("S-1-0-0", "Nobody"),
            ("S-1-1-0", "Everyone"),
            ("S-1-2-0", "LOCAL"),
            ("S-1-3-0", "CREATOR OWNER"),
            ("S-1-3-1", "CREATOR GROUP"),
            ("S-1-5-1", "DIALUP"),
            ("S-1-5-2", "NETWORK"),
            ("S-1-5-3", "BATCH"),
            ("S-1-5-4", "INTERACTIVE"),
            ("S-1-5-6", "SERVICE"),
            ("S-1-5-7", "ANONYMOUS LOGON"),
            ("S-1-5-11", "Authenticated Users"),
            ("S-1-5-18", "SYSTEM"),
            ("S-1-5-19", "LOCAL SERVICE"),
            ("S-1-5-20", "NETWORK SERVICE"),
            ("S-1-5-32-544", "Administrators"),
            ("S-1-5-32-545", "Users"),
            ("S-1-5-32-546", "Guests"),
            ("S-1-5-32-547", "Power Users"),
            ("S-1-5-32-551", "Backup Operators"),
            ("S-1-5-32-555", "Remote Desktop Users"),
            ("S-1-5-32-558", "Performance Monitor Users"),
            ("S-1-5-32-559", "Performance Log Users"),
            ("S-1-5-32-562", "Distributed COM Users"),
            ("S-1-5-32-568", "IIS_IUSRS"),
            ("S-1-5-32-573", "Event Log Readers"),
            ("S-1-5-32-578", "Hyper-V Administrators"),
            ("S-1-5-32-580", "Remote Management Users"),
            ("S-1-15-2-1", "ALL APPLICATION PACKAGES"),
            ("S-1-15-2-2", "ALL RESTRICTED APPLICATION PACKAGES"),
            ("S-1-5-80-0", "ALL SERVICES"),
            ("S-1-16-4096", "Low Mandatory Level"),
            ("S-1-16-8192", "Medium Mandatory Level"),
            ("S-1-16-12288", "High Mandatory Level"),
            ("S-1-16-16384", "System Mandatory Level"),
            ("S-1-5-113", "Local account"),
            (
                "S-1-5-114",
                "Local account and member of Administrators group",
            ),
            ("S-1-5-21-1-2-3-500", "Administrator"),
            ("S-1-5-21-1079689790-2336414676-942872339-501", "Guest"),
            ("S-1-5-21-1-2-3-512", "Domain Admins"),
            ("S-1-5-21-1-2-3-513", "Domain Users"),
        ];
        for (sid, name) in cases {
            assert_eq!(well_known_name(sid), Some(name), "{sid}");
        }
        for sid in [
            USER,
            "S-1-5-21-1-2-500",
            "S-1-5-21-1-2-3-4-500",
            "S-1-5-21-x-2-3-500",
            "S-1-5-99",
            "",
            "S-1-5-21-1-2-3-",
        ] {
            assert_eq!(well_known_name(sid), None, "{sid}");
        }
        let aliases = [
            ("S-1-5-18", "SY"),
            ("S-1-5-32-544", "BA"),
            ("S-1-1-0", "WD"),
            ("S-1-5-7", "AN"),
            ("S-1-5-11", "AU"),
            ("S-1-5-32-580", "RM"),
            ("S-1-15-2-1", "AC"),
            ("S-1-16-8192", "ME"),
        ];
        for (sid, alias) in aliases {
            assert_eq!(sddl_alias(sid), Some(alias), "{sid}");
        }
        assert_eq!(sddl_alias("S-1-0-0"), None);
        assert_eq!(sddl_alias("S-1-5-21-1-2-3-500"), None);
    }

    #[test]
    fn access_rights_vocabulary() {
        assert_eq!(access_right_names(0x000F_003F, 0), ALL_ACCESS_F003F);
        assert!(access_right_names(0, 0).is_empty());
        let all = access_right_names(u32::MAX, 0);
        assert_eq!(all.len(), 32);
        assert_eq!(all, RIGHT_NAMES);
        assert_eq!(all[9], "SpecificRight9");
        assert_eq!(all[26], "Reserved26");
        assert_eq!(all[31], "GenericRead");
        assert_eq!(
            access_right_names(0x7, SYSTEM_MANDATORY_LABEL_ACE_TYPE),
            ["NoWriteUp", "NoReadUp", "NoExecuteUp"]
        );
        assert_eq!(sddl_rights(0x001F_01FF, 0), "FA");
        assert_eq!(sddl_rights(0x0002_0019, 0), "KR");
        assert_eq!(sddl_rights(0x000F_01FF, 0), "CCDCLCSWRPWPDTLOCRSDRCWDWO");
        assert_eq!(sddl_rights(0x1000_0000, 0), "GA");
        assert_eq!(sddl_rights(0x0012_019F, 0), "0x12019f");
        assert_eq!(sddl_rights(0x0100_0000, 0), "0x1000000");
        assert_eq!(sddl_rights(0x1, SYSTEM_MANDATORY_LABEL_ACE_TYPE), "NW");
        assert_eq!(sddl_rights(0x9, SYSTEM_MANDATORY_LABEL_ACE_TYPE), "0x9");
    }

    // ---- hand-built descriptors ----

    #[test]
    fn object_ace_and_flags() {
        let system = sid_bytes(5, &[18]);
        let self_sid = sid_bytes(5, &[10]);
        // Both GUIDs present.
        let mut body = 0x100u32.to_le_bytes().to_vec();
        body.extend_from_slice(&3u32.to_le_bytes());
        body.extend_from_slice(&guid_b());
        body.extend_from_slice(&guid_a());
        body.extend_from_slice(&self_sid);
        let both = ace(0x05, 0x13, &body);
        // Only the inherited GUID: it sits where ObjectType would be.
        let mut body = 0x30u32.to_le_bytes().to_vec();
        body.extend_from_slice(&2u32.to_le_bytes());
        body.extend_from_slice(&guid_a());
        body.extend_from_slice(&self_sid);
        let inherited_only = ace(0x06, 0x0A, &body);
        // No GUIDs at all.
        let mut body = 0x10u32.to_le_bytes().to_vec();
        body.extend_from_slice(&0u32.to_le_bytes());
        body.extend_from_slice(&system);
        let none = ace(0x05, 0, &body);
        let dacl = acl(4, &[both, inherited_only, none]);
        let bytes = sd(
            SE_SELF_RELATIVE | SE_DACL_PRESENT | SE_DACL_PROTECTED | SE_DACL_AUTO_INHERITED,
            Some(&system),
            Some(&system),
            None,
            Some(&dacl),
        );
        let d = parse_security_descriptor(&bytes).unwrap();
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        let aces = d.dacl.as_ref().unwrap();
        assert_eq!(aces.len(), 3);
        let a = &aces[0];
        assert_eq!(a.ace_type, "AccessAllowedObjectAceType");
        assert_eq!(a.flags, ["ObjectInherit", "ContainerInherit", "Inherited"]);
        assert_eq!(
            a.object_flags,
            "ObjectTypePresent | InheritedObjectTypePresent"
        );
        assert_eq!(a.object_type_guid, "00299570-246d-11d0-a768-00aa006e0529");
        assert_eq!(
            a.inherited_object_type_guid,
            "bf967aba-0de6-11d0-a285-00aa003049e2"
        );
        assert_eq!(a.sid, "S-1-5-10");
        assert_eq!(a.account, "SELF");
        assert_eq!(a.access_rights, ["FileWriteAttributes"]);
        let b = &aces[1];
        assert_eq!(b.ace_type, "AccessDeniedObjectAceType");
        assert_eq!(b.flags, ["ContainerInherit", "InheritOnly"]);
        assert_eq!(b.object_flags, "InheritedObjectTypePresent");
        assert_eq!(b.object_type_guid, "");
        assert_eq!(
            b.inherited_object_type_guid,
            "bf967aba-0de6-11d0-a285-00aa003049e2"
        );
        assert_eq!(aces[2].object_flags, "None");
        assert_eq!(aces[2].sid, "S-1-5-18");
        assert_eq!(
            d.to_sddl(),
            "O:SYG:SYD:PAI\
             (OA;OICIID;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;PS)\
             (OD;CIIO;RPWP;;bf967aba-0de6-11d0-a285-00aa003049e2;PS)\
             (OA;;RP;;;SY)"
        );
        let mut cut = bytes.clone();
        cut.truncate(bytes.len() - 1);
        let d2 = parse_security_descriptor(&cut);
        assert!(d2.is_err());
        hammer(&bytes);
    }

    #[test]
    fn mandatory_label_and_audit() {
        let owner = sid_bytes(5, &[32, 544]);
        let high = sid_bytes(16, &[12288]);
        let everyone = sid_bytes(1, &[0]);
        let label = basic_ace(0x11, 0x03, 0x7, &high);
        let audit = basic_ace(0x02, 0xC0, 0x0012_0116, &everyone);
        let sacl = acl(2, &[label, audit]);
        let dacl = acl(2, &[basic_ace(0x00, 0, 0x001F_01FF, &owner)]);
        let bytes = sd(
            SE_SELF_RELATIVE | SE_DACL_PRESENT | SE_SACL_PRESENT | SE_SACL_PROTECTED,
            Some(&owner),
            None,
            Some(&sacl),
            Some(&dacl),
        );
        let d = parse_security_descriptor(&bytes).unwrap();
        assert_eq!(d.group, None);
        let s = d.sacl.as_ref().unwrap();
        assert_eq!(s[0].ace_type, "SystemMandatoryLabelAceType");
        assert_eq!(s[0].account, "High Mandatory Level");
        assert_eq!(s[0].access_rights, ["NoWriteUp", "NoReadUp", "NoExecuteUp"]);
        assert_eq!(s[1].ace_type, "SystemAuditAceType");
        assert_eq!(s[1].flags, ["SuccessfulAccess", "FailedAccess"]);
        assert_eq!(
            d.to_sddl(),
            "O:BAD:(A;;FA;;;BA)S:P(ML;OICI;NWNRNX;;;HI)(AU;SAFA;FW;;;WD)"
        );
        assert_eq!(d.extent, bytes.len());
        for len in 0..bytes.len() {
            assert!(
                parse_security_descriptor(&bytes[..len]).is_err(),
                "len {len}"
            );
        }
        hammer(&bytes);
    }

    #[test]
    fn callback_ace_ignores_application_data() {
        let sid = sid_bytes(5, &[11]);
        let mut body = 0x0012_00A0u32.to_le_bytes().to_vec();
        body.extend_from_slice(&sid);
        body.extend_from_slice(b"artx\0\0\0\0"); // conditional-expression bytes, not decoded
        let cb = ace(0x09, 0, &body);
        let dacl = acl(2, &[cb]);
        let bytes = sd(
            SE_SELF_RELATIVE | SE_DACL_PRESENT,
            Some(&sid),
            None,
            None,
            Some(&dacl),
        );
        let d = parse_security_descriptor(&bytes).unwrap();
        let a = &d.dacl.as_ref().unwrap()[0];
        assert_eq!(a.ace_type, "AccessAllowedCallbackAceType");
        assert_eq!(a.sid, "S-1-5-11");
        assert_eq!(a.account, "Authenticated Users");
        assert_eq!(d.to_sddl(), "O:AUD:(XA;;FX;;;AU)");
    }

    #[test]
    fn bad_ace_stops_list_with_warning() {
        let sys = sid_bytes(5, &[18]);
        let good = basic_ace(0x00, 0, 0x1, &sys);
        // Unknown type with a sane size: skipped, list continues.
        let unknown = ace(0x42, 0, &[0u8; 12]);
        // SID claims 15 sub-authorities but the ACE is short: stops the list.
        let mut short = basic_ace(0x01, 0, 0x2, &sys);
        short[9] = 15;
        let after = basic_ace(0x00, 0, 0x4, &sys);
        let dacl = acl(2, &[good.clone(), unknown, short, after]);
        let bytes = sd(
            SE_SELF_RELATIVE | SE_DACL_PRESENT,
            Some(&sys),
            None,
            None,
            Some(&dacl),
        );
        let d = parse_security_descriptor(&bytes).unwrap();
        let aces = d.dacl.as_ref().unwrap();
        assert_eq!(aces.len(), 1);
        assert_eq!(d.warnings.len(), 2, "{:?}", d.warnings);
        assert!(d.warnings[0].contains("unknown AceType 0x42"));
        assert!(d.warnings[1].contains("DACL ACE 2"));

        // AceSize running past AclSize, and AceCount larger than what is present.
        let mut over = acl(2, std::slice::from_ref(&good));
        over[4] = 3; // AceCount 3, only one ACE present
        let bytes = sd(
            SE_SELF_RELATIVE | SE_DACL_PRESENT,
            Some(&sys),
            None,
            None,
            Some(&over),
        );
        let d = parse_security_descriptor(&bytes).unwrap();
        assert_eq!(d.dacl.as_ref().unwrap().len(), 1);
        assert_eq!(d.warnings.len(), 1);
        let mut big = acl(2, &[good.clone(), good]);
        big[8 + 2] = 0xF0; // first AceSize 0xF0 > AclSize
        let bytes = sd(
            SE_SELF_RELATIVE | SE_DACL_PRESENT,
            Some(&sys),
            None,
            None,
            Some(&big),
        );
        let d = parse_security_descriptor(&bytes).unwrap();
        assert!(d.dacl.as_ref().unwrap().is_empty());
        assert!(d.warnings[0].contains("runs past AclSize"));
        hammer(&bytes);
    }

    #[test]
    fn null_dacl_and_ignored_offsets() {
        let sys = sid_bytes(5, &[18]);
        let bytes = sd(
            SE_SELF_RELATIVE | SE_DACL_PRESENT,
            Some(&sys),
            Some(&sys),
            None,
            None,
        );
        let d = parse_security_descriptor(&bytes).unwrap();
        assert_eq!(d.dacl, None);
        assert_eq!(d.to_sddl(), "O:SYG:SYD:NO_ACCESS_CONTROL");
        // An ACL offset without its present bit is ignored, with a warning.
        let dacl = acl(2, &[]);
        let bytes = sd(SE_SELF_RELATIVE, Some(&sys), None, None, Some(&dacl));
        let d = parse_security_descriptor(&bytes).unwrap();
        assert_eq!(d.dacl, None);
        assert_eq!(d.warnings.len(), 1);
        assert_eq!(d.to_sddl(), "O:SY");
        // Empty DACL (deny all) differs from a NULL one.
        let bytes = sd(
            SE_SELF_RELATIVE | SE_DACL_PRESENT,
            None,
            None,
            None,
            Some(&dacl),
        );
        let d = parse_security_descriptor(&bytes).unwrap();
        assert_eq!(d.dacl, Some(vec![]));
        assert_eq!(d.to_sddl(), "D:");
    }

    #[test]
    fn descriptor_errors() {
        let sys = sid_bytes(5, &[18]);
        let dacl = acl(2, &[basic_ace(0, 0, 1, &sys)]);
        let good = sd(
            SE_SELF_RELATIVE | SE_DACL_PRESENT,
            Some(&sys),
            None,
            None,
            Some(&dacl),
        );
        assert!(parse_security_descriptor(&good).is_ok());
        assert_eq!(
            parse_security_descriptor(&good[..19]),
            Err(SdError::Truncated { have: 19 })
        );
        let mut b = good.clone();
        b[0] = 2;
        assert_eq!(parse_security_descriptor(&b), Err(SdError::BadRevision(2)));
        let mut b = good.clone();
        b[3] = 0;
        assert_eq!(
            parse_security_descriptor(&b),
            Err(SdError::NotSelfRelative { control: 0x0004 })
        );
        let mut b = good.clone();
        b[4..8].copy_from_slice(&8u32.to_le_bytes());
        assert_eq!(
            parse_security_descriptor(&b),
            Err(SdError::BadOffset {
                part: "owner",
                offset: 8
            })
        );
        let mut b = good.clone();
        b[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            parse_security_descriptor(&b),
            Err(SdError::BadOffset { part: "DACL", .. })
        ));
        let mut b = good.clone();
        b[20] = 9; // owner SID revision
        assert!(matches!(
            parse_security_descriptor(&b),
            Err(SdError::BadSid { part: "owner", .. })
        ));
        let mut b = good.clone();
        b[32] = 9; // DACL revision
        assert!(matches!(
            parse_security_descriptor(&b),
            Err(SdError::BadAcl { part: "DACL", .. })
        ));
        let mut b = good.clone();
        b[34] = 0xFF; // AclSize past the end
        let e = parse_security_descriptor(&b).unwrap_err();
        assert!(e.to_string().contains("AclSize runs past the end"), "{e}");
        let mut b = good;
        b[34] = 4; // AclSize smaller than the header
        assert!(parse_security_descriptor(&b).is_err());
    }

    #[test]
    fn find_skips_noise() {
        let sys = sid_bytes(5, &[18]);
        let dacl = acl(2, &[basic_ace(0, 0, 0x001F_01FF, &sys)]);
        let bytes = sd(
            SE_SELF_RELATIVE | SE_DACL_PRESENT,
            Some(&sys),
            None,
            None,
            Some(&dacl),
        );
        // Noise that starts like a descriptor header but does not parse.
        let mut area = vec![
            1u8, 0, 0x04, 0x80, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0,
        ];
        area.extend_from_slice(&[0x55; 7]);
        let at = area.len();
        area.extend_from_slice(&bytes);
        area.extend_from_slice(&[0u8; 5]);
        let (off, d) = find_security_descriptor(&area).unwrap();
        assert_eq!(off, at);
        assert_eq!(d.to_sddl(), "O:SYD:(A;;FA;;;SY)");
        assert_eq!(
            find_security_descriptor(&area[..at + bytes.len() - 1]),
            None
        );
        assert_eq!(find_security_descriptor(&[]), None);
    }
}
