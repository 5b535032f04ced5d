//! bitscope: read Windows BITS queue databases (qmgr.db as ESE, legacy qmgr0/1.dat).
//!
//! Data flows one way: evidence ([`input`]) → containers ([`container`]) → readers ([`ese`])
//! → decoders ([`bits`]) → records with provenance, driven by the [`pipeline`] → sinks
//! ([`output`]'s writers, [`collect`], the explorer).
//!
//! Features: `cli` (clap, for the binaries), `tui` (the explorer), `gen` (the test-data
//! generator); all on by default. With `default-features = false` the library is the readers,
//! decoders, carver, pipeline and writers alone.
// `unsafe` only in `input.rs`: the read-only memory map of evidence and the release of its pages.
#![deny(unsafe_code)]

pub mod bits;
pub mod collect;
#[cfg(feature = "images")]
pub mod container;
pub mod ese;
pub mod evtx;
#[cfg(feature = "gen")]
pub mod gen;
pub mod hive;
pub mod input;
pub mod output;
pub mod pipeline;
#[cfg(feature = "tui")]
pub mod tui;
pub mod util;
