//! The clear header of a DPAPI blob (`CryptProtectData` output), as BITS stores a job's custom
//! HTTP headers (`IBackgroundCopyJobHttpOptions::SetCustomHeaders`): who can decrypt it and how,
//! never the protected data. The layout is Microsoft's public one (as read by dpapick,
//! mimikatz, impacket):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | version (1) |
//! | 4 | 16 | provider GUID `df9d8cd0-1501-11d1-8c7a-00c04fc297eb` |
//! | 20 | 4 | master key version |
//! | 24 | 16 | master key GUID (names the key file under `Protect\S-1-5-18\…`) |
//! | 40 | 4 | flags |
//! | 44 | 4+n | description, n bytes of UTF-16 (`BITS Job Custom headers`) |
//! | … | 4+4 | encryption algorithm (ALG_ID) and key length in bits |
//! | … | 4+n | salt |
//! | … | 4+n | HMAC key |
//! | … | 4+4 | hash algorithm (ALG_ID) and length in bits |
//! | … | 4+n | HMAC |
//! | … | 4+n | encrypted data |
//! | … | 4+n | signature |
//!
//! Sampled: the Win10 and Win11 databases hold 38 copies of such blobs (description "BITS Job Custom
//! headers", AES-256 and SHA-512); a Win10 one holds 112 encrypted bytes after a plain size of
//! 104, the AES block padding of 104.

use crate::bits::reader::{DecodeError, Reader};
use crate::util::guid::Guid;
use crate::util::utf16::decode_utf16le;

/// The DPAPI provider GUID every blob carries.
pub const PROVIDER: [u8; 16] = [
    0xD0, 0x8C, 0x9D, 0xDF, 0x01, 0x15, 0xD1, 0x11, 0x8C, 0x7A, 0x00, 0xC0, 0x4F, 0xC2, 0x97, 0xEB,
];
/// Longest description, salt or key accepted (the blob's own length bounds them too).
const MAX_PART: u32 = 64 * 1024;

/// What a DPAPI blob says of itself in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpapiHeader {
    pub master_key: Guid,
    pub description: String,
    pub crypt_alg: u32,
    pub crypt_bits: u32,
    pub hash_alg: u32,
    pub data_len: u32,
}

impl DpapiHeader {
    /// One line for an analyst: description, master key, algorithms, encrypted size.
    pub fn summary(&self) -> String {
        format!(
            "DPAPI-protected: \"{}\", master key {}, {} / {}, {} bytes encrypted",
            self.description.trim_end_matches('\0'),
            self.master_key,
            alg_name(self.crypt_alg, self.crypt_bits),
            alg_name(self.hash_alg, 0),
            self.data_len
        )
    }
}

/// The header of the DPAPI blob `b`, read as far as the encrypted data's length.
pub fn parse_header(b: &[u8]) -> Result<DpapiHeader, DecodeError> {
    let mut r = Reader::new(b, 0);
    r.u32("DPAPI version")?;
    let provider_at = r.pos();
    if r.array::<16>("DPAPI provider")? != PROVIDER {
        return Err(DecodeError::BadMarker {
            what: "DPAPI provider GUID",
            offset: provider_at,
        });
    }
    r.u32("master key version")?;
    let master_key = Guid(r.array("master key GUID")?);
    r.u32("DPAPI flags")?;
    let description = decode_utf16le(part(&mut r, "description")?);
    let crypt_alg = r.u32("encryption algorithm")?;
    let crypt_bits = r.u32("encryption key length")?;
    part(&mut r, "salt")?;
    part(&mut r, "HMAC key")?;
    let hash_alg = r.u32("hash algorithm")?;
    r.u32("hash length")?;
    part(&mut r, "HMAC")?;
    let at = r.pos();
    let data_len = r.u32("encrypted data length")?;
    r.check_count("encrypted data length", at, data_len, u32::MAX, 1)?;
    Ok(DpapiHeader {
        master_key,
        description,
        crypt_alg,
        crypt_bits,
        hash_alg,
        data_len,
    })
}

/// A u32 byte count and that many bytes.
fn part<'a>(r: &mut Reader<'a>, what: &'static str) -> Result<&'a [u8], DecodeError> {
    let at = r.pos();
    let n = r.u32(what)?;
    r.check_count(what, at, n, MAX_PART, 1)?;
    r.take(what, n as usize)
}

/// CryptoAPI ALG_ID names for the algorithms DPAPI uses.
fn alg_name(alg: u32, bits: u32) -> String {
    let name = match alg {
        0x6603 => "3DES",
        0x660e => "AES-128",
        0x660f => "AES-192",
        0x6610 => "AES-256",
        0x8004 => "SHA-1",
        0x8009 => "HMAC",
        0x800c => "SHA-256",
        0x800d => "SHA-384",
        0x800e => "SHA-512",
        _ => {
            return format!(
                "ALG_ID {alg:#x}{}",
                if bits > 0 {
                    format!(" ({bits} bits)")
                } else {
                    String::new()
                }
            )
        }
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A blob laid out as the sampled ones (the bytes after the header are not needed).
    pub(crate) fn blob(description: &str, data_len: u32) -> Vec<u8> {
        let mut b = 1u32.to_le_bytes().to_vec();
        b.extend_from_slice(&PROVIDER);
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&[0x11; 16]);
        b.extend_from_slice(&0u32.to_le_bytes());
        let d: Vec<u8> = description
            .encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect();
        b.extend_from_slice(&(d.len() as u32).to_le_bytes());
        b.extend_from_slice(&d);
        for w in [0x6610u32, 256, 32] {
            b.extend_from_slice(&w.to_le_bytes());
        }
        b.extend_from_slice(&[0x22; 32]);
        b.extend_from_slice(&0u32.to_le_bytes());
        for w in [0x800eu32, 512, 64] {
            b.extend_from_slice(&w.to_le_bytes());
        }
        b.extend_from_slice(&[0x33; 64]);
        b.extend_from_slice(&data_len.to_le_bytes());
        b.extend(std::iter::repeat_n(0x44, data_len as usize));
        b.extend_from_slice(&64u32.to_le_bytes());
        b.extend_from_slice(&[0x55; 64]);
        b
    }

    #[test]
    fn header_of_a_blob_and_what_is_not_one() {
        let h = parse_header(&blob("BITS Job Custom headers", 112)).expect("parses");
        assert_eq!(
            h.summary(),
            "DPAPI-protected: \"BITS Job Custom headers\", master key 11111111-1111-1111-1111-111111111111, AES-256 / SHA-512, 112 bytes encrypted"
        );
        assert!(parse_header(&[0; 64]).is_err());
        let b = blob("x", 16);
        for n in 0..b.len() - 84 {
            // Cut anywhere before the data: an error, never a panic.
            assert!(parse_header(&b[..n]).is_err(), "cut at {n}");
        }
    }
}
