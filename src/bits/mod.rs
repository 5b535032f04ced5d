//! BITS: the decoders for Win10+ job and file blobs (`Jobs.Blob`, `Files.Blob` of qmgr.db) and for
//! the legacy queue files (qmgr0.dat / qmgr1.dat).
//!
//! Every decoder takes a plain byte slice, never panics on hostile bytes, reads fields in order
//! from a marker, and keeps for each field its byte range so a hex view can annotate it. A blob cut
//! short still decodes as far as its bytes go: the record says where and why it stopped
//! (`stopped`), and whether its closing marker was found (`closed`).
pub mod dpapi;
pub mod file;
pub mod job;
pub mod legacy;
mod tail;

pub use job::DecodeError;
pub mod carve;
pub mod decoded;
pub mod events;
pub mod fields;
pub mod model;
pub mod qmgr;
pub mod reader;
pub mod story;
pub mod triage;
pub mod tuning;
pub mod updaters;
