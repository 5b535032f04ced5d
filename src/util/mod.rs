//! Small shared helpers: bounds-checked byte reads, UTF-16, GUIDs, timestamps, diagnostics, and the escaping
//! of untrusted text for a terminal.
pub mod bytes;
pub mod checksum;
pub mod cleanup;
pub mod diag;
pub mod guid;
pub mod punycode;
pub mod rng;
pub mod text;
pub mod time;
pub mod utf16;
