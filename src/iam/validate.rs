//! Parameter constraints as the IAM API reference states them; a violation is a
//! `ValidationError` in AWS's wording.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html> (and siblings)

use super::error::{Code, IamError};

const NAME_PATTERN: &str = "Member must satisfy regular expression pattern: [\\w+=,.@-]+";

/// `value` holds `min` to `max` characters.
pub fn length(value: &str, field: &str, min: usize, max: usize) -> Result<(), IamError> {
    let n = value.chars().count();
    if n < min {
        return Err(IamError::invalid(
            value,
            field,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if n > max {
        return Err(IamError::invalid(
            value,
            field,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// User, group and policy names: `[\w+=,.@-]+` within `max` characters.
pub fn name(value: &str, field: &str, max: usize) -> Result<(), IamError> {
    length(value, field, 1, max)?;
    let ok = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(IamError::invalid(value, field, NAME_PATTERN))
    }
}

pub fn user_name(value: &str, field: &str) -> Result<(), IamError> {
    name(value, field, 64)
}

pub fn group_name(value: &str, field: &str) -> Result<(), IamError> {
    name(value, field, 128)
}

pub fn role_name(value: &str, field: &str) -> Result<(), IamError> {
    name(value, field, 64)
}

/// A role's description: up to 1000 characters of tab, newline, CR, U+0020–U+007E and
/// U+00A1–U+00FF.
pub fn role_description(value: &str) -> Result<(), IamError> {
    length(value, "description", 0, 1000)?;
    let ok = value
        .chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}'));
    match ok {
        true => Ok(()),
        false => Err(IamError::invalid(
            value,
            "description",
            "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*",
        )),
    }
}

/// `MaxSessionDuration`: 3600 to 43200 seconds (one to twelve hours).
pub fn max_session_duration(value: &str) -> Result<i64, IamError> {
    let n: i64 = value
        .parse()
        .map_err(|_| IamError::invalid(value, "maxSessionDuration", "Member must be an integer"))?;
    if n < 3600 {
        return Err(IamError::invalid(
            value,
            "maxSessionDuration",
            "Member must have value greater than or equal to 3600",
        ));
    }
    if n > 43200 {
        return Err(IamError::invalid(
            value,
            "maxSessionDuration",
            "Member must have value less than or equal to 43200",
        ));
    }
    Ok(n)
}

pub fn policy_name(value: &str, field: &str) -> Result<(), IamError> {
    name(value, field, 128)
}

/// A path: `/` alone, or starting and ending with `/` with printable ASCII between.
pub fn path(value: &str, field: &str) -> Result<(), IamError> {
    length(value, field, 1, 512)?;
    let printable = value.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if printable && value.starts_with('/') && value.ends_with('/') {
        Ok(())
    } else {
        Err(IamError::invalid(
            value,
            field,
            "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        ))
    }
}

pub fn path_prefix(value: &str) -> Result<(), IamError> {
    length(value, "pathPrefix", 1, 512)?;
    if value.starts_with('/') && value.bytes().all(|b| (0x21..=0x7f).contains(&b)) {
        Ok(())
    } else {
        Err(IamError::invalid(
            value,
            "pathPrefix",
            "Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*",
        ))
    }
}

/// Tag keys `[\p{L}\p{Z}\p{N}_.:/=+\-@]+` up to 128, values the same set up to 256.
pub fn tag(key: &str, value: &str) -> Result<(), IamError> {
    let allowed = |c: char| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c);
    length(key, "tags.member.key", 1, 128)?;
    if !key.chars().all(allowed) {
        return Err(IamError::invalid(
            key,
            "tags.member.key",
            "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
        ));
    }
    length(value, "tags.member.value", 0, 256)?;
    if !value.chars().all(allowed) {
        return Err(IamError::invalid(
            value,
            "tags.member.value",
            "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*",
        ));
    }
    Ok(())
}

pub fn access_key_id(value: &str) -> Result<(), IamError> {
    length(value, "accessKeyId", 16, 128)?;
    if value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        Ok(())
    } else {
        Err(IamError::invalid(
            value,
            "accessKeyId",
            "Member must satisfy regular expression pattern: [\\w]+",
        ))
    }
}

/// An enumerated parameter: exactly one of `set` (AWS matches enum values with their case),
/// returned as the member of `set` it equals. `set` is in the order AWS's message lists it.
pub fn one_of(value: &str, field: &str, set: &[&'static str]) -> Result<&'static str, IamError> {
    match set.iter().find(|member| **member == value) {
        Some(member) => Ok(member),
        None => Err(IamError::invalid(
            value,
            field,
            &format!("Member must satisfy enum value set: [{}]", set.join(", ")),
        )),
    }
}

/// `Active` or `Inactive`, as a flag.
pub fn status(value: &str) -> Result<bool, IamError> {
    Ok(one_of(value, "status", &["Active", "Inactive"])? == "Active")
}

/// The tag-key prefix AWS keeps for its own tags, in any case.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html>
const RESERVED_TAG_PREFIX: &str = "aws:";

/// A tag key a caller may set: not in the `aws:` namespace (case-insensitive). A rule of the
/// service rather than of the parameter's shape, so `InvalidInput`, not `ValidationError`.
pub fn tag_key_not_reserved(key: &str) -> Result<(), IamError> {
    let reserved = key
        .get(..RESERVED_TAG_PREFIX.len())
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(RESERVED_TAG_PREFIX));
    match reserved {
        false => Ok(()),
        true => Err(IamError::new(
            Code::InvalidInput,
            format!("Tag key '{key}' is invalid: the prefix 'aws:' is reserved for AWS use."),
        )),
    }
}

/// A policy document parameter: 1 to 131072 characters of tab, newline, CR or U+0020–U+00FF.
pub fn policy_document(value: &str, field: &str) -> Result<(), IamError> {
    length(value, field, 1, 131_072)?;
    let ok = value
        .chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'));
    if ok {
        Ok(())
    } else {
        Err(IamError::invalid("...", field, "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"))
    }
}

pub fn description(value: &str) -> Result<(), IamError> {
    length(value, "description", 0, 1000)
}

/// A policy version id `v<N>`, returned as N.
pub fn version_id(value: &str) -> Result<i64, IamError> {
    value
        .strip_prefix('v')
        .filter(|n| !n.starts_with('0'))
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            IamError::invalid(
                value,
                "versionId",
                "Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_aws_pattern() {
        for ok in ["bob", "a.b@c-d_e+f=g,h", &"x".repeat(64)] {
            assert!(user_name(ok, "userName").is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a/b", "é", &"x".repeat(65)] {
            assert!(
                matches!(
                    user_name(bad, "userName"),
                    Err(IamError {
                        code: Code::ValidationError,
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
        assert!(group_name(&"g".repeat(128), "groupName").is_ok());
    }

    #[test]
    fn paths_start_and_end_with_a_slash() {
        for ok in ["/", "/a/", "/a/b/", "/x~!/"] {
            assert!(path(ok, "path").is_ok(), "{ok}");
        }
        for bad in ["", "a/", "/a", "/a b/", "//x"] {
            assert!(path(bad, "path").is_err(), "{bad:?}");
        }
        assert!(path_prefix("/dev").is_ok());
        assert!(path_prefix("dev").is_err());
    }

    #[test]
    fn enumerated_values_match_exactly() {
        let set = ["PermissionsBoundary", "PermissionsPolicy"];
        assert_eq!(
            one_of("PermissionsPolicy", "policyUsageFilter", &set).unwrap(),
            "PermissionsPolicy"
        );
        for bad in ["x", "", "permissionspolicy", "PermissionsPolicy "] {
            let Err(IamError {
                code: Code::ValidationError,
                message,
                ..
            }) = one_of(bad, "policyUsageFilter", &set)
            else {
                panic!("{bad:?} accepted");
            };
            assert_eq!(
                message,
                format!(
                    "1 validation error detected: Value '{bad}' at 'policyUsageFilter' failed to \
                     satisfy constraint: Member must satisfy enum value set: \
                     [PermissionsBoundary, PermissionsPolicy]"
                )
            );
        }
        assert!(status("Active").unwrap());
        assert!(!status("Inactive").unwrap());
        assert!(status("active").is_err());
    }

    #[test]
    fn aws_tag_keys_are_reserved_in_any_case() {
        for reserved in ["aws:x", "AWS:x", "Aws:", "aWs:team"] {
            assert!(
                matches!(
                    tag_key_not_reserved(reserved),
                    Err(IamError {
                        code: Code::InvalidInput,
                        ..
                    })
                ),
                "{reserved}"
            );
        }
        for ok in ["aws", "awsx:y", "team:aws:", "a", "é"] {
            assert!(tag_key_not_reserved(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn version_ids() {
        assert_eq!(version_id("v3").unwrap(), 3);
        for bad in ["3", "v0", "v01", "vx", "v"] {
            assert!(version_id(bad).is_err(), "{bad}");
        }
    }
}
