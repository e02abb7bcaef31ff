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

struct I64Visitor;

impl Visitor<'_> for I64Visitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal signed integer (string or number)")
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("integer {v} out of range")))
    }

    fn visit_str<E: Error>(self, s: &str) -> Result<i64, E> {
        let digits = s.strip_prefix('-').unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::custom(format!("expected a decimal signed integer, got {s:?}")));
        }
        s.parse::<i64>().map_err(|e| E::custom(format!("integer {s:?} out of range: {e}")))
    }
}

/// An i64 as a decimal string (an optional leading `-`) or a JSON number: reward and penalty
/// amounts in gwei, which the Beacon API writes as signed decimal strings.
pub fn i64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(I64Visitor)
}

/// An optional i64 as [`i64_lenient`] (absent or `null`: `None`).
pub fn opt_i64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct Opt;
    impl<'de> Visitor<'de> for Opt {
        type Value = Option<i64>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("null or a decimal signed integer")
        }

        fn visit_none<E: Error>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }

        fn visit_unit<E: Error>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }

        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Option<i64>, D2::Error> {
            i64_lenient(d).map(Some)
        }
    }
    d.deserialize_option(Opt)
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

    #[derive(serde::Deserialize, Debug)]
    struct S {
        #[serde(deserialize_with = "i64_lenient")]
        v: i64,
        #[serde(default, deserialize_with = "opt_i64_lenient")]
        o: Option<i64>,
    }

    #[test]
    fn signed_integers_from_strings_and_numbers() {
        let s: S = serde_json::from_str(r#"{"v":"-2000","o":"7"}"#).unwrap();
        assert_eq!((s.v, s.o), (-2000, Some(7)));
        let s: S = serde_json::from_str(r#"{"v":-5}"#).unwrap();
        assert_eq!((s.v, s.o), (-5, None));
        let s: S = serde_json::from_str(r#"{"v":"0","o":null}"#).unwrap();
        assert_eq!((s.v, s.o), (0, None));
        let s: S = serde_json::from_str(r#"{"v":"-9223372036854775808"}"#).unwrap();
        assert_eq!(s.v, i64::MIN);
        for bad in [
            r#"{"v":"-"}"#,
            r#"{"v":""}"#,
            r#"{"v":"+5"}"#,
            r#"{"v":"1.5"}"#,
            r#"{"v":"--1"}"#,
            r#"{"v":" 1"}"#,
            r#"{"v":"9223372036854775808"}"#,
            r#"{"v":9223372036854775808}"#,
            r#"{"v":true}"#,
            r#"{"v":"1","o":"x"}"#,
        ] {
            assert!(serde_json::from_str::<S>(bad).is_err(), "{bad}");
        }
    }
}
