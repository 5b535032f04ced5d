//! Writers: ESE reports, BitsInfo as json/jsonl/csv.
pub mod ese;
