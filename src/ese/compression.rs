//! Placeholder: replaced by the full decompressor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    None,
    SevenBitAscii,
    SevenBitUnicode,
    Xpress,
    Scrub,
    Xpress9,
    Xpress10,
    Lz4,
    Unknown(u8),
}
#[derive(Debug, thiserror::Error)]
pub enum CompressionError {
    #[error("unsupported compression scheme {0:?}")]
    Unsupported(Scheme),
}
pub fn scheme(_buf: &[u8]) -> Scheme {
    Scheme::None
}
pub fn decompress(buf: &[u8], _max_out: usize) -> Result<Vec<u8>, CompressionError> {
    Err(CompressionError::Unsupported(scheme(buf)))
}
