//! The algorithmic network balancing (deposit allocation, exit selection) and performance scoring,
//! mirrored from the Allocator contract.
