//! Authorization: whether a verified (or anonymous) caller may perform one action on one
//! resource. The glue between who is calling (`auth::Caller`, whose compiled policies the IAM
//! view holds), the request's condition keys (`context`) and the pure evaluator
//! (`policy::eval`). Both listeners and the IAM simulation APIs decide through here.
//!
//! Rules (AWS's, for requests within one account):
//! - an IAM user is decided by its identity policies and the resource (bucket) policy, if
//!   any: an explicit Deny in either wins, else an Allow in either allows;
//! - a permissions boundary (a user's, or a role session's role's, from its view entry) caps
//!   what the identity policies grant: `policy::eval::evaluate_bounded`;
//! - a role session is decided by its role's policies as a user by its own, and its session
//!   policies cap every allow (`docs/sts.md`);
//! - an anonymous caller has no identity policies: only a bucket policy can allow it;
//! - the account root bypasses identity policies, but an explicit Deny in a bucket policy
//!   still applies to it (as in AWS; the S3 listener exempts the bucket-policy operations
//!   themselves so that the root can always repair a policy that locks everyone out).
//!
//! Invariant: nothing here touches SQLite or parses a policy; the caller's policies arrive
//! compiled, and the resource policy comes from the object index's in-memory cache.

pub mod context;
#[cfg(test)]
mod tests;

use crate::auth::Caller;
use crate::policy::eval::{self, CompiledPolicy, Context, Decision, Evaluation, Request};

/// One request's caller and condition keys, ready to answer "may it do this to that?" for
/// as many (action, resource) pairs as the request needs.
#[derive(Debug)]
pub struct Authorizer<'a> {
    caller: Option<&'a Caller>,
    account: &'a str,
    identity: Vec<&'a CompiledPolicy>,
    /// The caller's permissions boundary, if any (a user's or a role session's role's).
    boundary: Option<&'a CompiledPolicy>,
    /// Policies that must each also allow what the identity policies allow: a session's
    /// session policies (all of them together as one set).
    limits: Vec<Limit<'a>>,
    context: Context,
}

/// One set of policies an allow must also pass: its explicit deny denies, and without an
/// allow in it the request is implicitly denied.
#[derive(Debug)]
struct Limit<'a> {
    policies: Vec<&'a CompiledPolicy>,
}

impl<'a> Authorizer<'a> {
    /// `caller` is `None` for an anonymous request.
    pub fn new(caller: Option<&'a Caller>, account: &'a str, context: Context) -> Self {
        let (identity, boundary) = match caller {
            Some(Caller::User { principal, .. }) => (
                principal.compiled(),
                principal.boundary.as_ref().map(|b| &*b.compiled),
            ),
            Some(Caller::Role { role, .. }) => (
                role.compiled(),
                role.boundary.as_ref().map(|b| &*b.compiled),
            ),
            _ => (Vec::new(), None),
        };
        let mut limits = Vec::new();
        if let Some(session) = caller.and_then(Caller::session) {
            if !session.policies.is_empty() {
                limits.push(Limit {
                    policies: session.policies.iter().collect(),
                });
            }
        }
        Authorizer {
            caller,
            account,
            identity,
            boundary,
            limits,
            context,
        }
    }

    /// The caller's permissions boundary, if it has one.
    pub fn boundary(&self) -> Option<&'a CompiledPolicy> {
        self.boundary
    }

    pub fn caller(&self) -> Option<&'a Caller> {
        self.caller
    }

    /// The caller's identity policies (none for the root, which bypasses them, or anonymous;
    /// a role session's are its role's).
    pub fn identity(&self) -> &[&'a CompiledPolicy] {
        &self.identity
    }

    /// The request's condition keys, for keys that are known only after I/O (an object's
    /// tags, a request body's), added before the decisions that need them.
    pub fn context_mut(&mut self) -> &mut Context {
        &mut self.context
    }

    pub fn is_root(&self) -> bool {
        matches!(self.caller, Some(Caller::Root { .. }))
    }

    /// The decision and the statements that made it.
    pub fn evaluate(
        &self,
        action: &str,
        resource: &str,
        resource_policy: Option<&CompiledPolicy>,
    ) -> Evaluation {
        let caller = self.caller.map(|caller| eval::Caller {
            arn: caller.arn(),
            account: self.account,
            is_root: matches!(caller, Caller::Root { .. }),
            role_arn: match caller {
                Caller::Role { role, .. } => Some(role.arn.as_str()),
                _ => None,
            },
        });
        let request = Request {
            action,
            resource,
            caller,
            context: &self.context,
        };
        let (mut evaluation, _) =
            eval::evaluate_bounded(&self.identity, self.boundary, resource_policy, &request);
        let mut limited = false;
        if evaluation.decision == Decision::Allowed {
            // Every limit must allow too; a resource policy's allow passes no limit (stricter
            // than AWS for a bucket policy naming the session itself: see
            // docs/authorization.md).
            for limit in &self.limits {
                let capped = eval::evaluate(&limit.policies, None, &request);
                if capped.decision != Decision::Allowed {
                    evaluation = Evaluation {
                        decision: capped.decision,
                        matched: capped.matched,
                    };
                    limited = true;
                    break;
                }
            }
        }
        let evaluation = match (self.is_root(), evaluation.decision) {
            // The root needs no Allow; only a bucket policy's Deny stops it.
            (true, Decision::ImplicitDeny) => Evaluation {
                decision: Decision::Allowed,
                matched: Vec::new(),
            },
            _ => evaluation,
        };
        crate::audit::decided(
            action,
            resource,
            evaluation.decision == Decision::Allowed,
            || self.describe(&evaluation, limited),
        );
        evaluation
    }

    /// What made `evaluation`, for the audit trail: the first statement that decided it
    /// (its policy, index and Sid), `root`, or that no statement allows. `limited`: the
    /// evaluation is a session policy's, not the identity's.
    fn describe(&self, evaluation: &Evaluation, limited: bool) -> String {
        let Some(first) = evaluation.matched.first() else {
            return match (evaluation.decision, self.caller) {
                (Decision::Allowed, Some(Caller::Root { .. })) => "root".to_owned(),
                _ if limited => "no session policy statement allows".to_owned(),
                _ => "no statement allows".to_owned(),
            };
        };
        let entries = match self.caller {
            Some(Caller::User { principal, .. }) => {
                Some((&principal.policies, &principal.boundary))
            }
            Some(Caller::Role { role, .. }) => Some((&role.policies, &role.boundary)),
            _ => None,
        };
        let identity = self.identity.len();
        let policy = match (limited, entries) {
            (true, _) => "session policy".to_owned(),
            (false, _) if first.policy == identity => "bucket policy".to_owned(),
            (false, Some((_, Some(boundary))))
                if first.policy == eval::boundary_index(&self.identity) =>
            {
                boundary.source.describe()
            }
            (false, Some((policies, _))) => policies
                .get(first.policy)
                .map_or_else(|| "a policy".to_owned(), |p| p.source.describe()),
            (false, None) => "a policy".to_owned(),
        };
        match &first.sid {
            Some(sid) => format!("{policy} statement {} (Sid {sid:?})", first.statement),
            None => format!("{policy} statement {}", first.statement),
        }
    }

    /// Whether the caller may take on a role whose trust policy is `trust` (`action`:
    /// `sts:AssumeRole`, `sts:TagSession`, `sts:SetSourceIdentity`, on the role's ARN), as AWS
    /// decides within one account: an explicit deny in the trust policy or in the caller's
    /// policies refuses; a trust statement naming the caller (its ARN, its role's, or `*`)
    /// allows on its own; one naming the account allows only with the caller's own allow
    /// (the root needs none); without either the trust policy does not let the caller in.
    pub fn may_assume(&self, action: &str, role_arn: &str, trust: &CompiledPolicy) -> bool {
        let Some(caller) = self.caller else {
            return false;
        };
        let role_of = match caller {
            Caller::Role { role, .. } => Some(role.arn.as_str()),
            _ => None,
        };
        let as_caller = |is_root: bool| eval::Caller {
            arn: caller.arn(),
            account: self.account,
            is_root,
            role_arn: role_of,
        };
        let trusted = |who: eval::Caller<'_>| {
            let request = Request {
                action,
                resource: role_arn,
                caller: Some(who),
                context: &self.context,
            };
            eval::evaluate(&[], Some(trust), &request).decision
        };
        let direct = trusted(as_caller(self.is_root()));
        let own = self.evaluate(action, role_arn, None).decision;
        let allowed = match (direct, own) {
            (Decision::ExplicitDeny, _) | (_, Decision::ExplicitDeny) => false,
            (Decision::Allowed, _) => true,
            // Asked as the account: an allow naming the account then applies.
            _ => own == Decision::Allowed && trusted(as_caller(true)) == Decision::Allowed,
        };
        if !allowed {
            tracing::info!(
                caller = caller.arn(),
                action,
                role = role_arn,
                "role assumption denied"
            );
        }
        crate::audit::decided(action, role_arn, allowed, || {
            match (direct, own) {
                (Decision::ExplicitDeny, _) => "the role's trust policy denies",
                (_, Decision::ExplicitDeny) => "the caller's policy denies",
                (Decision::Allowed, _) => "the role's trust policy",
                _ if allowed => "the role's trust policy (the account) and the caller's policy",
                _ => "the role's trust policy does not name the caller",
            }
            .to_owned()
        });
        allowed
    }

    pub fn allows(
        &self,
        action: &str,
        resource: &str,
        resource_policy: Option<&CompiledPolicy>,
    ) -> bool {
        let evaluation = self.evaluate(action, resource, resource_policy);
        let allowed = evaluation.decision == Decision::Allowed;
        if !allowed {
            tracing::info!(
                caller = self.caller.map_or("anonymous", Caller::arn),
                action,
                resource,
                decision = ?evaluation.decision,
                "request denied by policy"
            );
        }
        allowed
    }
}

/// Whether a role's trust policy lets an identity of OpenID Connect provider `provider_arn`
/// take the role by `action` (`sts:AssumeRoleWithWebIdentity`, `sts:TagSession`): only a
/// `Federated` principal naming the provider can, and only the trust policy decides (the
/// caller has no policies of its own); an explicit deny refuses. `context` holds the token's
/// keys (`<issuer>:sub`, `<issuer>:aud`, …).
pub fn trusts_web_identity(
    trust: &CompiledPolicy,
    action: &str,
    role_arn: &str,
    provider_arn: &str,
    account: &str,
    context: &Context,
) -> bool {
    let request = Request {
        action,
        resource: role_arn,
        caller: Some(eval::Caller {
            arn: provider_arn,
            account,
            is_root: false,
            role_arn: None,
        }),
        context,
    };
    let allowed = eval::evaluate(&[], Some(trust), &request).decision == Decision::Allowed;
    if !allowed {
        tracing::info!(
            provider = provider_arn,
            action,
            role = role_arn,
            "web identity denied by the trust policy"
        );
    }
    crate::audit::decided(action, role_arn, allowed, || {
        format!("the role's trust policy, for the identity provider {provider_arn}")
    });
    allowed
}
