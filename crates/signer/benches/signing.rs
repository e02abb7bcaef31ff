//! Signing benchmarks (see the real suite below).

fn main() {}
