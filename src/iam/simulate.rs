//! SimulatePrincipalPolicy and SimulateCustomPolicy: would these policies allow that action on
//! that resource? Answered by the evaluator the request path uses (`policy::eval::evaluate`),
//! with the policies the authorization view holds, without sending the request.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html>
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html>
//!
//! - Every (action, resource) pair is one `EvaluationResult`: actions in the order given, each
//!   with every resource in order. Paging walks that list; the marker is the index of the next
//!   pair, and only the pairs of the page are evaluated.
//! - A matched statement names its policy as AWS does: a stored policy by its name, with type
//!   `user` / `group` for inline policies, `user-managed` for the account's managed ones and
//!   `aws-managed` for AWS managed ones; a supplied one
//!   as `PolicyInputList.N` (type `none`) or `ResourcePolicy` (type `resource`); positions are
//!   those of `policy::document::statement_positions`.
//! - A permissions boundary (`PermissionsBoundaryPolicyInputList`, else the source user's)
//!   caps the identity policies as on the request path (`eval::evaluate_bounded`); each result
//!   then carries `PermissionsBoundaryDecisionDetail`, and matched boundary statements name
//!   the boundary (`PermissionsBoundaryPolicyInputList.1`, type `none`, or the managed
//!   policy's name).
//! - A role source (`arn:aws:iam::<account>:role<path><name>`) brings the role's inline and
//!   attached policies and its boundary; it is no caller (`CallerArn` must be a user, as AWS
//!   allows), but without a `CallerArn` the context gets the keys every session of the role
//!   has (`authz::context::role_keys`: `aws:PrincipalType` `AssumedRole`, `aws:PrincipalArn`
//!   the role's ARN, `aws:PrincipalTag/*` its tags; no `aws:userid`, which names a session).
//! - The simulated caller (`CallerArn`, else the source user) gets the principal keys the
//!   request path would give it (`aws:username`, `aws:userid`, ...), then `ContextEntries` are
//!   applied over them. Nothing else is filled in: keys the statements naming an action read
//!   and the context lacks come back as `MissingContextValues`.
#![expect(
    clippy::unused_async,
    reason = "actions share the async signature the IAM router dispatches to; a custom simulation reads nothing"
)]

use std::cell::OnceCell;
use std::sync::Arc;

use super::error::{Code, IamError};
use super::params::Params;
use super::{validate, write_page_end, Ctx, Reply};
use crate::authz::context;
use crate::iam_store::view::{AuthView, PolicyEntry, PolicySource, RoleEntry};
use crate::policy::document::{parse, statement_positions, PolicyKind, Position};
use crate::policy::eval::{self, CompiledPolicy, Context, Decision, Evaluation, Request};
use crate::xml::XmlWriter;

/// `ContextKeyType`'s values. The values themselves are passed on as text: the condition
/// operator reads them as it reads a real request's (one that does not parse matches nothing).
const KEY_TYPES: &[&str] = &[
    "string",
    "stringList",
    "numeric",
    "numericList",
    "boolean",
    "booleanList",
    "ip",
    "ipList",
    "binary",
    "binaryList",
    "date",
    "dateList",
];

/// One policy taking part, as the response names it.
struct Source {
    /// `SourcePolicyId`.
    id: String,
    /// `SourcePolicyType`.
    kind: &'static str,
    document: Arc<str>,
    compiled: Arc<CompiledPolicy>,
    /// The statements' spans, found the first time one of them is reported.
    positions: OnceCell<Option<Vec<(Position, Position)>>>,
}

/// The IAM user the simulated requests come from.
struct Caller {
    arn: String,
    account: String,
    name: String,
}

/// Whose principal keys the simulated requests carry.
enum Simulated {
    /// An IAM user (`CallerArn`, or a user source): also the caller a resource policy's
    /// `Principal` is matched against.
    User(Caller),
    /// A role source without `CallerArn`: the keys of any session of the role, and no caller.
    Role(Arc<RoleEntry>),
}

/// One simulation: the policies, who asks, and the context.
struct Simulation {
    asked: Asked,
    identity: Vec<Source>,
    boundary: Option<Source>,
    caller: Option<Caller>,
    context: Context,
}

pub async fn simulate_principal_policy(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let source_arn = p.required("PolicySourceArn", "policySourceArn")?;
    validate::length(source_arn, "policySourceArn", 20, 2048)?;
    let (asked, inputs) = Asked::parse(p)?;
    let given_boundary = boundary_input(p)?;
    let view = ctx.store().view();
    let (mut identity, source, stored_boundary) = policy_source(ctx, &view, source_arn)?;
    identity.extend(inputs);
    let simulated = match p.get("CallerArn") {
        Some(arn) => Some(Simulated::User(caller(arn)?)),
        None => source,
    };
    // A boundary given replaces the user's or role's, as AWS documents.
    let boundary = given_boundary.or(stored_boundary);
    simulate(ctx, &view, p, asked, (identity, boundary), simulated)
}

pub async fn simulate_custom_policy(ctx: &Ctx<'_>, p: &Params) -> Reply {
    if p.get("PolicyInputList.member.1").is_none() {
        return Err(IamError::missing("policyInputList"));
    }
    let (asked, inputs) = Asked::parse(p)?;
    let boundary = boundary_input(p)?;
    let caller = p.get("CallerArn").map(caller).transpose()?;
    let view = ctx.store().view();
    let simulated = caller.map(Simulated::User);
    simulate(ctx, &view, p, asked, (inputs, boundary), simulated)
}

/// `PermissionsBoundaryPolicyInputList.member.N`: at most one document, as AWS allows.
fn boundary_input(p: &Params) -> Result<Option<Source>, IamError> {
    let texts = p.members("PermissionsBoundaryPolicyInputList");
    if texts.len() > 1 {
        return Err(IamError::new(
            Code::InvalidInput,
            "Only one permissions boundary policy can be simulated:              PermissionsBoundaryPolicyInputList takes one member.",
        ));
    }
    texts
        .first()
        .map(|text| {
            supplied(
                text,
                "permissionsBoundaryPolicyInputList.member",
                "PermissionsBoundaryPolicyInputList.1".to_owned(),
                PolicyKind::Identity,
            )
        })
        .transpose()
}

/// The parameters both actions share besides `PolicyInputList` and `CallerArn`.
struct Asked {
    actions: Vec<String>,
    resources: Vec<String>,
    /// `ResourceArns` was given: each result also carries `ResourceSpecificResults`.
    listed_resources: bool,
    resource_policy: Option<Source>,
}

impl Asked {
    /// The shared parameters and the compiled `PolicyInputList`, checked before any lookup.
    fn parse(p: &Params) -> Result<(Asked, Vec<Source>), IamError> {
        let actions = action_names(p)?;
        if p.any_with_prefix("PolicyExclusionList.") {
            return Err(IamError::new(
                Code::InvalidInput,
                "PolicyExclusionList is not supported by this server.",
            ));
        }
        let asked = Asked {
            actions,
            resources: resource_arns(p)?,
            listed_resources: p.get("ResourceArns.member.1").is_some(),
            resource_policy: resource_policy(p)?,
        };
        Ok((asked, input_policies(p)?))
    }
}

/// What both actions do once the identity policies and the caller are known.
fn simulate(
    ctx: &Ctx<'_>,
    view: &AuthView,
    p: &Params,
    asked: Asked,
    (identity, boundary): (Vec<Source>, Option<Source>),
    simulated: Option<Simulated>,
) -> Reply {
    let mut context = Context::new();
    let caller = match simulated {
        Some(Simulated::User(caller)) => {
            principal_keys(&mut context, view, ctx.account(), &caller);
            Some(caller)
        }
        Some(Simulated::Role(role)) => {
            context::role_keys(&mut context, &role, ctx.account());
            None
        }
        None => None,
    };
    if asked.resource_policy.is_some() && caller.is_none() {
        return Err(IamError::new(
            Code::InvalidInput,
            "A ResourcePolicy needs a CallerArn (unless the PolicySourceArn is a user) for \
             its Principal elements to match.",
        ));
    }
    context_entries(p, &mut context)?;
    let simulation = Simulation {
        asked,
        identity,
        boundary,
        caller,
        context,
    };
    simulation.page(p.marker()?, p.max_items()?)
}

/// A policy source's identity policies, whom it simulates by default and permissions boundary.
type Sourced = (Vec<Source>, Option<Simulated>, Option<Source>);

/// The policies of the user (its groups' included), group or role `arn` names; for a user, the
/// user as the default caller, for a role its session keys; and a user's or role's
/// permissions boundary.
fn policy_source(ctx: &Ctx<'_>, view: &AuthView, arn: &str) -> Result<Sourced, IamError> {
    let invalid = || {
        IamError::new(
            Code::InvalidInput,
            format!(
            "Invalid PolicySourceArn: {arn}. It must be the ARN of a user, group or role of this account."
        ),
        )
    };
    let (account, kind, name) = split_arn(arn).ok_or_else(invalid)?;
    if account != ctx.account() {
        return Err(invalid());
    }
    let not_found = || {
        IamError::new(
            Code::NoSuchEntity,
            format!("The {kind} with name {name} cannot be found."),
        )
    };
    if kind == "group" {
        let group = view
            .group(name)
            .filter(|g| g.arn == arn)
            .ok_or_else(not_found)?;
        return Ok((group.policies.iter().map(stored).collect(), None, None));
    }
    if kind == "role" {
        let role = view
            .role_by_name(name)
            .filter(|r| r.arn == arn)
            .ok_or_else(not_found)?;
        let policies = role.policies.iter().map(stored).collect();
        let boundary = role.boundary.as_ref().map(stored);
        return Ok((policies, Some(Simulated::Role(Arc::clone(role))), boundary));
    }
    let user = view
        .user(name)
        .filter(|u| u.arn == arn)
        .ok_or_else(not_found)?;
    let caller = Caller {
        arn: user.arn.clone(),
        account: account.to_owned(),
        name: user.name.clone(),
    };
    let boundary = user.boundary.as_ref().map(stored);
    Ok((
        user.policies.iter().map(stored).collect(),
        Some(Simulated::User(caller)),
        boundary,
    ))
}

/// `arn:aws:iam::<account>:user<path><name>` (or `group`, `role`) as (account, kind, name);
/// `None` for anything else.
fn split_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let (account, resource) = arn.strip_prefix("arn:aws:iam::")?.split_once(':')?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (kind, path_and_name) = resource.split_once('/')?;
    let name = path_and_name.rsplit('/').next()?;
    (matches!(kind, "user" | "group" | "role") && !name.is_empty()).then_some((account, kind, name))
}

/// `CallerArn`: only an IAM user, of any account, as AWS allows.
fn caller(arn: &str) -> Result<Caller, IamError> {
    validate::length(arn, "callerArn", 1, 2048)?;
    match split_arn(arn) {
        Some((account, "user", name)) => Ok(Caller {
            arn: arn.to_owned(),
            account: account.to_owned(),
            name: name.to_owned(),
        }),
        _ => Err(IamError::new(
            Code::InvalidInput,
            format!("Invalid CallerArn: {arn}. It must be the ARN of an IAM user."),
        )),
    }
}

/// The `SourcePolicyType` of an attached policy: AWS's own or the account's.
fn managed_type(aws: bool) -> &'static str {
    if aws {
        "aws-managed"
    } else {
        "user-managed"
    }
}

/// A stored policy, named as the response names it.
fn stored(entry: &PolicyEntry) -> Source {
    let (id, kind) = match &entry.source {
        PolicySource::UserInline(name) => (name, "user"),
        PolicySource::UserAttached { policy, aws } => (policy, managed_type(*aws)),
        PolicySource::GroupInline { name, .. } => (name, "group"),
        PolicySource::GroupAttached { policy, aws, .. }
        | PolicySource::RoleAttached { policy, aws }
        | PolicySource::Boundary { policy, aws, .. } => (policy, managed_type(*aws)),
        PolicySource::RoleInline(name) => (name, "role"),
    };
    Source {
        id: id.clone(),
        kind,
        document: Arc::clone(&entry.document),
        compiled: Arc::clone(&entry.compiled),
        positions: OnceCell::new(),
    }
}

/// A policy document from the request. A malformed one is `InvalidInput`, the code AWS
/// lists for these actions (they have no `MalformedPolicyDocument`).
fn supplied(text: &str, field: &str, id: String, kind: PolicyKind) -> Result<Source, IamError> {
    validate::policy_document(text, field)?;
    let document = parse(text, kind).map_err(|e| {
        IamError::new(
            Code::InvalidInput,
            format!("The policy document {id} is malformed: {e}"),
        )
    })?;
    let source_kind = match kind {
        PolicyKind::Identity => "none",
        // Never supplied today; a trust policy is a resource policy.
        PolicyKind::Resource | PolicyKind::Trust => "resource",
    };
    Ok(Source {
        id,
        kind: source_kind,
        document: Arc::from(text),
        compiled: Arc::new(CompiledPolicy::compile(&document)),
        positions: OnceCell::new(),
    })
}

/// `PolicyInputList.member.N`, as identity policies.
fn input_policies(p: &Params) -> Result<Vec<Source>, IamError> {
    let texts = p.members("PolicyInputList");
    let field = "policyInputList.member";
    let source = |(i, text): (usize, &&str)| {
        supplied(
            text,
            field,
            format!("PolicyInputList.{}", i + 1),
            PolicyKind::Identity,
        )
    };
    texts.iter().enumerate().map(source).collect()
}

fn resource_policy(p: &Params) -> Result<Option<Source>, IamError> {
    let Some(text) = p.get("ResourcePolicy") else {
        return Ok(None);
    };
    let id = "ResourcePolicy".to_owned();
    supplied(text, "resourcePolicy", id, PolicyKind::Resource).map(Some)
}

/// `ActionNames.member.N`: required, each `service:Operation` without wildcards (AWS says the
/// simulation does not support them; a pattern would only be compared as text).
fn action_names(p: &Params) -> Result<Vec<String>, IamError> {
    let names = p.members("ActionNames");
    if names.is_empty() {
        return Err(IamError::missing("actionNames"));
    }
    for name in &names {
        validate::length(name, "actionNames.member", 3, 128)?;
        let well_formed = name
            .split_once(':')
            .is_some_and(|(service, op)| !service.is_empty() && !op.is_empty());
        if !well_formed || name.contains(['*', '?']) {
            return Err(IamError::new(
                Code::InvalidInput,
                format!(
                    "Invalid action name: {name}. Action names take the form service:Operation, \
                 without wildcards."
                ),
            ));
        }
    }
    Ok(names.into_iter().map(str::to_owned).collect())
}

/// `ResourceArns.member.N`, `*` when absent.
fn resource_arns(p: &Params) -> Result<Vec<String>, IamError> {
    let arns = p.members("ResourceArns");
    for arn in &arns {
        validate::length(arn, "resourceArns.member", 1, 2048)?;
    }
    match arns.is_empty() {
        true => Ok(vec!["*".to_owned()]),
        false => Ok(arns.into_iter().map(str::to_owned).collect()),
    }
}

/// The principal keys of the simulated caller, as the request path sets them: from the view
/// when it is a user of this account; otherwise what its ARN tells (no `aws:userid`).
fn principal_keys(context: &mut Context, view: &AuthView, account: &str, caller: &Caller) {
    let known = view
        .user(&caller.name)
        .filter(|user| caller.account == account && user.arn == caller.arn);
    match known {
        Some(user) => context::user(context, user, account),
        None => {
            context
                .set("aws:username", [caller.name.as_str()])
                .set("aws:PrincipalType", ["User"])
                .set("aws:PrincipalArn", [caller.arn.as_str()])
                .set("aws:PrincipalAccount", [caller.account.as_str()]);
        }
    }
}

/// `ContextEntries.member.N.ContextKeyName` / `.ContextKeyValues.member.M` /
/// `.ContextKeyType`, each replacing whatever the key held.
fn context_entries(p: &Params, context: &mut Context) -> Result<(), IamError> {
    for i in 1.. {
        let prefix = format!("ContextEntries.member.{i}");
        let name = p.get(&format!("{prefix}.ContextKeyName"));
        let kind = p.get(&format!("{prefix}.ContextKeyType"));
        let values = p.members(&format!("{prefix}.ContextKeyValues"));
        if name.is_none() && kind.is_none() && values.is_empty() {
            return Ok(());
        }
        let field = "contextEntries.member.contextKeyName";
        let name = name.ok_or_else(|| IamError::missing(field))?;
        validate::length(name, field, 5, 256)?;
        if let Some(kind) = kind {
            validate::one_of(kind, "contextEntries.member.contextKeyType", KEY_TYPES)?;
        }
        context.set(name, values);
    }
    Ok(())
}

impl Simulation {
    /// The page of results from `marker` (an index into the (action, resource) pairs).
    fn page(&self, marker: Option<String>, max: usize) -> Reply {
        let total = self
            .asked
            .actions
            .len()
            .saturating_mul(self.asked.resources.len());
        let start = match marker {
            None => 0,
            Some(marker) => marker
                .parse::<usize>()
                .ok()
                .filter(|i| *i < total)
                .ok_or_else(|| {
                    IamError::new(Code::InvalidInput, format!("Invalid Marker: {marker}"))
                })?,
        };
        let end = start.saturating_add(max).min(total);
        let identity: Vec<&CompiledPolicy> = self.identity.iter().map(|s| &*s.compiled).collect();
        let mut w = XmlWriter::new();
        w.open("EvaluationResults");
        for index in start..end {
            let action = &self.asked.actions[index / self.asked.resources.len()];
            let resource = &self.asked.resources[index % self.asked.resources.len()];
            let (evaluation, boundary) = self.evaluate(&identity, action, resource);
            self.write_result(&mut w, action, resource, &evaluation, boundary);
        }
        w.close("EvaluationResults");
        write_page_end(&mut w, (end < total).then(|| end.to_string()).as_deref());
        Ok(Some(w.finish()))
    }

    /// The decision, and the boundary's own verdict when there is a boundary.
    fn evaluate(
        &self,
        identity: &[&CompiledPolicy],
        action: &str,
        resource: &str,
    ) -> (Evaluation, Option<bool>) {
        let caller = self.caller.as_ref().map(|c| eval::Caller {
            arn: &c.arn,
            account: &c.account,
            is_root: false,
            role_arn: None,
        });
        let request = Request {
            action,
            resource,
            caller,
            context: &self.context,
        };
        let resource_policy = self.asked.resource_policy.as_ref().map(|s| &*s.compiled);
        let boundary = self.boundary.as_ref().map(|s| &*s.compiled);
        eval::evaluate_bounded(identity, boundary, resource_policy, &request)
    }

    /// Every policy taking part, in the order of `Matched::policy`: the identity policies,
    /// the resource policy's place, the boundary's.
    fn source(&self, index: usize) -> Option<&Source> {
        let n = self.identity.len();
        match index {
            i if i < n => self.identity.get(i),
            i if i == n => self.asked.resource_policy.as_ref(),
            _ => self.boundary.as_ref().filter(|_| index == n + 1),
        }
    }

    /// The keys the statements naming `action` read that the context lacks, each once.
    fn missing_keys(&self, action: &str) -> Vec<&str> {
        let sources = self
            .identity
            .iter()
            .chain(&self.asked.resource_policy)
            .chain(&self.boundary);
        let mut missing: Vec<&str> = Vec::new();
        for key in sources.flat_map(|s| s.compiled.context_keys(action)) {
            let absent = self.context.get(key).is_none_or(|values| values.is_empty());
            if absent && !missing.iter().any(|m| m.eq_ignore_ascii_case(key)) {
                missing.push(key);
            }
        }
        missing
    }

    fn write_result(
        &self,
        w: &mut XmlWriter,
        action: &str,
        resource: &str,
        ev: &Evaluation,
        boundary: Option<bool>,
    ) {
        let missing = self.missing_keys(action);
        w.open("member")
            .elem("EvalActionName", action)
            .elem("EvalResourceName", resource)
            .elem("EvalDecision", decision_name(ev.decision));
        self.write_matched(w, ev);
        write_list(w, "MissingContextValues", &missing);
        // AWS: present but empty for a same-account simulation naming a resource, absent for
        // `*`. Every simulation here is within the one account.
        if resource != "*" {
            w.elem("EvalDecisionDetails", "");
        }
        write_boundary_detail(w, boundary);
        if self.asked.listed_resources {
            w.open("ResourceSpecificResults")
                .open("member")
                .elem("EvalResourceName", resource)
                .elem("EvalResourceDecision", decision_name(ev.decision));
            self.write_matched(w, ev);
            write_list(w, "MissingContextValues", &missing);
            w.elem("EvalDecisionDetails", "");
            write_boundary_detail(w, boundary);
            w.close("member").close("ResourceSpecificResults");
        }
        w.close("member");
    }

    fn write_matched(&self, w: &mut XmlWriter, ev: &Evaluation) {
        w.open("MatchedStatements");
        for matched in &ev.matched {
            let Some(source) = self.source(matched.policy) else {
                continue;
            };
            w.open("member")
                .elem("SourcePolicyId", &source.id)
                .elem("SourcePolicyType", source.kind);
            let positions = source
                .positions
                .get_or_init(|| statement_positions(&source.document));
            if let Some((start, end)) = positions.as_ref().and_then(|p| p.get(matched.statement)) {
                write_position(w, "StartPosition", *start);
                write_position(w, "EndPosition", *end);
            }
            w.close("member");
        }
        w.close("MatchedStatements");
    }
}

/// `<PermissionsBoundaryDecisionDetail>`, when a boundary took part.
fn write_boundary_detail(w: &mut XmlWriter, boundary: Option<bool>) {
    if let Some(allowed) = boundary {
        w.open("PermissionsBoundaryDecisionDetail")
            .elem(
                "AllowedByPermissionsBoundary",
                if allowed { "true" } else { "false" },
            )
            .close("PermissionsBoundaryDecisionDetail");
    }
}

fn decision_name(decision: Decision) -> &'static str {
    match decision {
        Decision::Allowed => "allowed",
        Decision::ExplicitDeny => "explicitDeny",
        Decision::ImplicitDeny => "implicitDeny",
    }
}

fn write_position(w: &mut XmlWriter, tag: &str, position: Position) {
    w.open(tag)
        .elem("Line", &position.line.to_string())
        .elem("Column", &position.column.to_string())
        .close(tag);
}

fn write_list(w: &mut XmlWriter, tag: &str, items: &[&str]) {
    w.open(tag);
    for item in items {
        w.elem("member", item);
    }
    w.close(tag);
}
