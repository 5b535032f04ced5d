//! The computer's name in a SYSTEM hive: `Select`'s `Current` (REG_DWORD) names the control
//! set the machine booted with last, `ControlSet%03u` (`ControlSet001` for 1), whose
//! `Control\ComputerName\ComputerName` value `ComputerName` (REG_SZ, UTF-16LE) is the NetBIOS
//! name. `CurrentControlSet` is a volatile link made at boot: it is not in the hive file.
//!
//! Hostile hives: `Current` must be 1..=999 (`%03u`), the name at most [`MAX_NAME`]
//! characters, none of them a control character. A longer REG_SZ lies in big-data cells,
//! which the reader does not follow; its first cell is checked like any other data.

use super::Hive;

pub const SELECT_KEY: &str = "Select";
pub const COMPUTER_NAME_KEY: &str = r"Control\ComputerName\ComputerName";

/// The longest name taken (a NetBIOS name is 15 characters, a DNS label 63).
pub const MAX_NAME: usize = 255;

/// Why a SYSTEM hive gave no computer name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("no Select\\Current value (not a SYSTEM hive?)")]
    NoCurrent,
    #[error("Select\\Current is {0}: no control set has that number")]
    BadCurrent(u32),
    #[error("no key {0}")]
    NoKey(String),
    #[error("no ComputerName value in {0}")]
    NoValue(String),
    #[error("the ComputerName in {0} is empty")]
    Empty(String),
    #[error("the ComputerName in {key} is {chars} characters or more (at most {MAX_NAME} taken)")]
    TooLong { key: String, chars: usize },
    #[error("the ComputerName in {0} holds a control character")]
    Control(String),
}

/// The computer name, and the key it was read from (`ControlSet001\Control\...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputerName {
    pub name: String,
    pub key: String,
}

/// The computer name of a SYSTEM hive's current control set.
pub fn computer_name(hive: &Hive) -> Result<ComputerName, NameError> {
    let select = hive.key(SELECT_KEY).ok_or(NameError::NoCurrent)?;
    let current = hive
        .value(&select, "Current")
        .and_then(|v| v.dword())
        .ok_or(NameError::NoCurrent)?;
    if !(1..=999).contains(&current) {
        return Err(NameError::BadCurrent(current));
    }
    let set = format!("ControlSet{current:03}");
    let key = format!(r"{set}\{COMPUTER_NAME_KEY}");
    if hive.key(&set).is_none() {
        return Err(NameError::BadCurrent(current));
    }
    let k = hive
        .key(&key)
        .ok_or_else(|| NameError::NoKey(key.clone()))?;
    let value = hive
        .value(&k, "ComputerName")
        .ok_or_else(|| NameError::NoValue(key.clone()))?;
    let name = value.text();
    let chars = name.chars().take(MAX_NAME.saturating_add(1)).count();
    if chars > MAX_NAME {
        return Err(NameError::TooLong { key, chars });
    }
    if name.chars().any(char::is_control) {
        return Err(NameError::Control(key));
    }
    let name = name.trim().to_string();
    if name.is_empty() {
        return Err(NameError::Empty(key));
    }
    Ok(ComputerName { name, key })
}

/// [`computer_name`] of a hive's bytes; `Err` says why none (escaping is the caller's).
pub fn computer_name_of(bytes: &[u8]) -> Result<ComputerName, String> {
    let hive = Hive::open(bytes).map_err(|e| e.to_string())?;
    computer_name(&hive).map_err(|e| e.to_string())
}
