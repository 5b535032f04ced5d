//! BITS: the BitsInfo model and the decoders for Win10+ blobs and legacy queues.
pub mod security;
