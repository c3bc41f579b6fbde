//! One statement, compiled: does it apply to a request?
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
//!
//! A statement applies when its action, principal (bucket policies only), resource and every
//! condition match; the checks run cheapest first, and the action alone rejects most
//! statements.

use super::condition::{CompiledCondition, Values};
use super::principal::PrincipalMatcher;
use super::Request;
use crate::policy::document::{ActionSpec, Effect, ResourceSpec, Statement};
use crate::policy::pattern::{Case, Part, Pattern};

#[derive(Debug, Clone)]
pub(super) struct CompiledStatement {
    pub(super) sid: Option<String>,
    pub(super) effect: Effect,
    actions: Actions,
    /// `None` matches no request: a statement must name its resources.
    resources: Option<Resources>,
    /// `None` for identity policies, whose principal is whoever they are attached to.
    principals: Option<PrincipalMatcher>,
    conditions: Vec<CompiledCondition>,
}

/// `Action` or `NotAction`. Action names fold case (`s3:getobject` is `s3:GetObject`), so the
/// patterns are compiled case-insensitive.
#[derive(Debug, Clone)]
struct Actions {
    negated: bool,
    patterns: Vec<Pattern>,
}

/// `Resource` or `NotResource`: case-sensitive, with policy variables.
#[derive(Debug, Clone)]
struct Resources {
    negated: bool,
    values: Values<Pattern>,
}

impl CompiledStatement {
    pub(super) fn compile(statement: &Statement, variables: bool) -> CompiledStatement {
        let (negated, actions) = match &statement.actions {
            ActionSpec::Action(list) => (false, list),
            ActionSpec::NotAction(list) => (true, list),
        };
        let actions = Actions {
            negated,
            patterns: actions
                .iter()
                .map(|a| Pattern::new(a, Case::Insensitive))
                .collect(),
        };
        let resources = statement.resources.as_ref().map(|spec| {
            let (negated, list) = match spec {
                ResourceSpec::Resource(list) => (false, list),
                ResourceSpec::NotResource(list) => (true, list),
            };
            Resources {
                negated,
                values: Values::compile(list, variables, |parts| Some(resource_pattern(parts))),
            }
        });
        CompiledStatement {
            sid: statement.sid.clone(),
            effect: statement.effect,
            actions,
            resources,
            principals: statement.principals.as_ref().map(PrincipalMatcher::compile),
            conditions: statement
                .conditions
                .iter()
                .map(|c| CompiledCondition::compile(c, variables))
                .collect(),
        }
    }

    pub(super) fn applies(&self, request: &Request<'_>) -> bool {
        self.actions.matches(request.action)
            && self
                .principals
                .as_ref()
                .is_none_or(|p| p.matches(request.caller.as_ref(), self.effect))
            && self.resources.as_ref().is_some_and(|r| r.matches(request))
            && self.conditions.iter().all(|c| c.holds(request.context))
    }

    /// Whether the statement's `Principal` names the caller's ARN itself (not `*`, not its
    /// account, not through `NotPrincipal`): what lets a resource policy grant past a
    /// permissions boundary.
    pub(super) fn names_caller(&self, request: &Request<'_>) -> bool {
        self.principals
            .as_ref()
            .zip(request.caller.as_ref())
            .is_some_and(|(p, caller)| p.names(caller.arn))
    }

    /// Whether the statement speaks about `action` at all (`Action` / `NotAction`).
    pub(super) fn names_action(&self, action: &str) -> bool {
        self.actions.matches(action)
    }

    /// The context keys deciding whether the statement applies: its condition keys and the
    /// keys of the variables (without a default) in its resources and condition values.
    pub(super) fn context_keys<'a>(&'a self, keys: &mut Vec<&'a str>) {
        if let Some(resources) = &self.resources {
            keys.extend(resources.values.required_keys());
        }
        for condition in &self.conditions {
            condition.context_keys(keys);
        }
    }
}

fn resource_pattern(parts: &[Part<'_>]) -> Pattern {
    Pattern::from_parts(parts.iter().copied(), Case::Sensitive)
}

impl Actions {
    fn matches(&self, action: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(action)) != self.negated
    }
}

impl Resources {
    /// An entry with an unresolvable variable matches nothing; in `NotResource` it keeps the
    /// statement from applying at all, so that a missing key never widens a statement.
    fn matches(&self, request: &Request<'_>) -> bool {
        let resolved = self
            .values
            .resolve(request.context, |parts| Some(resource_pattern(parts)));
        let any = resolved.values.iter().any(|p| p.matches(request.resource));
        match self.negated {
            true => resolved.complete && !any,
            false => any,
        }
    }
}
