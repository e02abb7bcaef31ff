//! EIP-2334 key paths: `m/12381/3600/<i>/0/0` (signing) and `m/12381/3600/<i>/0` (withdrawal).

use std::fmt;
use std::str::FromStr;

/// EIP-2334 `purpose` (the BLS12-381 curve).
pub const PURPOSE: u32 = 12381;
/// EIP-2334 `coin_type` for Ethereum.
pub const COIN_TYPE: u32 = 3600;

/// Why a key path could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path does not start with `m`.
    #[error("key path must start with \"m\"")]
    MissingRoot,
    /// A component is not a decimal u32.
    #[error("key path component {position} is not an index below 2^32")]
    BadComponent {
        /// 1-based position of the component after `m`.
        position: usize,
    },
}

/// A parsed derivation path: the child indices below the master key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyPath(Vec<u32>);

impl KeyPath {
    /// `m/12381/3600/<index>/0/0`: the signing key of validator `index`.
    #[must_use]
    pub fn signing(index: u32) -> Self {
        Self(vec![PURPOSE, COIN_TYPE, index, 0, 0])
    }

    /// `m/12381/3600/<index>/0`: the withdrawal key of validator `index`.
    #[must_use]
    pub fn withdrawal(index: u32) -> Self {
        Self(vec![PURPOSE, COIN_TYPE, index, 0])
    }

    /// A path from its child indices.
    #[must_use]
    pub fn from_indices(indices: Vec<u32>) -> Self {
        Self(indices)
    }

    /// The child indices below `m`.
    #[must_use]
    pub fn indices(&self) -> &[u32] {
        &self.0
    }

    /// The path with `_` for `/`, as the deposit CLI names keystore files (`m_12381_3600_0_0_0`).
    #[must_use]
    pub fn file_stem(&self) -> String {
        self.to_string().replace('/', "_")
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("m")?;
        for i in &self.0 {
            write!(f, "/{i}")?;
        }
        Ok(())
    }
}

impl FromStr for KeyPath {
    type Err = PathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.trim().split('/');
        if parts.next() != Some("m") {
            return Err(PathError::MissingRoot);
        }
        parts
            .enumerate()
            .map(|(i, p)| {
                let position = i.saturating_add(1);
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(PathError::BadComponent { position });
                }
                p.parse::<u32>().map_err(|_| PathError::BadComponent { position })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eip2334_paths_format_and_parse() {
        assert_eq!(KeyPath::signing(7).to_string(), "m/12381/3600/7/0/0");
        assert_eq!(KeyPath::withdrawal(7).to_string(), "m/12381/3600/7/0");
        assert_eq!(KeyPath::signing(0).file_stem(), "m_12381_3600_0_0_0");
        assert_eq!("m/12381/3600/7/0/0".parse::<KeyPath>().unwrap(), KeyPath::signing(7));
        assert_eq!("m".parse::<KeyPath>().unwrap().indices(), &[] as &[u32]);
        assert_eq!("x/1".parse::<KeyPath>(), Err(PathError::MissingRoot));
        assert_eq!("m/1/-2".parse::<KeyPath>(), Err(PathError::BadComponent { position: 2 }));
        assert_eq!("m/4294967296".parse::<KeyPath>(), Err(PathError::BadComponent { position: 1 }));
        assert_eq!("m//1".parse::<KeyPath>(), Err(PathError::BadComponent { position: 1 }));
    }
}
