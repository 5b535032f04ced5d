//! Small shared helpers: bounds-checked byte reads, UTF-16, GUIDs, timestamps, diagnostics, and the escaping
//! of untrusted text for a terminal.
// Code that reads evidence: no panicking index, unchecked arithmetic or unwrap (tests aside).
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unwrap_used,
        clippy::expect_used
    )
)]
pub mod bytes;
pub mod checksum;
pub mod cleanup;
pub mod diag;
pub mod guid;
pub mod rng;
pub mod text;
pub mod time;
pub mod utf16;
