//! Policy evaluation: compiled policies + one request -> [`Decision`]. Pure: no I/O, no clock
//! (the time, like everything else about the request, arrives in the [`Context`]).
//!
//! AWS's logic for a request within one account
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>):
//! an explicit `Deny` in any applicable policy wins; otherwise an `Allow` in any of them
//! allows; otherwise the request is implicitly denied.
//!
//! Codemap:
//! - `statement`: whether one statement applies (action, principal, resource, conditions);
//! - `condition`: the condition operators, set qualifiers, `IfExists` and `Null`;
//! - `variables`: `${...}` policy variables, resolved from the context per request;
//! - `principal`: `Principal` / `NotPrincipal` of bucket policies;
//! - `date`: the value format of the `Date*` operators (`IpAddress` ranges: `crate::cidr`);
//! - `context`: the request's condition keys.
//!
//! Invariant: [`CompiledPolicy::compile`] does all the work that does not depend on the
//! request (lowercasing actions, compiling wildcards, parsing numbers, dates and ranges), so
//! that [`evaluate`] allocates only for policy variables and for the statements it reports.

mod condition;
mod context;
mod date;
mod principal;
mod statement;
#[cfg(test)]
mod tests;
mod variables;

pub use context::Context;

use crate::policy::document::{parse, Effect, PolicyDocument, PolicyKind, ResourceSpec, Version};
use statement::CompiledStatement;

/// Who is asking, for Principal matching in resource (bucket) policies. None = anonymous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller<'a> {
    /// `arn:aws:iam::123456789012:user/alice`, or `...:root` for the account's root.
    pub arn: &'a str,
    /// The twelve-digit account id.
    pub account: &'a str,
    /// Carried for the callers' benefit (logging, `aws:PrincipalType`); Principal matching
    /// needs only the ARN and account, since an account principal covers its root too.
    pub is_root: bool,
    /// For a role session, the role's ARN: a principal naming the role names its sessions.
    pub role_arn: Option<&'a str>,
}

/// One request to authorize.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `s3:GetObject`; matched without regard to case.
    pub action: &'a str,
    /// `arn:aws:s3:::bucket/key` for object operations, `arn:aws:s3:::bucket` for bucket ones.
    pub resource: &'a str,
    /// `None` for an anonymous request.
    pub caller: Option<Caller<'a>>,
    pub context: &'a Context,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// A `Deny` statement applied.
    ExplicitDeny,
    /// No statement allowed the request (and none denied it).
    ImplicitDeny,
}

/// A statement that matched: which policy (index into the slice given) and statement, and its
/// Sid. The bucket policy, passed separately, has index `identity.len()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub policy: usize,
    pub statement: usize,
    pub sid: Option<String>,
    pub effect: Effect,
}

/// The decision and the statements that made it: every applicable `Deny` for an explicit
/// deny, every applicable `Allow` for an allow, none for an implicit deny.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    pub matched: Vec<Matched>,
}

/// A policy prepared for fast evaluation: actions lowercased, patterns compiled, operators
/// resolved; variables kept as templates (resolved per request from the context, only for
/// Version 2012-10-17).
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    statements: Vec<CompiledStatement>,
    /// Every context key a statement reads (conditions, and policy variables without a
    /// default), ASCII-lowercased: what `reads_keys_starting_with` answers from, so that a
    /// caller can skip gathering keys that cost I/O when no policy reads them.
    keys_read: Vec<String>,
}

impl CompiledPolicy {
    pub fn compile(doc: &PolicyDocument) -> CompiledPolicy {
        // Under 2008-10-17 `${aws:username}` is literal text
        // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html).
        let variables = doc.version == Version::V2012_10_17;
        let statements: Vec<CompiledStatement> = doc
            .statements
            .iter()
            .map(|s| CompiledStatement::compile(s, variables))
            .collect();
        let mut keys = Vec::new();
        for statement in &statements {
            statement.context_keys(&mut keys);
        }
        let mut keys_read: Vec<String> = keys.iter().map(|k| k.to_ascii_lowercase()).collect();
        keys_read.sort_unstable();
        keys_read.dedup();
        CompiledPolicy {
            statements,
            keys_read,
        }
    }

    /// A role's trust policy: its statements name no resource (the role it belongs to is
    /// their resource), so each is compiled as naming every resource; the role's ARN is the
    /// only resource it is ever evaluated on.
    pub fn compile_trust(doc: &PolicyDocument) -> CompiledPolicy {
        let mut doc = doc.clone();
        for statement in &mut doc.statements {
            statement
                .resources
                .get_or_insert_with(|| ResourceSpec::Resource(vec!["*".to_owned()]));
        }
        CompiledPolicy::compile(&doc)
    }

    /// Whether any statement reads a context key starting with `prefix` (ASCII case folded,
    /// as keys are looked up), whatever its action. S3 asks it for `s3:ExistingObjectTag/`
    /// before reading an object's tags for authorization.
    pub fn reads_keys_starting_with(&self, prefix: &str) -> bool {
        self.keys_read.iter().any(|key| {
            key.len() >= prefix.len()
                && key.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
        })
    }

    /// The context keys that the statements naming `action` read (condition keys, and the
    /// keys of policy variables without a default), each once regardless of ASCII case, in
    /// the order the policy first mentions them. What the simulation APIs report as missing
    /// when the context lacks them; evaluation does not use it.
    pub fn context_keys(&self, action: &str) -> Vec<&str> {
        let mut all = Vec::new();
        for statement in self.statements.iter().filter(|s| s.names_action(action)) {
            statement.context_keys(&mut all);
        }
        let mut keys: Vec<&str> = Vec::with_capacity(all.len());
        for key in all {
            if !keys.iter().any(|known| known.eq_ignore_ascii_case(key)) {
                keys.push(key);
            }
        }
        keys
    }

    /// A policy that denies every action on every resource to everyone. It stands in for a
    /// stored document that no longer parses: losing access is safer than granting it.
    pub fn deny_all() -> CompiledPolicy {
        const DENY_ALL: &str = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}"#;
        match parse(DENY_ALL, PolicyKind::Resource) {
            Ok(doc) => CompiledPolicy::compile(&doc),
            Err(e) => unreachable!("the deny-all policy is valid: {e:?}"),
        }
    }
}

/// AWS's logic for one account: an explicit Deny in any policy wins; else an Allow in any
/// policy allows; else implicit deny. `identity` are the caller's identity policies (empty for
/// anonymous); `resource` is the bucket policy, whose statements apply only when their
/// Principal/NotPrincipal matches the caller.
pub fn evaluate(
    identity: &[&CompiledPolicy],
    resource: Option<&CompiledPolicy>,
    req: &Request,
) -> Evaluation {
    let policies = || identity.iter().copied().chain(resource).enumerate();
    // Denies first: when one applies, no Allow needs evaluating.
    let denies = applicable(policies(), Effect::Deny, req);
    if !denies.is_empty() {
        return Evaluation {
            decision: Decision::ExplicitDeny,
            matched: denies,
        };
    }
    let allows = applicable(policies(), Effect::Allow, req);
    let decision = match allows.is_empty() {
        true => Decision::ImplicitDeny,
        false => Decision::Allowed,
    };
    Evaluation {
        decision,
        matched: allows,
    }
}

/// The index a permissions boundary's statements carry in [`Matched::policy`]: after the
/// identity policies and the resource policy's place (`identity.len()`), whether or not a
/// resource policy is given.
pub fn boundary_index(identity: &[&CompiledPolicy]) -> usize {
    identity.len() + 1
}

/// AWS's logic for a principal with a permissions boundary, within one account
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html>):
///
/// - an explicit `Deny` in any policy (identity, resource or boundary) wins;
/// - else the identity policies grant only what the boundary allows too (the intersection);
/// - else a resource policy statement that names the caller's ARN as its `Principal` grants
///   by itself: an implicit deny in a boundary does not limit what a same-account resource
///   policy grants to the principal's ARN. A statement granting to everyone (`*`) or by
///   `NotPrincipal` does not: it names no one, and granting less is the safe reading;
/// - else implicit deny.
///
/// `boundary: None` is [`evaluate`] exactly. The second value is the boundary's own verdict,
/// `Some(true)` when it allows the request (an `Allow` applies and no `Deny` of its own), for
/// the simulation's `PermissionsBoundaryDecisionDetail`; `None` without a boundary. Matched
/// boundary statements carry [`boundary_index`].
pub fn evaluate_bounded(
    identity: &[&CompiledPolicy],
    boundary: Option<&CompiledPolicy>,
    resource: Option<&CompiledPolicy>,
    req: &Request,
) -> (Evaluation, Option<bool>) {
    let Some(boundary) = boundary else {
        return (evaluate(identity, resource, req), None);
    };
    let at = boundary_index(identity);
    let bounded = || std::iter::once((at, boundary));
    let mut denies = applicable(
        identity.iter().copied().chain(resource).enumerate(),
        Effect::Deny,
        req,
    );
    let boundary_denies = applicable(bounded(), Effect::Deny, req);
    let boundary_allows = applicable(bounded(), Effect::Allow, req);
    let boundary_allowed = boundary_denies.is_empty() && !boundary_allows.is_empty();
    denies.extend(boundary_denies);
    if !denies.is_empty() {
        let evaluation = Evaluation {
            decision: Decision::ExplicitDeny,
            matched: denies,
        };
        return (evaluation, Some(boundary_allowed));
    }
    let identity_allows = applicable(identity.iter().copied().enumerate(), Effect::Allow, req);
    let resource_at = identity.len();
    let resource_allows = applicable(
        resource.map(|r| (resource_at, r)).into_iter(),
        Effect::Allow,
        req,
    );
    let named = resource.is_some_and(|r| {
        resource_allows
            .iter()
            .filter_map(|m| r.statements.get(m.statement))
            .any(|statement| statement.names_caller(req))
    });
    let through_identity = !identity_allows.is_empty() && boundary_allowed;
    let mut matched = Vec::new();
    if through_identity {
        matched.extend(identity_allows);
        matched.extend(boundary_allows);
    }
    if through_identity || named {
        matched.extend(resource_allows);
    }
    let decision = match matched.is_empty() {
        true => Decision::ImplicitDeny,
        false => Decision::Allowed,
    };
    (Evaluation { decision, matched }, Some(boundary_allowed))
}

/// Every statement with `effect` that applies to `req`.
fn applicable<'a>(
    policies: impl Iterator<Item = (usize, &'a CompiledPolicy)>,
    effect: Effect,
    req: &Request,
) -> Vec<Matched> {
    let mut matched = Vec::new();
    for (policy, compiled) in policies {
        for (index, statement) in compiled.statements.iter().enumerate() {
            if statement.effect == effect && statement.applies(req) {
                matched.push(Matched {
                    policy,
                    statement: index,
                    sid: statement.sid.clone(),
                    effect,
                });
            }
        }
    }
    matched
}
