//! Typed, streaming client of the standard Ethereum Beacon API.
