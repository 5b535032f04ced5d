//! A case of many hosts: each host's collection is a zip of a KAPE tree
//! (`HOST/C/ProgramData/Microsoft/Network/Downloader/qmgr.db`, stored, not deflated) holding a
//! small generated qmgr.db of its own (a few live jobs, a deleted one). For the fleet
//! benchmark and the case-folder tests.

use std::path::{Path, PathBuf};

use super::{generate, EseOptions, GenError};

/// The KAPE target's path of the queue inside a collection (`/`-separated, as zips hold it).
pub const KAPE_QMGR: &str = "C/ProgramData/Microsoft/Network/Downloader/qmgr.db";

/// The name of host `n` of a fleet.
pub fn host_name(n: usize) -> String {
    format!("WKS-{n:04}")
}

/// A zip archive of `files` (name, bytes), entries stored: local headers, data, the central
/// directory and its end record. For small generated collections (every size below 4 GiB).
pub fn zip_stored(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, GenError> {
    let small = |n: usize| u32::try_from(n).map_err(|_| GenError::Invalid("zip over 4 GiB".into()));
    let mut out = Vec::new();
    let mut dir = Vec::new();
    for (name, data) in files {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let local = small(out.len())?;
        let size = small(data.len())?;
        let name_len =
            u16::try_from(name.len()).map_err(|_| GenError::Invalid("long name".into()))?;
        let header = |sig: &[u8], central: bool| {
            let mut h = sig.to_vec();
            if central {
                h.extend_from_slice(&20u16.to_le_bytes()); // made by
            }
            h.extend_from_slice(&20u16.to_le_bytes()); // needed to extract
            h.extend_from_slice(&0u16.to_le_bytes()); // flags
            h.extend_from_slice(&0u16.to_le_bytes()); // stored
            h.extend_from_slice(&[0; 4]); // time, date
            h.extend_from_slice(&crc.sum().to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&name_len.to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // extra
            if central {
                h.extend_from_slice(&[0; 10]); // comment, disk, attributes
                h.extend_from_slice(&local.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend(header(b"PK\x03\x04", false));
        out.extend_from_slice(data);
        dir.extend(header(b"PK\x01\x02", true));
    }
    let entries = u16::try_from(files.len()).map_err(|_| GenError::Invalid("entries".into()))?;
    let at = small(out.len())?;
    let dir_len = small(dir.len())?;
    out.extend_from_slice(&dir);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&entries.to_le_bytes());
    out.extend_from_slice(&entries.to_le_bytes());
    out.extend_from_slice(&dir_len.to_le_bytes());
    out.extend_from_slice(&at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    Ok(out)
}

/// Write `hosts` collections into `dir` (which must exist): `WKS-0000.zip`, ... each a zip of
/// its KAPE tree with a qmgr.db of `jobs` live jobs and one deleted job, seeded by the host's
/// number. Returns the zips' paths.
pub fn write_fleet(dir: &Path, hosts: usize, jobs: usize) -> Result<Vec<PathBuf>, GenError> {
    let mut out = Vec::with_capacity(hosts);
    for n in 0..hosts {
        let db = generate(&EseOptions {
            jobs,
            files_per_job: 1,
            deleted: 2,
            seed: 1000 + n as u64,
            ..EseOptions::default()
        })?;
        let name = host_name(n);
        let zip = zip_stored(&[(format!("{name}/{KAPE_QMGR}"), db.bytes)])?;
        let path = dir.join(format!("{name}.zip"));
        std::fs::write(&path, zip).map_err(super::io_err(&path))?;
        out.push(path);
    }
    Ok(out)
}
