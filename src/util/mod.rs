//! Small shared helpers: bounds-checked byte reads, UTF-16, GUIDs and timestamps.
pub mod bytes;
pub mod guid;
pub mod time;
pub mod utf16;
