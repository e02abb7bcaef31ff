//! Serde helpers for the encodings the Beacon API and the deposit CLI use: `0x`-prefixed hex for
//! bytes, decimal strings for integers. Use with `#[serde(with = "...")]`.

use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

/// Why a hex string could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HexError {
    /// Not valid hexadecimal.
    #[error("invalid hex: {0}")]
    Invalid(#[from] hex::FromHexError),
    /// Valid hex of the wrong length.
    #[error("expected {expected} bytes, got {got}")]
    Length {
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        got: usize,
    },
}

/// Decodes hex with or without a `0x` prefix.
pub fn decode(s: &str) -> Result<Vec<u8>, HexError> {
    let s = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    Ok(hex::decode(s)?)
}

/// Decodes hex (with or without `0x`) into exactly `N` bytes.
pub fn decode_fixed<const N: usize>(s: &str) -> Result<[u8; N], HexError> {
    let v = decode(s)?;
    let got = v.len();
    <[u8; N]>::try_from(v).map_err(|_| HexError::Length { expected: N, got })
}

/// Encodes bytes as `0x`-prefixed lowercase hex.
#[must_use]
pub fn encode_prefixed(bytes: impl AsRef<[u8]>) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Accepts a u64 written as a decimal string (the Beacon API's form) or as a JSON number.
pub fn deserialize_u64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StrOrNum<'a> {
        Str(&'a str),
        String(String),
        Num(u64),
    }
    match StrOrNum::deserialize(d)? {
        StrOrNum::Str(s) => parse_u64(s).map_err(D::Error::custom),
        StrOrNum::String(s) => parse_u64(&s).map_err(D::Error::custom),
        StrOrNum::Num(n) => Ok(n),
    }
}

fn parse_u64(s: &str) -> Result<u64, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("expected a decimal unsigned integer, got {s:?}"));
    }
    s.parse::<u64>().map_err(|e| format!("integer {s:?} out of range: {e}"))
}

/// `#[serde(with = "claystack_consensus::hexutil::fixed")]` for `[u8; N]` as `0x…` hex.
pub mod fixed {
    use super::*;

    /// Serializes `[u8; N]` as `0x`-prefixed hex.
    pub fn serialize<S: Serializer, const N: usize>(v: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode_prefixed(v))
    }

    /// Deserializes `0x`-prefixed (or bare) hex of exactly `N` bytes.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        decode_fixed::<N>(&s).map_err(D::Error::custom)
    }
}

/// `#[serde(with = "claystack_consensus::hexutil::bytes")]` for `Vec<u8>` as `0x…` hex.
pub mod bytes {
    use super::*;

    /// Serializes bytes as `0x`-prefixed hex.
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode_prefixed(v))
    }

    /// Deserializes `0x`-prefixed (or bare) hex of any length.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        decode(&s).map_err(D::Error::custom)
    }
}

/// `#[serde(with = "claystack_consensus::hexutil::u64_string")]` for a `u64` as a decimal string.
pub mod u64_string {
    use super::*;

    /// Serializes as a decimal string.
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    /// Deserializes a decimal string or a JSON number.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        deserialize_u64_lenient(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct T {
        #[serde(with = "fixed")]
        root: [u8; 4],
        #[serde(with = "bytes")]
        data: Vec<u8>,
    }

    #[test]
    fn round_trips_and_rejects_bad_lengths() {
        let t = T { root: [0xde, 0xad, 0xbe, 0xef], data: vec![1, 2] };
        let s = serde_json::to_string(&t).unwrap();
        assert_eq!(s, r#"{"root":"0xdeadbeef","data":"0x0102"}"#);
        assert_eq!(serde_json::from_str::<T>(&s).unwrap(), t);
        let err = serde_json::from_str::<T>(r#"{"root":"0xdead","data":"0x"}"#).unwrap_err();
        assert!(err.to_string().contains("expected 4 bytes, got 2"), "{err}");
        assert!(serde_json::from_str::<T>(r#"{"root":"0xzzzzzzzz","data":"0x"}"#).is_err());
    }

    #[test]
    fn decode_accepts_both_prefix_forms() {
        assert_eq!(decode("0xff").unwrap(), vec![0xff]);
        assert_eq!(decode("ff").unwrap(), vec![0xff]);
        assert_eq!(decode_fixed::<1>("0Xff").unwrap(), [0xff]);
    }
}
