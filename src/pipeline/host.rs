//! Which host an input's records belong to, when a case holds the collections of many hosts.
//!
//! In order of trust:
//! 1. the SYSTEM hive's `ComputerName` when the collection holds one (a hook: reading hives is
//!    not bitscope's yet, see [`computer_name`]);
//! 2. the folder above the collected volume: the component before `ProgramData` (a drive
//!    folder such as `C` or Velociraptor's `C%3A` passed over), as KAPE (`HOST\C\ProgramData`)
//!    and the demo (`HOST\ProgramData`) lay a host out;
//! 3. the collection's own name: the first folder under the case folder given, or the
//!    collection file's name without its extension (a Velociraptor zip, an image).
//!
//! Each record says which rule named its host ([`HostSource`]), since a folder name is only as
//! good as whoever named the folder. The live host (`parse --live`) is the machine bitscope
//! runs on: [`this_machine`].

use std::path::{Component, Path};

/// How a host was named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostSource {
    /// The SYSTEM hive's `ControlSet\Control\ComputerName\ComputerName`.
    SystemHive,
    /// A folder's name (the case folder's child, or the folder above the volume).
    FolderName,
    /// A collection file's name, its extension dropped.
    FileName,
    /// The machine bitscope runs on (`parse --live`): its `COMPUTERNAME`.
    ThisMachine,
}

impl HostSource {
    /// The spelling records carry in `host_source`.
    pub fn as_str(self) -> &'static str {
        match self {
            HostSource::SystemHive => "system hive",
            HostSource::FolderName => "folder name",
            HostSource::FileName => "file name",
            HostSource::ThisMachine => "this machine",
        }
    }
}

/// A host's name and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub name: String,
    pub source: HostSource,
}

/// The SYSTEM hive's `ComputerName` for a collection, when it holds a SYSTEM hive.
///
/// The hook for the hive reader (another piece of work): until it lands this finds nothing and
/// the host is named from folder and file names, which each record says in `host_source`.
pub fn computer_name(_collection: &Path) -> Option<String> {
    None
}

/// The machine bitscope runs on, for the live host: Windows' `COMPUTERNAME` (the NetBIOS
/// name, as the SYSTEM hive's `ComputerName` holds it), else (a test's stand-in volume on
/// another system) the kernel's host name, else `localhost`.
pub fn this_machine() -> Host {
    let name = std::env::var("COMPUTERNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "localhost".into());
    Host {
        name,
        source: HostSource::ThisMachine,
    }
}

/// The host of `input`, found under the path `given` on the command line (the case folder, a
/// collection, or `input` itself).
pub fn host_of(given: &Path, input: &Path) -> Host {
    let collection = collection_of(given, input);
    if let Some(name) = computer_name(&collection) {
        return Host {
            name,
            source: HostSource::SystemHive,
        };
    }
    if let Some(name) = above_volume(input) {
        return Host {
            name,
            source: HostSource::FolderName,
        };
    }
    let stem = |p: &Path| {
        p.file_stem()
            .or(p.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    if collection.is_dir() || collection != input {
        // A folder under the case folder (a KAPE tree), or the folder given.
        let name = collection.file_name().map_or_else(
            || collection.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        return Host {
            name,
            source: HostSource::FolderName,
        };
    }
    if super::find::is_queue_name(input) {
        // A bare qmgr.db given alone: the folder it lies in is the best left.
        let parent = input.parent().and_then(Path::file_name);
        if let Some(p) = parent {
            return Host {
                name: p.to_string_lossy().into_owned(),
                source: HostSource::FolderName,
            };
        }
    }
    Host {
        name: stem(input),
        source: HostSource::FileName,
    }
}

/// The collection `input` belongs to: the first component under `given` when `given` is a
/// folder that holds it deeper down, else `input` itself (a collection file, a store given).
fn collection_of(given: &Path, input: &Path) -> std::path::PathBuf {
    match input.strip_prefix(given).ok().map(Path::components) {
        Some(mut rest) => match (rest.next(), rest.next()) {
            // Deeper than the case folder's own files: its first folder is the collection.
            (Some(Component::Normal(first)), Some(_)) => given.join(first),
            // A store directly in the folder given: the folder is the collection (a zip or an
            // image there is a collection of its own).
            (Some(_), None) if given != input && super::find::is_queue_name(input) => {
                given.to_path_buf()
            }
            _ => input.to_path_buf(),
        },
        None => input.to_path_buf(),
    }
}

/// The folder name above a collected volume: the component before `ProgramData` in the path,
/// passing over a drive folder (`C`, `C:`, `C%3A`).
fn above_volume(input: &Path) -> Option<String> {
    let parts: Vec<String> = input
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let at = parts
        .iter()
        .rposition(|p| p.eq_ignore_ascii_case("ProgramData"))?;
    let mut before = parts.get(..at)?.iter().rev();
    let mut name = before.next()?;
    if is_drive(name) {
        name = before.next()?;
    }
    // Velociraptor's `uploads/auto/C%3A/...`: the accessor's folder names no host.
    const ACCESSORS: [&str; 7] = [
        "auto",
        "ntfs",
        "file",
        "raw_ntfs",
        "lazy_ntfs",
        "mft",
        "uploads",
    ];
    if ACCESSORS.iter().any(|a| a.eq_ignore_ascii_case(name)) {
        return None;
    }
    Some(name.clone())
}

/// `C`, `C:`, `C%3A` (Velociraptor's escaped `C:`), `C$`, and a raw volume's device name
/// (`\\.\C:`, escaped `%5C%5C.%5CC%3A`).
fn is_drive(s: &str) -> bool {
    let s = s
        .strip_prefix("%5C%5C.%5C")
        .or_else(|| s.strip_prefix("\\\\.\\"))
        .unwrap_or(s);
    let mut chars = s.chars();
    let letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest: String = chars.collect();
    letter && matches!(rest.to_ascii_uppercase().as_str(), "" | ":" | "%3A" | "$")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(given: &str, input: &str) -> (String, &'static str) {
        let h = host_of(Path::new(given), Path::new(input));
        (h.name, h.source.as_str())
    }

    #[test]
    fn hosts_are_named_from_the_layout() {
        // KAPE: the target destination named after the host, the drive under it.
        assert_eq!(
            host(
                "/case",
                "/case/WKS-01/C/ProgramData/Microsoft/Network/Downloader/qmgr.db"
            ),
            ("WKS-01".into(), "folder name")
        );
        // Velociraptor's escaped drive inside an unpacked collection.
        assert_eq!(
            host(
                "/case/x",
                "/case/x/SRV-9/uploads/auto/C%3A/ProgramData/Microsoft/Network/Downloader/qmgr.db"
            ),
            ("SRV-9".into(), "folder name")
        );
        // A zip in the case folder: its name.
        assert_eq!(
            host("/case", "/case/Collection-WKS-02.zip"),
            ("Collection-WKS-02".into(), "file name")
        );
        // An image given alone.
        assert_eq!(
            host("/img/disk.E01", "/img/disk.E01"),
            ("disk".into(), "file name")
        );
        // A case folder's child without a ProgramData in the path.
        assert_eq!(
            host("/case", "/case/HOST-3/stores/qmgr.db"),
            ("HOST-3".into(), "folder name")
        );
        // A bare store given alone, no layout: the folder it lies in.
        assert_eq!(
            host("/x/y/qmgr.db", "/x/y/qmgr.db"),
            ("y".into(), "folder name")
        );
    }
}
