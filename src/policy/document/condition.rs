//! The `Condition` block: operator names parsed once into [`Operator`], and one
//! [`Condition`] per (operator, key) pair with its values as strings.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html>
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>

use serde_json::{Map, Value};

use super::elements::{is_vendor, ListError, NO_VENDOR};
use super::{malformed, wrong_type, MalformedPolicy};

/// One test of the request context: `key` compared by `op` against `values`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub op: Operator,
    /// As written. AWS compares condition keys without regard to case; the evaluator must
    /// too, and keeping the original spelling lets a document be shown back unchanged.
    pub key: String,
    /// Never empty. JSON numbers and booleans are kept as their text (`10`, `true`), since
    /// the evaluator parses values per operator anyway and AWS accepts either spelling.
    pub values: Vec<String>,
}

/// A condition operator name such as `ForAnyValue:StringLikeIfExists`, taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub base: BaseOp,
    /// `...IfExists`: the condition holds when the key is absent from the request.
    pub if_exists: bool,
    /// `ForAllValues:` / `ForAnyValue:`, for multivalued keys.
    pub set: Option<SetQualifier>,
}

/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html>
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

/// The operators AWS documents, without set qualifier or `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseOp {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl BaseOp {
    /// Every operator, so that name lookup needs no second table that could drift from
    /// [`BaseOp::as_str`].
    pub const ALL: [BaseOp; 27] = [
        BaseOp::StringEquals,
        BaseOp::StringNotEquals,
        BaseOp::StringEqualsIgnoreCase,
        BaseOp::StringNotEqualsIgnoreCase,
        BaseOp::StringLike,
        BaseOp::StringNotLike,
        BaseOp::NumericEquals,
        BaseOp::NumericNotEquals,
        BaseOp::NumericLessThan,
        BaseOp::NumericLessThanEquals,
        BaseOp::NumericGreaterThan,
        BaseOp::NumericGreaterThanEquals,
        BaseOp::DateEquals,
        BaseOp::DateNotEquals,
        BaseOp::DateLessThan,
        BaseOp::DateLessThanEquals,
        BaseOp::DateGreaterThan,
        BaseOp::DateGreaterThanEquals,
        BaseOp::Bool,
        BaseOp::BinaryEquals,
        BaseOp::IpAddress,
        BaseOp::NotIpAddress,
        BaseOp::ArnEquals,
        BaseOp::ArnLike,
        BaseOp::ArnNotEquals,
        BaseOp::ArnNotLike,
        BaseOp::Null,
    ];

    /// True for the operators that match when the key does *not* match any value. The
    /// evaluator needs this because they are also true when the key is absent.
    pub fn is_negated(&self) -> bool {
        matches!(
            self,
            BaseOp::StringNotEquals
                | BaseOp::StringNotEqualsIgnoreCase
                | BaseOp::StringNotLike
                | BaseOp::NumericNotEquals
                | BaseOp::DateNotEquals
                | BaseOp::NotIpAddress
                | BaseOp::ArnNotEquals
                | BaseOp::ArnNotLike
        )
    }

    /// The name as written in a policy.
    pub fn as_str(&self) -> &'static str {
        match self {
            BaseOp::StringEquals => "StringEquals",
            BaseOp::StringNotEquals => "StringNotEquals",
            BaseOp::StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            BaseOp::StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            BaseOp::StringLike => "StringLike",
            BaseOp::StringNotLike => "StringNotLike",
            BaseOp::NumericEquals => "NumericEquals",
            BaseOp::NumericNotEquals => "NumericNotEquals",
            BaseOp::NumericLessThan => "NumericLessThan",
            BaseOp::NumericLessThanEquals => "NumericLessThanEquals",
            BaseOp::NumericGreaterThan => "NumericGreaterThan",
            BaseOp::NumericGreaterThanEquals => "NumericGreaterThanEquals",
            BaseOp::DateEquals => "DateEquals",
            BaseOp::DateNotEquals => "DateNotEquals",
            BaseOp::DateLessThan => "DateLessThan",
            BaseOp::DateLessThanEquals => "DateLessThanEquals",
            BaseOp::DateGreaterThan => "DateGreaterThan",
            BaseOp::DateGreaterThanEquals => "DateGreaterThanEquals",
            BaseOp::Bool => "Bool",
            BaseOp::BinaryEquals => "BinaryEquals",
            BaseOp::IpAddress => "IpAddress",
            BaseOp::NotIpAddress => "NotIpAddress",
            BaseOp::ArnEquals => "ArnEquals",
            BaseOp::ArnLike => "ArnLike",
            BaseOp::ArnNotEquals => "ArnNotEquals",
            BaseOp::ArnNotLike => "ArnNotLike",
            BaseOp::Null => "Null",
        }
    }

    /// Case-sensitive, as AWS is.
    fn from_name(name: &str) -> Option<BaseOp> {
        BaseOp::ALL.into_iter().find(|op| op.as_str() == name)
    }
}

impl Operator {
    /// Parses `[ForAllValues:|ForAnyValue:]<base>[IfExists]`, case-sensitively.
    pub fn from_name(name: &str) -> Result<Operator, MalformedPolicy> {
        let (set, rest) = if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else {
            (None, name)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let base = BaseOp::from_name(base)
            .ok_or_else(|| malformed(format!("Invalid condition operator: {name}")))?;
        // Null already asks whether the key exists; the operators page offers no NullIfExists.
        if base == BaseOp::Null && if_exists {
            return Err(malformed(format!(
                "Invalid condition operator: {name} (Null cannot take IfExists)"
            )));
        }
        Ok(Operator {
            base,
            if_exists,
            set,
        })
    }
}

/// The whole `Condition` element: `{ operator: { key: value-or-values, ... }, ... }`.
/// An empty block, or an operator with no keys, adds no condition (and so no restriction).
pub(super) fn parse_block(value: &Value) -> Result<Vec<Condition>, MalformedPolicy> {
    let Value::Object(operators) = value else {
        return Err(wrong_type("Condition", "an object"));
    };
    let mut conditions = Vec::new();
    for (name, keys) in operators {
        let op = Operator::from_name(name)?;
        let Value::Object(keys) = keys else {
            return Err(wrong_type(&format!("Condition {name}"), "an object"));
        };
        parse_keys(op, name, keys, &mut conditions)?;
    }
    Ok(conditions)
}

fn parse_keys(
    op: Operator,
    op_name: &str,
    keys: &Map<String, Value>,
    out: &mut Vec<Condition>,
) -> Result<(), MalformedPolicy> {
    for (key, value) in keys {
        check_key(key)?;
        let values = condition_values(value).map_err(|e| match e {
            ListError::WrongType => wrong_type(
                &format!("Condition {op_name} {key}"),
                "a string, number, boolean or a non-empty array of them",
            ),
            ListError::Empty => malformed(format!(
                "Condition {op_name} {key} must have at least one value."
            )),
        })?;
        out.push(Condition {
            op,
            key: key.clone(),
            values,
        });
    }
    Ok(())
}

/// Keys are `vendor:name` (`aws:username`, `s3:prefix`). Unlike actions the name may hold
/// further colons: tag keys such as `aws:ResourceTag/aws:cloudformation:stack-name` do. An
/// OpenID Connect provider's keys are named by its URL without the scheme, which may hold
/// dots, a port and a path: `token.actions.githubusercontent.com:sub`,
/// `oidc.example.com:8443/tenant:aud`.
fn check_key(key: &str) -> Result<(), MalformedPolicy> {
    match key.split_once(':') {
        Some((vendor, name)) if is_vendor(vendor) && !name.is_empty() => Ok(()),
        _ if is_provider_key(key) => Ok(()),
        _ => Err(malformed(NO_VENDOR)),
    }
}

/// `host[:port][/path]:claim`, the host with at least one dot (or an IPv4 address).
fn is_provider_key(key: &str) -> bool {
    let Some((url, claim)) = key.rsplit_once(':') else {
        return false;
    };
    let host = url.split(['/', ':']).next().unwrap_or_default();
    !claim.is_empty()
        && claim
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && host.contains('.')
        && url
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%/:".contains(&b))
}

/// A scalar or a non-empty array of scalars, as text. `null`, objects and nested arrays are
/// refused: they have no text form AWS would compare against.
fn condition_values(value: &Value) -> Result<Vec<String>, ListError> {
    match value {
        Value::Array(items) if items.is_empty() => Err(ListError::Empty),
        Value::Array(items) => items.iter().map(scalar_text).collect(),
        other => scalar_text(other).map(|text| vec![text]),
    }
}

/// serde_json prints integers as written; a float comes back in Rust's shortest form
/// (`1e3` as `1000.0`), which every numeric comparison reads as the same number.
fn scalar_text(value: &Value) -> Result<String, ListError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(ListError::WrongType),
    }
}
