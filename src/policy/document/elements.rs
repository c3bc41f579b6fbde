//! The single-or-array statement elements: `Action`, `Resource` and `Principal` (and their
//! `Not` forms), each normalized to a non-empty `Vec` and checked for shape.

use serde_json::Value;

use super::{malformed, wrong_type, MalformedPolicy, PrincipalType, Principals};

/// AWS's words for an action without a usable `vendor:` prefix; it uses the same text for
/// condition keys, hence the "Conditions".
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html>
pub(super) const NO_VENDOR: &str =
    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
const VENDOR_WILDCARD: &str = "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards";
const ONE_COLON: &str = "Actions/Condition can contain only one colon.";
const INVALID_PRINCIPAL: &str = "Invalid principal in policy";
const SINGLE_OR_ARRAY: &str = "a string or an array of strings";

/// What was wrong with a single-or-array value, so each element can word its own error.
pub(super) enum ListError {
    WrongType,
    Empty,
}

/// A string or a non-empty array of strings, as a `Vec`.
pub(super) fn string_list(value: &Value) -> Result<Vec<String>, ListError> {
    match value {
        Value::String(one) => Ok(vec![one.clone()]),
        Value::Array(items) if items.is_empty() => Err(ListError::Empty),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or(ListError::WrongType))
            .collect(),
        _ => Err(ListError::WrongType),
    }
}

/// `element` is `Action` or `NotAction`, for the error text.
pub(super) fn actions(value: &Value, element: &str) -> Result<Vec<String>, MalformedPolicy> {
    let actions = string_list(value).map_err(|e| match e {
        ListError::WrongType => wrong_type(element, SINGLE_OR_ARRAY),
        ListError::Empty => malformed("Policy statement must contain actions."),
    })?;
    for action in &actions {
        check_action(action)?;
    }
    Ok(actions)
}

/// `*`, or `vendor:pattern` with an ASCII-alphanumeric (or `-`) vendor and a non-empty
/// pattern holding no further colon. Wildcards are fine in the pattern, not in the vendor.
fn check_action(action: &str) -> Result<(), MalformedPolicy> {
    if action == "*" {
        return Ok(());
    }
    let Some((vendor, pattern)) = action.split_once(':') else {
        return Err(malformed(NO_VENDOR));
    };
    if vendor.contains(['*', '?']) {
        return Err(malformed(VENDOR_WILDCARD));
    }
    if !is_vendor(vendor) || pattern.is_empty() {
        return Err(malformed(NO_VENDOR));
    }
    if pattern.contains(':') {
        return Err(malformed(ONE_COLON));
    }
    Ok(())
}

/// A service prefix such as `s3`, `iam` or `aws-marketplace`.
pub(super) fn is_vendor(vendor: &str) -> bool {
    !vendor.is_empty()
        && vendor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `element` is `Resource` or `NotResource`, for the error text.
pub(super) fn resources(value: &Value, element: &str) -> Result<Vec<String>, MalformedPolicy> {
    let resources = string_list(value).map_err(|e| match e {
        ListError::WrongType => wrong_type(element, SINGLE_OR_ARRAY),
        ListError::Empty => malformed("Policy statement must contain resources."),
    })?;
    for resource in &resources {
        if !is_resource_pattern(resource) {
            return Err(malformed(format!(
                "Resource {resource} must be in ARN format or \"*\"."
            )));
        }
    }
    Ok(resources)
}

/// `*`, or `arn:partition:service:region:account:resource`: at least six colon-separated
/// parts, the last of which may itself hold colons. Policy variables such as
/// `${aws:username}` only add colons, so they never make a valid ARN fail.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html>
fn is_resource_pattern(resource: &str) -> bool {
    resource == "*" || (resource.starts_with("arn:") && resource.split(':').count() >= 6)
}

/// `"*"`, or an object mapping principal types to a string or non-empty array of strings.
/// Every shape error gets AWS's one message, which names no detail either.
pub(super) fn principals(value: &Value) -> Result<Principals, MalformedPolicy> {
    let map = match value {
        Value::String(star) if star == "*" => return Ok(Principals::Any),
        Value::Object(map) if !map.is_empty() => map,
        _ => return Err(malformed(INVALID_PRINCIPAL)),
    };
    let mut typed = Vec::with_capacity(map.len());
    for (name, ids) in map {
        let kind = principal_type(name).ok_or_else(|| malformed(INVALID_PRINCIPAL))?;
        let ids = string_list(ids).map_err(|_| malformed(INVALID_PRINCIPAL))?;
        if ids.iter().any(String::is_empty) {
            return Err(malformed(INVALID_PRINCIPAL));
        }
        typed.push((kind, ids));
    }
    Ok(Principals::Typed(typed))
}

/// Case-sensitive like every other key in the grammar.
fn principal_type(name: &str) -> Option<PrincipalType> {
    match name {
        "AWS" => Some(PrincipalType::Aws),
        "Service" => Some(PrincipalType::Service),
        "Federated" => Some(PrincipalType::Federated),
        "CanonicalUser" => Some(PrincipalType::CanonicalUser),
        _ => None,
    }
}
