//! Tests of the SID, ACE, descriptor and SDDL decoders, over the real win10 job's descriptor
//! and hand-built hostile ones.

use super::ace::*;
use super::descriptor::*;
use super::sddl::*;
use super::sid::*;
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
        0xba, 0x7a, 0x96, 0xbf, 0xe6, 0x0d, 0xd0, 0x11, 0xa2, 0x85, 0x00, 0xaa, 0x00, 0x30, 0x49,
        0xe2,
    ]
}

fn guid_b() -> [u8; 16] {
    // 00299570-246d-11d0-a768-00aa006e0529 (User-Force-Change-Password) as stored.
    [
        0x70, 0x95, 0x29, 0x00, 0x6d, 0x24, 0xd0, 0x11, 0xa7, 0x68, 0x00, 0xaa, 0x00, 0x6e, 0x05,
        0x29,
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
