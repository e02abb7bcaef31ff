//! The member daemon (see the crate docs).
