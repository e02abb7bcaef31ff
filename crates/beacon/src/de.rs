//! Allocation-free deserializers for the hot fields of validator records: decimal-string (or
//! number) integers and fixed-length `0x`-hex. They accept exactly what
//! `claystack_consensus::hexutil` accepts and report the same messages, without the buffering of
//! an untagged enum — this is what keeps a million-validator response within the time budget.

use claystack_consensus::units::{Epoch, Gwei, ValidatorIndex};
use serde::Deserializer;
use serde::de::{Error, Visitor};
use std::fmt;

struct U64Visitor;

impl Visitor<'_> for U64Visitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal unsigned integer (string or number)")
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_str<E: Error>(self, s: &str) -> Result<u64, E> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::custom(format!("expected a decimal unsigned integer, got {s:?}")));
        }
        s.parse::<u64>().map_err(|e| E::custom(format!("integer {s:?} out of range: {e}")))
    }
}

/// A u64 as a decimal string or a JSON number.
pub fn u64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(U64Visitor)
}

/// [`Gwei`] as a decimal string or number.
pub fn gwei<'de, D: Deserializer<'de>>(d: D) -> Result<Gwei, D::Error> {
    u64_lenient(d).map(Gwei)
}

/// [`Epoch`] as a decimal string or number.
pub fn epoch<'de, D: Deserializer<'de>>(d: D) -> Result<Epoch, D::Error> {
    u64_lenient(d).map(Epoch)
}

/// [`ValidatorIndex`] as a decimal string or number.
pub fn index<'de, D: Deserializer<'de>>(d: D) -> Result<ValidatorIndex, D::Error> {
    u64_lenient(d).map(ValidatorIndex)
}

struct FixedHex<const N: usize>;

impl<const N: usize> Visitor<'_> for FixedHex<N> {
    type Value = [u8; N];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x-prefixed hex of {N} bytes")
    }

    fn visit_str<E: Error>(self, s: &str) -> Result<[u8; N], E> {
        let h = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
        let mut out = [0u8; N];
        if h.len() != N.saturating_mul(2) {
            if h.len() % 2 == 1 {
                return Err(E::custom("invalid hex: Odd number of digits"));
            }
            return Err(E::custom(format!("expected {N} bytes, got {}", h.len() / 2)));
        }
        hex::decode_to_slice(h, &mut out).map_err(|e| E::custom(format!("invalid hex: {e}")))?;
        Ok(out)
    }
}

/// `[u8; N]` from `0x`-hex, without an intermediate allocation.
pub fn fixed<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
    d.deserialize_str(FixedHex::<N>)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct T {
        #[serde(deserialize_with = "gwei")]
        g: Gwei,
        #[serde(deserialize_with = "fixed")]
        k: [u8; 2],
    }

    #[test]
    fn accepts_strings_and_numbers_rejects_junk() {
        let t: T = serde_json::from_str(r#"{"g":"12","k":"0xabcd"}"#).unwrap();
        assert_eq!((t.g, t.k), (Gwei(12), [0xab, 0xcd]));
        let t: T = serde_json::from_str(r#"{"g":12,"k":"abcd"}"#).unwrap();
        assert_eq!(t.g, Gwei(12));
        for bad in [
            r#"{"g":"-1","k":"0xabcd"}"#,
            r#"{"g":"18446744073709551616","k":"0xabcd"}"#,
            r#"{"g":"1.5","k":"0xabcd"}"#,
            r#"{"g":-1,"k":"0xabcd"}"#,
            r#"{"g":"1","k":"0xabc"}"#,
            r#"{"g":"1","k":"0xzzzz"}"#,
            r#"{"g":"1","k":"0xab"}"#,
            r#"{"g":"","k":"0xabcd"}"#,
        ] {
            assert!(serde_json::from_str::<T>(bad).is_err(), "{bad}");
        }
        let e = serde_json::from_str::<T>(r#"{"g":"1","k":"0xab"}"#).unwrap_err();
        assert!(e.to_string().contains("expected 2 bytes, got 1"), "{e}");
    }
}
