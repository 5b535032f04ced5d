//! Where standard output goes, checked before anything is written to it: never into evidence
//! (`bitscope parse in.db >> in.db`, `1<> in.db`), and never nowhere (a closed stdout).
//!
//! A closed stdout cannot be seen directly: Rust's runtime opens `/dev/null` read-write on a
//! standard descriptor found closed at start, so writes would vanish and the run would "succeed".
//! A shell redirect to `/dev/null` opens it write-only; read-write `/dev/null` on descriptor 1
//! is taken to be that replacement (or `1<>/dev/null`, which means the same: nowhere).

use super::Protected;

/// Why records must not be written to stdout, if they must not.
pub fn refusal(protected: &Protected) -> Option<String> {
    if closed() {
        return Some(
            "stdout is closed: records would go nowhere (write them with -o FILE, or give the command a stdout)"
                .into(),
        );
    }
    if holds_evidence(protected) {
        return Some(
            "stdout is one of the evidence files: writing would change it; refused (write with -o FILE elsewhere)"
                .into(),
        );
    }
    None
}

#[cfg(unix)]
fn holds_evidence(protected: &Protected) -> bool {
    protected.holds(&std::io::stdout())
}

#[cfg(not(unix))]
fn holds_evidence(_: &Protected) -> bool {
    false
}

/// Whether descriptor 1 is `/dev/null` opened read-write (see the module documentation).
#[cfg(unix)]
fn closed() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() else {
        return true;
    };
    let Ok(m) = std::fs::File::from(fd).metadata() else {
        return true;
    };
    let null = std::fs::metadata("/dev/null").map(|n| n.rdev());
    if !m.file_type().is_char_device() || null.ok() != Some(m.rdev()) {
        return false;
    }
    access_mode_is_read_write()
}

#[cfg(unix)]
#[allow(unsafe_code)]
fn access_mode_is_read_write() -> bool {
    // SAFETY: F_GETFL on descriptor 1 reads its flags; it changes nothing.
    let flags = unsafe { libc::fcntl(1, libc::F_GETFL) };
    flags >= 0 && flags & libc::O_ACCMODE == libc::O_RDWR
}

#[cfg(not(unix))]
fn closed() -> bool {
    false
}
