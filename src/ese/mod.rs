//! A read-only reader for ESE (JET Blue) databases. It knows nothing of BITS.
//!
//! One file per on-disk structure: [`header`] (file header), [`page`] (page header, tags,
//! nodes, free space), [`catalog`] (MSysObjects), [`record`] (fixed/variable/tagged columns),
//! [`compression`], and [`database`] which ties them together with B-tree walks and long values,
//! decoded within the database's [`budget`].
pub mod budget;
pub mod catalog;
pub mod checksum;
pub mod compression;
pub mod database;
pub mod error;
pub mod header;
pub mod page;
pub mod record;
pub mod value;

pub use database::{cell_value, Database, LongValues, Row};
pub use error::EseError;
