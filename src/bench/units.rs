//! The bench's units on the command line: object sizes (`4KiB`, `64MiB`, `1.5MB`) and
//! durations (`10s`, `1m30s`, `500ms`), parsed and shown back; and the two conversions between
//! the counts it keeps (`u64`) and the `f64` its figures are computed in.

use std::time::Duration;

/// 2^64, the first whole number a `u64` cannot hold, exact as an `f64`.
const U64_END: f64 = 18_446_744_073_709_551_616.0;

/// A count (operations, bytes, clock ticks) as an `f64`: exact up to 2^53 (9 PB, or nine
/// million billion operations), and within one part in 2^53 beyond, which no figure shows.
#[expect(
    clippy::cast_precision_loss,
    reason = "exact below 2^53, and a relative error of 2^-53 above it is invisible in a figure"
)]
pub fn to_f64(count: u64) -> f64 {
    count as f64
}

/// `value` rounded to the nearest whole number, or `None` when that is negative, not a number
/// or 2^64 and beyond.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "cast only once checked to be a whole number in 0..2^64"
)]
pub fn round_to_u64(value: f64) -> Option<u64> {
    let rounded = value.round();
    if (0.0..U64_END).contains(&rounded) {
        Some(rounded as u64)
    } else {
        None
    }
}

/// Binary and decimal multipliers, matched case-insensitively (`4kib` is `4KiB`). A bare `K`
/// or `M` is refused: it is ambiguous between the two, and the size decides the figures.
const SIZE_UNITS: [(&str, u64); 9] = [
    ("b", 1),
    ("kib", 1 << 10),
    ("mib", 1 << 20),
    ("gib", 1 << 30),
    ("tib", 1 << 40),
    ("kb", 1_000),
    ("mb", 1_000_000),
    ("gb", 1_000_000_000),
    ("tb", 1_000_000_000_000),
];

/// A byte count: a number (a fraction is allowed, rounded to the nearest byte), optionally
/// followed by `B`, `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024) or `KB`, `MB`, `GB`, `TB`
/// (powers of 1000). A bare number is bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit = unit.trim().to_ascii_lowercase();
    let multiplier = match unit.as_str() {
        "" => 1,
        unit => SIZE_UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, m)| *m)
            .ok_or_else(|| {
                format!("`{text}`: unknown unit (B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)")
            })?,
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 4KiB, 64MiB or 1MB"))?;
    // Not negative: the number is digits and dots.
    round_to_u64(value * to_f64(multiplier)).ok_or_else(|| format!("`{text}` is too large"))
}

/// A duration: one or more number-unit pairs (`h`, `m`, `s`, `ms`), such as `10s`, `1m30s`
/// or `250ms`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("`{text}` is not a duration such as 10s, 1m30s or 500ms");
    let trimmed = text.trim();
    if let Ok(seconds) = trimmed.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).map_err(|_| invalid());
    }
    let mut rest = trimmed;
    let mut total = Duration::ZERO;
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(invalid)?;
        let (number, tail) = rest.split_at(digits);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let seconds_per_unit = match unit {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return Err(invalid()),
        };
        let value: f64 = number.parse().map_err(|_| invalid())?;
        let part = Duration::try_from_secs_f64(value * seconds_per_unit).map_err(|_| invalid())?;
        total = total.checked_add(part).ok_or_else(invalid)?;
        rest = tail;
    }
    Ok(total)
}

/// `4 KiB`, `64 MiB`, `1.5 MiB`, `999 B`: the largest binary unit that keeps the number at
/// least 1, with at most two decimals (dropped when whole).
pub fn format_size(bytes: u64) -> String {
    format_bytes(to_f64(bytes))
}

/// `format_size` of a figure that need not be whole, such as a median of byte counts.
pub fn format_bytes(bytes: f64) -> String {
    const NAMES: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < NAMES.len() {
        value /= 1024.0;
        unit += 1;
    }
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} {}", NAMES[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_binary_and_decimal_units() {
        let cases = [
            ("0", 0),
            ("4096", 4096),
            ("17B", 17),
            ("4KiB", 4096),
            ("100KiB", 102_400),
            ("64MiB", 64 << 20),
            ("1GiB", 1 << 30),
            ("2TiB", 2 << 40),
            ("1KB", 1_000),
            ("5MB", 5_000_000),
            ("1GB", 1_000_000_000),
            ("1.5MiB", 3 << 19),
            ("4kib", 4096),
            (" 8 MiB ", 8 << 20),
        ];
        for (text, bytes) in cases {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
    }

    #[test]
    fn sizes_refused() {
        for text in [
            "",
            "KiB",
            "4K",
            "4M",
            "4 kilobytes",
            "-1KiB",
            "1..5MiB",
            "1e3",
        ] {
            assert!(parse_size(text).is_err(), "{text} was accepted");
        }
    }

    #[test]
    fn durations() {
        let cases = [
            ("10s", Duration::from_secs(10)),
            ("1m", Duration::from_secs(60)),
            ("1h", Duration::from_secs(3600)),
            ("500ms", Duration::from_millis(500)),
            ("1m30s", Duration::from_secs(90)),
            ("1.5s", Duration::from_millis(1500)),
            ("2", Duration::from_secs(2)),
            ("0", Duration::ZERO),
            ("0s", Duration::ZERO),
        ];
        for (text, duration) in cases {
            assert_eq!(parse_duration(text), Ok(duration), "{text}");
        }
    }

    #[test]
    fn durations_refused() {
        for text in ["", "s", "10x", "1m-5s", "-3s", "ten seconds", "5 s", "1d"] {
            assert!(parse_duration(text).is_err(), "{text} was accepted");
        }
    }

    #[test]
    fn counts_to_and_from_f64() {
        assert_eq!(round_to_u64(to_f64(1 << 53)), Some(1 << 53));
        assert_eq!(round_to_u64(2.5), Some(3));
        assert_eq!(round_to_u64(-0.4), Some(0));
        // The largest f64 below 2^64.
        assert_eq!(round_to_u64(U64_END - 2048.0), Some(u64::MAX - 2047));
        for refused in [-1.0, U64_END, f64::INFINITY, f64::NAN] {
            assert_eq!(round_to_u64(refused), None, "{refused}");
        }
    }

    #[test]
    fn sizes_shown() {
        assert_eq!(format_size(999), "999 B");
        assert_eq!(format_size(4096), "4 KiB");
        assert_eq!(format_size(64 << 20), "64 MiB");
        assert_eq!(format_size(3 << 19), "1.5 MiB");
        assert_eq!(format_size(5_000_000), "4.77 MiB");
    }
}
