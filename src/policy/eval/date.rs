//! Dates for the `Date*` condition operators: ISO 8601 (W3C profile) or epoch seconds, read
//! into one instant type so that `2019-07-16T12:00:00Z`, `2019-07-16T14:00:00+02:00` and
//! `1563278400` compare equal.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date>
//!
//! Accepted:
//! - `YYYY-MM-DD` (midnight UTC);
//! - `YYYY-MM-DDThh:mm`, `...:ss`, `...:ss.f` (1 to 9 fraction digits), each followed by `Z`,
//!   `±hh:mm` or `±hhmm`, or by nothing, read as UTC (AWS's own values always carry a zone;
//!   being lenient here only widens what a policy author can write);
//! - `[-]digits[.fraction]`: seconds since 1970-01-01T00:00:00Z. All-digit text is always
//!   epoch seconds, so `2019` is a 1970 instant, not a year.
//!
//! `T` and `Z` may be lowercase. Anything else (`24:00`, February 30, leap second `:60`) is
//! refused, and a refused value matches nothing.

/// A point in time: whole seconds since the Unix epoch, then nanoseconds. The derived order
/// (seconds first) is time order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Instant {
    seconds: i64,
    nanos: u32,
}

pub(super) fn parse(text: &str) -> Option<Instant> {
    if text.contains('-') && text.len() >= 10 && text.as_bytes().get(4) == Some(&b'-') {
        return parse_iso(text);
    }
    parse_epoch(text)
}

fn parse_epoch(text: &str) -> Option<Instant> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let whole: i64 = digits(whole)?;
    let nanos = match fraction {
        Some(fraction) => nanos(fraction)?,
        None => 0,
    };
    let instant = Instant {
        seconds: whole,
        nanos,
    };
    Some(if negative { negate(instant) } else { instant })
}

/// `-(s + n/1e9)` with the nanoseconds kept non-negative.
fn negate(instant: Instant) -> Instant {
    match instant.nanos {
        0 => Instant {
            seconds: -instant.seconds,
            nanos: 0,
        },
        n => Instant {
            seconds: -instant.seconds - 1,
            nanos: 1_000_000_000 - n,
        },
    }
}

fn parse_iso(text: &str) -> Option<Instant> {
    let (date, time) = match text.find(['T', 't']) {
        Some(t) => (&text[..t], Some(&text[t + 1..])),
        None => (text, None),
    };
    let days = parse_date(date)?;
    let (seconds_of_day, nanos, offset) = match time {
        Some(time) => parse_time(time)?,
        None => (0, 0, 0),
    };
    Some(Instant {
        seconds: days * 86_400 + seconds_of_day - offset,
        nanos,
    })
}

/// `YYYY-MM-DD` as days since 1970-01-01.
fn parse_date(date: &str) -> Option<i64> {
    let [year, month, day] = fixed_fields(date, '-', [4, 2, 2])?;
    let (month, day) = (u32::try_from(month).ok()?, u32::try_from(day).ok()?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// `hh:mm[:ss[.f]]` then the zone: (seconds of the day, nanoseconds, zone offset in seconds).
fn parse_time(time: &str) -> Option<(i64, u32, i64)> {
    let zone_at = time.find(['Z', 'z', '+', '-']).unwrap_or(time.len());
    let (clock, zone) = time.split_at(zone_at);
    let offset = parse_zone(zone)?;
    let (clock, fraction) = match clock.split_once('.') {
        Some((clock, fraction)) => (clock, nanos(fraction)?),
        None => (clock, 0),
    };
    let (hour, minute, second) = match clock.len() {
        5 => {
            let [h, m] = fixed_fields(clock, ':', [2, 2])?;
            (h, m, 0)
        }
        _ => {
            let [h, m, s] = fixed_fields(clock, ':', [2, 2, 2])?;
            (h, m, s)
        }
    };
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some((hour * 3600 + minute * 60 + second, fraction, offset))
}

/// `""` (UTC), `Z`, `±hh:mm` or `±hhmm`, as seconds east of UTC.
fn parse_zone(zone: &str) -> Option<i64> {
    let sign = match zone.as_bytes().first() {
        None => return Some(0),
        Some(b'Z' | b'z') if zone.len() == 1 => return Some(0),
        Some(b'+') => 1,
        Some(b'-') => -1,
        Some(_) => return None,
    };
    let [hours, minutes] = match zone.len() {
        6 => fixed_fields(&zone[1..], ':', [2, 2])?,
        5 => [digits(&zone[1..3])?, digits(&zone[3..5])?],
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

/// Exactly `N` fields of the given widths, all digits, joined by `separator`.
fn fixed_fields<const N: usize>(
    text: &str,
    separator: char,
    widths: [usize; N],
) -> Option<[i64; N]> {
    let mut out = [0; N];
    let mut fields = text.split(separator);
    for (slot, width) in out.iter_mut().zip(widths) {
        let field = fields.next()?;
        if field.len() != width {
            return None;
        }
        *slot = digits(field)?;
    }
    fields.next().is_none().then_some(out)
}

/// ASCII digits only: `str::parse` alone would also take a sign.
fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A fraction of a second, 1 to 9 digits, as nanoseconds.
fn nanos(fraction: &str) -> Option<u32> {
    let len = u32::try_from(fraction.len()).ok().filter(|&len| len <= 9)?;
    let value = u32::try_from(digits(fraction)?).ok()?;
    Some(value * 10u32.pow(9 - len))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date. Counting from a March-based
/// year puts the leap day last, so each 400-year cycle is 146,097 days of regular shape.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let cycle = year.div_euclid(400);
    let year_of_cycle = year.rem_euclid(400);
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_cycle = year_of_cycle * 365 + year_of_cycle / 4 - year_of_cycle / 100 + day_of_year;
    // 719,468 days separate 0000-03-01, where the cycles start, from 1970-01-01.
    cycle * 146_097 + day_of_cycle - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64, nanos: u32) -> Instant {
        Instant { seconds, nanos }
    }

    #[test]
    fn reads_iso_8601_and_epoch_seconds_as_the_same_instant() {
        let rows: &[(&str, Option<Instant>)] = &[
            ("1970-01-01", Some(at(0, 0))),
            ("1970-01-01T00:00:00Z", Some(at(0, 0))),
            ("2019-07-16T12:00:00Z", Some(at(1_563_278_400, 0))),
            ("2019-07-16t12:00:00z", Some(at(1_563_278_400, 0))),
            ("2019-07-16T12:00Z", Some(at(1_563_278_400, 0))),
            ("2019-07-16T12:00:00", Some(at(1_563_278_400, 0))),
            ("2019-07-16T14:00:00+02:00", Some(at(1_563_278_400, 0))),
            ("2019-07-16T07:30:00-0430", Some(at(1_563_278_400, 0))),
            (
                "2019-07-16T12:00:00.5Z",
                Some(at(1_563_278_400, 500_000_000)),
            ),
            (
                "2019-07-16T12:00:00.123456789Z",
                Some(at(1_563_278_400, 123_456_789)),
            ),
            ("2000-02-29T00:00:00Z", Some(at(951_782_400, 0))),
            ("1969-12-31T23:59:59Z", Some(at(-1, 0))),
            ("1563278400", Some(at(1_563_278_400, 0))),
            ("1563278400.25", Some(at(1_563_278_400, 250_000_000))),
            ("-1", Some(at(-1, 0))),
            ("-0.5", Some(at(-1, 500_000_000))),
            ("2019", Some(at(2019, 0))),
            // Refused.
            ("", None),
            ("2019-13-01", None),
            ("2019-02-29", None),
            ("1900-02-29", None),
            ("2019-07-16T24:00:00Z", None),
            ("2019-07-16T12:00:60Z", None),
            ("2019-07-16T12:00:00+25:00", None),
            ("2019-07-16T12:00:00.1234567890Z", None),
            ("2019-07-16T12Z", None),
            ("2019-7-16", None),
            ("+1563278400", None),
            ("yesterday", None),
        ];
        for &(text, expected) in rows {
            assert_eq!(parse(text), expected, "{text}");
        }
    }

    #[test]
    fn agrees_with_a_day_by_day_count() {
        let mut days = 0i64;
        for year in 1970..2100 {
            for month in 1..=12 {
                for day in 1..=days_in_month(year, month) {
                    assert_eq!(
                        days_from_civil(year, month, day),
                        days,
                        "{year}-{month}-{day}"
                    );
                    days += 1;
                }
            }
        }
    }
}
