//! Authorization: whether a verified (or anonymous) caller may perform one action on one
//! resource. The glue between who is calling (`auth::Caller`, whose compiled policies the IAM
//! view holds), the request's condition keys (`context`) and the pure evaluator
//! (`policy::eval`). Both listeners and the IAM simulation APIs decide through here.
//!
//! Rules (AWS's, for requests within one account):
//! - an IAM user is decided by its identity policies and the resource (bucket) policy, if
//!   any: an explicit Deny in either wins, else an Allow in either allows;
//! - a permissions boundary (a user's, from its view entry; a role session's, set by the
//!   caller with `with_boundary`) caps what the identity policies grant:
//!   `policy::eval::evaluate_bounded`;
//! - an anonymous caller has no identity policies: only a bucket policy can allow it;
//! - the account root bypasses identity policies, but an explicit Deny in a bucket policy
//!   still applies to it (as in AWS; the S3 listener exempts the bucket-policy operations
//!   themselves so that the root can always repair a policy that locks everyone out).
//!
//! Invariant: nothing here touches SQLite or parses a policy; the caller's policies arrive
//! compiled, and the resource policy comes from the object index's in-memory cache.

pub mod context;

use crate::auth::Caller;
use crate::policy::eval::{self, CompiledPolicy, Context, Decision, Evaluation, Request};

/// One request's caller and condition keys, ready to answer "may it do this to that?" for
/// as many (action, resource) pairs as the request needs.
#[derive(Debug)]
pub struct Authorizer<'a> {
    caller: Option<&'a Caller>,
    account: &'a str,
    identity: Vec<&'a CompiledPolicy>,
    /// The caller's permissions boundary, if any.
    boundary: Option<&'a CompiledPolicy>,
    context: Context,
}

impl<'a> Authorizer<'a> {
    /// `caller` is `None` for an anonymous request.
    pub fn new(caller: Option<&'a Caller>, account: &'a str, context: Context) -> Self {
        let (identity, boundary) = match caller {
            Some(Caller::User { principal, .. }) => (
                principal.compiled(),
                principal.boundary.as_ref().map(|b| &*b.compiled),
            ),
            _ => (Vec::new(), None),
        };
        Authorizer {
            caller,
            account,
            identity,
            boundary,
            context,
        }
    }

    /// Replaces the permissions boundary (for a principal whose boundary is not in its view
    /// entry, such as a role session). `None` removes it.
    #[must_use]
    pub fn with_boundary(mut self, boundary: Option<&'a CompiledPolicy>) -> Self {
        self.boundary = boundary;
        self
    }

    /// The caller's permissions boundary, if it has one.
    pub fn boundary(&self) -> Option<&'a CompiledPolicy> {
        self.boundary
    }

    pub fn caller(&self) -> Option<&'a Caller> {
        self.caller
    }

    /// The caller's identity policies (none for the root, which bypasses them, or anonymous).
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
        });
        let request = Request {
            action,
            resource,
            caller,
            context: &self.context,
        };
        let (evaluation, _) =
            eval::evaluate_bounded(&self.identity, self.boundary, resource_policy, &request);
        match (self.is_root(), evaluation.decision) {
            // The root needs no Allow; only a bucket policy's Deny stops it.
            (true, Decision::ImplicitDeny) => Evaluation {
                decision: Decision::Allowed,
                matched: Vec::new(),
            },
            _ => evaluation,
        }
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
