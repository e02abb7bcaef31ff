//! JSON errors: `{"error": "<code>", "message": "<what was wrong>"}` with the matching status.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};

/// An API error.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed (bad address, bad limit, bad cursor …).
    #[error("{0}")]
    BadRequest(String),
    /// The resource does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] claystack_indexer::StoreError),
    /// Something else failed on our side.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<claystack_indexer::DbError> for ApiError {
    fn from(e: claystack_indexer::DbError) -> Self {
        Self::Store(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Store(_) | Self::Internal(_) => {
                tracing::error!(target: "api", error = %self, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        let body = serde_json::json!({ "error": code, "message": self.to_string() });
        (status, Json(body)).into_response()
    }
}
