//! Accounts from the evidence's own hives, never from the analyst's machine:
//! - SAM: the machine SID (the last 24 bytes of `SAM\Domains\Account`'s `V`: a binary SID
//!   S-1-5-21-a-b-c) and each local account (`SAM\Domains\Account\Users\<RID in hex>`'s `V`: the
//!   name's offset (u32, counted from 0xcc) at 0x0c and its length at 0x10, UTF-16LE; the
//!   `Users\Names\<name>` key's default value has the RID as its type, a second witness).
//! - SOFTWARE: `Microsoft\Windows NT\CurrentVersion\ProfileList\<SID>`'s `ProfileImagePath`
//!   (`C:\Users\<name>`): domain and local users who logged on, by SID.

use super::{Hive, Key};
use crate::util::bytes::{slice, u32_le};
use crate::util::utf16::decode_utf16le;

pub const ACCOUNT_KEY: &str = r"SAM\Domains\Account";
pub const PROFILE_LIST_KEY: &str = r"Microsoft\Windows NT\CurrentVersion\ProfileList";

/// Which hive said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountSource {
    /// A local account in the SAM hive.
    Sam,
    /// A profile in SOFTWARE's ProfileList (the name is the profile folder's).
    ProfileList,
    /// A well-known SID (SYSTEM, LOCAL SERVICE, NETWORK SERVICE): no hive needed.
    WellKnown,
}

/// One SID and the name the evidence gives it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    pub sid: String,
    pub name: String,
    pub source: AccountSource,
    /// The key that said it (`SAM\Domains\Account\Users\000003E9`), and its cell's offset in
    /// the hive file.
    pub key: String,
    pub key_offset: u64,
    /// ProfileList: the profile folder.
    pub profile_path: Option<String>,
}

/// What a SAM hive says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sam {
    pub machine_sid: Option<String>,
    pub accounts: Vec<Account>,
}

/// The machine SID and the local accounts of a SAM hive.
pub fn sam(hive: &Hive) -> Sam {
    let Some(account) = hive.key(ACCOUNT_KEY) else {
        return Sam::default();
    };
    let machine_sid = hive.value(&account, "V").and_then(|v| machine_sid(&v.data));
    let mut accounts = Vec::new();
    let Some(users) = hive.subkey(&account, "Users") else {
        return Sam {
            machine_sid,
            accounts,
        };
    };
    for user in hive.subkeys(&users) {
        let Ok(rid) = u32::from_str_radix(&user.name, 16) else {
            continue; // `Names`
        };
        let Some(name) = hive.value(&user, "V").and_then(|v| v_name(&v.data)) else {
            continue;
        };
        accounts.push(local(machine_sid.as_deref(), rid, name, &user, &users.name));
    }
    // Names\<name>: the default value's type is the RID; it names accounts whose V is gone.
    if let Some(names) = hive.subkey(&users, "Names") {
        for key in hive.subkeys(&names) {
            let Some(rid) = hive.value(&key, "").map(|v| v.kind) else {
                continue;
            };
            if !accounts.iter().any(|a| a.sid.ends_with(&format!("-{rid}"))) {
                accounts.push(local(
                    machine_sid.as_deref(),
                    rid,
                    key.name.clone(),
                    &key,
                    "Names",
                ));
            }
        }
    }
    Sam {
        machine_sid,
        accounts,
    }
}

fn local(machine: Option<&str>, rid: u32, name: String, key: &Key, parent: &str) -> Account {
    Account {
        sid: match machine {
            Some(m) => format!("{m}-{rid}"),
            None => format!("?-{rid}"),
        },
        name,
        source: AccountSource::Sam,
        key: format!(
            r"{ACCOUNT_KEY}\{}{}\{}",
            if parent == "Names" { "Users\\" } else { "" },
            parent,
            key.name
        ),
        key_offset: key.offset,
        profile_path: None,
    }
}

/// The machine SID at the end of the domain's `V`: revision 1, 4 sub-authorities, authority 5,
/// 21 and three numbers.
pub fn machine_sid(v: &[u8]) -> Option<String> {
    let at = v.len().checked_sub(24)?;
    let sid = v.get(at..)?;
    if sid.first() != Some(&1) || sid.get(1) != Some(&4) {
        return None;
    }
    let authority = sid
        .get(2..8)?
        .iter()
        .fold(0u64, |a, &b| (a << 8) | u64::from(b));
    let subs: Vec<u32> = [8, 12, 16, 20]
        .into_iter()
        .filter_map(|at| u32_le(sid, at))
        .collect();
    Some(format!(
        "S-1-{authority}-{}",
        subs.iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join("-")
    ))
}

/// The account name in a user's `V`.
fn v_name(v: &[u8]) -> Option<String> {
    let off = usize::try_from(u32_le(v, 0x0c)?).ok()?.checked_add(0xcc)?;
    let len = usize::try_from(u32_le(v, 0x10)?).ok()?;
    let name = decode_utf16le(slice(v, off, len)?);
    (!name.is_empty()).then_some(name)
}

/// The profiles of a SOFTWARE hive's ProfileList.
pub fn profiles(hive: &Hive) -> Vec<Account> {
    let Some(list) = hive.key(PROFILE_LIST_KEY) else {
        return Vec::new();
    };
    hive.subkeys(&list)
        .into_iter()
        .filter(|k| k.name.starts_with("S-1-"))
        .filter_map(|k| {
            let path = hive.value(&k, "ProfileImagePath")?.text();
            let name = path.rsplit(['\\', '/']).next().unwrap_or("").to_string();
            Some(Account {
                sid: k.name.clone(),
                name,
                source: AccountSource::ProfileList,
                key: format!(r"{PROFILE_LIST_KEY}\{}", k.name),
                key_offset: k.offset,
                profile_path: Some(path),
            })
        })
        .collect()
}

/// The name of a well-known SID.
pub fn well_known(sid: &str) -> Option<&'static str> {
    Some(match sid {
        "S-1-5-18" => "SYSTEM",
        "S-1-5-19" => "LOCAL SERVICE",
        "S-1-5-20" => "NETWORK SERVICE",
        "S-1-5-32-544" => "Administrators",
        _ => return None,
    })
}

/// Every account the hives gave, for lookups by SID.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    pub accounts: Vec<Account>,
}

impl Accounts {
    pub fn add(&mut self, more: Vec<Account>) {
        for a in more {
            if !self
                .accounts
                .iter()
                .any(|b| b.sid == a.sid && b.source == a.source)
            {
                self.accounts.push(a);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// The account of `sid`: the SAM's first, then a profile, then a well-known name.
    pub fn lookup(&self, sid: &str) -> Option<Account> {
        let found = |s: AccountSource| {
            self.accounts
                .iter()
                .find(|a| a.source == s && a.sid.eq_ignore_ascii_case(sid))
        };
        if let Some(a) = found(AccountSource::Sam).or_else(|| found(AccountSource::ProfileList)) {
            return Some(a.clone());
        }
        well_known(sid).map(|name| Account {
            sid: sid.to_string(),
            name: name.to_string(),
            source: AccountSource::WellKnown,
            key: String::new(),
            key_offset: 0,
            profile_path: None,
        })
    }
}
