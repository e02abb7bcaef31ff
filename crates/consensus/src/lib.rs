//! Consensus-layer primitives shared by the off-chain parts: unit newtypes, SSZ merkleization, domains and signing roots.
