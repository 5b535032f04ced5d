//! Security identifiers (SIDs): the binary form (MS-DTYP §2.4.2.2) decoded from untrusted
//! bytes, and an offline table of well-known accounts and their SDDL aliases.

use std::fmt;

use crate::util::bytes::{slice, u32_le, u8_at};

/// The most sub-authorities a SID may carry (`SID_MAX_SUB_AUTHORITIES`).
pub const SID_MAX_SUB_AUTHORITIES: usize = 15;

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
