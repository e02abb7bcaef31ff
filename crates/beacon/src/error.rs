//! Errors of the Beacon API client.

use std::time::Duration;

/// Why a Beacon API call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The base URL or a path could not be turned into a URL.
    #[error("invalid beacon node url {url:?}: {reason}")]
    InvalidUrl {
        /// The offending URL.
        url: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The node answered 404: the state, block or validator does not exist (or is pruned).
    #[error("{endpoint}: not found (404): {message}")]
    NotFound {
        /// Path requested.
        endpoint: String,
        /// Node's message.
        message: String,
    },
    /// The node answered 400: our request was malformed.
    #[error("{endpoint}: bad request (400): {message}")]
    BadRequest {
        /// Path requested.
        endpoint: String,
        /// Node's message.
        message: String,
    },
    /// The node kept answering with a retryable status (503 syncing, 5xx, 429) until retries ran out.
    #[error("{endpoint}: node unavailable ({status}) after {attempts} attempts: {message}")]
    Unavailable {
        /// Path requested.
        endpoint: String,
        /// Last HTTP status.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// Node's last message.
        message: String,
    },
    /// Another non-success status.
    #[error("{endpoint}: unexpected status {status}: {message}")]
    Status {
        /// Path requested.
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// Node's message.
        message: String,
    },
    /// The request timed out on every attempt.
    #[error("{endpoint}: timed out after {timeout:?} ({attempts} attempts)")]
    Timeout {
        /// Path requested.
        endpoint: String,
        /// Per-attempt timeout.
        timeout: Duration,
        /// Attempts made.
        attempts: u32,
    },
    /// Connection-level failure on every attempt.
    #[error("{endpoint}: transport error after {attempts} attempts: {source}")]
    Transport {
        /// Path requested.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
        /// Underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The response body exceeded the configured cap.
    #[error("{endpoint}: response larger than the {limit}-byte cap")]
    TooLarge {
        /// Path requested.
        endpoint: String,
        /// The cap in bytes.
        limit: u64,
    },
    /// The body is not the JSON we expect.
    #[error("{endpoint}: invalid response: {source}")]
    Decode {
        /// Path requested.
        endpoint: String,
        /// Parse error (names the field and position).
        #[source]
        source: serde_json::Error,
    },
    /// The body parsed but a field has an invalid value.
    #[error("{endpoint}: invalid response: {reason}")]
    Invalid {
        /// Path requested.
        endpoint: String,
        /// What is wrong.
        reason: String,
    },
    /// The streamed body is malformed.
    #[error("{endpoint}: malformed stream: {source}")]
    Stream {
        /// Path requested.
        endpoint: String,
        /// What the scanner found.
        #[source]
        source: crate::stream::StreamError,
    },
    /// The caller's per-item callback failed; the stream was abandoned.
    #[error("{endpoint}: item handler failed: {message}")]
    Handler {
        /// Path requested.
        endpoint: String,
        /// The handler's error, rendered.
        message: String,
    },
}

impl Error {
    /// Whether this is a 404.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// Whether the node refused the request as such (400 or 404): for an epoch-scoped endpoint,
    /// the epoch is not served (not yet computable, or no longer retained). Retrying soon does
    /// not help, unlike [`Self::Unavailable`] or [`Self::Timeout`].
    #[must_use]
    pub fn is_refused(&self) -> bool {
        matches!(self, Self::NotFound { .. } | Self::BadRequest { .. })
    }
}
