//! The IAM policy language as plain data: [`parse`] turns a JSON policy document into a
//! [`PolicyDocument`], or into a [`MalformedPolicy`] whose text the client sees in IAM's
//! `MalformedPolicyDocument` (or S3's `MalformedPolicy`). Pure: no I/O.
//!
//! Grammar: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html>
//!
//! Invariant: after `parse`, every single-or-array field is a non-empty `Vec` and every
//! condition operator is an enum, so the evaluator never looks at JSON or operator names again.
//!
//! Boundary: this module checks the *shape* of a policy. It does not know which actions,
//! condition keys or principals exist; the evaluator and the stores give them meaning.
//!
//! `positions` finds where each statement sits in the text, for the simulation APIs.
//!
//! We walk a `serde_json::Value` by hand instead of deriving `Deserialize` with untagged
//! enums: the walk knows which element it is in, so its errors can name it the way AWS does.

mod condition;
mod elements;
mod positions;
#[cfg(test)]
mod tests;

use std::collections::HashSet;

use serde_json::{Map, Value};

pub use condition::{BaseOp, Condition, Operator, SetQualifier};
pub use positions::{statement_positions, Position};

/// Which kind of policy a document is, because the two differ in what a statement must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Attached to a user or group: the principal is implied, so `Principal` is refused.
    Identity,
    /// An S3 bucket policy: every statement must say whom it applies to.
    Resource,
    /// A role's trust policy (`AssumeRolePolicyDocument`): every statement names a
    /// `Principal`, acts only on the role itself (no `Resource`), with `sts:` actions only.
    Trust,
}

/// The policy language version.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html>
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// Also what an absent `Version` means; policy variables are literal text under it.
    V2008_10_17,
    /// The current language, with policy variables such as `${aws:username}`.
    V2012_10_17,
}

/// A parsed, shape-checked policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    /// Decides whether the evaluator expands policy variables.
    pub version: Version,
    /// Kept only so a document can be shown back; AWS gives it no meaning in IAM or S3.
    pub id: Option<String>,
    /// Never empty: a document without statements is refused.
    pub statements: Vec<Statement>,
}

/// One statement. Statements in a document are OR-ed by the evaluator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Only a label; unique within a document when non-empty.
    pub sid: Option<String>,
    pub effect: Effect,
    pub actions: ActionSpec,
    /// `Some` for identity and bucket policies, which require it; `None` for trust policies,
    /// which may not have one (the resource is the role).
    pub resources: Option<ResourceSpec>,
    /// `None` for identity policies, `Some` for bucket and trust policies.
    pub principals: Option<PrincipalSpec>,
    /// All must hold (AND). One entry per (operator, key) pair in the `Condition` block.
    pub conditions: Vec<Condition>,
}

/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_effect.html>
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// Action patterns: `*` or `vendor:pattern`, where the pattern may hold `*` and `?`.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionSpec {
    Action(Vec<String>),
    NotAction(Vec<String>),
}

/// Resource patterns: `*` or ARNs, possibly with wildcards and policy variables.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceSpec {
    Resource(Vec<String>),
    NotResource(Vec<String>),
}

/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalSpec {
    Principal(Principals),
    NotPrincipal(Principals),
}

/// `"*"` means everyone (anonymous included). Otherwise a map of type -> values: "AWS" (ARNs,
/// account ids, "*"), "Service", "Federated", "CanonicalUser".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    Any,
    /// Each type at most once, each with a non-empty list of non-empty values.
    Typed(Vec<(PrincipalType, Vec<String>)>),
}

/// The keys allowed inside a `Principal` object, spelled in JSON as `AWS`, `Service`,
/// `Federated` and `CanonicalUser`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    Aws,
    Service,
    Federated,
    CanonicalUser,
}

/// Why a document was refused; the text is shown to the client as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MalformedPolicy(pub String);

/// Parses and shape-checks a policy document of the given kind.
pub fn parse(json: &str, kind: PolicyKind) -> Result<PolicyDocument, MalformedPolicy> {
    // On duplicate object keys serde_json keeps the last value. AWS does not document what
    // it does; keeping exactly one value means the evaluator sees what validation checked.
    let value: Value = serde_json::from_str(json).map_err(|_| malformed(SYNTAX))?;
    let Value::Object(top) = value else {
        return Err(malformed(SYNTAX));
    };
    reject_unknown_keys(&top, TOP_LEVEL_KEYS)?;
    let version = parse_version(top.get("Version"))?;
    let id = match top.get("Id") {
        None => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => return Err(wrong_type("Id", "a string")),
    };
    let statements = parse_statements(top.get("Statement"), kind)?;
    Ok(PolicyDocument {
        version,
        id,
        statements,
    })
}

/// Characters excluding JSON whitespace (space, tab, CR, LF) — what AWS counts for the size
/// quotas (managed policy 6144; user inline total 2048; group inline total 5120). Counts
/// chars, not bytes, and whitespace inside strings too, as the quota page says IAM "does not
/// count white space". <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html>
pub fn non_whitespace_len(json: &str) -> usize {
    json.chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
        .count()
}

// Messages. Where AWS's wording is known it is used verbatim, since scripts and people
// search for it; the others follow its style.
const SYNTAX: &str = "Syntax errors in policy.";
const LEGACY_PARSING: &str = "The policy failed legacy parsing";
const MISSING_STATEMENT: &str = "Missing required field Statement";
const EMPTY_STATEMENT: &str = "Could not parse the policy: Statement is empty!";
const MISSING_EFFECT: &str = "Missing required field Effect";
const SID_NOT_ALPHANUMERIC: &str = "Statement IDs (SID) must be alpha-numeric. \
     Check that your input satisfies the regular expression [0-9A-Za-z]*";
const SID_NOT_UNIQUE: &str = "Statement IDs (SID) in a single policy must be unique.";
const MISSING_ACTIONS: &str = "Policy statement must contain actions.";
const MISSING_RESOURCES: &str = "Policy statement must contain resources.";
const PRINCIPAL_IN_IDENTITY: &str = "Policy document should not specify a principal.";
const MISSING_PRINCIPAL: &str = "Missing required field Principal";
const TRUST_ACTIONS_ONLY: &str = "AssumeRole policy may only specify STS AssumeRole actions.";

const TOP_LEVEL_KEYS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
];

fn malformed(message: impl Into<String>) -> MalformedPolicy {
    MalformedPolicy(message.into())
}

/// A value of the wrong JSON type, e.g. `"Effect": 1` or `"Action": {}`.
fn wrong_type(element: &str, expected: &str) -> MalformedPolicy {
    malformed(format!("{SYNTAX} {element} must be {expected}."))
}

/// Keys are case-sensitive, as in AWS: `"effect"` is an unknown field, not `Effect`.
fn reject_unknown_keys(object: &Map<String, Value>, known: &[&str]) -> Result<(), MalformedPolicy> {
    match object.keys().find(|key| !known.contains(&key.as_str())) {
        Some(key) => Err(malformed(format!("{SYNTAX} Unknown field {key}."))),
        None => Ok(()),
    }
}

fn parse_version(value: Option<&Value>) -> Result<Version, MalformedPolicy> {
    match value {
        // AWS's default when the element is absent (see the Version page linked above).
        None => Ok(Version::V2008_10_17),
        Some(Value::String(v)) if v == "2012-10-17" => Ok(Version::V2012_10_17),
        Some(Value::String(v)) if v == "2008-10-17" => Ok(Version::V2008_10_17),
        Some(_) => Err(malformed(LEGACY_PARSING)),
    }
}

/// `Statement` is one object or a non-empty array of objects; the result is always a list.
fn parse_statements(
    value: Option<&Value>,
    kind: PolicyKind,
) -> Result<Vec<Statement>, MalformedPolicy> {
    let objects: Vec<&Map<String, Value>> = match value {
        None => return Err(malformed(MISSING_STATEMENT)),
        Some(Value::Object(one)) => vec![one],
        Some(Value::Array(items)) if items.is_empty() => return Err(malformed(EMPTY_STATEMENT)),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_object().ok_or_else(statement_wrong_type))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(statement_wrong_type()),
    };
    let statements = objects
        .into_iter()
        .map(|object| parse_statement(object, kind))
        .collect::<Result<Vec<_>, _>>()?;
    check_sids_unique(&statements)?;
    Ok(statements)
}

fn statement_wrong_type() -> MalformedPolicy {
    wrong_type("Statement", "an object or an array of objects")
}

/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html>
/// An empty Sid is exempt: tools such as Terraform write `"Sid": ""` on every statement.
fn check_sids_unique(statements: &[Statement]) -> Result<(), MalformedPolicy> {
    let mut seen = HashSet::new();
    for sid in statements.iter().filter_map(|s| s.sid.as_deref()) {
        if !sid.is_empty() && !seen.insert(sid) {
            return Err(malformed(SID_NOT_UNIQUE));
        }
    }
    Ok(())
}

fn parse_statement(
    object: &Map<String, Value>,
    kind: PolicyKind,
) -> Result<Statement, MalformedPolicy> {
    reject_unknown_keys(object, STATEMENT_KEYS)?;
    let sid = parse_sid(object.get("Sid"), kind)?;
    let effect = parse_effect(object.get("Effect"))?;
    let principals = parse_principal_block(object, kind)?;
    let actions = match one_of(object, "Action", "NotAction")? {
        None => return Err(malformed(MISSING_ACTIONS)),
        Some((false, value)) => ActionSpec::Action(elements::actions(value, "Action")?),
        Some((true, value)) => ActionSpec::NotAction(elements::actions(value, "NotAction")?),
    };
    if kind == PolicyKind::Trust {
        check_trust_actions(&actions)?;
    }
    let resources = match one_of(object, "Resource", "NotResource")? {
        // A trust policy's resource is the role it belongs to.
        None if kind == PolicyKind::Trust => None,
        Some((negative, _)) if kind == PolicyKind::Trust => {
            let field = if negative { "NotResource" } else { "Resource" };
            return Err(malformed(format!("Has prohibited field {field}")));
        }
        None => return Err(malformed(MISSING_RESOURCES)),
        Some((false, value)) => Some(ResourceSpec::Resource(elements::resources(
            value, "Resource",
        )?)),
        Some((true, value)) => Some(ResourceSpec::NotResource(elements::resources(
            value,
            "NotResource",
        )?)),
    };
    let conditions = match object.get("Condition") {
        None => Vec::new(),
        Some(value) => condition::parse_block(value)?,
    };
    Ok(Statement {
        sid,
        effect,
        actions,
        resources,
        principals,
        conditions,
    })
}

/// Identity policies allow only ASCII letters and digits in a Sid (see the Sid page); bucket
/// policies are laxer, and real ones carry spaces and dashes, so any string is kept there.
fn parse_sid(value: Option<&Value>, kind: PolicyKind) -> Result<Option<String>, MalformedPolicy> {
    let sid = match value {
        None => return Ok(None),
        Some(Value::String(sid)) => sid,
        Some(_) => return Err(wrong_type("Sid", "a string")),
    };
    if kind == PolicyKind::Identity && !sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(malformed(SID_NOT_ALPHANUMERIC));
    }
    Ok(Some(sid.clone()))
}

/// Exact case, as AWS requires: `"allow"` is refused.
fn parse_effect(value: Option<&Value>) -> Result<Effect, MalformedPolicy> {
    match value {
        None => Err(malformed(MISSING_EFFECT)),
        Some(Value::String(e)) if e == "Allow" => Ok(Effect::Allow),
        Some(Value::String(e)) if e == "Deny" => Ok(Effect::Deny),
        Some(Value::String(e)) => Err(malformed(format!("Invalid effect: {e}"))),
        Some(_) => Err(wrong_type("Effect", "\"Allow\" or \"Deny\"")),
    }
}

fn parse_principal_block(
    object: &Map<String, Value>,
    kind: PolicyKind,
) -> Result<Option<PrincipalSpec>, MalformedPolicy> {
    let has_any = object.contains_key("Principal") || object.contains_key("NotPrincipal");
    if kind == PolicyKind::Identity {
        // The principal of an identity policy is whoever it is attached to.
        return match has_any {
            true => Err(malformed(PRINCIPAL_IN_IDENTITY)),
            false => Ok(None),
        };
    }
    if kind == PolicyKind::Trust && object.contains_key("NotPrincipal") {
        // Whom a role trusts is named, never everyone but someone.
        return Err(malformed("Has prohibited field NotPrincipal"));
    }
    match one_of(object, "Principal", "NotPrincipal")? {
        None => Err(malformed(MISSING_PRINCIPAL)),
        Some((false, v)) if kind == PolicyKind::Trust => {
            let principals = elements::principals(v)?;
            check_trust_principals(&principals)?;
            Ok(Some(PrincipalSpec::Principal(principals)))
        }
        Some((false, v)) => Ok(Some(PrincipalSpec::Principal(elements::principals(v)?))),
        Some((true, v)) => Ok(Some(PrincipalSpec::NotPrincipal(elements::principals(v)?))),
    }
}

/// Whom a trust policy may name: `AWS` principals are `*`, an account id, or an IAM ARN of
/// an account's root, a user, a role or an assumed-role session; `Service` and `Federated`
/// names are kept as given; `CanonicalUser` (an S3 notion) is refused. AWS's message quotes
/// the principal, as `Invalid principal in policy: "AWS":"alice"`.
fn check_trust_principals(principals: &Principals) -> Result<(), MalformedPolicy> {
    let Principals::Typed(typed) = principals else {
        return Ok(());
    };
    for (kind, ids) in typed {
        for id in ids {
            let (ok, label) = match kind {
                PrincipalType::Aws => (aws_principal(id), "AWS"),
                PrincipalType::Service => (true, "Service"),
                PrincipalType::Federated => (true, "Federated"),
                PrincipalType::CanonicalUser => (false, "CanonicalUser"),
            };
            if !ok {
                return Err(malformed(format!(
                    "Invalid principal in policy: \"{label}\":\"{id}\""
                )));
            }
        }
    }
    Ok(())
}

fn aws_principal(id: &str) -> bool {
    let account = |a: &str| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit());
    if id == "*" || account(id) {
        return true;
    }
    let arn = |service: &str| {
        id.strip_prefix("arn:aws:")
            .and_then(|rest| rest.strip_prefix(service))
            .and_then(|rest| rest.strip_prefix("::"))
            .and_then(|rest| rest.split_once(':'))
            .filter(|(acct, _)| account(acct))
            .map(|(_, resource)| resource)
    };
    let named = |resource: &str, kind: &str| {
        resource
            .strip_prefix(kind)
            .is_some_and(|rest| rest.starts_with('/') && !rest.ends_with('/') && rest.len() > 1)
    };
    match (arn("iam"), arn("sts")) {
        (Some(resource), _) => {
            resource == "root" || named(resource, "user") || named(resource, "role")
        }
        (None, Some(resource)) => named(resource, "assumed-role"),
        (None, None) => false,
    }
}

/// A trust policy's actions are the STS actions that take on a role (`sts:AssumeRole…`,
/// `sts:TagSession`, `sts:SetSourceIdentity`), or wildcards within the `sts` service.
/// `NotAction` is refused: it would name every other service's actions.
fn check_trust_actions(actions: &ActionSpec) -> Result<(), MalformedPolicy> {
    const TRUST_ACTIONS: &[&str] = &[
        "assumerole",
        "assumerolewithwebidentity",
        "assumerolewithsaml",
        "tagsession",
        "setsourceidentity",
        "setcontext",
    ];
    let ActionSpec::Action(actions) = actions else {
        return Err(malformed(TRUST_ACTIONS_ONLY));
    };
    let allowed = |action: &str| {
        if action == "*" {
            return true;
        }
        let Some((service, name)) = action.split_once(':') else {
            return false;
        };
        let name = name.to_ascii_lowercase();
        service.eq_ignore_ascii_case("sts")
            && (name.contains(['*', '?']) || TRUST_ACTIONS.contains(&name.as_str()))
    };
    match actions.iter().all(|a| allowed(a)) {
        true => Ok(()),
        false => Err(malformed(TRUST_ACTIONS_ONLY)),
    }
}

/// The value of whichever of a positive/negative pair (`Action`/`NotAction`, ...) is present,
/// with `true` when it is the negative one. Both at once is refused: the grammar allows one.
fn one_of<'a>(
    object: &'a Map<String, Value>,
    positive: &str,
    negative: &str,
) -> Result<Option<(bool, &'a Value)>, MalformedPolicy> {
    match (object.get(positive), object.get(negative)) {
        (Some(_), Some(_)) => Err(malformed(format!(
            "Statement cannot contain both {positive} and {negative}."
        ))),
        (Some(value), None) => Ok(Some((false, value))),
        (None, Some(value)) => Ok(Some((true, value))),
        (None, None) => Ok(None),
    }
}
