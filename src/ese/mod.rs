//! A read-only reader for ESE (JET Blue) databases. It knows nothing of BITS.
