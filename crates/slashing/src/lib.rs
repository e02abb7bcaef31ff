//! EIP-3076 slashing protection database (SQLite) with interchange import and export.
