//! Access control entries (MS-DTYP §2.4.4): one ACE decoded from its bytes, with the names of
//! its type, flags and access-mask bits.

use serde::Serialize;

use super::sid::{parse_sid, well_known_name};
use crate::util::bytes::{slice, u32_le, u8_at};
use crate::util::guid::Guid;

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
pub(super) enum AceShape {
    /// Mask, SID, then (for callback/attribute/filter types) application data, ignored.
    Basic,
    /// Mask, object flags, optional GUIDs, SID, then (callback types) application data.
    Object,
    /// Mask, compound type, reserved, server SID, client SID.
    Compound,
}

/// (name, SDDL type string or "", shape) for AceType 0x00..=0x15.
pub(super) const ACE_TYPES: [(&str, &str, AceShape); 22] = [
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
pub(super) const ACE_FLAG_SDDL: [&str; 8] = ["OI", "CI", "NP", "IO", "ID", "", "SA", "FA"];

/// Names of access-mask bits 0..=31; the specific bits use the file-rights vocabulary.
pub(super) const RIGHT_NAMES: [&str; 32] = [
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
pub(super) enum AceProblem {
    /// The type byte is outside the known range; the ACE's size is trusted and it is skipped.
    UnknownType(u8),
    /// The body is malformed; the rest of the list cannot be trusted.
    Malformed(String),
}

/// Decode one ACE; `ace` is exactly `AceSize` bytes.
pub(super) fn decode_ace(ace: &[u8]) -> Result<AccessControl, AceProblem> {
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
