//! Writers: ESE reports, BitsInfo as json/jsonl/csv/timeline, written atomically, and the
//! TOML collection.
pub mod atomic;
pub mod bits;
pub mod collect;
pub mod ese;
pub mod sink;
pub mod timeline;

pub use atomic::{write_file_atomic, AtomicFile, Protected};
