//! The time formats AWS protocols use, on `std::time::SystemTime` in UTC, with the calendar
//! arithmetic written out here instead of pulling in a time crate for five formats:
//!
//! - `20150830T123600Z`, ISO 8601 basic: SigV4's `X-Amz-Date` and string to sign
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>), and its
//!   first eight characters, the credential scope date;
//! - `2015-08-30T12:36:00Z`, ISO 8601 extended, whole seconds: IAM's `CreateDate`
//!   (<https://docs.aws.amazon.com/IAM/latest/APIReference/API_User.html>);
//! - `Sun, 30 Aug 2015 12:36:00 GMT`, the HTTP date (RFC 7231 section 7.1.1.1): S3's
//!   `Last-Modified`, and the `Date` header SigV4 falls back on.
//!
//! Times are whole seconds: every one of these formats drops the fraction.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECONDS_PER_DAY: i64 = 86_400;

/// Day names as the HTTP date writes them, indexed from Sunday.
const SHORT_DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
/// The same names in full, as the obsolete RFC 850 form writes them.
const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A UTC calendar date and time of day, already range-checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Civil {
    /// `None` unless every field is in range (month 1-12, a day that month has, hour < 24,
    /// minute < 60, second < 60: leap seconds do not appear in these protocols).
    fn new(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<Civil> {
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60;
        valid.then_some(Civil {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }

    fn from_unix(seconds: i64) -> Civil {
        let days = seconds.div_euclid(SECONDS_PER_DAY);
        #[expect(
            clippy::cast_possible_truncation,
            reason = "rem_euclid leaves 0..86_400"
        )]
        let of_day = seconds.rem_euclid(SECONDS_PER_DAY) as u32;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: of_day / 3600,
            minute: of_day / 60 % 60,
            second: of_day % 60,
        }
    }

    fn to_unix(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * SECONDS_PER_DAY
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second)
    }

    /// 0 is Sunday. 1970-01-01, day 0, was a Thursday.
    #[expect(clippy::cast_possible_truncation, reason = "rem_euclid leaves 0..7")]
    fn weekday(self) -> usize {
        (days_from_civil(self.year, self.month, self.day) + 4).rem_euclid(7) as usize
    }
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date. The year is counted from March so that
/// the leap day is the last day of its year; the 400-year cycle (146,097 days) then repeats
/// exactly, which keeps this branch-free and correct for dates before the epoch too.
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

/// The inverse of `days_from_civil`: (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let cycle = days.div_euclid(146_097);
    let day_of_cycle = days.rem_euclid(146_097);
    // Remove the leap days seen so far (every 4th year, not every 100th, every 400th) to count
    // whole 365-day years.
    let year_of_cycle =
        (day_of_cycle - day_of_cycle / 1460 + day_of_cycle / 36_524 - day_of_cycle / 146_096) / 365;
    let day_of_year =
        day_of_cycle - (365 * year_of_cycle + year_of_cycle / 4 - year_of_cycle / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = cycle * 400 + year_of_cycle + i64::from(month <= 2);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "day_of_year is 0..=365, so month is 1..=12 and day 1..=31"
    )]
    let (month, day) = (month as u32, day as u32);
    (year, month, day)
}

/// Whole seconds since 1970-01-01T00:00:00Z, rounded down (so half a second before the epoch
/// is -1). Saturates at the ends of `i64`, far outside any date a client can send.
pub fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            let partial = i64::from(before.subsec_nanos() > 0);
            (-whole).saturating_sub(partial)
        }
    }
}

/// The instant `seconds` after (or before, if negative) the epoch. Clamps to the epoch where
/// the platform's `SystemTime` cannot represent it; the parsers here never produce such values
/// (their years are four digits).
pub fn from_unix_seconds(seconds: i64) -> SystemTime {
    let offset = Duration::from_secs(seconds.unsigned_abs());
    let time = if seconds >= 0 {
        UNIX_EPOCH.checked_add(offset)
    } else {
        UNIX_EPOCH.checked_sub(offset)
    };
    time.unwrap_or(UNIX_EPOCH)
}

/// `20150830T123600Z`.
pub fn format_amz_date(time: SystemTime) -> String {
    let c = Civil::from_unix(unix_seconds(time));
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// `20150830`: the date of a SigV4 credential scope.
pub fn format_scope_date(time: SystemTime) -> String {
    let c = Civil::from_unix(unix_seconds(time));
    format!("{:04}{:02}{:02}", c.year, c.month, c.day)
}

/// `2015-08-30T12:36:00Z`.
pub fn format_iso8601(time: SystemTime) -> String {
    let c = Civil::from_unix(unix_seconds(time));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// `2015-08-30T12:36:00.123Z`: RFC 3339 in UTC with milliseconds (the audit trail's times).
pub fn iso8601_millis(time: SystemTime) -> String {
    let millis = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_millis());
    let c = Civil::from_unix(unix_seconds(time));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// `Sun, 30 Aug 2015 12:36:00 GMT`, the IMF-fixdate every HTTP sender must use.
pub fn format_http_date(time: SystemTime) -> String {
    let c = Civil::from_unix(unix_seconds(time));
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        SHORT_DAYS[c.weekday()],
        c.day,
        MONTHS[c.month as usize - 1],
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// Parses exactly `YYYYMMDDTHHMMSSZ`; anything else (other separators, a missing `Z`, a
/// fraction, an offset, an impossible date) is `None`.
pub fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    // Slicing by byte offsets is safe here: `digits` rejects anything but ASCII digits, and
    // the checks above pin the only other two bytes.
    let civil = Civil::new(
        i64::from(digits(&b[0..4])?),
        digits(&b[4..6])?,
        digits(&b[6..8])?,
        digits(&b[9..11])?,
        digits(&b[11..13])?,
        digits(&b[13..15])?,
    )?;
    Some(from_unix_seconds(civil.to_unix()))
}

/// Parses an ISO 8601 UTC time as S3 takes it in Object Lock dates: `YYYY-MM-DDTHH:MM:SSZ`,
/// optionally with a fraction of a second (`.123Z`, kept to the millisecond). Returns Unix
/// milliseconds; anything else (an offset, an impossible date) is `None`.
pub fn parse_iso8601_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || *b.last()? != b'Z' {
        return None;
    }
    let civil = Civil::new(
        i64::from(digits(&b[0..4])?),
        digits(&b[5..7])?,
        digits(&b[8..10])?,
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    )?;
    let fraction = &b[19..b.len() - 1];
    let millis = match fraction {
        [] => 0,
        [b'.', rest @ ..] if !rest.is_empty() && rest.len() <= 9 => {
            let mut padded = [b'0'; 3];
            for (slot, digit) in padded.iter_mut().zip(rest) {
                *slot = *digit;
            }
            digits(rest)?;
            digits(&padded)?
        }
        _ => return None,
    };
    civil
        .to_unix()
        .checked_mul(1000)?
        .checked_add(i64::from(millis))
}

/// Parses an HTTP date in any of the three forms RFC 7231 section 7.1.1.1 tells recipients to
/// accept: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
/// The day name must be a real one but is not checked against the date: it is redundant, and
/// the RFC gives it no meaning.
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let civil = match s.split_once(", ") {
        Some((day, rest)) if SHORT_DAYS.contains(&day) => parse_imf_fixdate(rest),
        Some((day, rest)) if LONG_DAYS.contains(&day) => parse_rfc850(rest),
        Some(_) => None,
        None => parse_asctime(s),
    }?;
    Some(from_unix_seconds(civil.to_unix()))
}

/// `06 Nov 1994 08:49:37 GMT`, after the day name.
fn parse_imf_fixdate(rest: &str) -> Option<Civil> {
    let fields: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, clock, "GMT"] = fields[..] else {
        return None;
    };
    let (hour, minute, second) = parse_clock(clock)?;
    Civil::new(
        i64::from(digits(year.as_bytes()).filter(|_| year.len() == 4)?),
        month_number(month)?,
        digits(day.as_bytes()).filter(|_| day.len() == 2)?,
        hour,
        minute,
        second,
    )
}

/// `06-Nov-94 08:49:37 GMT`, after the day name. A two-digit year below 70 is taken as 20xx:
/// without a clock this stands in for the RFC's "no more than 50 years in the future" rule,
/// and only pre-2000 software sends this form.
fn parse_rfc850(rest: &str) -> Option<Civil> {
    let fields: Vec<&str> = rest.split(' ').collect();
    let [date, clock, "GMT"] = fields[..] else {
        return None;
    };
    let date: Vec<&str> = date.split('-').collect();
    let [day, month, year] = date[..] else {
        return None;
    };
    let short_year = i64::from(digits(year.as_bytes()).filter(|_| year.len() == 2)?);
    let century = if short_year < 70 { 2000 } else { 1900 };
    let (hour, minute, second) = parse_clock(clock)?;
    Civil::new(
        century + short_year,
        month_number(month)?,
        digits(day.as_bytes()).filter(|_| day.len() == 2)?,
        hour,
        minute,
        second,
    )
}

/// `Sun Nov  6 08:49:37 1994`: C's asctime, where a one-digit day is padded with a space.
fn parse_asctime(s: &str) -> Option<Civil> {
    let fields: Vec<&str> = s.split_whitespace().collect();
    let [day_name, month, day, clock, year] = fields[..] else {
        return None;
    };
    if !SHORT_DAYS.contains(&day_name) || year.len() != 4 || day.len() > 2 {
        return None;
    }
    let (hour, minute, second) = parse_clock(clock)?;
    Civil::new(
        i64::from(digits(year.as_bytes())?),
        month_number(month)?,
        digits(day.as_bytes())?,
        hour,
        minute,
        second,
    )
}

/// `HH:MM:SS`, ranges checked later by `Civil::new`.
fn parse_clock(clock: &str) -> Option<(u32, u32, u32)> {
    let b = clock.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    Some((digits(&b[0..2])?, digits(&b[3..5])?, digits(&b[6..8])?))
}

fn month_number(name: &str) -> Option<u32> {
    let index = MONTHS.iter().position(|m| *m == name)?;
    u32::try_from(index + 1).ok()
}

/// The value of a run of ASCII digits; `None` for an empty run or any other byte. Written out
/// because `str::parse` also accepts a leading `+`, which none of these formats allow.
fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso8601_times_as_object_lock_sends_them() {
        use super::parse_iso8601_ms as p;
        assert_eq!(p("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(p("1970-01-01T00:00:01.5Z"), Some(1_500));
        assert_eq!(p("1970-01-01T00:00:01.250Z"), Some(1_250));
        assert_eq!(p("2030-01-01T00:00:00.000Z"), Some(1_893_456_000_000));
        for bad in [
            "",
            "2030-01-01",
            "2030-01-01T00:00:00",
            "2030-01-01T00:00:00+00:00",
            "2030-13-01T00:00:00Z",
            "2030-01-01T00:00:00.Z",
            "2030-01-01 00:00:00Z",
            "2030-01-01T00:00:00.1a3Z",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }

    use super::*;

    /// (unix seconds, amz date, ISO 8601, HTTP date), each checked with `date -u -d @N`.
    // One row per instant reads better than rustfmt's one field per line.
    #[rustfmt::skip]
    const KNOWN: &[(i64, &str, &str, &str)] = &[
        (0, "19700101T000000Z", "1970-01-01T00:00:00Z", "Thu, 01 Jan 1970 00:00:00 GMT"),
        (-1, "19691231T235959Z", "1969-12-31T23:59:59Z", "Wed, 31 Dec 1969 23:59:59 GMT"),
        (1_440_938_160, "20150830T123600Z", "2015-08-30T12:36:00Z", "Sun, 30 Aug 2015 12:36:00 GMT"),
        (1_456_704_000, "20160229T000000Z", "2016-02-29T00:00:00Z", "Mon, 29 Feb 2016 00:00:00 GMT"),
        (951_868_799, "20000229T235959Z", "2000-02-29T23:59:59Z", "Tue, 29 Feb 2000 23:59:59 GMT"),
        (951_868_800, "20000301T000000Z", "2000-03-01T00:00:00Z", "Wed, 01 Mar 2000 00:00:00 GMT"),
        (1_709_251_199, "20240229T235959Z", "2024-02-29T23:59:59Z", "Thu, 29 Feb 2024 23:59:59 GMT"),
        (-2_203_891_201, "19000228T235959Z", "1900-02-28T23:59:59Z", "Wed, 28 Feb 1900 23:59:59 GMT"),
        (-2_203_891_200, "19000301T000000Z", "1900-03-01T00:00:00Z", "Thu, 01 Mar 1900 00:00:00 GMT"),
        (2_147_483_648, "20380119T031408Z", "2038-01-19T03:14:08Z", "Tue, 19 Jan 2038 03:14:08 GMT"),
        (4_294_967_296, "21060207T062816Z", "2106-02-07T06:28:16Z", "Sun, 07 Feb 2106 06:28:16 GMT"),
        (4_107_542_400, "21000301T000000Z", "2100-03-01T00:00:00Z", "Mon, 01 Mar 2100 00:00:00 GMT"),
        (253_402_300_799, "99991231T235959Z", "9999-12-31T23:59:59Z", "Fri, 31 Dec 9999 23:59:59 GMT"),
        (-62_135_596_800, "00010101T000000Z", "0001-01-01T00:00:00Z", "Mon, 01 Jan 0001 00:00:00 GMT"),
    ];

    #[test]
    fn known_instants_format_and_parse_in_every_shape() {
        for &(unix, amz, iso, http) in KNOWN {
            let t = from_unix_seconds(unix);
            assert_eq!(unix_seconds(t), unix, "{amz}");
            assert_eq!(format_amz_date(t), amz);
            assert_eq!(format_scope_date(t), amz[..8]);
            assert_eq!(format_iso8601(t), iso);
            assert_eq!(format_http_date(t), http);
            assert_eq!(parse_amz_date(amz), Some(t), "{amz}");
            assert_eq!(parse_http_date(http), Some(t), "{http}");
        }
    }

    #[test]
    fn calendar_conversion_round_trips_day_by_day_across_four_centuries() {
        // 1600-01-01 to 2400-12-31 covers every leap rule twice, and the epoch in the middle.
        let start = days_from_civil(1600, 1, 1);
        let end = days_from_civil(2400, 12, 31);
        let mut expected = (1600, 1, 1);
        for days in start..=end {
            let civil = civil_from_days(days);
            assert_eq!(civil, expected, "day {days}");
            assert_eq!(days_from_civil(civil.0, civil.1, civil.2), days);
            let (y, m, d) = expected;
            expected = if d < days_in_month(y, m) {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
        }
    }

    #[test]
    fn leap_years_follow_the_gregorian_rules() {
        for (year, leap) in [
            (2016, true),
            (2000, true),
            (1900, false),
            (2100, false),
            (2015, false),
            (2400, true),
        ] {
            assert_eq!(is_leap_year(year), leap, "{year}");
        }
    }

    #[test]
    fn malformed_or_impossible_amz_dates_are_refused() {
        for bad in [
            "",
            "20150830T123600",
            "20150830T123600ZZ",
            "20150830 123600Z",
            "20150830t123600Z",
            "20150830T123600z",
            "2015-08-30T12:36:00Z",
            "20150830T123600.5Z",
            "+0150830T123600Z",
            "2015083OT123600Z",
            "20150830T12360-Z",
            "20150830T1236é0Z",
            "20151301T000000Z",
            "20150001T000000Z",
            "20150800T000000Z",
            "20150431T000000Z",
            "20150229T000000Z",
            "19000229T000000Z",
            "21000229T000000Z",
            "20150830T240000Z",
            "20150830T126000Z",
            "20150830T123660Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn obsolete_http_date_forms_are_accepted() {
        let nov_6_1994 = Some(from_unix_seconds(784_111_777));
        for ok in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun Nov 06 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(ok), nov_6_1994, "{ok:?}");
        }
        // Two-digit years below 70 are this century.
        assert_eq!(
            parse_http_date("Monday, 01-Jan-24 00:00:00 GMT"),
            Some(from_unix_seconds(1_704_067_200))
        );
    }

    #[test]
    fn malformed_or_impossible_http_dates_are_refused() {
        for bad in [
            "",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49:37 +0000",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun,  06 Nov 1994 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 29 Feb 1900 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1994 08:49:60 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sun Nov  6 08:49:37 94",
            "Sun Nov 123 08:49:37 1994",
            "Sün, 06 Nov 1994 08:49:37 GMT",
            "20150830T123600Z",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fractions_of_a_second_are_dropped_toward_the_past() {
        let half = Duration::from_millis(500);
        assert_eq!(unix_seconds(UNIX_EPOCH + half), 0);
        assert_eq!(unix_seconds(UNIX_EPOCH - half), -1);
        assert_eq!(format_amz_date(UNIX_EPOCH - half), "19691231T235959Z");
        assert_eq!(
            format_iso8601(from_unix_seconds(1_440_938_160) + half),
            "2015-08-30T12:36:00Z"
        );
    }
}
