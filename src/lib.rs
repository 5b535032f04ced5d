//! bitscope: every BITS job a Windows machine queued, from its queue files (qmgr.db as ESE,
//! legacy qmgr0/1.dat), from collections of them, and from disk images, deleted ones included,
//! each record traced to the bytes it came from.
//!
//! The library's surface is small: a [`Parser`] names the evidence, [`Parser::records`]
//! iterates its [`BitsInfo`] records (each with its [`Source`] provenance), and
//! [`Records::diagnostics`] says what was wrong with the evidence, each [`Diagnostic`] with its
//! place.
//!
//! ```no_run
//! for record in bitscope::Parser::new("qmgr.db").carve(true).records() {
//!     match record {
//!         Ok(r) => println!("{} {} {}", r.job_name, r.url, r.job_command),
//!         Err(e) => eprintln!("{e}"),
//!     }
//! }
//! ```
//!
//! Inside, data flows one way: evidence (`input`) → containers (`container`) → readers
//! (`ese`) → decoders (`bits`, `winsec`) → records with provenance, driven by the `pipeline`
//! → sinks (`output`'s writers, `collect`, the explorer in `tui`). Those modules are public
//! for the project's own binaries, tests, benchmarks and fuzz targets, not as an interface:
//! they are hidden from the documentation and may change without notice.
//!
//! Features: `cli` (clap, for the binaries), `tui` (the explorer), `gen` (the test-data
//! generator), `images` (disk images and archives); all on by default. With
//! `default-features = false` the library is the readers, decoders, carver, pipeline and
//! writers alone.
// `unsafe` only in `input.rs` (the read-only memory map of evidence, the release of its pages,
// the SIGBUS guard over it), `util/cleanup.rs` (removing temporary outputs on a signal) and
// `output/stdout.rs` (reading stdout's flags).
#![deny(unsafe_code)]
#![warn(missing_docs)]
// Code that reads evidence: no panicking index, unchecked arithmetic or unwrap (tests aside).
// Denied for the whole library, so a new reader is held to it from its first line; the few
// proven exceptions say why where they are allowed. The front ends, which read no evidence
// bytes (the explorer, the generator, the writers, the collection's configuration, the
// library's Parser), are let off on their `mod` lines below.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unwrap_used,
        clippy::expect_used
    )
)]

#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a front end: reads no evidence bytes"
)]
mod parser;

pub use bits::model::{BitsInfo, FieldRange, Source, SourceKind};
pub use parser::{Error, Parser, Records};
pub use util::diag::Diagnostic;

#[doc(hidden)]
pub mod bits;
#[doc(hidden)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a front end: reads no evidence bytes"
)]
pub mod collect;
#[cfg(feature = "images")]
#[doc(hidden)]
pub mod container;
#[doc(hidden)]
pub mod ese;
#[doc(hidden)]
pub mod evtx;
#[cfg(feature = "gen")]
#[doc(hidden)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a front end: reads no evidence bytes"
)]
pub mod gen;
#[doc(hidden)]
pub mod hive;
#[doc(hidden)]
pub mod input;
#[doc(hidden)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a front end: reads no evidence bytes"
)]
pub mod output;
#[doc(hidden)]
pub mod pipeline;
#[cfg(feature = "tui")]
#[doc(hidden)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a front end: reads no evidence bytes"
)]
pub mod tui;
#[doc(hidden)]
pub mod util;
#[doc(hidden)]
pub mod winsec;

/// The README's code, compiled and run as doctests (from the crate root).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
