//! Writers: ESE reports and BitsInfo as json/jsonl/csv/timeline, written atomically. They
//! know records, not where records come from (the pipeline feeds them).
pub mod atomic;
pub mod bits;
pub mod ese;
pub mod stdout;
pub mod timeline;

pub use atomic::{write_file_atomic, AtomicFile, Protected};
