//! Errors of the report computation.

/// Why a report could not be computed. A report that the contracts would reject is an error here
/// too: a member never signs a report that cannot pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComputeError {
    /// Checked arithmetic failed (overflow, underflow, division by zero).
    #[error("compute the report: arithmetic error ({0})")]
    Arithmetic(&'static str),
    /// The input is inconsistent (names what).
    #[error("check the report input: {0}")]
    InvalidInput(String),
    /// A sanity bound of the `SanityChecker` would reject the report.
    #[error("check sanity bound {bound}: {value} exceeds {limit}")]
    SanityBound {
        /// The bound, named like the contract's error.
        bound: &'static str,
        /// The value the report would carry.
        value: String,
        /// The limit.
        limit: String,
    },
    /// A list of the operators report is longer than its hard cap and cannot be truncated
    /// without losing data.
    #[error("build the operators report: {list} has {len} entries, the cap is {cap}")]
    ListTooLong {
        /// Which list.
        list: &'static str,
        /// Its length.
        len: usize,
        /// The cap.
        cap: usize,
    },
    /// The exit selection of the balancer refused its input.
    #[error("select exits: {0}")]
    Allocation(#[from] claystack_balancer::AllocationError),
}
