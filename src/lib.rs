//! bitscope: read Windows BITS queue databases (qmgr.db as ESE, legacy qmgr0/1.dat).
//!
//! Data flows one way: bytes → readers ([`ese`], [`bits`]) → records with provenance → output.
#![forbid(unsafe_code)]

pub mod bits;
pub mod ese;
pub mod gen;
pub mod input;
pub mod output;
pub mod tui;
pub mod util;
