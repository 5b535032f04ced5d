//! SHA-256 of a byte string, as lowercase hex (the truth file's blob hashes).

use sha2::{Digest, Sha256};

pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::util::bytes::hex(&Sha256::digest(bytes))
}
