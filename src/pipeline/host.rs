//! Which host an input's records belong to, when a case holds the collections of many hosts.
//!
//! In order of trust:
//! 1. the SYSTEM hive's `ComputerName` when the collection holds one (see
//!    [`crate::hive::system`]): in a folder, `Windows\System32\config\SYSTEM` (any case)
//!    under the collection's folder or the volume folder above `ProgramData`, directly or
//!    under drive folders (`C`, `C%3A`, `%5C%5C.%5CC%3A`) and Velociraptor's
//!    `uploads\<accessor>` ([`system_hive`]); in a zip or an image, the hive the container
//!    layer finds with the stores, read as they run (`driver.rs`'s `Named`; see
//!    [`is_system_hive_place`]). A hive that names no computer is a warning;
//! 2. the folder above the collected volume: the component before `ProgramData` (a drive
//!    folder such as `C` or Velociraptor's `C%3A` passed over), as KAPE (`HOST\C\ProgramData`)
//!    and the demo (`HOST\ProgramData`) lay a host out;
//! 3. the collection's own name: the first folder under the case folder given, or the
//!    collection file's name without its extension (a Velociraptor zip, an image).
//!
//! Each record says which rule named its host ([`HostSource`]), since a folder name is only as
//! good as whoever named the folder. The live host (`parse --live`) is the machine bitscope
//! runs on: [`this_machine`].

use std::path::{Component, Path, PathBuf};

use crate::util::text::escape;

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

/// The SYSTEM hive's `ComputerName` for a collection folder, when it holds a readable one
/// (see [`system_hive`] for where it is looked for).
pub fn computer_name(collection: &Path) -> Option<String> {
    read_name(&system_hive(collection)?).ok()
}

/// The deepest a SYSTEM hive is looked for below a collection's folder: `uploads`, an
/// accessor's folder, a drive's, then `Windows\System32\config\SYSTEM`.
const HIVE_DEPTH: u32 = 3;
/// The entries of one folder looked at while looking for a SYSTEM hive.
const MAX_LISTED: usize = 4096;

/// The SYSTEM hive under a collection's folder `root`: `Windows\System32\config\SYSTEM` in
/// `root` or below folders named as drives (`C`, `C%3A`, `%5C%5C.%5CC%3A`), Velociraptor's
/// `uploads` and its accessors (`auto`, `ntfs`, ...), at most [`HIVE_DEPTH`] folders deep;
/// names compared without case; symlinked folders not followed; the first in name order. A
/// few folders are listed (at most [`MAX_LISTED`] entries each): never a walk of the tree.
pub fn system_hive(root: &Path) -> Option<PathBuf> {
    find_hive(root, HIVE_DEPTH)
}

fn find_hive(dir: &Path, depth: u32) -> Option<PathBuf> {
    let here = folders(dir);
    let hive = here
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("windows"))
        .find_map(|(_, windows)| {
            let system32 = named(&folders(windows), "system32")?;
            let config = named(&folders(&system32), "config")?;
            list(&config).into_iter().find_map(|(name, p, ft)| {
                let file = ft.is_file() || (ft.is_symlink() && regular(&p));
                (name.eq_ignore_ascii_case("system") && file).then_some(p)
            })
        });
    if hive.is_some() || depth == 0 {
        return hive;
    }
    here.iter()
        .filter(|(name, _)| {
            is_drive(name) || name.eq_ignore_ascii_case("uploads") || is_accessor(name)
        })
        .find_map(|(_, p)| find_hive(p, depth.saturating_sub(1)))
}

/// A symlink to a regular file (a FIFO or a device is never opened to look).
fn regular(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file())
}

/// A folder's entries (name, path, type), sorted by name, at most [`MAX_LISTED`].
fn list(dir: &Path) -> Vec<(String, PathBuf, std::fs::FileType)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<_> = rd
        .flatten()
        .take(MAX_LISTED)
        .filter_map(|e| {
            let ft = e.file_type().ok()?;
            Some((e.file_name().to_string_lossy().into_owned(), e.path(), ft))
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// A folder's subfolders (symlinks not followed), as [`list`] gives them.
fn folders(dir: &Path) -> Vec<(String, PathBuf)> {
    list(dir)
        .into_iter()
        .filter(|(_, _, ft)| ft.is_dir())
        .map(|(n, p, _)| (n, p))
        .collect()
}

fn named(folders: &[(String, PathBuf)], name: &str) -> Option<PathBuf> {
    folders
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, p)| p.clone())
}

/// The computer name in the hive file at `path` (mapped, at most the story's
/// [`super::story::MAX_COMPANION`] bytes), or why none.
fn read_name(path: &Path) -> Result<String, String> {
    let ev = crate::input::Evidence::open(path).map_err(|e| e.to_string())?;
    if ev.len() > super::story::MAX_COMPANION {
        return Err(format!("{} bytes: too large for a hive", ev.len()));
    }
    let bytes = ev.map().map_err(|e| e.to_string())?;
    crate::hive::system::computer_name_of(&bytes).map(|n| n.name)
}

/// Whether a companion found in a zip or an image (its chain joined by ` > `, as the sink
/// hears it) is a SYSTEM hive in its place, `Windows\System32\config\SYSTEM` (not a `RegBack`
/// copy, not a deleted file): its computer name names the host.
pub fn is_system_hive_place(label: &str) -> bool {
    let last = label.rsplit(" > ").next().unwrap_or(label);
    let path = match last.rsplit_once(" (MFT entry ") {
        Some((_, rest)) if rest.contains("deleted") => return false,
        Some((path, _)) => path,
        None => last,
    };
    path.replace('/', "\\")
        .to_ascii_lowercase()
        .ends_with("windows\\system32\\config\\system")
}

/// Names the hosts of many inputs, reading each SYSTEM hive once, and says in `warnings`
/// which hive could not name its host (that host is then named from folder or file names).
#[derive(Debug, Default)]
pub struct Namer {
    hives: std::collections::HashMap<PathBuf, Option<String>>,
    pub warnings: Vec<String>,
}

impl Namer {
    /// The host of `input`, found under the path `given` on the command line (see [`host_of`]).
    pub fn host_of(&mut self, given: &Path, input: &Path) -> Host {
        let collection = collection_of(given, input);
        if let Some(name) = self.hive_name(&collection, input) {
            return Host {
                name,
                source: HostSource::SystemHive,
            };
        }
        named_from_layout(&collection, input)
    }

    /// The computer name of the SYSTEM hive under the collection's folder, else under the
    /// volume folder above `ProgramData` in `input`'s path (a store given alone).
    fn hive_name(&mut self, collection: &Path, input: &Path) -> Option<String> {
        let volume = input
            .ancestors()
            .find(|a| {
                a.file_name()
                    .is_some_and(|n| n.eq_ignore_ascii_case("ProgramData"))
            })
            .and_then(Path::parent);
        let roots = [
            Some(collection).filter(|c| c.is_dir()),
            volume.filter(|v| v.is_dir()),
        ];
        let hive = roots.into_iter().flatten().find_map(system_hive)?;
        if let Some(known) = self.hives.get(&hive) {
            return known.clone();
        }
        let name = match read_name(&hive) {
            Ok(n) => Some(n),
            Err(why) => {
                self.warnings.push(format!(
                    "{}: this SYSTEM hive names no computer ({}): the host is named from the collection's folder or file name",
                    escape(&hive.display().to_string()),
                    escape(&why)
                ));
                None
            }
        };
        self.hives.insert(hive, name.clone());
        name
    }
}

/// The host of `input`, found under the path `given` on the command line (the case folder, a
/// collection, or `input` itself). For many inputs, [`Namer`] reads each hive once.
pub fn host_of(given: &Path, input: &Path) -> Host {
    Namer::default().host_of(given, input)
}

/// The host of `input` from names alone: the folder above the volume, else the collection's
/// folder or file name.
fn named_from_layout(collection: &Path, input: &Path) -> Host {
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
fn collection_of(given: &Path, input: &Path) -> PathBuf {
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
    if is_accessor(name) {
        return None;
    }
    Some(name.clone())
}

/// Velociraptor's accessors, whose folders (under `uploads`) hold what each collected, and
/// `uploads` itself.
fn is_accessor(name: &str) -> bool {
    const ACCESSORS: [&str; 7] = [
        "auto",
        "ntfs",
        "file",
        "raw_ntfs",
        "lazy_ntfs",
        "mft",
        "uploads",
    ];
    ACCESSORS.iter().any(|a| a.eq_ignore_ascii_case(name))
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

    #[test]
    fn a_system_hive_names_the_host_only_in_its_place() {
        assert!(is_system_hive_place(
            "zip > uploads/ntfs/%5C%5C.%5CC%3A/Windows/System32/config/SYSTEM"
        ));
        assert!(is_system_hive_place(
            "raw image > NTFS > \\Windows\\System32\\config\\SYSTEM (MFT entry 70)"
        ));
        assert!(!is_system_hive_place(
            "raw image > NTFS > \\Windows\\System32\\config\\SYSTEM (MFT entry 70, deleted)"
        ));
        assert!(!is_system_hive_place(
            "raw image > NTFS > \\Windows\\System32\\config\\RegBack\\SYSTEM (MFT entry 71)"
        ));
        assert!(!is_system_hive_place("zip > Users/x/SYSTEM"));
    }

    #[test]
    fn system_hives_are_found_in_collection_layouts() {
        let root = std::env::temp_dir().join(format!("bitscope-host-{}", std::process::id()));
        let layouts = [
            ("kape", "C/Windows/System32/config/SYSTEM"),
            ("lower", "d/windows/system32/config/system"),
            (
                "velo",
                "uploads/ntfs/%5C%5C.%5CC%3A/Windows/System32/config/SYSTEM",
            ),
            ("auto", "uploads/auto/C%3A/Windows/System32/config/SYSTEM"),
            ("plain", "Windows/System32/config/SYSTEM"),
        ];
        for (tag, rel) in layouts {
            let p = root.join(tag).join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, b"x").unwrap();
            assert_eq!(system_hive(&root.join(tag)), Some(p), "{tag}");
        }
        // Too deep, or under a folder that is no drive or accessor: not looked for.
        for (tag, rel) in [
            ("deep", "a/b/c/d/Windows/System32/config/SYSTEM"),
            ("other", "Users/Windows/System32/config/SYSTEM"),
            ("regback", "C/Windows/System32/config/RegBack/SYSTEM"),
        ] {
            let p = root.join(tag).join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, b"x").unwrap();
            assert_eq!(system_hive(&root.join(tag)), None, "{tag}");
        }
        let _ = std::fs::remove_dir_all(&root);
    }
}
