//! The policy document of a browser form upload: base64 JSON with an `expiration` and
//! `conditions` on the form's fields. Pure: time is a parameter.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html>

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::Value;

use super::super::error::{Code, S3Error, S3Result};
use crate::timefmt;

/// A policy, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Unix milliseconds.
    pub expiration: i64,
    pub conditions: Vec<Condition>,
}

/// One condition. Field names are kept as the policy spells them (for messages) and
/// compared without regard to ASCII case, as form field names are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `{"field": "value"}` or `["eq", "$field", "value"]`.
    Eq { field: String, value: String },
    /// `["starts-with", "$field", "prefix"]`; an empty prefix allows any value.
    StartsWith { field: String, prefix: String },
    /// `["content-length-range", min, max]`: the file's size in bytes.
    LengthRange { min: u64, max: u64 },
}

impl Condition {
    /// The condition as S3 quotes it in a refusal: `["eq", "$key", "a"]`.
    pub fn text(&self) -> String {
        let quote = |s: &str| Value::String(s.to_owned()).to_string();
        match self {
            Condition::Eq { field, value } => {
                format!(
                    "[\"eq\", {}, {}]",
                    quote(&format!("${field}")),
                    quote(value)
                )
            }
            Condition::StartsWith { field, prefix } => format!(
                "[\"starts-with\", {}, {}]",
                quote(&format!("${field}")),
                quote(prefix)
            ),
            Condition::LengthRange { min, max } => {
                format!("[\"content-length-range\", {min}, {max}]")
            }
        }
    }

    /// The form field the condition is on, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Condition::Eq { field, .. } | Condition::StartsWith { field, .. } => Some(field),
            Condition::LengthRange { .. } => None,
        }
    }
}

fn invalid(message: impl Into<String>) -> S3Error {
    S3Error::new(
        Code::InvalidPolicyDocument,
        format!("Invalid Policy: {}", message.into()),
    )
}

/// A refusal by the policy: 403 AccessDenied, "Invalid according to Policy: …".
pub fn violated(message: impl std::fmt::Display) -> S3Error {
    S3Error::new(
        Code::AccessDenied,
        format!("Invalid according to Policy: {message}"),
    )
}

/// Decodes and parses the `policy` field.
pub fn parse(policy_base64: &str) -> S3Result<Policy> {
    let compact: String = policy_base64
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let json = BASE64
        .decode(compact.as_bytes())
        .map_err(|_| invalid("Invalid Base64 encoding."))?;
    let doc: Value = serde_json::from_slice(&json).map_err(|_| invalid("Invalid JSON."))?;
    let Value::Object(doc) = doc else {
        return Err(invalid("Invalid JSON."));
    };
    let expiration = match doc.get("expiration") {
        None => return Err(invalid("Policy missing expiration.")),
        Some(Value::String(s)) => timefmt::parse_iso8601_ms(s)
            .ok_or_else(|| invalid(format!("Invalid 'expiration' value: '{s}'")))?,
        Some(other) => return Err(invalid(format!("Invalid 'expiration' value: '{other}'"))),
    };
    let conditions = match doc.get("conditions") {
        None => return Err(invalid("Policy missing conditions.")),
        Some(Value::Array(items)) => items.iter().map(condition).collect::<S3Result<Vec<_>>>()?,
        Some(_) => return Err(invalid("Invalid 'conditions' value: must be a list.")),
    };
    if let Some(key) = doc
        .keys()
        .find(|k| !matches!(k.as_str(), "expiration" | "conditions"))
    {
        return Err(invalid(format!("Unexpected field: '{key}'")));
    }
    Ok(Policy {
        expiration,
        conditions,
    })
}

fn condition(item: &Value) -> S3Result<Condition> {
    match item {
        Value::Object(map) if map.len() == 1 => {
            let (field, value) = map.iter().next().expect("one entry");
            let Value::String(value) = value else {
                return Err(invalid(format!("Invalid condition: {item}")));
            };
            Ok(Condition::Eq {
                field: field.trim_start_matches('$').to_owned(),
                value: value.clone(),
            })
        }
        Value::Array(parts) => {
            let op = parts
                .first()
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(format!("Invalid condition: {item}")))?;
            match (op.to_ascii_lowercase().as_str(), parts.as_slice()) {
                ("eq" | "starts-with", [_, Value::String(field), Value::String(value)]) => {
                    let Some(field) = field.strip_prefix('$') else {
                        return Err(invalid(format!("Invalid condition: {item}")));
                    };
                    let field = field.to_owned();
                    Ok(match op.eq_ignore_ascii_case("eq") {
                        true => Condition::Eq {
                            field,
                            value: value.clone(),
                        },
                        false => Condition::StartsWith {
                            field,
                            prefix: value.clone(),
                        },
                    })
                }
                ("content-length-range", [_, min, max]) => {
                    let number = |v: &Value| match v {
                        Value::Number(n) => n.as_u64(),
                        Value::String(s) => s.trim().parse().ok(),
                        _ => None,
                    };
                    match (number(min), number(max)) {
                        (Some(min), Some(max)) if min <= max => {
                            Ok(Condition::LengthRange { min, max })
                        }
                        _ => Err(invalid(format!("Invalid content-length-range: {item}"))),
                    }
                }
                ("eq" | "starts-with" | "content-length-range", _) => {
                    Err(invalid(format!("Invalid condition: {item}")))
                }
                _ => Err(invalid(format!("Unknown condition type: '{op}'"))),
            }
        }
        _ => Err(invalid(format!("Invalid condition: {item}"))),
    }
}

/// Form fields that no condition needs to name: the signature, the file, the policy itself,
/// SigV2's access key id and signature, and any `x-ignore-*`.
pub fn exempt(field: &str) -> bool {
    let f = field.to_ascii_lowercase();
    matches!(
        f.as_str(),
        "x-amz-signature" | "file" | "policy" | "awsaccesskeyid" | "signature"
    ) || f.starts_with("x-ignore-")
}

impl Policy {
    /// Checks the policy against the form at `now_ms`: not expired; every condition holds
    /// (`bucket` is the request's bucket; a field the form lacks reads as empty); and every
    /// form field (`fields`, names as sent) but the exempt ones is named by a condition.
    pub fn check(&self, now_ms: i64, fields: &[(String, String)], bucket: &str) -> S3Result<()> {
        if now_ms > self.expiration {
            return Err(violated("Policy expired."));
        }
        let value = |name: &str| -> &str {
            if name.eq_ignore_ascii_case("bucket") {
                return bucket;
            }
            fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map_or("", |(_, v)| v.as_str())
        };
        for condition in &self.conditions {
            let holds = match condition {
                Condition::Eq { field, value: want } => value(field) == want,
                Condition::StartsWith { field, prefix } => {
                    value(field).starts_with(prefix.as_str())
                }
                Condition::LengthRange { .. } => true,
            };
            if !holds {
                return Err(violated(format!(
                    "Policy Condition failed: {}",
                    condition.text()
                )));
            }
        }
        for (name, _) in fields {
            let named = self
                .conditions
                .iter()
                .filter_map(Condition::field)
                .any(|f| f.eq_ignore_ascii_case(name));
            if !named && !exempt(name) {
                return Err(violated(format!("Extra input fields: {name}")));
            }
        }
        Ok(())
    }

    /// The file's allowed sizes: the tightest of the `content-length-range` conditions.
    pub fn length_range(&self) -> (u64, u64) {
        self.conditions
            .iter()
            .fold((0, u64::MAX), |(lo, hi), c| match c {
                Condition::LengthRange { min, max } => (lo.max(*min), hi.min(*max)),
                _ => (lo, hi),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(json: &str) -> String {
        BASE64.encode(json)
    }

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    const NOW: i64 = 1_700_000_000_000;

    /// The example policy of "Creating a POST policy", reduced to its condition kinds.
    #[test]
    fn parses_the_documented_policy() {
        let policy = parse(&encode(
            r#"{ "expiration": "2007-12-01T12:00:00.000Z",
              "conditions": [
                {"acl": "public-read" },
                {"bucket": "johnsmith" },
                ["starts-with", "$key", "user/eric/"],
                ["content-length-range", 1048576, 10485760]
              ] }"#,
        ))
        .unwrap();
        assert_eq!(policy.expiration, 1_196_510_400_000);
        assert_eq!(
            policy.conditions[0],
            Condition::Eq {
                field: "acl".into(),
                value: "public-read".into()
            }
        );
        assert_eq!(policy.length_range(), (1_048_576, 10_485_760));
        assert_eq!(
            policy.conditions[2].text(),
            r#"["starts-with", "$key", "user/eric/"]"#
        );
        assert_eq!(
            policy.conditions[1].text(),
            r#"["eq", "$bucket", "johnsmith"]"#
        );
    }

    #[test]
    fn malformed_policies_are_invalid_policy_documents() {
        for json in [
            "not json",
            "[]",
            r#"{"conditions": []}"#,
            r#"{"expiration": "tomorrow", "conditions": []}"#,
            r#"{"expiration": "2030-01-01T00:00:00Z"}"#,
            r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": {}}"#,
            r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["in", "$key", "a"]]}"#,
            r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "key", "a"]]}"#,
            r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 5, 1]]}"#,
            r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [{"a": "1", "b": "2"}]}"#,
        ] {
            let e = parse(&encode(json)).unwrap_err();
            assert_eq!(e.code, Code::InvalidPolicyDocument, "{json}");
        }
        assert_eq!(parse("!!!").unwrap_err().code, Code::InvalidPolicyDocument);
    }

    #[test]
    fn conditions_hold_or_name_what_failed() {
        let policy = parse(&encode(
            r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [
                {"bucket": "b"}, ["starts-with", "$key", "u/"], ["eq", "$Content-Type", "text/plain"],
                ["starts-with", "$x-amz-meta-tag", ""]]}"#,
        ))
        .unwrap();
        let ok = fields(&[
            ("key", "u/a"),
            ("content-type", "text/plain"),
            ("x-amz-meta-tag", "anything"),
            ("policy", "p"),
            ("x-ignore-me", "1"),
        ]);
        policy.check(NOW, &ok, "b").unwrap();
        let e = policy.check(NOW, &ok, "other").unwrap_err();
        assert_eq!(
            e.message,
            r#"Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "b"]"#
        );
        let bad_key = fields(&[("key", "v/a"), ("content-type", "text/plain")]);
        let e = policy.check(NOW, &bad_key, "b").unwrap_err();
        assert_eq!(e.code, Code::AccessDenied);
        assert!(
            e.message.ends_with(r#"["starts-with", "$key", "u/"]"#),
            "{}",
            e.message
        );
        let extra = fields(&[
            ("key", "u/a"),
            ("content-type", "text/plain"),
            ("x-amz-meta-other", "1"),
        ]);
        let e = policy.check(NOW, &extra, "b").unwrap_err();
        assert_eq!(
            e.message,
            "Invalid according to Policy: Extra input fields: x-amz-meta-other"
        );
        let e = policy.check(1_900_000_000_000, &ok, "b").unwrap_err();
        assert_eq!(e.message, "Invalid according to Policy: Policy expired.");
    }
}
