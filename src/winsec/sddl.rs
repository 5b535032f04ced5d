//! SDDL: a security descriptor written as `ConvertSecurityDescriptorToStringSecurityDescriptor`
//! writes it, from the decoded descriptor.

use super::ace::{AccessControl, ACE_FLAG_SDDL, ACE_TYPES, SYSTEM_MANDATORY_LABEL_ACE_TYPE};
use super::descriptor::*;
use super::sid::sddl_alias;

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
pub(super) fn sddl_rights(mask: u32, ace_type: u8) -> String {
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
