//! ClayStack REST API, operator feeds, webhooks, metrics and the embedded dashboard.
