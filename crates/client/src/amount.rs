//! Ether amounts as people type them (`1.5eth`, `0.25 ETH`, `1500000000gwei`, `42wei`, `2`) parsed
//! exactly into [`Wei`] — integer arithmetic only, never floats — and formatted back.

use claystack_consensus::Wei;

/// Wei in one ether.
pub const WEI_PER_ETH: u128 = 1_000_000_000_000_000_000;

/// A unit an amount may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// 10^18 wei (the default when no unit is written).
    Eth,
    /// 10^9 wei.
    Gwei,
    /// 1 wei.
    Wei,
}

impl Unit {
    /// Decimal places this unit allows below 1 wei's resolution.
    #[must_use]
    pub const fn decimals(self) -> u32 {
        match self {
            Self::Eth => 18,
            Self::Gwei => 9,
            Self::Wei => 0,
        }
    }

    /// The unit's name as written after an amount.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Eth => "ETH",
            Self::Gwei => "gwei",
            Self::Wei => "wei",
        }
    }
}

/// Why an amount could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Nothing was written.
    #[error("empty amount: write e.g. 1.5eth, 0.25 ETH, 1500000000gwei or 42wei")]
    Empty,
    /// A minus sign.
    #[error("amount {0:?} is negative")]
    Negative(String),
    /// The unit after the number is none of eth, ether, gwei, wei.
    #[error("unknown unit {unit:?} in {input:?}: use eth, gwei or wei")]
    UnknownUnit {
        /// The whole input.
        input: String,
        /// The unit as written.
        unit: String,
    },
    /// The number part is not `digits[.digits]`.
    #[error("{0:?} is not an amount: write e.g. 1.5eth, 0.25 ETH, 1500000000gwei or 42wei")]
    Invalid(String),
    /// More decimals than the unit can express in wei.
    #[error("{input:?} has {got} decimals, but {unit} allows at most {max}")]
    TooManyDecimals {
        /// The whole input.
        input: String,
        /// The unit's name.
        unit: &'static str,
        /// Decimals written.
        got: usize,
        /// Decimals allowed.
        max: u32,
    },
    /// The amount does not fit in 128 bits of wei.
    #[error("amount {0:?} is too large")]
    Overflow(String),
}

/// Parses an amount; a bare number is in ETH. Case-insensitive units `eth`/`ether`, `gwei`,
/// `wei`, optionally separated from the number by spaces.
pub fn parse_amount(input: &str) -> Result<Wei, AmountError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(AmountError::Empty);
    }
    if s.starts_with('-') {
        return Err(AmountError::Negative(input.to_owned()));
    }
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, unit_text) = s.split_at(split);
    let unit_text = unit_text.trim_start();
    let unit = match unit_text.to_ascii_lowercase().as_str() {
        "" | "eth" | "ether" => Unit::Eth,
        "gwei" => Unit::Gwei,
        "wei" => Unit::Wei,
        _ if number.is_empty() => return Err(AmountError::Invalid(input.to_owned())),
        other => {
            return Err(AmountError::UnknownUnit {
                input: input.to_owned(),
                unit: other.to_owned(),
            });
        }
    };
    parse_number(number, unit).map_err(|e| match e {
        NumberError::Invalid => AmountError::Invalid(input.to_owned()),
        NumberError::Overflow => AmountError::Overflow(input.to_owned()),
        NumberError::TooManyDecimals(got) => AmountError::TooManyDecimals {
            input: input.to_owned(),
            unit: unit.name(),
            got,
            max: unit.decimals(),
        },
    })
}

enum NumberError {
    Invalid,
    Overflow,
    TooManyDecimals(usize),
}

fn parse_number(number: &str, unit: Unit) -> Result<Wei, NumberError> {
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    let digits_only = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !digits_only(int_part)
        || !digits_only(frac_part)
        || (number.contains('.') && frac_part.is_empty() && int_part.is_empty())
    {
        return Err(NumberError::Invalid);
    }
    let decimals = unit.decimals();
    let max = usize::try_from(decimals).map_err(|_| NumberError::Overflow)?;
    // Trailing zeros carry no value: `1.500000000000000000000` ETH is exact.
    let frac_trimmed = frac_part.trim_end_matches('0');
    if frac_trimmed.len() > max {
        return Err(NumberError::TooManyDecimals(frac_part.len()));
    }
    let scale = 10u128.checked_pow(decimals).ok_or(NumberError::Overflow)?;
    let mut whole: u128 = 0;
    for b in int_part.bytes() {
        whole = whole
            .checked_mul(10)
            .and_then(|w| w.checked_add(u128::from(b - b'0')))
            .ok_or(NumberError::Overflow)?;
    }
    let mut frac: u128 = 0;
    for b in frac_trimmed.bytes() {
        frac = frac
            .checked_mul(10)
            .and_then(|f| f.checked_add(u128::from(b - b'0')))
            .ok_or(NumberError::Overflow)?;
    }
    let pad = u32::try_from(max - frac_trimmed.len()).map_err(|_| NumberError::Overflow)?;
    let frac = frac.checked_mul(10u128.pow(pad)).ok_or(NumberError::Overflow)?;
    whole.checked_mul(scale).and_then(|w| w.checked_add(frac)).map(Wei).ok_or(NumberError::Overflow)
}

/// Formats wei as a plain decimal number of ETH with no trailing zeros (`1.5`, `0.000000000000000042`,
/// `3`). [`parse_amount`] reads it back exactly.
#[must_use]
pub fn format_ether(amount: Wei) -> String {
    let whole = amount.0 / WEI_PER_ETH;
    let frac = amount.0 % WEI_PER_ETH;
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:018}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// Formats wei as ETH with its unit, e.g. `1.5 ETH`.
#[must_use]
pub fn format_eth(amount: Wei) -> String {
    format!("{} ETH", format_ether(amount))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ETH: u128 = WEI_PER_ETH;

    #[test]
    fn parses_every_documented_form() {
        assert_eq!(parse_amount("1.5eth"), Ok(Wei(3 * ETH / 2)));
        assert_eq!(parse_amount("0.25 ETH"), Ok(Wei(ETH / 4)));
        assert_eq!(parse_amount("1500000000gwei"), Ok(Wei(3 * ETH / 2)));
        assert_eq!(parse_amount("42wei"), Ok(Wei(42)));
        assert_eq!(parse_amount("2"), Ok(Wei(2 * ETH)));
        assert_eq!(parse_amount(" 0.001 "), Ok(Wei(ETH / 1000)));
        assert_eq!(parse_amount(".5"), Ok(Wei(ETH / 2)));
        assert_eq!(parse_amount("5."), Ok(Wei(5 * ETH)));
        assert_eq!(parse_amount("1 ether"), Ok(Wei(ETH)));
        assert_eq!(parse_amount("1.5 GWEI"), Ok(Wei(1_500_000_000)));
        assert_eq!(parse_amount("0.000000000000000001"), Ok(Wei(1)));
        assert_eq!(parse_amount("1.500000000000000000000"), Ok(Wei(3 * ETH / 2)));
        assert_eq!(parse_amount("0"), Ok(Wei(0)));
    }

    #[test]
    fn rejects_bad_input_with_the_reason() {
        assert_eq!(parse_amount(""), Err(AmountError::Empty));
        assert_eq!(parse_amount("   "), Err(AmountError::Empty));
        assert!(matches!(parse_amount("-1eth"), Err(AmountError::Negative(_))));
        assert!(matches!(
            parse_amount("0.0000000000000000001"),
            Err(AmountError::TooManyDecimals { got: 19, max: 18, .. })
        ));
        assert!(matches!(
            parse_amount("1.5wei"),
            Err(AmountError::TooManyDecimals { got: 1, max: 0, unit: "wei", .. })
        ));
        assert!(matches!(
            parse_amount("0.0000000001gwei"),
            Err(AmountError::TooManyDecimals { max: 9, .. })
        ));
        assert!(
            matches!(parse_amount("1 btc"), Err(AmountError::UnknownUnit { unit, .. }) if unit == "btc")
        );
        for garbage in ["abc", "1.2.3", ".", "eth", "1e18", "1,5", "+1", "0x10", "1 eth eth", "١"]
        {
            assert!(parse_amount(garbage).is_err(), "{garbage:?} accepted");
        }
        assert!(matches!(parse_amount("340282366920938463464eth"), Err(AmountError::Overflow(_))));
        assert!(matches!(
            parse_amount("999999999999999999999999999999999999999999wei"),
            Err(AmountError::Overflow(_))
        ));
        assert_eq!(parse_amount("340282366920938463463.374607431768211455"), Ok(Wei(u128::MAX)));
    }

    #[test]
    fn error_messages_are_clear() {
        let e = parse_amount("0.0000000000000000001").unwrap_err().to_string();
        assert!(e.contains("19 decimals") && e.contains("at most 18"), "{e}");
        let e = parse_amount("-2").unwrap_err().to_string();
        assert!(e.contains("negative"), "{e}");
    }

    #[test]
    fn formats_without_trailing_zeros() {
        assert_eq!(format_ether(Wei(3 * ETH / 2)), "1.5");
        assert_eq!(format_ether(Wei(0)), "0");
        assert_eq!(format_ether(Wei(42)), "0.000000000000000042");
        assert_eq!(format_eth(Wei(10 * ETH)), "10 ETH");
    }

    proptest! {
        #[test]
        fn parse_inverts_format(wei in any::<u128>()) {
            prop_assert_eq!(parse_amount(&format_ether(Wei(wei))), Ok(Wei(wei)));
            prop_assert_eq!(parse_amount(&format_eth(Wei(wei))), Ok(Wei(wei)));
            prop_assert_eq!(parse_amount(&format!("{wei}wei")), Ok(Wei(wei)));
        }

        #[test]
        fn format_inverts_parse(whole in 0u64..1_000_000, frac in "[0-9]{0,18}") {
            let text = if frac.is_empty() { whole.to_string() } else { format!("{whole}.{frac}") };
            let wei = parse_amount(&text).unwrap();
            // canonical form: same number without trailing zeros
            let canon = text.trim_end_matches('0').trim_end_matches('.');
            let canon = if text.contains('.') { canon } else { text.as_str() };
            let canon = if canon.is_empty() { "0" } else { canon };
            prop_assert_eq!(format_ether(wei), canon);
        }
    }
}
