//! Windows security: security identifiers (SIDs), access control entries, self-relative
//! security descriptors and their SDDL form, decoded from untrusted bytes. Windows structures,
//! not BITS ones (MS-DTYP §2.4): the BITS decoders, the account lookups and the explorer use them.
//!
//! Every read is bounds-checked: a short or hostile buffer yields `None`, an [`SdError`], or a
//! warning on the descriptor (for a damaged ACE), never a panic. Each layout is documented
//! once, with offsets, where it is parsed.
pub mod ace;
pub mod descriptor;
pub mod sddl;
pub mod sid;

pub use ace::{access_right_names, AccessControl, SYSTEM_MANDATORY_LABEL_ACE_TYPE};
pub use descriptor::{
    find_security_descriptor, parse_security_descriptor, SdError, SecurityDescriptor,
};
pub use sid::{parse_sid, sddl_alias, well_known_name, Sid, SID_MAX_SUB_AUTHORITIES};

#[cfg(test)]
mod tests;
